// Approvals: `ask` tool calls waiting for a human. The backend sees them
// through this small provider interface; `SessionApprovals` (session-approvals.ts)
// is the real one, over every running session's approvals.
import type { PendingApproval } from '../api/contract.js';

export type ApprovalDecision = 'allow' | 'deny';

export interface ApprovalProvider {
  /** Pending approvals, oldest first. */
  list(): PendingApproval[];
  /** Answers one; false when it is unknown, already answered or expired. */
  answer(id: string, decision: ApprovalDecision, by: string): Promise<boolean>;
  /** Called with the full pending list whenever it changes; returns an unsubscribe function. */
  onChange(listener: (pending: readonly PendingApproval[]) => void): () => void;
  close(): void;
}
