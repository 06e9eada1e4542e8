// `personae serve` and `personae app` as a user runs them: the printed
// one-time URL works, a second start attaches instead of starting another
// backend, Ctrl-C stops the backend's sessions, and without the Electron
// binary `app` says so in one line and serves the browser UI.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alive, freshWorkspace, until } from './api-harness.js';
import { CLI, cli, makeHome, type Home } from './harness.js';

interface Served {
  readonly child: ChildProcessWithoutNullStreams;
  readonly stdout: () => string;
  readonly stderr: () => string;
  readonly login: Promise<string>;
  readonly exited: Promise<number | null>;
}

function serve(h: Home, args: string[]): Served {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: h.workspace,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', PERSONAE_HOME: h.home, HOME: h.dir },
  });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  void exited.then(() => clearTimeout(timer));
  const login = until(() => /^(http:\/\/127\.0\.0\.1:\d+\/auth\?code=[0-9a-f]{64})$/m.exec(out)?.[1], 20_000, 'the login URL');
  return { child, stdout: () => out, stderr: () => err, login, exited };
}

/** GET with a cookie jar of one; follows nothing. */
function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    http.get(url, { headers, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    }).on('error', reject);
  });
}

describe('personae serve / personae app', () => {
  let h: Home;
  beforeAll(() => {
    h = makeHome();
    h.writePersona({ name: 'shell', agent: 'shell', execution_mode: 'autonomous', filesystem: { write: ['{workspace}'] } });
  });
  afterAll(() => h.cleanup());

  it('serve prints a one-time URL, a second start attaches, Ctrl-C stops its sessions', async () => {
    const s = serve(h, ['serve']);
    const login = await s.login;
    const origin = new URL(login).origin;
    const first = await get(login);
    expect(first.status).toBe(303);
    const cookie = String(first.headers['set-cookie']?.[0] ?? '').split(';')[0] ?? '';
    expect((await get(`${origin}/`)).body).toContain('<div id="root">');
    expect((await get(`${origin}/api/health`, { cookie })).status).toBe(200);

    // A second `personae serve` (or `personae app`) attaches: a fresh link to the same backend, and exits.
    const second = await cli(h, ['serve']);
    expect(second.code).toBe(0);
    expect(second.stderr).toMatch(/already running \(pid \d+\)/);
    expect(second.stdout.trim()).toMatch(new RegExp(`^${origin}/auth\\?code=[0-9a-f]{64}$`));

    // A session launched through it, then Ctrl-C: the backend stops it (verified) before exiting.
    const launched = await new Promise<{ sandbox_pid: number }>((resolve, reject) => {
      const body = JSON.stringify({ persona: 'shell', workspace: freshWorkspace(h, 'served'), command: ['sleep', '600'] });
      const req = http.request(`${origin}/api/sessions`, { method: 'POST', headers: { cookie, 'content-type': 'application/json', origin } }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => (text += d));
        res.on('end', () => (res.statusCode === 201 ? resolve(JSON.parse(text) as { sandbox_pid: number }) : reject(new Error(`${res.statusCode ?? 0} ${text}`))));
      });
      req.on('error', reject);
      req.end(body);
    });
    expect(alive(launched.sandbox_pid)).toBe(true);
    s.child.kill('SIGINT');
    expect(await s.exited).toBe(0);
    expect(alive(launched.sandbox_pid)).toBe(false);
    expect(s.stderr()).toMatch(/stopping the sessions this backend started/);
    expect(existsSync(path.join(h.home, 'run', 'backend.json'))).toBe(false);
  }, 60_000);

  it('app without the Electron binary: one line saying so, then the browser UI', async () => {
    const s = serve(h, ['app']);
    const login = await s.login;
    const lines = s.stderr().split('\n').filter((l) => /electron/i.test(l));
    expect(lines).toEqual(['personae: Electron is not installed here; serving the same UI in your browser instead']);
    expect((await get(login)).status).toBe(303);
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
  }, 60_000);
});
