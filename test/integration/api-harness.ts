// Test harness for the control API: a real backend (in this process) on a
// throw-away PERSONAE_HOME with real SQLite, raw HTTP requests (so tests can
// forge Host and Origin headers), and WebSocket clients.
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { WebSocket } from 'ws';
import { startBackend, type Backend, type BackendOptions } from '../../main/server/server.js';
import { makeHome, ROOT, type Home } from './harness.js';

export interface ApiEnv {
  readonly h: Home;
  readonly b: Backend;
  close(): Promise<void>;
}

export async function startApi(opts: Partial<BackendOptions> = {}): Promise<ApiEnv> {
  const h = makeHome();
  const b = await startBackend({
    home: h.home,
    rendererDir: path.join(ROOT, 'dist', 'renderer'),
    onBehalfOf: 'tester',
    workspace: h.workspace,
    version: 'test',
    ...opts,
  });
  return {
    h,
    b,
    close: async () => {
      await b.close();
      h.cleanup();
    },
  };
}

export interface RawResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly text: string;
  json<T = Record<string, unknown>>(): T;
}

export interface RawRequest {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  /** A string is sent as-is; anything else as JSON. */
  readonly body?: unknown;
  /** false: no Authorization header; a string: that token. Default: the backend's token. */
  readonly token?: string | false;
}

/** One HTTP request to the backend, bounded in time. */
export function raw(b: Backend, urlPath: string, r: RawRequest = {}): Promise<RawResponse> {
  const headers: Record<string, string> = { host: `127.0.0.1:${b.port}`, ...r.headers };
  const token = r.token === undefined ? b.token : r.token;
  if (token !== false) headers.authorization = `Bearer ${token}`;
  let body: string | undefined;
  if (r.body !== undefined) {
    body = typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
    headers['content-type'] ??= 'application/json';
  }
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: b.port, path: urlPath, method: r.method ?? (body === undefined ? 'GET' : 'POST'), headers, timeout: 20_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: <T>() => JSON.parse(text) as T }));
    });
    req.on('timeout', () => req.destroy(new Error(`request ${urlPath} timed out`)));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

export interface Socket<T> {
  readonly ws: WebSocket;
  /** Every JSON message since the connection opened (collected from the start: none is missed). */
  readonly all: T[];
  next(pred: (m: T) => boolean, timeoutMs?: number): Promise<T>;
}

/** Opens a WebSocket; resolves once open, rejects with the HTTP status when refused. */
export function openSocket<T = Record<string, unknown>>(b: Backend, urlPath: string, opts: { headers?: Record<string, string>; protocols?: string[] } = {}): Promise<Socket<T>> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${b.port}${urlPath}`, opts.protocols ?? [`personae-token.${b.token}`], {
      headers: opts.headers,
      handshakeTimeout: 5000,
    });
    const collected = collect<T>(ws);
    ws.once('open', () => resolve({ ws, ...collected }));
    ws.once('unexpected-response', (_req, res) => {
      reject(new Error(`HTTP ${res.statusCode ?? 0}`));
      ws.terminate();
    });
    ws.once('error', reject);
  });
}

function collect<T>(ws: WebSocket): { all: T[]; next(pred: (m: T) => boolean, timeoutMs?: number): Promise<T> } {
  const all: T[] = [];
  const waiters = new Set<{ pred: (m: T) => boolean; resolve: (m: T) => void }>();
  ws.on('message', (data) => {
    const m = JSON.parse(String(data)) as T;
    all.push(m);
    for (const w of [...waiters]) {
      if (w.pred(m)) {
        waiters.delete(w);
        w.resolve(m);
      }
    }
  });
  return {
    all,
    next: (pred, timeoutMs = 15_000) => {
      const found = all.find(pred);
      if (found !== undefined) return Promise.resolve(found);
      return new Promise<T>((resolve, reject) => {
        const w = { pred, resolve: (m: T) => { clearTimeout(timer); resolve(m); } };
        const timer = setTimeout(() => {
          waiters.delete(w);
          reject(new Error(`no matching message within ${timeoutMs} ms (got ${all.length})`));
        }, timeoutMs);
        waiters.add(w);
      });
    },
  };
}

/** Polls until `probe` returns a value (not undefined), bounded. */
export async function until<T>(probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * A fresh workspace: sessions sharing one race on the placeholders the
 * engine creates in it (one session's teardown removes what another's
 * sandbox binds), so each test session gets its own.
 */
export function freshWorkspace(h: Home, name: string): string {
  const dir = h.path(name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Pids of processes whose argv is exactly `argv` (judged from outside, through /proc). */
export function processesWithArgv(argv: readonly string[]): number[] {
  const want = `${argv.join('\0')}\0`;
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8') === want) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Is a process alive (from outside)? */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
