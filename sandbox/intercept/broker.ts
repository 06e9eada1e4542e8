// The hook broker: a unix socket outside the sandbox (bridged in on
// 127.0.0.1:3129). Hook calls speak a one-line protocol:
//   request:  "PERSONAE-HOOK <event> <bytes>\n" + payload
//   reply:    "<0|2> <body>\n"
// HTTP on the same socket is the OTLP receiver (Claude Code's telemetry).
// Bad input of any kind is answered with a deny and recorded; the broker
// keeps serving.
import { chmodSync, rmSync } from 'node:fs';
import type * as Http from 'node:http';
import type { Server } from 'node:http';
import net from 'node:net';
import type { HookReply } from './hook-handler.js';
import { lazyRequire } from '../lazy-require.js';

const http = lazyRequire<typeof Http>('node:http');

export const MAX_HOOK_PAYLOAD = 1024 * 1024;
const MAX_HEADER = 256;
const HEADER_RE = /^PERSONAE-HOOK ([A-Za-z]{1,64}) (\d{1,9})$/;

export interface BrokerHandlers {
  hook(event: string, payload: string): Promise<HookReply>;
  /** A bad request: record it; the reply is a deny. */
  rejected(reason: string, detail: Record<string, unknown>): void;
  /** OTLP/HTTP JSON export (path like /v1/logs). */
  otlp?(path: string, body: string): void;
}

export interface Broker {
  readonly socketPath: string;
  stats(): { calls: number; rejected: number };
  close(): Promise<void>;
}

function reply(sock: net.Socket, r: HookReply): void {
  if (sock.destroyed) return;
  sock.end(`${r.code} ${r.body.replace(/[\r\n]+/g, ' ')}\n`);
}

export async function startBroker(socketPath: string, handlers: BrokerHandlers): Promise<Broker> {
  rmSync(socketPath, { force: true });
  let calls = 0;
  let rejected = 0;
  const deny = (sock: net.Socket, reason: string, detail: Record<string, unknown> = {}): void => {
    rejected += 1;
    try {
      handlers.rejected(reason, detail);
    } catch {
      // recording must never take the broker down
    }
    reply(sock, { code: 2, body: `personae denied this call: ${reason}` });
  };

  // Telemetry (OTLP over HTTP) from the agents that send it: made for the first such connection.
  let otlpServer: Server | undefined;
  const otlp = (): Server => {
    if (otlpServer) return otlpServer;
    const server = http().createServer({ maxHeaderSize: 16 * 1024 }, (req, res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > 8 * MAX_HOOK_PAYLOAD) req.destroy();
        else chunks.push(c);
      });
      req.on('end', () => {
        try {
          handlers.otlp?.(req.url ?? '/', Buffer.concat(chunks).toString('utf8'));
        } catch {
          // telemetry is a cross-check; a bad export is ignored
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
      req.on('error', () => res.destroy());
    });
    server.on('clientError', (_e, s) => s.destroy());
    return (otlpServer = server);
  };

  const server = net.createServer((sock) => {
    sock.on('error', () => undefined);
    sock.setTimeout(30_000, () => sock.destroy());
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const nl = head.indexOf(10);
      if (nl === -1) {
        if (head.length > MAX_HEADER) {
          sock.off('data', onData);
          deny(sock, 'malformed request (no header line)', { bytes: head.length });
        }
        return;
      }
      sock.off('data', onData);
      const line = head.subarray(0, nl).toString('latin1');
      if (/^(POST|GET|PUT) \//.test(line)) {
        sock.pause();
        sock.unshift(head);
        otlp().emit('connection', sock);
        sock.resume();
        return;
      }
      const m = HEADER_RE.exec(line);
      if (!m) {
        deny(sock, 'malformed request header', { header: line.slice(0, 120) });
        return;
      }
      const event = m[1] ?? '';
      const length = Number(m[2]);
      if (length > MAX_HOOK_PAYLOAD) {
        deny(sock, `hook payload too large (${length} bytes; at most ${MAX_HOOK_PAYLOAD})`, { event, bytes: length });
        return;
      }
      let body = head.subarray(nl + 1);
      const finish = (): void => {
        calls += 1;
        const text = body.subarray(0, length);
        const decoded = new TextDecoder('utf-8', { fatal: true });
        let payload: string;
        try {
          payload = decoded.decode(text);
        } catch {
          deny(sock, 'hook payload is not valid UTF-8', { event, bytes: length });
          return;
        }
        handlers.hook(event, payload).then(
          (r) => reply(sock, r),
          (e: unknown) => deny(sock, `broker error: ${e instanceof Error ? e.message : String(e)}`, { event }),
        );
      };
      if (body.length >= length) {
        finish();
        return;
      }
      const more = (c: Buffer): void => {
        body = Buffer.concat([body, c]);
        if (body.length >= length) {
          sock.off('data', more);
          finish();
        }
      };
      sock.on('data', more);
      sock.on('end', () => {
        if (body.length < length) deny(sock, 'hook payload shorter than announced', { event, bytes: body.length, announced: length });
      });
    };
    sock.on('data', onData);
  });
  server.maxConnections = 512;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  chmodSync(socketPath, 0o600);
  return {
    socketPath,
    stats: () => ({ calls, rejected }),
    close: () =>
      new Promise<void>((resolve) => {
        otlpServer?.close();
        server.close(() => resolve());
        rmSync(socketPath, { force: true });
      }),
  };
}
