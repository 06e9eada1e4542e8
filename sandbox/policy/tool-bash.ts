// Bash rules: `Bash`, `Bash(*)`, `Bash(npm test)` (exact), `Bash(git push:*)`
// (prefix at a word boundary: `git push` or `git push ...`, never `git pushx`),
// and `*` wildcards anywhere (`Bash(npm run *)`, `Bash(* --version)`); a
// trailing ` *` also matches the bare command (`Bash(ls *)` matches `ls`).
// Rules and commands are compared after the same normalisation: quotes and
// escapes removed, whitespace collapsed. A `*` inside quotes in a rule is still
// a wildcard.
//
// A command line is split into simple commands (shell-split.ts) and judged
// part by part:
// - deny if ANY part, in ANY spelling (shell-unwrap.ts: `sudo x`, `env x`,
//   `/usr/bin/x`, `xargs x`, ...), matches a deny rule. A deny rule written with
//   shell operators (`Bash(curl * | sh)`) is also matched against the whole line.
// - ask if any part matches an ask rule the same way, or MIGHT match a deny or
//   ask rule: a part whose text is only known at run time (`$CMD push`,
//   `git $SUB`, `g?t push`) is compared by its static prefix, and a part that
//   runs code we cannot see (`bash -c "$X"`, `echo ... | sh`, `eval "$X"`) may
//   match anything. Such parts are asked about, not denied, since they may be
//   innocent. In autonomous mode a part that might match only rules the exec
//   logger decides (policy/exec-rules.ts: every rule naming a program) is not
//   held for a human nobody is watching: it goes on, and each program it
//   starts is decided at its exec; the decision's reason says so. A rule the
//   exec logger cannot decide (a builtin, operators) is still asked about.
// - allow only if every part, as written, matches an allow rule: wrappers are
//   not stripped and leading assignments count (`LD_PRELOAD=x npm test` is not
//   `npm test`); a part whose command word is dynamic is only allowed by a
//   bare `Bash`.
// - otherwise the execution mode decides.
// A command the splitter cannot parse is denied when a deny rule's literal
// text appears in it (so `x && git push` stays denied whatever `x` is), asked
// about when any Bash deny/ask rule exists, allowed by a bare `Bash` allow, and
// asked about otherwise, in either mode: an unreadable command never runs
// unattended unless the persona allows all of Bash and restricts none of it.

import { parseShellCommand } from './shell-split.js';
import type { ShellCommand } from './shell-types.js';
import { notAtExec } from './exec-scope.js';
import { basename, commandVariants } from './shell-unwrap.js';
import type { CommandVariant } from './shell-unwrap.js';
import { MAX_INPUT_STRING, byMode, ruleReason } from './tool-types.js';
import type { ExecutionMode, RuleList, ToolDecision } from './tool-types.js';

export interface BashPattern {
  /** The normalised pattern text. */
  readonly text: string;
  /** The text before the first wildcard (all of it when there is none). */
  readonly literal: string;
  /** True when the pattern uses shell operators and is also matched against the whole line. */
  readonly compound: boolean;
  readonly test: (command: string) => boolean;
}

export interface BashRule {
  readonly list: RuleList;
  readonly source: string;
  /** Empty for a bare rule (`Bash`, `Bash(*)`), which matches every call. */
  readonly patterns: readonly BashPattern[];
  /** The exec logger also decides this rule, at every exec (see exec-scope.ts). */
  readonly atExec: boolean;
}

const OPERATOR_CHARS = '|&;<>()';

/** Quote removal and whitespace collapsing for rule text; operators become words of their own. */
export function normalizeCommandText(text: string): string {
  const tokens: string[] = [];
  let cur = '';
  let has = false;
  const flush = (): void => {
    if (has) tokens.push(cur);
    cur = '';
    has = false;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (/\s/.test(c)) flush();
    else if (c === "'" || c === '"') {
      let j = i + 1;
      for (; j < text.length && text[j] !== c; j++) {
        if (c === '"' && text[j] === '\\' && '$`"\\'.includes(text[j + 1] ?? '')) j++;
        cur += text[j];
      }
      if (j >= text.length) return text.trim().split(/\s+/).join(' ');
      has = true;
      i = j;
    } else if (c === '\\') {
      cur += text[i + 1] ?? '';
      has = true;
      i++;
    } else if (OPERATOR_CHARS.includes(c)) {
      flush();
      let j = i;
      while (j < text.length && OPERATOR_CHARS.includes(text[j] as string)) j++;
      tokens.push(text.slice(i, j));
      i = j - 1;
    } else {
      cur += c;
      has = true;
    }
  }
  flush();
  return tokens.join(' ');
}

