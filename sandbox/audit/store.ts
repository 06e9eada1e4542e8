// The audit store: events and sessions in one SQLite file (WAL), shared by
// several processes: each `personae run` writes its own session's events,
// `personae audit` and the backend read.
//
// Writes are batched: `append` only assigns id and ts, serializes detail and
// queues; the queue is written in one IMMEDIATE transaction every
// `flushIntervalMs` (an unref'd timer) or as soon as it holds `maxBatch`
// events. What a flush committed survives a SIGKILL (WAL, synchronous=NORMAL).
// A failed flush (disk full, I/O error, a lock held too long) never throws
// into producers: it reports through `onError`, keeps the events for a retry
// with backoff, and past `maxQueue` drops new ones, counting them; once writes
// work again each affected session gets an `error` event saying how many of
// its events were lost.
import Database from 'better-sqlite3';
import type { Database as Db, Statement } from 'better-sqlite3';
import { closeSync, chmodSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import type { AuditEvent, EventInput, SessionLabels } from './event.js';
import { encodeEvent } from './encode.js';
import type { PendingEvent } from './encode.js';
import { buildEventQuery, EVENT_COLUMNS, rowToEvent } from './query.js';
import type { AuditFilter, EventRow } from './query.js';
import { checkSchema, migrate } from './schema.js';
import { createSessionTable } from './sessions.js';
import type { SessionEnd, SessionListOptions, SessionRecord, SessionUpsert, WorktreeUpdate } from './sessions.js';
import { sessionCounts, type SessionCounts } from './session-counts.js';

export type { AuditFilter } from './query.js';
export type { SessionEnd, SessionListOptions, SessionRecord, SessionUpsert, WorktreeUpdate } from './sessions.js';
export type { SessionCounts } from './session-counts.js';

export interface AuditStoreOptions {
  /** Open an existing database for queries only; appends and session writes then throw. */
  readonly readonly?: boolean;
  /** Delay between an append and the flush that writes it (default 25 ms). */
  readonly flushIntervalMs?: number;
  /** Queue length that triggers an immediate flush (default 2000). */
  readonly maxBatch?: number;
  /** Queue length past which new events are dropped while writes fail (default 100000). */
  readonly maxQueue?: number;
  /** How long a write waits for another process's lock (default 5000 ms). */
  readonly busyTimeoutMs?: number;
  /** Larger detail JSON is replaced by a truncated preview (default 256 KiB). */
  readonly maxDetailChars?: number;
  /** Called once per failed flush and once per batch of drops; never throws into producers. */
  readonly onError?: (err: Error) => void;
  /** Called with the raw connection after setup (tuning, tests). */
  readonly configure?: (db: Db) => void;
}

export interface AuditStoreStats {
  readonly appended: number;
  /** Events committed by this store: an event counted here survives a crash. */
  readonly flushed: number;
  readonly pending: number;
  readonly dropped: number;
  readonly failedFlushes: number;
  readonly lastError: string | null;
}

export interface AuditStore {
  readonly path: string;
  readonly readonly: boolean;
  /** Events committed by this store so far (the crash-safe acknowledgement). */
  readonly flushedCount: number;
  append(labels: SessionLabels, input: EventInput): AuditEvent;
  /** Writes the queue now, in one transaction; returns how many events were written (0 on failure). */
  flush(): number;
  query(filter?: AuditFilter): AuditEvent[];
  getEvent(id: string): AuditEvent | null;
  upsertSession(input: SessionUpsert): SessionRecord;
  /** Flushes queued events, then marks the session ended; false when the session is unknown. */
  endSession(id: string, end?: SessionEnd): boolean;
  getSession(id: string): SessionRecord | null;
  listSessions(opts?: SessionListOptions): SessionRecord[];
  /** Records a worktree session's state or file count; false when it is not one. */
  updateWorktree(id: string, update: WorktreeUpdate): boolean;
  /** Denials and files written, per session. */
  sessionCounts(ids: readonly string[]): Map<string, SessionCounts>;
  /** Each event as it is appended (not yet durable). */
  onAppend(listener: (event: AuditEvent) => void): () => void;
  /** Each batch once committed. */
  onFlush(listener: (events: readonly AuditEvent[]) => void): () => void;
  stats(): AuditStoreStats;
  /** Flushes and closes; idempotent. */
  close(): void;
}

const MAX_BACKOFF_MS = 1000;
const STATEMENT_CACHE_SIZE = 200;

const openStores = new Set<AuditStore>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Unref'd timers do not keep a process alive: flush what is queued on a normal exit.
  process.on('exit', () => { for (const store of openStores) store.flush(); });
}

