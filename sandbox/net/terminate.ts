// TLS termination for the hosts a persona binds a credential to or names in
// an HTTP rule (every other host keeps its plain, uninspected tunnel). The
// proxy answers the tunnel's TLS with a certificate from the session CA for
// the tunnel's host (the one the rules allowed, whatever the client's SNI or
// Host header says), reads HTTP/1.1 requests from it, and sends each on over
// its own TLS connection to that host, verified against the system's CAs
// (plus PERSONAE_UPSTREAM_CA). Upstream connections are kept alive and shared
// per host. Plain HTTP to those hosts goes through the same request pipeline.
import type * as Http from 'node:http';
import type * as Https from 'node:https';
import type { Agent as HttpsAgent } from 'node:https';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { connect as netConnect } from 'node:net';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import * as Tls from 'node:tls';
import type { SecureContext } from 'node:tls';
import { lazyRequire } from '../lazy-require.js';
import { boundTo } from './credentials.js';
import type { Binding } from './credentials.js';
import type { CompiledNetworkRules } from './domain-rules.js';
import { hasHttpRules } from './http-policy.js';
import { handleRequest } from './intercept-request.js';
import type { CredentialRecord, HttpRequestRecord, RequestTarget } from './intercept-request.js';
import { PROXY_CIPHERS } from './session-ca.js';
import type { SessionCa } from './session-ca.js';

const http = lazyRequire<typeof Http>('node:http');
const https = lazyRequire<typeof Https>('node:https');

export const MAX_HEADER_BYTES = 64 * 1024;

/** Where a terminated tunnel goes: the host and port the rules saw, and the address they resolved to. */
export interface TunnelTarget {
  readonly host: string;
  readonly port: number;
  readonly address: string;
  readonly upstreamPort: number;
}

export interface InterceptOptions {
  readonly rules: CompiledNetworkRules;
  readonly bindings: readonly Binding[];
  readonly ca: SessionCa;
  /** PEM certificates upstream servers are verified against. */
  readonly upstreamTrust: string;
  readonly onRequest: (r: HttpRequestRecord) => void;
  readonly onCredential: (c: CredentialRecord) => void;
  readonly idleTimeoutMs: number;
  readonly track: (socket: Socket) => void;
}

export interface Interceptor {
  /** True when tunnels to host:port are terminated (a bound credential or an HTTP rule). */
  terminates(host: string, port: number): boolean;
  /** True when plain HTTP to host:port goes through the request pipeline (placeholders anywhere, or HTTP rules). */
  inspectsPlain(host: string, port: number): boolean;
  /** Takes over an established tunnel (the 200 or SOCKS reply already sent). */
  serveTunnel(client: Socket, head: Buffer, target: TunnelTarget): void;
  /** Handles one plain-HTTP forward request to an allowed host (connected only once the request may go). */
  forwardPlain(req: IncomingMessage, res: ServerResponse, target: TunnelTarget & { readonly authority: string }): void;
  close(): void;
}

function authorityOf(host: string, port: number, scheme: 'https' | 'http'): string {
  return (scheme === 'https' && port === 443) || (scheme === 'http' && port === 80) ? host : `${host}:${port}`;
}

