// What a session changed in the persona's own HOME: its writes, deletes and
// diffs, found when the session is over. HOME persists between sessions and
// only the persona's sessions write it, so personae keeps a shadow copy (in
// its own data, hidden from every sandbox) of each small text file there as
// the last session left it. At the end, every file in HOME modified since the
// session started and every shadowed file now gone (bounded walks) is
// compared with that copy, recorded, diffed, and the copy brought up to date.
// A file no earlier session left a copy of is diffed against nothing, and
// says so. (HOME is not watched live: an agent's HOME fills with its own
// state, and a watcher's start would grow with it.)
import { lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, type Dirent } from 'node:fs';
import path from 'node:path';
import { createTwoFilesPatch } from 'diff';

/** Larger files, and files that are not text, are listed without a diff. */
export const MAX_DIFFED_BYTES = 256 * 1024;
const MAX_DIFF_CHARS = 64 * 1024;

export interface HomeChange {
  readonly file: string;
  readonly op: 'create' | 'modify' | 'unlink';
  /** A unified diff, or null when the file is binary or too large. */
  readonly diff: string | null;
  /** What it was compared with: the copy the last session left, or nothing. */
  readonly base: 'previous session' | 'none';
  /** When it was last written (for a deleted file: now). */
  readonly at: Date;
}

/** The file's text, null when it is absent, and undefined when it is not a small regular text file. */
function textOf(p: string): string | null | undefined {
  let size: number;
  try {
    const st = lstatSync(p);
    if (!st.isFile()) return undefined;
    size = st.size;
  } catch {
    return null;
  }
  if (size > MAX_DIFFED_BYTES) return undefined;
  try {
    const buf = readFileSync(p);
    return buf.subarray(0, 8192).includes(0) ? undefined : buf.toString('utf8');
  } catch {
    return undefined;
  }
}

/**
 * What changed among `candidates` inside `home` since `sinceMs`, against
 * `shadow` (which is brought up to date). Never throws for one file.
 */
export function homeChanges(home: string, shadow: string, candidates: Iterable<string>, sinceMs: number): HomeChange[] {
  const out: HomeChange[] = [];
  for (const file of new Set(candidates)) {
    const rel = path.relative(home, file);
    if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) continue;
    const copy = path.join(shadow, rel);
    let st: ReturnType<typeof lstatSync> | undefined;
    try {
      st = lstatSync(file);
    } catch {
      st = undefined;
    }
    if (st !== undefined && !st.isFile()) continue;
    const now = st === undefined ? null : textOf(file);
    const before = textOf(copy);
    const shadowed = before !== null;
    // Unchanged since the last session, or neither here nor shadowed (made and removed in the session).
    if (st === undefined && !shadowed) continue;
    if (st !== undefined && (now === undefined ? st.mtimeMs < sinceMs : now === before)) continue;
    try {
      if (now === null || now === undefined) rmSync(copy, { force: true });
      else {
        mkdirSync(path.dirname(copy), { recursive: true, mode: 0o700 });
        writeFileSync(copy, now, { mode: 0o600 });
      }
    } catch {
      // the shadow is best effort: the next diff of this file is against nothing
    }
    const op = st === undefined ? 'unlink' : !shadowed && st.birthtimeMs >= sinceMs ? 'create' : 'modify';
    const at = st === undefined ? new Date() : new Date(st.mtimeMs);
    const base = shadowed && before !== undefined ? 'previous session' : 'none';
    if (now === undefined || before === undefined) {
      out.push({ file, op, diff: null, base, at });
      continue;
    }
    const patch = createTwoFilesPatch(`a/${rel}`, `b/${rel}`, before ?? '', now ?? '', undefined, undefined, { context: 3 });
    out.push({ file, op, diff: patch.length > MAX_DIFF_CHARS ? `${patch.slice(0, MAX_DIFF_CHARS)}\n… (diff cut at ${MAX_DIFF_CHARS} characters)` : patch, base, at });
  }
  return out;
}

/** Directories not walked (caches; they would dwarf the rest). */
const SKIPPED = new Set(['node_modules', '.cache', '_cacache', '_logs', '_npx', '.git']);
export const MAX_WALKED = 5000;

/** Regular files under `dir` (bounded), with their modification times. */
function walk(dir: string, visit: (file: string, mtimeMs: number) => void): void {
  let budget = MAX_WALKED;
  const stack = [dir];
  while (stack.length > 0 && budget > 0) {
    const d = stack.pop() as string;
    let entries: Dirent[];
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      if (--budget <= 0) break;
      const p = path.join(d, e.name);
      if (e.isDirectory()) {
        if (!SKIPPED.has(e.name)) stack.push(p);
      } else if (e.isFile()) {
        try {
          visit(p, lstatSync(p).mtimeMs);
        } catch {
          // gone meanwhile
        }
      }
    }
  }
}

/** The files to diff at a session's end: the reported ones, those modified since `sinceMs`, and shadowed ones now gone. */
export function homeCandidates(home: string, shadow: string, reported: Iterable<string>, sinceMs: number): string[] {
  const out = new Set(reported);
  walk(home, (f, mtime) => {
    if (mtime >= sinceMs) out.add(f);
  });
  walk(shadow, (f) => {
    const original = path.join(home, path.relative(shadow, f));
    try {
      lstatSync(original);
    } catch {
      out.add(original);
    }
  });
  return [...out];
}