function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

function errorCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}

function prepareFile(dbPath: string): void {
  mkdirSync(dirname(dbPath), { recursive: true, mode: 0o700 });
  if (!existsSync(dbPath)) {
    try {
      closeSync(openSync(dbPath, 'wx', 0o600));
    } catch (err) {
      if (errorCode(err) !== 'EEXIST') throw err;
    }
  }
  try {
    const st = statSync(dbPath);
    if ((st.mode & 0o077) !== 0 && typeof process.getuid === 'function' && st.uid === process.getuid()) {
      chmodSync(dbPath, 0o600);
    }
  } catch {
    // Best effort: a file we do not own keeps its mode.
  }
}

let addonPath: string | null | undefined;

/**
 * better-sqlite3's compiled addon, found directly. Its own finder (the
 * `bindings` package) probes a dozen paths and reads stack traces: about
 * 5 ms of every cold `personae run`. Undefined: let it search.
 */
function nativeBinding(): string | undefined {
  if (addonPath === undefined) {
    addonPath = null;
    try {
      const pkg = createRequire(import.meta.url).resolve('better-sqlite3/package.json');
      const file = join(dirname(pkg), 'build', 'Release', 'better_sqlite3.node');
      if (existsSync(file)) addonPath = file;
    } catch {
      // not where we expected it: the default finder will look
    }
  }
  return addonPath ?? undefined;
}

