// What a session changed in the persona's own HOME, as diffs. HOME persists
// between sessions and only the persona's sessions write it, so personae
// keeps a shadow copy (in its own data, hidden from every sandbox) of each
// small text file there as the last session left it; at the end of a session
// each file it wrote or deleted is diffed against that copy, and the copy is
// brought up to date. A file no session of personae ever recorded (written
// before HOME was watched) is diffed against nothing, and says so. Besides
// the files the watcher reported, the end looks at every file in HOME
// modified since the session started and every shadowed file now gone
// (bounded walks), so a write the watcher missed is not missed here.
import { lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, type Dirent } from 'node:fs';
import path from 'node:path';
import { createTwoFilesPatch } from 'diff';

/** Larger files, and files that are not text, are listed without a diff. */
export const MAX_DIFFED_BYTES = 256 * 1024;
const MAX_DIFF_CHARS = 64 * 1024;

export interface HomeDiff {
  readonly file: string;
  /** A unified diff, or null when the file is binary or too large. */
  readonly diff: string | null;
  /** What it was compared with: the copy the last session left, or nothing. */
  readonly base: 'previous session' | 'none';
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

/** Diffs `changed` files inside `home` against `shadow` and updates the shadow. Never throws for one file. */
export function homeDiffs(home: string, shadow: string, changed: Iterable<string>): HomeDiff[] {
  const out: HomeDiff[] = [];
  for (const file of new Set(changed)) {
    const rel = path.relative(home, file);
    if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) continue;
    const copy = path.join(shadow, rel);
    const now = textOf(file);
    const before = textOf(copy);
    if (now === before) continue;
    try {
      if (now === undefined) rmSync(copy, { force: true });
      else if (now === null) rmSync(copy, { force: true, recursive: false });
      else {
        mkdirSync(path.dirname(copy), { recursive: true, mode: 0o700 });
        writeFileSync(copy, now, { mode: 0o600 });
      }
    } catch {
      // the shadow is best effort: the next diff of this file is against nothing
    }
    if (now === undefined || before === undefined) {
      out.push({ file, diff: null, base: before === undefined && now === undefined ? 'none' : 'previous session' });
      continue;
    }
    const patch = createTwoFilesPatch(`a/${rel}`, `b/${rel}`, before ?? '', now ?? '', undefined, undefined, { context: 3 });
    out.push({ file, diff: patch.length > MAX_DIFF_CHARS ? `${patch.slice(0, MAX_DIFF_CHARS)}\n… (diff cut at ${MAX_DIFF_CHARS} characters)` : patch, base: before === null ? 'none' : 'previous session' });
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
