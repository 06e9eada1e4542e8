// Audit events as OpenTelemetry data, following the GenAI semantic
// conventions where they fit (README "Telemetry" has the table):
// - a session is a trace: its id is the session UUID, its root span an
//   `invoke_agent {persona}` span, sent when the session ends;
// - a tool call is an `execute_tool {tool}` span under it, sent when its
//   outcome is known (the tool.result, or the deny / denied approval);
// - every event is also a log record, in that trace (under the tool call's
//   span for tool events), with the event's fields as attributes.
// Ids are derived from the session and the tool call, never random, so a
// batch sent twice (see README: delivery) carries the same ids twice.
// Pure: the SDK objects are built from these in otlp-sdk.ts.
import { createHash } from 'node:crypto';
import type { AuditEvent } from './event.js';

export type AttributeValue = string | number | boolean;
export type Attributes = Record<string, AttributeValue>;

export interface LogData {
  readonly timeMs: number;
  readonly traceId: string;
  readonly spanId: string;
  readonly severityNumber: number;
  readonly severityText: string;
  readonly eventName: string;
  readonly body: string;
  readonly attributes: Attributes;
}

export interface SpanData {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly name: string;
  readonly startMs: number;
  readonly endMs: number;
  readonly attributes: Attributes;
  readonly status: { readonly code: 'unset' | 'error'; readonly message?: string };
}

/** What an event does not carry but its records should: looked up once per session. */
export interface SessionFacts {
  readonly owner: string | null;
  readonly startedAt: string | null;
}

export interface ToolCallFacts {
  readonly ts: string;
  readonly decision: string | null;
  readonly reason: string | null;
}

export interface MapContext {
  session(id: string): SessionFacts;
  /** The tool.call event a result or approval belongs to (by tool_use_id), if it is known. */
  toolCall(session: string, toolUseId: string): ToolCallFacts | undefined;
}

// OTLP severity numbers.
const INFO = 9;
const INFO2 = 10;
const WARN = 13;
const ERROR = 17;

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function hexHash(text: string, chars: number): string {
  const hex = createHash('sha256').update(text).digest('hex').slice(0, chars);
  return /^0+$/.test(hex) ? `${hex.slice(0, -1)}1` : hex;
}

const memo = new Map<string, string>();

/** `make(key)`, remembered (ids are asked for once per event, but there are few sessions). */
function remembered(key: string, make: () => string): string {
  let v = memo.get(key);
  if (v === undefined) {
    if (memo.size >= 10_000) memo.clear();
    v = make();
    memo.set(key, v);
  }
  return v;
}

/** The session's trace id: its UUID as 32 hex digits (a hash for ids that are not UUIDs). */
export function traceIdOf(session: string): string {
  return remembered(`t:${session}`, () => makeTraceId(session));
}

function makeTraceId(session: string): string {
  if (UUID_RE.test(session)) {
    const hex = session.replace(/-/g, '').toLowerCase();
    if (!/^0+$/.test(hex)) return hex;
  }
  return hexHash(`personae:trace:${session}`, 32);
}

export function rootSpanIdOf(session: string): string {
  return remembered(`r:${session}`, () => hexHash(`personae:root:${session}`, 16));
}

export function toolSpanIdOf(session: string, key: string): string {
  return hexHash(`personae:tool:${session}:${key}`, 16);
}

const PROVIDERS: Record<string, string> = { claude: 'anthropic', codex: 'openai', gemini: 'gcp.gemini' };
const TOOL_KINDS = new Set(['tool.call', 'tool.result', 'approval']);

function toolUseId(e: AuditEvent): string | null {
  const id = e.detail.tool_use_id;
  return typeof id === 'string' && id !== '' ? id : null;
}

/** The span a tool event belongs to: keyed by tool_use_id, or by the call's own event id when the agent gave none. */
function toolSpanKey(e: AuditEvent): string | null {
  if (!TOOL_KINDS.has(e.kind)) return null;
  return toolUseId(e) ?? (e.kind === 'tool.call' ? `event:${e.id}` : null);
}

