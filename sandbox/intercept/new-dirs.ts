// chokidar reads a newly made directory before it starts watching it: a file
// made in between is never reported. An agent that makes a directory and
// writes into it at once (or any burst on a busy machine) loses events that
// way. This catches up: each directory made during the session is read again
// shortly after chokidar took it over, and all of them once more when the
// session settles. Whatever was not reported yet is reported then.
import { readdirSync } from 'node:fs';
import path from 'node:path';

/** Directories made during a session that are read again (beyond that, events may be missed, as before). */
const MAX_DIRS = 20_000;
/** Entries remembered as reported, so that nothing is reported twice. */
const MAX_KNOWN = 500_000;
/** How long after a new directory is reported it is read again. */
const CATCH_UP_MS = 50;
/** Entries one final catch-up looks at, at most (an agent could make millions to stall the session's end). */
const FINAL_BUDGET = 200_000;

export class NewDirCatchUp {
  private readonly dirs = new Set<string>();
  private readonly pending = new Set<string>();
  private readonly known = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly ignored: (p: string) => boolean,
    /** Reports an entry found that was not reported yet. */
    private readonly report: (p: string, kind: 'file' | 'dir') => void,
  ) {}

  /**
   * An entry was reported as created (by chokidar or by a catch-up). False
   * when it was reported already: the caller drops the duplicate.
   */
  created(p: string, kind: 'file' | 'dir'): boolean {
    if (kind === 'dir' && this.dirs.size < MAX_DIRS && !this.dirs.has(p)) {
      this.dirs.add(p);
      this.pending.add(p);
      this.schedule();
    }
    if (!this.dirs.has(path.dirname(p))) return true;
    if (this.known.has(p)) return false;
    if (this.known.size < MAX_KNOWN) this.known.add(p);
    return true;
  }

  /** An entry was removed: made again, it is reported again. */
  removed(p: string): void {
    this.known.delete(p);
  }

  /** Reads every directory made during the session once more (the session is settling). */
  catchUpAll(): void {
    let budget = FINAL_BUDGET;
    for (const d of this.dirs) {
      budget -= this.read(d);
      if (budget <= 0) return;
    }
  }

  close(): void {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.timer !== undefined || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const batch = [...this.pending];
      this.pending.clear();
      for (const d of batch) this.read(d);
    }, CATCH_UP_MS);
    this.timer.unref();
  }

  /** Reads one directory; returns how many entries it holds. */
  private read(dir: string): number {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return 0; // gone again
    }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (this.ignored(p)) continue;
      const kind = e.isDirectory() ? 'dir' : 'file';
      if (this.created(p, kind)) this.report(p, kind);
    }
    return entries.length;
  }
}
