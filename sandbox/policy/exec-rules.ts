// Command rules decided at exec: what a persona's `Bash(...)` deny and ask
// rules mean for one execve, whatever shell, interpreter, wrapper or script
// started it. The exec logger (native/personae-execlog.c, execlog-rules.c)
// holds every exec in the kernel and applies exactly this matching to it; the
// functions here are the specification, tested as data, and compile the rules
// into the file the logger reads.
//
// At exec there is no command line, only a file and an argv. A rule's first
// word names a program; the exec is judged under every name it has:
//   - the basename of the path asked for, of argv[0], and of the file the
//     path resolves to (symlinks followed inside the sandbox's own root);
//   - the program the file IS: the same file, or the same build (ELF build
//     id), or the same bytes as the binary of that name on the sandbox's PATH
//     (a renamed copy of git is git);
//   - for a script, its `#!` interpreter, with the kernel's argv
//     (interpreter, its optional argument, the script, the rest);
//   - for an interpreter running a script file that is a known program
//     (`node /usr/lib/node_modules/npm/bin/npm-cli.js publish`), that program;
//   - for git, the dashed form: `git-push ARGS` (a hard link, a symlink or
//     argv[0]) is `git push ARGS`.
// Under each name, the rule's pattern is tested against the words after it,
// first as they are, then with the program's leading options skipped: for
// programs whose options are known (git: `-C DIR`, `-c K=V`, `--git-dir X`,
// ...) exactly; for any other program every reading of a leading option as
// taking the next word or not is tried (`npm --registry X publish` is
// `npm publish`). Over-matching is deliberate and only ever makes a deny or
// ask rule match more. Words are joined with single spaces, as rule text is
// (quotes removed, whitespace collapsed), and tested as in tool-bash.ts:
// `:*` prefix at a word boundary, exact text, or `*` wildcards.
//
// Not decidable at exec, and left to the tool layer (agent hooks): rules on
// shell builtins and keywords (`cd`, `export`, `source`...), rules written
// with shell operators (`curl * | sh`), rules led by assignments
// (`FOO=1 npm test`), and a bare `Bash` (every tool call; at exec it would
// also refuse the agent itself). `compileExecRules` lists them.
import { parseToolRule } from '../../personas/tool-rule.js';
import { compileBashPattern, wildcardMatch } from './tool-bash.js';
import { notAtExec } from './exec-scope.js';
import { basename } from './shell-unwrap.js';
import type { ExecutionMode } from './tool-types.js';
import { ruleReason } from './tool-types.js';

export type ExecRuleList = 'deny' | 'ask';
export type ExecMatchMode = 'prefix' | 'exact' | 'wildcard';

export interface ExecRule {
  readonly list: ExecRuleList;
  /** The rule as written (`Bash(git push:*)`). */
  readonly source: string;
  /** Normalised pattern text with the program word as a basename (`git push`). */
  readonly text: string;
  readonly mode: ExecMatchMode;
  /** The program the rule names, or undefined when its first word has a wildcard (any program). */
  readonly program: string | undefined;
}

export interface ProgramOptions {
  /** Options that take the next word as their value (`-C DIR`). */
  readonly withValue: readonly string[];
  /** `NAME-SUB` is `NAME SUB` (git's dashed commands). */
  readonly dashed: boolean;
}

/** Programs whose leading (global) options are known exactly. */
export const KNOWN_PROGRAMS: Readonly<Record<string, ProgramOptions>> = {
  git: {
    withValue: ['-C', '-c', '--git-dir', '--work-tree', '--namespace', '--exec-path', '--super-prefix', '--config-env', '--attr-source', '--list-cmds'],
    dashed: true,
  },
};

/**
 * Interpreters that may run a script file given as their first operand, and
 * the options after which no script file follows (the code is inline, or a
 * module is named).
 */
export const INTERPRETERS: Readonly<Record<string, readonly string[]>> = {
  sh: ['-c'], bash: ['-c'], dash: ['-c'], zsh: ['-c'], ksh: ['-c'], mksh: ['-c'], ash: ['-c'], busybox: [],
  python: ['-c', '-m'], python3: ['-c', '-m'], node: ['-e', '-p', '--eval', '--print'], nodejs: ['-e', '-p', '--eval', '--print'],
  perl: ['-e', '-E'], ruby: ['-e'], php: ['-r'], lua: ['-e'], tclsh: [], deno: [], bun: ['-e'],
};

