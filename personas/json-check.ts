// A strict JSON syntax check that says *where* a file is wrong. JSON.parse
// keeps the last of duplicate keys silently and, on Node 20, often reports no
// position; this scanner finds the first problem (syntax, duplicate key, too
// deep) with its offset. It is iterative, so no input can exhaust the stack.

export interface JsonProblem {
  /** Character offset of the problem in the text. */
  readonly offset: number;
  readonly message: string;
}

type Frame = { readonly kind: 'object'; readonly keys: Set<string> } | { readonly kind: 'array' };

const WS_RE = /[ \t\n\r]*/y;
const STRING_RE = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
const NUMBER_RE = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const LITERAL_RE = /true|false|null/y;

function matchAt(re: RegExp, text: string, at: number): number {
  re.lastIndex = at;
  return re.test(text) ? re.lastIndex : -1;
}

function describeChar(c: string | undefined): string {
  if (c === undefined) return 'end of file';
  return /^[\x21-\x7e]$/.test(c) ? `"${c}"` : `character U+${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}

/** The first problem in `text` as JSON, or undefined when it is valid JSON with unique keys nested at most `maxDepth` deep. */
export function checkJsonText(text: string, maxDepth: number): JsonProblem | undefined {
  const stack: Frame[] = [];
  let state: 'value' | 'key' | 'after' = 'value';
  let i = 0;
  for (;;) {
    i = matchAt(WS_RE, text, i);
    const c = text[i];
    const top = stack[stack.length - 1];
    if (state === 'after') {
      if (top === undefined) return c === undefined ? undefined : { offset: i, message: `unexpected ${describeChar(c)} after the end of the JSON value` };
      const close = top.kind === 'object' ? '}' : ']';
      if (c === ',') {
        state = top.kind === 'object' ? 'key' : 'value';
        i++;
      } else if (c === close) {
        stack.pop();
        i++;
      } else {
        return { offset: i, message: `unexpected ${describeChar(c)}; expected "," or "${close}"` };
      }
      continue;
    }
    if (state === 'key') {
      const end = c === '"' ? matchAt(STRING_RE, text, i) : -1;
      if (end === -1) return { offset: i, message: c === '"' ? 'invalid or unterminated string' : `unexpected ${describeChar(c)}; expected a double-quoted key` };
      const key = JSON.parse(text.slice(i, end)) as string;
      if (top?.kind === 'object') {
        if (top.keys.has(key)) return { offset: i, message: `duplicate key ${JSON.stringify(key.slice(0, 60))}; each key may appear only once` };
        top.keys.add(key);
      }
      i = matchAt(WS_RE, text, end);
      if (text[i] !== ':') return { offset: i, message: `unexpected ${describeChar(text[i])}; expected ":" after a key` };
      i++;
      state = 'value';
      continue;
    }
    // state === 'value'
    if (c === '{' || c === '[') {
      if (stack.length >= maxDepth) return { offset: i, message: `lists and mappings nest more than ${maxDepth} levels deep` };
      stack.push(c === '{' ? { kind: 'object', keys: new Set() } : { kind: 'array' });
      i = matchAt(WS_RE, text, i + 1);
      if (text[i] === (c === '{' ? '}' : ']')) {
        stack.pop();
        i++;
        state = 'after';
      } else {
        state = c === '{' ? 'key' : 'value';
      }
      continue;
    }
    const end = c === '"' ? matchAt(STRING_RE, text, i) : c === undefined ? -1 : Math.max(matchAt(NUMBER_RE, text, i), matchAt(LITERAL_RE, text, i));
    if (end === -1) return { offset: i, message: c === '"' ? 'invalid or unterminated string' : `unexpected ${describeChar(c)}; expected a value` };
    i = end;
    state = 'after';
  }
}

/** 1-based line number of a character offset. */
export function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) line++;
  return line;
}
