// Finds the host programs a sandbox needs. Missing ones are a refusal with the
// fix, never a fallback to running unsandboxed.
import { accessSync, constants, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HostTools } from './plan.js';

export class MissingToolError extends Error {}

/** The package root: the nearest folder up from this module holding package.json (sources, dist/ and the bundle alike). */
export function packageRoot(from: string = import.meta.url): string {
  let dir = path.dirname(fileURLToPath(from));
  while (!existsSync(path.join(dir, 'package.json')) || path.basename(dir) === 'dist') {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('personae: cannot find its package folder');
    dir = up;
  }
  return dir;
}

function executable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function which(name: string, envPath = process.env.PATH ?? ''): string | undefined {
  const dirs = [...envPath.split(':'), '/usr/bin', '/bin', '/usr/sbin', '/usr/local/bin'];
  for (const d of dirs) {
    if (!d) continue;
    const p = path.join(d, name);
    if (executable(p)) return p;
  }
  return undefined;
}

const INSTALL_HINT = 'install it with: sudo apt-get install -y bubblewrap socat (Debian/Ubuntu) or sudo dnf install -y bubblewrap socat (Fedora)';

/** Resolves every host tool or throws MissingToolError naming what is missing and how to install it. */
export function findHostTools(env: NodeJS.ProcessEnv = process.env): HostTools {
  const override = (name: string): string | undefined => env[`PERSONAE_${name.toUpperCase()}`];
  const missing: string[] = [];
  const find = (name: string): string => {
    const p = override(name) ?? which(name, env.PATH);
    if (!p || !executable(p)) {
      missing.push(name);
      return '';
    }
    return p;
  };
  const bwrap = find('bwrap');
  const socat = find('socat');
  if (missing.length > 0) {
    const list = missing.join(', ');
    throw new MissingToolError(`personae: cannot sandbox: ${list} not found; ${INSTALL_HINT}. Nothing was run.`);
  }
  const root = packageRoot();
  const native = (name: string, what: string): string => {
    const p = path.join(root, 'dist', 'native', name);
    if (!executable(p)) {
      throw new MissingToolError(`personae: cannot sandbox: the ${what} ${p} is missing; run npm run build (needs a C compiler). Nothing was run.`);
    }
    return p;
  };
  const seccomp = native('personae-seccomp', 'seccomp helper');
  const execLog = native('personae-execlog', 'exec logger');
  const remount = native('personae-remount', 'remount helper');
  return {
    bwrap,
    socat,
    execLog,
    remount,
    seccomp,
    gitHooks: path.join(root, 'sandbox', 'launch', 'git-hooks'),
    hooks: path.join(root, 'sandbox', 'intercept', 'hooks'),
  };
}
