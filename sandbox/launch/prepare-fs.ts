// Turns the pure filesystem plan into host facts: probes paths, creates the
// session's placeholders (and removes them afterwards).
import { closeSync, cpSync, lstatSync, mkdirSync, openSync, realpathSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Persona } from '../../personas/schema.js';
import { alwaysHidden, HOME_TRAP_DIRS, planFilesystem, type FilesystemPlan, type PathContext, type PathProbe } from '../policy/filesystem.js';
import { identify, liveRunDirs, present, recoverStaleRunDirs, removePlaceholder, writeManifest } from './run-dirs.js';

export const hostProbe: PathProbe = {
  kind(p) {
    try {
      const st = lstatSync(p);
      if (st.isSymbolicLink()) return 'link';
      if (st.isDirectory()) return 'dir';
      if (st.isFile()) return 'file';
      return 'other';
    } catch {
      return undefined;
    }
  },
  realpath(p) {
    try {
      return realpathSync(p);
    } catch {
      return undefined;
    }
  },
};

export interface PreparedFilesystem {
  readonly plan: FilesystemPlan;
  /** Host directories hidden wholesale (homes, personae's own data). */
  readonly hidden: readonly string[];
  /** Removes the placeholders and sweeps guarded (and sweep-at-end) traps still present into quarantine (see `swept`). */
  cleanup(): void;
  /** Guarded traps the last cleanup found still present, and where they went (undefined: left in place). */
  readonly swept: ReadonlyArray<{ readonly path: string; readonly quarantined: string | undefined }>;
}

/**
 * A guarded trap still present when the session is over (created in a race
 * with the watcher, or recreated after it acted): moved into `dir`. Only when
 * every parent is a real directory, so a parent swapped for a symlink never
 * makes this touch anything outside the workspace.
 */
function sweep(p: string, dir: string): { path: string; quarantined: string | undefined } | undefined {
  try {
    lstatSync(p);
  } catch {
    return undefined;
  }
  try {
    if (realpathSync(path.dirname(p)) !== path.dirname(p)) return { path: p, quarantined: undefined };
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const dest = path.join(dir, `${Date.now()}-swept-${path.basename(p)}`);
    try {
      renameSync(p, dest);
    } catch {
      cpSync(p, dest, { recursive: true, verbatimSymlinks: true });
      rmSync(p, { recursive: true, force: true });
    }
    return { path: p, quarantined: dest };
  } catch {
    return { path: p, quarantined: undefined };
  }
}

/**
 * `runDir` is the session's own run directory: the placeholders it creates are
 * recorded there, so that a later session can remove them if this one's
 * supervisor is killed (see run-dirs.ts).
 */
export function prepareFilesystem(persona: Persona, ctx: PathContext, personaeHome: string, opts: { readonly runDir: string; readonly quarantine?: string }): PreparedFilesystem {
  const runRoot = path.join(personaeHome, 'run');
  recoverStaleRunDirs(runRoot, opts.runDir);
  // The persona's own HOME is personae's: its directory traps are made once and kept (empty), so they are
  // held read-only like any existing one, with no placeholder to clean up after each session.
  if (ctx.personaHome !== undefined) {
    for (const d of HOME_TRAP_DIRS) mkdirSync(path.join(ctx.personaHome, d), { recursive: true, mode: 0o700 });
  }
  const plan = planFilesystem(persona, ctx, personaeHome, hostProbe);
  const made: Array<FilesystemPlan['placeholders'][number]> = [];
  for (const ph of plan.placeholders) {
    try {
      if (ph.kind === 'dir') mkdirSync(ph.path, { recursive: false });
      else closeSync(openSync(ph.path, 'wx', 0o444));
      made.push(ph);
    } catch {
      // Could not hold the place (parent missing): it cannot be created inside either.
    }
  }
  const created = identify(made);
  writeManifest(opts.runDir, created);
  const hidden = [...new Set(alwaysHidden(ctx, personaeHome))].filter((h) => {
    try {
      return statSync(h).isDirectory();
    } catch {
      return false;
    }
  });
  const usable: FilesystemPlan = { ...plan, placeholders: made };
  const swept: Array<{ path: string; quarantined: string | undefined }> = [];
  return {
    plan: usable,
    hidden,
    cleanup() {
      // Another session may have found one of these placeholders and mounted over it; removing
      // it on the host would detach that mount (and free the trap) inside the other sandbox.
      // Left in place, the manifest keeps them for the next session that ends (or starts) alone.
      if (liveRunDirs(runRoot, opts.runDir).length === 0) {
        for (const c of [...created].reverse()) removePlaceholder(c);
      }
      writeManifest(opts.runDir, created.filter(present));
      // The sandbox is gone: nothing can race this final look at the guarded traps.
      const dir = opts.quarantine ?? path.join(personaeHome, 'quarantine', `swept-${Date.now()}`);
      for (const g of [...usable.guarded, ...(usable.sweepAtEnd ?? [])]) {
        const r = sweep(g, dir);
        if (r) swept.push(r);
      }
      recoverStaleRunDirs(runRoot, opts.runDir);
    },
    swept,
  };
}
