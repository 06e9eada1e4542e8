// A session's changes as the engine recorded them (its `fs.diff` events):
// what the Changes tab shows for a session that ran in its workspace
// directly, and for a worktree session once its worktree is gone (kept or
// discarded). Pure but for the query.
import type { AuditEvent } from '../../sandbox/audit/event.js';
import type { AuditStore } from '../../sandbox/audit/store.js';
import type { ChangedFile } from '../api/contract.js';

const MAX_RECORDED_PATCH = 4 * 1024 * 1024;

/** One file's entry from its patch: the status from the header, the counts from the lines. */
export function fileFromPatch(path: string, patch: string, uncommitted: boolean): ChangedFile {
  let added = 0;
  let deleted = 0;
  let inHunk = false;
  for (const line of patch.split('\n')) {
    if (line.startsWith('@@')) inHunk = true;
    else if (!inHunk) continue;
    else if (line.startsWith('+')) added++;
    else if (line.startsWith('-')) deleted++;
  }
  const binary = /^Binary files /m.test(patch);
  const status = /^new file mode/m.test(patch) ? 'A' : /^deleted file mode/m.test(patch) ? 'D' : 'M';
  return { path, status, added: binary ? null : added, deleted: binary ? null : deleted, uncommitted };
}

/** The last recorded diff of each file, relative to the session's workspace, as one patch. */
export function summarizeDiffs(events: readonly AuditEvent[], workspace: string | null): { files: ChangedFile[]; patch: string; truncated: boolean } {
  const last = new Map<string, { diff: string; uncommitted: boolean }>();
  for (const e of events) {
    if (e.kind !== 'fs.diff' || e.target === null || typeof e.detail.diff !== 'string') continue;
    const rel = workspace !== null && e.target.startsWith(`${workspace}/`) ? e.target.slice(workspace.length + 1) : e.target;
    last.set(rel, { diff: e.detail.diff, uncommitted: e.detail.uncommitted === true });
  }
  const files: ChangedFile[] = [];
  let patch = '';
  let truncated = false;
  for (const [rel, d] of [...last].sort(([a], [b]) => a.localeCompare(b))) {
    files.push(fileFromPatch(rel, d.diff, d.uncommitted));
    if (patch.length + d.diff.length > MAX_RECORDED_PATCH) truncated = true;
    else patch += d.diff.endsWith('\n') ? d.diff : `${d.diff}\n`;
  }
  return { files, patch, truncated };
}

export function recordedChanges(store: AuditStore, session: string, workspace: string | null): { files: ChangedFile[]; patch: string; truncated: boolean } {
  const events = store.query({ session, kind: 'fs.diff', limit: 10_000 });
  return summarizeDiffs(events, workspace);
}
