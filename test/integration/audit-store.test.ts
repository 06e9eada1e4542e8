import Database from 'better-sqlite3';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditEventSchema } from '../../sandbox/audit/event.js';
import type { AuditEvent, SessionLabels } from '../../sandbox/audit/event.js';
import { SCHEMA_VERSION } from '../../sandbox/audit/schema.js';
import { openAuditStore } from '../../sandbox/audit/store.js';
import type { AuditStore } from '../../sandbox/audit/store.js';

const alice: SessionLabels = { session: 'sess-a', persona: 'homelab', agent: { kind: 'claude', version: '2.1.0' }, on_behalf_of: 'alice' };
const bob: SessionLabels = { session: 'sess-b', persona: 'reviewer', agent: { kind: 'codex', version: null }, on_behalf_of: 'bob' };

let dir: string;
let dbPath: string;
const open: AuditStore[] = [];
const raw: Database.Database[] = [];

function store(opts: Parameters<typeof openAuditStore>[1] = {}): AuditStore {
  const s = openAuditStore(dbPath, opts);
  open.push(s);
  return s;
}

function reader(): Database.Database {
  const db = new Database(dbPath, { readonly: true });
  raw.push(db);
  return db;
}

function count(db: Database.Database): number {
  return (db.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n;
}

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for a condition');
    await new Promise((r) => setTimeout(r, 5));
  }
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'personae-audit-'));
  dbPath = join(dir, 'state', 'audit.db');
});

