// Command rules hold however a command is spelled: `Bash(git push:*)` denied,
// then a push tried through every shell, interpreter, wrapper, path, name and
// copy of git we could think of, by a plain shell agent and by the real Claude
// Code CLI. Judged from outside: a local bare git remote must receive nothing,
// and every refusal is an event naming the rule and the persona. A persona
// without the rule pushes through the same remote, so the judge can see a push.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic } from '../fixtures/fake-anthropic.js';
import { audit, cli, makeHome, testUsers, type Home } from './harness.js';

const RULE = 'Bash(git push:*)';

/** Each spelling pushes a branch of its own (%s), from the workspace's clone `w` to its remote `o`. */
const SPELLINGS: ReadonlyArray<readonly [string, string]> = [
  ['plain', 'git push -q o HEAD:refs/heads/%s'],
  ['absolute path', '/usr/bin/git push -q o HEAD:refs/heads/%s'],
  ['bash -c', `bash -c 'git push -q o HEAD:refs/heads/%s'`],
  ['sh script.sh', 'printf "git push -q o HEAD:refs/heads/%s\\n" > ../p-%s.sh; sh ../p-%s.sh'],
  ['./script with #!', 'printf "#!/bin/sh\\ngit push -q o HEAD:refs/heads/%s\\n" > ../x-%s; chmod +x ../x-%s; ../x-%s'],
  ['a script on stdin', 'echo "git push -q o HEAD:refs/heads/%s" | bash'],
  ['python3 subprocess', `python3 -c 'import subprocess; subprocess.run(["git", "push", "-q", "o", "HEAD:refs/heads/%s"])'`],
  ['python3 os.execvp', `python3 -c 'import os; os.execvp("git", ["git", "push", "-q", "o", "HEAD:refs/heads/%s"])'`],
  ['node child_process', `node -e 'require("child_process").execFileSync("git", ["push", "-q", "o", "HEAD:refs/heads/%s"], { stdio: "inherit" })'`],
  ['perl system', `perl -e 'system("git", "push", "-q", "o", "HEAD:refs/heads/%s")'`],
  ['env', 'env GIT_TRACE=0 git push -q o HEAD:refs/heads/%s'],
  ['timeout', 'timeout 20 git push -q o HEAD:refs/heads/%s'],
  ['nohup, nice, setsid, flock', 'nohup nice setsid flock ../lock-%s git push -q o HEAD:refs/heads/%s'],
  ['xargs', 'echo push | xargs -I{} git {} -q o HEAD:refs/heads/%s'],
  ['find -exec', 'find . -maxdepth 0 -exec git push -q o HEAD:refs/heads/%s \\;'],
  ['git -C', 'git -C ../w push -q o HEAD:refs/heads/%s'],
  ['git -c k=v', 'git -c user.name=x --no-pager push -q o HEAD:refs/heads/%s'],
  ['git alias', 'git -c alias.p=push p -q o HEAD:refs/heads/%s'],
  ['a variable', 'x=push; git $x -q o HEAD:refs/heads/%s'],
  ['another argv[0]', '(exec -a notgit /usr/bin/git push -q o HEAD:refs/heads/%s)'],
  ['a symlink', 'ln -sf /usr/bin/git /tmp/g-%s; /tmp/g-%s push -q o HEAD:refs/heads/%s'],
  ['a renamed copy', 'cp /usr/bin/git /tmp/c-%s; /tmp/c-%s push -q o HEAD:refs/heads/%s'],
  ['git-push by its dashed name', '/usr/lib/git-core/git-push -q o HEAD:refs/heads/%s'],
  ['make', 'printf "all:\\n\\tgit push -q o HEAD:refs/heads/%s\\n" > ../m-%s.mk; make -s -f ../m-%s.mk'],
];

const spell = (template: string, branch: string): string => template.replaceAll('%s', branch);

/** A workspace holding a clone `w` (one commit) whose remote `o` is the bare repository `remote.git`. */
function gitWorkspace(h: Home): void {
  const git = (...args: string[]): void => {
    const r = spawnSync('git', args, { cwd: h.workspace, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@x', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@x' } });
    expect(r.status, r.stderr).toBe(0);
  };
  git('init', '-q', '--bare', 'remote.git');
  git('init', '-q', 'w');
  git('-C', 'w', 'commit', '-q', '--allow-empty', '-m', 'one');
  git('-C', 'w', 'remote', 'add', 'o', path.join(h.workspace, 'remote.git'));
  if (h.as.uid !== undefined) spawnSync('chown', ['-R', `${h.as.uid}:${h.as.gid ?? h.as.uid}`, h.workspace]);
}

