// Helpers for worktree tests: a real git repository owned by the test user,
// git run by the test itself (as root over another user's repository, so
// with safe.directory), and what personae left on disk for a session.
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Home } from './harness.js';

export function g(repo: string, ...args: string[]): string {
  return gitAs(undefined, repo, ...args);
}

/** git as the home's user (for a command that writes the repository, so its files keep their owner). */
export function gitAs(as: Home['as'] | undefined, repo: string, ...args: string[]): string {
  const r = spawnSync('git', ['-c', 'safe.directory=*', '-C', repo, ...args], {
    encoding: 'utf8',
    uid: as?.uid,
    gid: as?.gid,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/nonexistent', GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 'Tester', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 'Tester', GIT_COMMITTER_EMAIL: 't@example.com' },
  });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

function chownTree(p: string, uid: number, gid: number): void {
  chownSync(p, uid, gid);
  for (const e of readdirSync(p, { withFileTypes: true })) {
    const child = path.join(p, e.name);
    if (e.isDirectory()) chownTree(child, uid, gid);
    else chownSync(child, uid, gid);
  }
}

/** A repository with a few files and one commit, owned by the home's user. */
export function makeRepo(h: Home, name = 'repo', files: Record<string, string> = {}): string {
  const repo = h.path(name);
  mkdirSync(repo);
  const all = { 'src/app.txt': 'line one\nline two\n', 'README.md': '# project\n', ...files };
  for (const [f, text] of Object.entries(all)) {
    mkdirSync(path.dirname(path.join(repo, f)), { recursive: true });
    writeFileSync(path.join(repo, f), text);
  }
  g(repo, 'init', '-q', '-b', 'main');
  g(repo, 'add', '-A');
  g(repo, 'commit', '-qm', 'initial');
  if (h.as.uid !== undefined) chownTree(repo, h.as.uid, h.as.gid ?? h.as.uid);
  return repo;
}

/** personae's traces of a session in the repository and in its home: none should remain after discard. */
export function leftovers(h: Home, repo: string, sessionId: string): string[] {
  const short = sessionId.replace(/-/g, '').slice(0, 8);
  const out: string[] = [];
  const wtRoot = path.join(h.home, 'worktrees');
  if (existsSync(wtRoot)) for (const r of readdirSync(wtRoot)) for (const e of readdirSync(path.join(wtRoot, r))) if (e.startsWith(short)) out.push(`worktrees/${r}/${e}`);
  const admin = path.join(repo, '.git', 'worktrees');
  if (existsSync(admin)) for (const e of readdirSync(admin)) out.push(`.git/worktrees/${e}`);
  if (g(repo, 'branch', '--list', `personae/*/${short}`) !== '') out.push(`branch personae/*/${short}`);
  const lines = g(repo, 'worktree', 'list', '--porcelain').split('\n').filter((l) => l.startsWith('worktree '));
  if (lines.length !== 1) out.push(`worktree list: ${lines.join(', ')}`);
  const run = path.join(h.home, 'run', sessionId.replace(/-/g, '').slice(0, 12));
  if (existsSync(run)) out.push(`run/${path.basename(run)}`);
  return out;
}
