// Keeping a session's change: bring it into the checkout it came from, by a
// fast-forward when the checkout has not moved, else a merge commit, or one
// squashed commit. Uncommitted work left in the worktree is committed first
// (as the persona, with its trailers). Every check comes before the first
// change: the change within the persona's grants, the checkout clean, the
// merge free of conflicts (git merge-tree, which writes no file); the
// checkout is then moved in one `git merge --ff-only`, which refuses rather
// than overwrite anything. Then the worktree and its branch are removed.
import { WorktreeError, removeWorktreeFiles } from './create.js';
import { changeProblems } from './change-policy.js';
import { worktreeChanges, type WorktreeChanges } from './changes.js';
import { git, gitMessage, objectName } from './git.js';
import { worktreeParts } from './layout.js';
import { importObjects, importSession } from './objects.js';
import type { WorktreeRecord } from './record.js';

export interface ApplyOptions {
  readonly bwrap: string;
  readonly hide: readonly string[];
  readonly squash?: boolean;
  readonly sessionId: string;
  readonly persona: string;
  readonly onBehalfOf: string;
  /** The human keeping the change. */
  readonly by: string;
  /** The persistence traps (SENSITIVE_PATHS) the change is checked against. */
  readonly traps: readonly string[];
}

export interface ApplyResult {
  readonly mode: 'fast-forward' | 'merge' | 'squash' | 'nothing';
  /** The checkout's new HEAD. */
  readonly commit: string;
  /** The checkout's branch (or HEAD when detached). */
  readonly into: string;
  readonly files: number;
  /** Uncommitted files personae committed for the persona first. */
  readonly uncommitted: number;
}

interface Ident {
  readonly name: string;
  readonly email: string;
}

function identEnv(author: Ident, committer: Ident): Record<string, string> {
  return {
    GIT_AUTHOR_NAME: author.name, GIT_AUTHOR_EMAIL: author.email,
    GIT_COMMITTER_NAME: committer.name, GIT_COMMITTER_EMAIL: committer.email,
  };
}

/** The user's git identity in the checkout, or one made from their name. */
async function humanIdent(repo: string, by: string): Promise<Ident> {
  const r = await git(['var', 'GIT_COMMITTER_IDENT'], { cwd: repo });
  const m = /^(.*?) <([^>]*)>/.exec(r.stdout);
  if (r.code === 0 && m?.[1] && m[2]) return { name: m[1], email: m[2] };
  return { name: by, email: `${by.replace(/[^A-Za-z0-9._-]/g, '') || 'user'}@personae.invalid` };
}

async function commitTree(repo: string, tree: string, parents: readonly string[], message: string, env: Record<string, string>): Promise<string> {
  const r = await git(['commit-tree', tree, ...parents.flatMap((p) => ['-p', p]), '-F', '-'], { cwd: repo, env, input: message });
  const sha = objectName(r.stdout);
  if (r.code !== 0 || sha === undefined) throw new WorktreeError(`cannot make the commit: ${gitMessage(r)}`);
  return sha;
}

function trailers(o: ApplyOptions): string {
  return `On-behalf-of: ${o.onBehalfOf}\nPersonae-Session: ${o.sessionId}\n`;
}

/** Commits what the session left uncommitted (its objects are imported first); the branch's tip when nothing was. */
async function finalCommit(rec: WorktreeRecord, o: ApplyOptions, ch: WorktreeChanges, open: number, human: Ident): Promise<string> {
  if (open === 0) return ch.tip;
  await importObjects(o.bwrap, o.hide, rec, worktreeParts(rec).snapshot);
  const message = `Uncommitted changes of session ${o.sessionId}\n\nPersona ${o.persona} left ${open} file(s) uncommitted in its worktree;\npersonae committed them when ${o.by} kept the session.\n\n${trailers(o)}`;
  return commitTree(rec.repo, ch.work, [ch.tip], message, identEnv(rec.identity, human));
}

async function headOf(repo: string): Promise<{ head: string; into: string }> {
  const head = objectName((await git(['rev-parse', '--verify', '--quiet', 'HEAD'], { cwd: repo })).stdout);
  if (head === undefined) throw new WorktreeError(`${repo} has no commit checked out; nothing was applied`);
  const sym = await git(['symbolic-ref', '--quiet', '--short', 'HEAD'], { cwd: repo });
  return { head, into: sym.code === 0 ? sym.stdout.trim() : 'HEAD' };
}

