// App-wide live state from the stream: sessions and pending approvals, kept
// in one small external store (React reads it with useSyncExternalStore).
import { useSyncExternalStore } from 'react';
import type { PendingApproval, SessionInfo } from '../../main/api/contract.js';
import { knowPersonas } from '../ui/persona-colours.js';
import { stream, type ConnectionState } from './stream.js';

export interface LiveState {
  readonly sessions: ReadonlyMap<string, SessionInfo>;
  readonly approvals: readonly PendingApproval[];
  readonly connection: ConnectionState;
}

let state: LiveState = { sessions: new Map(), approvals: [], connection: 'connecting' };
const listeners = new Set<() => void>();
const approvalListeners = new Set<(a: PendingApproval) => void>();

function set(next: Partial<LiveState>): void {
  state = { ...state, ...next };
  for (const l of listeners) l();
}

stream.onState((connection) => set({ connection }));
stream.on((msg) => {
  switch (msg.type) {
    case 'hello':
      knowPersonas(msg.sessions.map((s) => s.persona));
      set({ sessions: new Map(msg.sessions.map((s) => [s.id, s])) });
      announce(msg.approvals);
      set({ approvals: msg.approvals });
      break;
    case 'session': {
      knowPersonas([msg.session.persona]);
      const sessions = new Map(state.sessions);
      sessions.set(msg.session.id, msg.session);
      set({ sessions });
      break;
    }
    case 'approvals':
      announce(msg.approvals);
      set({ approvals: msg.approvals });
      break;
    case 'snapshot':
    case 'events':
    case 'error':
      break;
  }
});

function announce(next: readonly PendingApproval[]): void {
  const known = new Set(state.approvals.map((a) => a.id));
  for (const a of next) if (!known.has(a.id)) for (const l of approvalListeners) l(a);
}

/** Adds a session a route answered with (a launch), unless the stream already reported it. */
export function upsertSession(info: SessionInfo): void {
  // The stream may already know better (a quick command can end before the launch answer arrives).
  if (state.sessions.has(info.id)) return;
  const sessions = new Map(state.sessions);
  sessions.set(info.id, info);
  set({ sessions });
}

export function onNewApproval(listener: (a: PendingApproval) => void): () => void {
  approvalListeners.add(listener);
  return () => {
    approvalListeners.delete(listener);
  };
}

function subscribe(l: () => void): () => void {
  listeners.add(l);
  return () => {
    listeners.delete(l);
  };
}

/** The state now, outside React (a notification naming a session's workspace). */
export function liveState(): LiveState {
  return state;
}

export function useLive(): LiveState {
  return useSyncExternalStore(subscribe, () => state);
}

/** Sessions newest first. */
export function sortedSessions(s: LiveState): SessionInfo[] {
  return [...s.sessions.values()].sort((a, b) => (a.started_at < b.started_at ? 1 : a.started_at > b.started_at ? -1 : 0));
}

export function isRunning(s: SessionInfo): boolean {
  return s.state === 'running' || s.state === 'stopping' || s.state === 'stop-failed';
}
