// Split a Bash command line into the simple commands it would run.
//
// Tool rules such as `Bash(git push:*)` judge simple commands, so the command
// line is split the way bash would run it: on `&&`, `||`, `;`, `|`, `|&`, `&`
// and newlines; inside subshells `( ... )`, groups `{ ...; }`, `if`/`while`
// bodies, command substitutions `$(...)` and backticks (the inner commands
// become parts of their own AND the outer command stays a part), process
// substitutions `<(...)`/`>(...)`, substitutions inside double quotes, `${...}`
// and arithmetic, heredoc bodies with unquoted delimiters, and code handed to
// another shell as a literal string (`bash -c '...'`, `eval ...`, `su -c`,
// `watch '...'`, a heredoc or here-string fed to a shell).
//
// Each part is normalised for matching: quotes and escapes removed
// (`g\it 'push'` -> `git push`), whitespace collapsed, leading `VAR=value`
// assignments, redirections and reserved words (`if`, `then`, `!`, `{`, ...)
// dropped. Words whose text is only known at run time are marked dynamic, and
// commands that run code we cannot see are marked opaque; tool-bash.ts never
// lets either widen a permission.
//
// The rule: anything this parser cannot read with confidence is an error, never
// a guess. Unbalanced quotes, parentheses or substitutions, `case` statements,
// `;;`, nesting deeper than MAX_DEPTH, or input over MAX_SHELL_INPUT return
// `{ error }`, and the caller must treat an error as deny or ask, never allow.

import type { ShellCommand, ShellWord } from './shell-types.js';
import { embeddedScripts } from './shell-unwrap.js';

export type { ShellCommand, ShellWord } from './shell-types.js';

export const MAX_SHELL_INPUT = 1024 * 1024;
export const MAX_DEPTH = 24;

const RESERVED = new Set(['!', '{', '}', 'if', 'then', 'elif', 'else', 'fi', 'do', 'done', 'while', 'until']);
const ASSIGNMENT_RE = /^[A-Za-z_][A-Za-z0-9_]*(\[[^\]]*\])?\+?=/;
const QUOTED = '\u0001';
const DYNAMIC = '\u0002';

class ParseError extends Error {}

interface Heredoc {
  readonly delim: string;
  readonly stripTabs: boolean;
  readonly expand: boolean;
  script: boolean;
}

interface State {
  readonly src: string;
  i: number;
  depth: number;
  readonly out: (ShellCommand | null)[];
  heredocs: Heredoc[];
}

export function parseShellCommand(cmd: string): { commands: ShellCommand[] } | { error: string } {
  if (typeof cmd !== 'string') return { error: 'command is not a string' };
  if (cmd.length > MAX_SHELL_INPUT) return { error: `command is longer than ${MAX_SHELL_INPUT} characters` };
  if (cmd.includes('\0')) return { error: 'command contains a NUL character' };
  const out: (ShellCommand | null)[] = [];
  try {
    parseSource(cmd, 0, out);
  } catch (err) {
    if (err instanceof ParseError) return { error: err.message };
    if (err instanceof RangeError) return { error: 'command is nested too deeply' };
    throw err;
  }
  return { commands: out.filter((c): c is ShellCommand => c !== null) };
}

/** The simple commands of `cmd` as normalised text (see the file comment), or why it cannot be split. */
export function splitShellCommand(cmd: string): { parts: string[] } | { error: string } {
  const parsed = parseShellCommand(cmd);
  return 'error' in parsed ? parsed : { parts: parsed.commands.map((c) => c.text) };
}

function parseSource(src: string, depth: number, out: (ShellCommand | null)[]): void {
  if (depth > MAX_DEPTH) throw new ParseError('command is nested too deeply');
  const st: State = { src, i: 0, depth, out, heredocs: [] };
  parseList(st, null);
  if (st.heredocs.length > 0) readHeredocs(st);
}

function enter(st: State): void {
  st.depth++;
  if (st.depth > MAX_DEPTH) throw new ParseError('command is nested too deeply');
}

