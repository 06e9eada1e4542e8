// Test harness for the CLI: a throw-away PERSONAE_HOME, persona files written
// from objects, the real CLI spawned (optionally as an unprivileged user), and
// the audit log read back through `personae audit --format jsonl`.
import { spawn, spawnSync } from 'node:child_process';
import Database from 'better-sqlite3';
import { chownSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import type { AuditEvent } from '../../sandbox/audit/event.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = path.join(ROOT, 'bin', 'personae.cjs');
export const TEST_USER = 'personae-test';

export interface RunAs {
  readonly label: string;
  /** uid/gid to run the CLI as; undefined = the current user. */
  readonly uid?: number;
  readonly gid?: number;
}

/** The users sandbox tests run as: the current one, and, when that is root, an unprivileged one too. */
export function testUsers(): RunAs[] {
  const users: RunAs[] = [{ label: process.getuid?.() === 0 ? 'root' : 'user' }];
  if (process.getuid?.() === 0) {
    let id = spawnSync('id', ['-u', TEST_USER], { encoding: 'utf8' });
    if (id.status !== 0) {
      spawnSync('useradd', ['--create-home', '--shell', '/bin/bash', TEST_USER]);
      id = spawnSync('id', ['-u', TEST_USER], { encoding: 'utf8' });
    }
    const gid = spawnSync('id', ['-g', TEST_USER], { encoding: 'utf8' });
    if (id.status === 0) users.push({ label: 'unprivileged', uid: Number(id.stdout.trim()), gid: Number(gid.stdout.trim()) });
  }
  return users;
}

export interface Home {
  readonly dir: string;
  readonly home: string;
  readonly workspace: string;
  readonly as: RunAs;
  writePersona(persona: Record<string, unknown>): void;
  path(...parts: string[]): string;
  cleanup(): void;
}

export function makeHome(as: RunAs = { label: 'current' }): Home {
  const dir = realpathSync(mkdtempSync(path.join(tmpdir(), 'personae-it-')));
  const home = path.join(dir, 'home');
  const workspace = path.join(dir, 'ws');
  mkdirSync(path.join(home, 'personas'), { recursive: true });
  mkdirSync(workspace);
  const own = (p: string): void => {
    if (as.uid !== undefined) chownSync(p, as.uid, as.gid ?? as.uid);
  };
  for (const p of [dir, home, path.join(home, 'personas'), workspace]) own(p);
  return {
    dir,
    home,
    workspace,
    as,
    writePersona(persona) {
      const file = path.join(home, 'personas', `${String(persona.name)}.yaml`);
      writeFileSync(file, stringify({ version: 1, display_name: 'Test persona', owner: 'tests@example.com', purpose: 'integration tests', ...persona }));
      own(file);
    },
    path: (...parts) => path.join(dir, ...parts),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliOptions {
  readonly env?: Record<string, string>;
  readonly input?: string;
  readonly timeoutMs?: number;
  readonly cwd?: string;
  readonly onStderr?: (text: string) => void;
  /** A command the CLI runs under (`['unshare', ...]`): it gets node, the CLI and the arguments appended. */
  readonly wrap?: readonly string[];
}

/** Runs the real CLI (bounded by a timeout); resolves with its exit code and output. */
export function cli(h: Home, args: readonly string[], opts: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const argv = [...(opts.wrap ?? []), process.execPath, CLI, ...args];
    const child = spawn(argv[0] ?? process.execPath, argv.slice(1), {
      cwd: opts.cwd ?? h.workspace,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', PERSONAE_HOME: h.home, HOME: h.dir, ...opts.env },
      uid: h.as.uid,
      gid: h.as.gid,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      opts.onStderr?.(d);
    });
    child.stdin.end(opts.input ?? '');
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 20_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Starts `personae run` and resolves once it printed its session id; the run continues. */
export function startRun(h: Home, args: readonly string[], opts: CliOptions = {}): Promise<{ session: string; done: Promise<CliResult> }> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`no session id within 10 s: ${seen}`)), 10_000);
    const done = cli(h, ['run', ...args], {
      ...opts,
      timeoutMs: opts.timeoutMs ?? 30_000,
      onStderr: (t) => {
        seen += t;
        const m = /session ([0-9a-f-]{36})/.exec(seen);
        if (m?.[1]) {
          clearTimeout(timer);
          resolve({ session: m[1], done });
        }
      },
    });
    void done.then((r) => {
      clearTimeout(timer);
      reject(new Error(`run ended before printing a session id: ${r.stderr}`));
    });
  });
}

export async function audit(h: Home, filters: readonly string[] = []): Promise<AuditEvent[]> {
  const r = await cli(h, ['audit', '--format', 'jsonl', '--limit', '100000', ...filters]);
  if (r.code !== 0) throw new Error(`personae audit failed: ${r.stderr}`);
  return r.stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as AuditEvent);
}

export interface TestServer {
  readonly port: number;
  readonly hits: string[];
  close(): Promise<void>;
}

/** An HTTP server on 127.0.0.1 that records every request it gets. */
export async function testServer(body = 'hello from the test server'): Promise<TestServer> {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    hits.push(`${req.method ?? ''} ${req.headers.host ?? ''}${req.url ?? ''}`);
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as AddressInfo).port,
    hits,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Host pids whose command line contains `marker` (judged from outside the sandbox). */
export function processesMatching(marker: string): number[] {
  const r = spawnSync('pgrep', ['-f', marker], { encoding: 'utf8' });
  return r.stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map(Number)
    .filter((pid) => pid !== process.pid);
}

/**
 * A home for an agent scenario: a test server standing for a denied host, and
 * a canary file in the workspace, where the sandbox sees it unless the
 * persona's read_deny (`{workspace}/secret`, READ_DENY_CANARY) hides it.
 */
export async function agentScenarioHome(canary: string): Promise<{ h: Home; denied: TestServer; canaryPath: string }> {
  const h = makeHome();
  const denied = await testServer('denied-body');
  mkdirSync(path.join(h.workspace, 'secret'));
  const canaryPath = path.join(h.workspace, 'secret', 'canary.txt');
  writeFileSync(canaryPath, canary);
  return { h, denied, canaryPath };
}

/** The read_deny entry that hides agentScenarioHome's canary. */
export const READ_DENY_CANARY = '{workspace}/secret';

/** What a persona without read_deny reads at `file` in the sandbox (the control for a hidden canary). */
export async function readWithoutReadDeny(h: Home, file: string): Promise<string> {
  h.writePersona({ name: 'canary-control', agent: 'shell', execution_mode: 'autonomous' });
  const r = await cli(h, ['run', 'canary-control', '--', 'cat', file]);
  return r.stdout;
}

/** Events committed in an audit database, counted by a separate reader (what it sees is acknowledged). */
export function countEvents(db: string): number {
  const conn = new Database(db, { readonly: true, fileMustExist: true });
  try {
    return (conn.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n;
  } finally {
    conn.close();
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A bounded wait for a condition judged from outside: true once it holds, false when `timeoutMs` ran out. */
export async function until(probe: () => boolean, timeoutMs: number, stepMs = 25): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (probe()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(stepMs);
  }
}
