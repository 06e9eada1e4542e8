// A session's commits enter the repository only through here: the objects it
// wrote (in its private store) are packed inside a sandbox, and the
// repository takes the pack with `index-pack --strict`, which computes every
// object's name from its content, refuses one that differs from an object
// the repository already has under that name, and checks each object (fsck)
// and that everything it links to is there. Then personae moves the
// session's branch to the tip the session left in its private ref.
import { copyFileSync, existsSync, lstatSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { WorktreeError } from './create.js';
import { git, gitMessage, hostGitEnv, objectName, SAFE_GIT } from './git.js';
import { worktreeParts } from './layout.js';
import type { WorktreeRecord } from './record.js';
import { spawnSandboxed, UNTRUSTED_GIT, type GitSandbox } from './sandboxed-git.js';

/** The tip the session left on its branch (its private ref), when it names an object. */
export function sessionTip(rec: WorktreeRecord): string | undefined {
  try {
    const ref = worktreeParts(rec).refFile;
    if (!lstatSync(ref).isFile()) return undefined;
    return objectName(readFileSync(ref, 'utf8').slice(0, 200));
  } catch {
    return undefined;
  }
}

/** Does an object store hold anything (loose objects or packs)? */
export function hasObjects(dir: string): boolean {
  try {
    return readdirSync(dir).some((e) => (e === 'pack' ? readdirSync(`${dir}/pack`).length > 0 : e !== 'info'));
  } catch {
    return false;
  }
}

/**
 * The first entry below `dir` that is neither a directory nor a regular file
 * (a symlink the agent planted would make git read, outside the store, a file
 * the user can read), or undefined. Bounded.
 */
export function oddEntry(dir: string, max = 200_000): string | undefined {
  const stack = [dir];
  let seen = 0;
  while (stack.length > 0) {
    const d = stack.pop() as string;
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (++seen > max) return `${d}/… (more than ${max} entries)`;
      const p = path.join(d, e.name);
      if (e.isDirectory()) stack.push(p);
      else if (!e.isFile()) return p;
    }
  }
  return undefined;
}

/** Packs every object of `dir` (in a sandbox) and feeds the pack to `index-pack --strict` in the repository. */
export function importObjects(bwrap: string, hide: readonly string[], rec: WorktreeRecord, dir: string): Promise<void> {
  if (!existsSync(dir) || !hasObjects(dir)) return Promise.resolve();
  const odd = oddEntry(dir);
  if (odd !== undefined) return Promise.reject(new WorktreeError(`the session's object store holds something other than files (${path.relative(rec.private_dir, odd)}); it is not taken in`));
  const sandbox: GitSandbox = {
    bwrap,
    hide,
    ro: [],
    // Writable: git makes the store's pack/ directory when it is missing (the store is the session's own).
    rw: [{ src: dir, dest: dir }],
    // The agent's own info/alternates would add other stores to the listing.
    mask: [`${dir}/info`],
    env: { GIT_DIR: '/tmp/g', GIT_OBJECT_DIRECTORY: dir },
  };
  const script = [
    'set -e',
    'git init -q --bare /tmp/g',
    `git ${UNTRUSTED_GIT.join(' ')} cat-file --batch-all-objects --batch-check='%(objectname)' > /tmp/list`,
    '[ -s /tmp/list ] || exit 0',
    `git ${UNTRUSTED_GIT.join(' ')} pack-objects -q --stdout < /tmp/list`,
  ].join('\n');
  return new Promise((resolve, reject) => {
    const packer = spawnSandboxed(sandbox, ['sh', '-c', script]);
    const index = spawn('git', [...SAFE_GIT, '--git-dir', rec.common_dir, 'index-pack', '--stdin', '--strict'], {
      env: hostGitEnv(),
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    let packErr = '';
    let indexErr = '';
    let sent = 0;
    packer.stderr.setEncoding('utf8').on('data', (d: string) => (packErr += d.slice(0, 4096)));
    index.stderr.setEncoding('utf8').on('data', (d: string) => (indexErr += d.slice(0, 4096)));
    packer.stdout.on('data', (d: Buffer) => (sent += d.length));
    packer.stdout.pipe(index.stdin);
    index.stdin.on('error', () => undefined);
    const timer = setTimeout(() => {
      packer.kill('SIGKILL');
      index.kill('SIGKILL');
    }, 300_000);
    let packCode: number | null | undefined;
    let indexCode: number | null | undefined;
    const done = (): void => {
      if (packCode === undefined || indexCode === undefined) return;
      clearTimeout(timer);
      if (packCode !== 0) reject(new WorktreeError(`the session's git objects cannot be read: ${gitMessage({ code: packCode ?? 1, stdout: '', stderr: packErr })}`));
      else if (sent === 0) resolve();
      else if (indexCode !== 0) reject(new WorktreeError(`the repository refused the session's git objects: ${gitMessage({ code: indexCode ?? 1, stdout: '', stderr: indexErr })}`));
      else resolve();
    };
    packer.on('close', (c) => {
      packCode = c;
      if (sent === 0) index.stdin.end();
      done();
    });
    index.on('close', (c) => {
      indexCode = c;
      done();
    });
    packer.on('error', (e) => reject(new WorktreeError(`cannot sandbox git: ${e.message}`)));
    index.on('error', (e) => reject(new WorktreeError(`cannot run git: ${e.message}`)));
  });
}

/** Is `sha` a commit the repository has? */
export async function isCommit(rec: WorktreeRecord, sha: string): Promise<boolean> {
  const r = await git(['--git-dir', rec.common_dir, 'cat-file', '-t', sha]);
  return r.code === 0 && r.stdout.trim() === 'commit';
}

/** The branch's value in the repository, when it has one. */
export async function branchValue(rec: WorktreeRecord): Promise<string | undefined> {
  const r = await git(['--git-dir', rec.common_dir, 'rev-parse', '--verify', '--quiet', `refs/heads/${rec.branch}`]);
  return r.code === 0 ? objectName(r.stdout) : undefined;
}

/**
 * Brings the session's work into the repository: its objects (verified), then
 * its branch to the tip it left. Idempotent; a session that never committed
 * keeps its branch at the base. Resolves to the tip.
 */
export async function importSession(bwrap: string, hide: readonly string[], rec: WorktreeRecord): Promise<string> {
  await importObjects(bwrap, hide, rec, worktreeParts(rec).objects);
  const current = (await branchValue(rec)) ?? rec.base;
  const tip = sessionTip(rec);
  if (tip === undefined || tip === current || !(await isCommit(rec, tip))) {
    syncAdmin(rec);
    return current;
  }
  const r = await git(['--git-dir', rec.common_dir, 'update-ref', '-m', 'personae: the session\'s commits', `refs/heads/${rec.branch}`, tip, current]);
  if (r.code !== 0) throw new WorktreeError(`cannot move ${rec.branch} to the session's tip: ${gitMessage(r)}`);
  syncAdmin(rec);
  return tip;
}

/**
 * The repository's view of the worktree once its objects are in: the
 * session's index (what it staged), HEAD on its branch (whatever the session
 * wrote into its own). Only after the session: the index is what it left.
 */
function syncAdmin(rec: WorktreeRecord): void {
  const index = path.join(worktreeParts(rec).admin, 'index');
  try {
    // A regular file only: the agent could have left a symlink to any file the user can read.
    if (lstatSync(index).isFile()) copyFileSync(index, path.join(rec.admin_dir, 'index'));
  } catch {
    // no index left: the repository keeps the one of the checkout
  }
  writeFileSync(path.join(rec.admin_dir, 'HEAD'), `ref: refs/heads/${rec.branch}\n`);
}
