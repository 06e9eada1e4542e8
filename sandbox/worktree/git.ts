// Running git on the host, in the user's own repository: a scrubbed
// environment (no GIT_* from the caller, no prompts, C locale), no hooks
// and no fsmonitor (personae never runs the repository's programs for its
// own git calls), and bounded in time.
import { spawn, spawnSync } from 'node:child_process';

/** Flags every host git call of personae's carries. */
export const SAFE_GIT = ['-c', 'core.hooksPath=/dev/null', '-c', 'core.fsmonitor=false', '-c', 'gc.auto=0', '-c', 'maintenance.auto=false'];

export interface GitResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface GitOptions {
  readonly cwd?: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly input?: string | Buffer;
  readonly timeoutMs?: number;
}

/** The caller's environment without git's own variables (GIT_DIR and friends would redirect every call). */
export function hostGitEnv(extra: Readonly<Record<string, string>> = {}, base: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) if (v !== undefined && !k.startsWith('GIT_')) env[k] = v;
  return { ...env, LC_ALL: 'C', GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: '', SSH_ASKPASS: '', ...extra };
}

export function gitSync(args: readonly string[], o: GitOptions = {}): GitResult {
  const r = spawnSync('git', [...SAFE_GIT, ...args], {
    cwd: o.cwd,
    env: hostGitEnv(o.env),
    input: o.input,
    encoding: 'utf8',
    timeout: o.timeoutMs ?? 30_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: r.status ?? (r.error ? 127 : 1), stdout: r.stdout ?? '', stderr: r.stderr ?? (r.error?.message ?? '') };
}

export function git(args: readonly string[], o: GitOptions = {}): Promise<GitResult> {
  return new Promise((resolve) => {
    const child = spawn('git', [...SAFE_GIT, ...args], { cwd: o.cwd, env: hostGitEnv(o.env), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 120_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: 127, stdout, stderr: e.message });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(o.input ?? '');
  });
}

/** git's own message, one line (the last `fatal:`/`error:` line, else the last line). */
export function gitMessage(r: GitResult): string {
  const lines = r.stderr.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const told = lines.filter((l) => /^(fatal|error):/.test(l)).pop() ?? lines.pop() ?? `git exited ${r.code}`;
  return told.replace(/^(fatal|error):\s*/, '');
}

/** A 40- or 64-hex object name, or undefined. */
export function objectName(text: string): string | undefined {
  const t = text.trim();
  return /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/.test(t) ? t : undefined;
}
