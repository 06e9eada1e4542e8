// Command rules at exec, and denied-read tripwires: what they cost.
//
// Exec decisions: inside a session, a bash loop forks and executes
// /bin/true 1,000 times, timed from inside ($EPOCHREALTIME), under three
// personas: no command rule (every exec is logged and let through without a
// look at its file), a realistic set of rules none of which names `true`
// (deny and ask rules on git, npm, curl, rm... plus one wildcard rule, so
// every exec is identified and matched), and a rule naming `true` itself with
// arguments it never has (every exec is matched under all its names). Rounds
// interleave the three; each figure is the median of the rounds.
//
// Tripwires: a read-heavy workload (20,000 files of /usr read with cat, and a
// `find` over /usr/lib) timed inside a session with the tripwires on and with
// PERSONAE_TRIPWIRES=off, interleaved: the hidden paths' FUSE file systems
// are never touched by it, so this shows what having them costs everything
// else. Then a probe-heavy workload (2,000 lookups of names under /root and
// the home directory) shows the cost per attempt on a hidden path itself.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { CLI, NODE, round, summary, timed } from './lib.js';

const EXEC_LOOP = 'N=1000; s=$EPOCHREALTIME; for ((i = 0; i < N; i++)); do /bin/true; done; e=$EPOCHREALTIME; echo "ms=$(( (${e/./} - ${s/./}) / 1000 ))"';
const READS = 'cd /usr; s=$EPOCHREALTIME; find lib -type f 2>/dev/null | head -n 20000 | xargs -d "\\n" cat >/dev/null 2>&1; find lib share >/dev/null 2>&1; e=$EPOCHREALTIME; echo "ms=$(( (${e/./} - ${s/./}) / 1000 ))"';
const PROBES = 's=$EPOCHREALTIME; for ((i = 0; i < 1000; i++)); do [ -e /root/.probe-$i ]; [ -e "$PERSONAE_BENCH_HOME/.probe-$i" ]; done; e=$EPOCHREALTIME; echo "ms=$(( (${e/./} - ${s/./}) / 1000 ))"';

const RULES = [
  'Bash(git push:*)', 'Bash(git reset --hard:*)', 'Bash(npm publish:*)', 'Bash(curl * | sh)', 'Bash(rm -rf /:*)', 'Bash(docker run:*)',
  'Bash(kubectl delete:*)', 'Bash(ssh:*)', 'Bash(scp:*)', 'Bash(* --force)', 'Bash(sudo:*)', 'Bash(python3 -m pip install:*)',
];
const ASKS = ['Bash(git commit:*)', 'Bash(npm install:*)', 'Bash(make deploy:*)'];

function persona(home, name, tools) {
  const lines = ['version: 1', `name: ${name}`, `display_name: ${name}`, 'owner: bench@example.com', 'purpose: npm run bench', 'agent: shell', 'execution_mode: autonomous', 'filesystem:', '  write: ["{workspace}"]'];
  if (tools) lines.push('tools:', `  deny: ${JSON.stringify(tools.deny)}`, `  ask: ${JSON.stringify(tools.ask ?? [])}`);
  writeFileSync(path.join(home.home, 'personas', `${name}.yaml`), `${lines.join('\n')}\n`);
}

/** One session running `script`; its own timing, or an error. */
async function inside(home, name, script, env = {}) {
  const r = await timed(NODE, [CLI, 'run', name, '--workspace', home.workspace, '--no-tty', '--', 'bash', '-c', script], { env: { ...home.env, ...env }, cwd: home.workspace, timeoutMs: 180_000 });
  const m = /ms=(\d+)/.exec(r.stdout);
  return m ? { ms: Number(m[1]) } : { error: `${name}: ${r.stderr.trim().slice(-300) || `exit ${r.code}`}` };
}

export async function benchRules({ home, rounds, log }) {
  const result = { rounds, errors: [], notes: [], exec: {}, reads: {}, probes: {} };
  persona(home, 'rules-none');
  persona(home, 'rules-set', { deny: RULES, ask: ASKS });
  persona(home, 'rules-named', { deny: [...RULES, 'Bash(true --never-given:*)'], ask: ASKS });
  const runs = { none: [], set: [], named: [], readsOn: [], readsOff: [], probesOn: [], probesOff: [] };
  for (let r = 0; r < rounds; r++) {
    for (const [key, name] of [['none', 'rules-none'], ['set', 'rules-set'], ['named', 'rules-named']]) {
      const t = await inside(home, name, EXEC_LOOP);
      if (t.error) result.errors.push(t.error);
      else runs[key].push(t.ms);
    }
    for (const [key, env] of [['readsOn', {}], ['readsOff', { PERSONAE_TRIPWIRES: 'off' }]]) {
      const t = await inside(home, 'rules-none', READS, env);
      if (t.error) result.errors.push(t.error);
      else runs[key].push(t.ms);
    }
    for (const [key, env] of [['probesOn', {}], ['probesOff', { PERSONAE_TRIPWIRES: 'off' }]]) {
      const t = await inside(home, 'rules-none', PROBES, { ...env, PERSONAE_BENCH_HOME: home.dir });
      if (t.error) result.errors.push(t.error);
      else runs[key].push(t.ms);
    }
    log(`  round ${r + 1}/${rounds}: execs ${runs.none.at(-1)} / ${runs.set.at(-1)} / ${runs.named.at(-1)} ms; reads ${runs.readsOn.at(-1)} / ${runs.readsOff.at(-1)} ms; probes ${runs.probesOn.at(-1)} / ${runs.probesOff.at(-1)} ms`);
  }
  result.exec = { none: summary(runs.none), set: summary(runs.set), named: summary(runs.named), execs: 1000 };
  result.reads = { on: summary(runs.readsOn), off: summary(runs.readsOff) };
  result.probes = { on: summary(runs.probesOn), off: summary(runs.probesOff), lookups: 2000 };
  const per = (v) => (Number.isFinite(v) ? round((v * 1000) / 1000, 1) : undefined);
  result.exec.perExecUs = { none: per(result.exec.none.median), set: per(result.exec.set.median), named: per(result.exec.named.median) };
  return result;
}
