// Launch: `personae run` vs `srt` vs bare `bwrap`, each a cold process, on
// `true` and on a command that makes one allowed HTTP request to a loopback
// server. Runs are interleaved (one of each per round, the order rotating)
// so machine noise hits every contender alike.
//   personae  node bin/personae.cjs run bench -- CMD   (the bench persona allows
//             bench.test, mapped by PERSONAE_HOSTS to the loopback server)
//   srt       node srt/dist/cli.js --settings S -- CMD (settings allow
//             127.0.0.1:PORT; writes: the workspace)
//   bwrap     bwrap with personae's namespace and mount flags, without its
//             extras (no exec logger, proxy, socat bridges, seccomp helper,
//             broker, watcher, audit); for the HTTP command it keeps the host
//             network and connects directly (there is no proxy to go through)
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { CLI, NODE, SRT_CLI, round, startHost, summary, timed } from './lib.js';

/** personae's base bwrap flags (sandbox/launch/plan.ts), workspace writable. */
export function bareBwrapArgs(workspace, { net = false } = {}) {
  return [
    '--unshare-user', '--unshare-pid', '--unshare-ipc', '--unshare-uts', ...(net ? [] : ['--unshare-net']), '--unshare-cgroup-try',
    '--die-with-parent', '--new-session', '--cap-drop', 'ALL', '--hostname', 'bench',
    '--ro-bind', '/', '/', '--proc', '/proc', '--dev', '/dev',
    '--tmpfs', '/tmp', '--tmpfs', '/var/tmp', '--tmpfs', '/dev/shm', '--tmpfs', '/run',
    '--bind', workspace, workspace, '--chdir', workspace,
  ];
}

const CURL = ['curl', '-sS', '--noproxy', '', '--max-time', '10', '-o', '/dev/null', '-w', '%{http_code}'];

export async function benchLaunch({ home, runs = 20, srt = true, log = () => undefined }) {
  const up = await startHost('upstream');
  const result = { runs, errors: [], notes: [] };
  // personae's failures fail the bench; the other contenders' are recorded as notes.
  const problem = (n, text) => (n === 'personae' ? result.errors : result.notes).push(text);
  try {
    const settings = path.join(home.dir, 'srt-settings.json');
    writeFileSync(settings, JSON.stringify({
      network: { allowedDomains: [`127.0.0.1:${up.port}`], deniedDomains: [] },
      filesystem: { denyRead: [], allowWrite: [home.workspace], denyWrite: [] },
    }));
    const env = { ...home.env, PERSONAE_HOSTS: `bench.test=127.0.0.1:${up.port}` };
    const opts = { cwd: home.workspace, env, timeoutMs: 30_000 };
    const personae = (cmd) => [NODE, [CLI, 'run', 'bench', '--workspace', home.workspace, '--no-tty', '--', ...cmd]];
    const srtRun = (cmd) => [NODE, [SRT_CLI, '--settings', settings, '--', ...cmd]];
    const bwrap = (cmd, net) => ['bwrap', [...bareBwrapArgs(home.workspace, { net }), '--', ...cmd]];
    const workloads = {
      true: {
        check: (r) => r.code === 0,
        contenders: {
          bwrap: bwrap(['true'], false),
          personae: personae(['true']),
          ...(srt ? { srt: srtRun(['true']) } : {}),
        },
      },
      http: {
        check: (r) => r.code === 0 && r.stdout.trim() === '200',
        contenders: {
          bwrap: bwrap([...CURL, `http://127.0.0.1:${up.port}/small`], true),
          personae: personae([...CURL, 'http://bench.test/small']),
          ...(srt ? { srt: srtRun([...CURL, `http://127.0.0.1:${up.port}/small`]) } : {}),
        },
      },
    };
    for (const [wname, w] of Object.entries(workloads)) {
      const names = Object.keys(w.contenders);
      const samples = Object.fromEntries(names.map((n) => [n, []]));
      const failures = Object.fromEntries(names.map((n) => [n, 0]));
      // One warm-up of each (page cache, first-run set-up), not counted.
      for (const n of names) {
        const r = await timed(...w.contenders[n], opts);
        if (!w.check(r)) problem(n, `${wname}/${n} warm-up failed (exit ${r.code}): ${(r.stderr || r.stdout).trim().slice(-300)}`);
      }
      for (let i = 0; i < runs; i++) {
        for (let k = 0; k < names.length; k++) {
          const n = names[(i + k) % names.length];
          const r = await timed(...w.contenders[n], opts);
          if (w.check(r)) samples[n].push(r.ms);
          else {
            failures[n]++;
            if (failures[n] <= 2) problem(n, `${wname}/${n} failed (exit ${r.code}): ${(r.stderr || r.stdout).trim().slice(-300)}`);
          }
        }
      }
      result[wname] = Object.fromEntries(names.map((n) => [n, { ...summary(samples[n]), failures: failures[n] }]));
      log(`  ${wname}: ${names.map((n) => `${n} ${round(result[wname][n].median, 0)} ms`).join(', ')}`);
    }
    // Where personae's time goes: one run with PERSONAE_DEBUG=timing (ms since its process started).
    const t = await timed(...personae(['true']), { ...opts, env: { ...env, PERSONAE_DEBUG: 'timing' } });
    result.phases = [...t.stderr.matchAll(/personae\[timing\] ([\d.]+)ms (.+)/g)].map((m) => ({ at: Number(m[1]), phase: m[2] }));
    result.phasesTotal = t.ms;
  } finally {
    await up.stop();
  }
  return result;
}
