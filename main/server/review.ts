// The morning review: what each persona did in a time range (default: since
// yesterday evening). `summarizeReview` is pure; `loadReview` reads the store.
import type { AuditEvent } from '../../sandbox/audit/event.js';
import { parseSince } from '../../sandbox/audit/since.js';
import type { AuditStore, SessionRecord } from '../../sandbox/audit/store.js';
import type { Review, ReviewDeniedGroup, ReviewPersona, ReviewQuery } from '../api/contract.js';
import { HttpError } from './http.js';

/** A review reads at most this many events; past it, the review says it is truncated. */
export const MAX_REVIEW_EVENTS = 200_000;
const MAX_DENIED_LISTED = 100;
/** Kinds whose `deny` is about the engine itself (or a human's Discard), not a refused call. */
const NOT_DENIALS: ReadonlySet<string> = new Set(['stop', 'error', 'session.end', 'worktree.apply', 'worktree.discard']);

/** Yesterday at 18:00 local time. */
export function yesterdayEvening(now: Date): Date {
  return new Date(now.getFullYear(), now.getMonth(), now.getDate() - 1, 18, 0, 0, 0);
}

export function reviewRange(q: ReviewQuery, now: Date): { since: Date; until: Date } {
  let since: Date;
  let until: Date;
  try {
    since = q.since ? parseSince(q.since, now) : yesterdayEvening(now);
    until = q.until ? parseSince(q.until, now) : now;
  } catch (e) {
    throw new HttpError(400, (e as Error).message);
  }
  if (until.getTime() <= since.getTime()) throw new HttpError(400, 'the range is empty: until must be after since');
  return { since, until };
}

function emptyPersona(persona: string, displayName: string | null): ReviewPersona {
  return {
    persona, display_name: displayName, sessions: [], duration_ms: 0, tool_calls: 0, commands: 0, denials: 0, approvals: 0,
    drift_flags: [], files: [], network: [], requests: [], credential_refusals: 0, denied_calls: [], denied_groups: [],
  };
}

export interface ReviewInput {
  readonly since: Date;
  readonly until: Date;
  readonly now: Date;
  readonly events: readonly AuditEvent[];
  readonly sessions: readonly SessionRecord[];
  readonly displayNames: ReadonlyMap<string, string>;
  readonly truncated: boolean;
}