/** `*` wildcards only, so matching is linear-ish and cannot blow up on long commands. */
export function wildcardMatch(pattern: string, text: string): boolean {
  const pieces = pattern.split('*');
  const first = pieces[0] as string;
  if (pieces.length === 1) return text === first;
  const last = pieces[pieces.length - 1] as string;
  if (text.length < first.length + last.length || !text.startsWith(first) || !text.endsWith(last)) return false;
  let pos = first.length;
  const end = text.length - last.length;
  for (let k = 1; k < pieces.length - 1; k++) {
    const piece = pieces[k] as string;
    const at = text.indexOf(piece, pos);
    if (at === -1 || at + piece.length > end) return false;
    pos = at + piece.length;
  }
  return true;
}

export function compileBashPattern(specifier: string): BashPattern {
  let spec = specifier.trim();
  const prefix = spec.endsWith(':*');
  if (prefix) spec = spec.slice(0, -2);
  const text = normalizeCommandText(spec);
  const star = text.indexOf('*');
  const literal = prefix || star === -1 ? text : text.slice(0, star);
  const compound = text.split(' ').some((t) => t !== '' && [...t].every((ch) => OPERATOR_CHARS.includes(ch)));
  let test: (command: string) => boolean;
  if (prefix) test = (s) => text === '' || s === text || s.startsWith(`${text} `);
  else if (star === -1) test = (s) => s === text;
  else test = (s) => wildcardMatch(text, s) || (text.endsWith(' *') && s === text.slice(0, -2));
  return { text, literal, compound, test };
}

/** The pattern itself plus, for a path-spelled command word (`/usr/bin/rm`), its basename form for deny/ask. */
export function compileBashRule(list: RuleList, source: string, specifier: string | undefined): BashRule {
  if (specifier === undefined) return { list, source, patterns: [], atExec: false };
  const pattern = compileBashPattern(specifier);
  const patterns = [pattern];
  const [head, ...rest] = pattern.text.split(' ');
  if (list !== 'allow' && head !== undefined && basename(head) !== head && !head.includes('*')) {
    patterns.push(compileBashPattern([basename(head), ...rest].join(' ') + (specifier.trim().endsWith(':*') ? ':*' : '')));
  }
  return { list, source, patterns, atExec: list !== 'allow' && notAtExec(pattern.text) === undefined };
}

type Match = { kind: 'yes' } | { kind: 'maybe'; why: string } | { kind: 'no' };

function variantMatch(rule: BashRule, v: CommandVariant, opaque: boolean): Match {
  const text = v.words.map((w) => w.value).join(' ');
  if (rule.patterns.some((p) => p.test(text))) return { kind: 'yes' };
  const dyn = v.words.findIndex((w) => w.dynamic);
  let prefix: string | undefined;
  let why = '';
  if (opaque) [prefix, why] = ['', 'it runs code that cannot be inspected'];
  else if (dyn !== -1) [prefix, why] = [v.words.slice(0, dyn).map((w) => w.value).join(' '), 'its text is only known at run time'];
  else if (v.trailingDynamic) [prefix, why] = [text, 'it adds arguments read at run time'];
  if (prefix === undefined) return { kind: 'no' };
  const q = prefix === '' ? '' : `${prefix} `;
  const could = rule.patterns.some((p) => p.literal.startsWith(q) || q.startsWith(p.literal));
  return could ? { kind: 'maybe', why } : { kind: 'no' };
}

function partMatch(rule: BashRule, part: ShellCommand, variants: readonly CommandVariant[]): Match {
  let maybe: Match = { kind: 'no' };
  for (const v of variants) {
    const m = variantMatch(rule, v, part.opaque);
    if (m.kind === 'yes') return m;
    if (maybe.kind === 'no') maybe = m;
  }
  return maybe;
}

function allowedAsWritten(rule: BashRule, part: ShellCommand): boolean {
  if (rule.patterns.length === 0) return true;
  if (part.words[0]?.dynamic !== false) return false;
  const text = [...part.assignments, part.text].join(' ');
  return rule.patterns.some((p) => p.test(text));
}

function decided(decision: ToolDecision['decision'], rule: BashRule, note = ''): ToolDecision {
  return { decision, reason: ruleReason(rule.list, rule.source) + note, matched: rule.source };
}

