// Write failures (disk full simulated with PRAGMA max_page_count): appends
// never throw, onError hears each failed flush, the queue stays bounded with
// a drop counter, and what was already stored stays intact.
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SessionLabels } from '../../sandbox/audit/event.js';
import { openAuditStore } from '../../sandbox/audit/store.js';
import type { AuditStore } from '../../sandbox/audit/store.js';

const labels: SessionLabels = { session: 'sess-full', persona: 'homelab', agent: { kind: 'shell', version: null }, on_behalf_of: 'alice' };
const other: SessionLabels = { ...labels, session: 'sess-other' };
const bulky = { blob: 'x'.repeat(2000) };

let dir: string;
let dbPath: string;
let store: AuditStore | undefined;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'personae-audit-full-'));
  dbPath = join(dir, 'audit.db');
});

afterEach(() => {
  store?.close();
  store = undefined;
  rmSync(dir, { recursive: true, force: true });
});

function inspect(): { count: number; integrity: string } {
  const db = new Database(dbPath, { readonly: true });
  try {
    const { n } = db.prepare('SELECT count(*) AS n FROM events').get() as { n: number };
    return { count: n, integrity: db.pragma('integrity_check', { simple: true }) as string };
  } finally {
    db.close();
  }
}

describe('disk full', () => {
  it('reports, bounds the queue, keeps stored rows intact, and recovers', async () => {
    const errors: Error[] = [];
    let conn: Database.Database | undefined;
    store = openAuditStore(dbPath, {
      flushIntervalMs: 60_000,
      maxBatch: 300,
      maxQueue: 300,
      onError: (e) => errors.push(e),
      configure: (db) => { conn = db; },
    });
    for (let i = 0; i < 50; i++) store.append(labels, { kind: 'exec', detail: { i } });
    expect(store.flush()).toBe(50);
    const before = inspect();
    expect(before).toEqual({ count: 50, integrity: 'ok' });

    // No room for a single new page.
    const pages = conn!.pragma('page_count', { simple: true }) as number;
    conn!.pragma(`max_page_count = ${pages}`);

    expect(() => {
      for (let i = 0; i < 200; i++) store!.append(labels, { kind: 'exec', detail: bulky });
    }).not.toThrow();
    expect(store.flush()).toBe(0);
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error & { code?: string }).code).toBe('SQLITE_FULL');
    expect(store.flush()).toBe(0);
    expect(errors).toHaveLength(2); // once per failed flush
    expect(store.stats()).toMatchObject({ pending: 200, failedFlushes: 2, dropped: 0, flushed: 50 });
    expect(inspect()).toEqual(before);

    // Past maxQueue new events are dropped, counted and reported once.
    expect(() => {
      for (let i = 0; i < 150; i++) store!.append(i % 2 ? labels : other, { kind: 'exec', detail: bulky });
    }).not.toThrow();
    expect(store.stats()).toMatchObject({ pending: 300, dropped: 50 });
    expect(errors).toHaveLength(3);
    expect(errors[2]?.message).toMatch(/dropping events: queue full \(300\)/);
    expect(store.query({ limit: 10_000 })).toHaveLength(50); // a reader still works
    expect(inspect()).toEqual(before);

    // Room again: the retry timer (with backoff) writes the queue and a notice per affected session.
    conn!.pragma('max_page_count = 1073741823');
    store.append(labels, { kind: 'exec' }); // schedules nothing new while failing; the backoff timer is pending
    const deadline = Date.now() + 5000;
    while (store.stats().flushed < 350 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(store.stats().flushed).toBe(350);
    // The drop notices were queued after that retry; they follow on the normal schedule.
    store.flush();
    const after = inspect();
    expect(after.integrity).toBe('ok');
    const notices = store.query({ kind: 'error', limit: 10 });
    expect(notices.map((n) => n.session).sort()).toEqual(['sess-full', 'sess-other']);
    for (const n of notices) expect(n.reason).toMatch(/^audit store lost \d+ event\(s\) of this session \(database or disk is full\)$/);
    const lost = notices.reduce((sum, n) => sum + (n.detail['dropped'] as number), 0);
    expect(lost).toBe(51); // 50 past the cap + the one appended while full
    expect(after.count).toBe(50 + 300 + 2);
    expect(store.stats()).toMatchObject({ pending: 0, dropped: 51 });
  });

  it('retries on a timer with backoff while the disk stays full', async () => {
    const errors: Error[] = [];
    let conn: Database.Database | undefined;
    store = openAuditStore(dbPath, { flushIntervalMs: 5, onError: (e) => errors.push(e), configure: (db) => { conn = db; } });
    store.append(labels, { kind: 'exec' });
    store.flush();
    conn!.pragma(`max_page_count = ${conn!.pragma('page_count', { simple: true }) as number}`);
    for (let i = 0; i < 100; i++) store.append(labels, { kind: 'exec', detail: bulky });
    await new Promise((r) => setTimeout(r, 300));
    // 5, 10, 20, 40, 80, 160 ms ... : a handful of attempts, not one per 5 ms.
    expect(errors.length).toBeGreaterThanOrEqual(2);
    expect(errors.length).toBeLessThanOrEqual(8);
    conn!.pragma('max_page_count = 1073741823');
    const deadline = Date.now() + 5000;
    while (store.stats().pending > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(store.stats().pending).toBe(0);
    expect(inspect()).toEqual({ count: 101, integrity: 'ok' });
  });

  it('a throwing onError cannot break appends', () => {
    let conn: Database.Database | undefined;
    store = openAuditStore(dbPath, {
      flushIntervalMs: 60_000,
      onError: () => { throw new Error('sink down'); },
      configure: (db) => { conn = db; },
    });
    store.append(labels, { kind: 'exec' });
    store.flush();
    conn!.pragma(`max_page_count = ${conn!.pragma('page_count', { simple: true }) as number}`);
    expect(() => {
      for (let i = 0; i < 100; i++) store!.append(labels, { kind: 'exec', detail: bulky });
      store!.flush();
    }).not.toThrow();
    expect(store.stats().failedFlushes).toBe(1);
  });
});
