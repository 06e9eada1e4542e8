// The backend: the control API on 127.0.0.1 (plain node:http + ws), the live
// stream, session terminals, and the built UI. Every request passes the Host,
// Origin and token checks first, in that order.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { auditDbPath } from '../../personas/paths.js';
import { openAuditStore, type AuditStore } from '../../sandbox/audit/store.js';
import { MAX_WS_MESSAGE_BYTES, TOKEN_PROTOCOL_PREFIX, type Defaults } from '../api/contract.js';
import type { ApprovalProvider } from './approvals.js';
import { defaultWorkspace } from './defaults.js';
import { EventFeed } from './event-feed.js';
import { HttpError, sendError, sendJson } from './http.js';
import { personaRoutes } from './routes-personas.js';
import { sessionRoutes } from './routes-sessions.js';
import { worktreeRoutes } from './routes-worktrees.js';
import { Router } from './router.js';
import { checkHost, checkOrigin, Credentials, sessionCookie } from './security.js';
import { SessionApprovals } from './session-approvals.js';
import { SessionRegistry } from './sessions.js';
import { endOrphanedSessions, isAlive } from '../session-stop.js';
import { securityHeaders, serveStatic } from './static.js';
import { StreamHub } from './stream.js';

export interface BackendOptions {
  readonly home: string;
  /** 0 (default): a random free port. */
  readonly port?: number;
  /** The built UI (dist/renderer). */
  readonly rendererDir: string;
  readonly onBehalfOf: string;
  /** The launch form's workspace until a session was launched (then the last session's): the user's home. */
  readonly workspace: string;
  readonly version: string;
  /** Pending approvals; default: those of every running session (tests may pass their own). */
  readonly approvals?: ApprovalProvider;
  readonly env?: NodeJS.ProcessEnv;
  readonly pollMs?: number;
  readonly log?: (line: string) => void;
}

export interface Backend {
  readonly port: number;
  readonly url: string;
  readonly token: string;
  readonly store: AuditStore;
  readonly sessions: SessionRegistry;
  readonly approvals: ApprovalProvider;
  /** A fresh one-time login URL (the browser exchanges it for an HttpOnly cookie). */
  loginUrl(): string;
  /** Stops this backend's sessions (verified), then closes everything. Idempotent. */
  close(): Promise<void>;
}

