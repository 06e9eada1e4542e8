// Stop: a session with 500 background processes running; time from
// `personae stop ID` (a cold CLI, as a user would type it) to verified no
// survivors, judged from outside by the session's pid namespace in /proc.
// Also the engine's own time (first `stop` event to the `verified` one, from
// the audit log). The floor on the same machine: bare bwrap holding the same
// 500 processes, its outer process SIGKILLed (die-with-parent takes the pid
// namespace down), until the namespace is empty.
import { CLI, NODE, nsMembers, OWN_NS, pidNs, pidsWithArgv, round, sessionIdOf, sleep, spawnTracked, summary, timed, waitUntil } from './lib.js';
import { bareBwrapArgs } from './launch.js';

const flood = (n, marker) => ['bash', '-c', `for ((i = 0; i < ${n}; i++)); do sleep ${marker} & done; echo ready; wait`];

/** Starts a process whose stdout says `ready` once `n` sleeps run in a new pid namespace; resolves with its namespace. */
async function startFlood(cmd, args, env, cwd, n, marker) {
  const t0 = performance.now();
  const child = spawnTracked(cmd, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const ready = await waitUntil(() => out.includes("ready") || child.exitCode !== null, 300_000, 20);
  if (!ready || child.exitCode !== null) throw new Error(`flood did not start: ${err.trim().slice(-300)}`);
  const sleeps = await waitUntil(() => {
    const p = pidsWithArgv(['sleep', marker]);
    return p.length >= n ? p : undefined;
  }, 10_000, 20);
  if (!sleeps) throw new Error(`fewer than ${n} processes found from outside`);
  const ns = pidNs(sleeps[0]);
  if (ns === undefined || ns === OWN_NS) throw new Error('the processes are not in their own pid namespace');
  return { child, ns, members: nsMembers(ns).length, startMs: performance.now() - t0, stderr: () => err };
}

async function waitEmpty(ns, t0) {
  const empty = await waitUntil(() => nsMembers(ns).length === 0, 10_000, 2);
  return empty ? performance.now() - t0 : Number.NaN;
}

async function personaeRound(home, processes, marker, result) {
  const env = home.env;
  let f;
  try {
    f = await startFlood(NODE, [CLI, 'run', 'bench', '--workspace', home.workspace, '--no-tty', '--', ...flood(processes, marker)], env, home.workspace, processes, marker);
    const id = sessionIdOf(f.stderr());
    const t0 = performance.now();
    const stop = await timed(NODE, [CLI, 'stop', id], { env, timeoutMs: 20_000 });
    const cliMs = performance.now() - t0;
    const emptyMs = await waitEmpty(f.ns, t0);
    const runExited = await waitUntil(() => f.child.exitCode !== null || f.child.signalCode !== null, 10_000, 5);
    const runExitMs = runExited ? performance.now() - t0 : Number.NaN;
    if (stop.code !== 0) result.errors.push(`personae stop exited ${stop.code}: ${stop.stderr.trim().slice(-300)}`);
    if (!Number.isFinite(emptyMs)) result.errors.push(`personae: processes survive 10 s after stop: ${nsMembers(f.ns).length}`);
    const a = await timed(NODE, [CLI, 'audit', '--session', id, '--kind', 'stop', '--format', 'jsonl'], { env, timeoutMs: 20_000 });
    const stops = a.stdout.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l));
    const first = stops.find((e) => e.decision === null || e.decision === undefined);
    const verified = stops.find((e) => e.detail?.verified === true);
    if (!verified) result.errors.push('personae: no verified stop event in the audit log');
    const engineMs = first && verified ? Date.parse(verified.ts) - Date.parse(first.ts) : Number.NaN;
    result.personae.push({ members: f.members, startMs: f.startMs, cliMs, emptyMs, engineMs, runExitMs, killed: verified?.detail?.killed, signalled: verified?.detail?.signalled });
  } catch (e) {
    result.errors.push(`personae (${marker}): ${e.message}`);
  } finally {
    if (f && f.child.exitCode === null) f.child.kill('SIGKILL');
  }
}

async function bareRound(home, processes, marker, result) {
  try {
    const b = await startFlood('bwrap', [...bareBwrapArgs(home.workspace), '--', ...flood(processes, marker)], home.env, home.workspace, processes, marker);
    const t0 = performance.now();
    process.kill(b.child.pid, 'SIGKILL');
    const emptyMs = await waitEmpty(b.ns, t0);
    if (!Number.isFinite(emptyMs)) result.errors.push('bare bwrap: processes survive 10 s after SIGKILL');
    result.bare.push({ members: b.members, startMs: b.startMs, emptyMs });
  } catch (e) {
    result.errors.push(`bare bwrap (${marker}): ${e.message}`);
  }
}

export async function benchStop({ home, processes = 500, rounds = 1, log = () => undefined }) {
  // The floor is cheap to set up (no exec tracing): at least 3 rounds of it, interleaved.
  const bareRounds = Math.max(3, rounds);
  const result = { processes, rounds, bareRounds, errors: [], personae: [], bare: [] };
  for (let i = 0; i < bareRounds; i++) {
    if (i < rounds) await personaeRound(home, processes, `98${i}.${process.pid % 1000}1`, result);
    await bareRound(home, processes, `97${i}.${process.pid % 1000}1`, result);
    await sleep(200);
  }
  const med = (rows, k) => summary(rows.map((r) => r[k]).filter(Number.isFinite)).median;
  result.summary = {
    personaeCliMs: med(result.personae, 'cliMs'),
    personaeEmptyMs: med(result.personae, 'emptyMs'),
    personaeEngineMs: med(result.personae, 'engineMs'),
    personaeStartMs: med(result.personae, 'startMs'),
    members: med(result.personae, 'members'),
    bareEmptyMs: med(result.bare, 'emptyMs'),
    bareStartMs: med(result.bare, 'startMs'),
  };
  const s = result.summary;
  log(`  ${s.members} processes: personae stop -> verified ${round(s.personaeCliMs, 0)} ms (engine ${round(s.personaeEngineMs, 0)} ms; namespace empty at ${round(s.personaeEmptyMs, 0)} ms); bare bwrap SIGKILL -> empty ${round(s.bareEmptyMs, 0)} ms`);
  return result;
}