function openConnection(dbPath: string, readonly: boolean, busyTimeoutMs: number): Db {
  const nativeOpt = nativeBinding() === undefined ? {} : { nativeBinding: nativeBinding() };
  if (readonly) {
    if (dbPath !== ':memory:' && !existsSync(dbPath)) throw new Error(`audit database not found: ${dbPath}`);
    const db = new Database(dbPath, { readonly: true, fileMustExist: true, ...nativeOpt });
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    checkSchema(db);
    return db;
  }
  if (dbPath !== ':memory:') prepareFile(dbPath);
  const db = new Database(dbPath, nativeOpt);
  try {
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    // Fewer, larger checkpoints and a cache holding the indexes' hot pages: ~10% more events/s.
    db.pragma('wal_autocheckpoint = 5000');
    db.pragma('cache_size = -16000');
    db.pragma('journal_size_limit = 67108864');
    migrate(db);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

/** Opens (creating and migrating when writable) the audit database at `dbPath`. */
export function openAuditStore(dbPath: string, opts: AuditStoreOptions = {}): AuditStore {
  const path = dbPath === ':memory:' ? dbPath : resolve(dbPath);
  const readonly = opts.readonly === true;
  const flushIntervalMs = Math.max(0, opts.flushIntervalMs ?? 25);
  const maxBatch = Math.max(1, opts.maxBatch ?? 2000);
  const maxQueue = Math.max(maxBatch, opts.maxQueue ?? 100_000);
  const maxDetailChars = Math.max(1024, opts.maxDetailChars ?? 256 * 1024);
  const db = openConnection(path, readonly, Math.max(0, opts.busyTimeoutMs ?? 5000));
  try {
    opts.configure?.(db);
  } catch (err) {
    db.close();
    throw err;
  }

  const sessions = createSessionTable(db);
  const statements = new Map<string, Statement>();
  const prepared = (sql: string): Statement => {
    let s = statements.get(sql);
    if (s === undefined) {
      if (statements.size >= STATEMENT_CACHE_SIZE) statements.clear();
      s = db.prepare(sql);
      statements.set(sql, s);
    }
    return s;
  };
  const insertSql = `INSERT INTO events (${EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
  const insertBatch = readonly ? undefined : db.transaction((batch: readonly PendingEvent[]) => {
    const insert = prepared(insertSql);
    for (const p of batch) insert.run(p.row);
  });
  // Isolates rows a constraint rejects (an id collision): the rest still land.
  const insertEach = readonly ? undefined : db.transaction((batch: readonly PendingEvent[]): PendingEvent[] => {
    const insert = prepared(insertSql);
    const rejected: PendingEvent[] = [];
    for (const p of batch) {
      try { insert.run(p.row); } catch (err) {
        if (!errorCode(err).startsWith('SQLITE_CONSTRAINT')) throw err;
        rejected.push(p);
      }
    }
    return rejected;
  });

  let queue: PendingEvent[] = [];
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  let failures = 0;
  let appended = 0;
  let flushed = 0;
  let dropped = 0;
  let failedFlushes = 0;
  let lastError: string | null = null;
  let lastWriteError: string | null = null;
  const droppedBySession = new Map<string, { labels: SessionLabels; count: number }>();
  let dropReported = false;
  const appendListeners = new Set<(event: AuditEvent) => void>();
  const flushListeners = new Set<(events: readonly AuditEvent[]) => void>();

  const report = (err: unknown): void => {
    const e = toError(err);
    lastError = e.message;
    try { opts.onError?.(e); } catch { /* a failing error sink must not break the store */ }
  };

  const schedule = (): void => {
    if (timer !== undefined || closed) return;
    const delay = failures === 0 ? flushIntervalMs : Math.min(MAX_BACKOFF_MS, Math.max(1, flushIntervalMs) * 2 ** failures);
    timer = setTimeout(() => { timer = undefined; store.flush(); }, delay);
    timer.unref();
  };

  const drop = (labels: SessionLabels, why: string): void => {
    dropped++;
    const entry = droppedBySession.get(labels.session);
    if (entry) entry.count++;
    else droppedBySession.set(labels.session, { labels, count: 1 });
    if (!dropReported) {
      dropReported = true;
      report(new Error(`audit store dropping events: ${why}`));
    }
  };

  const build = (labels: SessionLabels, input: EventInput, now: number): PendingEvent =>
    encodeEvent(labels, input, now, maxDetailChars);

  const queueDropNotices = (): void => {
    if (droppedBySession.size === 0) return;
    for (const { labels, count } of droppedBySession.values()) {
      queue.push(build(labels, {
        kind: 'error',
        reason: `audit store lost ${count} event(s) of this session (${lastWriteError ?? 'write failure'})`,
        detail: { dropped: count, last_error: lastWriteError },
      }, Date.now()));
    }
    droppedBySession.clear();
    dropReported = false;
  };

  /** Returns how many rows were written; throws (having written nothing) on a write failure. */
  const writeBatch = (batch: PendingEvent[]): number => {
    try {
      insertBatch?.immediate(batch);
      return batch.length;
    } catch (err) {
      if (!errorCode(err).startsWith('SQLITE_CONSTRAINT')) throw err;
      const rejected = insertEach?.immediate(batch) ?? [];
      for (const p of rejected) drop(p.event, `rejected by a constraint: ${toError(err).message}`);
      return batch.length - rejected.length;
    }
  };

  const store: AuditStore = {
    path,
    readonly,
    get flushedCount() { return flushed; },

    append(labels, input) {
      if (readonly) throw new Error('audit store is read-only');
      const pending = build(labels, input, Date.now());
      appended++;
      if (closed) {
        drop(labels, 'append after close');
        return pending.event;
      }
      if (queue.length >= maxQueue) {
        drop(labels, `queue full (${maxQueue}) after write failures: ${lastWriteError ?? 'unknown error'}`);
        return pending.event;
      }
      queue.push(pending);
      for (const listener of appendListeners) {
        try { listener(pending.event); } catch (err) { report(err); }
      }
      if (queue.length >= maxBatch && failures === 0) store.flush();
      else schedule();
      return pending.event;
    },

    flush() {
      if (timer !== undefined) { clearTimeout(timer); timer = undefined; }
      if (readonly || queue.length === 0) return 0;
      const batch = queue;
      queue = [];
      let written: number;
      try {
        written = writeBatch(batch);
      } catch (err) {
        failures++;
        failedFlushes++;
        queue = batch.concat(queue);
        lastWriteError = toError(err).message;
        report(err);
        schedule();
        return 0;
      }
      failures = 0;
      flushed += written;
      queueDropNotices();
      if (flushListeners.size > 0) {
        const events = batch.map((p) => p.event);
        for (const listener of flushListeners) {
          try { listener(events); } catch (err) { report(err); }
        }
      }
      if (queue.length > 0) schedule();
      return written;
    },

    query(filter = {}) {
      if (!readonly && !closed && queue.length > 0 && failures === 0) store.flush();
      const seqOf = (id: string | undefined): number | undefined => {
        if (id === undefined) return undefined;
        const row = prepared('SELECT seq FROM events WHERE id = ?').get(String(id)) as { seq: number } | undefined;
        if (row === undefined) throw new Error(`query: unknown event id ${JSON.stringify(String(id).slice(0, 40))}`);
        return row.seq;
      };
      const built = buildEventQuery(filter, { afterSeq: seqOf(filter.afterId), beforeSeq: seqOf(filter.beforeId) });
      const events = (prepared(built.sql).all(built.params) as EventRow[]).map(rowToEvent);
      return built.reverse ? events.reverse() : events;
    },

    getEvent(id) {
      const row = prepared(`SELECT ${EVENT_COLUMNS} FROM events WHERE id = ?`).get(String(id)) as EventRow | undefined;
      return row === undefined ? null : rowToEvent(row);
    },

    upsertSession(input) {
      if (readonly) throw new Error('audit store is read-only');
      return sessions.upsert(input);
    },
    endSession(id, end) {
      if (readonly) throw new Error('audit store is read-only');
      store.flush();
      return sessions.end(id, end);
    },
    getSession: (id) => sessions.get(id),
    listSessions: (listOpts) => sessions.list(listOpts),
    updateWorktree(id, update) {
      if (readonly) throw new Error('audit store is read-only');
      return sessions.updateWorktree(id, update);
    },
    sessionCounts(ids) {
      if (!readonly && !closed && queue.length > 0 && failures === 0) store.flush();
      return sessionCounts(prepared, ids);
    },

    onAppend(listener) {
      appendListeners.add(listener);
      return () => { appendListeners.delete(listener); };
    },
    onFlush(listener) {
      flushListeners.add(listener);
      return () => { flushListeners.delete(listener); };
    },

    stats: () => ({ appended, flushed, pending: queue.length, dropped, failedFlushes, lastError }),

    close() {
      if (closed) return;
      if (!readonly) {
        store.flush();
        if (queue.length > 0) {
          dropped += queue.length;
          report(new Error(`audit store closed with ${queue.length} unwritten event(s): ${lastWriteError ?? 'write failure'}`));
          queue = [];
        }
      }
      closed = true;
      if (timer !== undefined) { clearTimeout(timer); timer = undefined; }
      openStores.delete(store);
      appendListeners.clear();
      flushListeners.clear();
      try {
        if (!readonly) db.pragma('optimize');
      } catch { /* advisory only */ }
      db.close();
    },
  };

  if (!readonly) {
    openStores.add(store);
    installExitHook();
  }
  return store;
}
