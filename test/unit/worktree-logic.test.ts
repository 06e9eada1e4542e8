// The pure parts of worktree sessions: names and paths, the sandbox's git
// mounts (as data), which paths are checked out before the plan, the change
// policy apply enforces, and parsing git's output.
import { describe, expect, it } from 'vitest';
import { SENSITIVE_PATHS } from '../../personas/schema.js';
import { gitConfigEnv } from '../../sandbox/launch/plan.js';
import { changeProblems } from '../../sandbox/worktree/change-policy.js';
import { parseFiles, parseLog, parseSections } from '../../sandbox/worktree/changes.js';
import { branchName, INSIDE_GIT_OBJECTS, planPaths, relativeToWorktree, repoId, reviewMounts, worktreeMounts, worktreePaths } from '../../sandbox/worktree/layout.js';
import { parseWorktreeRecord, type WorktreeRecord } from '../../sandbox/worktree/record.js';
import { statLines } from '../../main/cli/worktrees.js';

const rec: WorktreeRecord = {
  repo: '/src/app', common_dir: '/src/app/.git', admin_dir: '/src/app/.git/worktrees/0a1b2c3d', path: '/ph/worktrees/app-1/0a1b2c3d',
  private_dir: '/ph/worktrees/app-1/0a1b2c3d.personae', branch: 'personae/fixer/0a1b2c3d', base: 'b'.repeat(40), base_ref: 'HEAD', subdir: '',
  identity: { name: 'Fixer', email: 'fixer@personae.invalid' }, grants: { write: [''], allow_sensitive: [] },
};

/** bwrap's `--op src dest` triples (and `--op dest` pairs) as readable strings. */
function ops(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; ) {
    const op = args[i] ?? '';
    const n = op === '--tmpfs' || op === '--remount-ro' ? 1 : 2;
    out.push([op, ...args.slice(i + 1, i + 1 + n)].join(' '));
    i += 1 + n;
  }
  return out;
}

describe('worktree layout', () => {
  it('names the branch, the folders and the repository after the persona, the session and the repository', () => {
    expect(branchName('fixer', '0a1b2c3d-0000-4000-8000-000000000000')).toBe('personae/fixer/0a1b2c3d');
    expect(worktreePaths('/ph', 'app-1', '0a1b2c3d-0000-4000-8000-000000000000')).toEqual({ path: '/ph/worktrees/app-1/0a1b2c3d', private_dir: '/ph/worktrees/app-1/0a1b2c3d.personae' });
    expect(repoId('/src/My App!', '/src/My App!/.git')).toMatch(/^my-app-[0-9a-f]{8}$/);
    expect(repoId('/a/app', '/a/app/.git')).not.toBe(repoId('/b/app', '/b/app/.git'));
  });

  it('mounts the repository read-only and only the session\'s own parts writable over it', () => {
    expect(ops(worktreeMounts(rec, { writable: [rec.path], checkouts: ['/src/app', '/ph/worktrees/app-1/ffff0000', '/elsewhere/wt'], personaeHome: '/ph' }))).toEqual([
      '--ro-bind /src/app/.git /src/app/.git',
      `--ro-bind /src/app/.git/objects ${INSIDE_GIT_OBJECTS}`,
      '--bind /ph/worktrees/app-1/0a1b2c3d.personae/objects /src/app/.git/objects',
      '--bind /ph/worktrees/app-1/0a1b2c3d.personae/refs /src/app/.git/refs/heads/personae/fixer',
      '--bind /ph/worktrees/app-1/0a1b2c3d.personae/logs /src/app/.git/logs/refs/heads/personae/fixer',
      '--tmpfs /src/app/.git/worktrees',
      '--bind /ph/worktrees/app-1/0a1b2c3d.personae/admin /src/app/.git/worktrees/0a1b2c3d',
      '--remount-ro /src/app/.git/worktrees',
      '--ro-bind /src/app/.git/worktrees/0a1b2c3d/commondir /src/app/.git/worktrees/0a1b2c3d/commondir',
      '--ro-bind /src/app/.git/worktrees/0a1b2c3d/gitdir /src/app/.git/worktrees/0a1b2c3d/gitdir',
      '--ro-bind /src/app/.git/worktrees/0a1b2c3d/config.worktree /src/app/.git/worktrees/0a1b2c3d/config.worktree',
      '--ro-bind /ph/worktrees/app-1/0a1b2c3d/.git /ph/worktrees/app-1/0a1b2c3d/.git',
    ]);
  });

  it('shows the whole worktree when the workspace is a folder of it, writable only there', () => {
    const m = ops(worktreeMounts(rec, { writable: [`${rec.path}/src`, '/cache'], checkouts: ['/src/app'], personaeHome: '/ph' }));
    expect(m.slice(0, 3)).toEqual(['--ro-bind /ph/worktrees/app-1/0a1b2c3d /ph/worktrees/app-1/0a1b2c3d', '--bind /ph/worktrees/app-1/0a1b2c3d/src /ph/worktrees/app-1/0a1b2c3d/src', '--ro-bind /src/app/.git /src/app/.git']);
  });

  it('keeps a checkout read-only when a writable grant covers it, and another session\'s worktree hidden', () => {
    const m = ops(worktreeMounts(rec, { writable: [rec.path, '/src'], checkouts: ['/src/app', '/ph/worktrees/app-1/ffff0000', '/elsewhere/wt'], personaeHome: '/ph' }));
    expect(m[0]).toBe('--ro-bind /src/app /src/app');
    expect(m.join('\n')).not.toContain('ffff0000');
    expect(m.join('\n')).not.toContain('/elsewhere/wt');
  });

  it('gives a reviewer the repository and the other session\'s objects and branch, read-only', () => {
    const r = reviewMounts(rec);
    expect(ops(r.mounts)).toEqual([
      '--ro-bind /src/app/.git /src/app/.git',
      '--ro-bind /ph/worktrees/app-1/0a1b2c3d.personae/objects /ph/worktrees/app-1/0a1b2c3d.personae/objects',
      '--ro-bind /ph/worktrees/app-1/0a1b2c3d.personae/refs /src/app/.git/refs/heads/personae/fixer',
      '--ro-bind /ph/worktrees/app-1/0a1b2c3d.personae/admin /src/app/.git/worktrees/0a1b2c3d',
    ]);
    expect(r.env).toEqual({ GIT_ALTERNATE_OBJECT_DIRECTORIES: '/ph/worktrees/app-1/0a1b2c3d.personae/objects' });
  });

  it('maps {workspace} grants into the worktree and lists what the plan looks at', () => {
    expect(relativeToWorktree(['{workspace}', '{workspace}/src/', '~/x', '/abs'], '')).toEqual(['', 'src']);
    expect(relativeToWorktree(['{workspace}', '{workspace}/lib'], 'pkg/a')).toEqual(['pkg/a', 'pkg/a/lib']);
    expect(planPaths([''], ['secrets'], ['.envrc', '.vscode', '.git/hooks'])).toEqual(['.envrc', '.vscode', 'secrets']);
    expect(planPaths(['pkg'], [], ['.envrc'])).toEqual(['pkg/.envrc']);
  });

  it('reads a stored record back, and nothing else', () => {
    expect(parseWorktreeRecord(JSON.stringify(rec))).toEqual(rec);
    expect(parseWorktreeRecord(JSON.stringify({ ...rec, branch: 3 }))).toBeNull();
    expect(parseWorktreeRecord('{')).toBeNull();
    expect(parseWorktreeRecord(null)).toBeNull();
  });

  it('sets git config in the sandbox through the environment', () => {
    expect(gitConfigEnv({ 'core.hooksPath': '/h', 'gc.auto': '0' })).toEqual({
      GIT_CONFIG_COUNT: '2', GIT_CONFIG_KEY_0: 'core.hooksPath', GIT_CONFIG_VALUE_0: '/h', GIT_CONFIG_KEY_1: 'gc.auto', GIT_CONFIG_VALUE_1: '0',
    });
  });
});

