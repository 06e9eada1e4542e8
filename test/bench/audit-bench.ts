// Audit store benchmark: sustained events/s into SQLite with a reader (a
// second, read-only connection) tailing the table, and the latency from
// append to visible-to-the-reader. Two phases on fresh databases:
// - max: the writer appends as fast as it can (yielding to the event loop
//   between chunks so the flush timer and the reader run);
// - paced: the writer appends at `targetRate` events/s, the realistic case
//   for latency.
// The reader runs in a worker thread by default (like the backend reading what
// a `personae run` process writes); `reader: 'same-thread'` tails through the
// store API on the writer's thread instead, so both compete for one core.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { EventInput, SessionLabels } from '../../sandbox/audit/event.js';
import { createRedactor } from '../../sandbox/audit/redact.js';
import { openAuditStore } from '../../sandbox/audit/store.js';

export interface AuditBenchOptions {
  /** Length of each phase (default 3000 ms). */
  readonly durationMs?: number;
  /** Events per second in the paced phase (default 50000). */
  readonly targetRate?: number;
  /** Reader poll interval (default 5 ms). */
  readonly pollMs?: number;
  /** Apply a redactor with a few secrets to every event (default true). */
  readonly redact?: boolean;
  /** The tailing reader: a worker thread with its own connection (default), or the store API on this thread. */
  readonly reader?: 'worker' | 'same-thread';
}

export interface LatencyStats {
  readonly samples: number;
  readonly medianMs: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export interface PhaseResult {
  readonly events: number;
  readonly seconds: number;
  readonly eventsPerSecond: number;
  readonly latency: LatencyStats;
  readonly readerPolls: number;
  readonly flushes: number;
  readonly writeErrors: number;
  readonly dbBytes: number;
}

export interface AuditBenchResult {
  readonly max: PhaseResult;
  readonly paced: PhaseResult & { readonly targetRate: number };
}

const labels: SessionLabels = {
  session: '3f6c2a9e-5b1d-4c7e-9a00-000000000001',
  persona: 'bench',
  agent: { kind: 'claude', version: '2.1.0' },
  on_behalf_of: 'bench',
};

const secrets = { GITHUB_TOKEN: 'ghp_0123456789abcdefABCDEF0123456789abcd', NPM_TOKEN: 'npm_abcdefghijklmnop', DB_PASSWORD: 'correct horse' };

function makeInput(i: number, t: number): EventInput {
  switch (i % 4) {
    case 0: return { kind: 'exec', tool: 'Bash', target: `git status --porcelain ${i}`, detail: { t, argv: ['git', 'status', '--porcelain'], pid: 1000 + (i % 500), cwd: '/work/repo' } };
    case 1: return { kind: 'fs.write', target: `src/module-${i % 97}.ts`, detail: { t, bytes: 1234 + (i % 1000) } };
    case 2: return { kind: 'net.connect', target: 'registry.npmjs.org:443', decision: 'allow', reason: 'network.allow[1]', detail: { t, via: 'connect' } };
    default: return { kind: 'tool.call', tool: 'Edit', target: `src/file-${i % 13}.ts`, decision: 'allow', reason: 'Edit(src/**)', detail: { t, old_len: 120, new_len: 135 } };
  }
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))] ?? Number.NaN;
}

const round = (n: number): number => Math.round(n * 100) / 100;

/** Epoch ms with sub-ms precision, comparable across threads. */
const clock = (): number => performance.timeOrigin + performance.now();

interface ReaderResult { readonly latencies: Float64Array; readonly polls: number }
interface Reader {
  /** Resolves once the reader has seen `expected` events (or after 5 s). */
  finish(expected: number): Promise<ReaderResult>;
}

