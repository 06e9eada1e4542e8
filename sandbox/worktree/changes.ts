// What a session changed in its worktree, against its base: the commits on
// its branch (with persona and on-behalf-of), every file changed (committed
// or not; a file not committed is marked so), and the patch. Computed in a
// sandbox (git reads the agent's worktree, index and objects): a scratch
// index takes the worktree's state (`git add -A`, so ignored files are not
// part of the change) and is written as a tree, and the trees are compared.
import { mkdirSync } from 'node:fs';
import { WorktreeError } from './create.js';
import { gitMessage } from './git.js';
import { worktreeParts } from './layout.js';
import type { WorktreeRecord } from './record.js';
import { runSandboxed, UNTRUSTED_GIT } from './sandboxed-git.js';

export interface ChangeCommit {
  readonly sha: string;
  readonly author: string;
  readonly email: string;
  readonly date: string;
  readonly subject: string;
  readonly on_behalf_of: string | null;
  readonly session: string | null;
}

export interface ChangedFile {
  readonly path: string;
  /** git's status letter: A added, M modified, D deleted, T type changed. */
  readonly status: string;
  /** Lines added and deleted; null for a binary file. */
  readonly added: number | null;
  readonly deleted: number | null;
  /** Changed in the worktree but not committed on the branch. */
  readonly uncommitted: boolean;
}

export interface WorktreeChanges {
  readonly base: string;
  /** The branch's tip (the session's last commit, or the base). */
  readonly tip: string;
  /** The tree of everything in the worktree (committed or not). */
  readonly work: string;
  readonly commits: readonly ChangeCommit[];
  readonly files: readonly ChangedFile[];
  /** Every path a commit on the branch touched (an intermediate commit may add what a later one removes). */
  readonly touched: readonly string[];
  /** The whole change as one patch (base to worktree); empty unless asked for. */
  readonly patch: string;
  readonly truncated: boolean;
}

const LOG_FORMAT = ['%H', '%an', '%ae', '%aI', '%s', '%(trailers:key=On-behalf-of,valueonly,separator=%x2C)', '%(trailers:key=Personae-Session,valueonly,separator=%x2C)'].join('%x1f');
const SECTIONS = ['log', 'status', 'numstat', 'uncommitted', 'touched', 'patch'] as const;

function script(withPatch: boolean): string {
  const g = `git ${UNTRUSTED_GIT.join(' ')}`;
  return [
    'set -e',
    'mkdir -p /tmp/out "$GIT_OBJECT_DIRECTORY"',
    `${g} cat-file -e "$TIP^{commit}" 2>/dev/null || TIP="$BASE"`,
    // The worktree's own index, for its file times (no re-reading of unchanged files); the branch's tip when it cannot be read.
    `{ [ -f "$GIT_DIR/index" ] && [ ! -L "$GIT_DIR/index" ] && cp "$GIT_DIR/index" "$GIT_INDEX_FILE" 2>/dev/null && ${g} ls-files >/dev/null 2>&1; } || { rm -f "$GIT_INDEX_FILE"; ${g} read-tree "$TIP"; }`,
    `${g} add -A --ignore-errors >/dev/null 2>&1 || true`,
    `work=$(${g} write-tree)`,
    `${g} log -z --max-count=500 --format='${LOG_FORMAT}' "$BASE..$TIP" > /tmp/out/log`,
    `${g} diff-tree -r -z --no-renames --name-status "$BASE" "$work" > /tmp/out/status`,
    `${g} diff-tree -r -z --no-renames --numstat "$BASE" "$work" > /tmp/out/numstat`,
    `${g} diff-tree -r -z --no-renames --name-only "$TIP" "$work" > /tmp/out/uncommitted`,
    `${g} log -z --max-count=10000 --no-renames --name-only --format= "$BASE..$TIP" > /tmp/out/touched`,
    withPatch
      ? `${g} diff-tree -p --no-renames --no-color --no-ext-diff --no-textconv --full-index "$BASE" "$work" > /tmp/out/patch`
      : ': > /tmp/out/patch',
    'printf "tip %s\\nwork %s\\n" "$TIP" "$work"',
    `for f in ${SECTIONS.join(' ')}; do printf '%s %s\\n' "$f" "$(wc -c < /tmp/out/$f)"; cat /tmp/out/$f; done`,
  ].join('\n');
}

