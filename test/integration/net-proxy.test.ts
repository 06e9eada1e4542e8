// The egress proxy over its unix socket, against a real loopback HTTP server
// reached through a host map. Every wait is bounded.
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileNetworkRules } from '../../sandbox/net/domain-rules.js';
import { startEgressProxy } from '../../sandbox/net/proxy.js';
import { withTimeout } from './with-timeout.js';
import type { EgressProxy, NetAttempt } from '../../sandbox/net/proxy.js';


function connectUnix(path: string): Promise<Socket> {
  const socket = connect(path);
  return withTimeout(once(socket, 'connect').then(() => socket), 'connect to proxy');
}

/** Reads until `done(buffer)` holds or the peer closes; returns what was read. */
function readUntil(socket: Socket, done: (buf: Buffer) => boolean, what: string): Promise<Buffer> {
  return withTimeout(
    new Promise<Buffer>((resolve) => {
      let buf = Buffer.alloc(0);
      const finish = (): void => {
        socket.removeListener('data', onData);
        resolve(buf);
      };
      const onData = (chunk: Buffer): void => {
        buf = Buffer.concat([buf, chunk]);
        if (done(buf)) finish();
      };
      socket.on('data', onData);
      socket.once('close', finish);
      socket.once('error', finish);
    }),
    what,
  );
}

const headDone = (buf: Buffer): boolean => buf.includes('\r\n\r\n');

async function httpConnect(path: string, authority: string): Promise<{ status: number; text: string; socket: Socket }> {
  const socket = await connectUnix(path);
  socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
  const head = await readUntil(socket, headDone, `CONNECT ${authority}`);
  const text = head.toString('latin1');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
  if (status !== 200) await readUntil(socket, () => false, 'denied CONNECT close');
  return { status, text, socket };
}

/** GET over an established tunnel (Connection: close), returning the whole raw response. */
async function getOverTunnel(socket: Socket, host: string, path: string): Promise<string> {
  socket.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
  const raw = await readUntil(socket, () => false, 'tunnelled response');
  return raw.toString('latin1');
}

type SocksTarget = { readonly domain: string } | { readonly ipv4: readonly number[] } | { readonly ipv6: readonly number[] };

async function socks5Connect(path: string, target: SocksTarget, port: number): Promise<{ reply: number; socket: Socket }> {
  const socket = await connectUnix(path);
  socket.write(Buffer.from([5, 1, 0]));
  const choice = await readUntil(socket, (b) => b.length >= 2, 'SOCKS method choice');
  expect([...choice.subarray(0, 2)]).toEqual([5, 0]);
  let address: Buffer;
  if ('domain' in target) address = Buffer.concat([Buffer.from([3, target.domain.length]), Buffer.from(target.domain, 'latin1')]);
  else if ('ipv4' in target) address = Buffer.from([1, ...target.ipv4]);
  else address = Buffer.from([4, ...target.ipv6]);
  const portBytes = Buffer.from([port >> 8, port & 0xff]);
  socket.write(Buffer.concat([Buffer.from([5, 1, 0]), address, portBytes]));
  const reply = await readUntil(socket, (b) => b.length >= 10, 'SOCKS reply');
  return { reply: reply[1] ?? -1, socket };
}

interface ProxiedResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

function proxyRequest(path: string, url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<ProxiedResponse> {
  return withTimeout(
    new Promise<ProxiedResponse>((resolve, reject) => {
      const req = request({ socketPath: path, path: url, method: options.method ?? 'GET', headers: options.headers, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(options.body);
    }),
    `proxied ${url}`,
  );
}

let dir: string;
let socketPath: string;
let origin: Server;
let originPort: number;
let proxy: EgressProxy;
const events: NetAttempt[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'personae-net-'));
  socketPath = join(dir, 'proxy.sock');
  origin = createServer((req, res) => {
    const big = /^\/big\/(\d+)$/.exec(req.url ?? '');
    if (big) {
      const total = Number(big[1]);
      res.writeHead(200, { 'Content-Length': total });
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      let left = total;
      const pump = (): void => {
        while (left > 0) {
          const n = Math.min(left, chunk.length);
          left -= n;
          if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void res.once('drain', pump);
        }
        res.end();
      };
      return pump();
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'X-Hop': 'x', 'Keep-Alive': 'timeout=5' });
      res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString() }));
    });
  });
  origin.listen(0, '127.0.0.1');
  await withTimeout(once(origin, 'listening'), 'origin listen');
  originPort = (origin.address() as AddressInfo).port;
  const rules = compileNetworkRules(['allowed.test', '*.wild.test', 'loopy.test', 'mixed.test', 'nowhere.test', 'closed.test'], ['blocked.wild.test']);
  const fakeDns = new Map([
    ['loopy.test', [{ address: '127.0.0.1', family: 4 }]],
    ['mixed.test', [{ address: '93.184.216.34', family: 4 }, { address: '::ffff:10.0.0.1', family: 6 }]],
  ]);
  proxy = await startEgressProxy({
    rules,
    socketPath,
    hostMap: new Map([
      ['allowed.test', { host: '127.0.0.1', port: originPort }],
      ['a.wild.test', { host: '127.0.0.1', port: originPort }],
      ['blocked.wild.test', { host: '127.0.0.1', port: originPort }],
      ['closed.test', { host: '127.0.0.1', port: 1 }],
    ]),
    lookup: async (host) => {
      const found = fakeDns.get(host);
      if (!found) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
      return found;
    },
    onEvent: (e) => events.push(e),
  });
});

