// Escape suite, persistence traps: files in a writable workspace that the
// user's own tools would later run or trust (git hooks and config, shell rc
// files, editor and agent settings). Denied unless the persona names them in
// filesystem.allow_sensitive; git itself keeps working. Judged from outside:
// after the session no trap holds what the agent wrote, the quarantine holds
// what was caught, and the audit log has an fs.write deny under the persona's
// name for every guarded file the agent created.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, gitRepo, hostAs, makeVisibleHome, marksOf, missing, mkdirs, PRELUDE, runEnv, sandbox, sessionEvents, startRun, succeeded, testUsers, until, type Home } from './lib.js';

const FILE_TRAPS = ['.gitmodules', '.bashrc', '.bash_profile', '.profile', '.zshrc', '.envrc', '.mcp.json'];

function quarantined(h: Home, session: string): string[] {
  const dir = path.join(h.home, 'quarantine', session);
  return existsSync(dir) ? readdirSync(dir) : [];
}

for (const as of testUsers()) {
  describe(`persistence traps, as ${as.label}`, () => {
    let h: Home;
    let ws: string;

    beforeAll(() => {
      h = makeVisibleHome(as);
      ws = h.workspace;
      gitRepo(h, ws);
      h.writePersona({ name: 'trapper', agent: 'shell', execution_mode: 'autonomous', filesystem: { write: ['{workspace}'] } });
      h.writePersona({
        name: 'granted',
        agent: 'shell',
        execution_mode: 'autonomous',
        filesystem: { write: ['{workspace}'], allow_sensitive: ['.vscode', '.claude', '.mcp.json', '.git/hooks', '.bashrc'] },
      });
    });

    afterAll(() => h.cleanup());

    it('denies every trap by default, records the guarded ones, and git still commits', async () => {
      const configBefore = readFileSync(path.join(ws, '.git', 'config'));
      const s = `
t hook sh -c 'printf "#!/bin/sh\\ntouch ${h.dir}/pwned-hook\\n" > .git/hooks/pre-commit && chmod +x .git/hooks/pre-commit'
t hook_dir sh -c 'mkdir -p .git/hooks/evil.d && echo x > .git/hooks/evil.d/x'
t config sh -c 'printf "[core]\\n\\tfsmonitor = touch ${h.dir}/pwned-config\\n" >> .git/config'
t git_config git config core.hooksPath /tmp/evil-hooks
t git_mv mv .git .git-old
t hooks_mv mv .git/hooks .git/hooks-old
t commondir sh -c 'echo ../evil > .git/commondir'
${FILE_TRAPS.map((f) => `t ${f.replace(/\W/g, '_')} sh -c 'echo evil > ${f}'`).join('\n')}
t vscode sh -c 'mkdir -p .vscode && echo {} > .vscode/settings.json'
t vscode_tasks sh -c 'echo {} > .vscode/tasks.json'
t idea sh -c 'mkdir -p .idea && echo x > .idea/workspace.xml'
t claude_settings sh -c 'mkdir -p .claude && echo {} > .claude/settings.json'
t claude_commands sh -c 'mkdir -p .claude/commands && echo x > .claude/commands/evil.md'
t claude_agents sh -c 'mkdir -p .claude/agents && echo x > .claude/agents/evil.md'
echo work > work.txt
t add git add work.txt
t commit git commit -q -m 'work from the sandbox'
t status git status --short
sleep 0.3
`;
      const r = await sandbox(h, 'trapper', s);
      const denied = ['hook', 'hook_dir', 'config', 'git_config', 'git_mv', 'hooks_mv', 'vscode', 'vscode_tasks', 'idea', 'claude_settings', 'claude_commands', 'claude_agents'];
      expect(missing(r, [...denied, 'commondir', 'add', 'commit'])).toEqual([]);
      expect(succeeded(r, denied)).toEqual([]);
      // git works: objects, refs and the index are writable.
      expect([r.marks.add, r.marks.commit, r.marks.status]).toEqual(['0', '0', '0']);
      const log = hostAs(h, ['git', 'log', '--format=%s|%an|%(trailers:key=On-behalf-of,valueonly)'], ws);
      expect(log).toContain('work from the sandbox|Test persona|');
      expect(log.split('\n').filter((l) => l.trim() !== '').length).toBe(2);

      // Judged from outside: nothing the agent wrote is left in a trap.
      expect(existsSync(path.join(ws, '.git', 'hooks', 'pre-commit'))).toBe(false);
      expect(existsSync(path.join(ws, '.git', 'hooks', 'evil.d'))).toBe(false);
      expect(readFileSync(path.join(ws, '.git', 'config'))).toEqual(configBefore);
      for (const f of ['.git-old', '.git/hooks-old', '.git/commondir', '.vscode', '.idea', '.claude', ...FILE_TRAPS]) {
        expect(existsSync(path.join(ws, f)), f).toBe(false);
      }
      // The guarded files the agent did create went to quarantine and were recorded as denied.
      expect(quarantined(h, r.session).length).toBeGreaterThan(0);
      const events = await sessionEvents(h, r.session);
      const deniedWrites = events.filter((e) => e.kind === 'fs.write' && e.decision === 'deny');
      for (const f of [...FILE_TRAPS, '.git/commondir']) {
        expect(deniedWrites.some((e) => e.target === path.join(ws, f) && e.persona === 'trapper'), f).toBe(true);
      }
      // Host git in the workspace runs none of it.
      hostAs(h, ['git', 'status', '--short'], ws);
      hostAs(h, ['git', 'commit', '-q', '--allow-empty', '-m', 'host commit'], ws);
      expect(existsSync(h.path('pwned-hook'))).toBe(false);
      expect(existsSync(h.path('pwned-config'))).toBe(false);
    });

    it('a trap rewritten in a tight loop until the session ends is still gone afterwards', async () => {
      const s = `
i=0; while [ $i -lt 100 ]; do echo "evil $i" > .mcp.json; echo "evil $i" > .bashrc.tmp; mv .bashrc.tmp .bashrc; i=$((i+1)); done
say looped $i
`;
      const r = await sandbox(h, 'trapper', s);
      expect(r.marks.looped).toBe('100');
      expect(existsSync(path.join(ws, '.mcp.json'))).toBe(false);
      expect(existsSync(path.join(ws, '.bashrc'))).toBe(false);
      const events = await sessionEvents(h, r.session);
      expect(events.some((e) => e.kind === 'fs.write' && e.decision === 'deny' && e.target === path.join(ws, '.mcp.json'))).toBe(true);
    });

    it('a workspace without .git: hooks and config made by `git init` do not outlive the session', async () => {
      const fresh = mkdirs(h, h.path('fresh'));
      const s = `
t init git init -q .
t hook sh -c 'mkdir -p .git/hooks && printf "#!/bin/sh\\ntouch ${h.dir}/pwned-fresh\\n" > .git/hooks/pre-commit && chmod +x .git/hooks/pre-commit'
t commondir sh -c 'echo ../evil > .git/commondir'
t config sh -c 'printf "[core]\\n\\tfsmonitor = touch ${h.dir}/pwned-fresh-config\\n" >> .git/config'
sleep 0.3
`;
      const r = await sandbox(h, 'trapper', s, { workspace: fresh });
      expect(r.marks.init).toBe('0');
      for (const f of ['.git/hooks', '.git/commondir', '.git/config']) expect(existsSync(path.join(fresh, f)), f).toBe(false);
      // git init worked during the session; its hooks went to the session's quarantine when it ended, recorded.
      const swept = [r.session];
      expect(swept.flatMap((d) => readdirSync(path.join(h.home, 'quarantine', d))).some((f) => f.endsWith('-swept-hooks'))).toBe(true);
      expect(existsSync(path.join(fresh, '.git', 'objects'))).toBe(true);
      const events = await sessionEvents(h, r.session);
      expect(events.some((e) => e.kind === 'fs.write' && e.decision === 'deny' && e.target === path.join(fresh, '.git', 'commondir'))).toBe(true);
      expect(events.some((e) => e.kind === 'fs.write' && e.detail.op === 'swept' && e.target === path.join(fresh, '.git', 'hooks'))).toBe(true);
      spawnSync('git', ['status'], { cwd: fresh, uid: as.uid, gid: as.gid, timeout: 10_000, env: { PATH: '/usr/bin:/bin', HOME: h.dir } });
      expect(existsSync(h.path('pwned-fresh'))).toBe(false);
      expect(existsSync(h.path('pwned-fresh-config'))).toBe(false);
    });

    it('allows exactly the traps the persona names in filesystem.allow_sensitive', async () => {
      const wsg = h.path('granted-ws');
      gitRepo(h, wsg);
      const s = `
t vscode sh -c 'mkdir -p .vscode && echo {} > .vscode/settings.json'
t claude_settings sh -c 'mkdir -p .claude && echo {} > .claude/settings.json'
t claude_commands sh -c 'mkdir -p .claude/commands && echo x > .claude/commands/mine.md'
t claude_agents sh -c 'mkdir -p .claude/agents && echo x > .claude/agents/mine.md'
t mcp sh -c 'echo {} > .mcp.json'
t hook sh -c 'printf "#!/bin/sh\\nexit 0\\n" > .git/hooks/pre-push && chmod +x .git/hooks/pre-push'
t bashrc sh -c 'echo "# mine" > .bashrc'
t idea sh -c 'mkdir -p .idea && echo x > .idea/workspace.xml'
t config sh -c 'echo "# x" >> .git/config'
t gitmodules sh -c 'echo x > .gitmodules'
sleep 0.3
`;
      const r = await sandbox(h, 'granted', s, { workspace: wsg });
      const allowed = ['vscode', 'claude_settings', 'claude_commands', 'claude_agents', 'mcp', 'hook', 'bashrc'];
      expect(missing(r, [...allowed, 'idea', 'config', 'gitmodules'])).toEqual([]);
      expect(succeeded(r, allowed)).toEqual(allowed);
      expect(succeeded(r, ['idea', 'config'])).toEqual([]);
      // Judged from outside: the granted ones persist, the others do not.
      for (const f of ['.vscode/settings.json', '.claude/settings.json', '.claude/commands/mine.md', '.claude/agents/mine.md', '.mcp.json', '.git/hooks/pre-push', '.bashrc']) {
        expect(existsSync(path.join(wsg, f)), f).toBe(true);
      }
      expect(statSync(path.join(wsg, '.git/hooks/pre-push')).mode & 0o111).not.toBe(0);
      for (const f of ['.idea', '.gitmodules']) expect(existsSync(path.join(wsg, f)), f).toBe(false);
      expect(readFileSync(path.join(wsg, '.git', 'config'), 'utf8')).not.toContain('# x');
    });

    it('a trap stays held when another session in the same workspace ends first', async () => {
      const shared = h.path('shared-ws');
      gitRepo(h, shared);
      const go = h.path('go-shared');
      const ready = path.join(shared, 'ready-b');
      // A holds the placeholders (.vscode and friends did not exist) and just waits.
      const a = await startRun(h, ['trapper', '--workspace', shared, '--', 'sleep', '30'], { env: runEnv(h), cwd: shared });
      try {
        expect(await until(() => existsSync(path.join(shared, '.vscode')), 10_000)).toBe(true);
        // B starts while A's placeholders are there, then waits for A to end.
        const script = `touch ${ready}; i=0; while [ ! -e ${go} ] && [ $i -lt 300 ]; do sleep 0.05; i=$((i+1)); done
t vscode sh -c 'mkdir -p .vscode && echo {} > .vscode/tasks.json'
t claude sh -c 'mkdir -p .claude/commands && echo x > .claude/commands/evil.md'`;
        const b = await startRun(h, ['trapper', '--workspace', shared, '--', 'sh', '-c', PRELUDE + script], { env: runEnv(h), cwd: shared });
        expect(await until(() => existsSync(ready), 10_000)).toBe(true);
        expect((await cli(h, ['stop', a.session.slice(0, 8)], { env: runEnv(h) })).code).toBe(0);
        await a.done;
        writeFileSync(go, '');
        const r = await b.done;
        expect(marksOf(r.stdout).vscode).not.toBe('0');
        expect(marksOf(r.stdout).claude).not.toBe('0');
        expect(existsSync(path.join(shared, '.vscode', 'tasks.json'))).toBe(false);
        expect(existsSync(path.join(shared, '.claude', 'commands', 'evil.md'))).toBe(false);
      } finally {
        await cli(h, ['stop', '--all'], { env: runEnv(h) });
        await a.done;
      }
    });

    // A host-side rename over a pinned trap during the session (git itself writes config.lock,
    // then renames it) would leave the new file writable inside; personae pins it again within
    // milliseconds and records that. The test waits for the record before the agent tries.
    it('after the user runs `git config` on the host mid-session, .git/config is pinned again: the agent cannot write it', async () => {
      const repo = h.path('hostgit-ws');
      gitRepo(h, repo);
      const go = h.path('go-hostgit');
      const ready = path.join(repo, 'ready');
      const script = `touch ${ready}; i=0; while [ ! -e ${go} ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done
printf '[core]\n\tfsmonitor = touch ${h.dir}/pwned-hostgit\n' >> .git/config`;
      const run = await startRun(h, ['trapper', '--workspace', repo, '--', 'sh', '-c', script], { env: runEnv(h), cwd: repo, timeoutMs: 60_000 });
      expect(await until(() => existsSync(ready), 10_000)).toBe(true);
      hostAs(h, ['git', 'config', 'user.name', 'Host User'], repo);
      const config = path.join(repo, '.git', 'config');
      const repinned = async (): Promise<boolean> =>
        (await sessionEvents(h, run.session)).some((e) => e.kind === 'decision' && e.target === config && e.detail.action === 'pin' && e.persona === 'trapper');
      const deadline = Date.now() + 25_000;
      while (!(await repinned()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      writeFileSync(go, '');
      await run.done;
      // On failure, say what the session recorded instead.
      const said = (await sessionEvents(h, run.session)).filter((e) => e.kind === 'error' || e.kind === 'decision').map((e) => `${e.kind} ${e.target ?? ''} ${e.reason ?? ''}`);
      expect(await repinned(), said.join('\n')).toBe(true);
      const after = readFileSync(config, 'utf8');
      expect(after).not.toContain('pwned-hostgit');
      expect(after).toContain('Host User'); // the user's own change stays
    }, 90_000);

    // A repository the agent makes further down carries its own config, which git
    // on the host would run: at session end its code-running parts go to quarantine.
    it('a nested repository the agent creates loses its code-running parts at session end (host git status runs nothing)', async () => {
      const s = `
mkdir -p vendor/lib && cd vendor/lib && git init -q . && git commit -q --allow-empty -m x
git config core.fsmonitor 'touch ${h.dir}/pwned-nested; false'
cd ../.. && git add vendor/lib >/dev/null 2>&1; say added $?
`;
      const r = await sandbox(h, 'trapper', s);
      expect(r.marks.added).toBe('0');
      spawnSync('git', ['status'], { cwd: ws, uid: as.uid, gid: as.gid, timeout: 10_000, env: { PATH: '/usr/bin:/bin', HOME: h.dir } });
      expect(existsSync(h.path('pwned-nested'))).toBe(false);
    });
  });
}
