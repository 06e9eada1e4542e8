// `personae serve` (the backend) and `personae app` (`npm start`): the
// desktop window when Electron is installed, else the same UI in a browser.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import path from 'node:path';
import { packageRoot } from '../../sandbox/launch/host-tools.js';
import { currentUser, home } from './context.js';
import { fail, info } from './output.js';

const VERSION = '0.1.0';

function parsePort(text: string): number | undefined {
  const n = Number(text);
  return Number.isInteger(n) && n >= 0 && n <= 65535 ? n : undefined;
}

/** Waits for Ctrl-C (or SIGTERM/SIGHUP) once. */
function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (s: NodeJS.Signals): void => {
      for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.off(sig, on);
      resolve(s);
    };
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, on);
  });
}

/** Prints where the UI is: a line for people, or one JSON line with PERSONAE_SERVE_JSON=1 (for the Electron shell). */
function announce(fields: { url: string; login: string; token: string; pid: number; attached: boolean }): void {
  if (process.env.PERSONAE_SERVE_JSON === '1') {
    process.stdout.write(`${JSON.stringify(fields)}\n`);
    return;
  }
  const what = fields.attached ? `a backend is already running (pid ${fields.pid})` : `backend listening on ${fields.url} (pid ${fields.pid})`;
  info(`${what}; open this one-time link in your browser:`);
  process.stdout.write(`${fields.login}\n`);
  if (!fields.attached) info('sessions keep running when the browser closes; Ctrl-C here stops the backend and the sessions it started');
}

export async function serveCommand(opts: { port: string }): Promise<number> {
  const port = parsePort(opts.port);
  if (port === undefined) return fail(`--port ${JSON.stringify(opts.port)} is not a port number`, 2);
  const h = home();
  const { findRunningBackend, removeBackendFile, requestLoginUrl, writeBackendFile } = await import('../server/backend-file.js');
  if (port === 0) {
    const running = await findRunningBackend(h);
    if (running !== undefined) {
      announce({ url: running.url, login: await requestLoginUrl(running), token: running.token, pid: running.pid, attached: true });
      return 0;
    }
  }
  const { startBackend } = await import('../server/server.js');
  let backend;
  try {
    backend = await startBackend({
      home: h,
      port,
      rendererDir: path.join(packageRoot(), 'dist', 'renderer'),
      onBehalfOf: currentUser(),
      workspace: homedir(),
      version: VERSION,
      log: (line) => process.stderr.write(`personae serve: ${line}\n`),
    });
  } catch (e) {
    return fail(`cannot start the backend: ${(e as Error).message}`, 1);
  }
  writeBackendFile(h, { pid: process.pid, port: backend.port, url: backend.url, token: backend.token, started_at: new Date().toISOString() });
  announce({ url: backend.url, login: backend.loginUrl(), token: backend.token, pid: process.pid, attached: false });
  const { startExportChild } = await import('../server/export-child.js');
  const exporter = startExportChild(process.env, (line) => process.stderr.write(`personae serve: ${line}\n`));
  const signal = await untilSignal();
  info(`${signal}: stopping the sessions this backend started (verified), then exiting`);
  // A second Ctrl-C while stopping must not leave sessions behind: the stop is already under way.
  const ignore = (): void => info('still stopping sessions…');
  process.on('SIGINT', ignore);
  await backend.close();
  await exporter?.stop();
  removeBackendFile(h);
  process.off('SIGINT', ignore);
  return 0;
}

/** The Electron binary's path, or undefined when it is not installed (as on machines where its download is blocked). */
export function electronBinary(): string | undefined {
  try {
    const p = createRequire(import.meta.url)('electron') as unknown;
    return typeof p === 'string' && existsSync(p) ? p : undefined;
  } catch {
    return undefined;
  }
}

export async function appCommand(): Promise<number> {
  const electron = electronBinary();
  const root = packageRoot();
  const main = path.join(root, 'dist', 'electron', 'main.js');
  if (electron === undefined || !existsSync(main)) {
    info(electron === undefined
      ? 'Electron is not installed here; serving the same UI in your browser instead'
      : 'the desktop shell is not built (npm run build); serving the same UI in your browser instead');
    return serveCommand({ port: '0' });
  }
  const child = spawn(electron, [main], {
    stdio: 'inherit',
    env: { ...process.env, PERSONAE_NODE: process.env.PERSONAE_NODE ?? process.execPath, PERSONAE_CLI: path.join(root, 'bin', 'personae.cjs') },
  });
  return new Promise((resolve) => {
    child.on('error', (e) => resolve(fail(`cannot start Electron: ${e.message}`, 1)));
    child.on('exit', (code) => resolve(code ?? 1));
  });
}
