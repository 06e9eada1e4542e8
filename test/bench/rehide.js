// Re-hiding: a denied file that the host replaces during a session (a rename
// over it, as log rotation does) is hidden again inside the running sandbox.
// A reader inside polls the file in a tight loop and times every stretch
// during which the host's new content was readable; the host replaces the
// file `rounds` times, 300 ms apart. No peer re-hides (in srt, as in bare
// bwrap, the new file stays readable until the session ends), so this is a
// figure, not a ratio. Correctness: one re-hide event per replacement.
import { renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CLI, NODE, round, sessionIdOf, sleep, spawnTracked, summary, timed, waitUntil } from './lib.js';

const READER = `
import json, sys, time
path, seconds = sys.argv[1], float(sys.argv[2])
windows, reads, since = [], 0, None
print("ready", flush=True)
end = time.perf_counter() + seconds
while time.perf_counter() < end:
    reads += 1
    try:
        with open(path) as f:
            visible = f.read().startswith("NEW")
    except OSError:
        visible = False
    now = time.perf_counter()
    if visible and since is None:
        since = now
    elif not visible and since is not None:
        windows.append((now - since) * 1000)
        since = None
print(json.dumps({"windows": windows, "reads": reads}), flush=True)
`;

export async function benchRehide({ home, rounds, log }) {
  const result = { rounds, errors: [], notes: [] };
  const secret = path.join(home.workspace, 'rehide-secret.txt');
  writeFileSync(secret, 'old');
  writeFileSync(
    path.join(home.home, 'personas', 'rehide.yaml'),
    ['version: 1', 'name: rehide', 'display_name: Rehide', 'owner: bench@example.com', 'purpose: npm run bench', 'agent: shell', 'execution_mode: autonomous', 'filesystem:', '  write: ["{workspace}"]', `  read_deny: [${JSON.stringify(secret)}]`, ''].join('\n'),
  );
  const seconds = rounds * 0.3 + 2;
  const child = spawnTracked(NODE, [CLI, 'run', 'rehide', '--workspace', home.workspace, '--', 'python3', '-c', READER, secret, String(seconds)], {
    env: home.env,
    cwd: home.workspace,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  if (!(await waitUntil(() => out.includes('ready') || child.exitCode !== null, 30_000, 10)) || child.exitCode !== null) {
    result.errors.push(`the reader did not start: ${err.trim().slice(-300)}`);
    return result;
  }
  await sleep(300);
  for (let i = 0; i < rounds; i++) {
    const tmp = `${secret}.new`;
    writeFileSync(tmp, `NEW ${i}`);
    renameSync(tmp, secret);
    await sleep(300);
  }
  const exited = await waitUntil(() => child.exitCode !== null || child.signalCode !== null, seconds * 1000 + 20_000, 20);
  if (!exited) {
    result.errors.push('the reader did not finish');
    return result;
  }
  const line = out.split('\n').find((l) => l.startsWith('{'));
  const measured = line ? JSON.parse(line) : undefined;
  if (!measured) {
    result.errors.push(`no measurement from the reader: ${err.trim().slice(-300)}`);
    return result;
  }
  const id = sessionIdOf(err);
  const a = await timed(NODE, [CLI, 'audit', '--session', id, '--kind', 'decision', '--format', 'jsonl'], { env: home.env, timeoutMs: 20_000 });
  const rehidden = a.stdout.split('\n').filter((l) => l.includes(secret)).length;
  if (rehidden !== rounds) result.errors.push(`${rehidden} re-hide events for ${rounds} replacements`);
  result.reads = measured.reads;
  result.visibleRounds = measured.windows.length;
  result.windows = summary(measured.windows);
  result.maxMs = measured.windows.length > 0 ? round(Math.max(...measured.windows), 3) : 0;
  log(`  ${rounds} replacements: new content readable in ${result.visibleRounds}; window median ${round(result.windows.median ?? 0, 3)} ms, max ${result.maxMs} ms (${measured.reads} reads)`);
  return result;
}
