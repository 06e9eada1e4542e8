// Pending approvals of every running session: this backend's sessions
// directly (their `approvals` object, instantly), other processes' sessions
// (`personae run`) through their control sockets, polled.
import type { SessionRecord } from '../../sandbox/audit/store.js';
import type { Approvals, PendingApproval as EnginePending } from '../../sandbox/intercept/approvals.js';
import { sendControl } from '../../sandbox/session-control.js';
import type { PendingApproval } from '../api/contract.js';
import { controlSocketPath } from '../session-stop.js';
import type { ApprovalDecision, ApprovalProvider } from './approvals.js';

export interface SessionApprovalsOptions {
  readonly home: string;
  /** Running sessions of other processes. */
  readonly foreignSessions: () => readonly SessionRecord[];
  readonly pollMs?: number;
}

function toContract(p: EnginePending): PendingApproval {
  return {
    id: p.id, session: p.session, persona: p.persona, tool: p.tool, target: p.target, input_summary: p.target,
    reason: p.reason, created: p.created, expires: p.expires,
  };
}

export class SessionApprovals implements ApprovalProvider {
  private readonly owned = new Map<string, { approvals: Approvals; off: () => void }>();
  private foreign = new Map<string, PendingApproval[]>();
  private readonly listeners = new Set<(pending: readonly PendingApproval[]) => void>();
  private readonly timer: NodeJS.Timeout;
  private polling = false;
  private last = '';

  constructor(private readonly o: SessionApprovalsOptions) {
    this.timer = setInterval(() => void this.poll(), o.pollMs ?? 500);
    this.timer.unref();
  }

  /** Follows a session this backend runs. */
  watch(session: string, approvals: Approvals): void {
    const off = approvals.onChange(() => this.changed());
    this.owned.set(session, { approvals, off });
  }

  unwatch(session: string): void {
    this.owned.get(session)?.off();
    this.owned.delete(session);
    this.changed();
  }

  list(): PendingApproval[] {
    const all = [...this.owned.values()].flatMap((o) => o.approvals.list().map(toContract));
    for (const [id, list] of this.foreign) if (!this.owned.has(id)) all.push(...list);
    return all.sort((a, b) => (a.created < b.created ? -1 : a.created > b.created ? 1 : 0));
  }

  async answer(id: string, decision: ApprovalDecision, by: string): Promise<boolean> {
    for (const o of this.owned.values()) if (o.approvals.list().some((a) => a.id === id)) return o.approvals.answer(id, decision, by);
    for (const [session, list] of this.foreign) {
      if (!list.some((a) => a.id === id)) continue;
      try {
        const r = await sendControl(controlSocketPath(this.o.home, session), { op: 'answer', id, decision, by }, 3000);
        await this.poll();
        return r.ok === true;
      } catch {
        return false;
      }
    }
    return false;
  }

  onChange(listener: (pending: readonly PendingApproval[]) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  close(): void {
    clearInterval(this.timer);
    for (const o of this.owned.values()) o.off();
    this.owned.clear();
    this.listeners.clear();
  }

  /** Asks each running session of another process for its pending approvals. */
  async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const next = new Map<string, PendingApproval[]>();
      const targets = this.o.foreignSessions().filter((s) => !this.owned.has(s.id));
      await Promise.all(
        targets.map(async (s) => {
          try {
            const r = await sendControl(controlSocketPath(this.o.home, s.id), { op: 'approvals' }, 2000);
            const list = Array.isArray(r.approvals) ? (r.approvals as EnginePending[]) : [];
            if (list.length > 0) next.set(s.id, list.map(toContract));
          } catch {
            // a session that cannot answer has nothing we can approve
          }
        }),
      );
      this.foreign = next;
      this.changed();
    } finally {
      this.polling = false;
    }
  }

  private changed(): void {
    const list = this.list();
    const key = JSON.stringify(list.map((a) => a.id));
    if (key === this.last) return;
    this.last = key;
    for (const l of this.listeners) {
      try {
        l(list);
      } catch {
        // a failing listener must not break the others
      }
    }
  }
}
