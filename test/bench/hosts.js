// Servers for the proxy and launch benchmarks, each in its own process so the
// measuring process never shares an event loop with what it measures:
//   node hosts.js upstream              an HTTP server on 127.0.0.1
//                                       (/small: 100 bytes; /big?bytes=N: N bytes)
//   node hosts.js personae UPSTREAM_PORT personae's egress proxy (dist/), allowing
//                                       bench.test, mapped to 127.0.0.1:UPSTREAM_PORT,
//                                       every attempt appended to an audit store
//   node hosts.js srt UPSTREAM_PORT     srt's proxy (SandboxManager.initialize),
//                                       allowing 127.0.0.1:UPSTREAM_PORT
// Each prints one JSON line ({port, ...}) once listening, and exits when its
// stdin closes or on SIGTERM.
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT, SRT_PKG } from './lib.js';

const [mode, upstreamArg] = process.argv.slice(2);
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

async function upstream() {
  const small = Buffer.alloc(100, 'x');
  const chunk = Buffer.alloc(1 << 20, 'y');
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://upstream');
    if (url.pathname === '/big') {
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
  });
  server.keepAliveTimeout = 1000;
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
  else if (mode === 'personae') await personaeProxy(Number(upstreamArg));
  else if (mode === 'srt') await srtProxy(Number(upstreamArg));
  else throw new Error(`unknown mode ${mode}`);
} catch (e) {
  process.stdout.write(`${JSON.stringify({ error: e instanceof Error ? e.message : String(e) })}\n`);
  await shutdown();
}
