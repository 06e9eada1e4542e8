// Proxy: 200 small requests (latency) and one 100 MB download (throughput)
// through personae's egress proxy, srt's proxy, and direct, all on loopback.
// Each server runs in its own process (hosts.js); this process only measures.
// Every request opens a fresh TCP connection, as a CLI tool would:
//   direct   GET /small straight to the upstream server
//   forward  GET http://host/small to the proxy (plain-HTTP proxying)
//   connect  CONNECT host:port, then GET /small inside the tunnel (what HTTPS clients do)
// The 100 MB download goes through a CONNECT tunnel (direct: no tunnel),
// several times interleaved; the best run is the route's capacity, the most
// stable figure on a busy machine (the median is reported too).
import net from 'node:net';
import { round, startHost, summary } from './lib.js';

const BIG = 100 * 2 ** 20;

/** Reads one HTTP/1.1 response (Connection: close) from `socket`; resolves with status and body length. */
export function readResponse(socket, leftover) {
  return new Promise((resolve, reject) => {
    let head = leftover ?? Buffer.alloc(0);
    let headerDone = false;
    let status = 0;
    let length = -1;
    let body = 0;
    const onData = (d) => {
      if (headerDone) {
        body += d.length;
        return;
      }
      head = Buffer.concat([head, d]);
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) return;
      headerDone = true;
      const text = head.subarray(0, end).toString('latin1');
      status = Number(text.split(' ')[1]);
      const m = /\r\ncontent-length:\s*(\d+)/i.exec(text);
      length = m ? Number(m[1]) : -1;
      body += head.length - end - 4;
      head = Buffer.alloc(0);
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.once('close', () => {
      socket.off('data', onData);
      if (!headerDone) reject(new Error('connection closed before a response'));
      else if (length >= 0 && body !== length) reject(new Error(`short body: ${body} of ${length} bytes`));
      else resolve({ status, bytes: body });
    });
    if (head.length > 0) onData(Buffer.alloc(0));
  });
}

export function connectTo(port) {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1', noDelay: true });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** Sends CONNECT and waits for its 200; resolves with whatever tunnel bytes came after the header. */
export function tunnel(socket, target, auth) {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const onData = (d) => {
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (end === -1) return;
      socket.off('data', onData);
      socket.off('error', reject);
      const line = buf.subarray(0, buf.indexOf('\r\n')).toString('latin1');
      if (!/^HTTP\/1\.[01] 200/.test(line)) reject(new Error(`CONNECT refused: ${line}`));
      else resolve(buf.subarray(end + 4));
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n${auth ? `Proxy-Authorization: Basic ${auth}\r\n` : ''}\r\n`);
  });
}

/**
 * One request; resolves with { ms, status, bytes }.
 * route: { kind: 'direct', port } | { kind: 'forward'|'connect', port, host, connectPort, upstreamPort, auth }
 */
export async function request(route, pathAndQuery) {
  const t0 = performance.now();
  const socket = await connectTo(route.port);
  try {
    let leftover;
    let req;
    if (route.kind === 'forward') {
      const authority = route.host === '127.0.0.1' ? `127.0.0.1:${route.upstreamPort}` : route.host;
      req = `GET http://${authority}${pathAndQuery} HTTP/1.1\r\nHost: ${authority}\r\n${route.auth ? `Proxy-Authorization: Basic ${route.auth}\r\n` : ''}Connection: close\r\n\r\n`;
    } else {
      if (route.kind === 'connect') leftover = await tunnel(socket, `${route.host}:${route.connectPort}`, route.auth);
      req = `GET ${pathAndQuery} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n`;
    }
    const response = readResponse(socket, leftover);
    socket.write(req);
    const r = await response;
    if (r.status !== 200) throw new Error(`HTTP ${r.status}`);
    return { ms: performance.now() - t0, ...r };
  } finally {
    socket.destroy();
  }
}

export async function benchProxy({ requests = 200, downloads = 5, srt = true, log = () => undefined } = {}) {
  const up = await startHost('upstream');
  const hosts = [up];
  const result = { requests, downloadBytes: BIG, errors: [], notes: [] };
  // personae's (and direct) failures fail the bench; srt's are recorded as notes.
  const problem = (n, text) => (n.startsWith('srt') ? result.notes : result.errors).push(text);
  try {
    const personae = await startHost('personae', up.port);
    hosts.push(personae);
    let srtHost;
    if (srt) {
      try {
        srtHost = await startHost('srt', up.port);
        hosts.push(srtHost);
      } catch (e) {
        result.srtError = e.message;
      }
    } else result.srtError = 'srt not available';
    const proxyRoute = (h, kind) => ({ kind, port: h.port, host: h.host, connectPort: h.connectPort, upstreamPort: up.port, auth: h.auth });
    const routes = {
      direct: { kind: 'direct', port: up.port },
      'personae forward': proxyRoute(personae, 'forward'),
      'personae connect': proxyRoute(personae, 'connect'),
      ...(srtHost ? { 'srt forward': proxyRoute(srtHost, 'forward'), 'srt connect': proxyRoute(srtHost, 'connect') } : {}),
    };
    const names = Object.keys(routes);
    // Warm-up (JIT, first connections), not counted.
    for (let i = 0; i < 10; i++) for (const n of names) await request(routes[n], '/small');
    const samples = Object.fromEntries(names.map((n) => [n, []]));
    for (let i = 0; i < requests; i++) {
      // Interleaved, rotating the order so no route always goes first.
      for (let k = 0; k < names.length; k++) {
        const n = names[(i + k) % names.length];
        try {
          samples[n].push((await request(routes[n], '/small')).ms);
        } catch (e) {
          problem(n, `${n}: ${e.message}`);
        }
      }
    }
    result.small = Object.fromEntries(names.map((n) => [n, summary(samples[n])]));
    log(`  small requests: ${names.map((n) => `${n} ${round(result.small[n].median, 2)} ms`).join(', ')}`);

    const bigRoutes = { direct: routes.direct, personae: routes['personae connect'], ...(srtHost ? { srt: routes['srt connect'] } : {}) };
    const rates = Object.fromEntries(Object.keys(bigRoutes).map((n) => [n, []]));
    for (let i = 0; i < downloads; i++) {
      for (const n of Object.keys(bigRoutes)) {
        try {
          const r = await request(bigRoutes[n], `/big?bytes=${BIG}`);
          if (r.bytes !== BIG) throw new Error(`got ${r.bytes} bytes`);
          rates[n].push(BIG / 2 ** 20 / (r.ms / 1000));
        } catch (e) {
          problem(n, `download ${n}: ${e.message}`);
        }
      }
    }
    result.download = Object.fromEntries(Object.keys(rates).map((n) => [n, { runs: rates[n].length, medianMiBps: summary(rates[n]).median, maxMiBps: summary(rates[n]).max }]));
    log(`  100 MiB download: ${Object.keys(rates).map((n) => `${n} ${round(result.download[n].medianMiBps, 0)} MiB/s`).join(', ')}`);
  } finally {
    for (const h of hosts.reverse()) await h.stop();
  }
  return result;
}
