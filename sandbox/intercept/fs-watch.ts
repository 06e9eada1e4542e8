// File writes and deletes in a session's writable paths, from outside the
// sandbox (chokidar on the host paths the sandbox binds in).
import { rmSync, writeFileSync } from 'node:fs';
import { watch } from 'chokidar';
import path from 'node:path';
import type { EmitEvent } from '../audit/event.js';
import { NewDirCatchUp } from './new-dirs.js';
import { randomHex } from '../../personas/random.js';

export interface FsWatcher {
  readonly ready: Promise<void>;
  /**
   * Lets the last writes land (bounded by `maxMs`). With a marker directory it
   * writes a marker there and waits until the watcher reports it: every
   * change the kernel queued before it has been read by then. Without one it
   * waits until no event arrived for a short quiet time.
   */
  settle(maxMs?: number): Promise<void>;
  close(): Promise<void>;
}

const MARKER = '.settle-';

/**
 * A change reported within this long of the last event recorded for the same
 * file is the same write going on (chokidar reports a new file's creation,
 * then the writes that fill it, as `add` then `change`): it is folded into
 * that event, not recorded again.
 */
export const FOLD_MS = 150;

/**
 * Directories skipped: dependency and object stores, and the package
 * managers' caches in a persona's HOME, would flood the log (what they hold
 * runs only when a package is installed, which is itself recorded).
 */
export const WATCH_IGNORED = ['/node_modules/', '/.git/objects/', '/.cache/', '/.npm/_cacache/', '/.npm/_logs/', '/.npm/_npx/'];

export interface WatchOptions {
  /** Paths no write may create (persistence traps): such a write is reported denied and handed to `onTrap`. */
  readonly guarded?: readonly string[];
  readonly onTrap?: (path: string) => string | undefined;
  /** A directory of personae's own (the session's run directory), watched for settle's markers only. */
  readonly markerDir?: string;
  /** The grant that let a write happen (the allowed events' reason), and the area it is in. */
  readonly grantOf?: (path: string) => { readonly reason: string; readonly area: string };
}