afterEach(() => {
  for (const s of open.splice(0)) s.close();
  for (const db of raw.splice(0)) db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('opening', () => {
  it('creates a private directory and files, in WAL mode, at the current schema version', () => {
    const w = store();
    w.append(alice, { kind: 'exec' });
    w.flush();
    expect(statSync(join(dir, 'state')).mode & 0o777).toBe(0o700);
    for (const suffix of ['', '-wal', '-shm']) expect(statSync(dbPath + suffix).mode & 0o777).toBe(0o600);
    const db = reader();
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get()).toEqual({ value: String(SCHEMA_VERSION) });
  });

  it('reopens an existing database and refuses a newer schema', () => {
    store().close();
    store().close();
    const db = new Database(dbPath);
    db.prepare("UPDATE meta SET value = '99' WHERE key = 'schema_version'").run();
    db.close();
    expect(() => openAuditStore(dbPath)).toThrow(/schema version 99 is newer/);
    expect(() => openAuditStore(dbPath, { readonly: true })).toThrow(/schema version 99 is newer/);
  });

  it('read-only: needs an existing database and refuses writes', () => {
    expect(() => openAuditStore(dbPath, { readonly: true })).toThrow(/audit database not found/);
    const w = store();
    w.append(alice, { kind: 'exec', target: 'ls' });
    w.flush();
    const r = store({ readonly: true });
    expect(r.query()).toHaveLength(1);
    expect(() => r.append(alice, { kind: 'exec' })).toThrow(/read-only/);
    expect(() => r.upsertSession({ id: 'x', persona: 'p', agent: { kind: 'k', version: null }, on_behalf_of: 'o' })).toThrow(/read-only/);
  });
});

describe('batched writes', () => {
  it('writes N appends in one transaction, visible to another connection only after the flush', () => {
    const w = store({ flushIntervalMs: 60_000, maxBatch: 10_000 });
    const batches: number[] = [];
    w.onFlush((events) => batches.push(events.length));
    for (let i = 0; i < 500; i++) w.append(alice, { kind: 'exec', target: `cmd ${i}` });
    const db = reader();
    expect(count(db)).toBe(0);
    expect(w.stats()).toMatchObject({ appended: 500, pending: 500, flushed: 0 });
    expect(w.flush()).toBe(500);
    expect(batches).toEqual([500]);
    expect(count(db)).toBe(500);
    expect(w.flushedCount).toBe(500);
    expect(w.flush()).toBe(0);
  });

  it('flushes on the timer', async () => {
    const w = store({ flushIntervalMs: 20 });
    const batches: number[] = [];
    w.onFlush((events) => batches.push(events.length));
    for (let i = 0; i < 10; i++) w.append(alice, { kind: 'exec' });
    const db = reader();
    await until(() => count(db) === 10);
    expect(batches).toEqual([10]);
  });

  it('flushes as soon as the queue holds maxBatch events', () => {
    const w = store({ flushIntervalMs: 60_000, maxBatch: 100 });
    const batches: number[] = [];
    w.onFlush((events) => batches.push(events.length));
    for (let i = 0; i < 250; i++) w.append(alice, { kind: 'exec' });
    expect(batches).toEqual([100, 100]);
    expect(w.stats().pending).toBe(50);
  });

  it('returns the event it stores, in the exact contract shape', () => {
    const w = store();
    const given = w.append(alice, { kind: 'decision', tool: 'Bash', target: 'git push', decision: 'deny', reason: 'Bash(git push:*)', detail: { argv: ['git', 'push'], nested: { n: 1 } } });
    const dated = w.append(bob, { kind: 'net.connect', ts: '2024-05-01T12:00:00+02:00' });
    expect(AuditEventSchema.parse(given)).toEqual(given);
    expect(given.ts).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(dated.ts).toBe('2024-05-01T10:00:00.000Z');
    const stored = w.query();
    expect(stored).toEqual([given, dated]);
    for (const e of stored) expect(AuditEventSchema.parse(e)).toEqual(e);
    expect(w.getEvent(given.id)).toEqual(given);
    expect(w.getEvent('nope')).toBeNull();
  });

  it('tells append listeners at once and stops after unsubscribe', () => {
    const w = store({ flushIntervalMs: 60_000 });
    const seen: string[] = [];
    const off = w.onAppend((e) => seen.push(e.id));
    const a = w.append(alice, { kind: 'exec' });
    off();
    w.append(alice, { kind: 'exec' });
    expect(seen).toEqual([a.id]);
  });

  it('close flushes; appends after close are counted, never thrown', () => {
    const errors: Error[] = [];
    const w = openAuditStore(dbPath, { flushIntervalMs: 60_000, onError: (e) => errors.push(e) });
    w.append(alice, { kind: 'exec' });
    w.close();
    w.close();
    expect(() => w.append(alice, { kind: 'exec' })).not.toThrow();
    expect(w.stats().dropped).toBe(1);
    expect(errors).toHaveLength(1);
    expect(count(reader())).toBe(1);
  });
});

describe('queries', () => {
  let w: AuditStore;
  let all: AuditEvent[];

  beforeEach(() => {
    w = store({ flushIntervalMs: 60_000 });
    all = [
      w.append(alice, { kind: 'session.start', ts: '2024-05-01T10:00:00.000Z', target: 'claude' }),
      w.append(alice, { kind: 'tool.call', ts: '2024-05-01T10:01:00.000Z', tool: 'Bash', target: 'git push origin', decision: 'deny', reason: 'Bash(git push:*)' }),
      w.append(bob, { kind: 'net.connect', ts: '2024-05-01T10:02:00.000Z', target: 'GitHub.com:443', decision: 'allow', reason: 'network.allow[0]' }),
      w.append(alice, { kind: 'fs.write', ts: '2024-05-01T10:03:00.000Z', target: 'src/100%_done.ts' }),
      w.append(bob, { kind: 'net.connect', ts: '2024-05-01T10:04:00.000Z', target: 'evil.example:443', decision: 'deny', reason: 'default deny' }),
      w.append(alice, { kind: 'session.end', ts: '2024-05-01T10:05:00.000Z', reason: 'exited' }),
    ];
    w.flush();
  });

  const ids = (events: AuditEvent[]): string[] => events.map((e) => e.id);
  const at = (...idx: number[]): string[] => idx.map((i) => all[i]!.id);

  it('filters by session, persona, kind, decision', () => {
    expect(ids(w.query({ session: 'sess-b' }))).toEqual(at(2, 4));
    expect(ids(w.query({ persona: 'homelab' }))).toEqual(at(0, 1, 3, 5));
    expect(ids(w.query({ kind: 'net.connect' }))).toEqual(at(2, 4));
    expect(ids(w.query({ kind: ['fs.write', 'session.*'] }))).toEqual(at(0, 3, 5));
    expect(ids(w.query({ kind: 'session.*', session: 'sess-a', order: 'desc' }))).toEqual(at(5, 0));
    expect(ids(w.query({ decision: 'deny' }))).toEqual(at(1, 4));
    expect(ids(w.query({ decision: ['allow', 'deny'], persona: 'reviewer' }))).toEqual(at(2, 4));
  });

  it('filters by time (since inclusive, until exclusive; Dates or strings)', () => {
    expect(ids(w.query({ since: '2024-05-01T10:02:00Z' }))).toEqual(at(2, 3, 4, 5));
    expect(ids(w.query({ until: new Date('2024-05-01T10:02:00Z') }))).toEqual(at(0, 1));
    expect(ids(w.query({ since: '2024-05-01T10:01:00Z', until: '2024-05-01T10:03:00Z', session: 'sess-a' }))).toEqual(at(1));
    expect(w.query({ since: '1h' })).toEqual([]);
  });

  it('matches text in tool, target or reason, case-insensitively and literally', () => {
    expect(ids(w.query({ text: 'github' }))).toEqual(at(2));
    expect(ids(w.query({ text: 'bash' }))).toEqual(at(1));
    expect(ids(w.query({ text: 'deny' }))).toEqual(at(4));
    expect(ids(w.query({ text: '100%_' }))).toEqual(at(3));
    expect(w.query({ text: '%' }).length).toBe(1);
  });

  it('pages forward with afterId and backward with beforeId', () => {
    const forward: string[] = [];
    let page = w.query({ limit: 2 });
    for (let guard = 0; page.length > 0 && guard < 10; guard++) {
      forward.push(...ids(page));
      page = w.query({ limit: 2, afterId: page.at(-1)!.id });
    }
    expect(forward).toEqual(ids(all));

    const backward: string[] = [];
    page = w.query({ limit: 2, order: 'desc' });
    for (let guard = 0; page.length > 0 && guard < 10; guard++) {
      backward.push(...ids(page));
      page = w.query({ limit: 2, order: 'desc', beforeId: page.at(-1)!.id });
    }
    expect(backward).toEqual(ids(all).reverse());

    // The page adjacent to the cursor, in the requested order.
    expect(ids(w.query({ beforeId: all[4]!.id, limit: 2 }))).toEqual(at(2, 3));
    expect(ids(w.query({ afterId: all[1]!.id, limit: 2, order: 'desc' }))).toEqual(at(3, 2));
    expect(ids(w.query({ afterId: all[0]!.id, beforeId: all[3]!.id }))).toEqual(at(1, 2));
    expect(() => w.query({ afterId: 'missing' })).toThrow(/unknown event id/);
  });

  it('orders by recording order, not by the ts a producer supplied', () => {
    const late = w.append(bob, { kind: 'exec', ts: '2000-01-01T00:00:00.000Z' });
    expect(w.query({ afterId: all[5]!.id })).toEqual([late]);
  });

  it('caps the limit and reads its own pending writes', () => {
    for (let i = 0; i < 10_050; i++) w.append(bob, { kind: 'exec' });
    expect(w.query({ limit: 20_000 })).toHaveLength(10_000);
    expect(w.query()).toHaveLength(1000);
  });
});

describe('sessions', () => {
  it('upserts, ends, gets and lists sessions', () => {
    const w = store();
    const start = w.upsertSession({
      id: 'sess-a', persona: 'homelab', agent: { kind: 'claude', version: '2.1.0' }, on_behalf_of: 'alice',
      workspace: '/work/repo', command: ['claude', '--print', 'hi'], supervisor_pid: 100, started_at: '2024-05-01T10:00:00.000Z',
    });
    expect(start).toMatchObject({ sandbox_pid: null, ended_at: null, exit_code: null });
    w.upsertSession({ id: 'sess-a', persona: 'homelab', agent: { kind: 'claude', version: '2.1.0' }, on_behalf_of: 'alice', sandbox_pid: 4242 });
    w.upsertSession({ id: 'sess-b', persona: 'reviewer', agent: { kind: 'codex', version: null }, on_behalf_of: 'bob', started_at: '2024-05-01T11:00:00.000Z' });

    expect(w.getSession('sess-a')).toEqual({
      id: 'sess-a', persona: 'homelab', agent: { kind: 'claude', version: '2.1.0' }, on_behalf_of: 'alice',
      workspace: '/work/repo', command: ['claude', '--print', 'hi'], supervisor_pid: 100, sandbox_pid: 4242,
      started_at: '2024-05-01T10:00:00.000Z', ended_at: null, exit_code: null, end_reason: null,
      worktree: null, worktree_state: null, files_changed: null,
    });
    expect(w.listSessions({ running: true }).map((s) => s.id)).toEqual(['sess-b', 'sess-a']);

    w.append(alice, { kind: 'session.end' });
    expect(w.endSession('sess-a', { exit_code: 3, end_reason: 'stopped', ended_at: '2024-05-01T12:00:00.000Z' })).toBe(true);
    expect(w.stats().pending).toBe(0); // endSession flushed the session.end event first
    expect(w.endSession('nope')).toBe(false);
    expect(w.getSession('sess-a')).toMatchObject({ ended_at: '2024-05-01T12:00:00.000Z', exit_code: 3, end_reason: 'stopped' });
    expect(w.listSessions({ running: true }).map((s) => s.id)).toEqual(['sess-b']);
    expect(w.listSessions({ running: false }).map((s) => s.id)).toEqual(['sess-a']);
    expect(w.listSessions({ persona: 'homelab' }).map((s) => s.id)).toEqual(['sess-a']);
    expect(w.listSessions().map((s) => s.id)).toEqual(['sess-b', 'sess-a']);
    expect(w.getSession('nope')).toBeNull();

    const r = store({ readonly: true });
    expect(r.getSession('sess-a')?.exit_code).toBe(3);
  });
  it('records a worktree session: its worktree, state and file count, and lists those pending; counts denials and files', () => {
    const w = store();
    const worktree = {
      repo: '/r', common_dir: '/r/.git', admin_dir: '/r/.git/worktrees/abc', path: '/h/worktrees/r-1/abc', private_dir: '/h/worktrees/r-1/abc.personae',
      branch: 'personae/homelab/abc', base: 'a'.repeat(40), base_ref: 'HEAD', subdir: '', identity: { name: 'H', email: 'homelab@personae.invalid' },
      grants: { write: [''], allow_sensitive: [] },
    };
    w.upsertSession({ id: 'sess-a', persona: 'homelab', agent: alice.agent, on_behalf_of: 'alice', worktree, worktree_state: 'pending' });
    w.upsertSession({ id: 'sess-a', persona: 'homelab', agent: alice.agent, on_behalf_of: 'alice', sandbox_pid: 7 });
    w.upsertSession({ id: 'sess-b', persona: 'reviewer', agent: bob.agent, on_behalf_of: 'bob' });
    expect(w.getSession('sess-a')).toMatchObject({ worktree, worktree_state: 'pending', files_changed: null, sandbox_pid: 7 });
    expect(w.listSessions({ worktreeState: 'pending' }).map((s) => s.id)).toEqual(['sess-a']);
    expect(w.updateWorktree('sess-a', { files_changed: 3 })).toBe(true);
    expect(w.updateWorktree('sess-b', { state: 'applied' })).toBe(false);
    expect(w.updateWorktree('sess-a', { state: 'applied' })).toBe(true);
    expect(w.getSession('sess-a')).toMatchObject({ worktree_state: 'applied', files_changed: 3 });
    expect(w.listSessions({ worktreeState: 'pending' })).toEqual([]);

    w.append(alice, { kind: 'fs.write', target: '/w/a' });
    w.append(alice, { kind: 'fs.write', target: '/w/a' });
    w.append(alice, { kind: 'fs.delete', target: '/w/b' });
    w.append(alice, { kind: 'fs.write', target: '/w/.envrc', decision: 'deny' });
    w.append(alice, { kind: 'net.connect', target: 'x:443', decision: 'deny' });
    w.append(alice, { kind: 'stop', target: 'sess-a', decision: 'deny' });
    expect(Object.fromEntries(w.sessionCounts(['sess-a', 'sess-b']))).toEqual({ 'sess-a': { denials: 2, files: 2 }, 'sess-b': { denials: 0, files: 0 } });
  });

  it('migrates a version 1 database: its sessions read on, with no worktree', () => {
    mkdirSync(join(dir, 'state'));
    const db = new Database(dbPath);
    db.exec(`CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL); INSERT INTO meta VALUES ('schema_version', '1');
      CREATE TABLE events (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, ts TEXT NOT NULL, session TEXT NOT NULL, persona TEXT NOT NULL,
        agent_kind TEXT NOT NULL, agent_version TEXT, on_behalf_of TEXT NOT NULL, kind TEXT NOT NULL, tool TEXT, target TEXT, decision TEXT,
        reason TEXT, detail TEXT NOT NULL DEFAULT '{}');
      CREATE TABLE sessions (id TEXT PRIMARY KEY, persona TEXT NOT NULL, agent_kind TEXT NOT NULL, agent_version TEXT, on_behalf_of TEXT NOT NULL,
        workspace TEXT, command TEXT NOT NULL DEFAULT '[]', supervisor_pid INTEGER, sandbox_pid INTEGER, started_at TEXT NOT NULL, ended_at TEXT,
        exit_code INTEGER, end_reason TEXT);
      INSERT INTO sessions (id, persona, agent_kind, on_behalf_of, started_at) VALUES ('old', 'p', 'shell', 'me', '2024-01-01T00:00:00.000Z');`);
    db.close();
    const w = store();
    expect(w.getSession('old')).toMatchObject({ id: 'old', worktree: null, worktree_state: null, files_changed: null });
  });
});

describe('a second connection', () => {
  it('reads while the store writes, and tails with afterId without missing events', async () => {
    const w = store({ flushIntervalMs: 5 });
    const r = store({ readonly: true, flushIntervalMs: 5 });
    const seen: string[] = [];
    let cursor: string | undefined;
    const written: string[] = [];
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 100; i++) written.push(w.append(round % 2 ? alice : bob, { kind: 'exec', detail: { round, i } }).id);
      await new Promise((res) => setTimeout(res, 2));
      const page = r.query(cursor === undefined ? { limit: 10_000 } : { afterId: cursor, limit: 10_000 });
      seen.push(...page.map((e) => e.id));
      cursor = page.at(-1)?.id ?? cursor;
    }
    await until(() => {
      const page = r.query(cursor === undefined ? { limit: 10_000 } : { afterId: cursor, limit: 10_000 });
      seen.push(...page.map((e) => e.id));
      cursor = page.at(-1)?.id ?? cursor;
      return seen.length >= written.length;
    });
    expect(seen).toEqual(written);
  });

});
