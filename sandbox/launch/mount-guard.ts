// Keeps the sandbox's hiding and pinning mounts in place while it runs.
// A mount sits on one directory entry: when something on the host replaces
// a hidden file (a rename over it, as log rotation or `git config` do), or
// creates a denied path that did not exist when the sandbox started, the
// sandbox would see the new one. Each protected path's parent directory is
// watched on the host (inotify); when the path appears or its identity
// (device and inode) changes, personae-remount, which has joined the
// sandbox's mount namespace once and waits for requests, mounts over it
// again inside the running sandbox. A failure to do so is reported (the
// session then fails closed). This narrows the window between the host's
// change and the new mount to about a millisecond; it does not make it zero.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
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
  /** A directory could not be watched for another reason than being unreadable (inotify's limits, say): the host's changes there would go unseen. */
  readonly onWatchError: (dir: string, message: string) => void;
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
  private remounter: Remounter | undefined;
  private running = false;
  private readonly unwatched: Array<[string, string]> = [];

  constructor(private readonly o: MountGuardOptions) {}

  /** Records each path's identity now (what the sandbox's mounts cover) and starts watching. */
  add(guards: readonly Guard[]): void {
    for (const guard of guards) {
      const w: Watched = { guard, identity: identity(guard.path), dir: undefined, dirIdentity: undefined, watcher: undefined, busy: false, again: false };
      this.watched.push(w);
      this.arm(w);
    }
  }

  /** Starts the helper and checks every path now (once the sandbox runs: anything changed before its pid was known). */
  checkAll(): void {
    this.running = true;
    for (const [dir, message] of this.unwatched.splice(0)) this.o.onWatchError(dir, message);
    const pid = this.o.pid();
    if (pid !== undefined && this.watched.length > 0) this.helper(pid);
    for (const w of this.watched) void this.check(w);
  }

  close(): void {
    this.closed = true;
    for (const w of this.watched) w.watcher?.close();
    this.remounter?.close();
  }

  /** Reported once the sandbox runs (a failure before it is spawned could not stop it). */
  private watchError(dir: string, message: string): void {
    if (this.running) this.o.onWatchError(dir, message);
    else this.unwatched.push([dir, message]);
  }

  private helper(pid: number): Remounter {
    this.remounter ??= new Remounter(this.o.remount, pid, this.o.emptyInside);
    return this.remounter;
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
    } catch (e) {
      w.watcher = undefined;
      const code = (e as NodeJS.ErrnoException).code;
      // An unreadable directory (or one gone meanwhile): personae, the sandbox's own user, cannot list it either.
      if (code !== 'EACCES' && code !== 'ENOENT') this.watchError(dir, (e as Error).message);
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
    const r = await this.helper(pid).request(action, w.guard.path);
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

/** personae-remount, joined to the sandbox's mount namespace: one request at a time, answered in order. */
class Remounter {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly waiting: Array<(r: { code: number | null; stderr: string }) => void> = [];
  private buffered = '';
  private gone: string | undefined;

  constructor(program: string, pid: number, emptyInside: string) {
    this.child = spawn(program, [String(pid), emptyInside], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    this.child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < 4096) stderr += d;
    });
    this.child.stdout.setEncoding('utf8').on('data', (d: string) => {
      this.buffered += d;
      let nl: number;
      while ((nl = this.buffered.indexOf('\n')) >= 0) {
        const line = this.buffered.slice(0, nl);
        this.buffered = this.buffered.slice(nl + 1);
        const [code, ...message] = line.split(' ');
        this.waiting.shift()?.({ code: Number(code), stderr: message.join(' ') });
      }
    });
    const end = (why: string): void => {
      this.gone ??= stderr.trim() || why;
      for (const w of this.waiting.splice(0)) w({ code: null, stderr: this.gone });
    };
    this.child.on('error', (e) => end(e.message));
    this.child.on('close', (code) => end(`the remount helper exited (${String(code)})`));
    this.child.stdin.on('error', () => undefined); // reported through 'close'
  }

  request(action: GuardAction, target: string): Promise<{ code: number | null; stderr: string }> {
    if (this.gone !== undefined) return Promise.resolve({ code: null, stderr: this.gone });
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.child.stdin.write(`${action}\0${target}\0`);
    });
  }

  close(): void {
    this.gone ??= 'closed';
    this.child.stdin.end();
  }
}
