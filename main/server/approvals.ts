// Approvals: `ask` tool calls waiting for a human. The backend sees them
// through a small provider interface; `ApprovalHub` is an in-process
// implementation the interception layer can call (`request` resolves with
// the human's answer, or deny when nobody answers in time).
import { randomUUID } from 'node:crypto';
import type { PendingApproval } from '../api/contract.js';

export type ApprovalDecision = 'allow' | 'deny';

export interface ApprovalProvider {
  /** Pending approvals, oldest first. */
  list(): PendingApproval[];
  /** Answers one; false when it is unknown, already answered or expired. */
  answer(id: string, decision: ApprovalDecision, by: string): boolean;
  /** Called with the full pending list whenever it changes; returns an unsubscribe function. */
  onChange(listener: (pending: readonly PendingApproval[]) => void): () => void;
}

export interface ApprovalRequest {
  readonly session: string;
  readonly persona: string;
  readonly tool: string;
  readonly target: string | null;
  readonly inputSummary: string;
  /** How long to wait before denying (the persona's limits.approval_timeout). */
  readonly timeoutMs: number;
}

export interface ApprovalAnswer {
  readonly decision: ApprovalDecision;
  /** Who answered, or `timeout`. */
  readonly by: string;
}

interface Waiting {
  readonly pending: PendingApproval;
  readonly resolve: (a: ApprovalAnswer) => void;
  readonly timer: NodeJS.Timeout;
}

const MAX_SUMMARY = 500;

export class ApprovalHub implements ApprovalProvider {
  private readonly waiting = new Map<string, Waiting>();
  private readonly listeners = new Set<(pending: readonly PendingApproval[]) => void>();

  /** Puts a call in front of a human; resolves with the answer (deny on timeout or close). */
  request(req: ApprovalRequest): { id: string; answer: Promise<ApprovalAnswer> } {
    const id = randomUUID();
    const now = Date.now();
    const pending: PendingApproval = {
      id,
      session: req.session,
      persona: req.persona,
      tool: req.tool,
      target: req.target,
      input_summary: req.inputSummary.length > MAX_SUMMARY ? `${req.inputSummary.slice(0, MAX_SUMMARY)}…` : req.inputSummary,
      created: new Date(now).toISOString(),
      expires: new Date(now + req.timeoutMs).toISOString(),
    };
    const answer = new Promise<ApprovalAnswer>((resolve) => {
      const timer = setTimeout(() => this.settle(id, { decision: 'deny', by: 'timeout' }), req.timeoutMs);
      timer.unref();
      this.waiting.set(id, { pending, resolve, timer });
    });
    this.changed();
    return { id, answer };
  }

  list(): PendingApproval[] {
    return [...this.waiting.values()].map((w) => w.pending);
  }

  answer(id: string, decision: ApprovalDecision, by: string): boolean {
    return this.settle(id, { decision, by });
  }

  /** Denies every pending approval of a session (it stopped). */
  cancelSession(session: string): void {
    for (const w of [...this.waiting.values()]) if (w.pending.session === session) this.settle(w.pending.id, { decision: 'deny', by: 'session ended' });
  }

  onChange(listener: (pending: readonly PendingApproval[]) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Denies everything still waiting. */
  close(): void {
    for (const id of [...this.waiting.keys()]) this.settle(id, { decision: 'deny', by: 'backend closed' });
  }

  private settle(id: string, a: ApprovalAnswer): boolean {
    const w = this.waiting.get(id);
    if (w === undefined) return false;
    this.waiting.delete(id);
    clearTimeout(w.timer);
    w.resolve(a);
    this.changed();
    return true;
  }

  private changed(): void {
    const list = this.list();
    for (const l of this.listeners) {
      try {
        l(list);
      } catch {
        // a failing listener must not break the hub
      }
    }
  }
}
