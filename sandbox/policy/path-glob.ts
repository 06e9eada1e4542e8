// Gitignore-style path patterns for Read/Edit rules, anchored the way Claude
// Code documents them:
//   //abs/path   absolute, from the filesystem root
//   ~/path       from the persona's home directory
//   /path        from the project root (the workspace)
//   path, ./path from the current directory (the workspace: sessions start there)
// Within a pattern: `*` matches within one path segment, `?` one character,
// `[a-z]`/`[!a-z]` a class, `**` any number of segments, `\x` a literal x.
// As in gitignore, a pattern without a slash (`*.env`, `secrets`) matches a
// file or directory of that name at any depth, one with a slash is anchored to
// its base, and a pattern that matches a directory matches everything inside
// it (`Read(./secrets)` covers `secrets/key.pem`). A trailing `/` is ignored.
//
// Paths are normalised BEFORE matching (`.`, `..`, duplicate slashes, `~`), so
// `src/../secrets` cannot dodge a rule. Symlinks are not resolved (this module
// is pure); the sandbox's mounts are the wall for those.
//
// `anywhere` (used for deny and ask rules) makes current-directory patterns
// that start with `**` or have no slash match outside the workspace too:
// `Read(*.env)` then also covers `/tmp/x.env`. Allow rules stay inside their base.

export const MAX_PATH_LENGTH = 4096;

export interface PathPatternContext {
  /** Project root: base of `/path` patterns. */
  readonly workspace: string;
  /** Persona home: base of `~/path` patterns. */
  readonly home: string;
  /** Base of `path` and `./path` patterns. Defaults to the workspace. */
  readonly cwd?: string;
}

export interface PathMatcher {
  readonly source: string;
  /** The absolute directory the pattern is relative to. */
  readonly base: string;
  readonly matches: (absolutePath: string) => boolean;
}

type Token = { readonly t: 'lit'; readonly ch: string } | { readonly t: 'any' } | { readonly t: 'star' } | ClassToken;
interface ClassToken {
  readonly t: 'class';
  readonly negate: boolean;
  readonly ranges: readonly (readonly [number, number])[];
}
const GLOBSTAR = 'globstar';
type Segment = readonly Token[] | typeof GLOBSTAR;

