// Starts or attaches to the backend with the system Node (never Electron's:
// the backend loads native modules built for Node's ABI). `personae serve`
// with PERSONAE_SERVE_JSON=1 prints one JSON line: where it listens, a
// one-time login URL, the token, and whether it attached to one already
// running (then it exits and the backend is not ours to stop).
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export interface BackendInfo {
  readonly url: string;
  readonly login: string;
  readonly token: string;
  readonly pid: number;
  readonly attached: boolean;
}

export interface StartedBackend {
  readonly info: BackendInfo;
  /** Our backend process, or undefined when we attached to another one. */
  readonly child: ChildProcess | undefined;
}

function parseInfo(line: string): BackendInfo {
  const v = JSON.parse(line) as Record<string, unknown>;
  const s = (k: string): string => {
    if (typeof v[k] !== 'string') throw new Error(`backend announcement lacks ${k}`);
    return v[k];
  };
  const url = s('url');
  if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(url)) throw new Error(`backend announced a non-loopback URL: ${url}`);
  return { url, login: s('login'), token: s('token'), pid: Number(v.pid), attached: v.attached === true };
}

export function startBackend(appRoot: string, timeoutMs = 20_000): Promise<StartedBackend> {
  const node = process.env.PERSONAE_NODE || 'node';
  const cli = process.env.PERSONAE_CLI || path.join(appRoot, 'bin', 'personae.cjs');
  const child = spawn(node, [cli, 'serve'], {
    env: { ...process.env, PERSONAE_SERVE_JSON: '1', ELECTRON_RUN_AS_NODE: undefined },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new Error(`the backend did not start within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${node}: ${e.message} (set PERSONAE_NODE to a Node 20 binary)`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (buf.indexOf('\n') === -1) reject(new Error(`the backend exited with code ${String(code)} before it was ready`));
    });
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      if (buf.includes('\n')) return;
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl === -1) return;
      clearTimeout(timer);
      try {
        const info = parseInfo(buf.slice(0, nl));
        resolve({ info, child: info.attached ? undefined : child });
      } catch (e) {
        child.kill('SIGTERM');
        reject(e as Error);
      }
    });
  });
}

/** POST with the bearer token (tray actions). */
export async function backendPost(info: BackendInfo, apiPath: string): Promise<unknown> {
  const r = await fetch(info.url + apiPath, {
    method: 'POST',
    headers: { authorization: `Bearer ${info.token}`, 'content-type': 'application/json' },
    body: '{}',
    signal: AbortSignal.timeout(30_000),
  });
  if (!r.ok) throw new Error(`HTTP ${r.status}`);
  return r.json();
}

/** Asks for a fresh one-time login URL (each window load needs one). */
export async function freshLogin(info: BackendInfo): Promise<string> {
  const v = (await backendPost(info, '/api/login-links')) as { url?: unknown };
  if (typeof v.url !== 'string') throw new Error('the backend gave no login URL');
  return v.url;
}
