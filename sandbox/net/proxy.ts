// The egress proxy: one listening socket (a unix socket bridged into the
// sandbox, or 127.0.0.1:port for benchmarks) serving SOCKS5, HTTP CONNECT and
// plain HTTP forwarding, told apart by the first byte. Every attempt is
// decided by the persona's network rules and reported exactly once.
import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import type { Server as HttpServer } from 'node:http';
import type { CompiledNetworkRules } from './domain-rules.js';
import type { NetAttempt, NetProtocol } from './gate.js';
import { normalizeHostMap } from './host-map.js';
import type { HostMap } from './host-map.js';
import { createHttpFrontend, rawResponse } from './http-proxy.js';
import { systemLookup } from './resolve.js';
import type { LookupFn } from './resolve.js';
import { SOCKS_VERSION, serveSocks5 } from './socks5.js';
import { closeSoon } from './tunnel.js';
import type { TunnelContext } from './tunnel.js';
import type { Interceptor } from './terminate.js';

export type { NetAttempt, NetProtocol } from './gate.js';
export { parseHostMap } from './host-map.js';
export type { HostMap, HostMapTarget } from './host-map.js';
export type { LookupFn, ResolvedAddress } from './resolve.js';

export interface EgressProxyOptions {
  readonly rules: CompiledNetworkRules;
  /** Unix socket to listen on (a stale socket file there is removed first). */
  readonly socketPath?: string;
  /** Alternative to socketPath: a TCP port on 127.0.0.1 (0 = any free port). */
  readonly listen?: { readonly port: number };
  /** Explicit overrides: a mapped domain (still subject to the rules) connects here instead of DNS. */
  readonly hostMap?: HostMap;
  /** Resolver for domains (default: the OS resolver, all addresses). */
  readonly lookup?: LookupFn;
  /** Called exactly once per attempt, allowed or denied. Must not throw (errors are swallowed). */
  readonly onEvent: (attempt: NetAttempt) => void;
  /** Tunnels and idle keep-alive connections are closed after this much silence (default 5 min). */
  readonly idleTimeoutMs?: number;
  /** A client must finish its handshake (first bytes, SOCKS negotiation) within this (default 15 s). */
  readonly handshakeTimeoutMs?: number;
  /** Upstream connect timeout (default 10 s). */
  readonly connectTimeoutMs?: number;
  /** Makes the TLS terminator (sandbox/net/terminate.ts) for a session with bound credentials or HTTP rules. */
  readonly intercept?: (base: { readonly rules: CompiledNetworkRules; readonly track: (socket: Socket) => void; readonly idleTimeoutMs: number }) => Interceptor;
}

export interface EgressProxyStats {
  /** Client connections accepted so far. */
  readonly connections: number;
  /** Client connections open now. */
  readonly active: number;
  readonly allowed: number;
  readonly denied: number;
  /** Allowed attempts that still failed (DNS, connect). */
  readonly failed: number;
  /** Malformed requests answered with an error. */
  readonly malformed: number;
}

export type ProxyEndpoint = { readonly kind: 'unix'; readonly path: string } | { readonly kind: 'tcp'; readonly host: string; readonly port: number };

export interface EgressProxy {
  readonly endpoint: ProxyEndpoint;
  /** Closes the listener and every live connection. */
  close(): Promise<void>;
  stats(): EgressProxyStats;
}

interface Counters {
  connections: number;
  allowed: number;
  denied: number;
  failed: number;
  malformed: number;
}

/** True for bytes that can start an HTTP method token. */
function startsHttp(byte: number): boolean {
  return (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a);
}

/** True when something accepts connections on the unix socket at `path`. */
function socketInUse(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

async function removeStaleSocket(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  if (!isSocket) throw new Error(`${path} exists and is not a socket; refusing to replace it`);
  if (await socketInUse(path)) throw new Error(`${path} is in use by a running proxy`);
  unlinkSync(path);
}

function listenOn(server: Server, options: EgressProxyOptions): Promise<ProxyEndpoint> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const done = (): void => {
      server.removeListener('error', reject);
      const address = server.address();
      if (options.socketPath !== undefined) resolve({ kind: 'unix', path: options.socketPath });
      else if (address && typeof address === 'object') resolve({ kind: 'tcp', host: address.address, port: address.port });
      else reject(new Error('proxy listener has no address'));
    };
    if (options.socketPath !== undefined) server.listen(options.socketPath, done);
    else server.listen(options.listen?.port ?? 0, '127.0.0.1', done);
  });
}

