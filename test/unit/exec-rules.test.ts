// Command rules at exec, as data: how a `Bash(...)` rule matches a program
// and its argv (sandbox/policy/exec-rules.ts), and the exec logger's C
// matcher (personae-execlog --match) agreeing with it case for case.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  compileExecRules,
  decideExec,
  execRulesFile,
  matchExec,
  readingStarts,
  type CompiledExecRules,
  type ExecCandidate,
} from '../../sandbox/policy/exec-rules.js';
import { ROOT } from '../integration/harness.js';

const rules = (deny: string[], ask: string[] = []): CompiledExecRules => compileExecRules({ deny, ask });
const exec = (name: string, ...args: string[]): ExecCandidate[] => [{ name, args }];
const decision = (c: CompiledExecRules, cands: ExecCandidate[]): string => decideExec(c, cands).decision;

describe('compiling Bash rules for exec', () => {
  it('keeps the program word as a basename and the match mode', () => {
    const c = rules(['Bash(git push:*)', 'Bash(/usr/bin/rm -rf:*)', 'Bash(npm test)', 'Bash(* --force)'], ['Bash(git commit:*)']);
    expect(c.rules.map((r) => [r.list, r.program, r.text, r.mode])).toEqual([
      ['deny', 'git', 'git push', 'prefix'],
      ['deny', 'rm', 'rm -rf', 'prefix'],
      ['deny', 'npm', 'npm test', 'exact'],
      ['deny', undefined, '* --force', 'wildcard'],
      ['ask', 'git', 'git commit', 'prefix'],
    ]);
    expect(c.toolLayerOnly).toEqual([]);
  });

  it('says which rules hold at the tool layer only, and why', () => {
    const c = rules(['Bash', 'Bash(cd /secret:*)', 'Bash(curl * | sh)', 'Bash(FOO=1 npm test)', 'Bash(export X:*)'], ['Bash(source x)']);
    expect(c.rules).toEqual([]);
    expect(c.toolLayerOnly).toEqual([
      'tools.deny[0]: "Bash": a rule on every Bash call holds at the tool layer only (at exec it would refuse every program)',
      'tools.deny[1]: "Bash(cd /secret:*)": not decidable at exec (cd is a shell builtin, never executed as a program); it holds at the tool layer only',
      'tools.deny[2]: "Bash(curl * | sh)": not decidable at exec (it uses shell operators); it holds at the tool layer only',
      'tools.deny[3]: "Bash(FOO=1 npm test)": not decidable at exec (it starts with a variable assignment); it holds at the tool layer only',
      'tools.deny[4]: "Bash(export X:*)": not decidable at exec (export is a shell builtin, never executed as a program); it holds at the tool layer only',
      'tools.ask[0]: "Bash(source x)": not decidable at exec (source is a shell builtin, never executed as a program); it holds at the tool layer only',
    ]);
  });

  it('ignores rules of other tools and unreadable rules (validation reports those)', () => {
    expect(rules(['Read(~/.ssh/**)', 'WebFetch(domain:x.com)', 'Bash(', '']).rules).toEqual([]);
  });
});