function skipBlanks(st: State): void {
  for (;;) {
    const c = st.src[st.i];
    if (c === ' ' || c === '\t' || c === '\r') st.i++;
    else if (c === '\\' && st.src[st.i + 1] === '\n') st.i += 2;
    else return;
  }
}

function skipComment(st: State): void {
  const nl = st.src.indexOf('\n', st.i);
  st.i = nl === -1 ? st.src.length : nl;
}

function parseList(st: State, closer: ')' | null): void {
  for (;;) {
    skipBlanks(st);
    const c = st.src[st.i];
    if (c === undefined) {
      if (closer !== null) throw new ParseError('unbalanced "(": missing ")"');
      return;
    }
    if (c === '\n') {
      st.i++;
      if (st.heredocs.length > 0) readHeredocs(st);
    } else if (c === ';') {
      const n = st.src[st.i + 1];
      if (n === ';' || n === '&') throw new ParseError('case statements are not supported');
      st.i++;
    } else if (c === '&' || c === '|') {
      st.i += st.src[st.i + 1] === c || (c === '|' && st.src[st.i + 1] === '&') ? 2 : 1;
    } else if (c === ')') {
      if (closer !== ')') throw new ParseError('unbalanced ")"');
      st.i++;
      return;
    } else if (c === '#') {
      skipComment(st);
    } else {
      parseCommand(st);
    }
  }
}

function parseCommand(st: State): void {
  const slot = st.out.length;
  st.out.push(null);
  const words: ShellWord[] = [];
  const hereStrings: ShellWord[] = [];
  const heredocs: Heredoc[] = [];
  let drop = false;
  let dropName = false;
  for (;;) {
    skipBlanks(st);
    const c = st.src[st.i];
    if (c === undefined || c === '\n' || c === ';' || c === '|' || c === ')') break;
    if (c === '&') {
      if (st.src[st.i + 1] !== '>') break;
      st.i++;
      parseRedirect(st, hereStrings, heredocs);
      continue;
    }
    if (c === '#') {
      skipComment(st);
      continue;
    }
    if (c === '(') {
      if (words.length === 0 && st.src[st.i + 1] === '(') {
        st.i += 2;
        scanArithmetic(st);
      } else if (words.length === 0) {
        st.i++;
        enter(st);
        parseList(st, ')');
        st.depth--;
      } else if (words.length === 1 && /^\(\s*\)/.test(st.src.slice(st.i, st.i + 64))) {
        st.i = st.src.indexOf(')', st.i) + 1; // function definition `name() ...`: drop the name
        words.length = 0;
      } else {
        throw new ParseError('unexpected "("');
      }
      continue;
    }
    if (c === '<' || c === '>') {
      if (st.src[st.i + 1] === '(') words.push(processSubstitution(st));
      else parseRedirect(st, hereStrings, heredocs);
      continue;
    }
    const w = readWord(st);
    if (w === undefined) throw new ParseError(`unexpected character ${JSON.stringify(c)}`);
    const n = st.src[st.i];
    if ((n === '<' || n === '>') && !w.quoted && /^(\d+|\{[A-Za-z_][A-Za-z0-9_]*\})$/.test(w.raw)) {
      parseRedirect(st, hereStrings, heredocs); // `2>&1`, `{fd}>file`
      continue;
    }
    if (words.length === 0 && !drop) {
      if (dropName) {
        dropName = false;
        continue;
      }
      if (!w.quoted && !w.dynamic) {
        if (RESERVED.has(w.value)) continue;
        if (w.value === 'case' || w.value === 'esac') throw new ParseError('case statements are not supported');
        if (w.value === 'for' || w.value === 'select') {
          drop = true; // loop header: its words are scanned for substitutions, then dropped
          continue;
        }
        if (w.value === 'function') {
          dropName = true;
          continue;
        }
      }
      if (ASSIGNMENT_RE.test(w.shape)) {
        if (w.shape.endsWith('=') && st.src[st.i] === '(') readArray(st);
        continue;
      }
    }
    if (!drop) words.push(w);
  }
  if (words.length === 0 || drop) {
    st.out.splice(slot, 1);
    for (const h of heredocs) h.script = false;
    return;
  }
  const found = embeddedScripts(words);
  let opaque = found.opaque;
  if (found.readsStdin) {
    if (hereStrings.length === 0 && heredocs.length === 0) opaque = true;
    for (const h of heredocs) h.script = true;
    for (const s of hereStrings) {
      if (s.dynamic) opaque = true;
      parseNested(st, s.value);
    }
  }
  st.out[slot] = { words, text: words.map((w) => w.value).join(' '), opaque };
  for (const script of found.scripts) parseNested(st, script);
}

