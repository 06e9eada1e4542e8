// Servers for the proxy and launch benchmarks, each in its own process so the
// measuring process never shares an event loop with what it measures:
//   node hosts.js upstream              an HTTP server on 127.0.0.1
//                                       (/small: 100 bytes; /big?bytes=N: N bytes)
//   node hosts.js personae UPSTREAM_PORT personae's egress proxy (dist/), allowing
//                                       bench.test, mapped to 127.0.0.1:UPSTREAM_PORT,
//                                       every attempt appended to an audit store
//   node hosts.js srt UPSTREAM_PORT     srt's proxy (SandboxManager.initialize),
//                                       allowing 127.0.0.1:UPSTREAM_PORT
//   node hosts.js upstream-tls KEY CERT TOKEN
//                                       the same over HTTPS; /auth/... answers 401
//                                       unless `Authorization: Bearer TOKEN` came
//   node hosts.js personae-tls UPSTREAM_PORT CA_FILE
//                                       personae's proxy with a session CA: bench.test
//                                       terminated, BENCH_TOKEN (from the environment)
//                                       bound to it; tunnel.test a plain CONNECT tunnel
//   node hosts.js tls-relay UPSTREAM_PORT CA_FILE
//                                       the floor of any terminating proxy in Node: answers
//                                       CONNECT, terminates TLS and pipes the bytes into a
//                                       TLS connection to the upstream (no HTTP, no rules)
//   node hosts.js srt-tls UPSTREAM_PORT srt's proxy with tlsTerminate and BENCH_TOKEN
//                                       masked, injected at 127.0.0.1 (it trusts the
//                                       upstream through NODE_EXTRA_CA_CERTS)
// Each prints one JSON line ({port, ...}) once listening, and exits when its
// stdin closes or on SIGTERM.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT, SRT_PKG } from './lib.js';

const [mode, upstreamArg, ...rest] = process.argv.slice(2);
const closers = [];
let closing = false;
async function shutdown() {
  if (closing) return;
  closing = true;
  for (const c of closers.reverse()) {
    try {
      await c();
    } catch {
      // best effort
    }
  }
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown());
process.stdin.on('end', () => void shutdown());
process.stdin.on('error', () => void shutdown());
process.stdin.resume();
const ready = (info) => process.stdout.write(`${JSON.stringify(info)}\n`);

async function upstream(tls) {
  const small = Buffer.alloc(100, 'x');
  const chunk = Buffer.alloc(1 << 20, 'y');
  const handler = (req, res) => {
    const url = new URL(req.url ?? '/', 'http://upstream');
    if (tls && url.pathname.startsWith('/auth/') && req.headers.authorization !== `Bearer ${tls.token}`) {
      res.writeHead(401, { 'content-length': '0' });
      res.end();
      return;
    }
    if (url.pathname === '/big' || url.pathname === '/auth/big') {
      let left = Number(url.searchParams.get('bytes') ?? 0);
      res.writeHead(200, { 'content-length': String(left), 'content-type': 'application/octet-stream' });
      const pump = () => {
        while (left > 0) {
          const n = Math.min(left, chunk.length);
          left -= n;
          if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      pump();
      return;
    }
    res.writeHead(200, { 'content-length': String(small.length), 'content-type': 'text/plain' });
    res.end(small);
  };
  const server = tls ? https.createServer({ key: readFileSync(tls.key), cert: readFileSync(tls.cert) }, handler) : http.createServer(handler);
  // A web server's usual keep-alive (Node's default; nginx keeps 75 s): a proxy may reuse its connections.
  server.keepAliveTimeout = tls ? 5000 : 1000;
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }));
  ready({ port: server.address().port });
}

