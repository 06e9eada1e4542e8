// A worktree session's change, reviewed and then kept or thrown away: shared
// by the CLI (`personae diff|apply|discard`) and the backend (the Changes
// tab). Each refusal is one line with a code; keeping and throwing away are
// recorded in the audit log under the session (kind worktree.apply /
// worktree.discard, naming who decided).
import { statSync } from 'node:fs';
import { homedir } from 'node:os';
import { SENSITIVE_PATHS } from '../personas/schema.js';
import type { AuditStore, SessionRecord } from '../sandbox/audit/store.js';
import { findHostTools } from '../sandbox/launch/host-tools.js';
import { alwaysHidden } from '../sandbox/policy/filesystem.js';
import { applyWorktree, type ApplyResult } from '../sandbox/worktree/apply.js';
import { worktreeChanges, type WorktreeChanges } from '../sandbox/worktree/changes.js';
import { removeWorktreeFiles, WorktreeError } from '../sandbox/worktree/create.js';
import { branchValue, sessionTip } from '../sandbox/worktree/objects.js';
import type { WorktreeRecord } from '../sandbox/worktree/record.js';
import { releaseRunDir } from '../sandbox/launch/run-dirs.js';
import { isAlive } from './session-stop.js';
import { runDir } from '../personas/paths.js';
import path from 'node:path';

export type WorktreeProblemCode = 'not-found' | 'ambiguous' | 'not-worktree' | 'running' | 'gone' | 'refused';

export class WorktreeProblem extends Error {
  override readonly name = 'WorktreeProblem';
  constructor(readonly code: WorktreeProblemCode, message: string) {
    super(message);
  }
}

/** The session a unique id prefix names. */
export function findSession(store: AuditStore, prefix: string): SessionRecord {
  const exact = store.getSession(prefix);
  if (exact !== null) return exact;
  const matches = prefix.length < 4 ? [] : store.listSessions({ limit: 10_000 }).filter((s) => s.id.startsWith(prefix));
  if (matches.length > 1) throw new WorktreeProblem('ambiguous', `session prefix "${prefix}" is ambiguous (${matches.length} sessions)`);
  const found = matches[0];
  if (found === undefined) throw new WorktreeProblem('not-found', `no session "${prefix}"`);
  return found;
}

export function isSessionRunning(s: SessionRecord): boolean {
  return s.ended_at === null && isAlive(s.supervisor_pid);
}

/** The worktree of a session whose worktree is still there. */
function pendingWorktree(s: SessionRecord): WorktreeRecord {
  const short = s.id.slice(0, 8);
  if (s.worktree === null) throw new WorktreeProblem('not-worktree', `session ${short} did not run in a worktree (personae run PERSONA --worktree)`);
  if (s.worktree_state === 'applied') throw new WorktreeProblem('gone', `session ${short} was kept (applied) already; its worktree is gone`);
  if (s.worktree_state === 'discarded') throw new WorktreeProblem('gone', `session ${short} was discarded; its worktree is gone`);
  try {
    statSync(s.worktree.path);
  } catch {
    throw new WorktreeProblem('gone', `the worktree of session ${short} (${s.worktree.path}) is missing`);
  }
  return s.worktree;
}

/** Homes and personae's data, hidden from git's sandbox. */
export function hiddenForGit(home: string): string[] {
  return [...new Set(alwaysHidden({ workspace: '/', userHome: homedir() }, home))].filter((h) => {
    try {
      return statSync(h).isDirectory();
    } catch {
      return false;
    }
  });
}

function bwrap(): string {
  try {
    return findHostTools().bwrap;
  } catch (e) {
    throw new WorktreeProblem('refused', (e as Error).message);
  }
}

function refused(e: unknown): never {
  if (e instanceof WorktreeError) throw new WorktreeProblem('refused', e.message);
  throw e;
}

/** The session's change now: committed on its branch (imported or not) and left in its worktree. */
export async function sessionChanges(home: string, s: SessionRecord, o: { withPatch?: boolean; maxPatchBytes?: number } = {}): Promise<WorktreeChanges> {
  const rec = pendingWorktree(s);
  // A running (or killed) session's commits may not be in the repository yet: its private ref has the tip.
  const tip = sessionTip(rec) ?? (await branchValue(rec)) ?? rec.base;
  try {
    return await worktreeChanges(rec, { bwrap: bwrap(), hide: hiddenForGit(home), tip, withPatch: o.withPatch, maxPatchBytes: o.maxPatchBytes });
  } catch (e) {
    return refused(e);
  }
}

function labels(s: SessionRecord): { session: string; persona: string; agent: SessionRecord['agent']; on_behalf_of: string } {
  return { session: s.id, persona: s.persona, agent: s.agent, on_behalf_of: s.on_behalf_of };
}

export async function keepSession(home: string, store: AuditStore, s: SessionRecord, o: { squash?: boolean; by: string }): Promise<ApplyResult> {
  const rec = pendingWorktree(s);
  const short = s.id.slice(0, 8);
  if (isSessionRunning(s)) throw new WorktreeProblem('running', `session ${short} is still running; stop it first: personae stop ${short}`);
  let result: ApplyResult;
  try {
    result = await applyWorktree(rec, {
      bwrap: bwrap(), hide: hiddenForGit(home), squash: o.squash, sessionId: s.id, persona: s.persona, onBehalfOf: s.on_behalf_of, by: o.by, traps: SENSITIVE_PATHS,
    });
  } catch (e) {
    if (e instanceof WorktreeError) {
      store.append(labels(s), { kind: 'worktree.apply', target: rec.branch, decision: 'deny', reason: e.message, detail: { by: o.by, repo: rec.repo } });
      store.flush();
    }
    return refused(e);
  }
  releaseSessionRun(home, s);
  store.updateWorktree(s.id, { state: 'applied', files_changed: result.files });
  store.append(labels(s), {
    kind: 'worktree.apply',
    target: rec.branch,
    decision: 'allow',
    reason: `kept by ${o.by}: ${result.mode} into ${result.into} of ${rec.repo}`,
    detail: { by: o.by, repo: rec.repo, mode: result.mode, commit: result.commit, into: result.into, files: result.files, uncommitted: result.uncommitted },
  });
  store.flush();
  return result;
}

/** The session's run directory, once what it held in the worktree is gone with it (a killed session's leftovers). */
function releaseSessionRun(home: string, s: SessionRecord): void {
  releaseRunDir(path.join(runDir(home), s.id.replace(/-/g, '').slice(0, 12)));
}

export function discardSession(home: string, store: AuditStore, s: SessionRecord, o: { by: string }): WorktreeRecord {
  const rec = s.worktree;
  const short = s.id.slice(0, 8);
  if (rec === null) throw new WorktreeProblem('not-worktree', `session ${short} did not run in a worktree`);
  if (s.worktree_state === 'applied') throw new WorktreeProblem('gone', `session ${short} was kept (applied) already`);
  if (isSessionRunning(s)) throw new WorktreeProblem('running', `session ${short} is still running; stop it first: personae stop ${short}`);
  removeWorktreeFiles(rec);
  releaseSessionRun(home, s);
  store.updateWorktree(s.id, { state: 'discarded' });
  store.append(labels(s), { kind: 'worktree.discard', target: rec.branch, decision: 'deny', reason: `discarded by ${o.by}`, detail: { by: o.by, repo: rec.repo, path: rec.path } });
  store.flush();
  return rec;
}
