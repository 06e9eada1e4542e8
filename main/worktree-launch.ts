// `--worktree` on a launch (the CLI's and the backend's): after the persona
// passed every check, check the base (a repository, clean, a commit) and
// make the worktree; the session then runs in it. Refusals are LaunchRefusal
// lines (code 'worktree') and leave nothing behind.
import { expandPath } from '../sandbox/policy/filesystem.js';
import { SENSITIVE_PATHS } from '../personas/schema.js';
import { checkWorktreeBase, createWorktree, removeWorktreeFiles, WorktreeError, type CreatedWorktree } from '../sandbox/worktree/create.js';
import { planPaths, relativeToWorktree } from '../sandbox/worktree/layout.js';
import type { WorktreeRecord } from '../sandbox/worktree/record.js';
import { reviewedWorktree, sessionWorktree, type ReviewedWorktree, type SessionWorktree } from '../sandbox/worktree/session-worktree.js';
import { LaunchRefusal, type PreparedLaunch } from './launch.js';

export interface WorktreeLaunch {
  /** The launch with its workspace moved into the worktree. */
  readonly prepared: PreparedLaunch;
  readonly worktree: SessionWorktree;
  readonly created: CreatedWorktree;
  /** Removes the worktree again (the session could not start), once its checkout has stopped writing. */
  undo(): Promise<void>;
}

function isInside(child: string, parent: string): boolean {
  return child === parent || child.startsWith(parent.endsWith('/') ? parent : `${parent}/`);
}

export interface WorktreeLaunchOptions {
  readonly sessionId: string;
  readonly base?: string;
  readonly bwrap: string;
  readonly userHome: string;
  readonly workers?: number;
}

/** Makes the session's worktree, or throws a LaunchRefusal (nothing made). */
export function prepareWorktreeLaunch(p: PreparedLaunch, o: WorktreeLaunchOptions): WorktreeLaunch {
  let base;
  try {
    base = checkWorktreeBase(p.workspace, o.base ?? 'HEAD');
  } catch (e) {
    if (e instanceof WorktreeError) throw new LaunchRefusal('worktree', e.message);
    throw e;
  }
  const fs = p.persona.filesystem;
  // The repository is bound into the sandbox read-only: never over a path the persona may not read.
  for (const raw of fs.read_deny) {
    if (raw.startsWith('{workspace}')) continue;
    const denied = expandPath(raw, { workspace: p.workspace, userHome: o.userHome });
    if (isInside(base.commonDir, denied) || isInside(base.toplevel, denied)) {
      throw new LaunchRefusal('worktree', `--worktree: ${base.toplevel} is hidden from persona "${p.persona.name}" (filesystem.read_deny: ${raw})`);
    }
  }
  const write = relativeToWorktree(fs.write, base.subdir);
  let created: CreatedWorktree;
  try {
    created = createWorktree({
      base,
      personaeHome: p.home,
      persona: p.persona.name,
      sessionId: o.sessionId,
      identity: { name: p.persona.display_name, email: `${p.persona.name}@personae.invalid` },
      grants: { write, allow_sensitive: [...fs.allow_sensitive] },
      planPaths: planPaths(write, relativeToWorktree(fs.read_deny, base.subdir), SENSITIVE_PATHS),
      workers: o.workers,
    });
  } catch (e) {
    if (e instanceof WorktreeError) throw new LaunchRefusal('worktree', e.message);
    throw e;
  }
  return {
    prepared: { ...p, workspace: created.workspace },
    worktree: sessionWorktree(created, o.bwrap),
    created,
    undo: async () => {
      await created.ready.catch(() => undefined);
      removeWorktreeFiles(created.record);
    },
  };
}

/**
 * A launch that reviews another session's worktree: its workspace is that
 * worktree, read-only. A persona that may write its workspace is refused:
 * another session's worktree is never writable.
 */
export function prepareReviewLaunch(p: PreparedLaunch, session: string, rec: WorktreeRecord): { prepared: PreparedLaunch; review: ReviewedWorktree } {
  const writes = p.persona.filesystem.write.filter((w) => w === '{workspace}' || w.startsWith('{workspace}/'));
  if (writes.length > 0) {
    throw new LaunchRefusal('worktree', `--review: persona "${p.persona.name}" may write ${writes[0] ?? ''}; another session's worktree is given read-only, so the reviewer must have no write grant in its workspace`);
  }
  const workspace = rec.subdir === '' ? rec.path : `${rec.path}/${rec.subdir}`;
  return { prepared: { ...p, workspace }, review: reviewedWorktree(session, rec) };
}
