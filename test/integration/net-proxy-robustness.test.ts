// The proxy under hostile or odd clients: random bytes, oversized heads,
// silence, idle tunnels, a throwing event consumer, concurrency, close().
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { Server } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileNetworkRules } from '../../sandbox/net/domain-rules.js';
import { startEgressProxy } from '../../sandbox/net/proxy.js';
import { WAIT_MS, withTimeout } from './with-timeout.js';
import type { EgressProxy, EgressProxyOptions, NetAttempt } from '../../sandbox/net/proxy.js';


/** Connects, sends `data` (then half-closes when asked), and collects everything until the proxy closes. */
function exchange(target: string | number, data: Buffer | string, end: boolean, ms = WAIT_MS): Promise<{ reply: Buffer; ms: number }> {
  const started = Date.now();
  const socket: Socket = typeof target === 'string' ? connect(target) : connect(target, '127.0.0.1');
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.on('error', () => undefined);
  socket.once('connect', () => {
    if (data.length > 0) socket.write(data);
    if (end) socket.end();
  });
  return withTimeout(once(socket, 'close'), 'proxy to close the connection', ms)
    .then(() => ({ reply: Buffer.concat(chunks), ms: Date.now() - started }))
    .finally(() => socket.destroy());
}

function get(socketPath: string, url: string): Promise<number> {
  return withTimeout(
    new Promise<number>((resolve, reject) => {
      const req = request({ socketPath, path: url, agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end();
    }),
    `GET ${url}`,
  );
}

let dir: string;
let origin: Server;
let originPort: number;
const proxies: EgressProxy[] = [];

async function startProxy(overrides: Partial<EgressProxyOptions> & Pick<EgressProxyOptions, 'onEvent'>, name: string): Promise<{ proxy: EgressProxy; path: string }> {
  const path = join(dir, `${name}.sock`);
  const proxy = await startEgressProxy({
    rules: compileNetworkRules(['allowed.test'], []),
    socketPath: path,
    hostMap: new Map([['allowed.test', { host: '127.0.0.1', port: originPort }]]),
    handshakeTimeoutMs: 1_000,
    idleTimeoutMs: 1_500,
    ...overrides,
  });
  proxies.push(proxy);
  return { proxy, path };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'personae-net-rob-'));
  origin = createServer((_req, res) => res.end('ok'));
  origin.listen(0, '127.0.0.1');
  await withTimeout(once(origin, 'listening'), 'origin listen');
  originPort = (origin.address() as AddressInfo).port;
});

