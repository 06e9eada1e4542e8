// git over what an agent wrote (a worktree, its objects, its index) runs in a
// throw-away sandbox of its own: everything read-only but what is named
// writable, no network, homes and personae's data hidden, no config but the
// repository's, no hooks, no fsmonitor, no external diff or text conversion.
// Whatever the agent planted can then at most make git fail or lie about
// what it reads, never run with the user's rights.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';

/** Config flags for git over untrusted data. */
export const UNTRUSTED_GIT = ['-c', 'core.fsmonitor=false', '-c', 'core.hooksPath=/dev/null', '-c', 'diff.external=', '-c', 'gc.auto=0', '-c', 'core.quotePath=true'];

export interface GitSandbox {
  readonly bwrap: string;
  /** Host directories hidden (an empty tmpfs), before the binds below. */
  readonly hide: readonly string[];
  /** Bound read-only at the same path (after the hiding). */
  readonly ro: readonly string[];
  /** Bound read-write: host path -> path inside. */
  readonly rw?: ReadonlyArray<{ readonly src: string; readonly dest: string }>;
  /** Hidden after the binds (e.g. an agent's info/alternates). */
  readonly mask?: readonly string[];
  readonly cwd?: string;
  readonly env?: Readonly<Record<string, string>>;
}

export function sandboxArgs(s: GitSandbox, command: readonly string[]): string[] {
  return [
    '--unshare-all', '--unshare-user', '--die-with-parent', '--new-session', '--cap-drop', 'ALL',
    '--ro-bind', '/', '/', '--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp', '--tmpfs', '/run',
    ...s.hide.flatMap((h) => ['--tmpfs', h]),
    ...s.ro.flatMap((p) => ['--ro-bind', p, p]),
    ...(s.rw ?? []).flatMap((b) => ['--bind', b.src, b.dest]),
    ...(s.mask ?? []).flatMap((m) => ['--tmpfs', m]),
    ...(s.cwd !== undefined ? ['--chdir', s.cwd] : []),
    '--', ...command,
  ];
}

export function sandboxEnv(extra: Readonly<Record<string, string>> = {}): Record<string, string> {
  return { PATH: '/usr/bin:/bin', HOME: '/tmp', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_OPTIONAL_LOCKS: '0', GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C', ...extra };
}

/** Spawns a command in the sandbox with its stdout piped (for streaming, e.g. a pack). */
export function spawnSandboxed(s: GitSandbox, command: readonly string[]): ChildProcessByStdio<null, Readable, Readable> {
  return spawn(s.bwrap, sandboxArgs(s, command), { env: sandboxEnv(s.env), stdio: ['ignore', 'pipe', 'pipe'] });
}

export interface SandboxedResult {
  readonly code: number;
  readonly stdout: Buffer;
  readonly stderr: string;
  /** Output past `maxBytes` was dropped. */
  readonly truncated: boolean;
}

/** Runs a command in the sandbox and collects its output (bounded in size and time). */
export function runSandboxed(s: GitSandbox, command: readonly string[], o: { timeoutMs?: number; maxBytes?: number } = {}): Promise<SandboxedResult> {
  const max = o.maxBytes ?? 16 * 1024 * 1024;
  return new Promise((resolve) => {
    const child = spawnSandboxed(s, command);
    const chunks: Buffer[] = [];
    let size = 0;
    let truncated = false;
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      if (size >= max) {
        truncated = true;
        return;
      }
      chunks.push(d);
      size += d.length;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < 64 * 1024) stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 30_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: 127, stdout: Buffer.alloc(0), stderr: e.message, truncated });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout: Buffer.concat(chunks), stderr, truncated });
    });
  });
}
