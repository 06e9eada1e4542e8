// Turning a producer's input into a stored event: id, ts, coerced fields and
// serialized detail. Cheap by design (it runs on every append): no schema
// validation, just coercion so a bad value can never poison a batch.
import type { AuditEvent, EventInput, SessionLabels } from './event.js';
import { newEventId } from './ids.js';

/** The events table's columns, in EVENT_COLUMNS order. */
export type EventRowValues = [
  id: string, ts: string, session: string, persona: string, agent_kind: string, agent_version: string | null,
  on_behalf_of: string, kind: string, tool: string | null, target: string | null, decision: string | null,
  reason: string | null, detail: string,
];

export interface PendingEvent {
  readonly row: EventRowValues;
  readonly event: AuditEvent;
}

const DECISIONS: ReadonlySet<unknown> = new Set(['allow', 'deny', 'ask']);
const CANONICAL_TS_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const PREVIEW_CHARS = 4096;

function str(value: unknown): string | null {
  return value == null ? null : typeof value === 'string' ? value : String(value);
}

/** A producer's ts in canonical form (`...T..:..:..mmmZ`, so text order is time order); `now` if unparsable. */
export function normalizeTs(ts: unknown, now: number): string {
  if (typeof ts === 'string' && CANONICAL_TS_RE.test(ts)) return ts;
  const ms = typeof ts === 'string' ? Date.parse(ts) : NaN;
  return new Date(Number.isFinite(ms) ? ms : now).toISOString();
}

function serializeDetail(input: unknown, maxChars: number): { detail: Record<string, unknown>; json: string } {
  let detail: Record<string, unknown> =
    typeof input === 'object' && input !== null && !Array.isArray(input)
      ? (input as Record<string, unknown>)
      : input === undefined ? {} : { value: input };
  let json: string;
  try {
    json = JSON.stringify(detail);
  } catch (err) {
    detail = { unserializable: err instanceof Error ? err.message : String(err) };
    json = JSON.stringify(detail);
  }
  if (json.length > maxChars) {
    detail = { truncated: true, chars: json.length, preview: json.slice(0, PREVIEW_CHARS) };
    json = JSON.stringify(detail);
  }
  return { detail, json };
}

/** Builds the event (new id; ts now unless given) and its row. */
export function encodeEvent(labels: SessionLabels, input: EventInput, now: number, maxDetailChars: number): PendingEvent {
  const ts = input.ts === undefined ? new Date(now).toISOString() : normalizeTs(input.ts, now);
  const { detail, json } = serializeDetail(input.detail, maxDetailChars);
  const event: AuditEvent = {
    id: newEventId(),
    ts,
    session: String(labels.session),
    persona: String(labels.persona),
    agent: { kind: String(labels.agent.kind), version: str(labels.agent.version) },
    on_behalf_of: String(labels.on_behalf_of),
    kind: input.kind,
    tool: str(input.tool),
    target: str(input.target),
    decision: DECISIONS.has(input.decision) ? (input.decision as AuditEvent['decision']) : null,
    reason: str(input.reason),
    detail,
  };
  const row: EventRowValues = [
    event.id, event.ts, event.session, event.persona, event.agent.kind, event.agent.version, event.on_behalf_of,
    String(event.kind), event.tool, event.target, event.decision, event.reason, json,
  ];
  return { row, event };
}
