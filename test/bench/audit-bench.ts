// Audit store benchmark: sustained events/s into SQLite with a reader (a
// second, read-only connection) tailing with afterId, and the latency from
// append to visible-to-the-reader. Two phases on fresh databases:
// - max: the writer appends as fast as it can (yielding to the event loop
//   between chunks so the flush timer and the reader run);
// - paced: the writer appends at `targetRate` events/s, the realistic case
//   for latency.
// Writer and reader share one thread, so latency includes waiting for the
// other side's turn on the event loop.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))] ?? Number.NaN;
}

const round = (n: number): number => Math.round(n * 100) / 100;

async function runPhase(dbPath: string, durationMs: number, rate: number | undefined, pollMs: number, redacting: boolean): Promise<PhaseResult> {
  let writeErrors = 0;
  const store = openAuditStore(dbPath, { onError: () => { writeErrors++; } });
  const reader = openAuditStore(dbPath, { readonly: true });
  const redact = redacting ? createRedactor(secrets) : (input: EventInput) => input;
  let flushes = 0;
  store.onFlush(() => { flushes++; });

  const latencies: number[] = [];
  let cursor: string | undefined;
  let polls = 0;
  const poll = (): void => {
    polls++;
    for (let guard = 0; guard < 100; guard++) {
      const page = reader.query(cursor === undefined ? { limit: 10_000 } : { afterId: cursor, limit: 10_000 });
      const now = performance.now();
      for (const e of page) latencies.push(now - (e.detail['t'] as number));
      cursor = page.at(-1)?.id ?? cursor;
      if (page.length < 10_000) break;
    }
  };
  const pollTimer = setInterval(poll, pollMs);

  let i = 0;
  const start = performance.now();
  const chunk = rate === undefined ? 500 : Math.max(1, Math.round(rate / 1000));
  while (performance.now() - start < durationMs) {
    if (rate !== undefined) {
      // Stay on schedule: append what is due, then sleep ~1 ms.
      const due = Math.floor(((performance.now() - start) / 1000) * rate);
      while (i < due) { store.append(labels, redact(makeInput(i, performance.now()))); i++; }
      await new Promise((r) => setTimeout(r, 1));
    } else {
      for (let k = 0; k < chunk; k++, i++) store.append(labels, redact(makeInput(i, performance.now())));
      await new Promise((r) => setImmediate(r));
    }
  }
  store.flush();
  const seconds = (performance.now() - start) / 1000;

  // Let the reader catch up (bounded), then stop it.
  const deadline = performance.now() + 5000;
  while (latencies.length < i && performance.now() < deadline) await new Promise((r) => setTimeout(r, pollMs));
  clearInterval(pollTimer);
  reader.close();
  store.close();

  latencies.sort((a, b) => a - b);
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
    const max = await runPhase(join(dir, 'max.db'), durationMs, undefined, pollMs, redacting);
    const paced = await runPhase(join(dir, 'paced.db'), durationMs, targetRate, pollMs, redacting);
    return { max, paced: { ...paced, targetRate } };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
