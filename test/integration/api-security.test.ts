// Who may talk to the backend: the right status for every refusal, and the
// backend unharmed afterwards.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import net from 'node:net';
import { networkInterfaces } from 'node:os';
import { alive, openSocket, raw, startApi, type ApiEnv } from './api-harness.js';

/** host:port of every listening TCP socket of this process on `port`, from /proc/net/tcp{,6} and this process's descriptors. */
function listeners(port: number): string[] {
  const mine = new Set<string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
      if (m?.[1]) mine.add(m[1]);
    } catch {
      // closed meanwhile
    }
  }
  const out: string[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      const [addr, hexPort] = (f[1] ?? '').split(':');
      if (f[3] !== '0A' || Number.parseInt(hexPort ?? '', 16) !== port || !mine.has(f[9] ?? '')) continue;
      out.push(`${hexAddress(addr ?? '')}:${port}`);
    }
  }
  return out;
}

/** /proc/net/tcp's address as text: IPv4 dotted (little-endian), IPv6 as its raw hex in brackets. */
function hexAddress(hex: string): string {
  if (hex.length !== 8) return `[${hex}]`;
  return (hex.match(/../g) ?? []).reverse().map((b) => Number.parseInt(b, 16)).join('.');
}

function connects(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port, timeout: 3000 });
    sock.once('connect', () => {
      sock.destroy();
      resolve('connected');
    });
    sock.once('timeout', () => {
      sock.destroy();
      resolve('timeout');
    });
    sock.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