afterAll(async () => {
  await Promise.all(proxies.map((p) => p.close()));
  origin?.closeAllConnections();
  origin?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('egress proxy robustness', { timeout: 30_000 }, () => {
  it('answers random bytes with an error and a close, while valid traffic keeps flowing', async () => {
    const events: NetAttempt[] = [];
    const { proxy, path } = await startProxy({ onEvent: (e) => events.push(e) }, 'garbage');
    const prefix = fc.constantFrom('', '\u0005', '\u0005\u0001\u0000', '\u0005\u0001\u0000\u0005\u0001\u0000\u0003', 'GET ', 'CONNECT ', 'GET http://', 'POST / HTTP/1.1\r\n', '\u0016\u0003\u0001');
    const inputs = fc.sample(fc.tuple(prefix, fc.uint8Array({ minLength: 0, maxLength: 3000 })), { numRuns: 120, seed: 42 });
    const garbage = inputs.map(([head, tail], i) => exchange(path, Buffer.concat([Buffer.from(head, 'latin1'), Buffer.from(tail)]), i % 2 === 0));
    const valid = Array.from({ length: 40 }, () => get(path, 'http://allowed.test/'));
    const results = await Promise.all(garbage);
    expect(await Promise.all(valid)).toEqual(new Array<number>(40).fill(200));
    for (const { reply } of results) {
      const text = reply.toString('latin1');
      // An HTTP error, a SOCKS refusal/failure, or (for an incomplete message) a plain close.
      expect(text === '' || /^HTTP\/1\.1 (4\d\d|502)/.test(text) || reply[0] === 5).toBe(true);
    }
    expect(events.filter((e) => e.decision === 'allow')).toHaveLength(40);
    expect(events.filter((e) => e.decision === 'allow').every((e) => e.host === 'allowed.test')).toBe(true);
    expect(proxy.stats().malformed).toBeGreaterThan(0);
    expect(await get(path, 'http://allowed.test/')).toBe(200);
  });

  it('bounds header size (431) and closes silent clients after the handshake timeout', async () => {
    const { path } = await startProxy({ onEvent: () => undefined }, 'bounds');
    const huge = `GET http://allowed.test/ HTTP/1.1\r\nHost: allowed.test\r\nX-Big: ${'a'.repeat(100 * 1024)}\r\n\r\n`;
    const { reply } = await exchange(path, huge, false);
    expect(reply.toString()).toMatch(/^HTTP\/1\.1 431/);
    const silent = await exchange(path, '', false);
    expect(silent.ms).toBeGreaterThanOrEqual(900);
    expect(silent.ms).toBeLessThan(4_000);
    const halfSocks = await exchange(path, Buffer.from([5, 1, 0, 5, 1]), false);
    expect(halfSocks.ms).toBeLessThan(4_000);
  });

  it('closes idle tunnels after the idle timeout', async () => {
    const { path } = await startProxy({ onEvent: () => undefined }, 'idle');
    const { reply, ms } = await exchange(path, 'CONNECT allowed.test:443 HTTP/1.1\r\n\r\n', false);
    expect(reply.toString()).toMatch(/^HTTP\/1\.1 200/);
    expect(ms).toBeGreaterThanOrEqual(1_400);
    expect(ms).toBeLessThan(4_500);
  });

  it('reports exactly one event per attempt under concurrency, even if the consumer throws', async () => {
    const events: NetAttempt[] = [];
    const { path } = await startProxy({ onEvent: (e) => {
      events.push(e);
      throw new Error('consumer bug');
    } }, 'concurrent');
    const urls = Array.from({ length: 60 }, (_, i) => (i % 3 === 0 ? `http://evil${i}.test/` : i % 3 === 1 ? `http://allowed.test/${i}` : `http://allowed.test:${1000 + i}/`));
    const statuses = await Promise.all(urls.map((u) => get(path, u)));
    expect(statuses.filter((s) => s === 200)).toHaveLength(20);
    expect(statuses.filter((s) => s === 403)).toHaveLength(40);
    expect(events).toHaveLength(60);
    const hosts = events.map((e) => `${e.host}:${e.port}`).sort();
    expect(new Set(hosts.filter((h) => !h.startsWith('allowed.test:80'))).size).toBe(40);
  });

  it('serves on a loopback TCP port too', async () => {
    const events: NetAttempt[] = [];
    const proxy = await startEgressProxy({
      rules: compileNetworkRules(['allowed.test'], []),
      listen: { port: 0 },
      hostMap: new Map([['allowed.test', { host: '127.0.0.1', port: originPort }]]),
      onEvent: (e) => events.push(e),
    });
    proxies.push(proxy);
    expect(proxy.endpoint).toMatchObject({ kind: 'tcp', host: '127.0.0.1' });
    const port = proxy.endpoint.kind === 'tcp' ? proxy.endpoint.port : 0;
    const { reply } = await exchange(port, 'GET http://allowed.test/ HTTP/1.1\r\nHost: allowed.test\r\nConnection: close\r\n\r\n', false);
    expect(reply.toString()).toMatch(/^HTTP\/1\.1 200[\s\S]*ok$/);
    expect(events).toEqual([{ protocol: 'http', host: 'allowed.test', port: 80, decision: 'allow', reason: 'network.allow: allowed.test' }]);
  });

  it('close() ends live tunnels and removes the socket file', async () => {
    const { proxy, path } = await startProxy({ onEvent: () => undefined, idleTimeoutMs: 60_000 }, 'closing');
    const tunnel = exchange(path, 'CONNECT allowed.test:443 HTTP/1.1\r\n\r\n', false);
    await withTimeout(
      (async () => {
        while (proxy.stats().active === 0 || proxy.stats().allowed === 0) await new Promise((r) => setTimeout(r, 10));
      })(),
      'tunnel to open',
    );
    await withTimeout(proxy.close(), 'proxy close');
    const { reply } = await tunnel;
    expect(reply.toString()).toMatch(/^HTTP\/1\.1 200/);
    expect(proxy.stats().active).toBe(0);
    expect(existsSync(path)).toBe(false);
  });
});