// Runs in a worker thread, as a second connection: tails by seq with raw SQL.
const WORKER_CODE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.sqlite);
const db = new Database(workerData.dbPath, { readonly: true });
db.pragma('busy_timeout = 5000');
const stmt = db.prepare('SELECT seq, detail FROM events WHERE seq > ? ORDER BY seq LIMIT 10000');
const clock = () => performance.timeOrigin + performance.now();
let last = 0, polls = 0, n = 0, lat = new Float64Array(1 << 16), expected = Infinity, deadline = Infinity;
const timer = setInterval(() => {
  polls++;
  for (let g = 0; g < 100; g++) {
    const rows = stmt.all(last);
    const now = clock();
    for (const r of rows) {
      if (n === lat.length) { const grown = new Float64Array(n * 2); grown.set(lat); lat = grown; }
      lat[n++] = now - JSON.parse(r.detail).t;
    }
    if (rows.length > 0) last = rows[rows.length - 1].seq;
    if (rows.length < 10000) break;
  }
  if (n >= expected || clock() > deadline) {
    clearInterval(timer);
    db.close();
    const latencies = lat.slice(0, n);
    parentPort.postMessage({ polls, latencies }, [latencies.buffer]);
  }
}, workerData.pollMs);
parentPort.on('message', (m) => { expected = m.expected; deadline = clock() + 5000; });
`;

function workerReader(dbPath: string, pollMs: number): Reader {
  const sqlite = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_CODE, { eval: true, workerData: { dbPath, pollMs, sqlite } });
  const done = new Promise<ReaderResult>((res, rej) => {
    worker.once('message', (m: ReaderResult) => res(m));
    worker.once('error', rej);
  });
  return {
    finish: async (expected) => {
      worker.postMessage({ expected });
      try {
        return await done;
      } finally {
        await worker.terminate();
      }
    },
  };
}

function sameThreadReader(dbPath: string, pollMs: number): Reader {
  const reader = openAuditStore(dbPath, { readonly: true });
  let latencies: number[] = [];
  let cursor: string | undefined;
  let polls = 0;
  const timer = setInterval(() => {
    polls++;
    for (let guard = 0; guard < 100; guard++) {
      const page = reader.query(cursor === undefined ? { limit: 10_000 } : { afterId: cursor, limit: 10_000 });
      const now = clock();
      for (const e of page) latencies.push(now - (e.detail['t'] as number));
      cursor = page.at(-1)?.id ?? cursor;
      if (page.length < 10_000) break;
    }
  }, pollMs);
  return {
    finish: async (expected) => {
      const deadline = clock() + 5000;
      while (latencies.length < expected && clock() < deadline) await new Promise((r) => setTimeout(r, pollMs));
      clearInterval(timer);
      reader.close();
      const out = Float64Array.from(latencies);
      latencies = [];
      return { latencies: out, polls };
    },
  };
}

interface PhaseConfig {
  readonly dbPath: string;
  readonly durationMs: number;
  readonly rate: number | undefined;
  readonly pollMs: number;
  readonly redacting: boolean;
  readonly readerKind: 'worker' | 'same-thread';
}

async function runPhase(cfg: PhaseConfig): Promise<PhaseResult> {
  const { dbPath, durationMs, rate } = cfg;
  let writeErrors = 0;
  const store = openAuditStore(dbPath, { onError: () => { writeErrors++; } });
  const reader = cfg.readerKind === 'worker' ? workerReader(dbPath, cfg.pollMs) : sameThreadReader(dbPath, cfg.pollMs);
  const redact = cfg.redacting ? createRedactor(secrets) : (input: EventInput) => input;
  let flushes = 0;
  store.onFlush(() => { flushes++; });

  let i = 0;
  const start = performance.now();
  const chunk = rate === undefined ? 500 : Math.max(1, Math.round(rate / 1000));
  while (performance.now() - start < durationMs) {
    if (rate !== undefined) {
      // Stay on schedule: append what is due, then sleep ~1 ms.
      const due = Math.floor(((performance.now() - start) / 1000) * rate);
      while (i < due) { store.append(labels, redact(makeInput(i, clock()))); i++; }
      await new Promise((r) => setTimeout(r, 1));
    } else {
      for (let k = 0; k < chunk; k++, i++) store.append(labels, redact(makeInput(i, clock())));
      await new Promise((r) => setImmediate(r));
    }
  }
  store.flush();
  const seconds = (performance.now() - start) / 1000;

  store.close();
  const { latencies, polls } = await reader.finish(i);
  latencies.sort();

  return {
    events: i,
    seconds: round(seconds),
    eventsPerSecond: Math.round(i / seconds),
    latency: {
      samples: latencies.length,
      medianMs: round(percentile(latencies, 0.5)),
      p99Ms: round(percentile(latencies, 0.99)),
      maxMs: round(latencies.at(-1) ?? Number.NaN),
    },
    readerPolls: polls,
    flushes,
    writeErrors,
    dbBytes: statSync(dbPath).size,
  };
}

/** Measures write throughput and append-to-visible latency; returns the numbers. */
export async function benchAudit(opts: AuditBenchOptions = {}): Promise<AuditBenchResult> {
  const durationMs = opts.durationMs ?? 3000;
  const targetRate = opts.targetRate ?? 50_000;
  const pollMs = opts.pollMs ?? 5;
  const redacting = opts.redact ?? true;
  const dir = mkdtempSync(join(tmpdir(), 'personae-audit-bench-'));
  try {
    const common = { durationMs, pollMs, redacting, readerKind: opts.reader ?? 'worker' } as const;
    const max = await runPhase({ ...common, dbPath: join(dir, 'max.db'), rate: undefined });
    const paced = await runPhase({ ...common, dbPath: join(dir, 'paced.db'), rate: targetRate });
    return { max, paced: { ...paced, targetRate } };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
