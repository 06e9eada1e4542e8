// Turns the pure filesystem plan into host facts: probes paths, creates the
// session's placeholders (and removes them afterwards).
import { closeSync, lstatSync, mkdirSync, openSync, realpathSync, rmdirSync, statSync, unlinkSync } from 'node:fs';
import type { Persona } from '../../personas/schema.js';
import { alwaysHidden, planFilesystem, type FilesystemPlan, type PathContext, type PathProbe } from '../policy/filesystem.js';

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
  cleanup(): void;
}

export function prepareFilesystem(persona: Persona, ctx: PathContext, personaeHome: string): PreparedFilesystem {
  const plan = planFilesystem(persona, ctx, personaeHome, hostProbe);
  const created: Array<{ path: string; kind: 'dir' | 'file' }> = [];
  for (const ph of plan.placeholders) {
    try {
      if (ph.kind === 'dir') mkdirSync(ph.path, { recursive: false });
      else closeSync(openSync(ph.path, 'wx', 0o444));
      created.push(ph);
    } catch {
      // Could not hold the place (parent missing): it cannot be created inside either.
    }
  }
  const hidden = [...new Set(alwaysHidden(ctx, personaeHome))].filter((h) => {
    try {
      return statSync(h).isDirectory();
    } catch {
      return false;
    }
  });
  const usable: FilesystemPlan = { ...plan, placeholders: plan.placeholders.filter((p) => created.includes(p)) };
  return {
    plan: usable,
    hidden,
    cleanup() {
      for (const c of created.reverse()) {
        try {
          if (c.kind === 'dir') rmdirSync(c.path);
          else if (statSync(c.path).size === 0) unlinkSync(c.path);
        } catch {
          // not empty any more or gone: leave it
        }
      }
    },
  };
}