export function summarizeReview(input: ReviewInput): Review {
  const byPersona = new Map<string, ReviewPersona>();
  const get = (name: string): ReviewPersona => {
    let p = byPersona.get(name);
    if (p === undefined) {
      p = emptyPersona(name, input.displayNames.get(name) ?? null);
      byPersona.set(name, p);
    }
    return p;
  };
  const sinceMs = input.since.getTime();
  const untilMs = input.until.getTime();
  for (const s of input.sessions) {
    const start = Date.parse(s.started_at);
    const end = s.ended_at === null ? input.now.getTime() : Date.parse(s.ended_at);
    if (start >= untilMs || end < sinceMs) continue;
    const p = get(s.persona);
    const duration = Math.max(0, end - start);
    p.sessions.push({
      id: s.id, started_at: s.started_at, ended_at: s.ended_at, duration_ms: duration, end_reason: s.end_reason,
      exit_code: s.exit_code, workspace: s.workspace, on_behalf_of: s.on_behalf_of, command: [...s.command],
    });
    p.duration_ms += duration;
  }
  const files = new Map<string, Map<string, { writes: number; deletes: number; diff: string | null }>>();
  const nets = new Map<string, Map<string, { allowed: number; denied: number }>>();
  const denied = new Map<string, Map<string, ReviewDeniedGroup & { ids: Set<string> }>>();
  const requests = new Map<string, Map<string, { allowed: number; denied: number; bytes_in: number; bytes_out: number; credentials: Set<string> }>>();
  for (const e of input.events) {
    const p = get(e.persona);
    if (e.kind === 'tool.call') p.tool_calls++;
    else if (e.kind === 'exec') p.commands++;
    else if (e.kind === 'approval') p.approvals++;
    else if (e.kind === 'drift') p.drift_flags.push({ ts: e.ts, session: e.session, target: e.target, reason: e.reason });
    if (e.decision === 'deny' && !NOT_DENIALS.has(e.kind)) {
      p.denials++;
      if (p.denied_calls.length < MAX_DENIED_LISTED) p.denied_calls.push(e);
      let m = denied.get(e.persona);
      if (m === undefined) denied.set(e.persona, (m = new Map()));
      const key = JSON.stringify([e.kind, e.tool, e.target, e.reason]);
      const g = m.get(key);
      if (g === undefined) m.set(key, { kind: e.kind, tool: e.tool, target: e.target, reason: e.reason, count: 1, first_ts: e.ts, last_ts: e.ts, sessions: 1, ids: new Set([e.session]) });
      else {
        g.count++;
        if (e.ts < g.first_ts) g.first_ts = e.ts;
        if (e.ts > g.last_ts) g.last_ts = e.ts;
        g.ids.add(e.session);
        g.sessions = g.ids.size;
      }
    }
    if ((e.kind === 'fs.write' || e.kind === 'fs.delete' || e.kind === 'fs.diff') && e.target !== null) {
      let m = files.get(e.persona);
      if (m === undefined) files.set(e.persona, (m = new Map()));
      const f = m.get(e.target) ?? { writes: 0, deletes: 0, diff: null };
      if (e.kind === 'fs.write') f.writes++;
      else if (e.kind === 'fs.delete') f.deletes++;
      if (typeof e.detail.diff === 'string') f.diff = e.detail.diff;
      m.set(e.target, f);
    }
    if (e.kind === 'credential' && e.decision === 'deny') p.credential_refusals++;
    if (e.kind === 'http.request') {
      let m = requests.get(e.persona);
      if (m === undefined) requests.set(e.persona, (m = new Map()));
      const key = `${String(e.detail.method ?? '?')} ${String(e.detail.host ?? '?')}`;
      const r = m.get(key) ?? { allowed: 0, denied: 0, bytes_in: 0, bytes_out: 0, credentials: new Set<string>() };
      if (e.decision === 'deny') r.denied++;
      else r.allowed++;
      r.bytes_in += typeof e.detail.bytes_in === 'number' ? e.detail.bytes_in : 0;
      r.bytes_out += typeof e.detail.bytes_out === 'number' ? e.detail.bytes_out : 0;
      if (Array.isArray(e.detail.credentials)) for (const c of e.detail.credentials) r.credentials.add(String(c));
      m.set(key, r);
    }
    if (e.kind === 'net.connect' && e.target !== null) {
      let m = nets.get(e.persona);
      if (m === undefined) nets.set(e.persona, (m = new Map()));
      const n = m.get(e.target) ?? { allowed: 0, denied: 0 };
      if (e.decision === 'deny') n.denied++;
      else n.allowed++;
      m.set(e.target, n);
    }
  }
  for (const [persona, m] of files) {
    get(persona).files = [...m].map(([path, f]) => ({ path, ...f })).sort((a, b) => a.path.localeCompare(b.path));
  }
  for (const [persona, m] of denied) {
    get(persona).denied_groups = [...m.values()]
      .map(({ ids: _ids, ...g }) => g)
      .sort((a, b) => b.count - a.count || a.first_ts.localeCompare(b.first_ts))
      .slice(0, MAX_DENIED_LISTED);
  }
  for (const [persona, m] of nets) {
    get(persona).network = [...m].map(([target, n]) => ({ target, ...n })).sort((a, b) => b.denied + b.allowed - (a.denied + a.allowed));
  }
  for (const [persona, m] of requests) {
    get(persona).requests = [...m]
      .map(([target, r]) => ({ target, allowed: r.allowed, denied: r.denied, bytes_in: r.bytes_in, bytes_out: r.bytes_out, credentials: [...r.credentials].sort() }))
      .sort((a, b) => b.denied + b.allowed - (a.denied + a.allowed));
  }
  return {
    since: input.since.toISOString(),
    until: input.until.toISOString(),
    generated_at: input.now.toISOString(),
    personas: [...byPersona.values()].sort((a, b) => a.persona.localeCompare(b.persona)),
    truncated: input.truncated,
  };
}

/** Every event of the range (bounded), oldest first. */
export function rangeEvents(store: AuditStore, since: Date, until: Date, persona?: string): { events: AuditEvent[]; truncated: boolean } {
  const events: AuditEvent[] = [];
  let after: string | undefined;
  for (;;) {
    const page = store.query({ since, until, persona, limit: 10_000, ...(after ? { afterId: after } : {}) });
    events.push(...page);
    if (events.length >= MAX_REVIEW_EVENTS) return { events: events.slice(0, MAX_REVIEW_EVENTS), truncated: true };
    if (page.length < 10_000) return { events, truncated: false };
    after = page[page.length - 1]?.id;
  }
}

export function loadReview(store: AuditStore, q: ReviewQuery, displayNames: ReadonlyMap<string, string>, now = new Date()): Review {
  const { since, until } = reviewRange(q, now);
  const { events, truncated } = rangeEvents(store, since, until, q.persona);
  const sessions = store.listSessions({ limit: 10_000, ...(q.persona ? { persona: q.persona } : {}) });
  return summarizeReview({ since, until, now, events, sessions, displayNames, truncated });
}
