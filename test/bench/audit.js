// Audit: sustained events/s into SQLite with a reader attached, and the
// latency from append to visible-to-the-reader. The measurement itself is
// `benchAudit()` from test/bench/audit-bench.ts (owned by the audit store's
// authors); it is TypeScript importing the store's sources, so it is bundled
// here with esbuild (a dev dependency, already used by the build) into a
// temporary module and imported. Next to it, the reference on the same
// machine in the same run: bare better-sqlite3 inserting the same rows into
// the same table and indexes with the same pragmas, in transactions of 2,000,
// no reader, in rounds alternating with the store's. The ratio store/bare is
// the store's own cost.
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT, round, tempDir } from './lib.js';

const require = createRequire(import.meta.url);

async function loadBenchAudit() {
  const src = path.join(ROOT, 'test', 'bench', 'audit-bench.ts');
  if (!existsSync(src)) return undefined;
  const { build } = await import('esbuild');
  // Inside the repository so the bundle resolves better-sqlite3 from node_modules.
  const outDir = path.join(ROOT, 'node_modules', '.cache', 'personae-bench', String(process.pid));
  mkdirSync(outDir, { recursive: true });
  const outfile = path.join(outDir, 'audit-bench.mjs');
  try {
    await build({ entryPoints: [src], outfile, bundle: true, format: 'esm', platform: 'node', target: 'node20', packages: 'external', logLevel: 'error' });
    return (await import(`${pathToFileURL(outfile).href}?t=${statSync(outfile).mtimeMs}`)).benchAudit;
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}

/** The same four event shapes as audit-bench.ts, as finished rows. */
function row(i, session) {
  const t = performance.now();
  const base = { id: `ev-${process.pid}-${i}`, ts: new Date().toISOString(), session, persona: 'bench', agent_kind: 'claude', agent_version: '2.1.0', on_behalf_of: 'bench' };
  switch (i % 4) {
    case 0: return { ...base, kind: 'exec', tool: 'Bash', target: `git status --porcelain ${i}`, decision: null, reason: null, detail: JSON.stringify({ t, argv: ['git', 'status', '--porcelain'], pid: 1000 + (i % 500), cwd: '/work/repo' }) };
    case 1: return { ...base, kind: 'fs.write', tool: null, target: `src/module-${i % 97}.ts`, decision: null, reason: null, detail: JSON.stringify({ t, bytes: 1234 + (i % 1000) }) };
    case 2: return { ...base, kind: 'net.connect', tool: null, target: 'registry.npmjs.org:443', decision: 'allow', reason: 'network.allow[1]', detail: JSON.stringify({ t, via: 'connect' }) };
    default: return { ...base, kind: 'tool.call', tool: 'Edit', target: `src/file-${i % 13}.ts`, decision: 'allow', reason: 'Edit(src/**)', detail: JSON.stringify({ t, old_len: 120, new_len: 135 }) };
  }
}

/** Bare better-sqlite3: the store's table, indexes and pragmas; rows built and inserted as fast as possible. */
async function bareSqlite(durationMs) {
  const Database = require('better-sqlite3');
  const dir = tempDir('personae-bench-sqlite-');
  const db = new Database(path.join(dir, 'bare.db'));
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('wal_autocheckpoint = 5000');
    db.pragma('cache_size = -16000');
    db.exec(`CREATE TABLE events (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, ts TEXT NOT NULL, session TEXT NOT NULL, persona TEXT NOT NULL,
      agent_kind TEXT NOT NULL, agent_version TEXT, on_behalf_of TEXT NOT NULL, kind TEXT NOT NULL, tool TEXT, target TEXT, decision TEXT,
      reason TEXT, detail TEXT NOT NULL DEFAULT '{}');
      CREATE INDEX events_session ON events (session); CREATE INDEX events_persona ON events (persona);
      CREATE INDEX events_kind ON events (kind); CREATE INDEX events_ts ON events (ts);`);
    const insert = db.prepare(`INSERT INTO events (id, ts, session, persona, agent_kind, agent_version, on_behalf_of, kind, tool, target, decision, reason, detail)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    const batch = db.transaction((rows) => {
      for (const r of rows) insert.run(r.id, r.ts, r.session, r.persona, r.agent_kind, r.agent_version, r.on_behalf_of, r.kind, r.tool, r.target, r.decision, r.reason, r.detail);
    });
    const session = '3f6c2a9e-5b1d-4c7e-9a00-000000000001';
    let i = 0;
    const start = performance.now();
    while (performance.now() - start < durationMs) {
      const rows = [];
      for (let k = 0; k < 2000; k++, i++) rows.push(row(i, session));
      batch(rows);
      await new Promise((r) => setImmediate(r));
    }
    const seconds = (performance.now() - start) / 1000;
    return { events: i, seconds: round(seconds, 2), eventsPerSecond: Math.round(i / seconds) };
  } finally {
    db.close();
  }
}

function mergePhases(phases) {
  const events = phases.reduce((a, p) => a + p.events, 0);
  const seconds = phases.reduce((a, p) => a + p.seconds, 0);
  const medians = phases.map((p) => p.latency.medianMs).sort((a, b) => a - b);
  return {
    events,
    seconds: round(seconds, 2),
    eventsPerSecond: Math.round(events / seconds),
    latency: {
      samples: phases.reduce((a, p) => a + p.latency.samples, 0),
      medianMs: medians[Math.floor(medians.length / 2)],
      p99Ms: Math.max(...phases.map((p) => p.latency.p99Ms)),
      maxMs: Math.max(...phases.map((p) => p.latency.maxMs)),
    },
    flushes: phases.reduce((a, p) => a + p.flushes, 0),
    writeErrors: phases.reduce((a, p) => a + p.writeErrors, 0),
    rounds: phases.map((p) => ({ eventsPerSecond: p.eventsPerSecond, medianMs: p.latency.medianMs, p99Ms: p.latency.p99Ms })),
  };
}

/**
 * `rounds` rounds of bare SQLite and benchAudit() (alternating which goes
 * first), each phase `durationMs / rounds` long, so that load changes during the run hit both alike.
 * Events/s are summed over the rounds; latency: the median of the rounds'
 * medians, the worst p99 and max.
 */
export async function benchAuditStore({ durationMs = 3000, rounds = 6, log = () => undefined } = {}) {
  const result = { errors: [], rounds };
  const benchAudit = await loadBenchAudit();
  if (benchAudit === undefined) {
    result.errors.push('test/bench/audit-bench.ts not found: no audit store figures');
    return result;
  }
  const each = Math.max(250, Math.round(durationMs / rounds));
  const bare = [];
  const max = [];
  const paced = [];
  let targetRate;
  for (let i = 0; i < rounds; i++) {
    // Alternate which goes first.
    if (i % 2 === 0) bare.push(await bareSqlite(each));
    const r = await benchAudit({ durationMs: each });
    if (i % 2 === 1) bare.push(await bareSqlite(each));
    max.push(r.max);
    paced.push(r.paced);
    targetRate = r.paced.targetRate;
  }
  const events = bare.reduce((a, b) => a + b.events, 0);
  const seconds = bare.reduce((a, b) => a + b.seconds, 0);
  result.bare = { events, seconds: round(seconds, 2), eventsPerSecond: Math.round(events / seconds), runs: bare.map((b) => b.eventsPerSecond) };
  const r = { max: mergePhases(max), paced: { ...mergePhases(paced), targetRate } };
  result.store = r;
  if (r.max.writeErrors > 0 || r.paced.writeErrors > 0) result.errors.push(`audit store write errors: ${r.max.writeErrors + r.paced.writeErrors}`);
  if (r.max.latency.samples !== r.max.events || r.paced.latency.samples !== r.paced.events) {
    result.errors.push(`the reader saw ${r.max.latency.samples}/${r.max.events} (max) and ${r.paced.latency.samples}/${r.paced.events} (paced) events`);
  }
  log(`  store ${r.max.eventsPerSecond} events/s with a reader (bare SQLite ${result.bare.eventsPerSecond}); append-to-query latency at ${r.paced.targetRate}/s: median ${r.paced.latency.medianMs} ms, p99 ${r.paced.latency.p99Ms} ms`);
  return result;
}
