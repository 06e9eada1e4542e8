// Keeps the sandbox's hiding and pinning mounts in place while it runs.
// A mount sits on one directory entry: when something on the host replaces
// a hidden file (a rename over it, as log rotation or `git config` do), or
// creates a denied path that did not exist when the sandbox started, the
// sandbox would see the new one. Each protected path's parent directory is
// watched on the host (inotify); when the path appears or its identity
// (device and inode) changes, personae-remount mounts over it again inside
// the running sandbox. A failure to do so is reported (the session then
// fails closed). This narrows the window to the few milliseconds between
// the host's change and the new mount; it does not make it zero.
import { spawn } from 'node:child_process';
import { lstatSync, watch, type FSWatcher } from 'node:fs';
import path from 'node:path';

export type GuardAction = 'file' | 'dir' | 'pin';

export interface Guard {
  readonly path: string;
  /** `hide`: a denied path absent at the start, hidden as a file or a directory once it appears. */
  readonly action: GuardAction | 'hide';
}

export interface GuardReport {
  readonly path: string;
  readonly action: GuardAction;
  readonly ok: boolean;
  readonly error?: string;
}

export interface MountGuardOptions {
  /** The personae-remount binary. */
  readonly remount: string;
  /** An empty unreadable file inside the sandbox, bound over hidden files. */
  readonly emptyInside: string;
  /** A process in the sandbox (its mount namespace), once known. */
  readonly pid: () => number | undefined;
  readonly onReport: (r: GuardReport) => void;
}

interface Watched {
  readonly guard: Guard;
  identity: string | undefined;
  dir: string | undefined;
  dirIdentity: string | undefined;
  watcher: FSWatcher | undefined;
  busy: boolean;
  again: boolean;
}

function identity(p: string): string | undefined {
  try {
    const st = lstatSync(p, { bigint: true });
    return `${st.dev}:${st.ino}`;
  } catch {
    return undefined;
  }
}

/** The nearest existing directory above `p` (its parent when that exists). */
function nearestDir(p: string): string {
  let dir = path.dirname(p);
  while (identity(dir) === undefined && dir !== path.dirname(dir)) dir = path.dirname(dir);
  return dir;
}

export class MountGuard {
  private readonly watched: Watched[] = [];
  private closed = false;

  constructor(private readonly o: MountGuardOptions) {}

  /** Records each path's identity now (what the sandbox's mounts cover) and starts watching. */
  add(guards: readonly Guard[]): void {
    for (const guard of guards) {
      const w: Watched = { guard, identity: identity(guard.path), dir: undefined, dirIdentity: undefined, watcher: undefined, busy: false, again: false };
      this.watched.push(w);
      this.arm(w);
    }
  }

  /** Checks every path now (once the sandbox runs: anything changed before its pid was known). */
  checkAll(): void {
    for (const w of this.watched) void this.check(w);
  }

  close(): void {
    this.closed = true;
    for (const w of this.watched) w.watcher?.close();
  }

  private arm(w: Watched): void {
    const dir = nearestDir(w.guard.path);
    const dirIdentity = identity(dir);
    if (w.watcher !== undefined && w.dir === dir && w.dirIdentity === dirIdentity) return;
    w.watcher?.close();
    w.dir = dir;
    w.dirIdentity = dirIdentity;
    const next = path.relative(dir, w.guard.path).split(path.sep)[0];
    try {
      w.watcher = watch(dir, { persistent: false }, (_event, name) => {
        if (name === null || name === next || name === path.basename(dir)) void this.check(w);
      });
      w.watcher.on('error', () => void this.check(w));
    } catch {
      w.watcher = undefined; // unreadable directory: nothing the host does there can be seen, nor hidden again
    }
  }

  private async check(w: Watched): Promise<void> {
    if (this.closed) return;
    if (w.busy) {
      w.again = true;
      return;
    }
    this.arm(w);
    const now = identity(w.guard.path);
    if (now === undefined || now === w.identity) {
      if (now === undefined) w.identity = undefined;
      return;
    }
    const pid = this.o.pid();
    if (pid === undefined) return; // checkAll() runs once the sandbox's pid is known
    let action: GuardAction;
    if (w.guard.action === 'hide') {
      try {
        action = lstatSync(w.guard.path).isDirectory() ? 'dir' : 'file';
      } catch {
        return;
      }
    } else {
      action = w.guard.action;
    }
    w.busy = true;
    const args = [String(pid), action, w.guard.path, ...(action === 'file' ? [this.o.emptyInside] : [])];
    const r = await run(this.o.remount, args);
    w.busy = false;
    if (this.closed) return;
    // 3: not there (or not that type) inside the sandbox: nothing to hide.
    if (r.code === 0 || r.code === 3) w.identity = now;
    if (r.code === 0) this.o.onReport({ path: w.guard.path, action, ok: true });
    else if (r.code !== 3) this.o.onReport({ path: w.guard.path, action, ok: false, error: r.stderr.trim() || `exit ${String(r.code)}` });
    if (w.again) {
      w.again = false;
      void this.check(w);
    }
  }
}

function run(program: string, args: readonly string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(program, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < 4096) stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: null, stderr: e.message });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}
