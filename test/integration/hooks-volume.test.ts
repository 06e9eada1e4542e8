// Volume: a session of 1,000 intercepted calls stores all 1,000 decisions, and
// a flood of parallel calls with garbage mixed in is answered call by call.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { audit, cli, makeHome, type Home } from './harness.js';

const HOOK = '/run/personae/hooks/personae-hook';

describe('hook volume', () => {
  let h: Home;
  beforeAll(() => {
    h = makeHome();
    h.writePersona({ name: 'busy', agent: 'shell', execution_mode: 'autonomous', tools: { deny: ['Bash(rm -rf:*)'] } });
  });
  afterAll(() => h.cleanup());

  it('1,000 sequential intercepted calls: every decision answered and stored', async () => {
    // Eight agents' worth of calls in parallel lanes, 125 calls each, one after another per lane.
    const lane = (n: number): string =>
      `( ok=0; for i in $(seq 1 125); do printf '{"tool_name":"Bash","tool_input":{"command":"echo ${n}-%d"}}' $i | ${HOOK} PreToolUse >/dev/null && ok=$((ok+1)); done; echo "lane-ok=$ok" ) &`;
    const script = `${[1, 2, 3, 4, 5, 6, 7, 8].map(lane).join('\n')}\nwait`;
    const r = await cli(h, ['run', 'busy', '--', 'bash', '-c', script], { timeoutMs: 240_000 });
    expect(r.stdout.split('\n').filter((l) => l === 'lane-ok=125')).toHaveLength(8);
    const id = /session ([0-9a-f-]{36})/.exec(r.stderr)?.[1] ?? '';
    const calls = await audit(h, ['--session', id, '--kind', 'tool.call']);
    expect(calls).toHaveLength(1000);
    expect(new Set(calls.map((e) => e.target)).size).toBe(1000);
  }, 260_000);

  it('a parallel flood with garbage mixed in: valid calls decided, garbage denied, nothing lost', async () => {
    const script = [
      `for i in $(seq 1 100); do ( printf '{"tool_name":"Bash","tool_input":{"command":"rm -rf /x%d"}}' $i | ${HOOK} PreToolUse >/dev/null 2>&1; echo "deny-rc=$?" ) & done`,
      `for i in $(seq 1 100); do ( printf '{"tool_name":"Bash","tool_input":{"command":"ls %d"}}' $i | ${HOOK} PreToolUse >/dev/null 2>&1; echo "allow-rc=$?" ) & done`,
      `for i in $(seq 1 50); do ( head -c 300 /dev/urandom | ${HOOK} PreToolUse >/dev/null 2>&1; echo "junk-rc=$?" ) & done`,
      `for i in $(seq 1 20); do ( head -c 200 /dev/urandom > /dev/tcp/127.0.0.1/3129 ) 2>/dev/null & done`,
      'wait',
    ].join('\n');
    const r = await cli(h, ['run', 'busy', '--', 'bash', '-c', script], { timeoutMs: 120_000 });
    const count = (s: string): number => r.stdout.split('\n').filter((l) => l === s).length;
    expect([count('deny-rc=2'), count('allow-rc=0'), count('junk-rc=2')], r.stdout.split('\n').filter((l) => !/^(deny-rc=2|allow-rc=0|junk-rc=2)$/.test(l)).join('|')).toEqual([100, 100, 50]);
    expect(count('deny-rc=2')).toBe(100);
    expect(count('allow-rc=0')).toBe(100);
    expect(count('junk-rc=2')).toBe(50);
    const id = /session ([0-9a-f-]{36})/.exec(r.stderr)?.[1] ?? '';
    const calls = await audit(h, ['--session', id, '--kind', 'tool.call']);
    expect(calls.filter((e) => e.tool === 'Bash' && e.decision === 'deny')).toHaveLength(100);
    expect(calls.filter((e) => e.tool === 'Bash' && e.decision === 'allow')).toHaveLength(100);
    expect(calls.filter((e) => e.tool === null && e.decision === 'deny').length).toBeGreaterThanOrEqual(50);
  }, 150_000);
});
