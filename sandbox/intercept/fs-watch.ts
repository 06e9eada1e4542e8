// File writes and deletes in a session's writable paths, from outside the
// sandbox (chokidar on the host paths the sandbox binds in).
import type { EmitEvent } from '../audit/event.js';

export interface FsWatcher {
  readonly ready: Promise<void>;
  /** Waits until no file event arrived for `quietMs` (bounded by `maxMs`): lets the last writes land. */
  settle(quietMs?: number, maxMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** Directories skipped by default: dependency and object stores would flood the log. */
export const WATCH_IGNORED = ['/node_modules/', '/.git/objects/'];

export interface WatchOptions {
  /** Paths no write may create (persistence traps): such a write is reported denied and handed to `onTrap`. */
  readonly guarded?: readonly string[];
  readonly onTrap?: (path: string) => string | undefined;
}

export async function watchWritable(paths: readonly string[], emit: EmitEvent, onError: (err: Error) => void, opts: WatchOptions = {}): Promise<FsWatcher> {
  if (paths.length === 0) return { ready: Promise.resolve(), settle: async () => undefined, close: async () => undefined };
  const { watch } = await import('chokidar');
  const watcher = watch([...paths], {
    ignoreInitial: true,
    followSymlinks: false,
    persistent: true,
    ignored: (p: string) => WATCH_IGNORED.some((frag) => `${p}/`.includes(frag)),
  });
  const guarded = opts.guarded ?? [];
  const trapOf = (p: string): string | undefined => guarded.find((g) => p === g || p.startsWith(`${g}/`));
  let last = Date.now();
  const write = (kind: 'fs.write' | 'fs.delete', op: string) => (p: string): void => {
    last = Date.now();
    const trap = kind === 'fs.write' ? trapOf(p) : undefined;
    if (trap === undefined) {
      emit({ kind, target: p, detail: { op } });
      return;
    }
    const quarantined = opts.onTrap?.(trap);
    emit({
      kind,
      target: p,
      decision: 'deny',
      reason: `persistence trap ${trap.split('/').pop() ?? trap}: not granted by filesystem.allow_sensitive`,
      detail: { op, quarantined: quarantined ?? null },
    });
  };
  watcher.on('add', write('fs.write', 'create'));
  watcher.on('change', write('fs.write', 'modify'));
  watcher.on('addDir', write('fs.write', 'mkdir'));
  watcher.on('unlink', write('fs.delete', 'unlink'));
  watcher.on('unlinkDir', write('fs.delete', 'rmdir'));
  watcher.on('error', (e) => onError(e instanceof Error ? e : new Error(String(e))));
  const ready = new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  const settle = async (quietMs = 40, maxMs = 1000): Promise<void> => {
    const start = Date.now();
    last = Math.max(last, start);
    while (Date.now() - last < quietMs && Date.now() - start < maxMs) await new Promise((r) => setTimeout(r, 25));
  };
  return { ready, settle, close: () => watcher.close() };
}