function parseNested(st: State, src: string): void {
  parseSource(src, st.depth + 1, st.out);
}

function readArray(st: State): void {
  st.i++;
  for (;;) {
    skipBlanks(st);
    const c = st.src[st.i];
    if (c === undefined) throw new ParseError('unbalanced "(" in array assignment');
    if (c === ')') {
      st.i++;
      return;
    }
    if (c === '\n') st.i++;
    else if (c === '#') skipComment(st);
    else if (readWord(st) === undefined) throw new ParseError(`unexpected ${JSON.stringify(c)} in array assignment`);
  }
}

function processSubstitution(st: State): Word {
  const start = st.i;
  st.i += 2;
  enter(st);
  parseList(st, ')');
  st.depth--;
  const raw = st.src.slice(start, st.i);
  return { value: raw, raw, dynamic: true, quoted: false, shape: DYNAMIC };
}

function parseRedirect(st: State, hereStrings: ShellWord[], heredocs: Heredoc[]): void {
  const rest = st.src.slice(st.i, st.i + 3);
  const op = ['<<<', '<<-', '<<', '<>', '<&', '>>', '>&', '>|', '<', '>'].find((o) => rest.startsWith(o)) ?? '>';
  st.i += op.length;
  skipBlanks(st);
  const c = st.src[st.i];
  let target: Word | undefined;
  if ((c === '<' || c === '>') && st.src[st.i + 1] === '(') target = processSubstitution(st);
  else target = readWord(st);
  if (target === undefined) throw new ParseError(`redirection ${op} has no target`);
  if (op === '<<<') hereStrings.push(target);
  if (op === '<<' || op === '<<-') {
    const h: Heredoc = { delim: target.value, stripTabs: op === '<<-', expand: !target.quoted, script: false };
    heredocs.push(h);
    st.heredocs.push(h);
  }
}

function readHeredocs(st: State): void {
  const pending = st.heredocs;
  st.heredocs = [];
  for (const h of pending) {
    let body = '';
    while (st.i < st.src.length) {
      const nl = st.src.indexOf('\n', st.i);
      const end = nl === -1 ? st.src.length : nl;
      const line = st.src.slice(st.i, end);
      st.i = nl === -1 ? st.src.length : nl + 1;
      if ((h.stripTabs ? line.replace(/^\t+/, '') : line) === h.delim) break;
      body += `${line}\n`;
    }
    if (h.script) parseNested(st, body);
    else if (h.expand) scanExpansions({ src: body, i: 0, depth: st.depth + 1, out: st.out, heredocs: [] });
  }
}

/** Collect the substitutions of text that is expanded but not run (an unquoted heredoc body). */
function scanExpansions(st: State): void {
  while (st.i < st.src.length) {
    const c = st.src[st.i];
    if (c === '\\') st.i += 2;
    else if (c === '$') readDollar(st, true);
    else if (c === '`') readBacktick(st, true);
    else st.i++;
  }
}

interface Word extends ShellWord {
  /** The word with quoted characters replaced by QUOTED and expansions by DYNAMIC. */
  readonly shape: string;
}

