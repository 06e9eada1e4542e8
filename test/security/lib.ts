// Helpers for the escape suite. Every case runs hostile code as the agent and
// judges the outcome from OUTSIDE the sandbox: canary files and directories,
// canary servers (hit counts), host process lists and the audit log. What the
// sandboxed code prints is only used to find markers; a claim that something
// failed is always backed by an outside check where one exists.
import { spawnSync } from 'node:child_process';
import { chownSync, lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { audit, cli, makeHome, ROOT, type CliResult, type Home, type RunAs } from '../integration/harness.js';
import type { AuditEvent } from '../../sandbox/audit/event.js';

export { audit, cli, makeHome, processesMatching, startRun, testServer, testUsers, until, ROOT, type Home, type RunAs, type TestServer } from '../integration/harness.js';

/**
 * A throw-away PERSONAE_HOME whose base directory is VISIBLE inside the
 * sandbox. The harness puts it under os.tmpdir(), but /tmp is a private tmpfs
 * inside the sandbox, so canaries there would be invisible anyway and every
 * "cannot read it" case would pass for the wrong reason. Root uses /var/lib;
 * anyone else the repository folder. Each suite also checks a readable
 * control file next to the canaries, so a base that is not visible fails.
 */
export function makeVisibleHome(as: RunAs): Home {
  const parent = process.getuid?.() === 0 ? '/var/lib' : path.join(ROOT, 'test-results');
  mkdirSync(parent, { recursive: true });
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = parent;
  try {
    const h = makeHome(as);
    mkdirs(h, userHome(h));
    return h;
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  }
}

/**
 * The HOME the CLI runs with. The harness uses the base directory itself,
 * which personae hides as the user's home, so the canaries next to it would
 * vanish for that reason alone; here HOME is a folder inside the base.
 */
export function userHome(h: Home): string {
  return h.path('userhome');
}

/** Options for harness calls that start sessions: the separate HOME above. */
export function runEnv(h: Home, env: Record<string, string> = {}): Record<string, string> {
  return { HOME: userHome(h), ...env };
}

/** Owns a path for the user the CLI runs as (so a denial is the sandbox's doing, not a permission bit). */
export function own(h: Home, p: string): void {
  if (h.as.uid !== undefined) chownSync(p, h.as.uid, h.as.gid ?? h.as.uid);
}

/** Writes a file under the base directory (parents created and owned by the test user). */
export function put(h: Home, rel: string, content: string, mode = 0o644): string {
  const file = h.path(rel);
  mkdirs(h, path.dirname(file));
  writeFileSync(file, content, { mode });
  own(h, file);
  return file;
}

/** mkdir -p, every created directory owned by the test user. */
export function mkdirs(h: Home, dir: string): string {
  const missing: string[] = [];
  for (let d = dir; d !== h.dir && !exists(d); d = path.dirname(d)) missing.unshift(d);
  for (const d of missing) {
    mkdirSync(d);
    own(h, d);
  }
  return dir;
}

export function exists(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

/** Runs a host command as the test user (git setup and the like); throws on failure. */
export function hostAs(h: Home, argv: readonly string[], cwd: string, env: Record<string, string> = {}): string {
  const r = spawnSync(argv[0] ?? '', argv.slice(1), {
    cwd,
    uid: h.as.uid,
    gid: h.as.gid,
    encoding: 'utf8',
    timeout: 15_000,
    env: { PATH: '/usr/bin:/bin', HOME: h.dir, GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 'Host', GIT_AUTHOR_EMAIL: 'host@example.com', GIT_COMMITTER_NAME: 'Host', GIT_COMMITTER_EMAIL: 'host@example.com', ...env },
  });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** A fresh git repository with one commit, made on the host as the test user. */
export function gitRepo(h: Home, dir: string): void {
  mkdirs(h, dir);
  hostAs(h, ['git', 'init', '-q', '-b', 'main', '.'], dir);
  writeFileSync(path.join(dir, 'README'), 'hello\n');
  own(h, path.join(dir, 'README'));
  hostAs(h, ['git', 'add', 'README'], dir);
  hostAs(h, ['git', 'commit', '-q', '-m', 'initial'], dir);
}

/**
 * The preamble of every hostile script: `t NAME CMD...` runs CMD with its
 * output discarded and prints `@@NAME=<exit code>`; `say NAME VALUE` prints a
 * marker. Canary content is never echoed on purpose; a case that leaked it
 * would show it in the output, which every case checks.
 */
export const PRELUDE = `t() { n=$1; shift; "$@" >/dev/null 2>&1; echo "@@$n=$?"; }
say() { echo "@@$1=$2"; }
`;

export interface SandboxRun extends CliResult {
  readonly session: string;
  /** `@@name=value` lines of stdout. */
  readonly marks: Readonly<Record<string, string>>;
  /** stdout + stderr, for "never appears" checks. */
  readonly output: string;
}

export interface RunOptions {
  readonly env?: Record<string, string>;
  readonly timeoutMs?: number;
  readonly workspace?: string;
  readonly onBehalfOf?: string;
}

/** `personae run PERSONA -- sh -c PRELUDE+script`, bounded, with its markers parsed. */
export async function sandbox(h: Home, persona: string, script: string, opts: RunOptions = {}): Promise<SandboxRun> {
  const args = ['run', persona];
  if (opts.workspace !== undefined) args.push('--workspace', opts.workspace);
  if (opts.onBehalfOf !== undefined) args.push('--on-behalf-of', opts.onBehalfOf);
  args.push('--', 'sh', '-c', PRELUDE + script);
  const r = await cli(h, args, { env: runEnv(h, opts.env), timeoutMs: opts.timeoutMs ?? 25_000, cwd: opts.workspace });
  return { ...r, session: sessionOf(r), marks: marksOf(r.stdout), output: r.stdout + r.stderr };
}

export function sessionOf(r: CliResult): string {
  return /session ([0-9a-f-]{36})/.exec(r.stderr)?.[1] ?? '';
}

export function marksOf(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const m = /^@@([\w.:-]+)=(.*)$/.exec(line);
    if (m?.[1] !== undefined) out[m[1]] = m[2] ?? '';
  }
  return out;
}

/** Names of markers whose value is 0 (the attempt succeeded) among `names`. */
export function succeeded(run: SandboxRun, names: readonly string[]): string[] {
  return names.filter((n) => run.marks[n] === '0');
}

/** Every marker among `names` must be present (the attempt ran at all). */
export function missing(run: SandboxRun, names: readonly string[]): string[] {
  return names.filter((n) => run.marks[n] === undefined);
}

export async function sessionEvents(h: Home, session: string): Promise<AuditEvent[]> {
  if (session === '') throw new Error('no session id');
  return audit(h, ['--session', session]);
}

/** Exec events whose argv joined contains `needle`. */
export function execsWith(events: readonly AuditEvent[], needle: string): AuditEvent[] {
  return events.filter((e) => e.kind === 'exec' && JSON.stringify(e.detail.argv ?? '').includes(needle));
}

/** Files (relative paths) under `dir` whose content contains `needle`; skips .git/objects; bounded. */
export function filesContaining(dir: string, needle: string, limit = 5000): string[] {
  const hits: string[] = [];
  let seen = 0;
  const walk = (d: string): void => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (++seen > limit) return;
      const p = path.join(d, e.name);
      if (e.isDirectory()) {
        if (!p.endsWith(path.join('.git', 'objects'))) walk(p);
      } else if (e.isFile()) {
        try {
          if (readFileSync(p).includes(needle)) hits.push(path.relative(dir, p));
        } catch {
          // unreadable: not a leak we can see
        }
      }
    }
  };
  walk(dir);
  return hits;
}


/** A random marker number, unique enough for pgrep within one run. */
export function marker(): string {
  return String(100000 + Math.floor(Math.random() * 899999));
}
