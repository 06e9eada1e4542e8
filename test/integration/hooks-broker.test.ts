// The hook command and broker, end to end inside the real sandbox, driven by a
// plain shell "agent" that speaks Claude Code's hook protocol. Judged from
// outside: exit codes, what the agent is told, and the audit log.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { audit, cli, makeHome, startRun, testUsers, type Home } from './harness.js';

const HOOK = '/run/personae/hooks/personae-hook';
const call = (event: string, payload: unknown): string =>
  `printf '%s' '${JSON.stringify(payload).replace(/'/g, `'\\''`)}' | ${HOOK} ${event}; echo " rc=$?"`;
const bash = (command: string): unknown => ({ session_id: 'claimed-other-session', hook_event_name: 'PreToolUse', tool_name: 'Bash', tool_input: { command } });

describe('hook broker', () => {
  let h: Home;
  beforeAll(() => {
    h = makeHome();
    h.writePersona({
      name: 'hooked',
      agent: 'shell',
      execution_mode: 'autonomous',
      filesystem: { write: ['{workspace}'] },
      tools: { deny: ['Bash(git push:*)', 'WebFetch(domain:evil.example.com)'], ask: ['Bash(npm publish:*)'] },
      limits: { approval_timeout: '3s', drift_threshold: 3, on_drift: 'stop' },
    });
  });
  afterAll(() => h.cleanup());

  it('allows, denies with the rule as reason, and denies bad input', async () => {
    const script = [
      call('PreToolUse', bash('ls -la')),
      call('PreToolUse', bash('echo hi && git push origin main')),
      call('PreToolUse', { tool_name: 'WebFetch', tool_input: { url: 'https://evil.example.com/x', prompt: 'p' } }),
      `printf 'not json' | ${HOOK} PreToolUse; echo " rc=$?"`,
      `head -c 1100000 /dev/zero | tr '\\0' a | ${HOOK} PreToolUse; echo " rc=$?"`,
      `printf '{"tool_name":"Bash","tool_input":{"command":"\\377\\376"}}' | ${HOOK} PreToolUse; echo " rc=$?"`,
      `printf '{}' | PERSONAE_BROKER_PORT=9 ${HOOK} PreToolUse; echo " rc=$?"`,
    ].join('\n');
    const r = await cli(h, ['run', 'hooked', '--', 'bash', '-c', script]);
    const out = r.stdout + r.stderr;
    const rcs = [...r.stdout.matchAll(/ rc=(\d+)/g)].map((m) => Number(m[1]));
    expect(rcs).toEqual([0, 2, 2, 2, 2, 2, 2]);
    expect(r.stdout).toContain('"permissionDecision":"allow"');
    expect(out).toContain('tools.deny: Bash(git push:*)');
    expect(out).toContain('tools.deny: WebFetch(domain:evil.example.com)');
    expect(out).toContain('malformed hook payload');
    expect(out).toContain('too large');
    expect(out).toContain('not valid UTF-8');
    expect(out).toContain('broker is unreachable');
    const id = /session ([0-9a-f-]{36})/.exec(r.stderr)?.[1] ?? '';
    const calls = await audit(h, ['--session', id, '--kind', 'tool.call']);
    expect(calls.map((e) => [e.tool, e.decision])).toEqual(
      expect.arrayContaining([
        ['Bash', 'allow'],
        ['Bash', 'deny'],
        ['WebFetch', 'deny'],
      ]),
    );
    expect(calls.every((e) => e.persona === 'hooked' && e.session === id)).toBe(true);
    expect(calls.find((e) => e.decision === 'deny' && e.tool === 'Bash')?.reason).toBe('tools.deny: Bash(git push:*)');
    expect(calls.filter((e) => e.tool === null && e.decision === 'deny').length).toBeGreaterThanOrEqual(3);
  });

  it('whatever the agent, a denied command run through any shell never runs, and the rest of the script does', async () => {
    // personae mounts no shell of its own any more: the paths where the real shells once were are gone,
    // and every program any shell starts is decided at its exec.
    const script = [
      `sh -c 'echo plain-ok'; echo " rc=$?"`,
      `bash -c 'cd /tmp && git push origin main && touch /tmp/pushed'; echo " rc=$?"`,
      `sh -c "echo \\$(git push)"; echo " rc=$?"`,
      `bash -c 'git push origin main; echo after-push'; echo " rc=$?"`,
      `for s in /run/personae/bin/bash /run/personae/bin/sh; do $s -c 'git push' 2>/dev/null; echo " rc=$?"; test -e $s && echo "$s exists"; done`,
      `ls /run/personae/bin/`,
    ].join('\n');
    writeFileSync(path.join(h.workspace, 'agent.sh'), `${script}\n`);
    const r = await cli(h, ['run', 'hooked', '--', 'bash', 'agent.sh']);
    expect(r.stdout).toContain('plain-ok');
    expect(r.stdout).toContain('after-push');
    const rcs = [...r.stdout.matchAll(/ rc=(\d+)/g)].map((m) => Number(m[1]));
    expect(rcs).toEqual([0, 126, 0, 0, 127, 127]);
    expect(r.stdout).not.toContain('exists');
    expect(r.stdout.split('\n').filter((l) => l.trim() !== '' && !/rc=|plain-ok|after-push/.test(l))).toEqual(['personae-seccomp']);
    const id = /session ([0-9a-f-]{36})/.exec(r.stderr)?.[1] ?? '';
    const execs = await audit(h, ['--session', id, '--kind', 'exec']);
    const denied = execs.filter((e) => e.decision === 'deny');
    expect(denied.map((e) => e.target)).toEqual(['git push origin main', 'git push', 'git push origin main']);
    expect(denied.every((e) => e.reason === 'tools.deny: Bash(git push:*)' && e.persona === 'hooked')).toBe(true);
    expect(execs.filter((e) => e.decision !== 'deny').every((e) => e.decision === 'allow')).toBe(true);
    expect(execs.some((e) => e.target === "sh -c 'echo plain-ok'")).toBe(true);
  });

  it('an ask waits for a human: approved from another terminal', async () => {
    const run = await startRun(h, ['hooked', '--', 'bash', '-c', call('PreToolUse', bash('npm publish --tag next'))]);
    let id = '';
    const deadline = Date.now() + 8000;
    while (!id && Date.now() < deadline) {
      const list = await cli(h, ['approvals', '--json']);
      id = (JSON.parse(list.stdout || '[]') as Array<{ id: string; session: string }>).find((a) => a.session === run.session)?.id ?? '';
    }
    expect(id).toMatch(/^[0-9a-f]{8}$/);
    expect((await cli(h, ['approve', id])).code).toBe(0);
    const r = await run.done;
    expect(r.stdout).toContain('"permissionDecision":"allow"');
    expect(r.stdout).toContain(' rc=0');
    const approvals = await audit(h, ['--session', run.session, '--kind', 'approval']);
    expect(approvals[0]?.decision).toBe('allow');
    expect(approvals[0]?.reason).toMatch(/^approved by /);
  });

  it('an unanswered ask is denied after the timeout', async () => {
    const r = await cli(h, ['run', 'hooked', '--', 'bash', '-c', call('PreToolUse', bash('npm publish'))]);
    expect(r.stdout).toContain(' rc=2');
    expect(r.stderr).toContain('no answer within limits.approval_timeout (3s)');
  });

  it('repeated identical denied calls are drift: the session is stopped', async () => {
    const again = call('PreToolUse', bash('git push'));
    const r = await cli(h, ['run', 'hooked', '--', 'bash', '-c', `${again}; ${again}; ${again}; sleep 20; echo not-stopped`]);
    expect(r.stdout).not.toContain('not-stopped');
    const id = /session ([0-9a-f-]{36})/.exec(r.stderr)?.[1] ?? '';
    const drift = await audit(h, ['--session', id, '--kind', 'drift']);
    expect(drift).toHaveLength(1);
    expect((await audit(h, ['--session', id, '--kind', 'limit']))[0]?.target).toBe('drift');
  });
});

for (const as of testUsers()) {
  describe(`hook broker limits, as ${as.label}`, () => {
    let h: Home;
    beforeAll(() => {
      h = makeHome(as);
      h.writePersona({ name: 'limited', agent: 'shell', execution_mode: 'autonomous', limits: { max_tool_calls: 3 } });
      h.writePersona({
        name: 'pausing',
        agent: 'shell',
        execution_mode: 'autonomous',
        tools: { deny: ['Bash(git push:*)'] },
        limits: { approval_timeout: '20s', drift_threshold: 3, on_drift: 'pause' },
      });
    });
    afterAll(() => h.cleanup());

    it('limits.max_tool_calls: the call past the limit is denied and the session stops', async () => {
      // An agent that runs each command its hook allows (exit 0), as Claude Code does.
      const agent = [1, 2, 3, 4]
        .map((n) => `printf '%s' '${JSON.stringify(bash(`echo call-${n}`))}' | ${HOOK} PreToolUse >/dev/null && echo call-${n}-ran`)
        .join('\n');
      const r = await cli(h, ['run', 'limited', '--', 'bash', '-c', `${agent}\nsleep 8; echo not-stopped`]);
      expect(r.stdout).toBe('call-1-ran\ncall-2-ran\ncall-3-ran\n');
      expect(r.code).not.toBe(0);
      const id = /session ([0-9a-f-]{36})/.exec(r.stderr)?.[1] ?? '';
      const events = await audit(h, ['--session', id]);
      const decided = events.filter((e) => e.kind === 'tool.call').map((e) => [e.target, e.decision, e.reason]);
      expect(decided.map((d) => d.slice(0, 2))).toEqual([
        ['echo call-1', 'allow'],
        ['echo call-2', 'allow'],
        ['echo call-3', 'allow'],
        ['echo call-4', 'deny'],
      ]);
      expect(decided[3]?.[2]).toBe('limits.max_tool_calls: 3');
      expect(events.filter((e) => e.kind === 'limit').map((e) => [e.target, e.reason])).toEqual([['max_tool_calls', 'limits.max_tool_calls: 3']]);
      expect(events.find((e) => e.kind === 'session.end')?.reason).toBe('limit');
    });

    it('on_drift: pause: after the threshold, a call the rules allow becomes an ask; approved, it runs, and the session goes on', async () => {
      const push = call('PreToolUse', bash('git push'));
      const ls = call('PreToolUse', bash('ls -la'));
      // ls is allowed before the drift; three identical denied pushes are drift; then the same ls waits for a human.
      const run = await startRun(h, ['pausing', '--', 'bash', '-c', `${ls}\n${push}\n${push}\n${push}\n${ls}\necho still-running`]);
      let pending: { id: string; target: string; reason: string } | undefined;
      const deadline = Date.now() + 10_000;
      while (pending === undefined && Date.now() < deadline) {
        const list = await cli(h, ['approvals', '--json']);
        pending = (JSON.parse(list.stdout || '[]') as Array<{ id: string; session: string; target: string; reason: string }>).find((a) => a.session === run.session);
      }
      expect(pending).toMatchObject({ target: 'ls -la', reason: 'session paused after drift' });
      expect((await cli(h, ['approve', pending?.id ?? ''])).code).toBe(0);
      const r = await run.done;
      expect([...r.stdout.matchAll(/ rc=(\d+)/g)].map((m) => Number(m[1]))).toEqual([0, 2, 2, 2, 0]);
      expect(r.stdout).toContain('still-running');
      expect(r.code).toBe(0);
      const events = await audit(h, ['--session', run.session]);
      const calls = events.filter((e) => e.kind === 'tool.call').map((e) => [e.target, e.decision]);
      expect(calls).toEqual([
        ['ls -la', 'allow'],
        ['git push', 'deny'],
        ['git push', 'deny'],
        ['git push', 'deny'],
        ['ls -la', 'ask'],
      ]);
      expect(events.filter((e) => e.kind === 'tool.call').at(-1)?.reason).toBe('session paused after drift');
      expect(events.filter((e) => e.kind === 'drift').map((e) => e.detail.action)).toEqual(['pause']);
      expect(events.filter((e) => e.kind === 'approval').map((e) => [e.target, e.decision])).toEqual([['ls -la', 'allow']]);
      expect(events.some((e) => e.kind === 'limit')).toBe(false);
    });
  });
}