async function personaeProxy(upstreamPort) {
  const dist = (p) => pathToFileURL(path.join(ROOT, 'dist', p)).href;
  const { startEgressProxy } = await import(dist('sandbox/net/proxy.js'));
  const { compileNetworkRules } = await import(dist('sandbox/net/domain-rules.js'));
  const { openAuditStore } = await import(dist('sandbox/audit/store.js'));
  // As in a session: every attempt becomes a net.connect event in the (batched) audit store.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'personae-bench-proxy-'));
  closers.push(() => rmSync(dir, { recursive: true, force: true }));
  const store = openAuditStore(path.join(dir, 'audit.db'));
  closers.push(() => store.close());
  const labels = { session: '00000000-0000-4000-8000-00000000b0b0', persona: 'bench', agent: { kind: 'shell', version: null }, on_behalf_of: 'bench' };
  const proxy = await startEgressProxy({
    rules: compileNetworkRules(['bench.test'], []),
    listen: { port: 0 },
    hostMap: new Map([['bench.test', { host: '127.0.0.1', port: upstreamPort }]]),
    onEvent: (a) => {
      store.append(labels, { kind: 'net.connect', target: `${a.host}:${a.port}`, decision: a.decision, reason: a.reason, detail: { protocol: a.protocol, ...(a.error ? { error: a.error } : {}) } });
    },
  });
  closers.push(() => proxy.close());
  ready({ port: proxy.endpoint.port, host: 'bench.test', connectPort: 443 });
}

async function personaeTlsProxy(upstreamPort, caFile) {
  const dist = (p) => pathToFileURL(path.join(ROOT, 'dist', p)).href;
  const { startEgressProxy } = await import(dist('sandbox/net/proxy.js'));
  const { compileNetworkRules } = await import(dist('sandbox/net/domain-rules.js'));
  const { prepareInterception, requestEvent, credentialEvent } = await import(dist('sandbox/net/interception.js'));
  const { openAuditStore } = await import(dist('sandbox/audit/store.js'));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'personae-bench-tls-'));
  closers.push(() => rmSync(dir, { recursive: true, force: true }));
  const store = openAuditStore(path.join(dir, 'audit.db'));
  closers.push(() => store.close());
  const labels = { session: '00000000-0000-4000-8000-00000000b0b1', persona: 'bench', agent: { kind: 'shell', version: null }, on_behalf_of: 'bench' };
  const append = (e) => store.append(labels, e);
  const rules = compileNetworkRules(['bench.test', 'tunnel.test'], []);
  // As in a session: the same interception a persona with one bound credential gets, every event in the store.
  const interception = prepareInterception({
    grants: [{ env: 'BENCH_TOKEN', secret: 'bench', value: process.env.BENCH_TOKEN ?? '', inject: 'proxy', hosts: ['bench.test'] }],
    rules,
    dir,
    sessionId: labels.session,
    env: process.env,
    upstreamCa: readFileSync(caFile, 'latin1'),
    onRequest: (r) => append(requestEvent(r)),
    onCredential: (c) => append(credentialEvent(c)),
  });
  const intercept = await interception.start();
  const target = { host: '127.0.0.1', port: upstreamPort };
  const proxy = await startEgressProxy({
    rules,
    listen: { port: 0 },
    hostMap: new Map([['bench.test', target], ['tunnel.test', target]]),
    onEvent: (a) => append({ kind: 'net.connect', target: `${a.host}:${a.port}`, decision: a.decision, reason: a.reason, detail: { protocol: a.protocol } }),
    intercept,
  });
  closers.push(() => proxy.close());
  ready({ port: proxy.endpoint.port, bundle: path.join(interception.trustDir, 'bundle.pem'), placeholder: interception.env.BENCH_TOKEN });
}

