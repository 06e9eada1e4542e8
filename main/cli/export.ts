// `personae export [--follow] [--status [--json]]`: ships the audit log over
// OTLP to the endpoint the standard OTEL_EXPORTER_OTLP_* variables name, from
// a durable cursor (see sandbox/audit/otlp-export.ts).
import type { Database } from 'better-sqlite3';
import { hostname } from 'node:os';
import { findPersona } from '../../personas/loader.js';
import { auditDbPath } from '../../personas/paths.js';
import { exportCursors } from '../../sandbox/audit/export-cursor.js';
import type { CursorLag } from '../../sandbox/audit/export-cursor.js';
import { otlpConfigFromEnv } from '../../sandbox/audit/otlp-config.js';
import type { OtlpConfig, OtlpSignal } from '../../sandbox/audit/otlp-config.js';
import { CURSOR_NAMES, runExport } from '../../sandbox/audit/otlp-export.js';
import type { ExportState } from '../../sandbox/audit/otlp-export.js';
import { openAuditStore } from '../../sandbox/audit/store.js';
import type { AuditStore } from '../../sandbox/audit/store.js';
import { currentUser, home } from './context.js';
import { fail, info } from './output.js';

const VERSION = '0.1.0';
const SIGNALS: readonly OtlpSignal[] = ['logs', 'traces'];

function openRaw(): { store: AuditStore; db: Database } {
  let db: Database | undefined;
  const store = openAuditStore(auditDbPath(home()), {
    configure: (raw) => { db = raw; },
    onError: (e) => info(`audit log: ${e.message}`),
  });
  return { store, db: db as Database };
}

function ago(iso: string | null, now = Date.now()): string {
  if (iso === null) return 'never';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 120) return `${s} s ago`;
  if (s < 7200) return `${Math.round(s / 60)} min ago`;
  if (s < 172_800) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86_400)} days ago`;
}

function statusLine(signal: OtlpSignal, lag: CursorLag, url: string | null): string {
  const c = lag.cursor;
  const parts = [
    lag.behind === 0 ? 'up to date' : `${lag.behind} event(s) behind, oldest from ${ago(lag.oldestPendingTs)}`,
    `${c.exported} shipped, last ${ago(c.lastOkAt)}`,
  ];
  if (c.lastError !== null) parts.push(`last error ${ago(c.lastErrorAt)}: ${c.lastError}`);
  parts.push(c.holder === null ? 'no exporter running' : lag.holderAlive === false ? `exporter ${c.holder} is gone` : `exporter ${c.holder}`);
  parts.push(url === null ? 'not configured here' : `to ${url}`);
  return `${signal.padEnd(7)} ${parts.join('; ')}`;
}

function status(json: boolean): number {
  const cfg = otlpConfigFromEnv(process.env);
  const config: OtlpConfig | null = cfg.ok ? cfg.config : null;
  const { store, db } = openRaw();
  try {
    const cursors = exportCursors(db);
    const rows = SIGNALS.map((signal) => ({ signal, lag: cursors.lag(CURSOR_NAMES[signal]), url: config?.[signal]?.url ?? null }));
    if (json) {
      const out = rows.map(({ signal, lag, url }) => ({
        signal, url, behind: lag.behind, oldest_pending_ts: lag.oldestPendingTs, seq: lag.cursor.seq, head: cursors.head(),
        exported: lag.cursor.exported, last_ok_at: lag.cursor.lastOkAt, last_error: lag.cursor.lastError,
        last_error_at: lag.cursor.lastErrorAt, holder: lag.cursor.holder, holder_alive: lag.holderAlive,
      }));
      process.stdout.write(`${JSON.stringify(out)}\n`);
    } else {
      for (const r of rows) process.stdout.write(`${statusLine(r.signal, r.lag, r.url)}\n`);
      if (!cfg.ok) info(`export is not configured: ${cfg.error}`);
    }
    return 0;
  } finally {
    store.close();
  }
}

function describeState(signal: OtlpSignal, s: ExportState): string | undefined {
  switch (s.kind) {
    case 'failing':
      return `export ${signal}: ${s.error}; retrying in ${Math.max(1, Math.round(s.retryInMs / 1000))} s (${s.behind} event(s) behind)`;
    case 'shipping':
      return `export ${signal}: delivering (${s.behind} event(s) behind)`;
    case 'waiting':
      return `export ${signal}: waiting for the exporter already running (${s.holder})`;
    case 'lost-lease':
      return `export ${signal}: another exporter took over; stopping`;
    case 'caught-up':
      return undefined;
  }
}

function ownerOf(persona: string): string | null {
  const found = findPersona(home(), persona);
  return found.ok ? found.persona.owner : null;
}

export async function exportCommand(opts: { follow?: boolean; status?: boolean; json?: boolean; batch?: string }): Promise<number> {
  if (opts.status) return status(opts.json === true);
  const cfg = otlpConfigFromEnv(process.env);
  if (!cfg.ok) return fail(cfg.error, 2);
  const batchSize = opts.batch === undefined ? 1000 : Number(opts.batch);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 100_000) return fail('--batch must be a whole number from 1 to 100000', 2);
  const { store, db } = openRaw();
  const abort = new AbortController();
  const stop = (): void => abort.abort();
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(sig, stop);
  let announced = false;
  try {
    if (opts.follow) {
      const where = SIGNALS.map((s) => cfg.config[s]?.url).filter((u): u is string => u !== undefined).join(' and ');
      info(`exporting the audit log to ${where}; Ctrl-C stops (nothing is lost: it resumes where it stopped)`);
      announced = true;
    }
    const results = await runExport({
      db,
      config: cfg.config,
      resource: { version: VERSION, host: hostname(), user: currentUser() },
      follow: opts.follow === true,
      abort: abort.signal,
      batchSize,
      ownerOf,
      onState: (signal, s) => {
        const line = describeState(signal, s);
        if (line !== undefined && (announced || s.kind !== 'shipping')) info(line);
      },
    });
    const failed = results.filter((r) => r.error !== null);
    for (const r of failed) fail(`export ${r.signal}: ${r.error ?? ''}`);
    if (!opts.follow && failed.length === 0) {
      info(`exported ${results.map((r) => `${r.records} ${r.signal === 'logs' ? 'log record(s)' : 'span(s)'} (${r.events} events)`).join(', ')}`);
    }
    return failed.length === 0 ? 0 : 1;
  } finally {
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.off(sig, stop);
    store.close();
  }
}