function timeMs(ts: string): number {
  const t = Date.parse(ts);
  return Number.isFinite(t) ? t : 0;
}

function severityOf(e: AuditEvent): { n: number; text: string } {
  if (e.kind === 'error' || e.kind === 'bypass') return { n: ERROR, text: 'ERROR' };
  if (e.decision === 'deny' || e.kind === 'drift' || e.kind === 'limit') return { n: WARN, text: 'WARN' };
  if (e.decision === 'ask' || e.detail.would_be !== undefined) return { n: INFO2, text: 'INFO2' };
  return { n: INFO, text: 'INFO' };
}

const agentMemo = new Map<string, { key: string; attrs: Attributes }>();

/** Attributes every record of a session carries: who acted, as whom, for whom (built once per session). */
function agentAttributes(e: AuditEvent, facts: SessionFacts): Attributes {
  const key = `${e.persona}\n${e.on_behalf_of}\n${e.agent.kind}\n${e.agent.version ?? ''}\n${facts.owner ?? ''}`;
  const hit = agentMemo.get(e.session);
  if (hit !== undefined && hit.key === key) return hit.attrs;
  if (agentMemo.size >= 10_000) agentMemo.clear();
  const attrs = makeAgentAttributes(e, facts);
  agentMemo.set(e.session, { key, attrs });
  return attrs;
}

function makeAgentAttributes(e: AuditEvent, facts: SessionFacts): Attributes {
  const a: Attributes = {
    'gen_ai.agent.name': e.persona,
    'gen_ai.agent.id': e.session,
    'gen_ai.conversation.id': e.session,
    'personae.persona': e.persona,
    'personae.session': e.session,
    'personae.on_behalf_of': e.on_behalf_of,
    'personae.agent.kind': e.agent.kind,
  };
  const provider = PROVIDERS[e.agent.kind];
  if (provider !== undefined) a['gen_ai.provider.name'] = provider;
  if (e.agent.version !== null) a['personae.agent.version'] = e.agent.version;
  if (facts.owner !== null) a['personae.owner'] = facts.owner;
  return a;
}


/** One event as one log record; `detailJson` is the detail as stored, when the caller has it. */
export function eventToLog(e: AuditEvent, facts: SessionFacts, detailJson?: string): LogData {
  const sev = severityOf(e);
  const key = toolSpanKey(e);
  // Object.assign, not a spread: spreading these dotted keys into a literal costs ~40x more (measured).
  const attributes: Attributes = Object.assign({}, agentAttributes(e, facts));
  attributes['event.name'] = `personae.${e.kind}`;
  attributes['personae.event.id'] = e.id;
  attributes['personae.kind'] = e.kind;
  attributes['personae.detail'] = detailJson ?? JSON.stringify(e.detail);
  if (e.tool !== null) {
    attributes['personae.tool'] = e.tool;
    if (TOOL_KINDS.has(e.kind)) attributes['gen_ai.tool.name'] = e.tool;
  }
  if (e.target !== null) attributes['personae.target'] = e.target;
  if (e.decision !== null) attributes['personae.decision'] = e.decision;
  if (e.reason !== null) attributes['personae.reason'] = e.reason;
  const wouldBe = e.detail.would_be;
  if (typeof wouldBe === 'string') attributes['personae.would_be'] = wouldBe;
  const id = toolUseId(e);
  if (id !== null) attributes['gen_ai.tool.call.id'] = id;
  let summary = e.kind;
  for (const part of [e.decision, e.tool, e.target]) if (part !== null && part !== '') summary += ` ${part}`;
  return {
    timeMs: timeMs(e.ts),
    traceId: traceIdOf(e.session),
    spanId: key === null ? rootSpanIdOf(e.session) : toolSpanIdOf(e.session, key),
    severityNumber: sev.n,
    severityText: sev.text,
    eventName: `personae.${e.kind}`,
    body: summary.length > 300 ? `${summary.slice(0, 299)}…` : summary,
    attributes,
  };
}

