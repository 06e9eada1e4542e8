// TLS termination: what a terminated HTTPS request with a credential put in
// costs, against the plain CONNECT tunnel every other host gets, and against
// srt's equivalent path (its tlsTerminate with a masked credential), all in
// one run, on loopback. An HTTPS upstream with its own throw-away CA (openssl)
// runs in its own process, as does each proxy; this process is the client,
// opening a fresh TCP and TLS connection for every request, as a CLI tool
// would:
//   direct               TLS straight to the upstream
//   personae tunnel      CONNECT tunnel.test:443, TLS end to end (not terminated)
//   personae terminated  CONNECT bench.test:443, TLS to personae's session CA,
//                        `Authorization: Bearer <placeholder>`; the upstream
//                        answers 401 unless the real token arrived
//   srt terminated       the same through srt (its sentinel, its CA)
//   node TLS relay       the floor of any terminating proxy written in Node: a
//                        process that only decrypts and encrypts again (no HTTP)
// Then a 100 MiB download over each, several times interleaved (best run =
// the route's capacity). Targets: under 2 ms added per request (median,
// terminated - tunnel) and at least half the tunnel's download throughput.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { connectTo, readResponse, tunnel } from './proxy.js';
import { round, startHost, summary, tempDir } from './lib.js';

const BIG = 100 * 2 ** 20;
const TOKEN = 'ghp_BenchRealToken0123456789abcdefghijKLMNOP';

