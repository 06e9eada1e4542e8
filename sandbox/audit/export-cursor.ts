// Durable export cursors (table export_cursors, migration 2): for each
// exporter (`otlp.logs`, `otlp.traces`) the seq of the last event the
// receiver acknowledged, and a lease naming the one process exporting it.
// An exporter reads the events after its cursor in seq (commit) order, ships
// them, and moves the cursor only once the receiver answered success, in the
// same statement that checks it still holds the lease: a second exporter
// (serve and a standalone `personae export --follow`) waits instead of
// shipping the same events again; a holder that died (SIGKILL) is taken over
// at once on the same host (a live one never is), one on another host once its
// lease ran out.
import type { Database } from 'better-sqlite3';
import { hostname } from 'node:os';
import type { AuditEvent } from './event.js';
import { EVENT_COLUMNS, rowToEvent } from './query.js';
import type { EventRow } from './query.js';

export interface SequencedEvent {
  readonly seq: number;
  readonly event: AuditEvent;
  /** The detail as stored (JSON), so it need not be serialized again. */
  readonly detailJson: string;
}

export interface EventWindow {
  readonly events: SequencedEvent[];
  /** Where the cursor may move once `events` are shipped: past every event this window skipped. */
  readonly upTo: number;
  /** Events between the cursor and `upTo` (shipped or skipped). */
  readonly count: number;
}

export interface CursorState {
  readonly name: string;
  readonly seq: number;
  readonly exported: number;
  readonly holder: string | null;
  readonly heldUntil: number | null;
  readonly lastOkAt: string | null;
  readonly lastError: string | null;
  readonly lastErrorAt: string | null;
}

export interface CursorLag {
  readonly cursor: CursorState;
  /** Events committed after the cursor: not yet acknowledged by the receiver. */
  readonly behind: number;
  /** The time of the oldest of them, or null when none is pending. */
  readonly oldestPendingTs: string | null;
  /** Whether the holder's process is alive (known on this host only; null elsewhere or when free). */
  readonly holderAlive: boolean | null;
}

interface CursorRow {
  name: string;
  seq: number;
  exported: number;
  holder: string | null;
  held_until: number | null;
  last_ok_at: string | null;
  last_error: string | null;
  last_error_at: string | null;
}

function toState(row: CursorRow): CursorState {
  return {
    name: row.name, seq: row.seq, exported: row.exported, holder: row.holder, heldUntil: row.held_until,
    lastOkAt: row.last_ok_at, lastError: row.last_error, lastErrorAt: row.last_error_at,
  };
}

/** A lease holder's id: host, pid and a random part (so a reused pid is not mistaken for the holder). */
export function holderId(pid = process.pid): string {
  return `${hostname()}/${pid}/${Math.random().toString(36).slice(2, 10)}`;
}

/** Whether `holder` names a live process of this host; null when it is another host's. */
export function holderAlive(holder: string): boolean | null {
  const [host, pidText] = holder.split('/');
  if (host !== hostname()) return null;
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: string }).code === 'EPERM';
  }
}

export interface ExportCursors {
  get(name: string): CursorState | null;
  /** Takes or renews the lease; false while another live holder has it. */
  acquire(name: string, holder: string, ttlMs: number, now?: number): boolean;
  /** Moves the cursor to `seq` (counting `count` more events shipped); false when `holder` lost the lease. */
  commit(name: string, holder: string, seq: number, count: number, ttlMs: number, now?: number): boolean;
  /** Records a failed attempt (the cursor does not move). */
  failed(name: string, holder: string, message: string, now?: number): void;
  release(name: string, holder: string): void;
  /** Up to `limit` events after `seq`, in commit order. */
  after(seq: number, limit: number): SequencedEvent[];
  /**
   * Up to `limit` events of `kinds` after `seq`, in commit order, and how far
   * the cursor may then move: to the last of them when the window is full,
   * else to the head read before the query (an event committed later has a
   * higher seq, so none is skipped).
   */
  window(seq: number, limit: number, kinds: readonly string[]): EventWindow;
  lag(name: string): CursorLag;
  /** The highest seq committed so far (0 for an empty log). */
  head(): number;
}

