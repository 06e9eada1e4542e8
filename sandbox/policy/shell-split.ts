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
// assignments (kept aside in `assignments`), redirections and reserved words
// (`if`, `then`, `!`, `{`, ...) dropped; `for x in ...` headers and function
// names are dropped once their substitutions are collected. Words whose text
// is only known at run time are marked dynamic, and commands that run code we
// cannot see (`bash -c "$X"`, `... | sh`) are marked opaque; tool-bash.ts
// never lets either widen a permission.
//
// The rule: anything this parser cannot read with confidence is an error, never
// a guess. Unbalanced quotes, parentheses or substitutions, `case` statements,
// `;;`, nesting deeper than MAX_DEPTH, or input over MAX_SHELL_INPUT return
// `{ error }`, and the caller must treat an error as deny or ask, never allow.

import type { ShellCommand, ShellWord } from './shell-types.js';
import { embeddedScripts } from './shell-unwrap.js';
import { DYNAMIC, MAX_DEPTH, ParseError, enter, readWord, scanArithmetic, scanExpansions } from './shell-words.js';
import type { Heredoc, State, Word } from './shell-words.js';

export type { ShellCommand, ShellWord } from './shell-types.js';
export { MAX_DEPTH } from './shell-words.js';

export const MAX_SHELL_INPUT = 1024 * 1024;

const RESERVED = new Set(['!', '{', '}', 'if', 'then', 'elif', 'else', 'fi', 'do', 'done', 'while', 'until']);
const ASSIGNMENT_RE = /^[A-Za-z_][A-Za-z0-9_]*(\[[^\]]*\])?\+?=/;

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
  const st: State = { src, i: 0, depth, out, heredocs: [], list: parseList, nested: parseNested };
  parseList(st, null);
  if (st.heredocs.length > 0) readHeredocs(st);
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
  const assignments: string[] = [];
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
        if (w.shape.endsWith('=') && st.src[st.i] === '(') {
          const start = st.i;
          readArray(st);
          assignments.push(w.value + st.src.slice(start, st.i));
        } else assignments.push(w.value);
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
  st.out[slot] = { words, text: words.map((w) => w.value).join(' '), assignments, opaque };
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
    else if (h.expand) scanExpansions({ ...st, src: body, i: 0, depth: st.depth + 1, heredocs: [] });
  }
}
