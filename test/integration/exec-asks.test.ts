// Asked commands at exec, for an agent with no tool layer of its own (agent:
// shell): per command, not per script. A command an ask rule covers waits in
// the kernel for a human (approve mode) or is refused with the reason
// (autonomous mode); a denied one is refused; the rest of the script runs.
// Judged from outside: a local bare remote, `personae approvals`, the audit.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { audit, cli, makeHome, startRun, testUsers, type Home } from './harness.js';

function gitWorkspace(h: Home): void {
  const env = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@x', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@x' };
  for (const args of [['init', '-q', '--bare', 'remote.git'], ['init', '-q', 'w'], ['-C', 'w', 'commit', '-q', '--allow-empty', '-m', 'one'], ['-C', 'w', 'remote', 'add', 'o', path.join(h.workspace, 'remote.git')]]) {
    expect(spawnSync('git', args, { cwd: h.workspace, env }).status).toBe(0);
  }
  if (h.as.uid !== undefined) spawnSync('chown', ['-R', `${h.as.uid}:${h.as.gid ?? h.as.uid}`, h.workspace]);
}

function remoteBranches(h: Home): string[] {
  const r = spawnSync('git', ['-c', 'safe.directory=*', '-C', path.join(h.workspace, 'remote.git'), 'for-each-ref', '--format=%(refname:short)'], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.split('\n').filter((l) => l !== '').sort();
}

/** Polls `personae approvals --json` (bounded) for the session's waiting approval. */
async function waitingApproval(h: Home, session: string): Promise<{ id: string; tool: string; target: string; reason: string }> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const list = await cli(h, ['approvals', '--json']);
    const found = (JSON.parse(list.stdout || '[]') as Array<{ id: string; session: string; tool: string; target: string; reason: string }>).find((a) => a.session === session);
    if (found) return found;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('no approval appeared within 10 s');
}

for (const as of testUsers()) {
  describe(`asked commands at exec, agent shell, as ${as.label}`, () => {
    let h: Home;
    beforeAll(() => {
      h = makeHome(as);
      gitWorkspace(h);
      const tools = { ask: ['Bash(git push:*)'], deny: ['Bash(git tag:*)'] };
      h.writePersona({ name: 'approver', agent: 'shell', execution_mode: 'approve', filesystem: { write: ['{workspace}'] }, tools, limits: { approval_timeout: '4s' } });
      h.writePersona({ name: 'unattended', agent: 'shell', execution_mode: 'autonomous', filesystem: { write: ['{workspace}'] }, tools });
      h.writePersona({ name: 'learner', agent: 'shell', execution_mode: 'observe', filesystem: { write: ['{workspace}'] }, tools });
    });
    afterAll(() => h.cleanup());

    const script = (branch: string): string =>
      `cd w; git tag v1; echo " tag=$?"; git push -q o HEAD:refs/heads/${branch}; echo " push=$?"; git log --oneline | wc -l; echo " after=ok"`;

    it('approve mode: the push waits for a human; approved from another terminal, it runs; the rest of the script ran', async () => {
      const run = await startRun(h, ['approver', '--', 'bash', '-c', script('approved')]);
      const waiting = await waitingApproval(h, run.session);
      expect(waiting).toMatchObject({ tool: 'git', target: 'git push -q o HEAD:refs/heads/approved', reason: 'tools.ask: Bash(git push:*)' });
      expect(remoteBranches(h)).toEqual([]); // held in the kernel: nothing sent yet
      expect((await cli(h, ['approve', waiting.id])).code).toBe(0);
      const r = await run.done;
      expect(r.stdout).toMatch(/ tag=126/);
      expect(r.stdout).toContain(' push=0');
      expect(r.stdout).toContain(' after=ok');
      expect(remoteBranches(h)).toEqual(['approved']);
      const events = await audit(h, ['--session', run.session]);
      const execs = events.filter((e) => e.kind === 'exec' && e.tool === 'git');
      expect(execs.find((e) => e.target?.startsWith('git tag'))).toMatchObject({ decision: 'deny', reason: 'tools.deny: Bash(git tag:*)' });
      expect(execs.find((e) => e.target?.startsWith('git push'))).toMatchObject({ decision: 'ask', reason: 'tools.ask: Bash(git push:*)' });
      expect(events.find((e) => e.kind === 'approval')).toMatchObject({ decision: 'allow', reason: expect.stringMatching(/^approved by /), persona: 'approver' });
    });

    it('approve mode: denied by a human, or unanswered, the push never runs', async () => {
      const run = await startRun(h, ['approver', '--', 'bash', '-c', script('denied')]);
      const waiting = await waitingApproval(h, run.session);
      expect((await cli(h, ['deny', waiting.id])).code).toBe(0);
      const r = await run.done;
      expect(r.stdout).toMatch(/ push=126/);
      expect(r.stdout).toContain(' after=ok');
      const timedOut = await cli(h, ['run', 'approver', '--', 'bash', '-c', script('timed-out')]);
      expect(timedOut.stdout).toMatch(/ push=126/);
      const id = /session ([0-9a-f-]{36})/.exec(timedOut.stderr)?.[1] ?? '';
      expect((await audit(h, ['--session', id, '--kind', 'approval']))[0]).toMatchObject({ decision: 'deny', reason: 'no answer within limits.approval_timeout (4s)' });
      expect(remoteBranches(h)).toEqual(['approved']);
    });

    it('autonomous mode: nobody is asked, so the push is refused at once, with the reason; the rest runs', async () => {
      const started = Date.now();
      const r = await cli(h, ['run', 'unattended', '--', 'bash', '-c', script('unattended')]);
      expect(Date.now() - started).toBeLessThan(4000);
      expect(r.stdout).toMatch(/ push=126/);
      expect(r.stdout).toContain(' after=ok');
      expect(remoteBranches(h)).toEqual(['approved']);
      const id = /session ([0-9a-f-]{36})/.exec(r.stderr)?.[1] ?? '';
      const push = (await audit(h, ['--session', id, '--kind', 'exec'])).find((e) => e.target?.startsWith('git push'));
      expect(push).toMatchObject({ decision: 'deny', reason: 'tools.ask: Bash(git push:*) (execution_mode autonomous: nobody is asked, so it is refused)', persona: 'unattended' });
    });

    it('observe mode: the asked push runs, on the record as what approve mode would have asked; the denied command is still refused', async () => {
      const r = await cli(h, ['run', 'learner', '--', 'bash', '-c', script('observed')]);
      expect(r.stdout).toMatch(/ tag=126/);
      expect(r.stdout).toContain(' push=0');
      expect(remoteBranches(h)).toEqual(['approved', 'observed']);
      const id = /session ([0-9a-f-]{36})/.exec(r.stderr)?.[1] ?? '';
      const push = (await audit(h, ['--session', id, '--kind', 'exec'])).find((e) => e.target?.startsWith('git push'));
      expect(push).toMatchObject({ decision: 'allow', reason: 'execution_mode: observe (would ask: tools.ask: Bash(git push:*))', detail: { would_be: 'ask', would_be_rule: 'Bash(git push:*)' } });
    });
  });
}
