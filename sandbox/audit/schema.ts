// The audit database schema, migrated by version number. The version lives
// in `meta` (key 'schema_version'). Migration N takes the schema from version
// N-1 to N and runs inside one IMMEDIATE transaction, so concurrent openers
// (several `personae run` processes) serialize and apply it once.
//
// Events are ordered by `seq`, the rowid: it grows in commit order across
// every writer, so a reader tailing "after the last event I saw" never misses
// an event that another process committed late with an older `ts`. Every
// index implicitly ends in `seq`, so (session) is (session, seq) and serves
// "a session's events in order" without a sort; a time window is turned into
// a seq range through the (ts) index (see query.ts). Indexes on (session, ts)
// and (persona, ts) were measured: the planner never picks them under seq
// order, and each costs ~12% of write throughput.
import type { Database } from 'better-sqlite3';

const MIGRATIONS: readonly string[] = [
  // 1: events, sessions
  `
  CREATE TABLE events (
    seq           INTEGER PRIMARY KEY,
    id            TEXT NOT NULL UNIQUE,
    ts            TEXT NOT NULL,
    session       TEXT NOT NULL,
    persona       TEXT NOT NULL,
    agent_kind    TEXT NOT NULL,
    agent_version TEXT,
    on_behalf_of  TEXT NOT NULL,
    kind          TEXT NOT NULL,
    tool          TEXT,
    target        TEXT,
    decision      TEXT,
    reason        TEXT,
    detail        TEXT NOT NULL DEFAULT '{}'
  );
  CREATE INDEX events_session ON events (session);
  CREATE INDEX events_persona ON events (persona);
  CREATE INDEX events_kind ON events (kind);
  CREATE INDEX events_ts ON events (ts);

  CREATE TABLE sessions (
    id             TEXT PRIMARY KEY,
    persona        TEXT NOT NULL,
    agent_kind     TEXT NOT NULL,
    agent_version  TEXT,
    on_behalf_of   TEXT NOT NULL,
    workspace      TEXT,
    command        TEXT NOT NULL DEFAULT '[]',
    supervisor_pid INTEGER,
    sandbox_pid    INTEGER,
    started_at     TEXT NOT NULL,
    ended_at       TEXT,
    exit_code      INTEGER,
    end_reason     TEXT
  );
  CREATE INDEX sessions_started ON sessions (started_at);
  CREATE INDEX sessions_persona ON sessions (persona, started_at);
  CREATE INDEX sessions_running ON sessions (started_at) WHERE ended_at IS NULL;
  `,
  // 2: export cursors: how far each exporter (otlp.logs, otlp.traces) has shipped, by seq, and who holds it
  `
  CREATE TABLE export_cursors (
    name          TEXT PRIMARY KEY,
    seq           INTEGER NOT NULL DEFAULT 0,
    exported      INTEGER NOT NULL DEFAULT 0,
    holder        TEXT,
    held_until    INTEGER,
    last_ok_at    TEXT,
    last_error    TEXT,
    last_error_at TEXT
  );
  `,
  // 3: worktree sessions: the worktree (JSON, see sandbox/worktree/record.ts), where it stands, files changed
  `
  ALTER TABLE sessions ADD COLUMN worktree TEXT;
  ALTER TABLE sessions ADD COLUMN worktree_state TEXT;
  ALTER TABLE sessions ADD COLUMN files_changed INTEGER;
  CREATE INDEX sessions_worktree_pending ON sessions (started_at) WHERE worktree_state = 'pending';
  `,
];

/** The schema version this code writes and understands. */
export const SCHEMA_VERSION = MIGRATIONS.length;

const META_SQL = 'CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)';

function hasMeta(db: Database): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get() !== undefined;
}

/** The stored schema version; 0 for a fresh database. */
export function readSchemaVersion(db: Database): number {
  if (!hasMeta(db)) return 0;
  const row = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string } | undefined;
  return row === undefined ? 0 : Number(row.value);
}

function tooNew(found: number): Error {
  return new Error(
    `audit database schema version ${found} is newer than this personae understands (${SCHEMA_VERSION}); upgrade personae`,
  );
}

/** Brings a writable database up to SCHEMA_VERSION; returns the version found before. */
export function migrate(db: Database): number {
  const run = db.transaction((): number => {
    db.exec(META_SQL);
    const found = readSchemaVersion(db);
    if (!Number.isInteger(found) || found < 0) throw new Error(`audit database has a bad schema version: ${found}`);
    if (found > SCHEMA_VERSION) throw tooNew(found);
    for (let v = found; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v] as string);
    db.prepare("INSERT INTO meta (key, value) VALUES ('schema_version', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
      .run(String(SCHEMA_VERSION));
    return found;
  });
  return run.immediate();
}

/** For a read-only connection: throws unless the schema is present and not newer than this code. */
export function checkSchema(db: Database): void {
  const found = readSchemaVersion(db);
  if (found === 0) throw new Error('audit database has no schema yet (nothing was ever written to it)');
  if (found > SCHEMA_VERSION) throw tooNew(found);
}