export interface CompiledExecRules {
  /** In the order the logger numbers them: deny rules first, then ask rules. */
  readonly rules: readonly ExecRule[];
  /** Rules that hold only at the tool layer, as `tools.deny[2]: "Bash(cd /x:*)": why`. */
  readonly toolLayerOnly: readonly string[];
}

/** The `Bash(...)` deny and ask rules of a persona as exec rules, and those that cannot be decided at exec. */
export function compileExecRules(tools: { readonly deny: readonly string[]; readonly ask: readonly string[] }): CompiledExecRules {
  const rules: ExecRule[] = [];
  const toolLayerOnly: string[] = [];
  for (const list of ['deny', 'ask'] as const) {
    (Array.isArray(tools[list]) ? tools[list] : []).forEach((raw, index) => {
      const parsed = parseToolRule(raw);
      if (typeof parsed === 'string' || parsed.tool !== 'Bash') return; // unreadable rules are the tool layer's (and validation's)
      const where = `tools.${list}[${index}]: ${JSON.stringify(parsed.source)}`;
      if (parsed.specifier === undefined) {
        toolLayerOnly.push(`${where}: a rule on every Bash call holds at the tool layer only (at exec it would refuse every program)`);
        return;
      }
      const pattern = compileBashPattern(parsed.specifier);
      const why = notAtExec(pattern.text);
      if (why !== undefined) {
        toolLayerOnly.push(`${where}: not decidable at exec (${why}); it holds at the tool layer only`);
        return;
      }
      const [head = '', ...rest] = pattern.text.split(' ');
      const name = head.includes('*') ? head : basename(head);
      const text = [name, ...rest].join(' ');
      const prefix = parsed.specifier.trim().endsWith(':*');
      const mode: ExecMatchMode = prefix ? 'prefix' : text.includes('*') ? 'wildcard' : 'exact';
      rules.push({ list, source: parsed.source, text, mode, program: name.includes('*') ? undefined : name });
    });
  }
  return { rules, toolLayerOnly };
}

/** Words as rule text is: joined by single spaces, runs of whitespace collapsed, trimmed. */
export function joinWords(words: readonly string[]): string {
  return words.join(' ').split(/[ \t\n\r\v\f]+/).filter((w) => w !== '').join(' ');
}

/** The pattern test of tool-bash.ts, on the normalised text of one reading of an exec. */
export function patternMatches(rule: Pick<ExecRule, 'text' | 'mode'>, text: string): boolean {
  switch (rule.mode) {
    case 'prefix':
      return text === rule.text || text.startsWith(`${rule.text} `);
    case 'exact':
      return text === rule.text;
    case 'wildcard':
      return wildcardMatch(rule.text, text) || (rule.text.endsWith(' *') && text === rule.text.slice(0, -2));
  }
}

/** One name an exec is known by, and the words after it. */
export interface ExecCandidate {
  readonly name: string;
  readonly args: readonly string[];
}

/** At most this many leading options are skipped; at most this many readings are tried per name. */
export const MAX_SKIPPED_OPTIONS = 8;
export const MAX_READINGS = 16;

/**
 * Where the words that follow a program's leading options may start: 0 (the
 * words as they are) and every end of a run of leading options (see the file
 * comment), in increasing order, at most MAX_READINGS of them.
 */
export function readingStarts(name: string, args: readonly string[]): number[] {
  const known = KNOWN_PROGRAMS[name];
  const starts = new Set<number>([0]);
  let frontier = args.length > 0 ? [0] : [];
  for (let step = 0; step < MAX_SKIPPED_OPTIONS && frontier.length > 0; step++) {
    const next: number[] = [];
    const reach = (k: number, more: boolean): void => {
      const at = Math.min(k, args.length);
      if (starts.has(at)) return;
      starts.add(at);
      if (more && at < args.length) next.push(at);
    };
    for (const k of frontier) {
      const w = args[k] as string;
      if (!w.startsWith('-') || w === '-') continue;
      if (w === '--') {
        reach(k + 1, false); // no options after `--`
      } else if (known !== undefined) {
        reach(k + (!w.includes('=') && known.withValue.includes(w) ? 2 : 1), true);
      } else {
        reach(k + 1, true);
        if (!w.includes('=')) reach(k + 2, true);
      }
    }
    frontier = next;
  }
  return [...starts].sort((a, b) => a - b).slice(0, MAX_READINGS);
}

