// A real terminal for tests: the CLI on a node-pty PTY, its output rendered by
// a headless xterm, so a test reads the screen a person would see (prompts,
// job messages), not the raw byte stream.
import xterm from '@xterm/headless';
import * as pty from 'node-pty';
import type { RunAs } from './harness.js';

export interface Screen {
  /** The visible lines and the scrollback, trailing blanks trimmed. */
  text(): Promise<string>;
  /** Waits (bounded) until the screen matches; throws with the screen when it never does. */
  waitFor(pattern: RegExp, ms?: number): Promise<string>;
  type(keys: string): void;
  readonly exited: Promise<number>;
  readonly pid: number;
  kill(): void;
}

export interface ScreenOptions {
  readonly cwd: string;
  readonly env: Record<string, string>;
  readonly as?: RunAs;
  readonly cols?: number;
  readonly rows?: number;
}

export function openScreen(program: string, args: readonly string[], opts: ScreenOptions): Screen {
  const cols = opts.cols ?? 100;
  const rows = opts.rows ?? 30;
  const term = new xterm.Terminal({ cols, rows, scrollback: 2000, allowProposedApi: true });
  const proc = pty.spawn(program, [...args], { cols, rows, cwd: opts.cwd, env: opts.env, uid: opts.as?.uid, gid: opts.as?.gid, name: 'xterm-256color' });
  let written: Promise<void> = Promise.resolve();
  proc.onData((d) => {
    written = written.then(() => new Promise<void>((r) => term.write(d, r)));
  });
  const exited = new Promise<number>((r) => proc.onExit(({ exitCode }) => r(exitCode)));
  const text = async (): Promise<string> => {
    await written;
    const buf = term.buffer.active;
    const lines: string[] = [];
    for (let i = 0; i < buf.length; i++) lines.push(buf.getLine(i)?.translateToString(true) ?? '');
    return lines.join('\n').trimEnd();
  };
  return {
    text,
    async waitFor(pattern, ms = 10_000) {
      const end = Date.now() + ms;
      for (;;) {
        const t = await text();
        if (pattern.test(t)) return t;
        if (Date.now() > end) throw new Error(`the screen never matched ${String(pattern)}:\n${t}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    type: (keys) => proc.write(keys),
    exited,
    pid: proc.pid,
    kill: () => {
      try {
        process.kill(proc.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    },
  };
}
