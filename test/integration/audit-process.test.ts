// The store across processes: concurrent writers on one file, a reader in
// another process, flush on normal exit, and crash safety under SIGKILL.
// Children run the real store code, transpiled from sandbox/audit/*.ts into a
// temp dir (Node 20 cannot run TypeScript directly).
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SessionLabels } from '../../sandbox/audit/event.js';
import { openAuditStore } from '../../sandbox/audit/store.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

const CHILD = `
import { openAuditStore } from './sandbox/audit/store.js';
const [dbPath, session, mode, nText] = process.argv.slice(2);
const n = Number(nText);
const out = (line) => process.stdout.write(line + '\\n');
const store = openAuditStore(dbPath, { onError: (e) => out('error ' + e.message) });
const labels = { session, persona: 'child', agent: { kind: 'shell', version: null }, on_behalf_of: 'test' };
store.onFlush(() => out('ack ' + store.flushedCount));
const append = (i) => store.append(labels, { kind: 'exec', target: 'cmd ' + i, detail: { n: i, pad: 'y'.repeat(200) } });
setTimeout(() => process.exit(3), 20000).unref(); // never outlive a broken test
if (mode === 'burst') {
  let i = 0;
  const tick = () => {
    for (let k = 0; k < 250 && i < n; k++) append(i++);
    if (i < n) setImmediate(tick);
    else { store.close(); out('done'); }
  };
  tick();
} else if (mode === 'exit') {
  for (let i = 0; i < n; i++) append(i);
  process.exit(0); // no close(): the exit hook must flush
} else if (mode === 'steady') {
  let i = 0;
  setInterval(() => { for (let k = 0; k < 10; k++) append(i++); }, 10);
  out('started');
}
`;

let work: string;
let dbPath: string;
const children: ChildProcess[] = [];

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'personae-audit-proc-'));
  const out = join(work, 'build');
  mkdirSync(out);
  symlinkSync(join(repo, 'node_modules'), join(out, 'node_modules'), 'dir');
  writeFileSync(join(out, 'package.json'), '{"type":"module"}');
  // sandbox/audit and what it imports from outside, at the same relative places.
  const sources = [
    ...readdirSync(join(repo, 'sandbox', 'audit')).filter((f) => f.endsWith('.ts')).map((f) => join('sandbox', 'audit', f)),
    join('personas', 'random.ts'),
    join('sandbox', 'worktree', 'record.ts'),
  ];
  for (const file of sources) {
    const js = ts.transpileModule(readFileSync(join(repo, file), 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
    }).outputText;
    mkdirSync(join(out, dirname(file)), { recursive: true });
    writeFileSync(join(out, file.replace(/\.ts$/, '.js')), js);
  }
  writeFileSync(join(out, 'child.mjs'), CHILD);
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

interface Child {
  readonly proc: ChildProcess;
  readonly lines: string[];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  lastAck(): number;
}

function startChild(db: string, session: string, mode: string, n = 0): Child {
  const proc = spawn(process.execPath, [join(work, 'build', 'child.mjs'), db, session, mode, String(n)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(proc);
  const lines: string[] = [];
  let buf = '';
  proc.stdout?.on('data', (chunk: Buffer) => {
    buf += chunk.toString();
    const parts = buf.split('\n');
    buf = parts.pop() ?? '';
    lines.push(...parts);
  });
  let stderr = '';
  proc.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => {
    proc.on('exit', (code, signal) => {
      if (stderr !== '') lines.push(`stderr ${stderr}`);
      res({ code, signal });
    });
  });
  const lastAck = (): number => {
    for (let i = lines.length - 1; i >= 0; i--) {
      const m = /^ack (\d+)$/.exec(lines[i] ?? '');
      if (m) return Number(m[1]);
    }
    return 0;
  };
  return { proc, lines, exited, lastAck };
}

async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([p, new Promise<T>((_, rej) => setTimeout(() => rej(new Error(`timed out: ${what}`)), ms))]);
}

