// A terminal gives the command a real PTY (interactive agents work), and
// Ctrl-C stops the session with nothing left behind, with or without a TTY.
import { spawn } from 'node:child_process';
import * as pty from 'node-pty';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { audit, CLI, makeHome, processesMatching, type Home, sleep, until } from './harness.js';

describe('terminals and Ctrl-C', () => {
  let h: Home;
  beforeAll(() => {
    h = makeHome();
    h.writePersona({ name: 'term', agent: 'shell', execution_mode: 'autonomous', filesystem: { write: ['{workspace}'] } });
  });
  afterAll(() => h.cleanup());

  const env = (): Record<string, string> => ({ PATH: process.env.PATH ?? '/usr/bin:/bin', PERSONAE_HOME: h.home, HOME: h.dir, TERM: 'xterm-256color' });

  it('on a TTY the command gets a real PTY and reads what is typed', async () => {
    const term = pty.spawn(process.execPath, [CLI, 'run', 'term', '--', 'bash', '-c', 'tty; stty size; read -r x; echo "got:$x"'], { cols: 100, rows: 30, cwd: h.workspace, env: env() });
    let out = '';
    term.onData((d) => (out += d));
    const exited = new Promise<number>((r) => term.onExit(({ exitCode }) => r(exitCode)));
    expect(await until(() => out.includes('30 100'), 10_000)).toBe(true);
    term.write('hello-pty\r');
    const code = await Promise.race([exited, sleep(10_000).then(() => -1)]);
    // bwrap shows the PTY as /dev/console inside its own /dev.
    expect(out).toMatch(/\/dev\/(pts\/\d+|console)/);
    expect(out).toContain('got:hello-pty');
    expect(code).toBe(0);
  });

  it('Ctrl-C on a TTY interrupts the command, and the session ends with it: nothing survives', async () => {
    const marker = `7${Math.floor(Math.random() * 1e5)}`;
    const term = pty.spawn(process.execPath, [CLI, 'run', 'term', '--', 'bash', '-c', `sleep ${marker}1 & setsid sleep ${marker}2 & echo ready; sleep ${marker}3`], { cols: 80, rows: 24, cwd: h.workspace, env: env() });
    let out = '';
    term.onData((d) => (out += d));
    const exited = new Promise<number>((r) => term.onExit(({ exitCode }) => r(exitCode)));
    expect(await until(() => out.includes('ready') && processesMatching(`^sleep ${marker}`).length === 3, 10_000)).toBe(true);
    term.write('\x03');
    const code = await Promise.race([exited, sleep(8000).then(() => -1)]);
    expect(code).not.toBe(-1);
    expect(await until(() => processesMatching(`^sleep ${marker}`).length === 0, 3000)).toBe(true);
    // An interrupt, not a failure: the exec logger outlives the sandbox and closes its log.
    const session = /session ([0-9a-f-]{36})/.exec(out)?.[1] ?? '';
    expect(session).not.toBe('');
    expect(await audit(h, ['--session', session, '--kind', 'error'])).toEqual([]);
  });

  it('Ctrl-C without a TTY (SIGINT) stops the session gracefully and verifies it', async () => {
    const marker = `8${Math.floor(Math.random() * 1e5)}`;
    const child = spawn(process.execPath, [CLI, 'run', 'term', '--', 'bash', '-c', `sleep ${marker}1 & (setsid sleep ${marker}2 &); sleep ${marker}3`], { cwd: h.workspace, env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    expect(await until(() => processesMatching(`^sleep ${marker}`).length === 3, 10_000)).toBe(true);
    const started = Date.now();
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    expect(Date.now() - started).toBeLessThan(4000);
    expect(code).not.toBe(0);
    expect(processesMatching(`^sleep ${marker}`)).toEqual([]);
    const session = /session ([0-9a-f-]{36})/.exec(err)?.[1] ?? '';
    const stops = await audit(h, ['--session', session, '--kind', 'stop']);
    expect(stops.some((e) => e.detail.verified === true)).toBe(true);
  });
});
