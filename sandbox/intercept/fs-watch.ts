// File writes and deletes in a session's writable paths, from outside the
// sandbox (chokidar on the host paths the sandbox binds in).
import type { EmitEvent } from '../audit/event.js';

export interface FsWatcher {
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

/** Directories skipped by default: dependency and object stores would flood the log. */
export const WATCH_IGNORED = ['/node_modules/', '/.git/objects/'];

export async function watchWritable(paths: readonly string[], emit: EmitEvent, onError: (err: Error) => void): Promise<FsWatcher> {
  if (paths.length === 0) return { ready: Promise.resolve(), close: async () => undefined };
  const { watch } = await import('chokidar');
  const watcher = watch([...paths], {
    ignoreInitial: true,
    followSymlinks: false,
    persistent: true,
    ignored: (p: string) => WATCH_IGNORED.some((frag) => `${p}/`.includes(frag)),
  });
  const write = (kind: 'fs.write' | 'fs.delete', op: string) => (p: string): void => {
    emit({ kind, target: p, detail: { op } });
  };
  watcher.on('add', write('fs.write', 'create'));
  watcher.on('change', write('fs.write', 'modify'));
  watcher.on('addDir', write('fs.write', 'mkdir'));
  watcher.on('unlink', write('fs.delete', 'unlink'));
  watcher.on('unlinkDir', write('fs.delete', 'rmdir'));
  watcher.on('error', (e) => onError(e instanceof Error ? e : new Error(String(e))));
  const ready = new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  return { ready, close: () => watcher.close() };
}