function readWord(st: State): Word | undefined {
  const src = st.src;
  const start = st.i;
  let value = '';
  let shape = '';
  let dynamic = false;
  let quoted = false;
  while (st.i < src.length) {
    const c = src[st.i] as string;
    if (' \t\r\n;&|()<>'.includes(c)) break;
    if (c === '\\') {
      const n = src[st.i + 1];
      if (n === '\n') {
        st.i += 2;
        continue;
      }
      value += n ?? '\\';
      shape += QUOTED;
      quoted = true;
      st.i += n === undefined ? 1 : 2;
    } else if (c === "'") {
      const end = src.indexOf("'", st.i + 1);
      if (end === -1) throw new ParseError('unbalanced single quote');
      value += src.slice(st.i + 1, end);
      shape += QUOTED;
      quoted = true;
      st.i = end + 1;
    } else if (c === '"') {
      st.i++;
      const r = readDouble(st);
      value += r.value;
      dynamic ||= r.dynamic;
      shape += r.dynamic ? DYNAMIC : QUOTED;
      quoted = true;
    } else if (c === '$') {
      const r = readDollar(st, false);
      value += r.value;
      dynamic ||= r.dynamic;
      quoted ||= r.quoted;
      shape += r.dynamic ? DYNAMIC : r.quoted ? QUOTED : '$';
    } else if (c === '`') {
      value += readBacktick(st, false);
      dynamic = true;
      shape += DYNAMIC;
    } else {
      value += c;
      shape += c;
      st.i++;
    }
  }
  if (st.i === start) return undefined;
  const glob = /[*?]/.test(shape) || /\[.*\]/.test(shape) || /\{[^}]*(,|\.\.)[^}]*\}/.test(shape);
  return { value, raw: src.slice(start, st.i), dynamic: dynamic || glob, quoted, shape };
}

interface Piece {
  readonly value: string;
  readonly dynamic: boolean;
  readonly quoted: boolean;
}

/** After the opening `"`; consumes the closing one. */
function readDouble(st: State): Piece {
  let value = '';
  let dynamic = false;
  for (;;) {
    const c = st.src[st.i];
    if (c === undefined) throw new ParseError('unbalanced double quote');
    if (c === '"') {
      st.i++;
      return { value, dynamic, quoted: true };
    }
    if (c === '\\') {
      const n = st.src[st.i + 1];
      if (n === '\n') st.i += 2;
      else if (n !== undefined && '$`"\\'.includes(n)) {
        value += n;
        st.i += 2;
      } else {
        value += c;
        st.i++;
      }
    } else if (c === '$') {
      const r = readDollar(st, true);
      value += r.value;
      dynamic ||= r.dynamic;
    } else if (c === '`') {
      value += readBacktick(st, true);
      dynamic = true;
    } else {
      value += c;
      st.i++;
    }
  }
}