describe('matching an exec', () => {
  const push = rules(['Bash(git push:*)']);
  it.each<[string, ExecCandidate[]]>([
    ['plain', exec('git', 'push', 'origin', 'main')],
    ['bare', exec('git', 'push')],
    ['-C DIR before the subcommand', exec('git', '-C', '/tmp/x', 'push')],
    ['-c K=V before the subcommand', exec('git', '-c', 'user.name=x', 'push', 'origin')],
    ['--git-dir=X before the subcommand', exec('git', '--git-dir=/x/.git', '--no-pager', 'push')],
    ['a run of global options', exec('git', '--no-pager', '-C', 'a', '-c', 'k=v', '--bare', 'push')],
    ['the dashed form (git-push)', exec('git-push', 'origin')],
    ['another of its names', [{ name: 'mygit', args: ['push'] }, { name: 'git', args: ['push'] }]],
    ['whitespace inside words', exec('git', 'push\n', ' origin  main')],
  ])('denies git push: %s', (_, cands) => {
    const d = decideExec(push, cands);
    expect(d).toMatchObject({ decision: 'deny', reason: 'tools.deny: Bash(git push:*)' });
  });

  it.each<[string, ExecCandidate[]]>([
    ['another subcommand', exec('git', 'status')],
    ['a longer word', exec('git', 'pushx')],
    ['an option value that looks like the subcommand', exec('git', '-C', 'push', 'status')],
    ['the word later on', exec('git', 'commit', '-m', 'push')],
    ['another program', exec('echo', 'git', 'push')],
    ['a name with git in it', exec('gitpush', 'x')],
  ])('allows %s', (_, cands) => {
    expect(decision(push, cands)).toBe('allow');
  });

  it('skips the leading options of any program, reading each as taking a value or not', () => {
    const npm = rules(['Bash(npm publish:*)']);
    expect(decision(npm, exec('npm', '--registry', 'http://r.test', 'publish'))).toBe('deny');
    expect(decision(npm, exec('npm', '--dry-run', 'publish'))).toBe('deny');
    expect(decision(npm, exec('npm', '--registry=http://r.test', 'publish', '.'))).toBe('deny');
    expect(decision(npm, exec('npm', 'install', 'publish'))).toBe('allow');
    const rm = rules(['Bash(rm -rf:*)']);
    expect(decision(rm, exec('rm', '-rf', '/'))).toBe('deny');
    expect(decision(rm, exec('rm', '-v', '-rf', '/'))).toBe('deny');
    // Rules are text: another spelling of the same options is another command (as at the tool layer).
    expect(decision(rm, exec('rm', '-r', '-f', '/'))).toBe('allow');
  });

  it('stops skipping at --', () => {
    expect(readingStarts('npm', ['--', '--x', 'publish'])).toEqual([0, 1]);
    expect(decision(rules(['Bash(npm publish:*)']), exec('npm', '--', 'publish'))).toBe('deny');
  });

  it('knows git options exactly, and guesses for others', () => {
    expect(readingStarts('git', ['-C', 'dir', 'push'])).toEqual([0, 2]);
    expect(readingStarts('git', ['--bare', 'push'])).toEqual([0, 1]);
    expect(readingStarts('npm', ['--tag', 'x', 'publish'])).toEqual([0, 1, 2]);
    expect(readingStarts('x', Array.from({ length: 30 }, () => '-v')).length).toBeLessThanOrEqual(16);
  });

  it('exact, wildcard and program-wildcard rules', () => {
    const c = rules(['Bash(npm test)', 'Bash(git push * --force)', 'Bash(* --version)', 'Bash(curl *)']);
    expect(decision(c, exec('npm', 'test'))).toBe('deny');
    expect(decision(c, exec('npm', 'test', '--watch'))).toBe('allow');
    expect(decision(c, exec('git', 'push', 'origin', 'main', '--force'))).toBe('deny');
    expect(decision(c, exec('git', 'push', 'origin'))).toBe('allow');
    expect(decision(c, exec('python3', '--version'))).toBe('deny');
    expect(decision(c, exec('curl'))).toBe('deny');
    expect(decision(c, exec('curl', 'https://x'))).toBe('deny');
  });

  it('deny rules come before ask rules; ask rules ask', () => {
    const c = rules(['Bash(git push --force:*)'], ['Bash(git push:*)']);
    expect(decideExec(c, exec('git', 'push', '--force'))).toMatchObject({ decision: 'deny', reason: 'tools.deny: Bash(git push --force:*)' });
    expect(decideExec(c, exec('git', 'push'))).toMatchObject({ decision: 'ask', reason: 'tools.ask: Bash(git push:*)', match: { matchedAs: 'git push' } });
  });

  it('reports the reading that matched', () => {
    expect(matchExec(push, exec('git', '-C', '/w', 'push', 'origin'))?.matchedAs).toBe('git push origin');
  });
});

