// What the agent adapters share: finding an agent's install, reading its
// version without letting it touch a real home, the API host of a base URL,
// and the hooks-live watch (an agent whose hooks never check in is stopped).
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { packageRoot, which } from '../launch/host-tools.js';
import type { AdapterSession } from './adapter.js';

/** How long an agent's SessionStart hook may take to check in with the broker. */
export const HOOKS_LIVE_MS = 20_000;

export class AgentCommandError extends Error {}

/**
 * Finds an agent CLI: an explicit override ($PERSONAE_<NAME>_BIN), then PATH,
 * then personae's own dependency; `resolve` turns what was found into the
 * install the adapter needs (undefined: keep looking).
 */
export function findAgentInstall<T>(name: string, env: NodeJS.ProcessEnv, resolve: (found: string) => T | undefined): T | undefined {
  const override = env[`PERSONAE_${name.toUpperCase()}_BIN`];
  const candidates = [override, which(name, env.PATH), path.join(packageRoot(), 'node_modules', '.bin', name)];
  for (const c of candidates) {
    if (!c || !existsSync(c)) continue;
    const install = resolve(c);
    if (install !== undefined) return install;
  }
  return undefined;
}

/**
 * Runs `program args` in a throw-away HOME (some CLIs write their config on
 * `--version`) and returns the first x.y.z it prints, or null.
 */
export function readAgentVersion(program: string, args: readonly string[], homeVars: readonly string[], timeoutMs = 15_000, extra: Readonly<Record<string, string>> = {}): Promise<string | null> {
  const scratch = mkdtempSync(path.join(tmpdir(), 'personae-version-'));
  const env: Record<string, string> = { PATH: '/usr/bin:/bin', NO_COLOR: '1', HOME: scratch, ...extra };
  for (const v of homeVars) env[v] = scratch;
  return new Promise((resolve) => {
    execFile(program, [...args], { timeout: timeoutMs, env }, (err, stdout) => {
      rmSync(scratch, { recursive: true, force: true });
      resolve(err ? null : (/(\d+\.\d+\.\d+)/.exec(stdout.trim())?.[1] ?? null));
    });
  });
}

export function baseUrlHost(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    return new URL(url).hostname;
  } catch {
    return undefined;
  }
}

/**
 * The hooks-live check: once the sandbox runs, the agent's SessionStart hook
 * must reach the broker within `ms`, or the session is stopped (a config the
 * agent silently dropped registers no hooks). At the end, a session whose
 * hooks never checked in gets an error event saying its calls were not seen.
 */
export function hooksLiveWatch(agent: string, ms: number): { started(s: AdapterSession): void; ended(s: AdapterSession): void } {
  let began = false;
  let live = false;
  return {
    started(s) {
      began = true;
      const timer = setTimeout(() => {
        if (!live) s.fail(`${agent}'s hooks did not check in within ${ms / 1000} s (its hook settings were not loaded); stopping the session`);
      }, ms);
      timer.unref();
      void s.hooksLive.promise.then(() => {
        live = true;
        clearTimeout(timer);
      });
    },
    ended(s) {
      if (began && !live) {
        s.emit({ kind: 'error', target: 'hooks', decision: 'deny', reason: `${agent} ended without its hooks ever checking in: its tool calls were not intercepted by personae` });
      }
    },
  };
}
