// A session's worktree, as the session sees it: the record to store, the
// checkout to wait for before the command starts, the mounts for its
// sandbox, and at its end the work brought into the repository (objects
// verified, branch moved) and summed up (commits, files, diffs).
import { readdirSync, readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import type { EmitEvent } from '../audit/event.js';
import { splitDiff } from '../intercept/git-diff.js';
import { worktreeChanges } from './changes.js';
import type { CreatedWorktree } from './create.js';
import { reviewMounts, worktreeMounts, worktreeParts } from './layout.js';
import { hasObjects, importSession, sessionTip } from './objects.js';
import type { WorktreeRecord } from './record.js';

export interface WorktreeSummary {
  readonly branch: string;
  readonly base: string;
  readonly tip?: string;
  readonly commits?: number;
  readonly files_changed?: number;
  readonly uncommitted?: number;
  readonly error?: string;
}

/** What a worktree adds to a launch request. */
export interface WorktreeLaunchAdditions {
  readonly worktreeMounts: string[];
  readonly gitConfig: Record<string, string>;
  readonly env: Record<string, string>;
}

export interface SessionWorktree {
  readonly record: WorktreeRecord;
  /** The checkout is complete (rejects when it failed). */
  readonly ready: Promise<void>;
  /** The launch request's additions, once the writable paths are known. */
  launch(writable: readonly string[], personaeHome: string): WorktreeLaunchAdditions;
  /**
   * At the session's end: its work into the repository, its diffs recorded;
   * never throws. `wrote`: the watcher saw a file written in the worktree
   * (when it did not and the session made no object, git is not asked; diff
   * and apply always ask it).
   */
  conclude(emit: EmitEvent, hide: readonly string[], wrote: boolean): Promise<WorktreeSummary>;
}

/** Another session's worktree, given to this session read-only (a reviewer). */
export interface ReviewedWorktree {
  readonly session: string;
  readonly record: WorktreeRecord;
  launch(): WorktreeLaunchAdditions;
}

export function reviewedWorktree(session: string, rec: WorktreeRecord): ReviewedWorktree {
  return {
    session,
    record: rec,
    launch: () => {
      const r = reviewMounts(rec);
      return { worktreeMounts: r.mounts, gitConfig: { 'gc.auto': '0', 'maintenance.auto': 'false' }, env: r.env };
    },
  };
}

/** The repository's checkouts other than this worktree: its own top level, then its other worktrees. */
export function otherCheckouts(rec: WorktreeRecord): string[] {
  const out = [rec.repo];
  const dir = path.join(rec.common_dir, 'worktrees');
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    // none
  }
  for (const name of names) {
    const admin = path.join(dir, name);
    if (admin === rec.admin_dir) continue;
    try {
      const gitfile = readFileSync(path.join(admin, 'gitdir'), 'utf8').trim();
      const checkout = realpathSync(path.dirname(gitfile));
      if (!out.includes(checkout)) out.push(checkout);
    } catch {
      // a stale entry (its checkout is gone)
    }
  }
  return out;
}

export function sessionWorktree(created: CreatedWorktree, bwrap: string): SessionWorktree {
  const rec = created.record;
  return {
    record: rec,
    ready: created.ready,
    launch: (writable, personaeHome) => ({
      worktreeMounts: worktreeMounts(rec, { writable, checkouts: otherCheckouts(rec), personaeHome }),
      // Housekeeping would write the shared (read-only) parts: packed refs, gc.log.
      gitConfig: { 'gc.auto': '0', 'maintenance.auto': 'false' },
      env: {},
    }),
    conclude: async (emit, hide, wrote) => {
      try {
        if (!wrote && !hasObjects(worktreeParts(rec).objects) && (sessionTip(rec) ?? rec.base) === rec.base) {
          return { branch: rec.branch, base: rec.base, tip: rec.base, commits: 0, files_changed: 0, uncommitted: 0 };
        }
        const tip = await importSession(bwrap, hide, rec);
        const ch = await worktreeChanges(rec, { bwrap, hide, tip, withPatch: true, maxPatchBytes: 1024 * 1024 });
        const open = new Set(ch.files.filter((f) => f.uncommitted).map((f) => f.path));
        for (const [file, diff] of splitDiff(ch.patch)) {
          emit({ kind: 'fs.diff', target: path.join(rec.path, file), detail: { diff, base: rec.base, uncommitted: open.has(file) } });
        }
        return { branch: rec.branch, base: rec.base, tip: ch.tip, commits: ch.commits.length, files_changed: ch.files.length, uncommitted: open.size };
      } catch (e) {
        const error = (e as Error).message;
        emit({ kind: 'error', target: rec.branch, decision: 'deny', reason: `the session's worktree could not be summed up: ${error}` });
        return { branch: rec.branch, base: rec.base, error };
      }
    },
  };
}