/** Resolve `.`, `..` and duplicate slashes in an absolute path. `..` stops at the root. */
export function normalizeAbsolute(path: string): string {
  const out: string[] = [];
  for (const seg of path.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  return `/${out.join('/')}`;
}

/** A tool's path input as an absolute, normalised path: `~` is the home, relative paths are from `cwd`. */
export function resolveInputPath(input: unknown, cwd: string, home: string): { path: string } | { error: string } {
  if (typeof input !== 'string') return { error: 'must be a string' };
  if (input === '') return { error: 'must not be empty' };
  if (input.length > MAX_PATH_LENGTH) return { error: `is longer than ${MAX_PATH_LENGTH} characters` };
  if (input.includes('\0')) return { error: 'contains a NUL character' };
  let p = input;
  if (p === '~' || p.startsWith('~/')) p = `${home}/${p.slice(1)}`;
  else if (!p.startsWith('/')) p = `${cwd}/${p}`;
  return { path: normalizeAbsolute(p) };
}

export function compilePathPattern(
  spec: string,
  ctx: PathPatternContext,
  opts: { readonly anywhere?: boolean } = {},
): PathMatcher | { error: string } {
  const source = spec.trim();
  if (source === '') return { error: 'path pattern is empty' };
  if (source.includes('\0')) return { error: 'path pattern contains a NUL character' };
  let base: string;
  let rel: string;
  let anchored = true;
  let relative = false;
  if (source.startsWith('//')) [base, rel] = ['/', source.slice(2)];
  else if (source === '~' || source.startsWith('~/')) [base, rel] = [ctx.home, source.slice(2)];
  else if (source.startsWith('/')) [base, rel] = [ctx.workspace, source.slice(1)];
  else {
    [base, rel, relative] = [ctx.cwd ?? ctx.workspace, source, true];
    anchored = source.startsWith('./') || source.startsWith('../') || source.replace(/\/+$/, '').includes('/');
  }
  base = normalizeAbsolute(base);
  const names: string[] = [];
  for (const name of rel.split('/')) {
    if (name === '' || name === '.') continue;
    if (name !== '..') names.push(name);
    else if (names.length === 0) base = normalizeAbsolute(`${base}/..`);
    else if (/[*?[\\]/.test(names[names.length - 1] as string)) return { error: `"${source}": ".." after a wildcard` };
    else names.pop();
  }
  const segs: Segment[] = [];
  const push = (s: Segment): void => {
    if (s === GLOBSTAR && segs[segs.length - 1] === GLOBSTAR) return;
    segs.push(s);
  };
  if (!anchored) push(GLOBSTAR);
  for (const name of names) push(name === '**' ? GLOBSTAR : parseSegment(name));
  push(GLOBSTAR); // a match on a directory covers everything inside it
  if (opts.anywhere === true && relative && segs[0] === GLOBSTAR) base = '/';
  const finalBase = base;
  return {
    source,
    base: finalBase,
    matches: (absolutePath) => {
      const p = normalizeAbsolute(absolutePath);
      let rest: string;
      if (finalBase === '/') rest = p.slice(1);
      else if (p === finalBase) rest = '';
      else if (p.startsWith(`${finalBase}/`)) rest = p.slice(finalBase.length + 1);
      else return false;
      return matchSegments(segs, rest === '' ? [] : rest.split('/'));
    },
  };
}

function parseSegment(name: string): Token[] {
  const tokens: Token[] = [];
  for (let i = 0; i < name.length; i++) {
    const c = name[i] as string;
    if (c === '*') {
      if (tokens[tokens.length - 1]?.t !== 'star') tokens.push({ t: 'star' });
    } else if (c === '?') tokens.push({ t: 'any' });
    else if (c === '\\' && i + 1 < name.length) tokens.push({ t: 'lit', ch: name[++i] as string });
    else if (c === '[') {
      const parsed = parseClass(name, i);
      if (parsed === undefined) tokens.push({ t: 'lit', ch: c });
      else {
        tokens.push(parsed.token);
        i = parsed.end;
      }
    } else tokens.push({ t: 'lit', ch: c });
  }
  return tokens;
}

function parseClass(name: string, open: number): { token: ClassToken; end: number } | undefined {
  let i = open + 1;
  const negate = name[i] === '!' || name[i] === '^';
  if (negate) i++;
  const ranges: [number, number][] = [];
  let first = true;
  for (; i < name.length; i++) {
    let c = name[i] as string;
    if (c === ']' && !first) return { token: { t: 'class', negate, ranges }, end: i };
    first = false;
    if (c === '\\' && i + 1 < name.length) c = name[++i] as string;
    const lo = c.charCodeAt(0);
    if (name[i + 1] === '-' && i + 2 < name.length && name[i + 2] !== ']') {
      let hiCh = name[i + 2] as string;
      i += 2;
      if (hiCh === '\\' && i + 1 < name.length) hiCh = name[++i] as string;
      ranges.push([lo, hiCh.charCodeAt(0)]);
    } else ranges.push([lo, lo]);
  }
  return undefined;
}

function tokenMatches(tok: Token, code: number, ch: string): boolean {
  switch (tok.t) {
    case 'lit':
      return tok.ch === ch;
    case 'any':
      return true;
    case 'star':
      return false;
    case 'class':
      return tok.ranges.some(([lo, hi]) => code >= lo && code <= hi) !== tok.negate;
  }
}

/** One path segment against one pattern segment; `*` backtracks only to the last star, so this is O(n*m). */
function segmentMatches(tokens: readonly Token[], s: string): boolean {
  let p = 0;
  let t = 0;
  let starP = -1;
  let starT = 0;
  while (t < s.length) {
    const tok = tokens[p];
    if (tok !== undefined && tok.t === 'star') {
      starP = p++;
      starT = t;
    } else if (tok !== undefined && tokenMatches(tok, s.charCodeAt(t), s[t] as string)) {
      p++;
      t++;
    } else if (starP >= 0) {
      p = starP + 1;
      t = ++starT;
    } else return false;
  }
  while (tokens[p]?.t === 'star') p++;
  return p === tokens.length;
}

/** Pattern segments against path segments; `**` matches zero or more whole segments. */
function matchSegments(pattern: readonly Segment[], path: readonly string[]): boolean {
  const n = path.length;
  let next: boolean[] = new Array<boolean>(n + 1).fill(false);
  next[n] = true;
  for (let i = pattern.length - 1; i >= 0; i--) {
    const seg = pattern[i] as Segment;
    const cur: boolean[] = new Array<boolean>(n + 1).fill(false);
    for (let j = n; j >= 0; j--) {
      if (seg === GLOBSTAR) cur[j] = next[j] === true || (j < n && cur[j + 1] === true);
      else cur[j] = j < n && next[j + 1] === true && segmentMatches(seg, path[j] as string);
    }
    next = cur;
  }
  return next[0] === true;
}