export async function watchWritable(paths: readonly string[], emit: EmitEvent, onError: (err: Error) => void, opts: WatchOptions = {}): Promise<FsWatcher> {
  if (paths.length === 0) return { ready: Promise.resolve(), settle: async () => undefined, close: async () => undefined };
  const markerDir = opts.markerDir;
  const isIgnored = (p: string): boolean =>
    WATCH_IGNORED.some((frag) => `${p}/`.includes(frag)) || (markerDir !== undefined && path.dirname(p) === markerDir && !path.basename(p).startsWith(MARKER));
  const watcher = watch(markerDir === undefined ? [...paths] : [...paths, markerDir], {
    ignoreInitial: true,
    followSymlinks: false,
    persistent: true,
    // No "atomic write" smoothing: it delays deletes by 100 ms and silently drops
    // paths that look like editor swap files (`*~`, `*.swp`), which an agent could use to hide writes.
    atomic: false,
    ignored: isIgnored,
  });
  const guarded = opts.guarded ?? [];
  const trapOf = (p: string): string | undefined => guarded.find((g) => p === g || p.startsWith(`${g}/`));
  let last = Date.now();
  /** Settle markers waiting: read (the raw event), and checked by chokidar (its event). */
  const markers = new Map<string, { read: () => void; checked: () => void }>();
  /** When each file's last write was recorded (for folding, see FOLD_MS). */
  const recorded = new Map<string, number>();
  const write = (kind: 'fs.write' | 'fs.delete', op: string, extra: Record<string, unknown> = {}) => (p: string): void => {
    if (markerDir !== undefined && path.dirname(p) === markerDir) {
      markers.get(p)?.checked();
      return;
    }
    last = Date.now();
    const trap = kind === 'fs.write' ? trapOf(p) : undefined;
    if (trap === undefined) {
      if (kind === 'fs.delete') recorded.delete(p);
      else {
        const at = recorded.get(p);
        if (op === 'modify' && at !== undefined && last - at < FOLD_MS) return;
        if (recorded.size >= 10_000) recorded.clear();
        recorded.set(p, last);
      }
      const grant = opts.grantOf?.(p);
      emit({ kind, target: p, decision: 'allow', reason: grant?.reason ?? 'filesystem.write', detail: { op, ...extra, ...(grant ? { area: grant.area } : {}) } });
      return;
    }
    const quarantined = opts.onTrap?.(trap);
    emit({
      kind,
      target: p,
      decision: 'deny',
      reason: `persistence trap ${trap.split('/').pop() ?? trap}: not granted by filesystem.allow_sensitive`,
      detail: { op, ...extra, quarantined: quarantined ?? null },
    });
  };
  // Entries chokidar missed in directories made during the session, reported late (caught_up).
  const catchUp = new NewDirCatchUp(isIgnored, (p, k) => write('fs.write', k === 'dir' ? 'mkdir' : 'create', { caught_up: true })(p));
  const created = (k: 'file' | 'dir', report: (p: string) => void) => (p: string): void => {
    if (catchUp.created(p, k)) report(p);
  };
  const removed = (report: (p: string) => void) => (p: string): void => {
    catchUp.removed(p);
    report(p);
  };
  watcher.on('add', created('file', write('fs.write', 'create')));
  watcher.on('change', write('fs.write', 'modify'));
  watcher.on('addDir', created('dir', write('fs.write', 'mkdir')));
  watcher.on('unlink', removed(write('fs.delete', 'unlink')));
  watcher.on('unlinkDir', removed(write('fs.delete', 'rmdir')));
  let failed = false;
  watcher.on('error', (e) => {
    if (failed) return; // the first error says it; the session is failing closed already
    failed = true;
    const err = e instanceof Error ? e : new Error(String(e));
    const code = (err as NodeJS.ErrnoException).code;
    onError(code === 'ENOSPC' ? new Error('the system limit on inotify watches is reached (fs.inotify.max_user_watches): file writes can no longer be recorded') : err);
  });
  const ready = new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  // When the kernel last reported a change outside the marker directory (the raw
  // event, as it is read, before chokidar's own checks of it).
  let lastRaw = -Infinity;
  watcher.on('raw', (_event, name, details) => {
    const watched = (details as { watchedPath?: string } | undefined)?.watchedPath;
    if (markerDir === undefined || watched !== markerDir) lastRaw = performance.now();
    else if (typeof name === 'string') markers.get(path.join(markerDir, name))?.read();
  });
  const quiet = async (quietMs: number, maxMs: number): Promise<void> => {
    const start = Date.now();
    last = Math.max(last, start);
    while (Date.now() - last < quietMs && Date.now() - start < maxMs) await new Promise((r) => setTimeout(r, 25));
  };
  const settle = async (maxMs = 1000): Promise<void> => {
    catchUp.catchUpAll();
    if (markerDir === undefined) return quiet(40, maxMs);
    const marker = path.join(markerDir, `${MARKER}${randomHex(6)}`);
    let timer: NodeJS.Timeout | undefined;
    const seen = new Promise<boolean>((resolve) => {
      markers.set(marker, {
        // Read: so is everything the kernel queued before it. With no other change in the
        // last 100 ms, none is still being checked either: done.
        read: () => {
          if (performance.now() - lastRaw >= 100) resolve(true);
        },
        // Checked by chokidar: so are the changes read before it (but for a moment, below).
        checked: () => resolve(true),
      });
      timer = setTimeout(() => resolve(false), maxMs);
    });
    try {
      writeFileSync(marker, '', { mode: 0o600 });
      // Events are read in kernel order, so every change before the marker has been
      // reported by now; chokidar's checks of a recent one may finish a moment later.
      if ((await seen) && performance.now() - lastRaw < 100) await new Promise((r) => setTimeout(r, 5));
    } catch {
      await quiet(40, maxMs);
    } finally {
      clearTimeout(timer);
      markers.delete(marker);
      rmSync(marker, { force: true });
    }
  };
  return {
    ready,
    settle,
    close: () => {
      catchUp.close();
      return watcher.close();
    },
  };
}
