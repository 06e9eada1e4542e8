// The audit event: the contract other tools read (`personae audit --format
// jsonl` prints exactly these fields, one event per line).
import * as z from 'zod/mini';

export const EVENT_KINDS = [
  'session.start', 'session.end', 'session.ready',
  'tool.call', 'tool.result', 'decision', 'approval',
  'exec', 'exec.exit', 'fs.read', 'fs.write', 'fs.delete', 'fs.diff', 'net.connect',
  'limit', 'stop', 'drift', 'bypass', 'error',
  'http.request', 'credential', 'worktree.apply', 'worktree.discard',
] as const;
export const EventKindSchema = z.enum(EVENT_KINDS);
export type EventKind = z.infer<typeof EventKindSchema>;

/**
 * Records of the session's life and of outcomes: the only kinds that may
 * carry no decision. Every other kind is an attempt (or a decision about
 * one) and carries allow, deny or ask.
 */
export const OUTCOME_KINDS: ReadonlySet<string> = new Set(['session.start', 'session.end', 'session.ready', 'exec.exit', 'tool.result', 'fs.diff', 'stop', 'limit', 'error']);

/** True when an event breaks the contract: an attempt without its decision. */
export function missingDecision(e: { readonly kind: string; readonly decision?: string | null }): boolean {
  return !OUTCOME_KINDS.has(e.kind) && (e.decision === null || e.decision === undefined);
}

export const DecisionSchema = z.enum(['allow', 'deny', 'ask']);
export type Decision = z.infer<typeof DecisionSchema>;

export const AgentInfoSchema = z.strictObject({
  kind: z.string(),
  version: z.nullable(z.string()),
});
export type AgentInfo = z.infer<typeof AgentInfoSchema>;

export const AuditEventSchema = z.strictObject({
  id: z.string(),
  ts: z.string(),
  session: z.string(),
  persona: z.string(),
  agent: AgentInfoSchema,
  on_behalf_of: z.string(),
  kind: EventKindSchema,
  tool: z.nullable(z.string()),
  target: z.nullable(z.string()),
  decision: z.nullable(DecisionSchema),
  reason: z.nullable(z.string()),
  detail: z.record(z.string(), z.unknown()),
});
export type AuditEvent = z.infer<typeof AuditEventSchema>;

/** What a producer supplies; the store adds id and ts (unless given) and the session labels. */
export interface EventInput {
  readonly kind: EventKind;
  readonly tool?: string | null;
  readonly target?: string | null;
  readonly decision?: Decision | null;
  readonly reason?: string | null;
  readonly detail?: Record<string, unknown>;
  readonly ts?: string;
}

/** The labels every event of one session carries. */
export interface SessionLabels {
  readonly session: string;
  readonly persona: string;
  readonly agent: AgentInfo;
  readonly on_behalf_of: string;
}

/** A sink for one session's events; the session wires producers (proxy, watcher, tracer, broker) to it. */
export type EmitEvent = (input: EventInput) => void;
