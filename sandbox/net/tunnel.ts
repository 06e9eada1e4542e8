// Raw byte tunnels (CONNECT and SOCKS5): connect to the checked address,
// then pipe both ways with no per-chunk work in JS beyond the stream pipe.
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { passGate } from './gate.js';
import { errorCode } from './resolve.js';
import type { GateContext, NetProtocol } from './gate.js';
import type { Interceptor, TunnelTarget } from './terminate.js';

export interface TunnelContext extends GateContext {
  /** TLS termination and request inspection, when the session has bound credentials or HTTP rules. */
  readonly intercept?: Interceptor;
  readonly connectTimeoutMs: number;
  readonly idleTimeoutMs: number;
  /** Registers a socket so that closing the proxy destroys it. */
  readonly track: (socket: Socket) => void;
  /** Notes malformed input (for stats); the caller answers and closes. */
  readonly malformed: (protocol: NetProtocol, message: string) => void;
}

export type TunnelOutcome =
  | { readonly kind: 'denied'; readonly host: string; readonly reason: string }
  | { readonly kind: 'failed'; readonly host: string; readonly error: string }
  | { readonly kind: 'connected'; readonly host: string; readonly upstream: Socket }
  | { readonly kind: 'intercept'; readonly host: string; readonly target: TunnelTarget };

/** How long a half-closed tunnel may linger after the other side has gone. */
const LINGER_MS = 5_000;

/** Connects to an exact address; rejects with an error code string (ECONNREFUSED, ETIMEDOUT, ...). */
export function connectUpstream(address: string, port: number, timeoutMs: number, track: (s: Socket) => void): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: address, port, allowHalfOpen: true, noDelay: true });
    track(socket);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('ETIMEDOUT'));
    }, timeoutMs);
    const fail = (error: unknown): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(new Error(errorCode(error)));
    };
    const aborted = (): void => fail(new Error('ECONNABORTED'));
    socket.once('error', fail);
    socket.once('close', aborted);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeListener('error', fail);
      socket.removeListener('close', aborted);
      resolve(socket);
    });
  });
}

/** Gate + connect for tunnel protocols; the attempt is reported exactly once. */
export async function openTunnel(ctx: TunnelContext, protocol: NetProtocol, rawHost: string, port: number): Promise<TunnelOutcome> {
  const gate = await passGate(ctx, protocol, rawHost, port);
  if (gate.kind !== 'open') return gate;
  if (ctx.intercept?.terminates(gate.host, port)) {
    // Each request inside is sent (and its failures reported) on its own.
    gate.finish();
    return { kind: 'intercept', host: gate.host, target: { host: gate.host, port, address: gate.address, upstreamPort: gate.port } };
  }
  try {
    const upstream = await connectUpstream(gate.address, gate.port, ctx.connectTimeoutMs, ctx.track);
    gate.finish();
    return { kind: 'connected', host: gate.host, upstream };
  } catch (error) {
    const code = errorCode(error);
    gate.finish(code);
    return { kind: 'failed', host: gate.host, error: code };
  }
}

/** Ends a socket (after writing `data`) and destroys it shortly after, whatever the peer does. */
export function closeSoon(socket: Socket, data?: string | Buffer): void {
  if (socket.destroyed) return;
  if (!socket.writable) socket.destroy();
  else if (data === undefined) socket.end();
  else socket.end(data);
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
}

/** Pipes two connected sockets into each other until both are done; errors and idleness end both. */
export function pipeTunnel(client: Socket, upstream: Socket, idleTimeoutMs: number): void {
  const destroyBoth = (): void => {
    client.destroy();
    upstream.destroy();
  };
  const linger = (other: Socket): void => closeSoon(other);
  for (const socket of [client, upstream]) {
    socket.setTimeout(idleTimeoutMs);
    socket.on('timeout', destroyBoth);
    socket.on('error', destroyBoth);
  }
  client.on('close', () => linger(upstream));
  upstream.on('close', () => linger(client));
  client.pipe(upstream);
  upstream.pipe(client);
}
