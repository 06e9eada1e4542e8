// Escape suite, utility: a sandbox that blocks everything is useless. Under
// the same restrictive kind of persona as the rest of the suite, git (init,
// add, commit, with the persona's identity and the On-behalf-of trailer),
// node, npm, python and curl to an allowed host work, and the command's exit
// status (codes and signals) comes back out. Judged from outside: the commit
// in the repository, the files in the workspace, the allowed server's hits.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, gitRepo, hostAs, makeVisibleHome, mkdirs, runEnv, sandbox, sessionEvents, testServer, testUsers, type Home, type TestServer } from './lib.js';

for (const as of testUsers()) {
  describe(`utility, as ${as.label}`, () => {
    let h: Home;
    let allowed: TestServer;

    beforeAll(async () => {
      h = makeVisibleHome(as);
      allowed = await testServer('allowed-utility-body');
      gitRepo(h, h.workspace);
      h.writePersona({
        name: 'util',
        display_name: 'Utility Persona',
        agent: 'shell',
        execution_mode: 'autonomous',
        filesystem: { write: ['{workspace}'], read_deny: [h.path('secret')] },
        network: { allow: ['allowed.test'] },
      });
    });

    afterAll(async () => {
      await allowed.close();
      h.cleanup();
    });

    it('git, node, npm, python and curl to an allowed host all work', async () => {
      const s = `
t git_status git status --short
echo 'console.log("hi")' > index.js
t git_add git add index.js
t git_commit git commit -q -m 'add index.js'
t git_branch git switch -q -c feature
t git_log git log --oneline -1
t node node -e 'require("fs").writeFileSync("from-node.txt", String(6 * 7))'
say node_run "$(node index.js)"
say npm "$(npm --version 2>/dev/null)"
t npm_init sh -c 'npm init -y >/dev/null'
t python python3 -c 'open("from-python.txt", "w").write("py")'
say curl "$(curl -fsS -m 5 http://allowed.test/utility)"
t tmp sh -c 'echo x > /tmp/scratch && cat /tmp/scratch'
t home sh -c 'echo x > "$HOME/.cache-test"'
t mv_across sh -c 'mkdir -p a b && echo x > a/f && mv a/f b/f && ln b/f a/hard'
`;
      const r = await sandbox(h, 'util', s, { env: { PERSONAE_HOSTS: `allowed.test=127.0.0.1:${allowed.port}` }, onBehalfOf: 'alice' });
      expect(r.code).toBe(0);
      for (const n of ['git_status', 'git_add', 'git_commit', 'git_branch', 'git_log', 'node', 'npm_init', 'python', 'tmp', 'home', 'mv_across']) expect(r.marks[n], n).toBe('0');
      expect(r.marks.node_run).toBe('hi');
      expect(r.marks.npm).toMatch(/^\d+\.\d+\.\d+$/);
      expect(r.marks.curl).toBe('allowed-utility-body');
      // Judged from outside: the commit is in the repository, made as the persona, for alice.
      const log = hostAs(h, ['git', 'log', 'feature', '-1', '--format=%an <%ae>|%s|%(trailers:key=On-behalf-of,valueonly,separator=)'], h.workspace);
      expect(log.trim()).toBe('Utility Persona <util@personae.invalid>|add index.js|alice');
      expect(readFileSync(path.join(h.workspace, 'from-node.txt'), 'utf8')).toBe('42');
      expect(readFileSync(path.join(h.workspace, 'from-python.txt'), 'utf8')).toBe('py');
      expect(existsSync(path.join(h.workspace, 'package.json'))).toBe(true);
      expect(existsSync(path.join(h.workspace, 'b', 'f'))).toBe(true);
      expect(allowed.hits).toContain('GET allowed.test/utility');
      const events = await sessionEvents(h, r.session);
      expect(events.some((e) => e.kind === 'exec' && e.tool === 'git' && e.persona === 'util' && e.on_behalf_of === 'alice')).toBe(true);
      expect(events.some((e) => e.kind === 'net.connect' && e.target === 'allowed.test:80' && e.decision === 'allow')).toBe(true);
    });

    it('git init, add and commit work in a workspace that has no repository yet', async () => {
      const fresh = mkdirs(h, h.path('fresh'));
      const s = `
t init git init -q -b main .
echo hello > hello.txt
t add git add hello.txt
t commit git commit -q -m 'first commit'
t log git log --oneline
`;
      const r = await sandbox(h, 'util', s, { workspace: fresh, onBehalfOf: 'alice' });
      expect([r.marks.init, r.marks.add, r.marks.commit, r.marks.log]).toEqual(['0', '0', '0', '0']);
      const log = hostAs(h, ['git', 'log', '-1', '--format=%an|%s|%(trailers:key=On-behalf-of,valueonly,separator=)'], fresh);
      expect(log.trim()).toBe('Utility Persona|first commit|alice');
    });

    it('exit codes and signals propagate', async () => {
      const cases: Array<[string[], number]> = [
        [['sh', '-c', 'exit 42'], 42],
        [['false'], 1],
        [['true'], 0],
        [['sh', '-c', 'kill -TERM $$'], 143],
        [['sh', '-c', 'kill -KILL $$'], 137],
        [['definitely-not-a-command-3f1a'], 127],
      ];
      const results = await Promise.all(cases.map(([argv]) => cli(h, ['run', 'util', '--', ...argv], { env: runEnv(h) })));
      expect(results.map((r) => r.code)).toEqual(cases.map(([, code]) => code));
    });
  });
}