describe('across processes', () => {
  it('several processes write one database while another reads it', async () => {
    dbPath = join(work, 'concurrent', 'audit.db');
    const errors: Error[] = [];
    const parentStore = openAuditStore(dbPath, { onError: (e) => errors.push(e) });
    const kids = [startChild(dbPath, 'child-1', 'burst', 5000), startChild(dbPath, 'child-2', 'burst', 5000)];
    const reader = openAuditStore(dbPath, { readonly: true });
    const parent: SessionLabels = { session: 'parent', persona: 'parent', agent: { kind: 'shell', version: null }, on_behalf_of: 'test' };
    let seenWhileWriting = 0;
    let cursor: string | undefined;
    for (let i = 0; i < 5000; i += 250) {
      for (let k = i; k < i + 250; k++) parentStore.append(parent, { kind: 'exec', detail: { n: k } });
      await new Promise((r) => setTimeout(r, 2));
      const page = reader.query(cursor === undefined ? { limit: 10_000 } : { afterId: cursor, limit: 10_000 });
      seenWhileWriting += page.length;
      cursor = page.at(-1)?.id ?? cursor;
    }
    parentStore.close();
    const results = await withTimeout(Promise.all(kids.map((k) => k.exited)), 20_000, 'writers');
    expect(results.map((r) => r.code)).toEqual([0, 0]);
    for (const k of kids) {
      expect(k.lines.filter((l) => !l.startsWith('ack '))).toEqual(['done']); // no errors, no stderr
      expect(k.lastAck()).toBe(5000);
    }
    expect(seenWhileWriting).toBeGreaterThan(0);
    reader.close();

    const db = new Database(dbPath, { readonly: true });
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      const rows = db.prepare('SELECT session, count(*) AS n, count(DISTINCT id) AS ids FROM events GROUP BY session ORDER BY session').all();
      expect(rows).toEqual([
        { session: 'child-1', n: 5000, ids: 5000 },
        { session: 'child-2', n: 5000, ids: 5000 },
        { session: 'parent', n: 5000, ids: 5000 },
      ]);
      // Within a session, recording order is the order of emission.
      for (const session of ['child-1', 'child-2', 'parent']) {
        const ns = db.prepare("SELECT json_extract(detail, '$.n') AS n FROM events WHERE session = ? ORDER BY seq").pluck().all(session) as number[];
        expect(ns).toEqual(Array.from({ length: 5000 }, (_, i) => i));
      }
    } finally {
      db.close();
    }
    expect(errors).toEqual([]);
  });

  it('flushes queued events when the process exits normally without close()', async () => {
    dbPath = join(work, 'exit', 'audit.db');
    const child = startChild(dbPath, 'exiting', 'exit', 300);
    const { code } = await withTimeout(child.exited, 15_000, 'child exit');
    expect(code).toBe(0);
    const r = openAuditStore(dbPath, { readonly: true });
    try {
      expect(r.query({ session: 'exiting', limit: 10_000 })).toHaveLength(300);
    } finally {
      r.close();
    }
  });

  it('keeps every acknowledged event and a clean database after SIGKILL', async () => {
    dbPath = join(work, 'crash', 'audit.db');
    for (let round = 0; round < 2; round++) {
      const session = `crash-${round}`;
      const child = startChild(dbPath, session, 'steady');
      // ~1000 events/s; kill it mid-stream once it has acknowledged a good amount.
      await waitFor(() => child.lastAck() >= 800 + round * 300, 15_000, 'acks from the child');
      child.proc.kill('SIGKILL');
      const { signal } = await withTimeout(child.exited, 5000, 'killed child');
      expect(signal).toBe('SIGKILL');
      const acked = child.lastAck();
      expect(child.lines.some((l) => l.startsWith('error') || l.startsWith('stderr'))).toBe(false);

      const db = new Database(dbPath);
      try {
        expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
        const present = db.prepare(
          "SELECT count(DISTINCT json_extract(detail, '$.n')) AS n FROM events WHERE session = ? AND json_extract(detail, '$.n') < ?",
        ).get(session, acked) as { n: number };
        expect(present.n).toBe(acked);
        const total = db.prepare('SELECT count(*) AS n FROM events WHERE session = ?').get(session) as { n: number };
        expect(total.n).toBeGreaterThanOrEqual(acked);
      } finally {
        db.close();
      }
    }
    // And the store opens clean and writes again.
    const after = openAuditStore(dbPath);
    after.append({ session: 'after', persona: 'p', agent: { kind: 'shell', version: null }, on_behalf_of: 't' }, { kind: 'exec' });
    expect(after.flush()).toBe(1);
    after.close();
  });
});
