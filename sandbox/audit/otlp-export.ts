// The OTLP export loop: for each signal (logs, traces) read the events after
// its durable cursor in commit order, map them (otlp-map.ts), ship them with
// the SDK (otlp-sdk.ts) one batch at a time, and move the cursor only once
// the receiver acknowledged the batch. A failed batch is retried, the same
// events in the same order, with exponential back-off; nothing is dropped.
// So a session's events arrive in order, none is lost across collector,
// network or personae downtime, and an event is shipped again only when
// personae died (or gave up waiting) after sending its batch and before
// reading the answer (README: delivery).
import type { Database } from 'better-sqlite3';
import type { AuditEvent } from './event.js';
import { exportCursors, holderId } from './export-cursor.js';
import type { ExportCursors, SequencedEvent } from './export-cursor.js';
import type { OtlpConfig, OtlpSignal, SignalConfig } from './otlp-config.js';
import { eventToLog, eventToSpans } from './otlp-map.js';
import type { LogData, MapContext, SessionFacts, SpanData, ToolCallFacts } from './otlp-map.js';
import type { ResourceInfo, SignalSender } from './otlp-sdk.js';

export type ExportState =
  | { readonly kind: 'shipping'; readonly behind: number }
  | { readonly kind: 'caught-up' }
  | { readonly kind: 'failing'; readonly error: string; readonly retryInMs: number; readonly behind: number }
  | { readonly kind: 'waiting'; readonly holder: string }
  | { readonly kind: 'lost-lease' };

export interface ExportOptions {
  readonly db: Database;
  readonly config: OtlpConfig;
  readonly resource: ResourceInfo;
  /** Keep shipping new events until `abort` fires; otherwise stop once caught up (or on the first failure). */
  readonly follow: boolean;
  readonly abort?: AbortSignal;
  /** Events per request (default 1000). */
  readonly batchSize?: number;
  /** How often a caught-up exporter looks for new events (default 200 ms). */
  readonly pollMs?: number;
  readonly leaseMs?: number;
  readonly maxBackoffMs?: number;
  /** The persona's owner, for sessions that did not record it. */
  readonly ownerOf?: (persona: string) => string | null;
  /** Each change of a signal's state (for one-line messages). */
  readonly onState?: (signal: OtlpSignal, state: ExportState) => void;
  /** Default: the SDK's exporters (otlp-sdk.ts), loaded on first use. */
  readonly createSender?: (cfg: SignalConfig, info: ResourceInfo) => Promise<SignalSender>;
}

export interface SignalSummary {
  readonly signal: OtlpSignal;
  /** Events the cursor moved over. */
  readonly events: number;
  /** Records (log records or spans) acknowledged by the receiver. */
  readonly records: number;
  readonly error: string | null;
}

export const CURSOR_NAMES: Record<OtlpSignal, string> = { logs: 'otlp.logs', traces: 'otlp.traces' };

/** One line for an SDK export error: what the endpoint did. */
export function describeExportError(err: unknown, url: string): string {
  const e = err as { code?: unknown; message?: unknown; data?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : typeof e?.code === 'number' ? e.code : undefined;
  const message = typeof e?.message === 'string' ? e.message : String(err);
  const body = typeof e?.data === 'string' && e.data.trim() !== '' ? `: ${e.data.replace(/\s+/g, ' ').trim().slice(0, 160)}` : '';
  if (code === 'ECONNREFUSED') return `${url}: connection refused (is the collector running?)`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `${url}: host not found`;
  if (code === 'ECONNRESET' || code === 'EPIPE') return `${url}: connection reset by the receiver`;
  if (code === 'ETIMEDOUT' || /timed out/i.test(message)) return `${url}: no answer in time (OTEL_EXPORTER_OTLP_TIMEOUT)`;
  if (typeof code === 'number') return `${url}: the receiver answered ${code}${message && message !== 'undefined' ? ` ${message}` : ''}${body}`;
  return `${url}: ${message.replace(/\s+/g, ' ').slice(0, 200)}`;
}

function sleep(ms: number, abort: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (abort?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      abort?.removeEventListener('abort', done);
      resolve();
    }
    abort?.addEventListener('abort', done, { once: true });
  });
}

