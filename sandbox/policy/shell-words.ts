// Word-level shell lexing for shell-split.ts: quotes, escapes, `$'...'`,
// parameter/command/arithmetic expansion and backticks. Substitutions are
// parsed as commands through the hooks on State, so their inner commands
// become parts too. See shell-split.ts for the rules this serves.

import type { ShellCommand, ShellWord } from './shell-types.js';

export const MAX_DEPTH = 24;
export const QUOTED = '\u0001';
export const DYNAMIC = '\u0002';

export class ParseError extends Error {}

export interface Heredoc {
  readonly delim: string;
  readonly stripTabs: boolean;
  readonly expand: boolean;
  /** Set once the command is complete: the body is a script for a shell reading stdin. */
  script: boolean;
}

export interface State {
  readonly src: string;
  i: number;
  depth: number;
  readonly out: (ShellCommand | null)[];
  heredocs: Heredoc[];
  /** Parse a command list up to the matching `)` (shell-split.ts). */
  readonly list: (st: State, closer: ')') => void;
  /** Parse a separate source string (a backtick body, a `bash -c` script) as commands. */
  readonly nested: (st: State, src: string) => void;
}

export function enter(st: State): void {
  st.depth++;
  if (st.depth > MAX_DEPTH) throw new ParseError('command is nested too deeply');
}

/** Collect the substitutions of text that is expanded but not run (an unquoted heredoc body). */
export function scanExpansions(st: State): void {
  while (st.i < st.src.length) {
    const c = st.src[st.i];
    if (c === '\\') st.i += 2;
    else if (c === '$') readDollar(st, true);
    else if (c === '`') readBacktick(st, true);
    else st.i++;
  }
}

export interface Word extends ShellWord {
  /** The word with quoted characters replaced by QUOTED and expansions by DYNAMIC. */
  readonly shape: string;
}

export function readWord(st: State): Word | undefined {
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
      st.list(st, ')');
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
export function scanArithmetic(st: State): void {
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
  st.nested(st, inner);
  return st.src.slice(start, st.i);
}
