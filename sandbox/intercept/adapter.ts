// Agent adapters: what each agent kind adds to a session (API domains,
// interception, its version for the audit record). The shell adapter adds
// nothing: shell-level interception (exec tracing) covers every agent.
import type { AgentKind } from '../../personas/schema.js';
import type { EmitEvent } from '../audit/event.js';

/** What a session exposes to its adapter. */
export interface AdapterSession {
  readonly id: string;
  readonly emit: EmitEvent;
  limit(name: string, reason: string): void;
  fail(message: string): void;
  stop(reason?: 'stopped' | 'limit' | 'failure'): Promise<unknown>;
  /** Resolves when the agent's hooks check in with the broker (SessionStart). */
  readonly hooksLive: { readonly promise: Promise<void> };
  onTelemetry: ((path: string, body: string) => void) | undefined;
  /** Did personae decide this tool call (by the agent's tool_use_id)? */
  decided(toolUseId: string): boolean;
}

export interface AdapterPlan {
  /** API domains the agent needs, added to the persona's network allowance (and shown in session.start). */
  readonly networkAllow: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly roBinds: ReadonlyArray<{ readonly src: string; readonly dest: string }>;
  readonly extraPath: readonly string[];
  /** Called once the sandbox runs (e.g. to arm the hooks-live check). */
  started?(session: AdapterSession): Promise<void> | void;
  /** Adds the agent's own flags to the command (and refuses flags that would weaken interception). */
  rewriteCommand?(command: readonly string[]): string[];
  close(): Promise<void> | void;
}

export interface AgentAdapter {
  readonly kind: AgentKind;
  /** The agent's version for the audit record, or null when unknown (any command). */
  version(): Promise<string | null>;
  prepare(ctx: { readonly session: AdapterSession; readonly dir: string }): Promise<AdapterPlan>;
}

export const shellAdapter: AgentAdapter = {
  kind: 'shell',
  version: () => Promise.resolve(null),
  prepare: () => Promise.resolve({ networkAllow: [], env: {}, roBinds: [], extraPath: [], close: () => undefined }),
};
