// Denied-read tripwires, as data: which hidden paths get one, and the
// skeleton each must keep (the directories leading to what the sandbox binds
// beneath a hidden path, such as a workspace inside a hidden home). The exec
// logger serves each tripwire as a read-only FUSE file system standing in for
// the hidden path (native/execlog-tripwire.c): the same empty directory or
// unreadable file as before, but a lookup of any other name in it that exists
// on the host, a listing of it or an open of it is recorded as a denied read.
import path from 'node:path';

export interface TripRoot {
  /** The hidden path (the same on the host and in the sandbox). */
  readonly path: string;
  readonly kind: 'dir' | 'file';
  /** Why it is hidden, as the events' reason. */
  readonly reason: string;
}

export interface MountTarget {
  readonly path: string;
  readonly kind: 'dir' | 'file';
}

export interface Tripwire extends TripRoot {
  /** Paths inside it that must exist (relative), each a mount point or a directory on the way to one. */
  readonly skeleton: readonly MountTarget[];
}

/** The exec logger serves at most this many. */
export const MAX_TRIPWIRES = 64;
const MAX_SKELETON = 200;

function inside(child: string, parent: string): boolean {
  return child !== parent && child.startsWith(parent === '/' ? '/' : `${parent}/`);
}

/**
 * One tripwire per hidden root (roots that are not absolute, repeat another,
 * or do not fit, are left as plain hiding). Each mount target strictly inside
 * a root belongs to the skeleton of the innermost root holding it; a root
 * inside another is itself a target of the outer one.
 */
export function planTripwires(roots: readonly TripRoot[], targets: readonly MountTarget[]): Tripwire[] {
  const seen = new Set<string>();
  const kept: TripRoot[] = [];
  for (const r of roots) {
    const p = path.resolve(r.path);
    if (!path.isAbsolute(r.path) || p === '/' || seen.has(p) || kept.length >= MAX_TRIPWIRES) continue;
    seen.add(p);
    kept.push({ ...r, path: p });
  }
  const all: MountTarget[] = [...targets.map((t) => ({ ...t, path: path.resolve(t.path) })), ...kept.map((r) => ({ path: r.path, kind: r.kind }))];
  return kept.map((root) => {
    const skeleton: MountTarget[] = [];
    if (root.kind === 'dir') {
      for (const t of all) {
        if (!inside(t.path, root.path)) continue;
        const innermost = kept.filter((r) => r.kind === 'dir' && inside(t.path, r.path)).sort((a, b) => b.path.length - a.path.length)[0];
        if (innermost?.path !== root.path) continue;
        const rel = path.relative(root.path, t.path);
        if (skeleton.length < MAX_SKELETON && !skeleton.some((s) => s.path === rel)) skeleton.push({ path: rel, kind: t.kind });
      }
    }
    return { ...root, skeleton };
  });
}

const hex = (s: string): string => Buffer.from(s, 'utf8').toString('hex');

/**
 * The file personae-execlog reads with --tripwires (strings in lowercase hex):
 *   trip INDEX d|f MOUNTPOINT HOSTPATH
 *   skel INDEX d|f RELPATH
 */
export function tripwiresFile(trips: readonly Tripwire[], mountPoint: (index: number) => string): string {
  const lines: string[] = [];
  trips.forEach((t, i) => {
    lines.push(`trip ${i} ${t.kind[0]} ${hex(mountPoint(i))} ${hex(t.path)}`);
    for (const s of t.skeleton) lines.push(`skel ${i} ${s.kind[0]} ${hex(s.path)}`);
  });
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}
