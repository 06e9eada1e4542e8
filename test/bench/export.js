// Export: events/s `personae export` ships over OTLP/HTTP (the SDK's
// protobuf and JSON exporters, logs and traces) to a loopback receiver in its
// own process, from an audit log filled with the audit section's four event
// shapes; the target is to stay above the store's own ingest (50,000
// events/s), so export never falls behind. Then the supervisor's added CPU:
// the CPU time of a `personae run` tree writing 2,000 files (about 4,000
// events), alone and with `personae export --follow` shipping at the same
// time, in alternating rounds (the exporter is a separate process; what the
// run pays for it is sharing the database). Correctness: every event counted
// as shipped by the cursor.
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CLI, NODE, ROOT, round, sleep, spawnTracked, summary, tempDir, timed, waitUntil } from './lib.js';

const TARGET_EVENTS_PER_SECOND = 50_000;

const RECEIVER = `
const http = require('node:http');
let records = 0, bytes = 0;
const s = http.createServer((req, res) => {
  req.on('data', (c) => { bytes += c.length; });
  req.on('end', () => { records++; res.writeHead(200, { 'content-type': req.headers['content-type'] || '' }); res.end(String(req.headers['content-type']).includes('json') ? '{}' : ''); });
});
s.listen(0, '127.0.0.1', () => console.log('port ' + s.address().port));
`;

function row(i, session) {
  const base = { ts: new Date().toISOString() };
  switch (i % 4) {
    case 0: return { ...base, kind: 'exec', tool: 'git', target: `git status --porcelain ${i}`, detail: { argv: ['git', 'status', '--porcelain'], pid: 1000 + (i % 500), path: '/usr/bin/git' } };
    case 1: return { ...base, kind: 'fs.write', target: `/work/repo/src/module-${i % 97}.ts`, detail: { op: 'modify' } };
    case 2: return { ...base, kind: 'net.connect', target: 'registry.npmjs.org:443', decision: 'allow', reason: 'network.allow[1]', detail: { protocol: 'connect' } };
    default: return { ...base, kind: 'tool.call', tool: 'Edit', target: `src/file-${i % 13}.ts`, decision: 'allow', reason: 'tools.allow: Edit(src/**)', detail: { tool_use_id: `${session}-tu-${i}` } };
  }
}

async function fillStore(home, events) {
  const { openAuditStore } = await import(pathToFileURL(path.join(ROOT, 'dist', 'sandbox', 'audit', 'store.js')).href);
  const store = openAuditStore(path.join(home, 'audit.db'));
  const sessions = 20;
  for (let s = 0; s < sessions; s++) {
    const id = `00000000-0000-4000-8000-${String(s).padStart(12, '0')}`;
    const labels = { session: id, persona: 'bench', agent: { kind: 'claude', version: '2.1.0' }, on_behalf_of: 'bench' };
    store.upsertSession({ id, persona: 'bench', agent: labels.agent, on_behalf_of: 'bench', workspace: '/work/repo' });
    store.append(labels, { kind: 'session.start', target: 'claude', detail: { owner: 'bench@example.com' } });
    for (let i = 0; i < events / sessions - 2; i++) store.append(labels, row(i, id));
    store.append(labels, { kind: 'session.end', reason: 'exit', detail: { exit_code: 0 } });
  }
  store.close();
}

async function startReceiver() {
  const child = spawnTracked(NODE, ['-e', RECEIVER]);
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  await waitUntil(() => /port \d+/.test(out), 10_000);
  return { child, url: `http://127.0.0.1:${/port (\d+)/.exec(out)?.[1]}` };
}

/** CPU seconds (user + system) of a command and everything it started, via python3's rusage of children. */
function cpuOf(args, env, cwd) {
  const py = 'import resource,subprocess,sys; p=subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); r=resource.getrusage(resource.RUSAGE_CHILDREN); print(p.returncode, r.ru_utime + r.ru_stime)';
  return timed('python3', ['-c', py, NODE, CLI, ...args], { env, cwd, timeoutMs: 120_000 }).then((r) => {
    const [code, cpu] = r.stdout.trim().split(' ');
    return { code: Number(code), cpu: Number(cpu), ms: r.ms };
  });
}

