// The sessions list as a fleet: what each session is doing, in a word the
// list and a notification can show. Pure.
import type { PendingApproval, SessionInfo } from '../../main/api/contract.js';
import { stateLabel } from '../ui/format.js';

export type FleetState = 'running' | 'waiting' | 'stopping' | 'ended' | 'stopped' | 'stop-failed';

/** running, waiting for approval (a running session with a call waiting for a human), ended, stopped... */
export function fleetState(s: SessionInfo, approvals: readonly PendingApproval[]): FleetState {
  if (s.state === 'running' && approvals.some((a) => a.session === s.id)) return 'waiting';
  return s.state;
}

/** What the list says: "waiting for approval", else the session's state as everywhere else. */
export function fleetLabel(state: FleetState, s: SessionInfo): string {
  return state === 'waiting' ? 'waiting for approval' : stateLabel(s);
}

/** 42s, 5m, 3h, 2d: how long ago a session started. */
export function age(startedAt: string, now: number): string {
  const s = Math.max(0, Math.round((now - Date.parse(startedAt)) / 1000));
  if (!Number.isFinite(s)) return '';
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

/** What the worktree column says: the branch, and whether its change still waits for a decision. */
export function worktreeLabel(s: SessionInfo): string {
  if (s.worktree === null) return '—';
  if (s.worktree.state === 'applied') return `${s.worktree.branch} (kept)`;
  if (s.worktree.state === 'discarded') return `${s.worktree.branch} (discarded)`;
  return s.worktree.branch;
}
