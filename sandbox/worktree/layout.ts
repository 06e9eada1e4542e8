// Where a session's worktree and its private git data live, and how they are
// mounted into its sandbox. Pure: paths in, paths and bwrap arguments out.
//
// Inside the sandbox the repository's common directory is read-only, and
// four things of this session's own are bound over parts of it:
//   <common>/objects                    the session's private object store
//                                       (its info/alternates names the real
//                                       store, bound read-only at
//                                       INSIDE_GIT_OBJECTS)
//   <common>/refs/heads/personae/<p>    a directory holding only this
//   <common>/logs/refs/heads/personae/<p>  session's branch ref and its reflog
//   <common>/worktrees/<name>           a private copy of its admin dir
//                                       (HEAD, index, logs), the others
//                                       hidden; commondir, gitdir and
//                                       config.worktree pinned read-only
// and the worktree's `.git` file is pinned read-only. So the session commits
// on its branch while the repository on the host sees none of it (its own
// `git gc` or `fsck` never meets an object it lacks): the objects enter the
// repository after the session, through index-pack --strict (objects.ts),
// then personae sets the branch and the worktree's index.
import path from 'node:path';
import type { WorktreeRecord } from './record.js';

/** The real object store inside the sandbox (read-only); the private store's alternates name it. */
export const INSIDE_GIT_OBJECTS = '/run/personae/git-objects';

function isInside(child: string, parent: string): boolean {
  return child === parent || child.startsWith(parent.endsWith('/') ? parent : `${parent}/`);
}

/** A stable 32-bit FNV-1a hash, as 8 hex digits (no node:crypto on the launch path). */
export function fnv32(text: string): string {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return (h >>> 0).toString(16).padStart(8, '0');
}

/** `<name>-<hash of the common dir>`: one folder per repository under $PERSONAE_HOME/worktrees. */
export function repoId(toplevel: string, commonDir: string): string {
  const name = path.basename(toplevel).toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[.-]+|-+$/g, '').slice(0, 40) || 'repo';
  return `${name}-${fnv32(commonDir)}`;
}

/** The session's short id: the first 8 hex digits of its id. */
export function shortId(sessionId: string): string {
  return sessionId.replace(/-/g, '').slice(0, 8);
}

export function branchName(persona: string, sessionId: string): string {
  return `personae/${persona}/${shortId(sessionId)}`;
}

export function worktreePaths(personaeHome: string, repo: string, sessionId: string): { path: string; private_dir: string } {
  const dir = path.join(personaeHome, 'worktrees', repo);
  const short = shortId(sessionId);
  return { path: path.join(dir, short), private_dir: path.join(dir, `${short}.personae`) };
}

/** The host paths of a record's parts. */
export function worktreeParts(rec: WorktreeRecord): {
  objects: string;
  refsDir: string;
  logsDir: string;
  refFile: string;
  logFile: string;
  snapshot: string;
  admin: string;
  branchRefDir: string;
  branchLogDir: string;
} {
  const leaf = path.basename(rec.branch);
  const parent = path.dirname(rec.branch);
  const refsDir = path.join(rec.private_dir, 'refs');
  const logsDir = path.join(rec.private_dir, 'logs');
  return {
    objects: path.join(rec.private_dir, 'objects'),
    refsDir,
    logsDir,
    refFile: path.join(refsDir, leaf),
    logFile: path.join(logsDir, leaf),
    snapshot: path.join(rec.private_dir, 'snapshot'),
    admin: path.join(rec.private_dir, 'admin'),
    branchRefDir: path.join(rec.common_dir, 'refs', 'heads', parent),
    branchLogDir: path.join(rec.common_dir, 'logs', 'refs', 'heads', parent),
  };
}

export interface WorktreeMountContext {
  /** The session's writable host paths. */
  readonly writable: readonly string[];
  /** Checkouts of the repository other than this worktree (the source checkout first). */
  readonly checkouts: readonly string[];
  /** personae's own data (hidden in every sandbox): checkouts inside it stay hidden. */
  readonly personaeHome: string;
}

/**
 * bwrap arguments for a worktree session, placed after the writable grants:
 * the repository read-only (and any checkout of it a writable grant covers),
 * then this session's own parts bound over it.
 */
export function worktreeMounts(rec: WorktreeRecord, ctx: WorktreeMountContext): string[] {
  const p = worktreeParts(rec);
  const a: string[] = [];
  // The whole worktree is visible (personae's data around it is hidden): read-only, but for the writable grants in it.
  if (!ctx.writable.includes(rec.path)) {
    a.push('--ro-bind', rec.path, rec.path);
    for (const w of ctx.writable) if (isInside(w, rec.path)) a.push('--bind', w, w);
  }
  for (const c of ctx.checkouts) {
    if (isInside(c, ctx.personaeHome)) continue;
    if (ctx.writable.some((w) => isInside(c, w) || isInside(w, c))) a.push('--ro-bind', c, c);
  }
  const common = rec.common_dir;
  a.push('--ro-bind', common, common);
  a.push('--ro-bind', path.join(common, 'objects'), INSIDE_GIT_OBJECTS);
  a.push('--bind', p.objects, path.join(common, 'objects'));
  a.push('--bind', p.refsDir, p.branchRefDir);
  a.push('--bind', p.logsDir, p.branchLogDir);
  const worktrees = path.join(common, 'worktrees');
  a.push('--tmpfs', worktrees, '--bind', p.admin, rec.admin_dir, '--remount-ro', worktrees);
  for (const f of ['commondir', 'gitdir', 'config.worktree']) a.push('--ro-bind', path.join(rec.admin_dir, f), path.join(rec.admin_dir, f));
  a.push('--ro-bind', path.join(rec.path, '.git'), path.join(rec.path, '.git'));
  return a;
}

/** The worktree-relative paths a launch's filesystem plan looks at (traps, hidden paths): checked out before the plan is made. */
export function planPaths(writeRel: readonly string[], denyRel: readonly string[], traps: readonly string[]): string[] {
  const out = new Set<string>();
  for (const w of writeRel) for (const t of traps) out.add(w === '' ? t : `${w}/${t}`);
  for (const d of denyRel) if (d !== '') out.add(d);
  return [...out].filter((p) => !p.split('/').includes('.git') && !p.startsWith('.git'));
}

/** `{workspace}`-relative persona paths as worktree-relative ones ('' = the top), given the workspace's subdirectory. */
export function relativeToWorktree(raw: readonly string[], subdir: string): string[] {
  const out: string[] = [];
  for (const r of raw) {
    if (r !== '{workspace}' && !r.startsWith('{workspace}/')) continue;
    const rest = r.slice('{workspace}'.length).replace(/^\/+|\/+$/g, '');
    const joined = [subdir, rest].filter((x) => x !== '').join('/');
    out.push(path.posix.normalize(joined === '' ? '.' : joined).replace(/^\.$/, ''));
  }
  return out;
}

/**
 * bwrap arguments and environment for a session that reviews another
 * session's worktree (its workspace, read-only): the repository, and the
 * other session's own objects and branch ref, all read-only, so its work
 * shows as it is now, committed or not.
 */
export function reviewMounts(rec: WorktreeRecord): { mounts: string[]; env: Record<string, string> } {
  const p = worktreeParts(rec);
  return {
    mounts: ['--ro-bind', rec.common_dir, rec.common_dir, '--ro-bind', p.objects, p.objects, '--ro-bind', p.refsDir, p.branchRefDir, '--ro-bind', p.admin, rec.admin_dir],
    env: { GIT_ALTERNATE_OBJECT_DIRECTORIES: p.objects },
  };
}
