// The pure parts of the app's worktree views: the fleet's states, the
// Changes tab's file tree and languages, and recorded diffs summed up.
import { describe, expect, it } from 'vitest';
import type { PendingApproval, SessionInfo } from '../../main/api/contract.js';
import type { AuditEvent } from '../../sandbox/audit/event.js';
import { fileFromPatch, summarizeDiffs } from '../../main/server/recorded-changes.js';
import { fileTree, languageOf } from '../../renderer/sessions/file-tree.js';
import { age, fleetLabel, fleetState, worktreeLabel } from '../../renderer/sessions/fleet-model.js';

const session: SessionInfo = {
  id: 's1', persona: 'p', agent: { kind: 'shell', version: null }, on_behalf_of: 'me', workspace: '/w', command: ['x'], started_at: '2026-01-01T00:00:00.000Z',
  ended_at: null, exit_code: null, end_reason: null, sandbox_pid: 1, state: 'running', terminal: true, files_changed: 2, denials: 0,
  worktree: { branch: 'personae/p/s1', base: 'b', path: '/ph/wt', repo: '/r', state: 'pending' },
};
const approval = { id: 'a', session: 's1' } as PendingApproval;

describe('fleet view', () => {
  it('says a running session with a call waiting for a human is waiting', () => {
    expect(fleetState(session, [approval])).toBe('waiting');
    expect(fleetLabel('waiting', session)).toBe('waiting for approval');
    expect(fleetState(session, [{ ...approval, session: 'other' }])).toBe('running');
    expect(fleetState({ ...session, state: 'ended', exit_code: 0 }, [approval])).toBe('ended');
    expect(fleetLabel('ended', { ...session, state: 'ended', exit_code: 0 })).toBe('ended · exit 0');
    expect(fleetLabel('stopped', { ...session, state: 'stopped' })).toBe('stopped · verified');
  });

  it('shows the age and what became of the worktree', () => {
    const t = Date.parse(session.started_at);
    expect([age(session.started_at, t + 42_000), age(session.started_at, t + 300_000), age(session.started_at, t + 3 * 3600_000), age(session.started_at, t + 50 * 3600_000)]).toEqual(['42s', '5m', '3h', '2d']);
    expect(worktreeLabel(session)).toBe('personae/p/s1');
    expect(worktreeLabel({ ...session, worktree: { ...session.worktree!, state: 'applied' } })).toBe('personae/p/s1 (kept)');
    expect(worktreeLabel({ ...session, worktree: null })).toBe('—');
  });
});

describe('Changes tab', () => {
  it('builds a file tree, folding single folders', () => {
    const tree = fileTree(['src/lib/a.ts', 'src/lib/b.ts', 'README.md', 'docs/x/y/z.md'], (p) => p);
    expect(tree.map((n) => n.name)).toEqual(['docs/x/y', 'src/lib', 'README.md']);
    const src = tree[1];
    expect(src?.kind === 'dir' ? src.children.map((c) => c.name) : []).toEqual(['a.ts', 'b.ts']);
  });

  it('picks a grammar from the file name', () => {
    expect(['a.ts', 'b.tsx', 'c.py', 'Makefile', 'x.unknown', 'noext'].map(languageOf)).toEqual(['typescript', 'tsx', 'python', 'makefile', undefined, undefined]);
  });

  it('sums up recorded diffs, the last one of each file, relative to the workspace', () => {
    const patch = 'diff --git a/a.txt b/a.txt\n--- a/a.txt\n+++ b/a.txt\n@@ -1,2 +1,2 @@\n-old\n+new\n same\n';
    expect(fileFromPatch('a.txt', patch, false)).toEqual({ path: 'a.txt', status: 'M', added: 1, deleted: 1, uncommitted: false });
    expect(fileFromPatch('n.txt', 'diff --git a/n.txt b/n.txt\nnew file mode 100644\n--- /dev/null\n+++ b/n.txt\n@@ -0,0 +1 @@\n+x\n', true).status).toBe('A');
    expect(fileFromPatch('i.png', 'diff --git a/i.png b/i.png\nBinary files a/i.png and b/i.png differ\n', false).added).toBeNull();
    const ev = (target: string, diff: string, extra: Record<string, unknown> = {}): AuditEvent => ({
      id: target + diff.length, ts: '', session: 's', persona: 'p', agent: { kind: 'shell', version: null }, on_behalf_of: 'me', kind: 'fs.diff', tool: null,
      target, decision: null, reason: null, detail: { diff, ...extra },
    });
    const r = summarizeDiffs([ev('/w/b.txt', 'first'), ev('/w/a.txt', patch), ev('/w/b.txt', patch.replace(/a\.txt/g, 'b.txt'), { uncommitted: true })], '/w');
    expect(r.files.map((f) => [f.path, f.uncommitted])).toEqual([['a.txt', false], ['b.txt', true]]);
    expect(r.patch).toContain('diff --git a/b.txt b/b.txt');
    expect(r.patch).not.toContain('first');
  });
});
