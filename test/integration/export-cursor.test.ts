// The durable export cursor and its lease, on a real SQLite store.
import type { Database } from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { exportCursors, holderId } from '../../sandbox/audit/export-cursor.js';
import { openAuditStore, type AuditStore } from '../../sandbox/audit/store.js';

const labels = { session: 's-1', persona: 'p', agent: { kind: 'shell', version: null }, on_behalf_of: 'me' };

describe('export cursors', () => {
  let store: AuditStore;
  let db: Database;
  beforeEach(() => {
    store = openAuditStore(':memory:', { configure: (raw) => { db = raw; } });
  });
  afterEach(() => store.close());

  it('reads after the cursor in commit order and moves only for the holder', () => {
    for (let i = 0; i < 5; i++) store.append(labels, { kind: 'exec', target: `cmd ${i}` });
    store.flush();
    const c = exportCursors(db);
    const me = holderId();
    expect(c.acquire('otlp.logs', me, 10_000)).toBe(true);
    const first = c.after(0, 3);
    expect(first.map((e) => e.event.target)).toEqual(['cmd 0', 'cmd 1', 'cmd 2']);
    expect(c.commit('otlp.logs', holderId(), first[2]?.seq ?? 0, 3, 10_000)).toBe(false);
    expect(c.commit('otlp.logs', me, first[2]?.seq ?? 0, 3, 10_000)).toBe(true);
    expect(c.lag('otlp.logs')).toMatchObject({ behind: 2, cursor: { exported: 3, holder: me }, holderAlive: true });
    expect(c.after(c.get('otlp.logs')?.seq ?? 0, 10).map((e) => e.event.target)).toEqual(['cmd 3', 'cmd 4']);
    c.failed('otlp.logs', me, 'x: connection refused');
    expect(c.get('otlp.logs')?.lastError).toBe('x: connection refused');
    c.release('otlp.logs', me);
    expect(c.get('otlp.logs')?.holder).toBe(null);
  });

  it('a window of some kinds moves the cursor past the events it skipped, never past one committed later', () => {
    for (const kind of ['exec', 'session.end', 'exec', 'exec', 'tool.call', 'exec'] as const) store.append(labels, { kind });
    store.flush();
    const c = exportCursors(db);
    const full = c.window(0, 1, ['session.end', 'tool.call']);
    expect(full.events.map((e) => e.event.kind)).toEqual(['session.end']);
    expect([full.upTo, full.count]).toEqual([full.events[0]?.seq, 2]);
    const rest = c.window(full.upTo, 10, ['session.end', 'tool.call']);
    expect(rest.events.map((e) => e.event.kind)).toEqual(['tool.call']);
    expect([rest.upTo, rest.count]).toEqual([c.head(), 4]);
    expect(c.window(rest.upTo, 10, ['session.end'])).toEqual({ events: [], upTo: c.head(), count: 0 });
    expect(rest.events[0]?.detailJson).toBe('{}');
  });

  it('a live holder keeps its lease, even expired; a dead one is taken over at once; another host\'s once it expired', () => {
    const c = exportCursors(db);
    const live = holderId();
    expect(c.acquire('otlp.traces', live, 1, 1000)).toBe(true);
    expect(c.acquire('otlp.traces', holderId(), 10_000, 999_999)).toBe(false);
    const dead = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' }).stdout.trim();
    c.release('otlp.traces', live);
    expect(c.acquire('otlp.traces', `${hostname()}/${dead}/x`, 60_000)).toBe(true);
    expect(c.acquire('otlp.traces', live, 60_000)).toBe(true);
    const remote = 'another-host.example/123/y';
    c.release('otlp.traces', live);
    expect(c.acquire('otlp.traces', remote, 5000, 1000)).toBe(true);
    expect(c.acquire('otlp.traces', live, 60_000, 2000)).toBe(false);
    expect(c.acquire('otlp.traces', live, 60_000, 7000)).toBe(true);
  });
});
