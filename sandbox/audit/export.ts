// Export: JSONL in the contract's key order (`personae audit --format jsonl`)
// and a plain table for humans. Event strings come from a possibly hostile
// agent, so neither format lets control characters reach a terminal raw.
import type { AuditEvent } from './event.js';

// JSON.stringify escapes U+0000-U+001F but leaves DEL, the C1 controls (U+009B
// is a CSI on some terminals) and the JS line separators raw.
const JSON_UNSAFE_RE = /[\u007f-\u009f\u2028\u2029]/g;

function escapeUnsafe(ch: string): string {
  return `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/** One event as one JSON line (no newline), keys in the DESIGN.md order. */
export function toJsonlLine(event: AuditEvent): string {
  const ordered = {
    id: event.id,
    ts: event.ts,
    session: event.session,
    persona: event.persona,
    agent: { kind: event.agent.kind, version: event.agent.version },
    on_behalf_of: event.on_behalf_of,
    kind: event.kind,
    tool: event.tool,
    target: event.target,
    decision: event.decision,
    reason: event.reason,
    detail: event.detail,
  };
  return jsonLine(ordered);
}

/** Any JSON value as one line that is safe on a terminal (no raw DEL, C1 controls or line separators). */
export function jsonLine(value: unknown): string {
  return JSON.stringify(value).replace(JSON_UNSAFE_RE, escapeUnsafe);
}

/** Events as JSONL: one object per line, each line ending in a newline. */
export function toJsonl(events: Iterable<AuditEvent>): string {
  let out = '';
  for (const event of events) out += toJsonlLine(event) + '\n';
  return out;
}

export interface TableOptions {
  /** Show times in UTC instead of local time. */
  readonly utc?: boolean;
  /** Maximum width of the target column (default 48). */
  readonly targetWidth?: number;
  /** Maximum width of the reason column (default 40). */
  readonly reasonWidth?: number;
}

const CONTROL_RE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

function visible(ch: string): string {
  switch (ch) {
    case '\n': return '\\n';
    case '\r': return '\\r';
    case '\t': return '\\t';
    default: return escapeUnsafe(ch);
  }
}

/** Makes a field safe and single-line, and cuts it to `width` characters (ending in '…'). */
export function cell(value: string | null | undefined, width: number): string {
  if (value == null || value === '') return '-';
  const clean = value.replace(CONTROL_RE, visible);
  const chars = Array.from(clean);
  if (chars.length <= width) return clean;
  return chars.slice(0, Math.max(0, width - 1)).join('') + '…';
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/** `YYYY-MM-DD HH:MM:SS.mmm`, local or UTC; the raw value when it is not a time. */
export function formatTime(ts: string, utc = false): string {
  const d = new Date(ts);
  if (!Number.isFinite(d.getTime())) return ts;
  if (utc) return d.toISOString().replace('T', ' ').replace('Z', '');
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ` +
    `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

const HEADERS = ['TIME', 'PERSONA', 'KIND', 'DECISION', 'TARGET', 'REASON'] as const;

/** A fixed-width text table: time, persona, kind, decision, target (or tool), reason. */
export function formatTable(events: readonly AuditEvent[], opts: TableOptions = {}): string {
  const targetWidth = opts.targetWidth ?? 48;
  const reasonWidth = opts.reasonWidth ?? 40;
  const rows: string[][] = events.map((e) => [
    formatTime(e.ts, opts.utc),
    cell(e.persona, 20),
    cell(e.kind, 14),
    cell(e.decision, 8),
    cell(e.target ?? e.tool, targetWidth),
    cell(e.reason, reasonWidth),
  ]);
  const widths: number[] = HEADERS.map((h) => h.length);
  for (const row of rows) {
    row.forEach((c, i) => { widths[i] = Math.max(widths[i] ?? 0, Array.from(c).length); });
  }
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat(Math.max(0, (widths[i] ?? 0) - Array.from(c).length))))
      .join('  ')
      .trimEnd();
  return [line(HEADERS), ...rows.map(line)].join('\n') + '\n';
}
