// Creating a session's worktree: check the base first (a repository, a clean
// checkout, a commit: one line each when not, nothing created), then a real
// `git worktree add` on a new branch, personae's private parts beside it,
// and the checkout. What the filesystem plan looks at (persistence traps,
// hidden paths) is checked out at once; the rest is written in the
// background while the sandbox sets itself up, and the session's command
// starts only once it is all there (see Session's `workspaceReady`).
import { closeSync, copyFileSync, cpSync, mkdirSync, openSync, readFileSync, realpathSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { WorktreeRecord } from './record.js';
import { git, gitMessage, gitSync, objectName } from './git.js';
import { branchName, INSIDE_GIT_OBJECTS, repoId, worktreeParts, worktreePaths } from './layout.js';

/** A worktree that cannot be made or used, said in one line. */
export class WorktreeError extends Error {
  override readonly name = 'WorktreeError';
}

export interface WorktreeBase {
  /** The checkout's top level (real path). */
  readonly toplevel: string;
  readonly commonDir: string;
  /** The workspace relative to the top level ('' = the top). */
  readonly subdir: string;
  readonly commit: string;
  readonly ref: string;
}

function realpath(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

/** Finds the repository around `workspace` and the commit `ref` names; refuses a dirty checkout. Creates nothing. */
export function checkWorktreeBase(workspace: string, ref = 'HEAD'): WorktreeBase {
  const where = gitSync(['rev-parse', '--path-format=absolute', '--show-toplevel', '--git-common-dir', '--show-prefix'], { cwd: workspace });
  if (where.code !== 0) {
    if (/not a git repository/i.test(where.stderr)) throw new WorktreeError(`--worktree: ${workspace} is not inside a git repository`);
    throw new WorktreeError(`--worktree: ${workspace}: ${gitMessage(where)}`);
  }
  const [top = '', common = '', prefix = ''] = where.stdout.split('\n');
  const toplevel = realpath(top);
  const commonDir = realpath(common);
  if (ref === '' || ref.startsWith('-') || /[\0\n]/.test(ref)) throw new WorktreeError(`--base ${JSON.stringify(ref)}: not a ref`);
  const commit = gitSync(['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`], { cwd: toplevel });
  const sha = objectName(commit.stdout);
  if (commit.code !== 0 || sha === undefined) {
    if (ref === 'HEAD') throw new WorktreeError(`--worktree: ${toplevel} has no commits yet; a worktree starts from a commit`);
    throw new WorktreeError(`--base ${ref}: no such commit in ${toplevel}`);
  }
  const subdir = prefix.replace(/\/+$/, '');
  if (subdir !== '' && gitSync(['cat-file', '-e', `${sha}:${subdir}`], { cwd: toplevel }).code !== 0) {
    throw new WorktreeError(`--worktree: ${subdir} (the workspace) is not in ${ref} (${sha.slice(0, 12)}); run from a folder the commit has`);
  }
  const status = gitSync(['status', '--porcelain=v1', '-z', '--untracked-files=no', '--ignore-submodules=dirty'], { cwd: toplevel });
  if (status.code !== 0) throw new WorktreeError(`--worktree: ${toplevel}: ${gitMessage(status)}`);
  const dirty = status.stdout.split('\0').filter((e) => e.length > 3);
  if (dirty.length > 0) {
    const first = dirty[0]?.slice(3) ?? '';
    throw new WorktreeError(
      `--worktree: ${toplevel} has uncommitted changes (${dirty.length} file${dirty.length === 1 ? '' : 's'}, e.g. ${first}); commit or stash them first, or run without --worktree`,
    );
  }
  return { toplevel, commonDir, subdir, commit: sha, ref };
}

export interface WorktreeSpec {
  readonly base: WorktreeBase;
  readonly personaeHome: string;
  readonly persona: string;
  readonly sessionId: string;
  readonly identity: WorktreeRecord['identity'];
  readonly grants: WorktreeRecord['grants'];
  /** Worktree-relative paths checked out before anything else (see layout.planPaths). */
  readonly planPaths: readonly string[];
  /** Parallel checkout workers (git's checkout.workers); default 4: writing files is bound by the file system, not the cores. */
  readonly workers?: number;
}

export interface CreatedWorktree {
  readonly record: WorktreeRecord;
  /** The session's workspace: the worktree, or the same subdirectory of it. */
  readonly workspace: string;
  /** Resolves once every file is checked out; rejects (a WorktreeError) when the checkout fails. */
  readonly ready: Promise<void>;
}

/** git on the worktree as the session sees it: its private admin directory. */
function checkoutArgs(rec: WorktreeRecord): string[] {
  return ['--git-dir', worktreeParts(rec).admin, '--work-tree', rec.path];
}

function listFiles(rec: WorktreeRecord, pathspecs: readonly string[]): string[] {
  const r = gitSync([...checkoutArgs(rec), 'ls-files', '-z', '--', ...pathspecs.map((p) => `:(literal)${p}`)]);
  if (r.code !== 0) throw new WorktreeError(`the worktree's checkout failed: ${gitMessage(r)}`);
  return r.stdout.split('\0').filter((f) => f !== '');
}

/** Makes the worktree and personae's parts of it; the checkout finishes in the background (`ready`). */
export function createWorktree(spec: WorktreeSpec): CreatedWorktree {
  const { base } = spec;
  const where = worktreePaths(spec.personaeHome, repoId(base.toplevel, base.commonDir), spec.sessionId);
  const branch = branchName(spec.persona, spec.sessionId);
  mkdirSync(path.dirname(where.path), { recursive: true, mode: 0o700 });
  const add = gitSync(['worktree', 'add', '--quiet', '--no-checkout', '-b', branch, where.path, base.commit], { cwd: base.toplevel });
  if (add.code !== 0) throw new WorktreeError(`--worktree: git worktree add failed: ${gitMessage(add)}`);
  let rec: WorktreeRecord | undefined;
  try {
    const gitfile = readFileSync(path.join(where.path, '.git'), 'utf8');
    const admin = realpath(gitfile.replace(/^gitdir:\s*/, '').trim());
    if (path.dirname(admin) !== path.join(base.commonDir, 'worktrees')) throw new WorktreeError(`--worktree: unexpected worktree admin directory ${admin}`);
    rec = {
      repo: base.toplevel, common_dir: base.commonDir, admin_dir: admin, path: realpath(where.path), private_dir: where.private_dir,
      branch, base: base.commit, base_ref: base.ref, subdir: base.subdir, identity: spec.identity, grants: spec.grants,
    };
    preparePrivate(rec);
    const tree = gitSync([...checkoutArgs(rec), 'read-tree', base.commit]);
    if (tree.code !== 0) throw new WorktreeError(`the worktree's checkout failed: ${gitMessage(tree)}`);
    // What the filesystem plan decides on must be there before it is made.
    const first = spec.planPaths.length > 0 ? listFiles(rec, spec.planPaths) : [];
    if (first.length > 0) checkout(rec, first, 1, true);
    // The workspace itself, when it is a folder of the worktree: the plan names it.
    if (base.subdir !== '') mkdirSync(path.join(rec.path, base.subdir), { recursive: true });
    const made = rec;
    const ready = (async () => {
      const skip = new Set(first);
      const rest = listFiles(made, []).filter((f) => !skip.has(f));
      await checkout(made, rest, spec.workers ?? 4, false);
      // The repository's view of the worktree: checked out, at the base (the session's own index stays private).
      copyFileSync(path.join(worktreeParts(made).admin, 'index'), path.join(made.admin_dir, 'index'));
    })();
    ready.catch(() => undefined);
    return { record: rec, workspace: base.subdir === '' ? rec.path : path.join(rec.path, base.subdir), ready };
  } catch (e) {
    removeWorktreeFiles(rec ?? { ...where, repo: base.toplevel, common_dir: base.commonDir, branch, admin_dir: '' });
    throw e instanceof WorktreeError ? e : new WorktreeError(`--worktree: ${(e as Error).message}`);
  }
}

function checkout(rec: WorktreeRecord, files: readonly string[], workers: number, sync: true): void;
function checkout(rec: WorktreeRecord, files: readonly string[], workers: number, sync: false): Promise<void>;
function checkout(rec: WorktreeRecord, files: readonly string[], workers: number, sync: boolean): void | Promise<void> {
  const args = ['-c', `checkout.workers=${workers}`, ...checkoutArgs(rec), 'checkout-index', '-u', '-z', '--stdin'];
  const input = files.length === 0 ? '' : `${files.join('\0')}\0`;
  const failed = (r: { code: number; stderr: string; stdout: string }): WorktreeError => new WorktreeError(`the worktree's checkout failed: ${gitMessage(r)}`);
  if (sync) {
    const r = gitSync(args, { input });
    if (r.code !== 0) throw failed(r);
    return;
  }
  if (files.length === 0) return Promise.resolve();
  return git(args, { input, timeoutMs: 600_000 }).then((r) => {
    if (r.code !== 0) throw failed(r);
  });
}

/**
 * The session's private objects (their alternates name the real store inside
 * the sandbox), ref, reflog and admin directory (a copy of the worktree's,
 * its commondir absolute so that it resolves from either path); the mount
 * points they need.
 */
function preparePrivate(rec: WorktreeRecord): void {
  const p = worktreeParts(rec);
  mkdirSync(path.join(p.objects, 'info'), { recursive: true, mode: 0o700 });
  writeFileSync(path.join(p.objects, 'info', 'alternates'), `${INSIDE_GIT_OBJECTS}\n`);
  mkdirSync(p.refsDir, { mode: 0o700 });
  mkdirSync(p.logsDir, { mode: 0o700 });
  writeFileSync(p.refFile, `${rec.base}\n`);
  try {
    copyFileSync(path.join(p.branchLogDir, path.basename(rec.branch)), p.logFile);
  } catch {
    writeFileSync(p.logFile, '');
  }
  mkdirSync(p.branchRefDir, { recursive: true });
  mkdirSync(p.branchLogDir, { recursive: true });
  try {
    closeSync(openSync(path.join(rec.admin_dir, 'config.worktree'), 'wx', 0o644));
  } catch {
    // there already (the repository uses per-worktree config): pinned as it is
  }
  cpSync(rec.admin_dir, p.admin, { recursive: true, verbatimSymlinks: true });
  writeFileSync(path.join(p.admin, 'commondir'), `${rec.common_dir}\n`);
}

function isInside(child: string, parent: string): boolean {
  return child.startsWith(`${parent}/`);
}

/**
 * Removes a worktree's checkout, personae's private parts, its admin
 * directory and its branch. Each path is checked to be where personae put it
 * first (the record is personae's own, but a bad one must not delete elsewhere).
 */
export function removeWorktreeFiles(rec: Pick<WorktreeRecord, 'repo' | 'common_dir' | 'admin_dir' | 'path' | 'private_dir' | 'branch'>): void {
  if (path.basename(path.dirname(path.dirname(rec.private_dir))) === 'worktrees' && rec.private_dir.endsWith('.personae')) {
    rmSync(rec.private_dir, { recursive: true, force: true });
  }
  const root = path.dirname(path.dirname(rec.path));
  if (path.basename(root) === 'worktrees' && isInside(rec.path, root)) {
    rmSync(rec.path, { recursive: true, force: true });
    try {
      rmdirSync(path.dirname(rec.path)); // the repository's folder, once its last worktree is gone
    } catch {
      // others remain
    }
  }
  if (rec.admin_dir !== '' && path.dirname(rec.admin_dir) === path.join(rec.common_dir, 'worktrees')) rmSync(rec.admin_dir, { recursive: true, force: true });
  gitSync(['worktree', 'prune'], { cwd: rec.repo });
  gitSync(['update-ref', '-d', `refs/heads/${rec.branch}`], { cwd: rec.repo });
}
