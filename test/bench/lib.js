// Shared helpers for `npm run bench`: statistics, process spawning with
// guaranteed cleanup, a throw-away PERSONAE_HOME with the bench persona, /proc
// inspection (pid namespaces, RSS) and the machine description.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = path.join(ROOT, 'bin', 'personae.cjs');
export const SRT_PKG = path.join(ROOT, 'node_modules', '@anthropic-ai', 'sandbox-runtime');
export const SRT_CLI = path.join(SRT_PKG, 'dist', 'cli.js');
export const NODE = process.execPath;

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- statistics

/** Nearest-rank percentile of an ascending array. */
export function pct(sorted, p) {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil(p * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

/** Summary of a sample (ms or any unit): n, median, p90, p99, min, max, mean. */
export function summary(values) {
  const s = [...values].sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / (s.length || 1);
  return { n: s.length, median: pct(s, 0.5), p90: pct(s, 0.9), p99: pct(s, 0.99), min: s[0] ?? Number.NaN, max: s.at(-1) ?? Number.NaN, mean };
}

export const round = (n, digits = 1) => (Number.isFinite(n) ? Math.round(n * 10 ** digits) / 10 ** digits : n);

// ------------------------------------------------------- cleanup, processes

const cleanups = [];
const children = new Set();

/** Runs at the end (or on Ctrl-C), last registered first. */
export function onCleanup(fn) {
  cleanups.push(fn);
}

export async function cleanupAll() {
  for (const child of children) killTree(child.pid);
  children.clear();
  while (cleanups.length > 0) {
    const fn = cleanups.pop();
    try {
      await fn();
    } catch (e) {
      process.stderr.write(`bench cleanup: ${e.message}\n`);
    }
  }
}

/** A temporary directory (real path), removed at cleanup. */
export function tempDir(prefix) {
  const dir = realpathSync(mkdtempSync(path.join(os.tmpdir(), prefix)));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Spawns a process in its own process group and tracks it: cleanup kills the
 * group and every descendant found in /proc (including ones that changed
 * session, e.g. bwrap --new-session).
 */
export function spawnTracked(cmd, args, opts = {}) {
  const child = spawn(cmd, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  children.add(child);
  child.once('exit', () => children.delete(child));
  child.stdout?.setEncoding('utf8');
  child.stderr?.setEncoding('utf8');
  return child;
}

/** SIGKILL a process, its group and all its descendants (ours only: found from its pid down). */
export function killTree(pid) {
  if (pid === undefined) return;
  const all = [pid, ...descendants(pid)];
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // no such group
  }
  for (const p of all) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

/**
 * Runs a command to completion and times it (spawn to exit, ms). Bounded by
 * `timeoutMs`; output is collected (stdout/stderr strings).
 */
export function timed(cmd, args, opts = {}) {
  const { timeoutMs = 30_000, input, ...spawnOpts } = opts;
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawnTracked(cmd, args, { ...spawnOpts, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    if (input !== undefined) child.stdin.end(input);
    const timer = setTimeout(() => killTree(child.pid), timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      resolve({ ms: performance.now() - t0, code: -1, signal: null, stdout, stderr: `${stderr}${e.message}` });
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ ms: performance.now() - t0, code, signal, stdout, stderr });
    });
  });
}

/** Waits (bounded) for `probe()` to be truthy; returns its value or undefined. */
export async function waitUntil(probe, timeoutMs, stepMs = 10) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (performance.now() >= deadline) return undefined;
    await sleep(stepMs);
  }
}

// ------------------------------------------------------------------- /proc

export function pidNs(pid) {
  try {
    return readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    return undefined;
  }
}

export const OWN_NS = pidNs(process.pid);

function stat(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0], ppid: Number(rest[1]) };
  } catch {
    return undefined;
  }
}

/** Every live (non-zombie) process: pid, ppid. */
export function processes() {
  const out = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const s = stat(Number(e));
    if (s && s.state !== 'Z') out.push({ pid: Number(e), ppid: s.ppid });
  }
  return out;
}

export function descendants(pid) {
  const procs = processes();
  const kids = new Map();
  for (const p of procs) {
    if (!kids.has(p.ppid)) kids.set(p.ppid, []);
    kids.get(p.ppid).push(p.pid);
  }
  const out = [];
  const queue = [pid];
  while (queue.length > 0) {
    const p = queue.shift();
    for (const k of kids.get(p) ?? []) {
      out.push(k);
      queue.push(k);
    }
  }
  return out;
}