function openssl(args) {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr.trim().split('\n').at(-1)}`);
}

/** A throw-away CA and a server certificate for bench.test, tunnel.test and 127.0.0.1. */
function makeCerts() {
  const dir = tempDir('personae-bench-ca-');
  const f = (n) => path.join(dir, n);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-noenc', '-days', '2'];
  openssl(['req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.pem'), '-subj', '/CN=personae bench CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign']);
  openssl([
    'req', '-x509', ...ec, '-keyout', f('srv.key'), '-out', f('srv.pem'), '-subj', '/CN=bench.test', '-CA', f('ca.pem'), '-CAkey', f('ca.key'),
    '-addext', 'subjectAltName=DNS:bench.test,DNS:tunnel.test,IP:127.0.0.1', '-addext', 'basicConstraints=critical,CA:FALSE', '-addext', 'extendedKeyUsage=serverAuth',
  ]);
  return { ca: f('ca.pem'), key: f('srv.key'), cert: f('srv.pem') };
}

/**
 * One HTTPS request; resolves with { ms, status, bytes }.
 * route: { port, connect?: 'host:port', auth?, servername, context, token? }
 */
export async function request(route, pathAndQuery) {
  const t0 = performance.now();
  const raw = await connectTo(route.port);
  let socket = raw;
  try {
    if (route.connect) await tunnel(raw, route.connect, route.auth);
    socket = tls.connect({ socket: raw, host: route.servername ?? '127.0.0.1', ...(route.servername ? { servername: route.servername } : {}), secureContext: route.context, ALPNProtocols: ['http/1.1'] });
    await new Promise((resolve, reject) => {
      socket.once('secureConnect', resolve);
      socket.once('error', reject);
    });
    const response = readResponse(socket);
    const auth = route.token ? `Authorization: Bearer ${route.token}\r\n` : '';
    socket.write(`GET ${pathAndQuery} HTTP/1.1\r\nHost: ${route.hostHeader}\r\n${auth}Connection: close\r\n\r\n`);
    const r = await response;
    if (r.status !== 200) throw new Error(`HTTP ${r.status}`);
    return { ms: performance.now() - t0, ...r };
  } finally {
    socket.destroy();
    raw.destroy();
  }
}

export async function benchTls({ requests = 200, downloads = 5, srt = true, log = () => undefined } = {}) {
  const result = { requests, downloadBytes: BIG, errors: [], notes: [] };
  const problem = (n, text) => (n.startsWith('srt') ? result.notes : result.errors).push(text);
  const certs = makeCerts();
  const hosts = [];
  try {
    const up = await startHost('upstream-tls', [certs.key, certs.cert, TOKEN]);
    hosts.push(up);
    const personae = await startHost('personae-tls', [up.port, certs.ca], { BENCH_TOKEN: TOKEN });
    hosts.push(personae);
    const relay = await startHost('tls-relay', [up.port, certs.ca]);
    hosts.push(relay);
    let srtHost;
    if (srt) {
      try {
        srtHost = await startHost('srt-tls', [up.port], { BENCH_TOKEN: TOKEN, NODE_EXTRA_CA_CERTS: certs.ca });
        hosts.push(srtHost);
        if (!srtHost.placeholder || !srtHost.bundle) throw new Error('srt gave no sentinel or CA bundle');
      } catch (e) {
        result.srtError = e.message;
        srtHost = undefined;
      }
    } else result.srtError = 'srt not available';
    const context = (file) => tls.createSecureContext({ ca: readFileSync(file, 'latin1') });
    const upstreamCa = context(certs.ca);
    const routes = {
      direct: { port: up.port, servername: 'bench.test', hostHeader: 'bench.test', context: upstreamCa, token: TOKEN },
      'personae tunnel': { port: personae.port, connect: 'tunnel.test:443', servername: 'tunnel.test', hostHeader: 'tunnel.test', context: upstreamCa, token: TOKEN },
      'personae terminated': { port: personae.port, connect: 'bench.test:443', servername: 'bench.test', hostHeader: 'bench.test', context: context(personae.bundle), token: personae.placeholder },
      'node TLS relay': { port: relay.port, connect: 'bench.test:443', servername: 'bench.test', hostHeader: 'bench.test', context: context(relay.bundle), token: TOKEN },
      ...(srtHost
        ? { 'srt terminated': { port: srtHost.port, connect: `127.0.0.1:${up.port}`, auth: srtHost.auth, hostHeader: `127.0.0.1:${up.port}`, context: context(srtHost.bundle), token: srtHost.placeholder } }
        : {}),
    };
    const names = Object.keys(routes);
    // Warm-up (JIT, the session CA's leaf, upstream keep-alive), not counted.
    for (let i = 0; i < 10; i++) {
      for (const n of names) {
        try {
          await request(routes[n], '/auth/small');
        } catch (e) {
          if (i === 9) problem(n, `${n} (warm-up): ${e.message}`);
        }
      }
    }
    const samples = Object.fromEntries(names.map((n) => [n, []]));
    for (let i = 0; i < requests; i++) {
      for (let k = 0; k < names.length; k++) {
        const n = names[(i + k) % names.length];
        try {
          samples[n].push((await request(routes[n], '/auth/small')).ms);
        } catch (e) {
          problem(n, `${n}: ${e.message}`);
        }
      }
    }
    result.small = Object.fromEntries(names.map((n) => [n, summary(samples[n])]));
    result.addedMs = result.small['personae terminated'].median - result.small['personae tunnel'].median;
    log(`  small HTTPS requests: ${names.map((n) => `${n} ${round(result.small[n].median, 2)} ms`).join(', ')}; terminated adds ${round(result.addedMs, 2)} ms`);

    const rates = Object.fromEntries(names.map((n) => [n, []]));
    for (let i = 0; i < downloads; i++) {
      for (const n of names) {
        try {
          const r = await request(routes[n], `/auth/big?bytes=${BIG}`);
          if (r.bytes !== BIG) throw new Error(`got ${r.bytes} bytes`);
          rates[n].push(BIG / 2 ** 20 / (r.ms / 1000));
        } catch (e) {
          problem(n, `download ${n}: ${e.message}`);
        }
      }
    }
    result.download = Object.fromEntries(names.map((n) => [n, { runs: rates[n].length, medianMiBps: summary(rates[n]).median, maxMiBps: summary(rates[n]).max }]));
    result.downloadRatio = result.download['personae terminated'].maxMiBps / result.download['personae tunnel'].maxMiBps;
    log(`  100 MiB HTTPS download: ${names.map((n) => `${n} ${round(result.download[n].maxMiBps, 0)} MiB/s`).join(', ')}; terminated / tunnel ${round(result.downloadRatio, 2)}`);
  } finally {
    for (const h of hosts.reverse()) await h.stop();
  }
  return result;
}
