// Sessions in git worktrees, with real git and the real sandbox, as root and
// as an unprivileged user: two personas at once on one repository, each in
// its own worktree; the checkout untouched until apply; a conflicting apply
// refused with nothing changed; discard leaving nothing; a killed session's
// worktree kept and listed; bad input refused in one line, nothing made.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from './api-harness.js';
import { cli, makeHome, startRun, testUsers, type Home } from './harness.js';
import { g, gitAs, leftovers, makeRepo } from './worktree-helpers.js';

interface Listed {
  id: string;
  persona: string;
  state: string;
  files_changed: number | null;
  supervisor_pid: number | null;
  worktree: { path: string; branch: string; base: string; admin_dir: string } | null;
}

async function ps(h: Home): Promise<Listed[]> {
  const r = await cli(h, ['ps', '--json']);
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as Listed[];
}

for (const as of testUsers()) {
  describe(`worktree sessions (${as.label})`, () => {
    let h: Home;
    let repo: string;
    let head: string;

    beforeAll(() => {
      h = makeHome(as);
      repo = makeRepo(h);
      head = g(repo, 'rev-parse', 'HEAD');
      const writer = { agent: 'shell', execution_mode: 'autonomous', filesystem: { write: ['{workspace}'] } };
      h.writePersona({ name: 'fixer', display_name: 'Test fixer', ...writer });
      h.writePersona({ name: 'docs', display_name: 'Docs writer', ...writer });
      h.writePersona({ name: 'reviewer', display_name: 'Reviewer', agent: 'shell', execution_mode: 'autonomous' });
    });
    afterAll(() => h?.cleanup());

    const checkoutUnchanged = (): void => {
      expect(g(repo, 'rev-parse', 'HEAD')).toBe(head);
      expect(g(repo, 'status', '--porcelain')).toBe('');
      expect(readFileSync(path.join(repo, 'src/app.txt'), 'utf8')).toBe('line one\nline two\n');
    };

    it('runs two personas at once, each in its own worktree; the checkout is unchanged until apply', async () => {
      // Each changes the same line differently, commits, leaves one file uncommitted, lists its neighbours, then works a while.
      const work = (who: string): string =>
        `sed -i "1s/.*/line one by ${who}/" src/app.txt && git commit -qam "${who}: change line one" && echo "${who} notes" > ${who}.md && ls .. && sleep 2`;
      const [a, b] = await Promise.all([
        startRun(h, ['fixer', '--worktree', '--no-tty', '--', 'sh', '-c', work('fixer')], { cwd: repo }),
        startRun(h, ['docs', '--worktree', '--no-tty', '--', 'sh', '-c', work('docs')], { cwd: repo }),
      ]);
      const both = await until(async () => {
        const l = (await ps(h)).filter((s) => s.state === 'running');
        return l.length === 2 ? l : undefined;
      }, 15_000, 'both sessions to run');
      expect(both.map((s) => s.worktree?.branch).sort()).toEqual([`personae/docs/${b.session.slice(0, 8)}`, `personae/fixer/${a.session.slice(0, 8)}`]);
      checkoutUnchanged();
      const [ra, rb] = await Promise.all([a.done, b.done]);
      expect(ra.code, ra.stderr).toBe(0);
      expect(rb.code, rb.stderr).toBe(0);
      // Neither saw the other's worktree (personae's data is hidden; only its own worktree is bound in).
      expect(ra.stdout.trim().split('\n')).toEqual([a.session.slice(0, 8)]);
      expect(rb.stdout.trim().split('\n')).toEqual([b.session.slice(0, 8)]);
      expect(ra.stderr).toMatch(/1 commit\(s\), 2 file\(s\) changed \(1 uncommitted, kept in the worktree\)/);
      checkoutUnchanged();

      // The branches carry the persona's commits, with the trailers; the uncommitted file is still in the worktree.
      const branch = `personae/fixer/${a.session.slice(0, 8)}`;
      expect(g(repo, 'log', '-1', '--format=%an <%ae>|%s', branch)).toBe('Test fixer <fixer@personae.invalid>|fixer: change line one');
      expect(g(repo, 'log', '-1', '--format=%(trailers:key=On-behalf-of,valueonly)', branch)).not.toBe('');
      expect(g(repo, 'log', '-1', '--format=%(trailers:key=Personae-Session,valueonly)', branch)).toBe(a.session);
      const listed = await ps(h);
      const fixer = listed.find((s) => s.id === a.session);
      expect(fixer?.state).toBe('ended (exit 0)');
      expect(fixer?.files_changed).toBe(2);
      expect(readFileSync(path.join(fixer?.worktree?.path ?? '', 'fixer.md'), 'utf8')).toBe('fixer notes\n');
      const stat = await cli(h, ['diff', a.session.slice(0, 8), '--stat']);
      expect(stat.code, stat.stderr).toBe(0);
      expect(stat.stdout).toMatch(/^M src\/app\.txt +\+1 -1$/m);
      expect(stat.stdout).toMatch(/^A fixer\.md +\+1 -0 +\(uncommitted\)$/m);
      expect(stat.stdout).toMatch(/on behalf of .*: fixer: change line one/);
      const patch = await cli(h, ['diff', a.session]);
      expect(patch.stdout).toContain('+line one by fixer');
      expect(patch.stdout).toContain('+fixer notes');

      // Keep the fixer's: a fast-forward, uncommitted file committed for the persona first.
      const kept = await cli(h, ['apply', a.session.slice(0, 8)]);
      expect(kept.code, kept.stderr).toBe(0);
      expect(kept.stderr).toContain('fast-forwarded into main');
      expect(readFileSync(path.join(repo, 'src/app.txt'), 'utf8')).toBe('line one by fixer\nline two\n');
      expect(readFileSync(path.join(repo, 'fixer.md'), 'utf8')).toBe('fixer notes\n');
      expect(g(repo, 'status', '--porcelain')).toBe('');
      expect(g(repo, 'log', '-1', '--format=%an|%s')).toBe(`Test fixer|Uncommitted changes of session ${a.session}`);
      expect(leftovers(h, repo, a.session).filter((l) => !l.startsWith('.git/worktrees') && !l.startsWith('worktree list'))).toEqual([]);

      // The docs session changed the same line: keeping it conflicts, and changes nothing.
      const after = g(repo, 'rev-parse', 'HEAD');
      const refused = await cli(h, ['apply', b.session.slice(0, 8)]);
      expect(refused.code).toBe(1);
      expect(refused.stderr.trim().split('\n')).toHaveLength(1);
      expect(refused.stderr).toMatch(/conflicts with .* \(main\) in src\/app\.txt; nothing was applied/);
      expect(g(repo, 'rev-parse', 'HEAD')).toBe(after);
      expect(g(repo, 'status', '--porcelain')).toBe('');
      expect(existsSync(path.join(repo, 'docs.md'))).toBe(false);
      const docs = (await ps(h)).find((s) => s.id === b.session);
      expect(docs?.worktree && existsSync(docs.worktree.path)).toBe(true);

      // Discard it: no worktree, branch, admin directory or run directory is left.
      const gone = await cli(h, ['discard', b.session.slice(0, 8)]);
      expect(gone.code, gone.stderr).toBe(0);
      expect(leftovers(h, repo, b.session)).toEqual([]);
      expect((await ps(h)).map((s) => s.id)).not.toContain(b.session);
      const events = await cli(h, ['audit', '--kind', 'worktree.*', '--format', 'jsonl']);
      const kinds = events.stdout.trim().split('\n').map((l) => JSON.parse(l) as { kind: string; decision: string; session: string });
      expect(kinds.map((e) => `${e.kind}:${e.decision}`)).toEqual(['worktree.apply:allow', 'worktree.apply:deny', 'worktree.discard:deny']);
      head = g(repo, 'rev-parse', 'HEAD');
    }, 90_000);

    it('keeps the worktree of a session killed mid-way, and lists it', async () => {
      const run = await startRun(h, ['fixer', '--worktree', '--no-tty', '--', 'sh', '-c', 'echo more >> README.md && git commit -qam "more readme" && echo staged > staged.txt && git add staged.txt && sleep 60'], { cwd: repo });
      const s = await until(async () => {
        const l = (await ps(h)).find((x) => x.id === run.session);
        return l?.files_changed === 2 ? l : undefined;
      }, 15_000, 'the commit');
      // The repository stays whole while the session works: its commit is not in the repository yet.
      g(repo, 'fsck', '--no-dangling');
      gitAs(h.as, repo, 'gc', '-q');
      process.kill(s.supervisor_pid ?? 0, 'SIGKILL');
      await run.done;
      g(repo, 'fsck', '--no-dangling');
      const listed = await until(async () => (await ps(h)).find((x) => x.id === run.session && x.state !== 'running'), 15_000, 'the killed session listed');
      expect(listed.state).toBe('failed');
      expect(listed.files_changed).toBe(2);
      expect(readFileSync(path.join(listed.worktree?.path ?? '', 'README.md'), 'utf8')).toBe('# project\nmore\n');
      const stat = await cli(h, ['diff', run.session, '--stat']);
      expect(stat.stdout).toMatch(/more readme/);
      expect(stat.stdout).toMatch(/^M README\.md +\+1 -0$/m);
      expect(stat.stdout).toMatch(/^A staged\.txt +\+1 -0 +\(uncommitted\)$/m);
      const kept = await cli(h, ['apply', run.session, '--squash']);
      expect(kept.code, kept.stderr).toBe(0);
      expect(g(repo, 'log', '-1', '--format=%an|%s')).toBe('Test fixer|more readme');
      expect(g(repo, 'show', 'HEAD:staged.txt')).toBe('staged');
      expect(readFileSync(path.join(repo, 'README.md'), 'utf8')).toBe('# project\nmore\n');
      head = g(repo, 'rev-parse', 'HEAD');
    }, 60_000);

    it('records the agent\'s first write and none of personae\'s own checkout', async () => {
      const files: Record<string, string> = {};
      for (let i = 0; i < 400; i++) files[`lib/m${i % 20}/f${i}.txt`] = `file ${i}\n`;
      const big = makeRepo(h, 'big', files);
      const run = await startRun(h, ['fixer', '--worktree', '--no-tty', '--', 'sh', '-c', 'echo first > first.txt; ls lib/m19 | wc -l'], { cwd: big });
      const r = await run.done;
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trim()).toBe('20'); // the whole checkout is there before the command starts
      const ev = await cli(h, ['audit', '--session', run.session, '--kind', 'fs.*', '--format', 'jsonl']);
      const events = ev.stdout.trim().split('\n').map((l) => JSON.parse(l) as { kind: string; target: string });
      expect([...new Set(events.map((e) => `${e.kind} ${path.basename(e.target)}`))].sort()).toEqual(['fs.diff first.txt', 'fs.write first.txt']);
      expect((await cli(h, ['discard', run.session])).code).toBe(0);
    }, 60_000);

    it('runs from a folder of the repository in the same folder of its worktree', async () => {
      const run = await startRun(h, ['fixer', '--worktree', '--no-tty', '--', 'sh', '-c', 'pwd; echo here > here.txt; echo x > ../outside.txt 2>/dev/null || echo refused'], { cwd: path.join(repo, 'src') });
      const r = await run.done;
      expect(r.code, r.stderr).toBe(0);
      const [pwd, refused] = r.stdout.trim().split('\n');
      expect(pwd).toMatch(new RegExp(`/worktrees/repo-[0-9a-f]{8}/${run.session.slice(0, 8)}/src$`));
      expect(refused).toBe('refused'); // {workspace} is the folder, not the whole worktree
      const stat = await cli(h, ['diff', run.session, '--stat']);
      expect(stat.stdout.trim()).toMatch(/^A src\/here\.txt +\+1 -0 +\(uncommitted\)$/);
      expect((await cli(h, ['discard', run.session])).code).toBe(0);
    }, 30_000);

    it('refuses bad input in one line and makes nothing', async () => {
      const before = (): string[] => [g(repo, 'branch', '--list'), g(repo, 'worktree', 'list'), ...(existsSync(h.path('home', 'worktrees')) ? readdirSync(h.path('home', 'worktrees')) : [])];
      const start = before();
      const refusals: Array<[string[], string, RegExp]> = [
        [['fixer', '--worktree', '--', 'true'], h.workspace, /--worktree: .* is not inside a git repository$/],
        [['fixer', '--worktree', '--base', 'no-such-ref', '--', 'true'], repo, /--base no-such-ref: no such commit in /],
        [['fixer', '--base', 'main', '--', 'true'], repo, /--base needs --worktree/],
      ];
      for (const [args, cwd, message] of refusals) {
        const r = await cli(h, ['run', ...args], { cwd });
        expect(r.code, r.stderr).toBe(2);
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
        expect(r.stderr.trim()).toMatch(message);
      }
      mkdirSync(path.join(repo, 'untracked-dir'), { recursive: true });
      const notInCommit = await cli(h, ['run', 'fixer', '--worktree', '--', 'true'], { cwd: path.join(repo, 'untracked-dir') });
      expect(notInCommit.code).toBe(2);
      expect(notInCommit.stderr.trim()).toMatch(/--worktree: untracked-dir \(the workspace\) is not in HEAD/);
      rmSync(path.join(repo, 'untracked-dir'), { recursive: true });
      writeFileSync(path.join(repo, 'README.md'), 'dirty\n');
      const dirty = await cli(h, ['run', 'fixer', '--worktree', '--', 'true'], { cwd: repo });
      g(repo, 'checkout', '--', 'README.md');
      expect(dirty.code).toBe(2);
      expect(dirty.stderr.trim()).toMatch(/has uncommitted changes \(1 file, e\.g\. README\.md\); commit or stash them first/);
      expect(dirty.stderr.trim().split('\n')).toHaveLength(1);
      expect(before()).toEqual(start);
    }, 30_000);

    it('confines the session to its own branch and worktree; apply refuses a change its grants forbid', async () => {
      const tries = [
        // A commit made of objects for a path the sandbox kept read-only (a persistence trap).
        'git update-index --add --cacheinfo "100644,$(echo evil | git hash-object -w --stdin),.envrc" && git commit -qm trap && echo COMMITTED-TRAP',
        `echo x > ${repo}/src/app.txt 2>/dev/null && echo WROTE-CHECKOUT`,
        'git update-ref refs/heads/main HEAD 2>/dev/null && echo MOVED-MAIN',
        'git branch other 2>/dev/null && echo MADE-BRANCH',
        `echo "[core]" >> ${repo}/.git/config 2>/dev/null && echo WROTE-CONFIG`,
        `echo x > ${repo}/.git/hooks/pre-commit 2>/dev/null && echo WROTE-HOOK`,
        'echo "gitdir: /tmp" > .git 2>/dev/null && echo WROTE-GITFILE',
        'echo /tmp > "$(git rev-parse --git-dir)/commondir" 2>/dev/null && echo WROTE-COMMONDIR',
        // The repository's own objects are bound read-only (the session writes a store of its own).
        'rm -rf /run/personae/git-objects/* 2>/dev/null || echo objects-refused',
      ].join('; ');
      const run = await startRun(h, ['fixer', '--worktree', '--no-tty', '--', 'sh', '-c', tries], { cwd: repo });
      const r = await run.done;
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trim().split('\n')).toEqual(['COMMITTED-TRAP', 'objects-refused']);
      expect(g(repo, 'rev-parse', 'HEAD')).toBe(head);
      g(repo, 'fsck', '--no-dangling');
      expect(g(repo, 'branch', '--list', 'other')).toBe('');
      expect(readFileSync(path.join(repo, '.git', 'config'), 'utf8')).not.toMatch(/\[core\]\s*$/);
      const refused = await cli(h, ['apply', run.session]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/\.envrc: a persistence trap the persona may not write/);
      expect(existsSync(path.join(repo, '.envrc'))).toBe(false);
      expect((await cli(h, ['discard', run.session])).code).toBe(0);
      expect(leftovers(h, repo, run.session)).toEqual([]);
    }, 30_000);

    it('never follows a symlink the session left in its git data', async () => {
      const canary = h.path('canary-secret');
      writeFileSync(canary, 'CANARY-5521 not for the repository\n');
      // Its index, a symlink to a file the user can read: the repository's copy of the index is left as it was.
      const one = await startRun(h, ['fixer', '--worktree', '--no-tty', '--', 'sh', '-c', `echo x > x.txt; ln -sf ${canary} "$(git rev-parse --git-dir)/index" && echo LINKED-INDEX`], { cwd: repo });
      const r1 = await one.done;
      expect(r1.stdout.trim()).toBe('LINKED-INDEX');
      const admin = (await ps(h)).find((s) => s.id === one.session)?.worktree?.admin_dir ?? '';
      expect(readFileSync(path.join(admin, 'index'), 'latin1')).not.toContain('CANARY-5521');
      expect((await cli(h, ['discard', one.session])).code).toBe(0);
      // A loose object that is a symlink: the store is not taken in, and keeping it is refused.
      const plant = `mkdir -p "$(git rev-parse --git-common-dir)/objects/ab" && ln -s ${canary} "$(git rev-parse --git-common-dir)/objects/ab/$(printf 'c%.0s' $(seq 38))" && echo LINKED-OBJECT`;
      const two = await startRun(h, ['fixer', '--worktree', '--no-tty', '--', 'sh', '-c', plant], { cwd: repo });
      const r2 = await two.done;
      expect(r2.stdout.trim()).toBe('LINKED-OBJECT');
      expect(r2.stderr).toMatch(/the session's object store holds something other than files \(objects\/ab\/c+\); it is not taken in/);
      const refused = await cli(h, ['apply', two.session]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/holds something other than files/);
      expect(g(repo, 'rev-parse', 'HEAD')).toBe(head);
      expect((await cli(h, ['discard', two.session])).code).toBe(0);
      expect(readFileSync(canary, 'utf8')).toBe('CANARY-5521 not for the repository\n');
    }, 40_000);

    it('gives a reviewer another session\'s worktree read-only', async () => {
      const work = await startRun(h, ['fixer', '--worktree', '--no-tty', '--', 'sh', '-c', 'echo reviewed >> src/app.txt && git commit -qam "for review"'], { cwd: repo });
      expect((await work.done).code).toBe(0);
      const review = await cli(h, ['run', 'reviewer', '--review', work.session.slice(0, 8), '--no-tty', '--', 'sh', '-c', 'tail -1 src/app.txt; git log -1 --format=%s; echo x >> src/app.txt 2>/dev/null || echo refused'], { cwd: repo });
      expect(review.code, review.stderr).toBe(0);
      expect(review.stdout.trim().split('\n')).toEqual(['reviewed', 'for review', 'refused']);
      // A persona that may write its workspace is not given one.
      const writer = await cli(h, ['run', 'docs', '--review', work.session, '--', 'true'], { cwd: repo });
      expect(writer.code).toBe(2);
      expect(writer.stderr.trim()).toMatch(/--review: persona "docs" may write \{workspace\}/);
      expect((await cli(h, ['discard', work.session])).code).toBe(0);
    }, 30_000);
  });
}
