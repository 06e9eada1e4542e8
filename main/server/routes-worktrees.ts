// Routes: a session's changes (the Changes tab), Keep (apply) and Discard,
// and what the launch form needs to know about a workspace (a git repository?
// clean?). Keep and Discard do what `personae apply` and `personae discard` do.
import { statSync } from 'node:fs';
import path from 'node:path';
import { gitSync, objectName } from '../../sandbox/worktree/git.js';
import {
  ApplyRequestSchema, WorkspaceQuerySchema, type ApplyResult, type Changes, type DiscardResult, type WorkspaceInfo,
} from '../api/contract.js';
import { discardSession, isSessionRunning, keepSession, sessionChanges, WorktreeProblem } from '../worktrees.js';
import type { AuditStore, SessionRecord } from '../../sandbox/audit/store.js';
import { HttpError, parseWith, queryObject, readJson, sendJson } from './http.js';
import { recordedChanges } from './recorded-changes.js';
import type { Router } from './router.js';
import type { SessionRegistry } from './sessions.js';

export interface WorktreeRouteDeps {
  readonly home: string;
  readonly store: AuditStore;
  readonly sessions: SessionRegistry;
  /** Who keeps or discards (the backend's user). */
  readonly by: string;
}

const STATUS: Record<WorktreeProblem['code'], number> = { 'not-found': 404, ambiguous: 400, 'not-worktree': 400, running: 409, gone: 409, refused: 409 };

function problem(e: unknown): never {
  if (e instanceof WorktreeProblem) throw new HttpError(STATUS[e.code], e.message, { code: e.code });
  throw e;
}

function sessionOf(store: AuditStore, id: string): SessionRecord {
  const s = store.getSession(id);
  if (s === null) throw new HttpError(404, `unknown session ${JSON.stringify(id)}`);
  return s;
}

/** What the launch form shows about a workspace; never throws for a path that is not a repository. */
export function workspaceInfo(dir: string): WorkspaceInfo {
  const none = { path: dir, git: false, toplevel: null, branch: null, dirty: 0 };
  try {
    if (!path.isAbsolute(dir) || !statSync(dir).isDirectory()) return none;
  } catch {
    return none;
  }
  const top = gitSync(['rev-parse', '--show-toplevel'], { cwd: dir, timeoutMs: 5000 });
  if (top.code !== 0) return none;
  const branch = gitSync(['symbolic-ref', '--quiet', '--short', 'HEAD'], { cwd: dir, timeoutMs: 5000 });
  const head = objectName(gitSync(['rev-parse', '--verify', '--quiet', 'HEAD'], { cwd: dir, timeoutMs: 5000 }).stdout);
  const status = gitSync(['status', '--porcelain=v1', '-z', '--untracked-files=no'], { cwd: dir, timeoutMs: 10_000 });
  return {
    path: dir,
    git: head !== undefined,
    toplevel: top.stdout.trim(),
    branch: branch.code === 0 ? branch.stdout.trim() : null,
    dirty: status.stdout.split('\0').filter((e) => e.length > 3).length,
  };
}

export function worktreeRoutes(r: Router, d: WorktreeRouteDeps): void {
  r.add('GET', '/api/sessions/:id/changes', async ({ res, params }) => {
    const s = sessionOf(d.store, params.id ?? '');
    const running = isSessionRunning(s);
    const w = s.worktree;
    const worktree = w === null ? null : { branch: w.branch, base: w.base, path: w.path, repo: w.repo, state: s.worktree_state ?? 'pending' };
    let body: Changes;
    if (w !== null && s.worktree_state === 'pending') {
      const ch = await sessionChanges(d.home, s, { withPatch: true, maxPatchBytes: 4 * 1024 * 1024 }).catch(problem);
      body = { session: s.id, source: 'worktree', worktree, running, commits: [...ch.commits], files: [...ch.files], patch: ch.patch, truncated: ch.truncated };
    } else {
      const rec = recordedChanges(d.store, s.id, w?.path ?? s.workspace);
      body = { session: s.id, source: 'recorded', worktree, running, commits: [], ...rec };
    }
    sendJson(res, 200, body);
  });

  r.add('POST', '/api/sessions/:id/apply', async ({ req, res, params }) => {
    const body = parseWith(ApplyRequestSchema, await readJson(req), 'apply request');
    const s = sessionOf(d.store, params.id ?? '');
    const r2 = await keepSession(d.home, d.store, s, { squash: body.squash, by: d.by }).catch(problem);
    d.sessions.touched(s.id);
    const out: ApplyResult = { session: s.id, ...r2 };
    sendJson(res, 200, out);
  });

  r.add('POST', '/api/sessions/:id/discard', ({ res, params }) => {
    let rec;
    const s = sessionOf(d.store, params.id ?? '');
    try {
      rec = discardSession(d.home, d.store, s, { by: d.by });
    } catch (e) {
      problem(e);
    }
    d.sessions.touched(s.id);
    const out: DiscardResult = { session: s.id, branch: rec.branch, path: rec.path };
    sendJson(res, 200, out);
  });

  r.add('GET', '/api/workspace', ({ res, url }) => {
    const q = parseWith(WorkspaceQuerySchema, queryObject(url), 'query');
    sendJson(res, 200, workspaceInfo(q.path));
  });
}
