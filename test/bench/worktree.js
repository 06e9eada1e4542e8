// Worktree launch: `personae run --worktree -- true` against a plain
// `personae run -- true`, both on a git repository of 10,000 files (100
// folders of 100), interleaved, cold processes. Each worktree run is
// discarded afterwards (not timed). For context, a plain `git worktree add`
// of the same repository (full checkout) and the phases of one worktree run.
//   plain     node bin/personae.cjs run bench --workspace REPO --no-tty -- true
//   worktree  node bin/personae.cjs run bench --workspace REPO --worktree --no-tty -- true
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CLI, NODE, round, sessionIdOf, summary, timed } from './lib.js';

const FILES = 10_000;

function git(repo, ...args) {
  const r = spawnSync('git', ['-C', repo, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: '/nonexistent', GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@x', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@x' },
  });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** A repository of `FILES` small source files in 100 folders, one commit. */
export function bigRepo(dir) {
  const repo = path.join(dir, 'big');
  for (let d = 0; d < FILES / 100; d++) {
    const folder = path.join(repo, 'src', `d${String(d).padStart(3, '0')}`);
    mkdirSync(folder, { recursive: true });
    for (let f = 0; f < 100; f++) writeFileSync(path.join(folder, `f${d * 100 + f}.ts`), `export const x${d * 100 + f} = ${f};\n`.repeat(10));
  }
  git(repo, 'init', '-q', '-b', 'main');
  git(repo, 'add', '-A');
  git(repo, 'commit', '-qm', 'bench');
  return repo;
}

export async function benchWorktree({ home, runs = 10, log = () => undefined }) {
  const result = { runs, files: FILES, errors: [], notes: [] };
  const repo = bigRepo(home.dir);
  const opts = { cwd: repo, env: home.env, timeoutMs: 120_000 };
  const contenders = {
    plain: [NODE, [CLI, 'run', 'bench', '--workspace', repo, '--no-tty', '--', 'true']],
    worktree: [NODE, [CLI, 'run', 'bench', '--workspace', repo, '--worktree', '--no-tty', '--', 'true']],
  };
  const discard = async (r) => {
    const id = sessionIdOf(r.stderr);
    if (id === undefined) return;
    const d = await timed(NODE, [CLI, 'discard', id], opts);
    if (d.code !== 0) result.errors.push(`discard ${id} failed: ${d.stderr.trim().slice(-200)}`);
  };
  const once = async (name) => {
    const r = await timed(...contenders[name], opts);
    if (name === 'worktree') await discard(r);
    if (r.code !== 0) result.errors.push(`${name} failed (exit ${r.code}): ${r.stderr.trim().slice(-300)}`);
    return r;
  };
  for (const n of Object.keys(contenders)) await once(n); // warm-up
  const samples = { plain: [], worktree: [] };
  const paired = [];
  for (let i = 0; i < runs; i++) {
    const order = i % 2 === 0 ? ['plain', 'worktree'] : ['worktree', 'plain'];
    const ms = {};
    for (const n of order) {
      const r = await once(n);
      if (r.code === 0) samples[n].push((ms[n] = r.ms));
    }
    if (ms.plain !== undefined && ms.worktree !== undefined) paired.push(ms.worktree - ms.plain);
  }
  result.plain = summary(samples.plain);
  result.worktree = summary(samples.worktree);
  result.added = summary(paired);
  log(`  plain ${round(result.plain.median, 0)} ms, worktree ${round(result.worktree.median, 0)} ms, added (paired median) ${round(result.added.median, 0)} ms`);

  // For context: git's own full checkout of the same repository (one worker, and four as personae uses), interleaved.
  const adds = { 1: [], 4: [] };
  for (let i = 0; i < Math.min(5, runs); i++) {
    for (const workers of [1, 4]) {
      const wt = path.join(home.dir, `plain-wt-${workers}-${i}`);
      const t = await timed('git', ['-C', repo, '-c', `checkout.workers=${workers}`, 'worktree', 'add', '-q', '-b', `plain-${workers}-${i}`, wt, 'HEAD'], opts);
      if (t.code === 0) adds[workers].push(t.ms);
      rmSync(wt, { recursive: true, force: true });
      git(repo, 'worktree', 'prune');
      git(repo, 'branch', '-q', '-D', `plain-${workers}-${i}`);
    }
  }
  result.gitWorktreeAdd = summary(adds[1]);
  result.gitWorktreeAdd4 = summary(adds[4]);
  log(`  git worktree add (full checkout): ${round(result.gitWorktreeAdd.median, 0)} ms, with checkout.workers=4: ${round(result.gitWorktreeAdd4.median, 0)} ms`);

  const t = await timed(...contenders.worktree, { ...opts, env: { ...home.env, PERSONAE_DEBUG: 'timing' } });
  await discard(t);
  result.phases = [...t.stderr.matchAll(/personae\[timing\] ([\d.]+)ms (.+)/g)].map((m) => ({ at: Number(m[1]), phase: m[2] }));
  result.phasesTotal = t.ms;
  return result;
}
