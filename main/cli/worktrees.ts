// `personae diff SESSION [--stat]`, `personae apply SESSION [--squash]`,
// `personae discard SESSION`: a worktree session's change, reviewed, then
// kept or thrown away.
import type { ChangedFile, WorktreeChanges } from '../../sandbox/worktree/changes.js';
import { discardSession, findSession, keepSession, sessionChanges, WorktreeProblem } from '../worktrees.js';
import { currentUser, home, openStore } from './context.js';
import { fail, info } from './output.js';

function exitFor(e: WorktreeProblem): number {
  return e.code === 'not-found' || e.code === 'ambiguous' || e.code === 'not-worktree' ? 2 : 1;
}

async function withSession<T>(prefix: string, run: (s: ReturnType<typeof findSession>, store: Awaited<ReturnType<typeof openStore>>) => Promise<T>): Promise<T | number> {
  const store = await openStore();
  try {
    return await run(findSession(store, prefix), store);
  } catch (e) {
    if (e instanceof WorktreeProblem) return fail(e.message, exitFor(e));
    throw e;
  } finally {
    store.close();
  }
}

/** One line per file: status, path, +added -deleted, and whether it is committed. */
export function statLines(files: readonly ChangedFile[]): string[] {
  const width = Math.min(60, Math.max(0, ...files.map((f) => f.path.length)));
  return files.map((f) => {
    const counts = f.added === null ? 'binary' : `+${f.added} -${f.deleted ?? 0}`;
    return `${f.status} ${f.path.padEnd(width)}  ${counts}${f.uncommitted ? '  (uncommitted)' : ''}`;
  });
}

export function summaryLine(id: string, branch: string, ch: WorktreeChanges): string {
  const open = ch.files.filter((f) => f.uncommitted).length;
  return `session ${id.slice(0, 8)} on ${branch}: ${ch.commits.length} commit(s), ${ch.files.length} file(s) changed${open > 0 ? `, ${open} uncommitted` : ''} (base ${ch.base.slice(0, 12)})`;
}

export async function diffCommand(prefix: string, opts: { stat?: boolean }): Promise<number> {
  const r = await withSession(prefix, async (s) => {
    const ch = await sessionChanges(home(), s, { withPatch: !opts.stat, maxPatchBytes: 64 * 1024 * 1024 });
    info(summaryLine(s.id, s.worktree?.branch ?? '', ch));
    if (opts.stat) {
      for (const c of ch.commits) process.stdout.write(`commit ${c.sha.slice(0, 12)} ${c.author}${c.on_behalf_of ? ` (on behalf of ${c.on_behalf_of})` : ''}: ${c.subject}\n`);
      for (const l of statLines(ch.files)) process.stdout.write(`${l}\n`);
    } else process.stdout.write(ch.patch);
    if (ch.truncated) info('the diff is larger than personae reads at once; it was cut');
    return 0;
  });
  return r;
}

export async function applyCommand(prefix: string, opts: { squash?: boolean }): Promise<number> {
  return withSession(prefix, async (s, store) => {
    const r = await keepSession(home(), store, s, { squash: opts.squash, by: currentUser() });
    const short = s.id.slice(0, 8);
    if (r.mode === 'nothing') info(`session ${short} changed nothing; its worktree and branch are removed`);
    else {
      const how = r.mode === 'fast-forward' ? 'fast-forwarded' : r.mode === 'merge' ? 'merged' : 'squashed';
      const open = r.uncommitted > 0 ? ` (${r.uncommitted} uncommitted file(s) committed for persona ${s.persona} first)` : '';
      info(`kept session ${short}: ${how} into ${r.into} of ${s.worktree?.repo ?? ''} at ${r.commit.slice(0, 12)}, ${r.files} file(s)${open}; worktree and branch ${s.worktree?.branch ?? ''} removed`);
    }
    return 0;
  });
}

export async function discardCommand(prefix: string): Promise<number> {
  return withSession(prefix, (s, store) => {
    const rec = discardSession(home(), store, s, { by: currentUser() });
    info(`discarded session ${s.id.slice(0, 8)}: worktree ${rec.path} and branch ${rec.branch} removed`);
    return Promise.resolve(0);
  });
}
