// Pending `ask` decisions of one session: a call waits until a human answers
// (personae approve/deny, or the app) or the persona's timeout denies it.
import { randomHex } from '../../personas/random.js';

export interface PendingApproval {
  readonly id: string;
  readonly session: string;
  readonly persona: string;
  readonly tool: string;
  readonly target: string;
  readonly reason: string;
  readonly created: string;
  readonly expires: string;
}

export interface ApprovalAnswer {
  readonly decision: 'allow' | 'deny';
  readonly by: string;
  readonly timedOut: boolean;
}

export class Approvals {
  private readonly pending = new Map<string, { info: PendingApproval; resolve: (a: ApprovalAnswer) => void; timer: NodeJS.Timeout }>();
  private readonly listeners = new Set<(p: PendingApproval, state: 'pending' | 'answered') => void>();

  constructor(
    private readonly session: string,
    private readonly persona: string,
    private readonly timeoutMs: number,
  ) {}

  /** Registers a pending call and waits for its answer (deny on timeout). */
  request(tool: string, target: string, reason: string): { id: string; answer: Promise<ApprovalAnswer> } {
    const id = randomHex(4);
    const now = Date.now();
    const info: PendingApproval = {
      id,
      session: this.session,
      persona: this.persona,
      tool,
      target,
      reason,
      created: new Date(now).toISOString(),
      expires: new Date(now + this.timeoutMs).toISOString(),
    };
    const answer = new Promise<ApprovalAnswer>((resolve) => {
      const timer = setTimeout(() => this.settle(id, { decision: 'deny', by: 'timeout', timedOut: true }), this.timeoutMs);
      timer.unref();
      this.pending.set(id, { info, resolve, timer });
    });
    for (const l of this.listeners) l(info, 'pending');
    return { id, answer };
  }

  /** Answers a pending call; false when there is no such pending call. */
  answer(id: string, decision: 'allow' | 'deny', by: string): boolean {
    return this.settle(id, { decision, by, timedOut: false });
  }

  private settle(id: string, a: ApprovalAnswer): boolean {
    const p = this.pending.get(id);
    if (!p) return false;
    clearTimeout(p.timer);
    this.pending.delete(id);
    p.resolve(a);
    for (const l of this.listeners) l(p.info, 'answered');
    return true;
  }

  list(): PendingApproval[] {
    return [...this.pending.values()].map((p) => p.info);
  }

  onChange(listener: (p: PendingApproval, state: 'pending' | 'answered') => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Denies everything still pending (the session is ending). */
  close(): void {
    for (const id of [...this.pending.keys()]) this.settle(id, { decision: 'deny', by: 'session ended', timedOut: false });
  }
}