interface Registry {
  readonly counters: Counters;
  /** Every socket (clients and upstreams), destroyed on close. */
  readonly sockets: Set<Socket>;
  /** Accepted client connections. */
  readonly clients: Set<Socket>;
}

function makeContext(options: EgressProxyOptions, registry: Registry): TunnelContext {
  const { counters, sockets } = registry;
  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };
  const idleTimeoutMs = options.idleTimeoutMs ?? 300_000;
  return {
    ...(options.intercept ? { intercept: options.intercept({ rules: options.rules, track, idleTimeoutMs }) } : {}),
    rules: options.rules,
    hostMap: normalizeHostMap(options.hostMap),
    lookup: options.lookup ?? systemLookup,
    report: (attempt: NetAttempt) => {
      if (attempt.decision === 'deny') counters.denied += 1;
      else if (attempt.error !== undefined) counters.failed += 1;
      else counters.allowed += 1;
      try {
        options.onEvent(attempt);
      } catch {
        // A failing consumer must not take the proxy down.
      }
    },
    track,
    malformed: (_protocol: NetProtocol, _message: string) => {
      counters.malformed += 1;
    },
    connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
    idleTimeoutMs,
  };
}

/** Routes a client by its first byte: SOCKS5, HTTP (to Node's parser), or an error. */
function dispatch(ctx: TunnelContext, http: () => HttpServer, socket: Socket, first: Buffer): void {
  const byte = first[0] ?? 0;
  if (byte === SOCKS_VERSION) {
    serveSocks5(ctx, socket, first);
  } else if (startsHttp(byte)) {
    socket.setTimeout(ctx.idleTimeoutMs);
    socket.unshift(first);
    http().emit('connection', socket);
    socket.resume();
  } else {
    ctx.malformed('http', 'neither SOCKS5 nor HTTP');
    closeSoon(socket, rawResponse(400, 'personae proxy: expected SOCKS5 or HTTP'));
  }
}

/** Sets up one accepted client: bookkeeping, handshake timeout, then dispatch on its first bytes. */
function accept(ctx: TunnelContext, http: () => HttpServer, registry: Registry, socket: Socket, handshakeTimeoutMs: number): void {
  registry.counters.connections += 1;
  ctx.track(socket);
  registry.clients.add(socket);
  socket.once('close', () => registry.clients.delete(socket));
  socket.on('error', () => socket.destroy());
  socket.setNoDelay(true);
  socket.setTimeout(handshakeTimeoutMs);
  socket.on('timeout', () => socket.destroy());
  const endedEarly = (): void => {
    socket.destroy();
  };
  socket.once('end', endedEarly);
  socket.once('data', (first: Buffer) => {
    socket.removeListener('end', endedEarly);
    socket.pause();
    dispatch(ctx, http, socket, first);
  });
}

/** Starts the egress proxy; resolves once it is listening. */
export async function startEgressProxy(options: EgressProxyOptions): Promise<EgressProxy> {
  if ((options.socketPath === undefined) === (options.listen === undefined)) {
    throw new Error('egress proxy: give exactly one of socketPath or listen');
  }
  const registry: Registry = {
    counters: { connections: 0, allowed: 0, denied: 0, failed: 0, malformed: 0 },
    sockets: new Set(),
    clients: new Set(),
  };
  const ctx = makeContext(options, registry);
  // Made for the first connection sniffed as HTTP (node:http loads then).
  let frontend: HttpServer | undefined;
  const http = (): HttpServer => (frontend ??= createHttpFrontend(ctx));
  const handshakeTimeoutMs = options.handshakeTimeoutMs ?? 15_000;
  const server = createServer({ allowHalfOpen: true }, (socket) => accept(ctx, http, registry, socket, handshakeTimeoutMs));
  server.on('error', () => undefined);

  if (options.socketPath !== undefined) await removeStaleSocket(options.socketPath);
  const endpoint = await listenOn(server, options);
  if (endpoint.kind === 'unix') chmodSync(endpoint.path, 0o600);

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      ctx.intercept?.close();
      server.close(() => resolve());
      for (const socket of registry.sockets) socket.destroy();
      registry.sockets.clear();
      registry.clients.clear();
    });
    return closing;
  };
  const stats = (): EgressProxyStats => ({ ...registry.counters, active: registry.clients.size });
  return { endpoint, close, stats };
}