export function decideBash(rules: readonly BashRule[], command: unknown, mode: ExecutionMode): ToolDecision {
  if (typeof command !== 'string') return { decision: 'deny', reason: 'malformed input: Bash.command must be a string' };
  if (command.length > MAX_INPUT_STRING) {
    return { decision: 'deny', reason: `malformed input: Bash.command is longer than ${MAX_INPUT_STRING} characters` };
  }
  const deny = rules.filter((r) => r.list === 'deny');
  const ask = rules.filter((r) => r.list === 'ask');
  const allow = rules.filter((r) => r.list === 'allow');
  const bareDeny = deny.find((r) => r.patterns.length === 0);
  if (bareDeny !== undefined) return decided('deny', bareDeny);
  const parsed = parseShellCommand(command);
  if ('error' in parsed) return decideUnparsed(command, parsed.error, deny, ask, allow, mode);
  const parts = parsed.commands.map((part) => ({ part, variants: commandVariants(part.words) }));
  const whole = normalizeCommandText(command);
  let askYes: ToolDecision | undefined;
  let maybeDeny: ToolDecision | undefined;
  let maybeAsk: ToolDecision | undefined;
  let atExec: { rule: BashRule; at: string } | undefined;
  for (const rule of [...deny, ...ask]) {
    if (rule.patterns.length === 0) continue; // a bare ask rule: below, once no deny rule matched
    let m: Match = rule.patterns.some((p) => p.compound && p.test(whole)) ? { kind: 'yes' } : { kind: 'no' };
    let at: ShellCommand | undefined;
    for (const { part, variants } of parts) {
      if (m.kind === 'yes') break;
      const pm = partMatch(rule, part, variants);
      if (pm.kind !== 'no' && (m.kind === 'no' || pm.kind === 'yes')) [m, at] = [pm, part];
    }
    if (m.kind === 'yes' && rule.list === 'deny') return decided('deny', rule);
    if (m.kind === 'yes') askYes ??= decided('ask', rule);
    if (m.kind === 'maybe' && mode === 'autonomous' && rule.atExec) {
      atExec ??= { rule, at: (at?.text ?? '').slice(0, 80) };
    } else if (m.kind === 'maybe') {
      const d = decided('ask', rule, ` (may match \`${(at?.text ?? '').slice(0, 80)}\`: ${m.why})`);
      if (rule.list === 'deny') maybeDeny ??= d;
      else maybeAsk ??= d;
    }
  }
  const bareAsk = ask.find((r) => r.patterns.length === 0);
  const asked = (bareAsk && decided('ask', bareAsk)) ?? askYes ?? maybeDeny ?? maybeAsk;
  if (asked !== undefined) return asked;
  return noted(allowedParts(parts.map((p) => p.part), allow, mode), atExec);
}

/** Allowed by a bare `Bash` allow, or part by part by allow rules as written; otherwise the mode decides. */
function allowedParts(parts: readonly ShellCommand[], allow: readonly BashRule[], mode: ExecutionMode): ToolDecision {
  const bareAllow = allow.find((r) => r.patterns.length === 0);
  if (bareAllow !== undefined) return decided('allow', bareAllow);
  if (parts.length === 0) return byMode(mode);
  const used: BashRule[] = [];
  for (const part of parts) {
    const rule = allow.find((r) => allowedAsWritten(r, part));
    if (rule === undefined) return byMode(mode);
    if (!used.includes(rule)) used.push(rule);
  }
  const first = used[0] as BashRule;
  return { decision: 'allow', reason: ruleReason('allow', used.map((r) => r.source).join(', ')), matched: first.source };
}

/** A decision that let through a command which might match a rule decided at exec says so. */
function noted(d: ToolDecision, atExec: { rule: BashRule; at: string } | undefined): ToolDecision {
  if (atExec === undefined || d.decision !== 'allow') return d;
  const where = atExec.at === '' ? '' : ` \`${atExec.at}\``;
  return { ...d, reason: `${d.reason}; may match ${ruleReason(atExec.rule.list, atExec.rule.source)}${where}: decided at each exec` };
}

function decideUnparsed(
  command: string,
  error: string,
  deny: readonly BashRule[],
  ask: readonly BashRule[],
  allow: readonly BashRule[],
  mode: ExecutionMode,
): ToolDecision {
  const note = ` (command could not be parsed: ${error})`;
  const flat = command.replace(/["'\\]/g, '').replace(/\s+/g, ' ');
  for (const rule of deny) {
    for (const p of rule.patterns) {
      const lit = p.literal.trim();
      if (lit === '') continue;
      const re = new RegExp(`(?:^|[^A-Za-z0-9_.-])${lit.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`);
      if (re.test(flat)) return decided('deny', rule, note);
    }
  }
  const bareAsk = ask.find((r) => r.patterns.length === 0);
  if (bareAsk !== undefined) return decided('ask', bareAsk, note);
  // In autonomous mode the rules the exec logger decides need no human here (see the file comment).
  const restricting = [...deny, ...ask].filter((r) => !(mode === 'autonomous' && r.atExec))[0];
  if (restricting !== undefined) return decided('ask', restricting, ` might match: the command could not be parsed (${error})`);
  const backstop = [...deny, ...ask][0];
  const bareAllow = allow.find((r) => r.patterns.length === 0);
  if (bareAllow !== undefined) return noted(decided('allow', bareAllow), backstop && { rule: backstop, at: '' });
  return { decision: 'ask', reason: `command could not be parsed: ${error}` };
}
