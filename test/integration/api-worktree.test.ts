// The control API's worktree routes, against a real backend and real git:
// what the launch form learns about a workspace, a worktree launch refused
// in one line (code 'worktree') with nothing made, and the changes, keep and
// discard routes' answers for sessions they do not apply to.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionInfo, WorkspaceInfo } from '../../main/api/contract.js';
import { raw, startApi, until, type ApiEnv } from './api-harness.js';
import { g, makeRepo } from './worktree-helpers.js';

describe('control API: worktrees', () => {
  let t: ApiEnv;
  let repo: string;
  beforeAll(async () => {
    t = await startApi();
    t.h.writePersona({ name: 'worker', agent: 'shell', execution_mode: 'autonomous', filesystem: { write: ['{workspace}'] } });
    repo = makeRepo(t.h);
  });
  afterAll(async () => t?.close());

  it('tells the launch form whether a workspace is a repository, and whether it is clean', async () => {
    const info = (p: string): Promise<WorkspaceInfo> => raw(t.b, `/api/workspace?path=${encodeURIComponent(p)}`).then((r) => r.json<WorkspaceInfo>());
    expect(await info(repo)).toEqual({ path: repo, git: true, toplevel: repo, branch: 'main', dirty: 0 });
    expect(await info(t.h.workspace)).toMatchObject({ git: false, toplevel: null });
    expect(await info('relative/path')).toMatchObject({ git: false });
    writeFileSync(path.join(repo, 'README.md'), 'changed\n');
    expect((await info(repo)).dirty).toBe(1);
    const refused = await raw(t.b, '/api/sessions', { body: { persona: 'worker', workspace: repo, worktree: true, command: ['true'] } });
    expect(refused.status).toBe(422);
    expect(refused.json()).toMatchObject({ code: 'worktree', error: expect.stringMatching(/has uncommitted changes \(1 file, e\.g\. README\.md\)/) });
    g(repo, 'checkout', '--', 'README.md');
    const noRepo = await raw(t.b, '/api/sessions', { body: { persona: 'worker', workspace: t.h.workspace, worktree: true, command: ['true'] } });
    expect(noRepo.json()).toMatchObject({ code: 'worktree', error: expect.stringMatching(/is not inside a git repository$/) });
    const badRef = await raw(t.b, '/api/sessions', { body: { persona: 'worker', workspace: repo, worktree: true, base: 'nope', command: ['true'] } });
    expect(badRef.json()).toMatchObject({ code: 'worktree', error: `--base nope: no such commit in ${repo}` });
    expect(g(repo, 'branch', '--list')).toBe('* main');
    expect(g(repo, 'worktree', 'list').split('\n')).toHaveLength(1);
  });

  it('answers changes, keep and discard for sessions they do not apply to', async () => {
    expect((await raw(t.b, '/api/sessions/nope/changes')).status).toBe(404);
    const r = await raw(t.b, '/api/sessions', { body: { persona: 'worker', workspace: t.h.workspace, command: ['sh', '-c', 'echo hi > a.txt'] } });
    const s = r.json<SessionInfo>();
    await until(() => (t.b.sessions.info(s.id)?.state === 'ended' ? true : undefined), 20_000, 'the session to end');
    expect(s.worktree).toBeNull();
    const changes = await raw(t.b, `/api/sessions/${s.id}/changes`);
    expect(changes.status).toBe(200);
    expect(changes.json()).toMatchObject({ source: 'recorded', worktree: null, commits: [] });
    const keep = await raw(t.b, `/api/sessions/${s.id}/apply`, { body: {} });
    expect(keep.status).toBe(400);
    expect(keep.json()).toMatchObject({ code: 'not-worktree' });
    expect((await raw(t.b, `/api/sessions/${s.id}/discard`, { body: {} })).status).toBe(400);
    expect((await raw(t.b, `/api/sessions/${s.id}/apply`, { body: { squash: 'yes' } })).status).toBe(400);
  });

  it('refuses to keep a running session, then keeps it once ended', async () => {
    const r = await raw(t.b, '/api/sessions', { body: { persona: 'worker', workspace: repo, worktree: true, command: ['sh', '-c', 'echo new > new.txt; sleep 30'] } });
    expect(r.status, r.text).toBe(201);
    const s = r.json<SessionInfo>();
    const running = await raw(t.b, `/api/sessions/${s.id}/apply`, { body: {} });
    expect(running.status).toBe(409);
    expect(running.json()).toMatchObject({ code: 'running' });
    const live = await until(async () => {
      const c = (await raw(t.b, `/api/sessions/${s.id}/changes`)).json<{ files: Array<{ path: string; uncommitted: boolean }>; running: boolean }>();
      return c.files.length === 1 ? c : undefined;
    }, 15_000, 'the running session\'s change');
    expect(live).toMatchObject({ running: true, files: [{ path: 'new.txt', uncommitted: true }] });
    await raw(t.b, `/api/sessions/${s.id}/stop`, { body: {} });
    await until(() => (t.b.sessions.info(s.id)?.ended_at ? true : undefined), 15_000, 'the session to end');
    const kept = await raw(t.b, `/api/sessions/${s.id}/apply`, { body: { squash: true } });
    expect(kept.status, kept.text).toBe(200);
    expect(kept.json()).toMatchObject({ mode: 'squash', into: 'main', files: 1, uncommitted: 1 });
    expect(g(repo, 'show', 'HEAD:new.txt')).toBe('new');
    expect(t.b.sessions.info(s.id)?.worktree?.state).toBe('applied');
  }, 40_000);
});
