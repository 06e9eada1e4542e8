// SOCKS5 (RFC 1928): no-auth only, CONNECT only. Domain names (ATYP 3) go
// through the rules; IPv4/IPv6 targets are parsed so they can be reported,
// then denied by the rules like any IP target.
import type { Socket } from 'node:net';
import { closeSoon, openTunnel, pipeTunnel } from './tunnel.js';
import type { TunnelContext } from './tunnel.js';

export const SOCKS_VERSION = 0x05;

export const SocksReply = {
  succeeded: 0x00,
  generalFailure: 0x01,
  notAllowed: 0x02,
  networkUnreachable: 0x03,
  hostUnreachable: 0x04,
  connectionRefused: 0x05,
  ttlExpired: 0x06,
  commandNotSupported: 0x07,
  addressTypeNotSupported: 0x08,
} as const;

export type Parsed<T> =
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'invalid'; readonly message: string; readonly reply: Buffer }
  | { readonly kind: 'ok'; readonly value: T; readonly consumed: number };

export interface SocksRequest {
  readonly command: number;
  readonly host: string;
  readonly port: number;
}

/** The largest handshake message: a request with a 255-byte name. */
export const MAX_SOCKS_MESSAGE = 4 + 1 + 255 + 2;

const INCOMPLETE = { kind: 'incomplete' } as const;
const NO_ACCEPTABLE_METHOD = Buffer.from([SOCKS_VERSION, 0xff]);

/** A reply with an all-zero IPv4 bound address (clients ignore it for CONNECT). */
export function socksReply(code: number): Buffer {
  return Buffer.from([SOCKS_VERSION, code, 0x00, 0x01, 0, 0, 0, 0, 0, 0]);
}

function invalid<T>(message: string, reply: Buffer): Parsed<T> {
  return { kind: 'invalid', message, reply };
}

/** Parses the method-selection message; `methods` are the offered auth methods. */
export function parseGreeting(buf: Buffer): Parsed<{ readonly methods: readonly number[] }> {
  if (buf.length < 1) return INCOMPLETE;
  if (buf[0] !== SOCKS_VERSION) return invalid('not SOCKS5', NO_ACCEPTABLE_METHOD);
  if (buf.length < 2) return INCOMPLETE;
  const count = buf[1] ?? 0;
  if (count === 0) return invalid('no authentication methods offered', NO_ACCEPTABLE_METHOD);
  if (buf.length < 2 + count) return INCOMPLETE;
  return { kind: 'ok', value: { methods: [...buf.subarray(2, 2 + count)] }, consumed: 2 + count };
}

function ipv6Text(bytes: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  return groups.join(':');
}

/** Parses a request; the address is rendered as text (IPv4 dotted, IPv6 full, names as latin1). */
export function parseRequest(buf: Buffer): Parsed<SocksRequest> {
  if (buf.length < 4) return INCOMPLETE;
  if (buf[0] !== SOCKS_VERSION || buf[2] !== 0x00) return invalid('malformed SOCKS5 request', socksReply(SocksReply.generalFailure));
  const command = buf[1] ?? 0;
  let host: string;
  let offset: number;
  switch (buf[3]) {
    case 0x01:
      if (buf.length < 10) return INCOMPLETE;
      host = [...buf.subarray(4, 8)].join('.');
      offset = 8;
      break;
    case 0x03: {
      if (buf.length < 5) return INCOMPLETE;
      const length = buf[4] ?? 0;
      if (length === 0) return invalid('empty domain name', socksReply(SocksReply.generalFailure));
      if (buf.length < 5 + length + 2) return INCOMPLETE;
      host = buf.subarray(5, 5 + length).toString('latin1');
      offset = 5 + length;
      break;
    }
    case 0x04:
      if (buf.length < 22) return INCOMPLETE;
      host = ipv6Text(buf.subarray(4, 20));
      offset = 20;
      break;
    default:
      return invalid('unsupported address type', socksReply(SocksReply.addressTypeNotSupported));
  }
  return { kind: 'ok', value: { command, host, port: buf.readUInt16BE(offset) }, consumed: offset + 2 };
}

/** Maps a connect/resolve error code to a SOCKS5 reply code. */
export function replyForError(code: string): number {
  switch (code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
    case 'EAI_NODATA':
    case 'EHOSTUNREACH':
      return SocksReply.hostUnreachable;
    case 'ECONNREFUSED':
      return SocksReply.connectionRefused;
    case 'ENETUNREACH':
      return SocksReply.networkUnreachable;
    case 'ETIMEDOUT':
      return SocksReply.ttlExpired;
    default:
      return SocksReply.generalFailure;
  }
}

async function connectAndPipe(ctx: TunnelContext, client: Socket, request: SocksRequest, rest: Buffer): Promise<void> {
  const outcome = await openTunnel(ctx, 'socks5', request.host, request.port);
  if (client.destroyed) {
    if (outcome.kind === 'connected') outcome.upstream.destroy();
    return;
  }
  if (outcome.kind === 'denied') {
    closeSoon(client, socksReply(SocksReply.notAllowed));
    return;
  }
  if (outcome.kind === 'failed') {
    closeSoon(client, socksReply(replyForError(outcome.error)));
    return;
  }
  client.write(socksReply(SocksReply.succeeded));
  if (outcome.kind === 'intercept') {
    ctx.intercept?.serveTunnel(client, rest, outcome.target);
    return;
  }
  if (rest.length > 0) outcome.upstream.write(rest);
  pipeTunnel(client, outcome.upstream, ctx.idleTimeoutMs);
}

/** Serves one SOCKS5 client whose first bytes (`initial`) have already been read. */
export function serveSocks5(ctx: TunnelContext, client: Socket, initial: Buffer): void {
  let buffer = initial;
  let stage: 'greeting' | 'request' = 'greeting';
  const endedEarly = (): void => {
    client.destroy();
  };
  const reject = (message: string, reply: Buffer): void => {
    client.removeListener('data', onData);
    client.removeListener('end', endedEarly);
    ctx.malformed('socks5', message);
    closeSoon(client, reply);
  };
  const step = (): void => {
    if (stage === 'greeting') {
      const greeting = parseGreeting(buffer);
      if (greeting.kind === 'incomplete') return;
      if (greeting.kind === 'invalid') return reject(greeting.message, greeting.reply);
      if (!greeting.value.methods.includes(0x00)) return reject('no acceptable authentication method', NO_ACCEPTABLE_METHOD);
      client.write(Buffer.from([SOCKS_VERSION, 0x00]));
      buffer = buffer.subarray(greeting.consumed);
      stage = 'request';
    }
    const request = parseRequest(buffer);
    if (request.kind === 'incomplete') return;
    if (request.kind === 'invalid') return reject(request.message, request.reply);
    if (request.value.command !== 0x01) return reject('only CONNECT is supported', socksReply(SocksReply.commandNotSupported));
    client.removeListener('data', onData);
    client.removeListener('end', endedEarly);
    client.pause();
    connectAndPipe(ctx, client, request.value, buffer.subarray(request.consumed)).catch(() => client.destroy());
  };
  function onData(chunk: Buffer): void {
    buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
    if (buffer.length > MAX_SOCKS_MESSAGE * 2) return reject('SOCKS5 handshake too long', socksReply(SocksReply.generalFailure));
    step();
  }
  client.on('data', onData);
  client.once('end', endedEarly);
  client.resume();
  step();
}
