// `personae serve` ships the audit log when OTEL_EXPORTER_OTLP_ENDPOINT (or a
// signal's own endpoint) is set, through a child `personae export --follow`:
// the exporter never runs on the event loop that supervises the backend's
// sessions, and its failures (a collector down, a bad header) cannot touch
// them. The child is restarted with back-off if it dies, and stopped (it
// releases its cursor and resumes there next time) when the backend stops.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { otlpConfigFromEnv, otlpConfigured } from '../../sandbox/audit/otlp-config.js';
import { packageRoot } from '../../sandbox/launch/host-tools.js';

export interface ExportChild {
  stop(): Promise<void>;
}

/** Starts the exporter when the environment asks for one; undefined (after saying why, if it is misconfigured) otherwise. */
export function startExportChild(env: NodeJS.ProcessEnv, log: (line: string) => void): ExportChild | undefined {
  if (!otlpConfigured(env)) return undefined;
  const cfg = otlpConfigFromEnv(env);
  if (!cfg.ok) {
    log(`export: ${cfg.error}; not exporting (sessions are unaffected)`);
    return undefined;
  }
  const cli = path.join(packageRoot(), 'bin', 'personae.cjs');
  let child: ChildProcess | undefined;
  let stopping = false;
  let restarts = 0;
  let timer: NodeJS.Timeout | undefined;
  const start = (): void => {
    const startedAt = Date.now();
    child = spawn(process.execPath, [cli, 'export', '--follow'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('error', (e) => log(`export: cannot start the exporter: ${e.message}`));
    child.on('exit', (code, signal) => {
      child = undefined;
      if (stopping) return;
      restarts = Date.now() - startedAt > 60_000 ? 0 : restarts + 1;
      const delay = Math.min(30_000, 1000 * 2 ** Math.min(restarts, 5));
      log(`export: the exporter stopped (${signal ?? `exit ${String(code)}`}); restarting in ${Math.round(delay / 1000)} s`);
      timer = setTimeout(start, delay);
      timer.unref();
    });
  };
  start();
  return {
    stop: async () => {
      stopping = true;
      if (timer !== undefined) clearTimeout(timer);
      const c = child;
      if (c === undefined || c.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
      c.kill('SIGTERM');
      const grace = setTimeout(() => c.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(grace);
    },
  };
}
