// The HTTP side of the proxy: `CONNECT host:port` tunnels and plain
// absolute-URI forwarding. Node's HTTP parser does the framing (bounded
// header size, keep-alive); the proxy never listens with it, it is handed
// sockets that were sniffed as HTTP.
import type * as Http from 'node:http';
import type { ClientRequest, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { passGate } from './gate.js';
import { endToEndHeaders, parseAbsoluteTarget, parseAuthority, upstreamRequestHeaders } from './http-target.js';
import { errorCode } from './resolve.js';
import { closeSoon, connectUpstream, openTunnel, pipeTunnel } from './tunnel.js';
import { lazyRequire } from '../lazy-require.js';

const http = lazyRequire<typeof Http>('node:http');
import type { TunnelContext } from './tunnel.js';

export const MAX_HEADER_BYTES = 64 * 1024;

const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  403: 'Forbidden',
  431: 'Request Header Fields Too Large',
  502: 'Bad Gateway',
  504: 'Gateway Timeout',
};

function statusForError(code: string): number {
  return code === 'ETIMEDOUT' ? 504 : 502;
}

/** A complete short plain-text response, for sockets no longer owned by the HTTP parser. */
export function rawResponse(status: number, message: string): string {
  const body = `${message}\n`;
  return (
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\n` +
    `Content-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
    `Connection: close\r\n\r\n${body}`
  );
}

function respond(res: ServerResponse, status: number, message: string): void {
  if (res.destroyed) return;
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = `${message}\n`;
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

async function handleConnect(ctx: TunnelContext, req: IncomingMessage, client: Socket, head: Buffer): Promise<void> {
  const authority = parseAuthority(req.url ?? '');
  if (typeof authority === 'string') {
    ctx.malformed('connect', authority);
    closeSoon(client, rawResponse(400, `personae proxy: bad CONNECT target: ${authority}`));
    return;
  }
  client.pause();
  const outcome = await openTunnel(ctx, 'connect', authority.host, authority.port);
  if (client.destroyed) {
    if (outcome.kind === 'connected') outcome.upstream.destroy();
    return;
  }
  const target = `${outcome.host}:${authority.port}`;
  if (outcome.kind === 'intercept') {
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    ctx.intercept?.serveTunnel(client, head, outcome.target);
  } else if (outcome.kind === 'denied') {
    closeSoon(client, rawResponse(403, `personae proxy: blocked ${target}: ${outcome.reason}`));
  } else if (outcome.kind === 'failed') {
    closeSoon(client, rawResponse(statusForError(outcome.error), `personae proxy: cannot reach ${target}: ${outcome.error}`));
  } else {
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length > 0) outcome.upstream.write(head);
    pipeTunnel(client, outcome.upstream, ctx.idleTimeoutMs);
  }
}

async function forward(ctx: TunnelContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const target = parseAbsoluteTarget(req.url ?? '');
  if (typeof target === 'string') {
    ctx.malformed('http', target);
    respond(res, 400, `personae proxy: ${target}`);
    return;
  }
  const gate = await passGate(ctx, 'http', target.host, target.port);
  const label = `${gate.host}:${target.port}`;
  if (gate.kind === 'denied') return respond(res, 403, `personae proxy: blocked ${label}: ${gate.reason}`);
  if (gate.kind === 'failed') return respond(res, statusForError(gate.error), `personae proxy: cannot reach ${label}: ${gate.error}`);
  if (ctx.intercept?.inspectsPlain(gate.host, target.port)) {
    gate.finish();
    ctx.intercept.forwardPlain(req, res, { host: gate.host, port: target.port, address: gate.address, upstreamPort: gate.port, authority: target.authority });
    return;
  }
  let upstream: Socket;
  try {
    upstream = await connectUpstream(gate.address, gate.port, ctx.connectTimeoutMs, ctx.track);
  } catch (error) {
    const code = errorCode(error);
    gate.finish(code);
    return respond(res, statusForError(code), `personae proxy: cannot reach ${label}: ${code}`);
  }
  gate.finish();
  if (res.destroyed) {
    upstream.destroy();
    return;
  }
  relay(ctx, req, res, upstream, target.path, upstreamRequestHeaders(req.rawHeaders, target.authority));
}

function relay(ctx: TunnelContext, req: IncomingMessage, res: ServerResponse, upstream: Socket, path: string, headers: string[]): void {
  let outgoing: ClientRequest;
  try {
    outgoing = http().request({ method: req.method, path, headers, setHost: false, createConnection: () => upstream });
  } catch (error) {
    upstream.destroy();
    ctx.malformed('http', errorCode(error));
    respond(res, 400, `personae proxy: cannot forward this request: ${errorCode(error)}`);
    return;
  }
  outgoing.setTimeout(ctx.idleTimeoutMs, () => outgoing.destroy(new Error('ETIMEDOUT')));
  outgoing.on('response', (incoming) => {
    try {
      res.writeHead(incoming.statusCode ?? 502, incoming.statusMessage, endToEndHeaders(incoming.rawHeaders));
    } catch {
      incoming.destroy();
      respond(res, 502, 'personae proxy: upstream sent an unusable response head');
      return;
    }
    incoming.pipe(res);
    incoming.on('error', () => res.destroy());
  });
  outgoing.on('error', (error) => respond(res, statusForError(errorCode(error)), `personae proxy: upstream failed: ${errorCode(error)}`));
  res.on('close', () => {
    if (!res.writableFinished) outgoing.destroy();
    upstream.destroy();
  });
  req.pipe(outgoing);
}

/** An HTTP parser front end (never listening) for sockets sniffed as HTTP. */
export function createHttpFrontend(ctx: TunnelContext): Server {
  const server = http().createServer({ maxHeaderSize: MAX_HEADER_BYTES, requireHostHeader: false, keepAliveTimeout: 5_000 });
  server.timeout = ctx.idleTimeoutMs;
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    forward(ctx, req, res).catch(() => res.destroy());
  });
  server.on('connect', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const client = socket as Socket;
    handleConnect(ctx, req, client, head).catch(() => client.destroy());
  });
  server.on('clientError', (error: Error & { code?: string }, socket: Duplex) => {
    if (error.code === 'ECONNRESET' || error.code === 'EPIPE') {
      socket.destroy();
      return;
    }
    const tooBig = error.code === 'HPE_HEADER_OVERFLOW';
    ctx.malformed('http', error.code ?? error.message);
    closeSoon(socket as Socket, rawResponse(tooBig ? 431 : 400, `personae proxy: malformed request (${error.code ?? 'error'})`));
  });
  return server;
}