const CACHE_LIMIT = 10_000;

/** Session and tool-call facts the mapping needs, from the store, cached. */
export function storeContext(db: Database, ownerOf: (persona: string) => string | null = () => null): MapContext & { noteCall(e: AuditEvent): void } {
  const startStmt = db.prepare("SELECT ts, persona, detail FROM events WHERE session = ? AND kind = 'session.start' ORDER BY seq LIMIT 1");
  const sessionStmt = db.prepare('SELECT started_at, persona FROM sessions WHERE id = ?');
  const callStmt = db.prepare(
    "SELECT ts, decision, reason FROM events WHERE session = ? AND kind = 'tool.call' AND json_extract(detail, '$.tool_use_id') = ? ORDER BY seq DESC LIMIT 1",
  );
  const sessions = new Map<string, SessionFacts>();
  const calls = new Map<string, ToolCallFacts>();
  return {
    session(id) {
      const hit = sessions.get(id);
      if (hit !== undefined) return hit;
      const start = startStmt.get(id) as { ts: string; persona: string; detail: string } | undefined;
      const row = sessionStmt.get(id) as { started_at: string; persona: string } | undefined;
      let owner: string | null = null;
      try {
        const d = start === undefined ? {} : (JSON.parse(start.detail) as { owner?: unknown });
        if (typeof d.owner === 'string') owner = d.owner;
      } catch { /* a detail that is not JSON has no owner */ }
      const persona = start?.persona ?? row?.persona;
      if (owner === null && persona !== undefined) owner = ownerOf(persona);
      const facts = { owner, startedAt: row?.started_at ?? start?.ts ?? null };
      if (sessions.size >= CACHE_LIMIT) sessions.clear();
      sessions.set(id, facts);
      return facts;
    },
    toolCall(session, toolUseId) {
      const key = `${session}\n${toolUseId}`;
      const hit = calls.get(key);
      if (hit !== undefined) return hit;
      const row = callStmt.get(session, toolUseId) as ToolCallFacts | undefined;
      return row;
    },
    noteCall(e) {
      const id = e.detail.tool_use_id;
      if (e.kind !== 'tool.call' || typeof id !== 'string') return;
      if (calls.size >= CACHE_LIMIT) calls.clear();
      calls.set(`${e.session}\n${id}`, { ts: e.ts, decision: e.decision, reason: e.reason });
    },
  };
}

interface Pipe {
  readonly signal: OtlpSignal;
  readonly cfg: SignalConfig;
  /** Only these kinds can map to anything (the others are skipped in SQL); undefined: every event. */
  readonly kinds?: readonly string[];
  readonly map: (batch: readonly SequencedEvent[]) => (LogData | SpanData)[];
}

interface Prepared {
  readonly at: number;
  readonly upTo: number;
  readonly moved: number;
  readonly items: (LogData | SpanData)[];
}

/** The kinds that can complete a span (otlp-map.ts eventToSpans; tool.call also feeds the call cache). */
const SPAN_KINDS = ['session.end', 'tool.call', 'tool.result', 'approval'] as const;

