// Faults: a part the session relies on dies mid-session. The proxy and broker
// bridges inside the sandbox (the agent can kill them: it runs as the same
// user in there), the file watcher (the agent exhausts inotify watches) and
// the exec logger outside (killed from the host). Each
// must fail closed (no network, no tool calls, no exec; command rules, decided
// by the exec logger, hold without the broker),
// say so in an event naming the persona, and leave a session that stops
// cleanly with nothing surviving. Judged from outside: the test server's
// hits, files in the workspace, host process lists and the audit log.
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, makeVisibleHome, marker, marksOf, processesMatching, PRELUDE, runEnv, sessionEvents, startRun, testServer, testUsers, until, type Home, type TestServer } from './lib.js';

/** Kills, from inside, the bridge listening on `port` (pure shell: no pgrep needed). */
const killBridge = (port: number): string =>
  `for p in /proc/[0-9]*; do case "$(tr '\\0' ' ' < $p/cmdline 2>/dev/null)" in socat*TCP-LISTEN:${port},*) kill -9 \${p#/proc/} ;; esac; done`;

for (const as of testUsers()) {
  describe(`components dying mid-session, as ${as.label}`, () => {
    let h: Home;
    let server: TestServer;

    beforeAll(async () => {
      h = makeVisibleHome(as);
      server = await testServer('allowed-body-3391');
      h.writePersona({ name: 'comp', agent: 'shell', execution_mode: 'autonomous', filesystem: { write: ['{workspace}'] }, network: { allow: ['allowed.test'] } });
    });

    afterAll(async () => {
      await server.close();
      h.cleanup();
    });

    /** Runs `script`, waits for it to touch its ready file, stops the session and checks the stop. */
    const runThenStop = async (script: string, tools?: { deny: string[] }): Promise<{ marks: Record<string, string>; session: string }> => {
      const ready = `${h.workspace}/ready-${marker()}`;
      const env = runEnv(h, { PERSONAE_HOSTS: `allowed.test=127.0.0.1:${server.port}` });
      const name = tools === undefined ? 'comp' : 'comp-ruled';
      if (tools !== undefined) h.writePersona({ name, agent: 'shell', execution_mode: 'autonomous', filesystem: { write: ['{workspace}'] }, tools });
      const run = await startRun(h, [name, '--', 'sh', '-c', `${PRELUDE}${script}\ntouch ${ready}; sleep 60`], { env, timeoutMs: 40_000 });
      try {
        expect(await until(() => existsSync(ready), 20_000)).toBe(true);
        const stop = await cli(h, ['stop', run.session.slice(0, 8)], { env, timeoutMs: 20_000 });
        expect(stop.code).toBe(0);
        expect(stop.stderr).toContain('verified');
      } finally {
        await cli(h, ['stop', '--all'], { env, timeoutMs: 20_000 });
      }
      const r = await run.done;
      return { marks: marksOf(r.stdout), session: run.session };
    };

    it('the proxy bridge killed from inside: the network stays closed, an event says so, the session stops cleanly', async () => {
      const { marks, session } = await runThenStop(`
t before curl -fsS -m 5 http://allowed.test/before-kill
${killBridge(3128)}
sleep 1
t after curl -fsS -m 5 http://allowed.test/after-kill
t direct curl -fsS -m 3 --noproxy '*' http://127.0.0.1:${server.port}/direct`);
      expect(marks).toMatchObject({ before: '0' });
      expect(marks.after).not.toBe('0');
      expect(marks.direct).not.toBe('0');
      expect(server.hits.some((hit) => hit.includes('/before-kill'))).toBe(true);
      expect(server.hits.some((hit) => hit.includes('/after-kill') || hit.includes('/direct'))).toBe(false);
      const events = await sessionEvents(h, session);
      const gone = events.find((e) => e.kind === 'error' && e.target === 'proxy bridge');
      expect(gone?.persona).toBe('comp');
      expect(gone?.reason).toMatch(/network access is refused/);
    }, 60_000);

    it('the broker bridge killed from inside: hook calls are refused, command rules still hold, an event says so', async () => {
      const made = `${h.workspace}/via-shell-${marker()}`;
      const refused = `${h.workspace}/refused-${marker()}`;
      const { marks, session } = await runThenStop(`
t before sh -c 'true'
${killBridge(3129)}
sleep 1
t shell sh -c 'touch ${made}'
t denied sh -c 'touch ${refused}'
printf '{"tool_name":"Bash","tool_input":{"command":"ls"}}' | /run/personae/hooks/personae-hook PreToolUse >/dev/null 2>&1; say hook $?`, { deny: [`Bash(touch ${refused})`] });
      // The hook needs the broker; command rules are decided by the exec logger outside, without it.
      expect(marks).toMatchObject({ before: '0', hook: '2', shell: '0' });
      expect(marks.denied).not.toBe('0');
      expect(existsSync(made)).toBe(true);
      expect(existsSync(refused)).toBe(false);
      const events = await sessionEvents(h, session);
      expect(events.find((e) => e.kind === 'error' && e.target === 'broker bridge')?.persona).toBe('comp-ruled');
      expect(events.filter((e) => e.kind === 'exec' && e.decision === 'deny').map((e) => e.reason)).toEqual([`tools.deny: Bash(touch ${refused})`]);
    }, 60_000);

    // The agent makes more directories than inotify may watch: the file watcher can no longer record writes.
    // The CLI runs in a user namespace of its own with a small watch limit (per user namespace since Linux 5.11).
    it('the file watcher dies (the agent exhausts inotify watches): the session fails closed, an event says so, nothing survives', async () => {
      const m = marker();
      const limit = ['unshare', '--user', '--map-root-user', 'sh', '-c', 'echo 40 > /proc/sys/user/max_inotify_watches && exec "$@"', 'personae'];
      const script = `sleep ${m}1 & for i in $(seq 200); do mkdir -p d${m}/$i; done; sleep ${m}2`;
      const r = await cli(h, ['run', 'comp', '--', 'sh', '-c', script], { env: runEnv(h), wrap: limit, timeoutMs: 30_000 });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/inotify watches/);
      expect(await until(() => processesMatching(`^sleep ${m}`).length === 0, 5_000)).toBe(true);
      const session = /session ([0-9a-f-]{36})/.exec(r.stderr)?.[1] ?? '';
      const events = await sessionEvents(h, session);
      const failed = events.filter((e) => e.kind === 'error' && /inotify watches/.test(e.reason ?? ''));
      expect(failed.map((e) => e.persona)).toEqual(['comp']);
      expect(events.some((e) => e.kind === 'stop' && e.detail.verified === true)).toBe(true);
    }, 60_000);

    it('the exec logger killed from the host: the sandbox goes with it, nothing survives, an event says so', async () => {
      const m = marker();
      const ready = `${h.workspace}/ready-${m}`;
      const run = await startRun(h, ['comp', '--', 'sh', '-c', `sleep ${m}1 & setsid sleep ${m}2 & touch ${ready}; sleep ${m}3`], { env: runEnv(h), timeoutMs: 30_000 });
      expect(await until(() => existsSync(ready) && processesMatching(`^sleep ${m}`).length === 3, 15_000)).toBe(true);
      const loggers = processesMatching(`^\\S*personae-execlog --listen \\S*/${run.session.replace(/-/g, '').slice(0, 12)}/`);
      expect(loggers.length).toBe(1);
      process.kill(loggers[0] as number, 'SIGKILL');
      const r = await run.done;
      expect(r.code).not.toBe(0);
      expect(await until(() => processesMatching(`^sleep ${m}`).length === 0, 5_000)).toBe(true);
      const events = await sessionEvents(h, run.session);
      const failed = events.find((e) => e.kind === 'error' && /exec logger stopped/.test(e.reason ?? ''));
      expect(failed?.persona).toBe('comp');
      expect(events.some((e) => e.kind === 'session.end')).toBe(true);
    }, 60_000);
  });
}