export async function benchExport({ events, rounds, log }) {
  const result = { events, errors: [], notes: [] };
  const receiver = await startReceiver();
  const dir = tempDir('personae-bench-export-');
  const seed = path.join(dir, 'seed');
  mkdirSync(seed);
  await fillStore(seed, events);
  for (const protocol of ['http/protobuf', 'http/json']) {
    const home = path.join(dir, protocol.replace('/', '-'));
    mkdirSync(home);
    copyFileSync(path.join(seed, 'audit.db'), path.join(home, 'audit.db'));
    const env = { PATH: process.env.PATH, PERSONAE_HOME: home, HOME: dir, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: protocol };
    const r = await timed(NODE, [CLI, 'export', '--batch', '2000'], { env, timeoutMs: 300_000 });
    const st = await timed(NODE, [CLI, 'export', '--status', '--json'], { env });
    const rows = r.code === 0 ? JSON.parse(st.stdout) : [];
    const shipped = rows.map((x) => x.exported);
    if (r.code !== 0 || shipped.some((n) => n !== events)) result.errors.push(`${protocol}: exported ${shipped.join('/')} of ${events} events (exit ${r.code}): ${r.stderr.trim().slice(-200)}`);
    const eps = events / (r.ms / 1000);
    result[protocol] = { ms: round(r.ms), eventsPerSecond: round(eps) };
    log(`  ${protocol}: ${events} events as log records and spans in ${round(r.ms)} ms: ${round(eps)} events/s (target ${TARGET_EVENTS_PER_SECOND})`);
  }

  // The supervisor's added CPU while an exporter ships its events.
  const home = path.join(dir, 'cpu');
  mkdirSync(path.join(home, 'personas'), { recursive: true });
  const ws = path.join(dir, 'cpu-ws');
  mkdirSync(ws);
  const { writeFileSync } = await import('node:fs');
  writeFileSync(path.join(home, 'personas', 'bench.yaml'), 'version: 1\nname: bench\ndisplay_name: Bench\nowner: bench@example.com\npurpose: npm run bench\nagent: shell\nexecution_mode: autonomous\nfilesystem:\n  write: ["{workspace}"]\n');
  const env = { PATH: process.env.PATH, PERSONAE_HOME: home, HOME: dir, LANG: 'C.UTF-8' };
  const work = ['run', 'bench', '--workspace', ws, '--', 'sh', '-c', 'i=0; while [ $i -lt 2000 ]; do echo $i > f$i; i=$((i+1)); done; rm -f f*'];
  const alone = [];
  const exporting = [];
  for (let i = 0; i < rounds; i++) {
    for (const withExport of i % 2 === 0 ? [false, true] : [true, false]) {
      let follower;
      if (withExport) {
        follower = spawnTracked(NODE, [CLI, 'export', '--follow'], { env: { ...env, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url } });
        await sleep(300);
      }
      const r = await cpuOf(work, env, ws);
      if (r.code !== 0) result.errors.push(`the session failed (exit ${r.code})`);
      (withExport ? exporting : alone).push(r.cpu * 1000);
      if (follower) {
        follower.kill('SIGTERM');
        await waitUntil(() => follower.exitCode !== null, 20_000);
      }
    }
  }
  const st = await timed(NODE, [CLI, 'export', '--status', '--json'], { env: { ...env, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url } });
  const behind = JSON.parse(st.stdout || '[]').map((x) => x.behind);
  if (behind.some((n) => n > 0)) result.notes.push(`the exporter stopped with ${behind.join('/')} events behind (it resumes next time)`);
  result.cpu = { alone: summary(alone), exporting: summary(exporting) };
  log(`  supervisor tree CPU, 2,000 file writes: ${round(result.cpu.alone.median)} ms alone, ${round(result.cpu.exporting.median)} ms with export --follow running (median of ${rounds})`);
  receiver.child.kill('SIGKILL');
  return result;
}