describe('control API: auth, Host, Origin, malformed input', () => {
  let env: ApiEnv;
  beforeAll(async () => {
    env = await startApi();
    env.h.writePersona({ name: 'shell', agent: 'shell', filesystem: { write: ['{workspace}'] } });
  });
  afterAll(async () => env.close());

  const healthy = async (): Promise<void> => {
    const r = await raw(env.b, '/api/health');
    expect(r.status).toBe(200);
    expect(r.json().ok).toBe(true);
  };

  it('listens on loopback only: the bound socket, and what answers on this machine\'s other addresses', async () => {
    // The kernel's own table of this process's listening sockets on the backend's port.
    const listening = listeners(env.b.port);
    expect(listening).toEqual([`127.0.0.1:${env.b.port}`]);
    // Connections: loopback answers; another loopback address and every other address of this machine do not.
    expect(await connects('127.0.0.1', env.b.port)).toBe('connected');
    const others = ['127.0.0.2', ...Object.values(networkInterfaces()).flatMap((l) => (l ?? []).filter((a) => !a.internal && !a.address.startsWith('fe80:')).map((a) => a.address))];
    for (const host of others) expect(await connects(host, env.b.port), host).toBe('ECONNREFUSED');
  });

  it('missing or wrong token: 401, for every route', async () => {
    for (const p of ['/api/health', '/api/personas', '/api/sessions', '/api/events', '/api/review', '/api/secrets']) {
      expect((await raw(env.b, p, { token: false })).status).toBe(401);
      expect((await raw(env.b, p, { token: 'a'.repeat(64) })).status).toBe(401);
      expect((await raw(env.b, p, { token: env.b.token.slice(0, -1) })).status).toBe(401);
    }
    expect((await raw(env.b, '/api/sessions/stop-all', { method: 'POST', token: false })).status).toBe(401);
    expect((await raw(env.b, '/api/health', { token: false, headers: { cookie: `personae_${env.b.port}=${env.b.token}` } })).status).toBe(401);
    const r = await raw(env.b, '/api/health', { token: false });
    expect(r.headers['content-type']).toMatch(/application\/json/);
    expect(r.json().error).toMatch(/token/);
    await healthy();
  });

  it('a foreign Origin: 403, even with the token', async () => {
    for (const origin of ['http://evil.example', 'http://127.0.0.1:1', `https://127.0.0.1:${env.b.port}`, 'null']) {
      const r = await raw(env.b, '/api/personas', { headers: { origin } });
      expect(r.status, origin).toBe(403);
    }
    expect((await raw(env.b, '/api/sessions', { body: {}, headers: { origin: 'http://evil.example' } })).status).toBe(403);
    expect((await raw(env.b, '/api/health', { headers: { origin: `http://localhost:${env.b.port}` } })).status).toBe(200);
  });

  it('a Host other than our loopback address and port: 421 (DNS rebinding)', async () => {
    for (const host of ['evil.example', `evil.example:${env.b.port}`, '127.0.0.1:1', `192.168.1.1:${env.b.port}`, `127.0.0.1:${env.b.port}.evil.example`]) {
      expect((await raw(env.b, '/api/health', { headers: { host } })).status, host).toBe(421);
      expect((await raw(env.b, '/', { headers: { host }, token: false })).status, host).toBe(421);
    }
    expect((await raw(env.b, '/api/health', { headers: { host: `localhost:${env.b.port}` } })).status).toBe(200);
    // No Host at all (HTTP/1.0): refused too.
    const answer = await new Promise<string>((resolve, reject) => {
      const sock = net.connect(env.b.port, '127.0.0.1', () => sock.end(`GET /api/health HTTP/1.0\r\nAuthorization: Bearer ${env.b.token}\r\n\r\n`));
      let text = '';
      sock.setEncoding('utf8').on('data', (d: string) => (text += d));
      sock.on('end', () => resolve(text));
      sock.on('error', reject);
      sock.setTimeout(5000, () => sock.destroy(new Error('timeout')));
    });
    expect(answer).toMatch(/^HTTP\/1\.1 421/);
  });

  it('malformed bodies and queries: 4xx with a JSON error, nothing changes', async () => {
    const before = (await raw(env.b, '/api/personas')).text;
    const cases: Array<[string, Parameters<typeof raw>[2], number]> = [
      ['/api/personas', { body: '{not json' }, 400],
      ['/api/personas', { body: '[]' }, 400],
      ['/api/personas', { body: { persona: 'x' } }, 400],
      ['/api/personas', { body: { persona: {}, extra: 1 } }, 400],
      ['/api/personas', { body: 'name: x', headers: { 'content-type': 'text/yaml' } }, 415],
      ['/api/personas', { body: { persona: { name: 'x'.repeat(600_000) } } }, 413],
      ['/api/sessions', { body: { persona: '../etc', workspace: '/tmp' } }, 400],
      ['/api/sessions', { body: { persona: 'shell', workspace: '/tmp', cols: 'wide' } }, 400],
      ['/api/sessions', { body: { persona: 'shell', workspace: '/tmp', command: [] } }, 400],
      ['/api/personas/validate', { body: { text: 1 } }, 400],
      ['/api/personas/import', { body: { text: 'x', filename: 'evil.sh' } }, 400],
      ['/api/approvals/zzz', { body: { decision: 'maybe' } }, 400],
      ['/api/events?limit=-1', {}, 400],
      ['/api/events?limit=abc', {}, 400],
      ['/api/events?decision=perhaps', {}, 400],
      ['/api/events?after=nope', {}, 400],
      ['/api/events?after=01ARZ3NDEKTSV4RRFFQ69G5FAV', {}, 400],
      ['/api/events?bogus=1', {}, 400],
      ['/api/review?since=next%20tuesday-ish', {}, 400],
      ['/api/sessions?running=maybe', {}, 400],
      ['/api/nope', {}, 404],
      ['/api/personas/shell', { method: 'DELETE' }, 405],
      ['/api/sessions/not-a-session/stop', { method: 'POST' }, 404],
      ['/api/personas/..%2f..%2fetc', {}, 404],
    ];
    for (const [p, r, status] of cases) {
      const res = await raw(env.b, p, r);
      expect(res.status, `${r?.method ?? ''} ${p} ${JSON.stringify(r?.body ?? '').slice(0, 80)}`).toBe(status);
      expect(typeof res.json().error).toBe('string');
    }
    expect((await raw(env.b, '/api/personas')).text).toBe(before);
    await healthy();
  });

  it('the one-time login link: an HttpOnly SameSite=Strict cookie, once', async () => {
    const link = new URL(env.b.loginUrl());
    const first = await raw(env.b, link.pathname + link.search, { token: false });
    expect(first.status).toBe(303);
    expect(first.headers.location).toBe('/');
    const cookie = String(first.headers['set-cookie']?.[0] ?? '');
    expect(cookie).toMatch(new RegExp(`^personae_${env.b.port}=[0-9a-f]{64}; HttpOnly; SameSite=Strict; Path=/$`));
    const value = cookie.split(';')[0] ?? '';
    expect((await raw(env.b, '/api/health', { token: false, headers: { cookie: value } })).status).toBe(200);
    // used once
    expect((await raw(env.b, link.pathname + link.search, { token: false })).status).toBe(401);
    expect((await raw(env.b, '/auth?code=0000', { token: false })).status).toBe(401);
    // the cookie still obeys Origin
    expect((await raw(env.b, '/api/health', { token: false, headers: { cookie: value, origin: 'http://evil.example' } })).status).toBe(403);
  });

  it('the UI is served with a strict CSP and no way out of its folder', async () => {
    const r = await raw(env.b, '/', { token: false });
    expect(r.status).toBe(200);
    const csp = String(r.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/script-src[^;]*unsafe/);
    for (const p of ['/%2e%2e/package.json', '/..%2fpackage.json', '/assets/../../package.json', '/.git/config']) {
      expect((await raw(env.b, p, { token: false })).status, p).toBe(404);
    }
  });

  it('WebSockets: token, Origin and Host checked on upgrade', async () => {
    await expect(openSocket(env.b, '/api/stream', { protocols: [] })).rejects.toThrow('HTTP 401');
    await expect(openSocket(env.b, '/api/stream', { protocols: ['personae-token.bad'] })).rejects.toThrow('HTTP 401');
    await expect(openSocket(env.b, '/api/stream', { headers: { origin: 'http://evil.example' } })).rejects.toThrow('HTTP 403');
    await expect(openSocket(env.b, '/api/stream', { headers: { host: 'evil.example' } })).rejects.toThrow('HTTP 421');
    await expect(openSocket(env.b, '/api/sessions/nope/terminal')).rejects.toThrow('HTTP 404');
    const { ws, next, all } = await openSocket<{ type: string }>(env.b, '/api/stream');
    await next((x) => x.type === 'hello');
    ws.send('not json');
    await next((x) => x.type === 'error');
    ws.send(JSON.stringify({ type: 'subscribe', id: 1, filter: { persona: 'NOT A SLUG' }, tail: 5 }));
    await next(() => all.filter((y) => y.type === 'error').length === 2);
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    ws.send(Buffer.alloc(200_000, 'a'));
    expect(await closed).toBe(1009);
    await healthy();
    expect(alive(process.pid)).toBe(true);
  });
});