export function exportCursors(db: Database): ExportCursors {
  const getStmt = db.prepare('SELECT name, seq, exported, holder, held_until, last_ok_at, last_error, last_error_at FROM export_cursors WHERE name = ?');
  const insertStmt = db.prepare('INSERT OR IGNORE INTO export_cursors (name) VALUES (?)');
  const takeStmt = db.prepare('UPDATE export_cursors SET holder = ?, held_until = ? WHERE name = ?');
  const commitStmt = db.prepare(
    'UPDATE export_cursors SET seq = ?, exported = exported + ?, held_until = ?, last_ok_at = ?, last_error = NULL WHERE name = ? AND holder = ?',
  );
  const failStmt = db.prepare('UPDATE export_cursors SET last_error = ?, last_error_at = ? WHERE name = ? AND holder = ?');
  const releaseStmt = db.prepare('UPDATE export_cursors SET holder = NULL, held_until = NULL WHERE name = ? AND holder = ?');
  const afterStmt = db.prepare(`SELECT seq, ${EVENT_COLUMNS} FROM events WHERE seq > ? ORDER BY seq LIMIT ?`);
  const kindStmts = new Map<string, ReturnType<Database['prepare']>>();
  const kindStmt = (kinds: readonly string[]): ReturnType<Database['prepare']> => {
    const key = kinds.join(',');
    let st = kindStmts.get(key);
    if (st === undefined) {
      st = db.prepare(`SELECT seq, ${EVENT_COLUMNS} FROM events WHERE seq > ? AND seq <= ? AND kind IN (${kinds.map(() => '?').join(', ')}) ORDER BY seq LIMIT ?`);
      kindStmts.set(key, st);
    }
    return st;
  };
  const countStmt = db.prepare('SELECT count(*) AS n FROM events WHERE seq > ? AND seq <= ?');
  const toSequenced = (row: EventRow & { seq: number }): SequencedEvent => ({ seq: row.seq, event: rowToEvent(row), detailJson: row.detail });
  const behindStmt = db.prepare('SELECT count(*) AS n, min(seq) AS first FROM events WHERE seq > ?');
  const tsStmt = db.prepare('SELECT ts FROM events WHERE seq = ?');
  const headStmt = db.prepare('SELECT coalesce(max(seq), 0) AS head FROM events');

  const get = (name: string): CursorState | null => {
    const row = getStmt.get(name) as CursorRow | undefined;
    return row === undefined ? null : toState(row);
  };

  const acquireTx = db.transaction((name: string, holder: string, ttlMs: number, now: number): boolean => {
    insertStmt.run(name);
    const row = getStmt.get(name) as CursorRow;
    // A live holder on this host keeps its lease however long a send takes; one on another host
    // (a database on a shared disk) until its lease runs out.
    const alive = row.holder === null ? false : holderAlive(row.holder);
    const free = row.holder === null || row.holder === holder || alive === false || (alive === null && (row.held_until ?? 0) < now);
    if (!free) return false;
    takeStmt.run(holder, now + ttlMs, name);
    return true;
  });

  return {
    get,
    acquire: (name, holder, ttlMs, now = Date.now()) => acquireTx.immediate(name, holder, ttlMs, now),
    commit: (name, holder, seq, count, ttlMs, now = Date.now()) =>
      commitStmt.run(seq, count, now + ttlMs, new Date(now).toISOString(), name, holder).changes > 0,
    failed: (name, holder, message, now = Date.now()) => {
      failStmt.run(message.slice(0, 2000), new Date(now).toISOString(), name, holder);
    },
    release: (name, holder) => {
      releaseStmt.run(name, holder);
    },
    after: (seq, limit) => (afterStmt.all(seq, limit) as Array<EventRow & { seq: number }>).map(toSequenced),
    window: (seq, limit, kinds) => {
      const head = (headStmt.get() as { head: number }).head;
      const events = (kindStmt(kinds).all([seq, head, ...kinds, limit]) as Array<EventRow & { seq: number }>).map(toSequenced);
      const upTo = events.length === limit ? (events[events.length - 1] as SequencedEvent).seq : head;
      return { events, upTo, count: upTo > seq ? (countStmt.get(seq, upTo) as { n: number }).n : 0 };
    },
    lag: (name) => {
      const cursor = get(name) ?? toState({
        name, seq: 0, exported: 0, holder: null, held_until: null, last_ok_at: null, last_error: null, last_error_at: null,
      });
      const { n, first } = behindStmt.get(cursor.seq) as { n: number; first: number | null };
      const oldest = first === null ? undefined : (tsStmt.get(first) as { ts: string } | undefined);
      return {
        cursor,
        behind: n,
        oldestPendingTs: oldest?.ts ?? null,
        holderAlive: cursor.holder === null ? null : holderAlive(cursor.holder),
      };
    },
    head: () => (headStmt.get() as { head: number }).head,
  };
}
