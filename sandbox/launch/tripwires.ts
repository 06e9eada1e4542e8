// The host side of the denied-read tripwires (policy/tripwires.ts): one mount
// point per tripwire in the session's run directory, with its skeleton, and
// the file the exec logger reads. The exec logger mounts its FUSE file
// systems on these mount points in a namespace of its own; bwrap binds them
// over the hidden paths. Where FUSE is not available, the exec logger makes
// the skeleton in the mount points instead and bwrap binds them as they are:
// an empty read-only directory (with what it must hold beneath), or an empty
// unreadable file, so the paths stay hidden either way.
import { closeSync, lstatSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { alwaysHidden, type FilesystemPlan, type PathContext } from '../policy/filesystem.js';
import { planTripwires, tripwiresFile, type MountTarget, type TripRoot, type Tripwire } from '../policy/tripwires.js';

export interface PreparedTripwires {
  readonly trips: readonly Tripwire[];
  /** The mount point standing in for each hidden path (by the hidden path). */
  readonly mountPoints: ReadonlyMap<string, string>;
  /** The file for personae-execlog --tripwires. */
  readonly file: string;
}

function kindOf(p: string): 'dir' | 'file' {
  try {
    return lstatSync(p).isDirectory() ? 'dir' : 'file';
  } catch {
    return 'dir';
  }
}

/** Why each always-hidden directory is hidden. */
function homeReason(dir: string, personaeHome: string): string {
  return dir === personaeHome ? "personae's own data (its secrets, other personas' homes) is hidden from every persona" : 'home directories are hidden from every persona';
}

export interface TripwireInput {
  readonly ctx: PathContext;
  readonly personaeHome: string;
  /** Directories hidden wholesale (homes, personae's data) that exist. */
  readonly hiddenDirs: readonly string[];
  readonly plan: FilesystemPlan;
  readonly personaHome: string;
  /** Everything else the sandbox binds (destination paths). */
  readonly binds: readonly string[];
}

export function prepareTripwires(runDir: string, input: TripwireInput): PreparedTripwires {
  const personaeHome = path.resolve(input.personaeHome);
  const always = new Set(alwaysHidden(input.ctx, personaeHome).map((p) => path.resolve(p)));
  const roots: TripRoot[] = [
    ...[...input.hiddenDirs].sort((a, b) => a.split('/').length - b.split('/').length).map((d) => ({ path: d, kind: 'dir' as const, reason: always.has(d) ? homeReason(d, personaeHome) : 'hidden' })),
    ...input.plan.hidden.map((h) => ({ path: h.path, kind: h.kind, reason: `filesystem.read_deny: ${h.path}` })),
  ];
  const targets: MountTarget[] = [
    { path: input.ctx.workspace, kind: 'dir' },
    { path: input.personaHome, kind: 'dir' },
    ...[...input.plan.writable, ...(input.plan.anchors ?? []), ...input.plan.pinned, ...input.binds].map((p) => ({ path: p, kind: kindOf(p) })),
    ...input.plan.placeholders.map((p) => ({ path: p.path, kind: p.kind })),
  ];
  const trips = planTripwires(roots, targets);
  const dir = path.join(runDir, 'trip');
  mkdirSync(dir, { mode: 0o700 });
  const mountPoints = new Map<string, string>();
  // Only the mount points: the exec logger makes the skeleton in them itself where it cannot mount.
  trips.forEach((t, i) => {
    const mp = path.join(dir, String(i));
    if (t.kind === 'file') closeSync(openSync(mp, 'wx', 0o000));
    else mkdirSync(mp, { mode: 0o755 });
    mountPoints.set(t.path, mp);
  });
  const file = path.join(runDir, 'tripwires');
  writeFileSync(file, tripwiresFile(trips, (i) => path.join(dir, String(i))), { mode: 0o600 });
  return { trips, mountPoints, file };
}
