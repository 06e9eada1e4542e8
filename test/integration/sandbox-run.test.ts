// Issue 2's "done means", against the real bwrap, proxy and SQLite, judged
// from outside the sandbox. Runs as the current user and, under root, as an
// unprivileged user too.
import { existsSync, mkdirSync, readFileSync, writeFileSync, chownSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { audit, cli, makeHome, processesMatching, startRun, testServer, testUsers, type Home, type TestServer } from './harness.js';

for (const as of testUsers()) {
  describe(`personae run as ${as.label}`, () => {
    let h: Home;
    let allowed: TestServer;
    let denied: TestServer;
    let hosts: Record<string, string>;

    beforeAll(async () => {
      h = makeHome(as);
      allowed = await testServer('allowed-body-7431');
      denied = await testServer('denied-body-9126');
      hosts = { PERSONAE_HOSTS: `allowed.test=127.0.0.1:${allowed.port},denied.test=127.0.0.1:${denied.port}` };
      h.writePersona({
        name: 'worker',
        agent: 'shell',
        execution_mode: 'autonomous',
        // The canaries sit in the workspace, which the sandbox sees: only read_deny hides them.
        filesystem: { write: ['{workspace}'], read_deny: ['{workspace}/secret', '{workspace}/loose-secret.txt'] },
        network: { allow: ['allowed.test'] },
        // In the clear on purpose: this suite checks the environment and redaction of a value the agent holds.
        credentials: { API_TOKEN: { secret: 'worker-token', inject: 'env' } },
      });
      h.writePersona({ name: 'other', agent: 'shell', credentials: { OTHER_TOKEN: { secret: 'other-token', inject: 'env' } } });
      // Granted only a subdirectory: the rest of the workspace is visible to it, and read-only.
      h.writePersona({ name: 'narrow', agent: 'shell', execution_mode: 'autonomous', filesystem: { write: ['{workspace}/granted'] } });
      const ws = h.workspace;
      mkdirSync(`${ws}/secret`);
      writeFileSync(`${ws}/secret/canary.txt`, 'CANARY-DIR-5521');
      writeFileSync(`${ws}/loose-secret.txt`, 'CANARY-FILE-8832');
      mkdirSync(`${ws}/granted`);
      writeFileSync(`${ws}/visible.txt`, 'visible-4410');
      if (as.uid !== undefined) {
        for (const p of ['secret', 'secret/canary.txt', 'loose-secret.txt', 'granted', 'visible.txt']) chownSync(`${ws}/${p}`, as.uid, as.gid ?? as.uid);
      }
      expect((await cli(h, ['secret', 'set', 'worker-token'], { input: 'tok-worker-61825\n' })).code).toBe(0);
      expect((await cli(h, ['secret', 'set', 'other-token'], { input: 'tok-other-99410\n' })).code).toBe(0);
    });

    afterAll(async () => {
      await allowed.close();
      await denied.close();
      h.cleanup();
    });

    it('runs the command, streams its output, exits with its code and records the session', async () => {
      const r = await cli(h, ['run', 'worker', '--on-behalf-of', 'alice', '--', 'sh', '-c', 'echo out-1; echo err-1 >&2; exit 7']);
      expect(r.stdout).toBe('out-1\n');
      expect(r.stderr).toContain('err-1');
      expect(r.code).toBe(7);
      const id = /session ([0-9a-f-]{36})/.exec(r.stderr)?.[1] ?? '';
      expect(id).not.toBe('');
      const events = await audit(h, ['--session', id]);
      const kinds = events.map((e) => e.kind);
      expect(kinds).toContain('session.start');
      expect(kinds).toContain('session.end');
      expect(events.find((e) => e.kind === 'exec')?.detail.argv).toEqual(['sh', '-c', 'echo out-1; echo err-1 >&2; exit 7']);
      for (const e of events) {
        expect(e.persona).toBe('worker');
        expect(e.on_behalf_of).toBe('alice');
        expect(e.agent.kind).toBe('shell');
      }
      expect(events.find((e) => e.kind === 'session.end')?.detail.exit_code).toBe(7);
    });

    it('records every exec with its parent, whichever way it is made; forks and PATH misses are not execs', async () => {
      // python's os.execve(fd, ...) is fexecve (execveat with AT_EMPTY_PATH); a thousand forks without exec add nothing.
      const py = [
        'import os, sys',
        'for _ in range(1000):',
        '    pid = os.fork()',
        '    if pid == 0: os._exit(0)',
        '    os.waitpid(pid, 0)',
        'fd = os.open("/usr/bin/echo", os.O_RDONLY)',
        'os.execve(fd, ["echo", "via-fd-4417"], {})',
      ].join('\n');
      // Paths that mean something else for the logger than for the sandbox (/proc/self, /dev/fd) still run, and are logged.
      const own = `python3 -c 'import os; os.execv("/proc/self/exe", ["python3", "-c", "print(7)"])'; exec 3</usr/bin/true; /dev/fd/3`;
      const script = `${own}; PATH=/nonexistent-1:/nonexistent-2:$PATH; env printf '%s\\n' "a b" 'c"d'; no-such-cmd-5150 2>/dev/null; python3 -c '${py}'`;
      const r = await cli(h, ['run', 'worker', '--', 'sh', '-c', script]);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe('7\na b\nc"d\nvia-fd-4417\n');
      const id = /session ([0-9a-f-]{36})/.exec(r.stderr)?.[1] ?? '';
      const all = (await audit(h, ['--session', id, '--kind', 'exec'])).map((e) => e.detail as { argv: string[]; path: string; pid: number; ppid: number });
      expect(all.slice(1, 4).map((e) => e.path)).toEqual(['/usr/bin/python3', '/proc/self/exe', '/dev/fd/3']);
      const execs = [all[0], ...all.slice(4)] as typeof all;
      expect(execs.map((e) => e.argv[0])).toEqual(['sh', 'env', 'printf', 'python3', 'echo']);
      const [sh, env, printf, python, echo] = execs;
      expect(env?.ppid).toBe(sh?.pid);
      expect(printf?.pid).toBe(env?.pid);
      expect(printf?.argv).toEqual(['printf', '%s\\n', 'a b', 'c"d']);
      expect(python?.ppid).toBe(sh?.pid);
      expect(echo).toMatchObject({ pid: python?.pid, path: '/usr/bin/echo', argv: ['echo', 'via-fd-4417'] });
      expect(execs.some((e) => e.argv[0] === 'no-such-cmd-5150' || e.path.includes('nonexistent'))).toBe(false);
    });

    it('an exec cannot hide from the log behind a path only the sandbox can resolve', async () => {
      // /tmp is the sandbox's own: a program there, reached through a relative symlink and
      // through an absolute path, exists only in the sandbox's view.
      const script = `cp /usr/bin/true /tmp/hidden-true-6621; ln -sf /tmp/hidden-true-6621 ./via-link-6621; ./via-link-6621; /tmp/hidden-true-6621; rm -f ./via-link-6621`;
      const r = await cli(h, ['run', 'worker', '--', 'sh', '-c', script]);
      expect(r.code).toBe(0);
      const id = /session ([0-9a-f-]{36})/.exec(r.stderr)?.[1] ?? '';
      const execs = (await audit(h, ['--session', id, '--kind', 'exec'])).map((e) => (e.detail as { path: string }).path);
      expect(execs).toEqual(expect.arrayContaining(['./via-link-6621', '/tmp/hidden-true-6621']));
    });

    it('an exec cannot slip between the look of the logger and that of the kernel: every run that happened is logged', async () => {
      // One thread keeps creating and removing a program while the main one keeps executing it,
      // until 20 runs got through (about 1 attempt in 100 does; at most 5,000 attempts).
      const py = [
        'import os, threading',
        'p = "/tmp/racer-7781"',
        'src = open("/usr/bin/true", "rb").read()',
        'stop = False',
        'def flip():',
        '    while not stop:',
        '        with open(p + ".tmp", "wb") as f: f.write(src)',
        '        os.chmod(p + ".tmp", 0o755); os.rename(p + ".tmp", p)',
        '        os.unlink(p)',
        't = threading.Thread(target=flip); t.start()',
        'ok = 0',
        'for i in range(5000):',
        '    pid = os.fork()',
        '    if pid == 0:',
        '        try: os.execv(p, [p])',
        '        except OSError: os._exit(127)',
        '    _, st = os.waitpid(pid, 0)',
        '    ok += os.WIFEXITED(st) and os.WEXITSTATUS(st) == 0',
        '    if ok >= 20: break',
        'stop = True; t.join()',
        'print("ran", ok)',
      ].join('\n');
      const r = await cli(h, ['run', 'worker', '--', 'python3', '-c', py], { timeoutMs: 60_000 });
      expect(r.code).toBe(0);
      const ran = Number(/ran (\d+)/.exec(r.stdout)?.[1]);
      expect(ran).toBeGreaterThan(0);
      const id = /session ([0-9a-f-]{36})/.exec(r.stderr)?.[1] ?? '';
      const logged = (await audit(h, ['--session', id, '--kind', 'exec'])).filter((e) => (e.detail as { path: string }).path === '/tmp/racer-7781');
      expect(logged.length).toBeGreaterThanOrEqual(ran);
    }, 90_000);

    it('records how each executed program ended: its exit code, or the signal that killed it', async () => {
      const r = await cli(h, ['run', 'worker', '--', 'sh', '-c', `sh -c 'exit 3'; bash -c 'kill -9 $$'; exit 5`]);
      expect(r.code).toBe(5);
      const id = /session ([0-9a-f-]{36})/.exec(r.stderr)?.[1] ?? '';
      const events = await audit(h, ['--session', id]);
      const execs = events.filter((e) => e.kind === 'exec').map((e) => e.detail as { argv: string[]; pid: number });
      const exits = events.filter((e) => e.kind === 'exec.exit').map((e) => ({ tool: e.tool, ...(e.detail as { pid: number; code: number | null; signal: string | null }) }));
      const pidOf = (argv0: string, n = 0): number | undefined => execs.filter((e) => e.argv[0] === argv0)[n]?.pid;
      const outer = pidOf('sh', 0);
      const inner = pidOf('sh', 1);
      const killed = pidOf('bash');
      expect(exits).toEqual(
        expect.arrayContaining([
          { tool: 'sh', pid: inner, code: 3, signal: null },
          // Which signal shows only if the zombie is read before its parent reaps it.
          { tool: 'bash', pid: killed, code: null, signal: expect.stringMatching(/^(SIGKILL|unknown)$/) as unknown },
          { tool: 'sh', pid: outer, code: 5, signal: null },
        ]),
      );
      expect([outer, inner, killed].every((p) => p !== undefined)).toBe(true);
      expect(events.every((e) => e.persona === 'worker')).toBe(true);
    });

    it('hides denied files and directories, and records each attempt (a persona without read_deny reads them)', async () => {
      const ws = h.workspace;
      const open = await cli(h, ['run', 'other', '--', 'sh', '-c', `cat ${ws}/secret/canary.txt ${ws}/loose-secret.txt; ls ${ws}/secret`]);
      expect(open.stdout).toBe('CANARY-DIR-5521CANARY-FILE-8832canary.txt\n');
      const r = await cli(h, ['run', 'worker', '--', 'sh', '-c', `cat ${ws}/secret/canary.txt; cat ${ws}/loose-secret.txt; ls ${ws}/secret; cat ${h.dir}/home/personas/worker.yaml`]);
      expect(r.stdout).not.toContain('CANARY-DIR-5521');
      expect(r.stdout).not.toContain('CANARY-FILE-8832');
      expect(r.stdout).not.toContain('canary.txt');
      expect(r.stdout).not.toContain('worker-token');
      expect(r.code).not.toBe(0);
      const id = /session ([0-9a-f-]{36})/.exec(r.stderr)?.[1] ?? '';
      const reads = await audit(h, ['--session', id, '--kind', 'fs.read']);
      expect(reads.map((e) => [e.target, e.tool, e.decision, e.reason])).toEqual(
        expect.arrayContaining([
          [`${ws}/secret/canary.txt`, 'cat', 'deny', `filesystem.read_deny: ${ws}/secret`],
          [`${ws}/loose-secret.txt`, 'cat', 'deny', `filesystem.read_deny: ${ws}/loose-secret.txt`],
          [`${ws}/secret`, 'ls', 'deny', `filesystem.read_deny: ${ws}/secret`],
          [`${h.home}/personas`, 'cat', 'deny', expect.stringMatching(/^personae's own data/) as unknown],
        ]),
      );
      expect(reads.every((e) => e.persona === 'worker')).toBe(true);
    });

    it('refuses writes outside the grants to paths it sees, allows them inside, and records file events', async () => {
      const ws = h.workspace;
      // Judged from outside: the workspace is the host's own directory, so a write that got through would be here.
      const script = `cat ${ws}/visible.txt; echo; echo in > ${ws}/granted/inside.txt; echo out > ${ws}/outside.txt; echo etc > /etc/personae-test`;
      const r = await cli(h, ['run', 'narrow', '--', 'sh', '-c', script]);
      expect(r.stdout).toBe('visible-4410\n');
      expect(r.stderr).toMatch(/outside\.txt: Read-only file system/);
      expect(r.code).not.toBe(0);
      expect(readFileSync(`${ws}/granted/inside.txt`, 'utf8')).toBe('in\n');
      expect(existsSync(`${ws}/outside.txt`)).toBe(false);
      expect(existsSync('/etc/personae-test')).toBe(false);
      const id = /session ([0-9a-f-]{36})/.exec(r.stderr)?.[1] ?? '';
      const writes = await audit(h, ['--session', id, '--kind', 'fs.write']);
      expect(writes.map((e) => e.target)).toEqual([`${ws}/granted/inside.txt`]);
    });

    it('records every write and delete, names that look like editor swap files and a delete as the very last act included', async () => {
      const w = h.workspace;
      writeFileSync(`${w}/gone.txt`, 'c');
      if (as.uid !== undefined) chownSync(`${w}/gone.txt`, as.uid, as.gid ?? as.uid);
      const r = await cli(h, ['run', 'worker', '--', 'sh', '-c', `echo a > ${w}/notes.txt~; echo b > ${w}/.x.swp; rm ${w}/gone.txt`]);
      expect(r.code).toBe(0);
      const id = /session ([0-9a-f-]{36})/.exec(r.stderr)?.[1] ?? '';
      const events = await audit(h, ['--session', id]);
      const seen = (kind: string): string[] => events.filter((e) => e.kind === kind).map((e) => e.target ?? '');
      expect(seen('fs.write')).toEqual(expect.arrayContaining([`${w}/notes.txt~`, `${w}/.x.swp`]));
      expect(seen('fs.delete')).toContain(`${w}/gone.txt`);
      // personae's own settle marker never shows up.
      expect(events.some((e) => (e.target ?? '').includes('.settle-'))).toBe(false);
    });

    it('records a burst of writes in new directories made as the command exits, every one of them', async () => {
      const w = h.workspace;
      const script = `for d in 1 2 3 4 5 6; do mkdir -p ${w}/burst/$d/x; for f in $(seq 50); do : > ${w}/burst/$d/x/f$f; done; done`;
      const r = await cli(h, ['run', 'worker', '--', 'sh', '-c', script]);
      expect(r.code).toBe(0);
      const id = /session ([0-9a-f-]{36})/.exec(r.stderr)?.[1] ?? '';
      const written = new Set((await audit(h, ['--session', id, '--kind', 'fs.write'])).map((e) => e.target));
      const missing: string[] = [];
      for (let d = 1; d <= 6; d++) for (let f = 1; f <= 50; f++) if (!written.has(`${w}/burst/${d}/x/f${f}`)) missing.push(`${d}/x/f${f}`);
      expect(missing).toEqual([]);
    });

    it('lets an allowed domain through the proxy and refuses a denied one, DNS and direct connections', async () => {
      const before = { allowed: allowed.hits.length, denied: denied.hits.length };
      const script = [
        'curl -fsS -m 5 http://allowed.test/ok; echo " curl-allowed=$?"',
        'curl -fsS -m 5 http://denied.test/no; echo " curl-denied=$?"',
        'curl -sS -m 5 --noproxy "*" http://127.0.0.1:' + allowed.port + '/direct; echo " curl-direct=$?"',
        'getent hosts example.com; echo " dns=$?"',
      ].join('; ');
      const r = await cli(h, ['run', 'worker', '--', 'sh', '-c', script], { env: hosts });
      expect(r.stdout).toContain('allowed-body-7431 curl-allowed=0');
      expect(r.stdout).not.toContain('denied-body-9126');
      expect(r.stdout).toMatch(/curl-denied=(22|56|7)/);
      expect(r.stdout).not.toContain('curl-direct=0');
      expect(r.stdout).not.toContain('dns=0');
      // Judged from outside: the allowed server saw exactly the one proxied request, the denied one nothing.
      expect(allowed.hits.slice(before.allowed)).toEqual(['GET allowed.test/ok']);
      expect(denied.hits.length).toBe(before.denied);
      const id = /session ([0-9a-f-]{36})/.exec(r.stderr)?.[1] ?? '';
      const net = await audit(h, ['--session', id, '--kind', 'net.connect']);
      expect(net.map((e) => [e.target, e.decision])).toEqual(
        expect.arrayContaining([
          ['allowed.test:80', 'allow'],
          ['denied.test:80', 'deny'],
        ]),
      );
      expect(net.every((e) => e.persona === 'worker')).toBe(true);
    });

    it("passes the persona's own credential, never another persona's secret or the parent's environment", async () => {
      const r = await cli(h, ['run', 'worker', '--', 'sh', '-c', 'env; echo token=$API_TOKEN'], { env: { PARENT_CANARY: 'parent-3391', LD_PRELOAD: '/tmp/evil.so' } });
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('token=tok-worker-61825');
      expect(r.stdout).not.toContain('tok-other-99410');
      expect(r.stdout).not.toContain('parent-3391');
      expect(r.stdout).not.toContain('LD_PRELOAD');
      expect(r.stdout).toContain('GIT_AUTHOR_NAME=Test persona');
      expect(r.stdout).toContain('PERSONAE_PERSONA=worker');
      const all = await cli(h, ['audit', '--format', 'jsonl']);
      expect(all.stdout).toContain('token=');
      expect(all.stdout).not.toContain('tok-worker-61825');
    });

    it('stops a session from another terminal with nothing left alive', async () => {
      const marker = String(470000 + Math.floor(Math.random() * 9999));
      const script = `sleep ${marker}1 & setsid sleep ${marker}2 & (sleep ${marker}3 &); nohup sleep ${marker}4 >/dev/null 2>&1 & echo ready; sleep ${marker}5`;
      const run = await startRun(h, ['worker', '--', 'sh', '-c', script]);
      const deadline = Date.now() + 5000;
      while (processesMatching(`^sleep ${marker}`).length < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(processesMatching(`^sleep ${marker}`).length).toBe(5);
      const stop = await cli(h, ['stop', run.session.slice(0, 8)]);
      expect(stop.stderr).toContain('verified');
      expect(stop.code).toBe(0);
      const result = await run.done;
      expect(result.code).not.toBe(0);
      expect(processesMatching(`^sleep ${marker}`)).toEqual([]);
      const events = await audit(h, ['--session', run.session, '--kind', 'stop']);
      expect(events.some((e) => e.detail.verified === true && e.persona === 'worker')).toBe(true);
    });

    it('lists running sessions with ps', async () => {
      const run = await startRun(h, ['worker', '--', 'sleep', '30']);
      const ps = await cli(h, ['ps']);
      expect(ps.stdout).toContain(run.session);
      expect(ps.stdout).toContain('worker');
      await cli(h, ['stop', '--all']);
      await run.done;
      expect((await cli(h, ['ps'])).stdout).not.toContain(run.session);
    });
  });
}
