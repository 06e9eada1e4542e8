// What a session is started with and what it ends with (sandbox/session.ts).
import type { Persona } from '../personas/schema.js';
import type { AuditStore } from './audit/store.js';
import type { AgentAdapter } from './intercept/adapter.js';
import type { StopResult } from './launch/pidns.js';
import type { StdioMode } from './launch/spawn.js';
import type { CredentialGrant } from './net/credentials.js';
import type { ReviewedWorktree, SessionWorktree, WorktreeSummary } from './worktree/session-worktree.js';

export interface SessionOptions {
  readonly persona: Persona;
  readonly personaeHome: string;
  readonly personaHome: string;
  readonly runDir: string;
  readonly workspace: string;
  readonly command: readonly string[];
  readonly onBehalfOf: string;
  readonly userHome: string;
  /** The persona's credentials with their values; the sandbox sees placeholders (see net/interception.ts). */
  readonly credentials: readonly CredentialGrant[];
  /** Extra CAs the proxy trusts for upstream servers (PERSONAE_UPSTREAM_CA), PEM. */
  readonly upstreamCa?: string;
  /**
   * The audit log, or how to open it: then it is opened once the sandbox is
   * spawned (the sandbox sets itself up meanwhile, its command held until the
   * go), and events from before are appended then, with their own times.
   */
  readonly store: AuditStore | (() => Promise<AuditStore>);
  readonly stdio: StdioMode;
  readonly adapter: AgentAdapter;
  readonly hostMap?: ReadonlyMap<string, { host: string; port?: number }>;
  readonly env?: NodeJS.ProcessEnv;
  /** The supervisor exits when the session ends (personae run): keep the kernel's retiring of its file watches off that exit (see launch/exit-handoff.ts). */
  readonly exitsAfter?: boolean;
  /** The command waits for go() instead of starting as soon as everything is ready (the app's terminal view gives the PTY its size first). */
  readonly deferGo?: boolean;
  /** SIGTERM-to-SIGKILL grace when stopping; at most 2000 ms. */
  readonly graceMs?: number;
  readonly sessionId?: string;
  /** The session runs in a git worktree personae made for it (its workspace is the worktree). */
  readonly worktree?: SessionWorktree;
  /** The session reviews another session's worktree (its workspace), read-only. */
  readonly review?: ReviewedWorktree;
}

export type EndReason = 'exit' | 'stopped' | 'limit' | 'suspended' | 'failure';

export interface SessionEnd {
  readonly exitCode: number;
  readonly reason: EndReason;
  readonly stop: StopResult | undefined;
  /** Why the session failed (the first failure), when it did. */
  readonly failure?: string;
  /** A worktree session's work, summed up. */
  readonly worktree?: WorktreeSummary;
}

export class SessionRefused extends Error {}

/** A promise and its resolve, for what a session waits on (its hooks checking in). */
export function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
