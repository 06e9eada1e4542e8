// personae-seccomp's two waiting modes, run for real:
// --wait-listen (the sandbox's init waits for its bridges to listen before the
// command starts) and --hold-fd (a holder keeps a descriptor open until the
// supervisor has ended, so that personae run's exit does not wait for the
// kernel to retire its inotify watches). Judged from outside: exit codes,
// timings, /proc.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { packageRoot } from '../../sandbox/launch/host-tools.js';

const HELPER = `${packageRoot()}/dist/native/personae-seccomp`;
const servers: Server[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** A TCP listener on `host`, port chosen by the kernel. */
async function listener(host: string, port = 0): Promise<number> {
  const s = createServer((c) => c.destroy());
  servers.push(s);
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.listen(port, host, () => resolve());
  });
  return (s.address() as { port: number }).port;
}

/** A port nobody listens on (bound, then released). */
async function freePort(): Promise<number> {
  const port = await listener('127.0.0.1');
  await new Promise((r) => servers.pop()?.close(r));
  return port;
}

/** Runs the helper without blocking the event loop (test servers must keep answering). */
function run(args: string[], timeoutMs = 10_000): Promise<{ code: number | null; stderr: string; ms: number }> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(HELPER, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, ms: performance.now() - t0 });
    });
  });
}

describe('personae-seccomp --wait-listen', () => {
  it('runs the command at once when every port listens on loopback', async () => {
    const a = await listener('127.0.0.1');
    const b = await listener('127.0.0.1');
    const r = await run(['--wait-listen', `${a},${b}`, 'true']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
  });

  it('waits for a listener that comes later, then runs the command', async () => {
    const a = await listener('127.0.0.1');
    const b = await freePort();
    const started = run(['--wait-listen', `${a},${b}`, '--wait-ms', '5000', 'true']);
    await new Promise((r) => setTimeout(r, 300));
    await listener('127.0.0.1', b);
    const r = await started;
    expect(r.code).toBe(0);
    expect(r.ms).toBeGreaterThan(250);
  });

  it('refuses to run the command when a port never listens, after the bound, with one line', async () => {
    const a = await listener('127.0.0.1');
    const b = await freePort();
    const r = await run(['--wait-listen', `${a},${b}`, '--wait-ms', '300', 'sh', '-c', 'echo ran >&2']);
    expect(r.code).toBe(125);
    expect(r.stderr).toBe('personae: the network bridge did not start; refusing to run\n');
    expect(r.ms).toBeGreaterThan(250);
    expect(r.ms).toBeLessThan(5000);
  });

  it('counts only listeners on 127.0.0.1, not on another address', async () => {
    const port = await freePort();
    await listener('127.0.0.2', port);
    const r = await run(['--wait-listen', String(port), '--wait-ms', '200', 'true']);
    expect(r.code).toBe(125);
  });

  it.each([['x'], ['0'], ['65536'], ['3128,'], ['3128,,3129'], ['1,2,3,4,5,6,7,8,9']])('rejects the port list %j with a usage error', async (list) => {
    const r = await run(['--wait-listen', list, 'true']);
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('--wait-listen takes a list of ports');
  });

  it('rejects a bad --wait-ms with a usage error', async () => {
    const r = await run(['--wait-listen', '3128', '--wait-ms', '-1', 'true']);
    expect(r.code).toBe(64);
  });
});

describe('personae-seccomp --die-with-parent --hold-fd', () => {
  const alive = (pid: number): boolean => existsSync(`/proc/${pid}`) && !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  const fdsOf = (pid: number): Record<string, string> => {
    const out: Record<string, string> = {};
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        out[fd] = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        // closed meanwhile
      }
    }
    return out;
  };
  /** The holder started by the wrapper `wrapper` (its parent, after the wrapper's exec). */
  const holderOf = (wrapper: number): number | undefined => {
    for (const name of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
      try {
        const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8');
        const ppid = /^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${name}/status`, 'utf8'))?.[1];
        if (cmd.startsWith('personae-seccomp\0--outlive-pidfd\0') && Number(ppid) === wrapper) return Number(name);
      } catch {
        // gone meanwhile
      }
    }
    return undefined;
  };

  it('holds the descriptor, and nothing else of its parent, until the parent has ended', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'personae-hold-'));
    const held = path.join(dir, 'held');
    writeFileSync(held, '');
    // A stand-in supervisor: starts the wrapper (running sleep) holding a file of its own, lives 600 ms, exits.
    const supervisor = spawn(process.execPath, ['-e', `
      const { openSync } = require('node:fs');
      const { spawn } = require('node:child_process');
      const fd = openSync(${JSON.stringify(held)}, 'r');
      const w = spawn(${JSON.stringify(HELPER)}, ['--die-with-parent', String(process.pid), '--hold-fd', '3', 'sleep', '30'], { stdio: ['ignore', 'ignore', 'ignore', fd] });
      console.log(w.pid);
      setTimeout(() => process.exit(0), 600);
    `], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const wrapper = await new Promise<number>((resolve) => supervisor.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
      let holder: number | undefined;
      const deadline = Date.now() + 3000;
      while ((holder = holderOf(wrapper)) === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      expect(holder).toBeDefined();
      const fds = fdsOf(holder as number);
      expect(fds['3']).toBe(held);
      expect([fds['0'], fds['1'], fds['2']]).toEqual(['/dev/null', '/dev/null', '/dev/null']);
      expect(Object.keys(fds).sort()).toEqual(['0', '1', '2', '3', '4']);
      // The command itself does not get it (looked at once the wrapper has become the command).
      const execd = Date.now() + 3000;
      while (!readFileSync(`/proc/${wrapper}/cmdline`, 'utf8').startsWith('sleep\0') && Date.now() < execd) await new Promise((r) => setTimeout(r, 10));
      expect(Object.values(fdsOf(wrapper))).not.toContain(held);
      await new Promise((r) => supervisor.once('exit', r));
      const gone = Date.now() + 3000;
      while ((alive(holder as number) || alive(wrapper)) && Date.now() < gone) await new Promise((r) => setTimeout(r, 10));
      expect(alive(holder as number)).toBe(false);
      expect(alive(wrapper)).toBe(false);
    } finally {
      supervisor.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--outlive-pidfd without a descriptor to watch ends at once', async () => {
    const r = await run(['--outlive-pidfd', '9']);
    expect(r.code).toBe(0);
    expect(r.ms).toBeLessThan(2000);
  });
});