/** At a `$`. */
function readDollar(st: State, inDouble: boolean): Piece {
  const src = st.src;
  const start = st.i;
  const n = src[st.i + 1];
  if (!inDouble && n === "'") {
    st.i += 2;
    return { value: readAnsiC(st), dynamic: false, quoted: true };
  }
  if (!inDouble && n === '"') {
    st.i += 2;
    return readDouble(st);
  }
  if (n === '(' || n === '{') {
    enter(st);
    if (n === '{') {
      st.i += 2;
      scanBraced(st);
    } else if (src[st.i + 2] === '(') {
      st.i += 3;
      scanArithmetic(st);
    } else {
      st.i += 2;
      parseList(st, ')');
    }
    st.depth--;
    return { value: src.slice(start, st.i), dynamic: true, quoted: false };
  }
  if (n !== undefined && /[A-Za-z_]/.test(n)) {
    st.i += 2;
    while (st.i < src.length && /[A-Za-z0-9_]/.test(src[st.i] as string)) st.i++;
    return { value: src.slice(start, st.i), dynamic: true, quoted: false };
  }
  if (n !== undefined && /[0-9@*#?$!-]/.test(n)) {
    st.i += 2;
    return { value: src.slice(start, st.i), dynamic: true, quoted: false };
  }
  st.i++;
  return { value: '$', dynamic: false, quoted: false };
}

/** After `$'`; consumes the closing `'`. */
function readAnsiC(st: State): string {
  const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', a: '\x07', b: '\b', e: '\x1b', E: '\x1b', f: '\f', v: '\v' };
  let out = '';
  for (;;) {
    const c = st.src[st.i];
    if (c === undefined) throw new ParseError("unbalanced $'...' quote");
    st.i++;
    if (c === "'") return out;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = st.src[st.i] ?? '';
    st.i++;
    const hex = (re: RegExp, max: number): string => {
      let digits = '';
      while (digits.length < max && re.test(st.src[st.i] ?? '')) digits += st.src[st.i++];
      return digits;
    };
    if (simple[e] !== undefined) out += simple[e];
    else if (e === 'x') out += String.fromCodePoint(parseInt(hex(/[0-9a-fA-F]/, 2) || '0', 16));
    else if (e === 'u' || e === 'U') out += String.fromCodePoint(Math.min(parseInt(hex(/[0-9a-fA-F]/, e === 'u' ? 4 : 8) || '0', 16), 0x10ffff));
    else if (/[0-7]/.test(e)) {
      st.i--;
      out += String.fromCodePoint(parseInt(hex(/[0-7]/, 3), 8) & 0xff);
    } else if (e === 'c') {
      out += String.fromCharCode((st.src.charCodeAt(st.i) || 0) & 0x1f);
      st.i++;
    } else out += e; // \\ \' \" \? and unknown escapes
  }
}

/** After `$((` or `((`; consumes the closing `))`. Only nested substitutions matter. */
function scanArithmetic(st: State): void {
  let depth = 0;
  for (;;) {
    const c = st.src[st.i];
    if (c === undefined) throw new ParseError('unbalanced "((": missing "))"');
    if (c === '(') depth++;
    else if (c === ')') {
      if (depth === 0) {
        if (st.src[st.i + 1] !== ')') throw new ParseError('unbalanced "((": missing "))"');
        st.i += 2;
        return;
      }
      depth--;
    } else if (c === '$') {
      readDollar(st, true);
      continue;
    } else if (c === '`') {
      readBacktick(st, true);
      continue;
    } else if (c === '"') {
      st.i++;
      readDouble(st);
      continue;
    } else if (c === '\\') st.i++;
    st.i++;
  }
}

/** After `${`; consumes the closing `}`. */
function scanBraced(st: State): void {
  let depth = 1;
  for (;;) {
    const c = st.src[st.i];
    if (c === undefined) throw new ParseError('unbalanced "${": missing "}"');
    if (c === '}') {
      st.i++;
      if (--depth === 0) return;
    } else if (c === '{') {
      depth++;
      st.i++;
    } else if (c === '$') readDollar(st, true);
    else if (c === '`') readBacktick(st, true);
    else if (c === '"') {
      st.i++;
      readDouble(st);
    } else if (c === "'") {
      const end = st.src.indexOf("'", st.i + 1);
      if (end === -1) throw new ParseError('unbalanced single quote');
      st.i = end + 1;
    } else st.i += c === '\\' ? 2 : 1;
  }
}

/** At a backtick; parses its content as commands and returns the raw source. */
function readBacktick(st: State, inDouble: boolean): string {
  const start = st.i;
  st.i++;
  let inner = '';
  for (;;) {
    const c = st.src[st.i];
    if (c === undefined) throw new ParseError('unbalanced backquote');
    if (c === '`') {
      st.i++;
      break;
    }
    const n = st.src[st.i + 1];
    if (c === '\\' && n !== undefined && ('`$\\'.includes(n) || (inDouble && n === '"'))) {
      inner += n;
      st.i += 2;
    } else {
      inner += c;
      st.i++;
    }
  }
  parseNested(st, inner);
  return st.src.slice(start, st.i);
}
