// `$PERSONAE_HOME/run/backend.json` (mode 0600): where the running backend
// listens and its token, so `personae app`, `personae serve` and the Electron
// shell attach to it instead of starting a second one.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as z from 'zod';
import { runDir } from '../../personas/paths.js';
import { HealthSchema, LoginLinkSchema } from '../api/contract.js';
import { isAlive } from '../session-stop.js';

export const BackendFileSchema = z.strictObject({
  pid: z.number().int(),
  port: z.number().int().min(1).max(65535),
  url: z.string(),
  token: z.string().regex(/^[0-9a-f]{64}$/),
  started_at: z.string(),
});
export type BackendFile = z.infer<typeof BackendFileSchema>;

export function backendFilePath(home: string): string {
  return path.join(runDir(home), 'backend.json');
}

export function writeBackendFile(home: string, info: BackendFile): void {
  const file = backendFilePath(home);
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(info)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
}

/** Removes the file if it still names this process. */
export function removeBackendFile(home: string, pid = process.pid): void {
  const current = readBackendFile(home);
  if (current?.pid === pid) rmSync(backendFilePath(home), { force: true });
}

export function readBackendFile(home: string): BackendFile | undefined {
  try {
    const parsed = BackendFileSchema.safeParse(JSON.parse(readFileSync(backendFilePath(home), 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** The running backend of this home, if one answers its health check (bounded). */
export async function findRunningBackend(home: string, timeoutMs = 1500): Promise<BackendFile | undefined> {
  const info = readBackendFile(home);
  if (info === undefined || !isAlive(info.pid)) return undefined;
  try {
    const r = await fetch(`${info.url}/api/health`, { headers: { authorization: `Bearer ${info.token}` }, signal: AbortSignal.timeout(timeoutMs) });
    return r.ok && HealthSchema.safeParse(await r.json()).success ? info : undefined;
  } catch {
    return undefined;
  }
}

/** Asks a running backend for a fresh one-time login URL. */
export async function requestLoginUrl(info: BackendFile, timeoutMs = 1500): Promise<string> {
  const r = await fetch(`${info.url}/api/login-links`, {
    method: 'POST',
    headers: { authorization: `Bearer ${info.token}` },
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!r.ok) throw new Error(`the backend refused a login link (HTTP ${r.status})`);
  return LoginLinkSchema.parse(await r.json()).url;
}