/** The branches the remote has, judged from outside. */
function remoteBranches(h: Home): string[] {
  const r = spawnSync('git', ['-c', 'safe.directory=*', '-C', path.join(h.workspace, 'remote.git'), 'for-each-ref', '--format=%(refname:short)'], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.split('\n').filter((l) => l !== '');
}

for (const as of testUsers()) {
  describe(`a denied command, however it is spelled, as ${as.label}`, () => {
    let h: Home;
    beforeAll(() => {
      h = makeHome(as);
      gitWorkspace(h);
      h.writePersona({ name: 'no-push', agent: 'shell', execution_mode: 'autonomous', filesystem: { write: ['{workspace}'] }, tools: { deny: [RULE] } });
      h.writePersona({ name: 'may-push', agent: 'shell', execution_mode: 'autonomous', filesystem: { write: ['{workspace}'] } });
    });
    afterAll(() => h.cleanup());

    it('the judge sees a push: without the rule, every spelling reaches the remote', async () => {
      const script = SPELLINGS.map(([, t], i) => `${spell(t, `ok${i}`)}; echo " rc=$?"`).join('\n');
      const r = await cli(h, ['run', 'may-push', '--', 'bash', '-c', `cd w\n${script}`], { timeoutMs: 60_000 });
      expect(r.code, r.stderr).toBe(0);
      expect(remoteBranches(h).sort()).toEqual(SPELLINGS.map((_, i) => `ok${i}`).sort());
    }, 90_000);

    it(`with ${RULE}, none of the ${SPELLINGS.length} spellings reaches the remote, each refusal on the record`, async () => {
      const before = remoteBranches(h);
      const script = SPELLINGS.map(([, t], i) => `echo "== ${i}"; ${spell(t, `no${i}`)}; echo " rc=$?"`).join('\n');
      const r = await cli(h, ['run', 'no-push', '--', 'bash', '-c', `cd w\n${script}\necho finished`], { timeoutMs: 60_000 });
      // The rest of the script ran: only the pushes were refused.
      expect(r.stdout).toContain('finished');
      expect(remoteBranches(h)).toEqual(before);
      const session = /session ([0-9a-f-]{36})/.exec(r.stderr)?.[1] ?? '';
      const events = await audit(h, ['--session', session]);
      const denied = events.filter((e) => e.kind === 'exec' && e.decision === 'deny');
      expect(denied.every((e) => e.reason === `tools.deny: ${RULE}` && e.persona === 'no-push')).toBe(true);
      // Every spelling left its refusal: a denied exec pushing its own branch.
      const missing = SPELLINGS.filter((_, i) => !denied.some((e) => (e.detail.argv as string[]).some((a) => a.endsWith(`refs/heads/no${i}`))));
      expect(missing.map(([name]) => name)).toEqual([]);
      // What ran is on the record as allowed; nothing else is recorded without a decision.
      expect(events.filter((e) => e.kind === 'exec').every((e) => e.decision === 'allow' || e.decision === 'deny')).toBe(true);
      const matched = denied.map((e) => e.detail.matched_as as string);
      expect(matched.every((m) => m.startsWith('git push'))).toBe(true);
    }, 90_000);

    it('a program run as a script by its interpreter is that program (node npm-cli.js publish is npm publish)', async () => {
      h.writePersona({ name: 'no-publish', agent: 'shell', execution_mode: 'autonomous', filesystem: { write: ['{workspace}'] }, tools: { deny: ['Bash(npm publish:*)'] } });
      const cliJs = spawnSync('realpath', ['/usr/bin/npm'], { encoding: 'utf8' }).stdout.trim();
      const r = await cli(h, ['run', 'no-publish', '--', 'bash', '-c', `node ${cliJs} publish --dry-run; echo " a=$?"; npm --loglevel silent publish --dry-run; echo " b=$?"; npm --version >/dev/null; echo " c=$?"`], { timeoutMs: 60_000 });
      expect(r.stdout).toMatch(/ a=126[\s\S]* b=126[\s\S]* c=0/);
      const session = /session ([0-9a-f-]{36})/.exec(r.stderr)?.[1] ?? '';
      const denied = (await audit(h, ['--session', session, '--kind', 'exec'])).filter((e) => e.decision === 'deny');
      expect(denied.map((e) => [e.tool, e.detail.matched_as])).toEqual([
        ['node', 'npm publish --dry-run'],
        ['npm', 'npm publish --dry-run'], // the reading that matched: its leading options skipped
      ]);
    }, 90_000);
  });
}

for (const as of testUsers()) describe(`a denied command, however it is spelled, with the real Claude Code CLI, as ${as.label}`, () => {
  let h: Home;
  let fake: FakeAnthropic;
  let result: Awaited<ReturnType<typeof cli>>;
  let session = '';

  beforeAll(async () => {
    h = makeHome(as);
    gitWorkspace(h);
    const w = path.join(h.workspace, 'w');
    fake = await startFakeAnthropic([
      ...SPELLINGS.map(([, t], i) => ({ toolUse: { name: 'Bash', input: { command: `cd ${w} && ${spell(t, `cc${i}`)}` } } })),
      { toolUse: { name: 'Bash', input: { command: `cd ${w} && git log --oneline | head -1 > ${h.workspace}/still-works.txt` } } },
      { text: 'done' },
    ]);
    h.writePersona({
      name: 'claude-no-push',
      agent: 'claude',
      execution_mode: 'autonomous',
      filesystem: { write: ['{workspace}'] },
      // The fake model API here is plain HTTP, and this test is about commands, not credentials.
      credentials: { ANTHROPIC_API_KEY: { secret: 'anthropic', inject: 'env' } },
      tools: { deny: [RULE] },
    });
    expect((await cli(h, ['secret', 'set', 'anthropic'], { input: 'sk-test-key-8812' })).code).toBe(0);
    result = await cli(h, ['run', 'claude-no-push', '--', 'claude', '-p', 'push it', '--output-format', 'stream-json', '--verbose'], {
      env: { PERSONAE_HOSTS: `model.test=127.0.0.1:${fake.port}`, PERSONAE_ANTHROPIC_BASE_URL: 'http://model.test' },
      timeoutMs: 150_000,
    });
    session = /session ([0-9a-f-]{36})/.exec(result.stderr)?.[1] ?? '';
  }, 180_000);

  afterAll(async () => {
    await fake.close();
    h.cleanup();
  });

  it('runs to the end; the remote received nothing', () => {
    expect(result.code, result.stderr).toBe(0);
    expect(fake.toolResults().length).toBe(SPELLINGS.length + 1);
    expect(remoteBranches(h)).toEqual([]);
  });

  it('each spelling was refused, at the tool layer or at its exec, and on the record', async () => {
    const events = await audit(h, ['--session', session]);
    const byTool = events.filter((e) => e.kind === 'tool.call' && e.decision === 'deny');
    const byExec = events.filter((e) => e.kind === 'exec' && e.decision === 'deny');
    for (const e of [...byTool, ...byExec]) {
      expect(e.reason).toBe(`tools.deny: ${RULE}`);
      expect(e.persona).toBe('claude-no-push');
    }
    // Claude Code's own permission engine carries the same deny rules (personae writes them into its
    // settings, in dontAsk mode) and, late in a session full of denials, refused `git $x` itself
    // before running anything: the model was told so, and personae recorded the call.
    const byClaude = (i: number): boolean =>
      fake.toolResults().some((r) => JSON.stringify(r.input).includes(`refs/heads/cc${i}`) && r.isError && r.content.includes('has been denied')) &&
      events.some((e) => e.kind === 'tool.call' && (e.target ?? '').includes(`refs/heads/cc${i}`));
    const refused = (i: number): boolean =>
      byClaude(i) ||
      byTool.some((e) => (e.target ?? '').includes(`refs/heads/cc${i}`)) ||
      byExec.some((e) => (e.detail.argv as string[]).some((a) => a.endsWith(`refs/heads/cc${i}`)));
    expect(SPELLINGS.filter((_, i) => !refused(i)).map(([name]) => name)).toEqual([]);
    // The spellings the tool layer cannot read (interpreters, scripts, copies) were refused at exec.
    expect(byExec.length).toBeGreaterThanOrEqual(8);
    for (let i = 0; i < SPELLINGS.length; i++) {
      const told = fake.toolResults().find((r) => JSON.stringify(r.input).includes(`refs/heads/cc${i}`));
      expect(told, SPELLINGS[i]?.[0]).toBeDefined();
      // What the model saw is whatever the program made of the refusal (perl's system() says nothing).
      expect(told?.content ?? '', SPELLINGS[i]?.[0]).not.toContain('new branch');
    }
  });

  it('what the rule does not cover still runs', () => {
    const r = spawnSync('cat', [path.join(h.workspace, 'still-works.txt')], { encoding: 'utf8' });
    expect(r.stdout).toMatch(/one/);
  });
});
