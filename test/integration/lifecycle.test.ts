// Limits, the per-persona kill switch, and the persona's git identity.
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { audit, cli, makeHome, processesMatching, startRun, type Home } from './harness.js';

describe('session lifecycle', () => {
  let h: Home;
  beforeAll(() => {
    h = makeHome();
    h.writePersona({ name: 'brief', agent: 'shell', execution_mode: 'autonomous', limits: { max_runtime: '2s' } });
    h.writePersona({ name: 'night', agent: 'shell', execution_mode: 'autonomous', display_name: 'Night Builder', filesystem: { write: ['{workspace}'] } });
    h.writePersona({ name: 'day', agent: 'shell', execution_mode: 'autonomous' });
  });
  afterAll(() => h.cleanup());

  it('max_runtime stops the session with a limit event', async () => {
    const marker = `5${Math.floor(Math.random() * 1e5)}`;
    const started = Date.now();
    const r = await cli(h, ['run', 'brief', '--', 'bash', '-c', `sleep ${marker} & sleep ${marker}0`]);
    expect(Date.now() - started).toBeLessThan(8000);
    expect(r.code).not.toBe(0);
    expect(processesMatching(`^sleep ${marker}`)).toEqual([]);
    const id = /session ([0-9a-f-]{36})/.exec(r.stderr)?.[1] ?? '';
    const limits = await audit(h, ['--session', id, '--kind', 'limit']);
    expect(limits.map((e) => [e.target, e.reason])).toEqual([['max_runtime', 'limits.max_runtime: 2s']]);
  });

  it("suspend stops that persona's sessions only, and refuses new runs until resume", async () => {
    const night = await startRun(h, ['night', '--', 'sleep', '600']);
    const day = await startRun(h, ['day', '--', 'sleep', '601']);
    const s = await cli(h, ['persona', 'suspend', 'night']);
    expect(s.code).toBe(0);
    expect((await night.done).code).not.toBe(0);
    expect(processesMatching('^sleep 600$')).toEqual([]);
    expect(processesMatching('^sleep 601$').length).toBe(1);
    const refused = await cli(h, ['run', 'night', '--', 'true']);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('suspended');
    expect((await cli(h, ['persona', 'resume', 'night'])).code).toBe(0);
    expect((await cli(h, ['run', 'night', '--', 'true'])).code).toBe(0);
    await cli(h, ['stop', day.session]);
    await day.done;
    const stops = await audit(h, ['--session', night.session, '--kind', 'stop']);
    expect(stops.some((e) => e.reason === 'suspended')).toBe(true);
  });

  it('commits name the persona as author and the human in a trailer', async () => {
    const script = 'git init -q . && git add -A && echo x > f && git add f && git commit -q -m "work" && git log -1 --format="%an <%ae>%n%B"';
    const r = await cli(h, ['run', 'night', '--on-behalf-of', 'alice@example.com', '--', 'sh', '-c', script]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Night Builder <night@personae.invalid>');
    expect(r.stdout).toContain('On-behalf-of: alice@example.com');
    expect(r.stdout).toMatch(/Personae-Session: [0-9a-f-]{36}/);
    // And from outside: the repository really has that commit.
    const log = spawnSync('git', ['-C', h.workspace, 'log', '-1', '--format=%an%n%B'], { encoding: 'utf8' });
    expect(log.stdout).toContain('Night Builder');
    expect(log.stdout).toContain('On-behalf-of: alice@example.com');
  });

  it('records a diff of each tracked file the session changed (git run in a sandbox of its own)', async () => {
    const r = await cli(h, ['run', 'night', '--', 'sh', '-c', 'echo changed-line >> f && echo new > untracked.txt']);
    expect(r.code, r.stderr).toBe(0);
    const id = /session ([0-9a-f-]{36})/.exec(r.stderr)?.[1] ?? '';
    const diffs = await audit(h, ['--session', id, '--kind', 'fs.diff']);
    expect(diffs.map((e) => e.target)).toEqual([`${h.workspace}/f`]);
    expect(diffs[0]?.detail.diff).toContain('+changed-line');
  });
});