export function createInterceptor(o: InterceptOptions): Interceptor {
  const targets = new WeakMap<Duplex, { target: TunnelTarget; scheme: 'https' | 'http' }>();
  const agents = new Map<string, HttpsAgent>();
  let trust: SecureContext | undefined;
  const ctx = { rules: o.rules, bindings: o.bindings, onRequest: o.onRequest, onCredential: o.onCredential, idleTimeoutMs: o.idleTimeoutMs };

  const agentFor = (t: TunnelTarget): HttpsAgent => {
    const key = `${t.host}|${t.address}|${t.upstreamPort}`;
    let agent = agents.get(key);
    if (agent === undefined) {
      trust ??= Tls.createSecureContext({ ca: o.upstreamTrust, ciphers: PROXY_CIPHERS });
      const host = t.host;
      const options: Https.AgentOptions & { highWaterMark: number } = {
        keepAlive: true,
        keepAliveMsecs: 1000,
        maxSockets: 32,
        maxFreeSockets: 4,
        timeout: o.idleTimeoutMs,
        secureContext: trust,
        servername: host,
        ALPNProtocols: ['http/1.1'],
        // Read in larger pieces than 16 KiB (the connection's answers stream through the proxy).
        highWaterMark: 256 * 1024,
        // The certificate must name the host the rules allowed (the connection goes to its checked address).
        checkServerIdentity: (_name: string, cert: Tls.PeerCertificate) => Tls.checkServerIdentity(host, cert),
      };
      agent = new (https().Agent)(options);
      agents.set(key, agent);
    }
    return agent;
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const entry = targets.get(req.socket);
    if (entry === undefined) {
      res.destroy();
      return;
    }
    const { target, scheme } = entry;
    const requestTarget: RequestTarget = { scheme, host: target.host, port: target.port, authority: authorityOf(target.host, target.port, scheme) };
    handleRequest(ctx, req, res, requestTarget, (method, path, headers) =>
      scheme === 'https'
        ? https().request({ host: target.address, port: target.upstreamPort, method, path, headers, setHost: false, agent: agentFor(target) })
        : http().request({ method, path, headers, setHost: false, createConnection: plainConnection(target) }),
    );
  };

  const plainConnection = (t: TunnelTarget) => (): Socket => {
    const socket = netConnect({ host: t.address, port: t.upstreamPort, noDelay: true });
    o.track(socket);
    return socket;
  };

  let server: Server | undefined;
  const frontend = (): Server => {
    if (server !== undefined) return server;
    server = http().createServer({ maxHeaderSize: MAX_HEADER_BYTES, requireHostHeader: false, keepAliveTimeout: 5_000 });
    server.timeout = o.idleTimeoutMs;
    server.on('request', onRequest);
    server.on('upgrade', (req: IncomingMessage, socket: Duplex) => {
      const entry = targets.get(socket);
      o.onRequest({
        scheme: entry?.scheme ?? 'https', method: req.method ?? 'GET', host: entry?.target.host ?? '?', port: entry?.target.port ?? 0, path: '(upgrade)',
        decision: 'deny', reason: 'protocol upgrades (WebSocket) are not supported on a host personae inspects', status: 501,
        bytesOut: 0, bytesIn: 0, durationMs: 0, credentials: [],
      });
      socket.end('HTTP/1.1 501 Not Implemented\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    });
    server.on('clientError', (_error: Error, socket: Duplex) => socket.destroy());
    return server;
  };

  const serveTunnel = (client: Socket, head: Buffer, target: TunnelTarget): void => {
    if (head.length > 0) client.unshift(head);
    client.setTimeout(o.idleTimeoutMs);
    client.once('readable', () => {
      const first = client.read(1) as Buffer | null;
      if (first === null) {
        client.destroy();
        return;
      }
      client.unshift(first);
      if (first[0] === 0x16) {
        let context: SecureContext;
        try {
          context = o.ca.contextFor(target.host);
        } catch {
          client.destroy();
          return;
        }
        // A larger buffer than 16 KiB: an answer streaming through is not paused at every TLS record.
        const tlsOptions: Tls.TLSSocketOptions & { highWaterMark: number } = { isServer: true, secureContext: context, ALPNProtocols: ['http/1.1'], highWaterMark: 256 * 1024 };
        const tls = new Tls.TLSSocket(client, tlsOptions);
        o.track(tls as unknown as Socket);
        tls.on('error', () => {
          tls.destroy();
          client.destroy();
        });
        targets.set(tls, { target, scheme: 'https' });
        frontend().emit('connection', tls);
      } else {
        targets.set(client, { target, scheme: 'http' });
        frontend().emit('connection', client);
      }
    });
  };

  return {
    terminates: (host, port) => o.bindings.some((b) => boundTo(b, host, port)) || hasHttpRules(o.rules, host, port),
    inspectsPlain: (host, port) => o.bindings.length > 0 || hasHttpRules(o.rules, host, port),
    serveTunnel,
    forwardPlain(req, res, target) {
      const requestTarget: RequestTarget = { scheme: 'http', host: target.host, port: target.port, authority: target.authority };
      handleRequest(ctx, req, res, requestTarget, (method, path, headers) =>
        http().request({ method, path, headers, setHost: false, createConnection: plainConnection(target) }),
      );
    },
    close() {
      for (const agent of agents.values()) agent.destroy();
      agents.clear();
    },
  };
}