describe('the exec logger agrees with this specification', () => {
  const execLog = path.join(ROOT, 'dist', 'native', 'personae-execlog');
  const dir = mkdtempSync(path.join(tmpdir(), 'personae-exec-rules-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const word = (s: string): string => `x${Buffer.from(s, 'utf8').toString('hex')}`;

  /** Runs personae-execlog --match on the cases; one answer per case: undefined or [index, matchedAs]. */
  const cMatch = (compiled: CompiledExecRules, cases: ExecCandidate[][]): Array<[number, string] | undefined> => {
    const file = path.join(dir, `rules-${Math.random().toString(16).slice(2)}`);
    writeFileSync(file, execRulesFile(compiled, []));
    const input = cases.map((cands) => cands.map((c) => [c.name, ...c.args].map(word).join(' ')).join(' | ')).join('\n');
    const r = spawnSync(execLog, ['--match', file], { input: `${input}\n`, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    expect(r.status, r.stderr).toBe(0);
    return r.stdout.trimEnd().split('\n').map((line) => {
      if (line === '-') return undefined;
      const [index, text = ''] = line.split(' ');
      return [Number(index), Buffer.from(text, 'hex').toString('utf8')];
    });
  };
  const tsMatch = (compiled: CompiledExecRules, cands: ExecCandidate[]): [number, string] | undefined => {
    const m = matchExec(compiled, cands);
    return m === undefined ? undefined : [m.index, m.matchedAs];
  };

  it('on the examples above', () => {
    const c = rules(['Bash(git push:*)', 'Bash(npm publish:*)', 'Bash(rm -rf:*)', 'Bash(* --version)', 'Bash(git push * --force)'], ['Bash(git commit:*)']);
    const cases = [
      exec('git', 'push'), exec('git', '-C', 'x', 'push'), exec('git-push', 'o'), exec('git', 'status'), exec('npm', '--registry', 'r', 'publish'),
      exec('rm', '-v', '-rf', '/'), exec('node', '--version'), exec('git', 'commit', '-m', 'a  b'), exec('git', 'push', 'a', '--force'), exec('ls'),
    ];
    expect(cMatch(c, cases)).toEqual(cases.map((k) => tsMatch(c, k)));
  });

  it('on random rules and execs', () => {
    const vocab = ['git', 'push', 'commit', '-C', 'dir', '-c', 'k=v', '--', '--git-dir=x', 'origin', '-f', 'npm', 'publish', '--tag', 'x', 'rm', '-rf', '/', 'git-push', 'a b', ' ', '', '-', '*', '--force', 'p*', '*h'];
    const w = fc.constantFrom(...vocab);
    const specifier = fc.tuple(fc.array(w.filter((x) => x.trim() !== ''), { minLength: 1, maxLength: 4 }), fc.constantFrom('', ':*')).map(([ws, suffix]) => `${ws.join(' ')}${suffix}`);
    const rule = specifier.map((s) => `Bash(${s})`);
    const cand = fc.record({ name: w.filter((x) => x !== ''), args: fc.array(w, { maxLength: 7 }) });
    const testCase = fc.tuple(fc.array(rule, { minLength: 1, maxLength: 5 }), fc.array(rule, { maxLength: 3 }), fc.array(fc.array(cand, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 30 }));
    const samples = fc.sample(testCase, { numRuns: 300, seed: 4242 });
    let compared = 0;
    let matched = 0;
    for (const [deny, ask, cases] of samples) {
      const compiled = rules(deny, ask);
      if (compiled.rules.length === 0) continue;
      const want = cases.map((k) => tsMatch(compiled, k));
      expect(cMatch(compiled, cases)).toEqual(want);
      compared += cases.length;
      matched += want.filter((x) => x !== undefined).length;
    }
    // The sample is not trivial: many cases, a fair share of them matching.
    expect(compared).toBeGreaterThan(1000);
    expect(matched).toBeGreaterThan(100);
  });
});