describe('change policy', () => {
  it('refuses paths outside the grants and persistence traps not granted', () => {
    const grants = { write: ['src'], allow_sensitive: [] };
    expect(changeProblems(['src/a.ts', 'src/deep/b.ts'], grants, SENSITIVE_PATHS)).toEqual([]);
    expect(changeProblems(['README.md'], grants, SENSITIVE_PATHS)).toEqual(["README.md: outside the persona's writable paths"]);
    expect(changeProblems(['src/.vscode/tasks.json'], grants, SENSITIVE_PATHS)).toEqual(['src/.vscode/tasks.json: a persistence trap the persona may not write (filesystem.allow_sensitive)']);
    expect(changeProblems(['.envrc', '.vscode/settings.json', 'a/.envrc'], { write: [''], allow_sensitive: ['.vscode'] }, SENSITIVE_PATHS)).toEqual([
      '.envrc: a persistence trap the persona may not write (filesystem.allow_sensitive)',
    ]);
    expect(changeProblems(['a', 'b', 'c'], { write: [], allow_sensitive: [] }, SENSITIVE_PATHS, 2)).toHaveLength(2);
  });
});

describe('reading git', () => {
  it('parses the sections, the log with its trailers, and the files with their counts', () => {
    const out = Buffer.concat([Buffer.from('tip abc\nwork def\nlog 3\nxyzpatch 5\n'), Buffer.from('12345')]);
    const parsed = parseSections(out);
    expect(parsed.tip).toBe('abc');
    expect(parsed.work).toBe('def');
    expect(parsed.sections.get('log')?.toString()).toBe('xyz');
    expect(parsed.sections.get('patch')?.toString()).toBe('12345');

    const log = `${['c1', 'Fixer', 'fixer@personae.invalid', '2026-01-01T00:00:00+00:00', 'fix it', 'alice', 's-1'].join('\x1f')}\0\n${['c0', 'Fixer', 'f@x', 'd', 'first', '', ''].join('\x1f')}\0`;
    expect(parseLog(log)).toEqual([
      { sha: 'c1', author: 'Fixer', email: 'fixer@personae.invalid', date: '2026-01-01T00:00:00+00:00', subject: 'fix it', on_behalf_of: 'alice', session: 's-1' },
      { sha: 'c0', author: 'Fixer', email: 'f@x', date: 'd', subject: 'first', on_behalf_of: null, session: null },
    ]);

    const files = parseFiles('M\0src/a.ts\0A\0new file.md\0D\0img.png\0', '3\t1\tsrc/a.ts\x001\t0\tnew file.md\0-\t-\timg.png\0', 'new file.md\0');
    expect(files).toEqual([
      { path: 'src/a.ts', status: 'M', added: 3, deleted: 1, uncommitted: false },
      { path: 'new file.md', status: 'A', added: 1, deleted: 0, uncommitted: true },
      { path: 'img.png', status: 'D', added: null, deleted: null, uncommitted: false },
    ]);
    expect(statLines(files)).toEqual(['M src/a.ts     +3 -1', 'A new file.md  +1 -0  (uncommitted)', 'D img.png      binary']);
  });
});
