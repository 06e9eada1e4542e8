// Session run directories ($PERSONAE_HOME/run/<12 hex>): which ones belong to
// a supervisor that is still alive, and what a killed supervisor left behind.
// A supervisor killed outright (SIGKILL, power loss) takes its sandbox with it
// but never cleans up: its placeholders stay in the workspace, its directory
// in run/. While that directory looked like a running session, every later
// session left its own placeholders in place too (see prepare-fs.ts).
import { lstatSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as z from 'zod/mini';

/** Who supervises a session, and the placeholders it created (with their identity), for whoever cleans up after it. */
const MANIFEST = 'placeholders.json';
/** Sockets a supervisor holds for the whole session (paths inside its run directory). */
const SOCKETS = ['control.sock', 'bridge/broker.sock', 'bridge/proxy.sock'];
/** A directory this young without a manifest may still be setting up: it counts as live. */
const SETTING_UP_MS = 10_000;

export interface Placeholder {
  readonly path: string;
  readonly kind: 'dir' | 'file';
  /** Identity: device, inode and change time (ns); a file made later may reuse the inode number. */
  readonly id: string;
}

function identity(p: string): string {
  const st = lstatSync(p, { bigint: true });
  return `${st.dev}:${st.ino}:${st.ctimeNs}`;
}

interface Manifest {
  /** The supervisor's pid and its start time (clock ticks since boot): a reused pid does not match. */
  readonly supervisor: { readonly pid: number; readonly start: string };
  readonly placeholders: readonly Placeholder[];
}

function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function sessionDirs(runRoot: string): string[] {
  try {
    return readdirSync(runRoot, { withFileTypes: true })
      .filter((e) => e.isDirectory() && /^[0-9a-f]{12}$/.test(e.name))
      .map((e) => path.join(runRoot, e.name));
  } catch {
    return [];
  }
}

/** Paths of the unix sockets bound in this network namespace (a socket closes when its last holder dies). */
function boundSockets(): Set<string> {
  const out = new Set<string>();
  try {
    for (const line of readFileSync('/proc/net/unix', 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length >= 8) out.add(cols.slice(7).join(' '));
    }
  } catch {
    // unreadable: nothing is known bound (callers then treat directories by age alone)
  }
  return out;
}

/**
 * Live: one of its sockets is bound (in this network namespace), or its
 * supervisor still runs (seen from this pid namespace). Before its manifest is
 * written, a directory is live while young (its session is setting up).
 */
function isLive(dir: string, bound: ReadonlySet<string>, now: number): boolean {
  const tails = SOCKETS.map((s) => `/${path.basename(dir)}/${s}`);
  for (const p of bound) if (tails.some((t) => p.endsWith(t))) return true;
  const manifest = readManifest(dir);
  if (manifest === undefined) {
    try {
      return now - statSync(dir).mtimeMs < SETTING_UP_MS;
    } catch {
      return false;
    }
  }
  return startTime(manifest.supervisor.pid) === manifest.supervisor.start;
}

/** Run directories other than `own` whose supervisor may still be running. */
export function liveRunDirs(runRoot: string, own: string | undefined): string[] {
  const bound = boundSockets();
  const now = Date.now();
  return sessionDirs(runRoot).filter((d) => d !== own && isLive(d, bound, now));
}

/** The placeholders just created, with their identity (a path replaced since is not ours to remove). */
export function identify(created: ReadonlyArray<{ readonly path: string; readonly kind: 'dir' | 'file' }>): Placeholder[] {
  const out: Placeholder[] = [];
  for (const c of created) {
    try {
      out.push({ path: c.path, kind: c.kind, id: identity(c.path) });
    } catch {
      // gone already
    }
  }
  return out;
}

/** Whether the placeholder is still the one created. */
export function present(p: Placeholder): boolean {
  try {
    return identity(p.path) === p.id;
  } catch {
    return false;
  }
}

/** Records, in the session's run directory, this process as its supervisor and the placeholders it holds. */
export function writeManifest(runDir: string, placeholders: readonly Placeholder[]): void {
  const manifest: Manifest = { supervisor: { pid: process.pid, start: startTime(process.pid) ?? '' }, placeholders };
  writeFileSync(path.join(runDir, MANIFEST), JSON.stringify(manifest), { mode: 0o600 });
}

/** Removes a placeholder if it is still the one created, and still empty. */
export function removePlaceholder(p: Placeholder): void {
  try {
    if (identity(p.path) !== p.id) return;
    const st = lstatSync(p.path);
    if (p.kind === 'dir' && st.isDirectory()) rmdirSync(p.path);
    else if (p.kind === 'file' && st.isFile() && st.size === 0) unlinkSync(p.path);
  } catch {
    // not empty any more, or gone: leave it
  }
}

/**
 * The end of a session's run directory: removed, unless it still lists
 * placeholders left in place (another session was running); then only that
 * list stays, for the session that cleans up after both.
 */
export function releaseRunDir(dir: string): void {
  const left = (readManifest(dir)?.placeholders ?? []).filter(present);
  if (left.length === 0) {
    rmSync(dir, { recursive: true, force: true });
    return;
  }
  for (const e of readdirSync(dir)) if (e !== MANIFEST) rmSync(path.join(dir, e), { recursive: true, force: true });
}

const ManifestSchema = z.object({
  supervisor: z.object({ pid: z.int().check(z.positive()), start: z.string() }),
  placeholders: z.array(z.object({ path: z.string().check(z.refine((p) => path.isAbsolute(p))), kind: z.enum(['dir', 'file']), id: z.string() })),
});

function readManifest(dir: string): Manifest | undefined {
  try {
    const r = ManifestSchema.safeParse(JSON.parse(readFileSync(path.join(dir, MANIFEST), 'utf8')));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Cleans up after supervisors that died without doing so: removes the
 * placeholders their manifests list (still empty, still the same inode) and
 * their run directories. Only when no other session runs: one of them may
 * have mounted over such a placeholder, and removing it on the host would
 * free that trap inside its sandbox. Returns the directories removed.
 */
export function recoverStaleRunDirs(runRoot: string, own: string | undefined): string[] {
  const bound = boundSockets();
  const now = Date.now();
  const others = sessionDirs(runRoot).filter((d) => d !== own);
  const stale = others.filter((d) => !isLive(d, bound, now));
  if (stale.length === 0 || stale.length < others.length) return [];
  for (const d of stale) {
    for (const p of [...(readManifest(d)?.placeholders ?? [])].reverse()) removePlaceholder(p);
    rmSync(d, { recursive: true, force: true });
  }
  return stale;
}