export async function startBackend(o: BackendOptions): Promise<Backend> {
  const log = o.log ?? (() => undefined);
  const store = openAuditStore(auditDbPath(o.home), { onError: (e) => log(`audit log: ${e.message}`) });
  endOrphanedSessions(store);
  const engineApprovals = o.approvals === undefined
    ? new SessionApprovals({
      home: o.home,
      foreignSessions: () => store.listSessions({ running: true }).filter((s) => s.supervisor_pid !== process.pid && isAlive(s.supervisor_pid)),
    })
    : undefined;
  const approvals: ApprovalProvider = o.approvals ?? (engineApprovals as SessionApprovals);
  const defaults = (): Defaults => ({ on_behalf_of: o.onBehalfOf, ...defaultWorkspace(store, o.workspace), version: o.version });
  const sessions = new SessionRegistry({
    home: o.home, store, defaultOnBehalfOf: o.onBehalfOf, env: o.env,
    onStarted: (s) => engineApprovals?.watch(s.id, s.approvals),
    onEnded: (id) => engineApprovals?.unwatch(id),
  });
  const feed = new EventFeed(store, o.pollMs ?? 50, (e) => log(`event feed: ${e.message}`));
  const creds = new Credentials();
  const startedAt = new Date().toISOString();
  const stream = new StreamHub(
    store,
    () => ({ sessions: sessions.list({ limit: 200 }), approvals: approvals.list() }),
    () => feed.poll(),
  );
  feed.onEvents((events) => {
    stream.events(events);
    sessions.onEvents(events);
  });
  const unSessions = sessions.onChange((info) => stream.session(info));
  const unApprovals = approvals.onChange((list) => stream.approvals(list));

  const router = new Router();
  router.add('GET', '/api/health', ({ res }) => sendJson(res, 200, { ok: true, version: o.version, pid: process.pid, started_at: startedAt }));
  router.add('POST', '/api/login-links', ({ res }) => sendJson(res, 201, { url: loginUrl() }));
  personaRoutes(router, { home: o.home, sessions });
  sessionRoutes(router, { home: o.home, store, sessions, approvals, defaults });
  worktreeRoutes(router, { home: o.home, store, sessions, by: o.onBehalfOf });

  let port = 0;
  const loginUrl = (): string => `http://127.0.0.1:${port}/auth?code=${creds.newLoginCode()}`;

  const authorized = (req: IncomingMessage): boolean =>
    creds.accepts({ authorization: req.headers.authorization, protocol: req.headers['sec-websocket-protocol'], cookie: req.headers.cookie }, port);

  /** Host and Origin checks shared by HTTP and upgrades; the answer to refuse with, or undefined. */
  const gate = (req: IncomingMessage): { status: number; error: string } | undefined => {
    const host = checkHost(req.headers.host, port);
    if (!host.ok) return host;
    const origin = checkOrigin(req.headers.origin, port);
    if (!origin.ok) return origin;
    return undefined;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const refused = gate(req);
    if (refused) return sendError(res, refused.status, refused.error);
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    const method = req.method ?? 'GET';
    if (url.pathname === '/auth' && method === 'GET') return redeem(url, res);
    if (!url.pathname.startsWith('/api/')) {
      if ((method === 'GET' || method === 'HEAD') && serveStatic(o.rendererDir, url.pathname, res, port)) return;
      return sendError(res, 404, 'not found');
    }
    if (!authorized(req)) return sendError(res, 401, 'not signed in: open the one-time link `personae app` prints, or send the bearer token (Authorization: Bearer TOKEN)', { code: 'signed-out' });
    const m = router.match(method, url.pathname);
    if (m === undefined) return sendError(res, 404, `no route ${method} ${url.pathname}`);
    if ('allowed' in m) {
      res.setHeader('allow', m.allowed.join(', '));
      return sendError(res, 405, `${method} is not allowed here (${m.allowed.join(', ')})`);
    }
    await m.handler({ req, res, url, params: m.params });
  };

  const redeem = (url: URL, res: ServerResponse): void => {
    const cookie = creds.redeem(url.searchParams.get('code') ?? '');
    const headers = securityHeaders(port);
    if (cookie === undefined) {
      res.writeHead(401, { ...headers, 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end('<!doctype html><meta charset="utf-8"><title>personae</title><p>This login link was already used or has expired. Run <code>personae app</code> (or <code>personae serve</code>) again for a new one.</p>');
      return;
    }
    res.writeHead(303, { ...headers, 'set-cookie': sessionCookie(port, cookie), location: '/', 'cache-control': 'no-store' });
    res.end();
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (e instanceof HttpError) return sendError(res, e.status, e.message, e.extra);
      log(`error: ${req.method ?? ''} ${req.url ?? ''}: ${(e as Error).stack ?? String(e)}`);
      sendError(res, 500, `internal error: ${(e as Error).message}`);
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 60_000;

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_WS_MESSAGE_BYTES * 2,
    // Echo the token subprotocol back so the browser accepts the connection.
    handleProtocols: (protocols) => [...protocols].find((p) => p.startsWith(TOKEN_PROTOCOL_PREFIX)) ?? false,
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const reject = (status: number, text: string): void => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    socket.on('error', () => undefined);
    const refused = gate(req);
    if (refused) return reject(refused.status, refused.status === 421 ? 'Misdirected Request' : 'Forbidden');
    if (!authorized(req)) return reject(401, 'Unauthorized');
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    const term = /^\/api\/sessions\/([A-Za-z0-9-]{1,128})\/terminal$/.exec(url.pathname);
    if (url.pathname === '/api/stream') {
      wss.handleUpgrade(req, socket, head, (ws: WebSocket) => stream.attach(ws));
    } else if (term?.[1] !== undefined && sessions.terminal(term[1]) !== undefined) {
      const channel = sessions.terminal(term[1]);
      wss.handleUpgrade(req, socket, head, (ws: WebSocket) => channel?.attach(ws));
    } else reject(404, 'Not Found');
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  feed.start();

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      await sessions.close();
      feed.poll();
      feed.close();
      unSessions();
      unApprovals();
      approvals.close();
      stream.close();
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      store.close();
    })());

  return { port, url: `http://127.0.0.1:${port}`, token: creds.token, store, sessions, approvals, loginUrl, close };
}