export function cmdline(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').filter((x) => x !== '');
  } catch {
    return [];
  }
}

/** Resident set size of a process in KiB (VmRSS), 0 when gone. */
export function rssKiB(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Live non-zombie members of a pid namespace. */
export function nsMembers(ns) {
  const out = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    if (pidNs(Number(e)) !== ns) continue;
    const s = stat(Number(e));
    if (s && s.state !== 'Z') out.push(Number(e));
  }
  return out;
}

/** Pids (outside view) whose argv equals `argv` exactly. */
export function pidsWithArgv(argv) {
  const want = argv.join('\0');
  const out = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    if (cmdline(Number(e)).join('\0') === want) out.push(Number(e));
  }
  return out;
}

// ------------------------------------------------------------ bench persona

/**
 * A throw-away PERSONAE_HOME holding the bench persona (agent shell,
 * autonomous, workspace writable, network: bench.test only), a workspace,
 * and the environment the CLI runs with.
 */
export function benchHome() {
  const dir = tempDir('personae-bench-');
  const home = path.join(dir, 'home');
  const workspace = path.join(dir, 'ws');
  mkdirSync(path.join(home, 'personas'), { recursive: true });
  mkdirSync(workspace);
  writeFileSync(
    path.join(home, 'personas', 'bench.yaml'),
    [
      'version: 1',
      'name: bench',
      'display_name: Bench',
      'owner: bench@example.com',
      'purpose: npm run bench',
      'agent: shell',
      'execution_mode: autonomous',
      'filesystem:',
      '  write: ["{workspace}"]',
      'network:',
      '  allow: ["bench.test"]',
      '',
    ].join('\n'),
  );
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', PERSONAE_HOME: home, HOME: dir, LANG: 'C.UTF-8' };
  return { dir, home, workspace, env };
}

/** Writes an executable script into `dir`. */
export function script(dir, name, text) {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  chmodSync(file, 0o755);
  return file;
}

/** The session id `personae run` prints on stderr. */
export function sessionIdOf(stderr) {
  return /session ([0-9a-f-]{36})/.exec(stderr)?.[1];
}

// ---------------------------------------------------------------- machine

function firstLine(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return r.status === 0 ? `${r.stdout}${r.stderr}`.trim().split('\n')[0] : undefined;
}

export function machine() {
  const cpus = os.cpus();
  let srt;
  try {
    srt = JSON.parse(readFileSync(path.join(SRT_PKG, 'package.json'), 'utf8')).version;
  } catch {
    srt = undefined;
  }
  return {
    cpu: `${cpus[0]?.model?.trim() ?? 'unknown'}${cpus[0]?.speed ? ` @ ${cpus[0].speed} MHz` : ''}`,
    cores: cpus.length,
    ramGiB: round(os.totalmem() / 2 ** 30, 1),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    bwrap: firstLine('bwrap', ['--version']),
    srt,
    user: process.getuid?.() === 0 ? 'root' : 'unprivileged user',
    loadavg: os.loadavg().map((x) => round(x, 2)),
  };
}

export function have(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).status === 0;
}

export function fileExists(p) {
  return existsSync(p);
}

/** Starts `node hosts.js MODE [ARG...]` (with `env` added) and resolves with the JSON line it prints once listening. */
export function startHost(mode, arg, env = {}) {
  const args = arg === undefined ? [] : Array.isArray(arg) ? arg.map(String) : [String(arg)];
  return new Promise((resolve, reject) => {
    const child = spawnTracked(NODE, [path.join(ROOT, 'test', 'bench', 'hosts.js'), mode, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`${mode} host did not start within 20 s: ${err}`)), 20_000);
    child.stderr.on('data', (d) => (err += d));
    child.stdout.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl === -1) return;
      clearTimeout(timer);
      const info = JSON.parse(out.slice(0, nl));
      if (info.error) reject(new Error(`${mode} host: ${info.error}`));
      else resolve({ ...info, child, stop: () => stopHost(child) });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${mode} host exited (${code}): ${err}`));
    });
  });
}

async function stopHost(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.stdin.end();
  const done = new Promise((r) => child.once('exit', r));
  const t = setTimeout(() => killTree(child.pid), 5000);
  await done;
  clearTimeout(t);
}
