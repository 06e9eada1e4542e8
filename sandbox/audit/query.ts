// Audit queries: a filter becomes one SQL statement whose text depends only
// on the filter's shape (which fields, how many kinds), so the store can cache
// prepared statements by SQL text. Pure: cursors arrive already resolved to
// `seq` values (the store looks ids up).
import type { AuditEvent, Decision } from './event.js';
import { toIsoTime } from './since.js';

export interface AuditFilter {
  readonly session?: string;
  readonly persona?: string;
  /** Exact kinds or prefixes ending in `*` (`session.*`); a list matches any of them. */
  readonly kind?: string | readonly string[];
  readonly decision?: Decision | readonly Decision[];
  /** Inclusive lower bound on ts: a Date, an ISO time, or anything `parseSince` accepts (`10m`, `yesterday`). */
  readonly since?: string | Date;
  /** Exclusive upper bound on ts, same forms as `since`. */
  readonly until?: string | Date;
  /** Case-insensitive (ASCII) substring of tool, target or reason. */
  readonly text?: string;
  /** Only events recorded after this one (paging forward, or tailing). */
  readonly afterId?: string;
  /** Only events recorded before this one (paging backward). */
  readonly beforeId?: string;
  /** Default 1000, at most 10000. */
  readonly limit?: number;
  /** Order of the result, by recording order. Default 'asc'. */
  readonly order?: 'asc' | 'desc';
}

export const DEFAULT_QUERY_LIMIT = 1000;
export const MAX_QUERY_LIMIT = 10_000;
const DECISIONS: ReadonlySet<string> = new Set(['allow', 'deny', 'ask']);

export const EVENT_COLUMNS =
  'id, ts, session, persona, agent_kind, agent_version, on_behalf_of, kind, tool, target, decision, reason, detail';

export interface EventRow {
  id: string;
  ts: string;
  session: string;
  persona: string;
  agent_kind: string;
  agent_version: string | null;
  on_behalf_of: string;
  kind: string;
  tool: string | null;
  target: string | null;
  decision: string | null;
  reason: string | null;
  detail: string;
}

export interface ResolvedCursors {
  readonly afterSeq?: number;
  readonly beforeSeq?: number;
}

export interface BuiltQuery {
  readonly sql: string;
  readonly params: readonly (string | number)[];
  /** True when rows come back in the opposite of the requested order and must be reversed. */
  readonly reverse: boolean;
}

function clampLimit(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return DEFAULT_QUERY_LIMIT;
  return Math.min(MAX_QUERY_LIMIT, Math.max(1, Math.floor(limit)));
}

function likePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** The first string sorting after every string starting with `prefix`. */
function prefixUpperBound(prefix: string): string {
  const last = prefix.charCodeAt(prefix.length - 1);
  return prefix.slice(0, -1) + String.fromCharCode(last + 1);
}

function kindCondition(kinds: readonly string[], params: (string | number)[]): string | undefined {
  const exact: string[] = [];
  const prefixes: string[] = [];
  for (const raw of kinds) {
    const kind = String(raw);
    if (!kind.endsWith('*')) exact.push(kind);
    else if (kind === '*') return undefined; // matches every kind
    else prefixes.push(kind.slice(0, -1));
  }
  const parts: string[] = [];
  if (exact.length === 1) parts.push('kind = ?');
  else if (exact.length > 1) parts.push(`kind IN (${exact.map(() => '?').join(', ')})`);
  params.push(...exact);
  for (const prefix of prefixes) {
    parts.push('(kind >= ? AND kind < ?)');
    params.push(prefix, prefixUpperBound(prefix));
  }
  return parts.length === 1 ? (parts[0] as string) : `(${parts.join(' OR ')})`;
}

/** Builds the SQL for a filter. Throws an Error with a one-line message on a bad filter value. */
export function buildEventQuery(filter: AuditFilter, cursors: ResolvedCursors = {}): BuiltQuery {
  const where: string[] = [];
  const params: (string | number)[] = [];

  if (filter.session !== undefined) { where.push('session = ?'); params.push(String(filter.session)); }
  if (filter.persona !== undefined) { where.push('persona = ?'); params.push(String(filter.persona)); }
  if (filter.kind !== undefined) {
    const kinds = typeof filter.kind === 'string' ? [filter.kind] : [...filter.kind];
    if (kinds.length === 0) throw new Error('query: kind list is empty');
    const kindParams: (string | number)[] = [];
    const cond = kindCondition(kinds, kindParams);
    if (cond !== undefined) { where.push(cond); params.push(...kindParams); }
  }
  if (filter.decision !== undefined) {
    const decisions: readonly string[] = typeof filter.decision === 'string' ? [filter.decision] : filter.decision;
    for (const d of decisions) {
      if (!DECISIONS.has(d)) throw new Error(`query: unknown decision ${JSON.stringify(d)} (allow, deny or ask)`);
    }
    if (decisions.length === 0) throw new Error('query: decision list is empty');
    where.push(decisions.length === 1 ? 'decision = ?' : `decision IN (${decisions.map(() => '?').join(', ')})`);
    params.push(...decisions);
  }
  const since = toIsoTime(filter.since);
  if (since !== undefined) {
    // Every row with ts >= since has seq >= the smallest such seq: a range the
    // other indexes can start from, instead of scanning all older rows.
    where.push('ts >= ?', 'seq >= (SELECT min(seq) FROM events INDEXED BY events_ts WHERE ts >= ?)');
    params.push(since, since);
  }
  const until = toIsoTime(filter.until);
  if (until !== undefined) { where.push('ts < ?'); params.push(until); }
  if (filter.text !== undefined && filter.text !== '') {
    where.push("(tool LIKE ? ESCAPE '\\' OR target LIKE ? ESCAPE '\\' OR reason LIKE ? ESCAPE '\\')");
    const pattern = likePattern(String(filter.text));
    params.push(pattern, pattern, pattern);
  }
  if (cursors.afterSeq !== undefined) { where.push('seq > ?'); params.push(cursors.afterSeq); }
  if (cursors.beforeSeq !== undefined) { where.push('seq < ?'); params.push(cursors.beforeSeq); }

  const wantDesc = filter.order === 'desc';
  if (filter.order !== undefined && filter.order !== 'asc' && filter.order !== 'desc') {
    throw new Error(`query: order must be asc or desc, not ${JSON.stringify(filter.order)}`);
  }
  // Scan away from the cursor so the page is the one adjacent to it.
  const scanDesc = cursors.afterSeq !== undefined ? false : cursors.beforeSeq !== undefined ? true : wantDesc;
  params.push(clampLimit(filter.limit));
  const sql =
    `SELECT ${EVENT_COLUMNS} FROM events` +
    (where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '') +
    ` ORDER BY seq ${scanDesc ? 'DESC' : 'ASC'} LIMIT ?`;
  return { sql, params, reverse: scanDesc !== wantDesc };
}

function parseDetail(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
    return { value };
  } catch {
    return { unparsed: text };
  }
}

/** A stored row as the contract's event shape. */
export function rowToEvent(row: EventRow): AuditEvent {
  return {
    id: row.id,
    ts: row.ts,
    session: row.session,
    persona: row.persona,
    agent: { kind: row.agent_kind, version: row.agent_version },
    on_behalf_of: row.on_behalf_of,
    kind: row.kind as AuditEvent['kind'],
    tool: row.tool,
    target: row.target,
    decision: row.decision as AuditEvent['decision'],
    reason: row.reason,
    detail: parseDetail(row.detail),
  };
}
