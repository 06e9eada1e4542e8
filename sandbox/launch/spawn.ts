// Runs a LaunchPlan: one small spawner for pipes, inherited stdio, or a PTY.
// The spawned process is the die-with-parent helper around the exec logger
// around bwrap, so if this supervisor dies, everything under it dies too.
import { spawn as spawnChild } from 'node:child_process';
import type * as NodePty from 'node-pty';
import { lazyRequire } from '../lazy-require.js';
import type { LaunchPlan } from './plan.js';

// Loaded only for a PTY, with require (the bundled CLI is a CommonJS script run with a V8 code cache).
const nodePty = lazyRequire<typeof NodePty>('node-pty');

export type StdioMode =
  | { readonly kind: 'inherit' }
  | { readonly kind: 'pipe' }
  | { readonly kind: 'pty'; readonly cols: number; readonly rows: number };

export interface RunningProcess {
  readonly pid: number;
  /** Resolves with the exit code (128 + signal number when killed by a signal). */
  readonly exited: Promise<number>;
  /** Output for pipe and pty modes (pty merges stderr into stdout). */
  onData(listener: (chunk: string, stream: 'stdout' | 'stderr') => void): () => void;
  write(data: string): void;
  resize(cols: number, rows: number): void;
  kill(signal: NodeJS.Signals): void;
}

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15, SIGSEGV: 11, SIGABRT: 6, SIGPIPE: 13 };

export function exitCodeOf(code: number | null, signal: string | null): number {
  if (code !== null) return code;
  return 128 + (SIGNALS[signal ?? ''] ?? 1);
}

/**
 * Starts the plan under `dieWithParent` (personae-seccomp --die-with-parent). `holdFd`, a
 * descriptor of this process that personae-seccomp keeps open in a holder until this process
 * has ended (see exit-handoff.ts); not with a PTY, which passes no descriptors.
 */
export async function spawnPlan(plan: LaunchPlan, stdio: StdioMode, dieWithParent: string, fifos: readonly string[] = [], holdFd?: number): Promise<RunningProcess> {
  const hold = holdFd !== undefined && stdio.kind !== 'pty';
  const [program, ...rest] = [
    dieWithParent, '--die-with-parent', String(process.pid),
    ...fifos.flatMap((f) => ['--fifo', f]),
    ...(hold ? ['--hold-fd', '3'] : []),
    ...plan.argv,
  ];
  const listeners = new Set<(chunk: string, stream: 'stdout' | 'stderr') => void>();
  const emit = (chunk: string, stream: 'stdout' | 'stderr'): void => {
    for (const l of listeners) l(chunk, stream);
  };
  const onData = (l: (chunk: string, stream: 'stdout' | 'stderr') => void): (() => void) => {
    listeners.add(l);
    return () => listeners.delete(l);
  };
  if (stdio.kind === 'pty') {
    const pty = nodePty();
    const term = pty.spawn(program ?? '', rest, {
      name: plan.env.TERM ?? 'xterm-256color',
      cols: stdio.cols,
      rows: stdio.rows,
      cwd: plan.cwd,
      env: { ...plan.env },
    });
    term.onData((d) => emit(d, 'stdout'));
    const exited = new Promise<number>((resolve) => {
      term.onExit(({ exitCode, signal }) => resolve(signal ? 128 + signal : exitCode));
    });
    return {
      pid: term.pid,
      exited,
      onData,
      write: (d) => term.write(d),
      resize: (c, r) => {
        try {
          term.resize(c, r);
        } catch {
          // the terminal has closed: nothing to resize
        }
      },
      kill: (s) => {
        try {
          process.kill(term.pid, s);
        } catch {
          // gone
        }
      },
    };
  }
  const child = spawnChild(program ?? '', rest, {
    cwd: plan.cwd,
    env: { ...plan.env },
    stdio: [...(stdio.kind === 'inherit' ? ['inherit', 'inherit', 'inherit'] as const : ['pipe', 'pipe', 'pipe'] as const), ...(hold ? [holdFd] : [])],
    // Its own process group: a Ctrl-C on the terminal reaches only the supervisor, which stops the session gracefully.
    detached: true,
  });
  const exited = new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(exitCodeOf(code, signal)));
  });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', () => resolve());
    child.once('error', reject);
  });
  child.stdout?.setEncoding('utf8').on('data', (d: string) => emit(d, 'stdout'));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => emit(d, 'stderr'));
  return {
    pid: child.pid ?? -1,
    exited,
    onData,
    write: (d) => {
      child.stdin?.write(d);
    },
    resize: () => undefined,
    kill: (s) => {
      child.kill(s);
    },
  };
}
