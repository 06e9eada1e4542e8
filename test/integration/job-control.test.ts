// An interactive shell in the sandbox behaves as in a normal terminal: Ctrl-C
// interrupts the foreground command and the shell lives on, Ctrl-Z stops it,
// jobs and fg work, exit ends the session. Driven through a real PTY and read
// off a rendered screen, as root and as an unprivileged user. Keystrokes
// cannot be pushed into any terminal (TIOCSTI), and without personae's own
// PTY the sandbox still has no controlling terminal at all.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, CLI, makeHome, processesMatching, testUsers, type Home, sleep, until } from './harness.js';
import { openScreen, type Screen } from './screen.js';

describe.each(testUsers())('job control in an interactive shell ($label)', (as) => {
  let h: Home;
  beforeAll(() => {
    h = makeHome(as);
    h.writePersona({ name: 'term', agent: 'shell', execution_mode: 'autonomous', filesystem: { write: ['{workspace}'] } });
  });
  afterAll(() => h.cleanup());

  const env = (): Record<string, string> => ({ PATH: process.env.PATH ?? '/usr/bin:/bin', PERSONAE_HOME: h.home, HOME: h.dir, TERM: 'xterm-256color' });
  const shell = (args: readonly string[]): Screen => openScreen(process.execPath, [CLI, 'run', 'term', ...args], { cwd: h.workspace, env: env(), as });
  const exitOf = (s: Screen, ms: number): Promise<number> => Promise.race([s.exited, sleep(ms).then(() => -1)]);

  it('Ctrl-C interrupts the foreground command, not the session; Ctrl-Z, jobs, fg and exit work', async () => {
    const marker = `3${Math.floor(Math.random() * 1e5)}`;
    const s = shell(['--', 'bash', '-i']);
    try {
      await s.waitFor(/@personae:.*[$#]$/m);
      s.type(`sleep ${marker}1\r`);
      expect(await until(() => processesMatching(`^sleep ${marker}1`).length === 1, 10_000)).toBe(true);
      s.type('\x03');
      expect(await until(() => processesMatching(`^sleep ${marker}1`).length === 0, 5000)).toBe(true);
      s.type('echo alive-$((6*7))\r');
      await s.waitFor(/^alive-42$/m);

      s.type(`sleep ${marker}2\r`);
      expect(await until(() => processesMatching(`^sleep ${marker}2`).length === 1, 10_000)).toBe(true);
      s.type('\x1a');
      await s.waitFor(new RegExp(`\\[1\\]\\+\\s+Stopped\\s+sleep ${marker}2`));
      s.type('jobs\r');
      await s.waitFor(new RegExp(`jobs\\n\\[1\\]\\+\\s+Stopped\\s+sleep ${marker}2`));
      s.type('fg\r');
      await s.waitFor(new RegExp(`fg\\nsleep ${marker}2`));
      await sleep(200);
      expect(processesMatching(`^sleep ${marker}2`).length).toBe(1);
      s.type('\x03');
      expect(await until(() => processesMatching(`^sleep ${marker}2`).length === 0, 5000)).toBe(true);
      s.type('echo back-$((2+3))\r');
      await s.waitFor(/^back-5$/m);

      s.type('exit 7\r');
      expect(await exitOf(s, 10_000)).toBe(7);
      const screen = await s.text();
      expect(screen).not.toMatch(/no job control|cannot set terminal process group/);
    } finally {
      s.kill();
    }
  });

  it('no keystroke can be pushed into the terminal (TIOCSTI, also with high bits set)', async () => {
    const probe = [
      'import fcntl, termios',
      'for req in (termios.TIOCSTI, termios.TIOCSTI | (1 << 32)):',
      '    try:',
      '        fcntl.ioctl(0, req, b"x")',
      '        print("pushed")',
      '    except OSError as e:',
      '        print("refused:" + e.strerror)',
    ].join('\n');
    const s = shell(['--', 'python3', '-c', probe]);
    try {
      expect(await exitOf(s, 15_000)).toBe(0);
      const screen = await s.text();
      expect(screen.match(/refused:Operation not permitted/g)?.length).toBe(2);
      expect(screen).not.toContain('pushed');
    } finally {
      s.kill();
    }
  });

  it('without personae\'s PTY the command has no controlling terminal', async () => {
    const r = await cli(h, ['run', 'term', '--', 'sh', '-c', 'if (exec 3</dev/tty) 2>/dev/null; then echo has-tty; else echo no-tty; fi']);
    expect(r.stdout.trim()).toBe('no-tty');
    expect(r.code).toBe(0);
  });
});
