// `personae run PERSONA [--workspace DIR] [--on-behalf-of WHO] -- CMD ARGS...`
import type { AuditStore } from '../../sandbox/audit/store.js';
import type { RunningProcess, StdioMode } from '../../sandbox/launch/spawn.js';
import { LaunchRefusal, prepareLaunch, refusalExitCode, sessionOptions, type PreparedLaunch } from '../launch.js';
import type { WorktreeSummary } from '../../sandbox/worktree/session-worktree.js';
import type { WorktreeLaunch } from '../worktree-launch.js';
import type { WorktreeRecord } from '../../sandbox/worktree/record.js';
import type { ReviewedWorktree } from '../../sandbox/worktree/session-worktree.js';
import path from 'node:path';
import { currentUser, home, openStore } from './context.js';
import { fail, info } from './output.js';
import { homedir } from 'node:os';
import { randomUUID } from '../../personas/random.js';

export interface RunOptions {
  readonly workspace: string;
  readonly onBehalfOf?: string;
  readonly tty: boolean;
  /** Run in a new git worktree of the workspace's repository. */
  readonly worktree?: boolean;
  readonly base?: string;
  /** Review this session's worktree, read-only (it becomes the workspace). */
  readonly review?: string;
}

export async function runCommand(name: string, command: readonly string[], opts: RunOptions): Promise<number> {
  let prepared: PreparedLaunch;
  if (opts.base !== undefined && !opts.worktree) return fail('--base needs --worktree', 2);
  if (opts.review !== undefined && opts.worktree) return fail('--review and --worktree cannot be combined', 2);
  let reviewed: { id: string; rec: WorktreeRecord } | undefined;
  let wt: WorktreeLaunch | undefined;
  let review: ReviewedWorktree | undefined;
  let sessionId: string | undefined;
  const { mark } = await import('../../sandbox/timing.js');
  try {
    reviewed = opts.review === undefined ? undefined : await reviewTarget(opts.review);
    const workspace = reviewed === undefined ? opts.workspace : path.join(reviewed.rec.path, reviewed.rec.subdir);
    prepared = prepareLaunch({ home: home(), persona: name, workspace, command, onBehalfOf: opts.onBehalfOf ?? currentUser() });
    mark('persona loaded');
    if (reviewed !== undefined) {
      const { prepareReviewLaunch } = await import('../worktree-launch.js');
      ({ prepared, review } = prepareReviewLaunch(prepared, reviewed.id, reviewed.rec));
    }
    if (opts.worktree) {
      sessionId = randomUUID();
      wt = await worktreeFor(prepared, sessionId, opts.base);
      prepared = wt.prepared;
      mark('worktree made');
    }
  } catch (e) {
    if (e instanceof LaunchRefusal) return fail(e.message, refusalExitCode(e.code));
    throw e;
  }
  const { persona } = prepared;
  const { Session } = await import('../../sandbox/session.js');
  mark('loaded session code');
  const tty = opts.tty && process.stdin.isTTY === true && process.stdout.isTTY === true;
  const stdio: StdioMode = tty ? { kind: 'pty', cols: process.stdout.columns || 80, rows: process.stdout.rows || 24 } : { kind: 'inherit' };
  // The audit log is the record: if it cannot be written (disk full), the session stops itself.
  // The session opens it once the sandbox is spawned, so the two overlap.
  const onStoreError: { fail?: (message: string) => void } = {};
  const opened: { store?: AuditStore } = {};
  const openLater = async (): Promise<AuditStore> =>
    (opened.store = await openStore(false, (e) => onStoreError.fail?.(`the audit log cannot be written (${e.message}); stopping the session`)));
  let session;
  try {
    // This process exits when the session ends.
    session = await Session.start({ ...sessionOptions(prepared, { store: openLater, stdio, sessionId, worktree: wt?.worktree, review }), exitsAfter: true });
  } catch (e) {
    if (wt !== undefined && sessionId !== undefined) {
      await wt.undo();
      opened.store?.updateWorktree(sessionId, { state: 'discarded' });
    }
    opened.store?.close();
    return fail((e as Error).message, 3);
  }
  info(`session ${session.id} (persona ${persona.name}, ${persona.agent})${wt ? ` in worktree ${wt.created.record.path} on branch ${wt.created.record.branch}` : ''}`);
  const running = session;
  onStoreError.fail = (message) => {
    info(message);
    running.fail(message);
  };
  const onSignal = (): void => {
    void session.stop('stopped');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  if (tty) attachTerminal(session.process);
  const end = await session.ended;
  opened.store?.close();
  mark('store closed');
  if (end.reason !== 'exit') info(`session ${session.id} ended: ${end.reason}${end.failure !== undefined ? ` (${end.failure})` : ''}`);
  if (end.worktree) info(worktreeEndLine(session.id, end.worktree));
  return end.exitCode;
}

/** The worktree of the session `--review` names (a unique prefix), or a refusal. */
async function reviewTarget(prefix: string): Promise<{ id: string; rec: WorktreeRecord }> {
  const { findSession, WorktreeProblem } = await import('../worktrees.js');
  const store = await openStore(true);
  try {
    const s = findSession(store, prefix);
    if (s.worktree === null || s.worktree_state !== 'pending') throw new LaunchRefusal('worktree', `--review: session ${s.id.slice(0, 8)} has no worktree to review`);
    return { id: s.id, rec: s.worktree };
  } catch (e) {
    if (e instanceof WorktreeProblem) throw new LaunchRefusal('worktree', `--review: ${e.message}`);
    throw e;
  } finally {
    store.close();
  }
}

async function worktreeFor(prepared: PreparedLaunch, sessionId: string, base: string | undefined): Promise<WorktreeLaunch> {
  const [{ prepareWorktreeLaunch }, { findHostTools }] = await Promise.all([import('../worktree-launch.js'), import('../../sandbox/launch/host-tools.js')]);
  return prepareWorktreeLaunch(prepared, { sessionId, base, bwrap: findHostTools().bwrap, userHome: homedir() });
}

/** What a worktree session left, and what to do with it. */
export function worktreeEndLine(id: string, w: WorktreeSummary): string {
  const short = id.slice(0, 8);
  if (w.error !== undefined) return `worktree ${w.branch}: ${w.error}; it is kept as it is (personae diff ${short})`;
  const files = w.files_changed ?? 0;
  const open = w.uncommitted ?? 0;
  const what = `${w.commits ?? 0} commit(s), ${files} file(s) changed${open > 0 ? ` (${open} uncommitted, kept in the worktree)` : ''}`;
  return `worktree ${w.branch}: ${what}; review: personae diff ${short}; keep: personae apply ${short}; throw away: personae discard ${short}`;
}

function attachTerminal(proc: RunningProcess | undefined): void {
  if (!proc) return;
  const stdin = process.stdin;
  stdin.setRawMode(true);
  stdin.resume();
  stdin.on('data', (d: Buffer) => proc.write(d.toString('utf8')));
  proc.onData((chunk) => process.stdout.write(chunk));
  process.stdout.on('resize', () => proc.resize(process.stdout.columns, process.stdout.rows));
  void proc.exited.then(() => {
    stdin.setRawMode(false);
    stdin.pause();
  });
}
