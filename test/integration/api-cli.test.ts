// `personae serve` and `personae app` as a user runs them: the printed
// one-time URL works, a second start attaches instead of starting another
// backend, Ctrl-C stops the backend's sessions, and without the Electron
// binary `app` says so in one line and serves the browser UI.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alive, freshWorkspace, until } from './api-harness.js';
import Database from 'better-sqlite3';
import { CLI, cli, countEvents, makeHome, processesMatching, type Home } from './harness.js';

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

/** Logs in with the one-time URL; returns the origin and the session cookie. */
async function logIn(s: Served): Promise<{ origin: string; cookie: string }> {
  const login = await s.login;
  const first = await get(login);
  expect(first.status).toBe(303);
  return { origin: new URL(login).origin, cookie: String(first.headers['set-cookie']?.[0] ?? '').split(';')[0] ?? '' };
}

/** POST /api/sessions; resolves with the new session. */
function launch(origin: string, cookie: string, req: { persona: string; workspace: string; command: string[] }): Promise<{ id: string; sandbox_pid: number }> {
  return new Promise((resolve, reject) => {
    const r = http.request(`${origin}/api/sessions`, { method: 'POST', headers: { cookie, 'content-type': 'application/json', origin } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      res.on('end', () => (res.statusCode === 201 ? resolve(JSON.parse(text) as { id: string; sandbox_pid: number }) : reject(new Error(`${res.statusCode ?? 0} ${text}`))));
    });
    r.on('error', reject);
    r.end(JSON.stringify(req));
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
    const { origin, cookie } = await logIn(s);
    expect((await get(`${origin}/`)).body).toContain('<div id="root">');
    expect((await get(`${origin}/api/health`, { cookie })).status).toBe(200);

    // A second `personae serve` (or `personae app`) attaches: a fresh link to the same backend, and exits.
    const second = await cli(h, ['serve']);
    expect(second.code).toBe(0);
    expect(second.stderr).toMatch(/already running \(pid \d+\)/);
    expect(second.stdout.trim()).toMatch(new RegExp(`^${origin}/auth\\?code=[0-9a-f]{64}$`));

    // A session launched through it, then Ctrl-C: the backend stops it (verified) before exiting.
    const launched = await launch(origin, cookie, { persona: 'shell', workspace: freshWorkspace(h, 'served'), command: ['sleep', '600'] });
    expect(alive(launched.sandbox_pid)).toBe(true);
    s.child.kill('SIGINT');
    expect(await s.exited).toBe(0);
    expect(alive(launched.sandbox_pid)).toBe(false);
    expect(s.stderr()).toMatch(/stopping the sessions this backend started/);
    expect(existsSync(path.join(h.home, 'run', 'backend.json'))).toBe(false);
  }, 60_000);

  it('SIGKILL of the backend mid-session (over 1,000 events/s): the database opens clean, acknowledged events are kept, nothing survives', async () => {
    const s = serve(h, ['serve']);
    const { origin, cookie } = await logIn(s);
    const marker = `backendfault${Math.floor(Math.random() * 1e6)}`;
    const launched = await launch(origin, cookie, {
      persona: 'shell',
      workspace: freshWorkspace(h, 'killed'),
      command: ['bash', '-c', `sleep 3000 & exec -a ${marker} bash -c 'i=0; while :; do i=$((i+1)); echo x > f$((i % 5000)); done'`],
    });
    const db = path.join(h.home, 'audit.db');
    let before = 0;
    const deadline = Date.now() + 30_000;
    while (before < 1500 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      before = countEvents(db);
    }
    expect(before).toBeGreaterThanOrEqual(1500);
    before = countEvents(db); // what another reader saw committed is acknowledged
    s.child.kill('SIGKILL');
    await s.exited;
    const ofSession = (pid: number): boolean => {
      try {
        return readFileSync(`/proc/${pid}/environ`, 'latin1').includes(launched.id);
      } catch {
        return false;
      }
    };
    const survivors = (): number[] => [...processesMatching(marker), ...processesMatching('^sleep 3000$').filter(ofSession)];
    expect(await until(() => (survivors().length === 0 && !alive(launched.sandbox_pid) ? true : undefined), 5_000, 'no survivors')).toBe(true);
    const conn = new Database(db);
    expect(conn.pragma('integrity_check', { simple: true })).toBe('ok');
    conn.close();
    expect(countEvents(db)).toBeGreaterThanOrEqual(before);
    expect((await cli(h, ['audit', '--session', launched.id, '--limit', '5'])).code).toBe(0);
  }, 90_000);

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