/** The merged tree, or the conflicting paths. */
async function mergeTree(repo: string, head: string, final: string): Promise<{ tree: string } | { conflicts: string[] }> {
  const r = await git(['merge-tree', '--write-tree', '--name-only', '--no-messages', head, final], { cwd: repo });
  const lines = r.stdout.split('\n').filter((l) => l !== '');
  const tree = objectName(lines[0] ?? '');
  if (r.code === 0 && tree !== undefined) return { tree };
  if (r.code === 1 && tree !== undefined) return { conflicts: [...new Set(lines.slice(1))] };
  throw new WorktreeError(`cannot merge: ${gitMessage(r)}; nothing was applied`);
}

export async function applyWorktree(rec: WorktreeRecord, o: ApplyOptions): Promise<ApplyResult> {
  const tip = await importSession(o.bwrap, o.hide, rec);
  const ch = await worktreeChanges(rec, { bwrap: o.bwrap, hide: o.hide, tip, keepObjects: true });
  const short = o.sessionId.slice(0, 8);
  // What the checkout gets, and (unless squashed) every commit on the way, which its history keeps.
  const paths = new Set([...ch.files.map((f) => f.path), ...(o.squash ? [] : ch.touched)]);
  const problems = changeProblems([...paths], rec.grants, o.traps);
  if (problems.length > 0) throw new WorktreeError(`session ${short} cannot be kept: ${problems.join('; ')}; nothing was applied`);
  const { head, into } = await headOf(rec.repo);
  if (ch.files.length === 0) {
    removeWorktreeFiles(rec);
    return { mode: 'nothing', commit: head, into, files: 0, uncommitted: 0 };
  }
  const status = await git(['status', '--porcelain=v1', '-z', '--untracked-files=no', '--ignore-submodules=dirty'], { cwd: rec.repo });
  const dirty = status.stdout.split('\0').filter((e) => e.length > 3);
  if (status.code !== 0 || dirty.length > 0) {
    throw new WorktreeError(`${rec.repo} has uncommitted changes (${dirty.length} file(s), e.g. ${dirty[0]?.slice(3) ?? '?'}); commit or stash them first; nothing was applied`);
  }
  const human = await humanIdent(rec.repo, o.by);
  const open = ch.files.filter((f) => f.uncommitted).length;
  const final = await finalCommit(rec, o, ch, open, human);
  const ff = (await git(['merge-base', '--is-ancestor', head, final], { cwd: rec.repo })).code === 0;
  let target = final;
  let mode: ApplyResult['mode'] = ff ? 'fast-forward' : 'merge';
  if (o.squash || !ff) {
    let tree: string;
    if (ff) tree = `${final}^{tree}`;
    else {
      const merged = await mergeTree(rec.repo, head, final);
      if ('conflicts' in merged) {
        const list = merged.conflicts.slice(0, 5).join(', ');
        throw new WorktreeError(
          `session ${short} conflicts with ${rec.repo} (${into}) in ${list}; nothing was applied. To merge by hand: git -C ${rec.repo} merge ${rec.branch}`,
        );
      }
      tree = merged.tree;
    }
    if (o.squash) {
      mode = 'squash';
      const subjects = ch.commits.map((c) => `- ${c.subject}`).join('\n');
      const title = ch.commits.length === 1 ? (ch.commits[0]?.subject ?? '') : `Changes of session ${short} (persona ${o.persona})`;
      const message = `${title}\n\nSquashed from ${rec.branch} (${ch.commits.length} commit(s)${open > 0 ? ` and ${open} uncommitted file(s)` : ''}), kept by ${o.by}.\n${subjects === '' ? '' : `\n${subjects}\n`}\n${trailers(o)}`;
      target = await commitTree(rec.repo, tree, [head], message, identEnv(rec.identity, human));
    } else {
      const message = `Merge session ${short} of persona ${o.persona} (${rec.branch})\n\nKept by ${o.by}.\n\nPersonae-Session: ${o.sessionId}\n`;
      target = await commitTree(rec.repo, tree, [head, final], message, identEnv(human, human));
    }
  }
  const merge = await git(['merge', '--ff-only', '--quiet', target], { cwd: rec.repo });
  if (merge.code !== 0) throw new WorktreeError(`${rec.repo}: ${gitMessage(merge)}; nothing was applied`);
  removeWorktreeFiles(rec);
  return { mode, commit: target, into, files: ch.files.length, uncommitted: open };
}