function rootSpan(e: AuditEvent, facts: SessionFacts): SpanData {
  const end = timeMs(e.ts);
  const start = facts.startedAt === null ? end : Math.min(end, timeMs(facts.startedAt));
  const exit = e.detail.exit_code;
  const attributes: Attributes = Object.assign({}, agentAttributes(e, facts), { 'gen_ai.operation.name': 'invoke_agent' });
  if (typeof exit === 'number') attributes['personae.exit_code'] = exit;
  if (e.reason !== null) attributes['personae.end_reason'] = e.reason;
  const failed = (typeof exit === 'number' && exit !== 0) || (e.reason !== null && e.reason !== 'exit');
  return {
    traceId: traceIdOf(e.session),
    spanId: rootSpanIdOf(e.session),
    name: `invoke_agent ${e.persona}`,
    startMs: start,
    endMs: end,
    attributes,
    status: failed ? { code: 'error', message: e.reason ?? `exit code ${String(exit)}` } : { code: 'unset' },
  };
}

function toolSpan(e: AuditEvent, facts: SessionFacts, call: ToolCallFacts | undefined, outcome: { failed: boolean; message?: string }): SpanData {
  const key = toolSpanKey(e) as string;
  const end = timeMs(e.ts);
  const start = call === undefined ? end : Math.min(end, timeMs(call.ts));
  const tool = e.tool ?? 'unknown';
  const attributes: Attributes = Object.assign({}, agentAttributes(e, facts), {
    'gen_ai.operation.name': 'execute_tool',
    'gen_ai.tool.name': tool,
    'gen_ai.tool.type': 'function',
  });
  const id = toolUseId(e);
  if (id !== null) attributes['gen_ai.tool.call.id'] = id;
  if (e.target !== null) attributes['personae.target'] = e.target;
  const decision = e.kind === 'tool.call' || e.kind === 'approval' ? e.decision : call?.decision ?? null;
  const reason = e.kind === 'tool.call' || e.kind === 'approval' ? e.reason : call?.reason ?? null;
  if (decision !== null) attributes['personae.decision'] = decision;
  if (reason !== null) attributes['personae.reason'] = reason;
  return {
    traceId: traceIdOf(e.session),
    spanId: toolSpanIdOf(e.session, key),
    parentSpanId: rootSpanIdOf(e.session),
    name: `execute_tool ${tool}`,
    startMs: start,
    endMs: end,
    attributes,
    status: outcome.failed ? { code: 'error', ...(outcome.message ? { message: outcome.message } : {}) } : { code: 'unset' },
  };
}

/** The spans an event completes: none for most, the root span at session.end, a tool span once a call's outcome is known. */
export function eventToSpans(e: AuditEvent, ctx: MapContext): SpanData[] {
  switch (e.kind) {
    case 'session.end':
      return [rootSpan(e, ctx.session(e.session))];
    case 'tool.call':
      // A denied call has its outcome now; an allowed or asked one ends with its result or approval.
      return e.decision === 'deny' ? [toolSpan(e, ctx.session(e.session), undefined, { failed: true, message: `denied: ${e.reason ?? ''}` })] : [];
    case 'approval': {
      if (e.decision !== 'deny') return [];
      const id = toolUseId(e);
      const call = id === null ? undefined : ctx.toolCall(e.session, id);
      return [toolSpan(e, ctx.session(e.session), call, { failed: true, message: `denied: ${e.reason ?? ''}` })];
    }
    case 'tool.result': {
      const id = toolUseId(e);
      if (id === null) return [];
      const ok = e.detail.ok !== false;
      return [toolSpan(e, ctx.session(e.session), ctx.toolCall(e.session, id), ok ? { failed: false } : { failed: true, message: 'tool failed' })];
    }
    default:
      return [];
  }
}
