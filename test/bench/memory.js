// Memory: 10 concurrent sessions each running `sleep`. Each `personae run`
// process supervises one session (proxy, broker, tracer reader, watcher,
// audit writer): its RSS, summed and per session, plus every other host-side
// process of the session outside the sandbox (the die-with-parent helper,
// the exec logger, bwrap's outer process). Side by side: 10 concurrent `srt` runs
// (its node process with the proxies, plus its host-side socat bridges and
// bwrap). RSS counts shared pages (node's binary, libraries) once per process.
// Ends by stopping all 10 personae sessions with one `personae stop --all`.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { CLI, NODE, OWN_NS, SRT_CLI, cmdline, descendants, killTree, pidNs, pidsWithArgv, round, rssKiB, sessionIdOf, sleep, spawnTracked, timed, waitUntil } from './lib.js';

/** RSS of `pid` and of its host-side descendants (same pid namespace as ours), by program name. */
function hostSide(pid) {
  const procs = [pid, ...descendants(pid)].filter((p) => pidNs(p) === OWN_NS);
  const byName = {};
  let total = 0;
  for (const p of procs) {
    const kib = rssKiB(p);
    const name = path.basename(cmdline(p)[0] ?? '?');
    byName[name] = (byName[name] ?? 0) + kib;
    total += kib;
  }
  return { main: rssKiB(pid), total, byName };
}

async function startSessions(n, argvFor, marker, env, cwd) {
  const started = [];
  for (let i = 0; i < n; i++) {
    const [cmd, args] = argvFor(i);
    const child = spawnTracked(cmd, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.stdout.resume();
    const up = await waitUntil(() => pidsWithArgv(['sleep', `${marker}${i}`]).some((p) => pidNs(p) !== OWN_NS) || child.exitCode !== null, 60_000, 20);
    if (!up || child.exitCode !== null) throw new Error(`session ${i} did not start: ${err.trim().slice(-300)}`);
    started.push({ child, stderr: () => err });
  }
  return started;
}

function sample(sessions) {
  const rows = sessions.map((s) => hostSide(s.child.pid));
  const sum = (k) => rows.reduce((a, r) => a + r[k], 0);
  const byName = {};
  for (const r of rows) for (const [k, v] of Object.entries(r.byName)) byName[k] = (byName[k] ?? 0) + v;
  const mib = (kib) => round(kib / 1024, 1);
  return {
    sessions: rows.length,
    mainMiB: mib(sum('main')),
    mainPerSessionMiB: mib(sum('main') / rows.length),
    hostSideMiB: mib(sum('total')),
    hostSidePerSessionMiB: mib(sum('total') / rows.length),
    byProgramMiB: Object.fromEntries(Object.entries(byName).map(([k, v]) => [k, mib(v)])),
  };
}

export async function benchMemory({ home, sessions = 10, srt = true, log = () => undefined }) {
  const result = { sessions, errors: [], notes: [] };
  const tag = `6${process.pid % 1000}.`;
  let personae = [];
  try {
    personae = await startSessions(sessions, (i) => [NODE, [CLI, 'run', 'bench', '--workspace', home.workspace, '--no-tty', '--', 'sleep', `${tag}1${i}`]], `${tag}1`, home.env, home.workspace);
    await sleep(1000);
    result.personae = sample(personae);
    log(`  personae: ${result.personae.mainPerSessionMiB} MiB per supervising process (${result.personae.mainMiB} MiB for ${sessions}); host side incl. helpers ${result.personae.hostSideMiB} MiB`);
  } catch (e) {
    result.errors.push(`personae: ${e.message}`);
  }
  // Stop them all at once, as `personae stop --all` would after a night of work.
  const t0 = performance.now();
  const stop = await timed(NODE, [CLI, 'stop', '--all'], { env: home.env, timeoutMs: 30_000 });
  result.stopAllMs = performance.now() - t0;
  if (stop.code !== 0 && personae.length > 0) result.errors.push(`personae stop --all exited ${stop.code}: ${stop.stderr.trim().slice(-300)}`);
  const ids = personae.map((s) => sessionIdOf(s.stderr())).filter(Boolean);
  result.stoppedSessions = (stop.stderr.match(/verified: no process survives/g) ?? []).length;
  if (personae.length > 0 && result.stoppedSessions !== ids.length) result.errors.push(`personae stop --all verified ${result.stoppedSessions} of ${ids.length} sessions`);
  await waitUntil(() => personae.every((s) => s.child.exitCode !== null || s.child.signalCode !== null), 10_000, 20);
  for (const s of personae) killTree(s.child.pid);
  log(`  personae stop --all: ${result.stoppedSessions} sessions verified stopped in ${round(result.stopAllMs, 0)} ms`);

  if (srt) {
    const settings = path.join(home.dir, 'srt-memory.json');
    writeFileSync(settings, JSON.stringify({ network: { allowedDomains: ['127.0.0.1:9'], deniedDomains: [] }, filesystem: { denyRead: [], allowWrite: [home.workspace], denyWrite: [] } }));
    let runs = [];
    try {
      runs = await startSessions(sessions, (i) => [NODE, [SRT_CLI, '--settings', settings, '--', 'sleep', `${tag}2${i}`]], `${tag}2`, home.env, home.workspace);
      await sleep(1000);
      result.srt = sample(runs);
      log(`  srt: ${result.srt.mainPerSessionMiB} MiB per srt process (${result.srt.mainMiB} MiB for ${sessions}); host side incl. helpers ${result.srt.hostSideMiB} MiB`);
    } catch (e) {
      result.notes.push(`srt: ${e.message}`);
    } finally {
      const tree = runs.flatMap((s) => [s.child.pid, ...descendants(s.child.pid)]);
      for (const s of runs) {
        try {
          process.kill(s.child.pid, 'SIGTERM');
        } catch {
          // gone
        }
      }
      await waitUntil(() => runs.every((s) => s.child.exitCode !== null || s.child.signalCode !== null), 5000, 20);
      for (const p of tree) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          // gone
        }
      }
      // Whatever srt left in its sandboxes (it has no stop command): ours by marker.
      for (let i = 0; i < sessions; i++) for (const p of pidsWithArgv(['sleep', `${tag}2${i}`])) killTree(p);
    }
  }
  return result;
}