async function runSignal(o: ExportOptions, pipe: Pipe, cursors: ExportCursors): Promise<SignalSummary> {
  const name = CURSOR_NAMES[pipe.signal];
  const holder = holderId();
  // Longer than one send can take (the SDK retries within its timeout), so a lease never runs out mid-send.
  const leaseMs = o.leaseMs ?? Math.max(15_000, pipe.cfg.timeoutMs * 2 + 5000);
  const pollMs = o.pollMs ?? 200;
  const batchSize = Math.max(1, o.batchSize ?? 1000);
  const maxBackoff = o.maxBackoffMs ?? 30_000;
  const aborted = (): boolean => o.abort?.aborted === true;
  let state = '';
  const report = (s: ExportState): void => {
    const key = s.kind === 'failing' ? `failing:${s.error}` : s.kind;
    if (key === state) return;
    state = key;
    o.onState?.(pipe.signal, s);
  };
  let events = 0;
  let records = 0;
  // Wait for the lease: another exporter of this log may be shipping.
  while (!cursors.acquire(name, holder, leaseMs)) {
    const other = cursors.get(name)?.holder ?? 'another process';
    if (!o.follow) return { signal: pipe.signal, events, records, error: `another exporter (${other}) is shipping ${pipe.signal}; try again once it stops` };
    report({ kind: 'waiting', holder: other });
    await sleep(Math.min(leaseMs, 2000), o.abort);
    if (aborted()) return { signal: pipe.signal, events, records, error: null };
  }
  let leaseUntil = Date.now() + leaseMs;
  let sender: SignalSender | undefined;
  let failures = 0;
  let error: string | null = null;
  try {
    sender = await (o.createSender ?? (async (cfg, info) => (await import('./otlp-sdk.js')).createSignalSender(cfg, info)))(pipe.cfg, o.resource);
    // The next batch is read and mapped while the current one is on the wire.
    const prepare = (at: number): Prepared => {
      const win = pipe.kinds === undefined ? undefined : cursors.window(at, batchSize, pipe.kinds);
      const batch = win?.events ?? cursors.after(at, batchSize);
      const upTo = win?.upTo ?? batch[batch.length - 1]?.seq ?? at;
      return { at, upTo, moved: win?.count ?? batch.length, items: upTo > at ? pipe.map(batch) : [] };
    };
    let ahead: Prepared | undefined;
    while (!aborted()) {
      const at = cursors.get(name)?.seq ?? 0;
      const current = ahead?.at === at ? ahead : prepare(at);
      ahead = undefined;
      const { upTo, moved, items } = current;
      if (upTo <= at) {
        report({ kind: 'caught-up' });
        if (!o.follow) break;
        if (leaseUntil - Date.now() < leaseMs / 2) {
          if (!cursors.acquire(name, holder, leaseMs)) { report({ kind: 'lost-lease' }); error = 'another exporter took over'; break; }
          leaseUntil = Date.now() + leaseMs;
        }
        await sleep(pollMs, o.abort);
        continue;
      }
      try {
        if (items.length > 0) {
          const sending = sender.send(items);
          ahead = prepare(upTo);
          await sending;
        }
      } catch (err) {
        ahead = undefined;
        failures++;
        const message = describeExportError(err, pipe.cfg.url);
        cursors.failed(name, holder, message);
        if (!o.follow) { error = message; break; }
        const base = Math.min(maxBackoff, 500 * 2 ** Math.min(failures - 1, 16));
        const retryInMs = Math.round(base * (0.8 + Math.random() * 0.4));
        report({ kind: 'failing', error: message, retryInMs, behind: cursors.lag(name).behind });
        await sleep(retryInMs, o.abort);
        continue;
      }
      if (!cursors.commit(name, holder, upTo, moved, leaseMs)) {
        report({ kind: 'lost-lease' });
        error = 'another exporter took over this cursor';
        break;
      }
      leaseUntil = Date.now() + leaseMs;
      events += moved;
      records += items.length;
      if (failures > 0 || state !== 'shipping') report({ kind: 'shipping', behind: cursors.lag(name).behind });
      failures = 0;
    }
  } finally {
    cursors.release(name, holder);
    await sender?.shutdown().catch(() => undefined);
  }
  return { signal: pipe.signal, events, records, error };
}

/** Ships the log until caught up (or, with `follow`, until `abort`); one summary per signal exported. */
export async function runExport(o: ExportOptions): Promise<SignalSummary[]> {
  const cursors = exportCursors(o.db);
  const ctx = storeContext(o.db, o.ownerOf);
  const pipes: Pipe[] = [];
  if (o.config.logs !== null) {
    pipes.push({ signal: 'logs', cfg: o.config.logs, map: (batch) => batch.map(({ event, detailJson }) => eventToLog(event, ctx.session(event.session), detailJson)) });
  }
  if (o.config.traces !== null) {
    pipes.push({
      signal: 'traces',
      cfg: o.config.traces,
      kinds: SPAN_KINDS,
      map: (batch) => batch.flatMap(({ event }) => {
        ctx.noteCall(event);
        return eventToSpans(event, ctx);
      }),
    });
  }
  return Promise.all(pipes.map((p) => runSignal(o, p, cursors)));
}