/** Adds the dashed reading (`git-push X` -> `git push X`) of each candidate. */
export function withDashed(candidates: readonly ExecCandidate[]): ExecCandidate[] {
  const out = [...candidates];
  for (const c of candidates) {
    for (const [program, opts] of Object.entries(KNOWN_PROGRAMS)) {
      if (opts.dashed && c.name.startsWith(`${program}-`) && c.name.length > program.length + 1) {
        out.push({ name: program, args: [c.name.slice(program.length + 1), ...c.args] });
      }
    }
  }
  return out;
}

export interface ExecMatch {
  readonly rule: ExecRule;
  readonly index: number;
  /** The reading that matched, as text (`git push origin main`). */
  readonly matchedAs: string;
}

/** The first rule (deny rules first) matching any reading of any candidate. */
export function matchExec(compiled: CompiledExecRules, candidates: readonly ExecCandidate[]): ExecMatch | undefined {
  const all = withDashed(candidates);
  for (let index = 0; index < compiled.rules.length; index++) {
    const rule = compiled.rules[index] as ExecRule;
    for (const c of all) {
      if (rule.program !== undefined && rule.program !== c.name) continue;
      for (const k of readingStarts(c.name, c.args)) {
        const text = joinWords([c.name, ...c.args.slice(k)]);
        if (patternMatches(rule, text)) return { rule, index, matchedAs: text };
      }
    }
  }
  return undefined;
}

export interface ExecDecision {
  readonly decision: 'allow' | 'deny' | 'ask';
  readonly reason: string;
  readonly match?: ExecMatch;
}

/** The decision for an exec known under these candidates (deny beats ask; the rest are allowed). */
export function decideExec(compiled: CompiledExecRules, candidates: readonly ExecCandidate[]): ExecDecision {
  const m = matchExec(compiled, candidates);
  if (m === undefined) return { decision: 'allow', reason: 'no command rule matches' };
  return { decision: m.rule.list, reason: ruleReason(m.rule.list, m.rule.source), match: m };
}

/** What an asked exec becomes with nobody to ask (autonomous mode) or while a human is asked (approve mode). */
export function askOutcome(mode: ExecutionMode): 'refuse' | 'wait' {
  return mode === 'approve' ? 'wait' : 'refuse';
}

// ---- the logger's rules file ------------------------------------------------

const hex = (s: string): string => Buffer.from(s, 'utf8').toString('hex');

export interface ProgramRef {
  readonly name: string;
  /** A host path of the program's file (the sandbox sees the same one). */
  readonly path: string;
}

/**
 * The file personae-execlog reads with --rules (one record per line, strings
 * in lowercase hex):
 *   personae-exec-rules 1
 *   rule d|q p|e|w PROGRAM|- TEXT        (in order; the logger reports the index)
 *   known NAME 0|1 OPTION,OPTION...|-    (exact leading options, dashed)
 *   interp NAME OPTION,OPTION...|-        (interpreters, and options after which no script follows)
 *   ref NAME PATH                         (a file that is the program NAME)
 */
export function execRulesFile(compiled: CompiledExecRules, refs: readonly ProgramRef[]): string {
  const list = (xs: readonly string[]): string => (xs.length === 0 ? '-' : xs.map(hex).join(','));
  const lines = ['personae-exec-rules 1'];
  for (const r of compiled.rules) {
    lines.push(`rule ${r.list === 'deny' ? 'd' : 'q'} ${r.mode[0]} ${r.program === undefined ? '-' : hex(r.program)} ${hex(r.text)}`);
  }
  for (const [name, opts] of Object.entries(KNOWN_PROGRAMS)) lines.push(`known ${hex(name)} ${opts.dashed ? 1 : 0} ${list(opts.withValue)}`);
  for (const [name, stops] of Object.entries(INTERPRETERS)) lines.push(`interp ${hex(name)} ${list(stops)}`);
  for (const ref of refs) lines.push(`ref ${hex(ref.name)} ${hex(ref.path)}`);
  return `${lines.join('\n')}\n`;
}

/** Program names whose files the logger should know by identity: every program a rule names. */
export function namedPrograms(compiled: CompiledExecRules): string[] {
  return [...new Set(compiled.rules.flatMap((r) => (r.program === undefined ? [] : [r.program])))];
}