async function tlsRelay(upstreamPort, caFile) {
  const { createSessionCa, PROXY_CIPHERS } = await import(pathToFileURL(path.join(ROOT, 'dist', 'sandbox', 'net', 'session-ca.js')).href);
  const tls = await import('node:tls');
  const net = await import('node:net');
  const ca = createSessionCa('relay');
  const upstream = tls.createSecureContext({ ca: readFileSync(caFile, 'latin1'), ciphers: PROXY_CIPHERS });
  const server = net.createServer((raw) => {
    let head = Buffer.alloc(0);
    const onData = (d) => {
      head = Buffer.concat([head, d]);
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) return;
      raw.off('data', onData);
      raw.pause();
      if (end + 4 < head.length) raw.unshift(head.subarray(end + 4));
      raw.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      const client = new tls.TLSSocket(raw, { isServer: true, secureContext: ca.contextFor('bench.test') });
      const up = tls.connect({ host: '127.0.0.1', port: upstreamPort, servername: 'bench.test', secureContext: upstream });
      client.pipe(up);
      up.pipe(client);
      for (const s of [client, up, raw]) s.on('error', () => { client.destroy(); up.destroy(); raw.destroy(); });
      client.on('close', () => up.destroy());
      up.on('close', () => client.destroy());
    };
    raw.on('data', onData);
    raw.on('error', () => raw.destroy());
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => new Promise((r) => server.close(() => r())));
  const bundle = path.join(mkdtempSync(path.join(os.tmpdir(), 'personae-bench-relay-')), 'ca.pem');
  writeFileSync(bundle, ca.certPem);
  closers.push(() => rmSync(path.dirname(bundle), { recursive: true, force: true }));
  ready({ port: server.address().port, bundle });
}

async function srtTlsProxy(upstreamPort) {
  const { SandboxManager } = await import(pathToFileURL(path.join(SRT_PKG, 'dist', 'index.js')).href);
  await SandboxManager.initialize({
    network: { allowedDomains: ['127.0.0.1'], deniedDomains: [], tlsTerminate: {} },
    filesystem: { denyRead: [], allowWrite: [], denyWrite: [] },
    credentials: { envVars: [{ name: 'BENCH_TOKEN', mode: 'mask', injectHosts: ['127.0.0.1'] }] },
  });
  closers.push(() => SandboxManager.reset());
  // The sentinel is minted when a command is wrapped (as for a sandboxed child).
  await SandboxManager.wrapWithSandbox('true');
  const real = process.env.BENCH_TOKEN ?? '';
  const sentinel = [...SandboxManager.getSentinelRegistry().entries()].find(([, value]) => value === real)?.[0];
  const token = SandboxManager.getProxyAuthToken();
  ready({
    port: SandboxManager.getProxyPort(),
    auth: token ? Buffer.from(`srt:${token}`).toString('base64') : undefined,
    bundle: SandboxManager.getMitmCA()?.trustBundlePath,
    placeholder: sentinel,
    upstreamPort,
  });
}

async function srtProxy(upstreamPort) {
  const { SandboxManager } = await import(pathToFileURL(path.join(SRT_PKG, 'dist', 'index.js')).href);
  await SandboxManager.initialize({
    network: { allowedDomains: [`127.0.0.1:${upstreamPort}`], deniedDomains: [] },
    filesystem: { denyRead: [], allowWrite: [], denyWrite: [] },
  });
  closers.push(() => SandboxManager.reset());
  const port = SandboxManager.getProxyPort();
  const token = SandboxManager.getProxyAuthToken();
  ready({ port, host: '127.0.0.1', connectPort: upstreamPort, auth: token ? Buffer.from(`srt:${token}`).toString('base64') : undefined });
}

try {
  if (mode === 'upstream') await upstream();
  else if (mode === 'upstream-tls') await upstream({ key: upstreamArg, cert: rest[0], token: rest[1] });
  else if (mode === 'personae') await personaeProxy(Number(upstreamArg));
  else if (mode === 'personae-tls') await personaeTlsProxy(Number(upstreamArg), rest[0]);
  else if (mode === 'tls-relay') await tlsRelay(Number(upstreamArg), rest[0]);
  else if (mode === 'srt-tls') await srtTlsProxy(Number(upstreamArg));
  else if (mode === 'srt') await srtProxy(Number(upstreamArg));
  else throw new Error(`unknown mode ${mode}`);
} catch (e) {
  process.stdout.write(`${JSON.stringify({ error: e instanceof Error ? e.message : String(e) })}\n`);
  await shutdown();
}