/** Splits the script's output: two header lines, then `name size\n` + size bytes per section. */
export function parseSections(out: Buffer): { tip: string; work: string; sections: Map<string, Buffer> } {
  const sections = new Map<string, Buffer>();
  let pos = 0;
  const line = (): string => {
    const end = out.indexOf(0x0a, pos);
    if (end < 0) throw new WorktreeError('unexpected output from git');
    const text = out.subarray(pos, end).toString('utf8');
    pos = end + 1;
    return text;
  };
  const tip = line().replace(/^tip /, '');
  const work = line().replace(/^work /, '');
  while (pos < out.length) {
    const [name = '', size = ''] = line().split(' ');
    const n = Number(size);
    if (!Number.isSafeInteger(n) || n < 0) throw new WorktreeError('unexpected output from git');
    sections.set(name, out.subarray(pos, pos + n));
    pos += n;
  }
  return { tip, work, sections };
}

export function parseLog(text: string): ChangeCommit[] {
  return text.split('\0').filter((r) => r.trim() !== '').map((r) => {
    const [sha = '', author = '', email = '', date = '', subject = '', behalf = '', session = ''] = r.replace(/^\n/, '').split('\x1f');
    return { sha, author, email, date, subject, on_behalf_of: behalf.trim() || null, session: session.trim() || null };
  });
}

/** Files from `--name-status -z`, `--numstat -z` and the uncommitted `--name-only -z` lists. */
export function parseFiles(status: string, numstat: string, uncommitted: string): ChangedFile[] {
  const counts = new Map<string, { added: number | null; deleted: number | null }>();
  for (const entry of numstat.split('\0')) {
    const m = /^(\d+|-)\t(\d+|-)\t(.*)$/s.exec(entry);
    if (!m) continue;
    counts.set(m[3] ?? '', { added: m[1] === '-' ? null : Number(m[1]), deleted: m[2] === '-' ? null : Number(m[2]) });
  }
  const open = new Set(uncommitted.split('\0').filter((p) => p !== ''));
  const parts = status.split('\0');
  const files: ChangedFile[] = [];
  for (let i = 0; i + 1 < parts.length; i += 2) {
    const letter = parts[i] ?? '';
    const p = parts[i + 1] ?? '';
    if (letter === '' || p === '') continue;
    const c = counts.get(p) ?? { added: null, deleted: null };
    files.push({ path: p, status: letter.slice(0, 1), added: c.added, deleted: c.deleted, uncommitted: open.has(p) });
  }
  return files;
}

export interface ChangesOptions {
  readonly bwrap: string;
  /** Host directories hidden in the sandbox (homes, personae's data). */
  readonly hide: readonly string[];
  /** The branch tip to compare with (the session's private ref, or the imported branch). */
  readonly tip: string;
  readonly withPatch?: boolean;
  /** Keep the objects of the worktree's state (uncommitted files) in personae's snapshot directory, for apply to import. */
  readonly keepObjects?: boolean;
  readonly maxPatchBytes?: number;
}

export async function worktreeChanges(rec: WorktreeRecord, o: ChangesOptions): Promise<WorktreeChanges> {
  const p = worktreeParts(rec);
  if (o.keepObjects) mkdirSync(p.snapshot, { recursive: true, mode: 0o700 });
  const objects = o.keepObjects ? p.snapshot : '/tmp/objects';
  const r = await runSandboxed(
    {
      bwrap: o.bwrap,
      hide: o.hide,
      ro: [rec.common_dir, rec.path, p.objects, p.admin],
      rw: o.keepObjects ? [{ src: p.snapshot, dest: p.snapshot }] : [],
      mask: [`${p.objects}/info`],
      env: {
        GIT_DIR: p.admin, GIT_COMMON_DIR: rec.common_dir, GIT_WORK_TREE: rec.path, GIT_INDEX_FILE: '/tmp/index',
        GIT_OBJECT_DIRECTORY: objects, GIT_ALTERNATE_OBJECT_DIRECTORIES: `${rec.common_dir}/objects:${p.objects}`,
        BASE: rec.base, TIP: o.tip,
      },
    },
    ['sh', '-c', script(o.withPatch === true)],
    { timeoutMs: 120_000, maxBytes: (o.maxPatchBytes ?? 8 * 1024 * 1024) + 4 * 1024 * 1024 },
  );
  if (r.code !== 0) throw new WorktreeError(`cannot read the session's changes: ${gitMessage({ code: r.code, stdout: '', stderr: r.stderr })}`);
  const { tip, work, sections } = parseSections(r.stdout);
  const text = (name: string): string => sections.get(name)?.toString('utf8') ?? '';
  const max = o.maxPatchBytes ?? 8 * 1024 * 1024;
  const patch = text('patch');
  return {
    base: rec.base,
    tip,
    work,
    commits: parseLog(text('log')),
    files: parseFiles(text('status'), text('numstat'), text('uncommitted')),
    touched: [...new Set(text('touched').split(/[\0\n]/).filter((p) => p !== ''))],
    patch: patch.length > max ? patch.slice(0, max) : patch,
    truncated: r.truncated || patch.length > max,
  };
}