afterAll(async () => {
  await proxy?.close();
  origin?.closeAllConnections();
  origin?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Asserts exactly one new event since `from`, and returns it. */
function onlyEventSince(from: number): NetAttempt {
  const fresh = events.slice(from);
  expect(fresh).toHaveLength(1);
  return fresh[0] as NetAttempt;
}

describe('egress proxy over a unix socket', { timeout: 15_000 }, () => {
  it('tunnels an allowed CONNECT and reports one allow event', async () => {
    const from = events.length;
    const { status, socket } = await httpConnect(socketPath, 'allowed.test:443');
    expect(status).toBe(200);
    const response = await getOverTunnel(socket, 'allowed.test', '/echo');
    expect(response).toMatch(/^HTTP\/1\.1 200/);
    expect(response).toContain('"url":"/echo"');
    expect(onlyEventSince(from)).toEqual({ protocol: 'connect', host: 'allowed.test', port: 443, decision: 'allow', reason: 'network.allow: allowed.test' });
  });

  it('keeps bytes a client sends before the CONNECT answer', async () => {
    const socket = await connectUnix(socketPath);
    socket.write('CONNECT allowed.test:443 HTTP/1.1\r\nHost: allowed.test:443\r\n\r\nGET /early HTTP/1.1\r\n');
    socket.write('Host: allowed.test\r\nConnection: close\r\n\r\n');
    const raw = (await readUntil(socket, () => false, 'early tunnel data')).toString('latin1');
    expect(raw).toMatch(/^HTTP\/1\.1 200 Connection Established\r\n\r\nHTTP\/1\.1 200/);
    expect(raw).toContain('"url":"/early"');
  });

  it('refuses a CONNECT with no matching rule: 403 naming the reason', async () => {
    const from = events.length;
    const { status, text } = await httpConnect(socketPath, 'evil.test:443');
    expect(status).toBe(403);
    expect(text).toContain('no network.allow rule matches');
    expect(onlyEventSince(from)).toMatchObject({ protocol: 'connect', host: 'evil.test', port: 443, decision: 'deny' });
  });

  it('refuses an allowed domain on a port the rule does not grant', async () => {
    const from = events.length;
    const { status, text } = await httpConnect(socketPath, 'allowed.test:8443');
    expect(status).toBe(403);
    expect(text).toContain('port 8443 not granted for allowed.test');
    expect(onlyEventSince(from).reason).toBe('port 8443 not granted for allowed.test');
  });

  it('refuses IP literal targets in any spelling', async () => {
    for (const target of ['127.0.0.1:443', '[::1]:443', '0x7f.1:443', '2130706433:443', '[::ffff:127.0.0.1]:443']) {
      const from = events.length;
      const { status } = await httpConnect(socketPath, target);
      expect(status, target).toBe(403);
      expect(onlyEventSince(from)).toMatchObject({ decision: 'deny', reason: 'IP address targets are not allowed' });
    }
  });

  it('refuses an allowed domain that resolves to loopback or a private address', async () => {
    for (const host of ['loopy.test', 'mixed.test']) {
      const from = events.length;
      const { status, text } = await httpConnect(socketPath, `${host}:443`);
      expect(status, host).toBe(403);
      expect(text).toContain('resolves to a private/loopback address');
      expect(onlyEventSince(from)).toMatchObject({ host, decision: 'deny', reason: 'resolves to a private/loopback address' });
    }
  });

  it('deny beats allow, and reports the deny rule', async () => {
    const from = events.length;
    const { status } = await httpConnect(socketPath, 'blocked.wild.test:443');
    expect(status).toBe(403);
    expect(onlyEventSince(from)).toMatchObject({ decision: 'deny', reason: 'network.deny: blocked.wild.test' });
  });

  it('reports allowed attempts that fail (DNS, refused) with an error, and answers 502', async () => {
    for (const [host, code] of [['nowhere.test', 'ENOTFOUND'], ['closed.test', 'ECONNREFUSED']] as const) {
      const from = events.length;
      const { status } = await httpConnect(socketPath, `${host}:443`);
      expect(status, host).toBe(502);
      expect(onlyEventSince(from)).toMatchObject({ host, decision: 'allow', error: code });
    }
  });

  it('forwards plain HTTP, rewriting Host and stripping hop-by-hop and Proxy-* headers', async () => {
    const from = events.length;
    const res = await proxyRequest(socketPath, 'http://Allowed.Test./echo?x=1', {
      headers: {
        Host: 'evil.test',
        'Proxy-Authorization': 'Basic c2VjcmV0',
        'Proxy-Connection': 'keep-alive',
        Connection: 'close, X-Drop',
        'X-Drop': 'gone',
        'X-Keep': 'kept',
      },
    });
    expect(res.status).toBe(200);
    const seen = JSON.parse(res.body) as { url: string; headers: Record<string, string> };
    expect(seen.url).toBe('/echo?x=1');
    expect(seen.headers.host).toBe('Allowed.Test.');
    expect(seen.headers['x-keep']).toBe('kept');
    expect(seen.headers['x-drop']).toBeUndefined();
    expect(Object.keys(seen.headers).filter((h) => h.startsWith('proxy-'))).toEqual([]);
    expect(res.headers['x-hop']).toBe('x');
    expect(res.headers['keep-alive']).toBeUndefined();
    expect(onlyEventSince(from)).toEqual({ protocol: 'http', host: 'allowed.test', port: 80, decision: 'allow', reason: 'network.allow: allowed.test' });
  });

  it('streams request bodies, including chunked ones', async () => {
    const body = 'x'.repeat(200_000);
    const fixed = await proxyRequest(socketPath, 'http://allowed.test/echo', { method: 'POST', body });
    expect((JSON.parse(fixed.body) as { body: string }).body).toHaveLength(body.length);
    const chunked = await proxyRequest(socketPath, 'http://allowed.test/echo', { method: 'POST', body: 'hello', headers: { 'Transfer-Encoding': 'chunked' } });
    expect((JSON.parse(chunked.body) as { body: string }).body).toBe('hello');
  });

  it('refuses plain HTTP to a host no rule allows, and to an IP', async () => {
    for (const [url, reason] of [
      ['http://evil.test/', 'no network.allow rule matches'],
      ['http://127.0.0.1:80/', 'IP address targets are not allowed'],
      ['http://allowed.test:8080/', 'port 8080 not granted for allowed.test'],
    ] as const) {
      const from = events.length;
      const res = await proxyRequest(socketPath, url);
      expect(res.status, url).toBe(403);
      expect(res.body).toContain(reason);
      expect(onlyEventSince(from)).toMatchObject({ protocol: 'http', decision: 'deny', reason });
    }
  });

  it('answers 400 to origin-form and https:// request targets, with no event', async () => {
    const from = events.length;
    expect((await proxyRequest(socketPath, '/echo')).status).toBe(400);
    expect((await proxyRequest(socketPath, 'https://allowed.test/')).status).toBe(400);
    expect(events.length).toBe(from);
  });

  it('tunnels allowed SOCKS5 CONNECTs by name', async () => {
    const from = events.length;
    const { reply, socket } = await socks5Connect(socketPath, { domain: 'a.wild.test' }, 443);
    expect(reply).toBe(0);
    expect(await getOverTunnel(socket, 'a.wild.test', '/echo')).toMatch(/^HTTP\/1\.1 200/);
    expect(onlyEventSince(from)).toEqual({ protocol: 'socks5', host: 'a.wild.test', port: 443, decision: 'allow', reason: 'network.allow: *.wild.test' });
  });

  it('refuses SOCKS5 targets by rule with reply 0x02, IPs included', async () => {
    const cases: Array<[SocksTarget, string]> = [
      [{ domain: 'evil.test' }, 'no network.allow rule matches'],
      [{ domain: 'wild.test' }, 'no network.allow rule matches'],
      [{ domain: '127.0.0.1' }, 'IP address targets are not allowed'],
      [{ ipv4: [127, 0, 0, 1] }, 'IP address targets are not allowed'],
      [{ ipv6: [...new Array<number>(15).fill(0), 1] }, 'IP address targets are not allowed'],
    ];
    for (const [target, reason] of cases) {
      const from = events.length;
      const { reply } = await socks5Connect(socketPath, target, 443);
      expect(reply, JSON.stringify(target)).toBe(2);
      expect(onlyEventSince(from)).toMatchObject({ protocol: 'socks5', decision: 'deny', reason });
    }
  });

  it('handles a SOCKS5 greeting, request and payload sent in one write', async () => {
    const socket = await connectUnix(socketPath);
    const name = Buffer.from('allowed.test');
    const request = Buffer.concat([Buffer.from([5, 1, 0, 5, 1, 0, 3, name.length]), name, Buffer.from([1, 187])]);
    socket.write(Buffer.concat([request, Buffer.from('GET /eager HTTP/1.1\r\nHost: allowed.test\r\nConnection: close\r\n\r\n')]));
    const raw = await readUntil(socket, () => false, 'eager SOCKS exchange');
    expect([...raw.subarray(0, 4)]).toEqual([5, 0, 5, 0]);
    expect(raw.subarray(12).toString('latin1')).toMatch(/^HTTP\/1\.1 200[\s\S]*"url":"\/eager"/);
  });

  it('answers SOCKS5 clients without an acceptable auth method with 0xFF', async () => {
    const socket = await connectUnix(socketPath);
    socket.write(Buffer.from([5, 1, 2]));
    const answer = await readUntil(socket, () => false, 'SOCKS refusal');
    expect([...answer]).toEqual([5, 0xff]);
  });

  it('keeps serving requests for several hosts on one keep-alive connection', async () => {
    const socket = await connectUnix(socketPath);
    const from = events.length;
    socket.write('GET http://allowed.test/echo HTTP/1.1\r\nHost: allowed.test\r\n\r\nGET http://evil.test/ HTTP/1.1\r\nHost: evil.test\r\n\r\n');
    const text = (await readUntil(socket, (b) => (b.toString().match(/HTTP\/1\.1 \d{3}/g) ?? []).length >= 2 && b.toString().endsWith('\n'), 'two responses')).toString();
    socket.destroy();
    expect(text).toMatch(/^HTTP\/1\.1 200/);
    expect(text).toContain('HTTP/1.1 403');
    // Pipelined requests are decided concurrently: events come in completion order.
    expect(events.slice(from).map((e) => `${e.host}:${e.decision}`).sort()).toEqual(['allowed.test:allow', 'evil.test:deny']);
  });

  it('carries a large download through CONNECT and plain HTTP intact', async () => {
    const size = 16 * 1024 * 1024;
    const plain = await proxyRequest(socketPath, `http://allowed.test/big/${size}`);
    expect(plain.body.length).toBe(size);
    const { socket } = await httpConnect(socketPath, 'allowed.test:443');
    const raw = await getOverTunnel(socket, 'allowed.test', `/big/${size}`);
    expect(raw.length).toBeGreaterThan(size);
  });

  it('removes a stale socket file on start and refuses to replace a regular file', async () => {
    const stalePath = join(dir, 'stale.sock');
    const first = await startEgressProxy({ rules: compileNetworkRules([], []), socketPath: stalePath, onEvent: () => undefined });
    await first.close();
    const second = await startEgressProxy({ rules: compileNetworkRules([], []), socketPath: stalePath, onEvent: () => undefined });
    expect(existsSync(stalePath)).toBe(true);
    await expect(startEgressProxy({ rules: compileNetworkRules([], []), socketPath: stalePath, onEvent: () => undefined })).rejects.toThrow(/in use/);
    await second.close();
    const filePath = join(dir, 'not-a-socket');
    rmSync(filePath, { force: true });
    await import('node:fs/promises').then((fs) => fs.writeFile(filePath, 'keep me'));
    await expect(startEgressProxy({ rules: compileNetworkRules([], []), socketPath: filePath, onEvent: () => undefined })).rejects.toThrow(/not a socket/);
  });
});
