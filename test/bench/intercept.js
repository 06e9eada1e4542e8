// Interception: inside one personae sandbox, time the real hook command
// (/run/personae/hooks/personae-hook PreToolUse, answered by the session's
// broker) against a no-op hook (a script on the same interpreter that reads
// its stdin and exits) with the same small PreToolUse payload, alternating
// which goes first, timed by bash's $EPOCHREALTIME. The difference is what
// interception adds to one tool call. Like with like, checked: both start on
// the hook's own shebang line, and the session's exec log holds exactly one
// exec per no-op call and none for the hook beyond its own (the hook is one
// exec that starts nothing). Then a session of 1,000 intercepted calls,
// checked through `personae audit --session ID --kind tool.call`: exactly
// 1,000 events.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { bareBwrapArgs } from './launch.js';
import { CLI, NODE, ROOT, round, script, sessionIdOf, summary, timed } from './lib.js';

/** The hook command's own first line (#!/bin/bash): the no-op starts on the same interpreter. */
const HOOK_SHEBANG = readFileSync(path.join(ROOT, 'sandbox', 'intercept', 'hooks', 'personae-hook'), 'utf8').split('\n')[0];

const NOOP = `${HOOK_SHEBANG}
# A no-op hook: read the payload, answer nothing, allow.
IFS= read -r -d '' payload
exit 0
`;

// $1 = iterations; prints "hook_us noop_us hook_rc noop_rc" per iteration.
const PAIRED = `#!/bin/bash
n=$1; hook=/run/personae/hooks/personae-hook; noop=$PWD/noop-hook.sh
for ((i = 0; i < n; i++)); do
  printf -v p '{"session_id":"bench","hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"ls -la src/%d"},"tool_use_id":"toolu_pair_%d","cwd":"%s"}' "$i" "$i" "$PWD"
  if (( i % 2 == 0 )); then
    t0=\${EPOCHREALTIME/./}; "$hook" PreToolUse <<<"$p" >/dev/null 2>&1; hr=$?
    t1=\${EPOCHREALTIME/./}; "$noop" PreToolUse <<<"$p" >/dev/null 2>&1; nr=$?
    t2=\${EPOCHREALTIME/./}; echo "$((t1 - t0)) $((t2 - t1)) $hr $nr"
  else
    t0=\${EPOCHREALTIME/./}; "$noop" PreToolUse <<<"$p" >/dev/null 2>&1; nr=$?
    t1=\${EPOCHREALTIME/./}; "$hook" PreToolUse <<<"$p" >/dev/null 2>&1; hr=$?
    t2=\${EPOCHREALTIME/./}; echo "$((t2 - t1)) $((t1 - t0)) $hr $nr"
  fi
done
`;

// $1 = iterations; prints the no-op hook's time per iteration (us): the
// same spawn outside personae (bare bwrap, no exec tracing), for context.
const NOOP_ONLY = `#!/bin/bash
n=$1; noop=$PWD/noop-hook.sh
for ((i = 0; i < n; i++)); do
  printf -v p '{"session_id":"bench","hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"ls -la src/%d"},"tool_use_id":"toolu_pair_%d","cwd":"%s"}' "$i" "$i" "$PWD"
  t0=\${EPOCHREALTIME/./}; "$noop" PreToolUse <<<"$p" >/dev/null 2>&1; t1=\${EPOCHREALTIME/./}; echo "$((t1 - t0))"
done
`;

// $1 = calls; prints "ok denied elapsed_us".
const SESSION = `#!/bin/bash
n=$1; hook=/run/personae/hooks/personae-hook; ok=0; bad=0
t0=\${EPOCHREALTIME/./}
for ((i = 0; i < n; i++)); do
  printf -v p '{"session_id":"bench","hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"echo %d"},"tool_use_id":"toolu_s_%d","cwd":"%s"}' "$i" "$i" "$PWD"
  if "$hook" PreToolUse <<<"$p" >/dev/null 2>&1; then ok=$((ok + 1)); else bad=$((bad + 1)); fi
done
t1=\${EPOCHREALTIME/./}
echo "$ok $bad $((t1 - t0))"
`;

export async function benchIntercept({ home, iterations = 500, calls = 1000, log = () => undefined }) {
  script(home.workspace, 'noop-hook.sh', NOOP);
  script(home.workspace, 'paired.sh', PAIRED);
  script(home.workspace, 'session.sh', SESSION);
  script(home.workspace, 'noop-only.sh', NOOP_ONLY);
  const run = (cmd, timeoutMs) => timed(NODE, [CLI, 'run', 'bench', '--workspace', home.workspace, '--no-tty', '--', ...cmd], { cwd: home.workspace, env: home.env, timeoutMs });
  const result = { iterations, calls, errors: [] };

  const r = await run(['./paired.sh', String(iterations)], 300_000);
  if (r.code !== 0) result.errors.push(`paired session exited ${r.code}: ${r.stderr.trim().slice(-300)}`);
  const rows = r.stdout.trim().split('\n').filter((l) => /^\d+ \d+ \d+ \d+$/.test(l)).map((l) => l.split(' ').map(Number));
  const hook = rows.map((x) => x[0] / 1000);
  const noop = rows.map((x) => x[1] / 1000);
  const added = rows.map((x) => (x[0] - x[1]) / 1000);
  result.samples = rows.length;
  result.hookDenied = rows.filter((x) => x[2] !== 0).length;
  result.noopFailed = rows.filter((x) => x[3] !== 0).length;
  if (rows.length !== iterations) result.errors.push(`paired: ${rows.length} of ${iterations} samples`);
  if (result.hookDenied > 0) result.errors.push(`paired: the broker denied ${result.hookDenied} calls (expected allow)`);
  result.hook = summary(hook);
  result.noop = summary(noop);
  result.added = summary(added);
  result.addedMedianOfMedians = result.hook.median - result.noop.median;
  // Like with like: the paired session ran ./paired.sh, then exactly one exec per no-op call, and
  // nothing the hook started (its own exec, under /run/personae, is left out of the log by design).
  const pairedId = sessionIdOf(r.stderr);
  if (pairedId !== undefined) {
    const a = await timed(NODE, [CLI, 'audit', '--session', pairedId, '--kind', 'exec', '--format', 'jsonl', '--limit', '100000'], { env: home.env, timeoutMs: 30_000 });
    const execs = a.stdout.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l).detail?.path ?? '');
    const noopExecs = execs.filter((p) => p.endsWith('/noop-hook.sh')).length;
    const others = execs.filter((p) => !p.endsWith('/noop-hook.sh') && p !== './paired.sh');
    result.execsPerNoop = rows.length > 0 ? noopExecs / rows.length : Number.NaN;
    result.otherExecs = others.length;
    result.shebang = HOOK_SHEBANG;
    if (noopExecs !== rows.length || others.length > 0) result.errors.push(`paired: not like with like: ${noopExecs} execs for ${rows.length} no-op calls, and ${others.length} others (${[...new Set(others)].slice(0, 3).join(', ')})`);
  } else result.errors.push('paired: no session id');
  const b = await timed('bwrap', [...bareBwrapArgs(home.workspace), '--', './noop-only.sh', String(Math.min(iterations, 200))], { cwd: home.workspace, env: home.env, timeoutMs: 60_000 });
  result.noopBareBwrap = summary(b.stdout.trim().split('\n').filter((l) => /^\d+$/.test(l)).map((l) => Number(l) / 1000));
  log(`  hook ${round(result.hook.median, 2)} ms vs no-op ${round(result.noop.median, 2)} ms (no-op in bare bwrap: ${round(result.noopBareBwrap.median, 2)} ms): added median ${round(result.added.median, 2)} ms, p99 ${round(result.added.p99, 2)} ms`);

  const s = await run(['./session.sh', String(calls)], 400_000);
  const id = sessionIdOf(s.stderr);
  const [ok, denied, us] = (s.stdout.trim().split('\n').at(-1) ?? '').split(' ').map(Number);
  result.session = { id, exit: s.code, allowed: ok, denied, callsPerSecond: us > 0 ? (calls / us) * 1e6 : Number.NaN, wallMs: s.ms };
  if (s.code !== 0 || id === undefined) result.errors.push(`${calls}-call session exited ${s.code}: ${s.stderr.trim().slice(-300)}`);
  if (ok !== calls) result.errors.push(`${calls}-call session: ${ok} allowed, ${denied} denied`);
  if (id !== undefined) {
    const a = await timed(NODE, [CLI, 'audit', '--session', id, '--kind', 'tool.call', '--format', 'jsonl', '--limit', '100000'], { env: home.env, timeoutMs: 30_000 });
    const events = a.stdout.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l));
    const ids = new Set(events.map((e) => e.detail?.tool_use_id));
    result.session.stored = events.length;
    result.session.distinct = ids.size;
    result.session.allPersona = events.every((e) => e.persona === 'bench');
    if (events.length !== calls || ids.size !== calls) result.errors.push(`audit: ${events.length} tool.call events (${ids.size} distinct) for ${calls} calls`);
  }
  log(`  ${calls}-call session: ${ok} allowed, ${result.session.stored ?? '?'} tool.call events stored, ${round(result.session.callsPerSecond, 0)} calls/s`);
  return result;
}
