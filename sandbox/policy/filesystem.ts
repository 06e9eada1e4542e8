// Compiles a persona's filesystem grants into concrete paths for one launch:
// which host paths become writable, which are hidden, which persistence traps
// are pinned read-only. Path facts come from a probe so the logic stays pure.
import path from 'node:path';
import { HOME_TRAPS, WORKSPACE_TRAPS, type Persona } from '../../personas/schema.js';

export interface PathProbe {
  /** 'file' | 'dir' | 'other' when the path exists (without following a final symlink: 'link'), else undefined. */
  kind(p: string): 'file' | 'dir' | 'link' | 'other' | undefined;
  /** Canonical path with every symlink resolved, or undefined when it does not exist. */
  realpath(p: string): string | undefined;
}

export interface PathContext {
  readonly workspace: string;
  readonly userHome: string;
  /** The persona's own persistent HOME: its persistence traps (HOME_TRAPS) are held like the workspace's. */
  readonly personaHome?: string;
  /** The session's own git worktree, which lives in personae's data: writable grants may name it (and only it there). */
  readonly worktree?: string;
}

export interface FilesystemPlan {
  /** Writable host paths (each a real, symlink-free directory or file). */
  readonly writable: readonly string[];
  /** Paths to hide: directories get an empty read-only tmpfs, files an unreadable empty file. */
  readonly hidden: ReadonlyArray<{ readonly path: string; readonly kind: 'dir' | 'file' }>;
  /** Existing persistence traps inside writable paths, re-mounted read-only. */
  readonly pinned: readonly string[];
  /** Directory traps and hidden paths inside writable roots that do not exist yet: an empty read-only placeholder holds their place for the session and is removed after. */
  readonly placeholders: ReadonlyArray<{ readonly path: string; readonly kind: 'dir' | 'file'; readonly mode: 'pin' | 'hide' }>;
  /**
   * File traps that do not exist yet (an empty placeholder file would be read as
   * a broken config): watched instead; one created during the session is
   * reported as denied and moved to quarantine at once.
   */
  readonly guarded: readonly string[];
  /**
   * Existing directories between a writable root and a hidden path or trap
   * inside it (`{workspace}/a` for `{workspace}/a/private`, `.git` for
   * `.git/hooks`). Each is bound onto itself, writable, before the hiding and
   * pinning mounts: a mount point cannot be renamed or removed, so the agent
   * cannot move a hidden directory's parent aside (exposing it to the next
   * session) or rename `.git` and build a new one around the pinned hooks.
   */
  readonly anchors?: readonly string[];
  /**
   * Traps that can be neither held in place nor watched without breaking the
   * tool that makes them: `.git/hooks` when there is no `.git` yet (`git init`
   * fills it, and moving it away mid-way makes `git init` fail). Whatever is
   * there when the session is over is moved to quarantine.
   */
  readonly sweepAtEnd?: readonly string[];
  /**
   * Denied paths outside the writable roots that do not exist yet: nothing can
   * be mounted over them at the start. Watched instead; one that appears on the
   * host during the session is hidden inside the running sandbox at once.
   */
  readonly absent?: readonly string[];
}

export class FilesystemPlanError extends Error {}

/** Home directories and secret stores hidden from every persona, whatever its grants say. */
export function alwaysHidden(ctx: PathContext, personaeHome: string): string[] {
  return ['/home', '/root', ctx.userHome, personaeHome];
}

/** Expands `{workspace}` and `~` and normalizes; throws on anything that is not absolute afterwards. */
export function expandPath(raw: string, ctx: PathContext): string {
  let p = raw;
  if (p.startsWith('{workspace}')) p = ctx.workspace + p.slice('{workspace}'.length);
  else if (p === '~' || p.startsWith('~/')) p = ctx.userHome + p.slice(1);
  if (!path.isAbsolute(p)) throw new FilesystemPlanError(`path ${JSON.stringify(raw)} is not absolute after expansion`);
  return path.resolve(p);
}

function isInside(child: string, parent: string): boolean {
  return child === parent || child.startsWith(parent.endsWith('/') ? parent : `${parent}/`);
}

/** Is `p` itself symlink-free all the way down? (A grant must never follow a link.) */
function assertNoSymlink(p: string, probe: PathProbe, field: string): void {
  const real = probe.realpath(p);
  if (real === undefined) throw new FilesystemPlanError(`${field}: ${p} does not exist`);
  if (real !== p) {
    throw new FilesystemPlanError(`${field}: ${p} resolves through a symlink to ${real}; refusing to grant it (name the real path)`);
  }
}

const FILE_TRAPS = new Set<string>([
  '.git/config', '.gitmodules', '.bashrc', '.bash_profile', '.bash_login', '.bash_logout', '.profile', '.zshrc', '.zshenv', '.zprofile',
  '.zlogin', '.mcp.json', '.envrc', '.gitconfig', '.npmrc', '.yarnrc', '.pythonrc', '.claude/settings.json', '.claude/settings.local.json',
  '.claude/CLAUDE.md',
]);

/** The HOME traps that are directories (the rest are files). */
export const HOME_TRAP_DIRS: readonly string[] = HOME_TRAPS.filter((t) => !FILE_TRAPS.has(t));

/**
 * Git internals that act as a trap's twin: `.git/commondir` makes git read its
 * config and hooks from another directory (one the agent can write), so it is
 * guarded with `.git/config` and granted only with it.
 */
const TRAP_TWINS: Readonly<Record<string, readonly string[]>> = { '.git/config': ['.git/commondir'] };

export function planFilesystem(persona: Persona, ctx: PathContext, personaeHome: string, probe: PathProbe): FilesystemPlan {
  const writable: string[] = [];
  persona.filesystem.write.forEach((raw, i) => {
    const p = expandPath(raw, ctx);
    assertNoSymlink(p, probe, `filesystem.write[${i}]`);
    const ownWorktree = ctx.worktree !== undefined && isInside(p, ctx.worktree);
    if ((isInside(p, personaeHome) && !ownWorktree) || isInside(personaeHome, p)) {
      throw new FilesystemPlanError(`filesystem.write[${i}]: ${p} overlaps personae's own data (${personaeHome})`);
    }
    if (p === '/' || ['/usr', '/etc', '/bin', '/lib', '/sbin', '/proc', '/dev', '/sys', '/boot'].some((s) => isInside(p, s))) {
      throw new FilesystemPlanError(`filesystem.write[${i}]: ${p} is a system path; refusing to make it writable`);
    }
    if (!writable.includes(p)) writable.push(p);
  });

  const hidden: Array<{ path: string; kind: 'dir' | 'file' }> = [];
  const placeholders: Array<{ path: string; kind: 'dir' | 'file'; mode: 'pin' | 'hide' }> = [];
  const absent: string[] = [];
  const insideWritable = (p: string): boolean => writable.some((w) => isInside(p, w));

  const hide = (p: string): void => {
    const kind = probe.kind(p);
    if (kind === 'dir' || kind === 'file') {
      hidden.push({ path: p, kind });
    } else if (kind === 'link' || kind === 'other') {
      const real = probe.realpath(p);
      hidden.push({ path: p, kind: 'file' });
      if (real !== undefined && real !== p) hide(real);
    } else if (insideWritable(p)) {
      // Does not exist yet but could be created: hold its place for the session.
      placeholders.push({ path: p, kind: 'dir', mode: 'hide' });
    } else {
      absent.push(p);
    }
  };
  persona.filesystem.read_deny.forEach((raw) => hide(expandPath(raw, ctx)));

  const pinned: string[] = [];
  const guarded: string[] = [];
  const sweepAtEnd: string[] = [];
  const allowed = new Set<string>(persona.filesystem.allow_sensitive);
  const trapRoots: Array<[string, readonly string[]]> = writable.map((w) => [w, WORKSPACE_TRAPS]);
  if (ctx.personaHome !== undefined && !writable.includes(ctx.personaHome)) trapRoots.push([ctx.personaHome, HOME_TRAPS]);
  for (const [root, traps] of trapRoots) {
    const kind = probe.kind(root);
    if (kind !== 'dir') continue;
    for (const trap of traps) {
      if (allowed.has(trap)) continue;
      for (const name of [trap, ...(TRAP_TWINS[trap] ?? [])]) {
        const p = path.join(root, name);
        const exists = probe.kind(p);
        if (exists !== undefined) {
          pinned.push(p);
        } else if (FILE_TRAPS.has(name) || name !== trap) {
          guarded.push(p);
        } else if (!name.startsWith('.git/') || probe.kind(path.join(root, '.git')) === 'dir') {
          placeholders.push({ path: p, kind: 'dir', mode: 'pin' });
        } else {
          // No .git yet (`git init` may make one): its hooks are swept into quarantine when the session ends.
          sweepAtEnd.push(p);
        }
      }
    }
  }

  // Bind each existing directory between a writable root and a protected path onto itself.
  const anchors: string[] = [];
  const protectedPaths = [...hidden.map((x) => x.path), ...placeholders.map((x) => x.path), ...pinned, ...guarded, ...sweepAtEnd];
  const anchorRoots = ctx.personaHome !== undefined ? [...writable, ctx.personaHome] : writable;
  for (const p of protectedPaths) {
    const root = anchorRoots.filter((w) => p !== w && isInside(p, w)).sort((a, b) => b.length - a.length)[0];
    if (root === undefined) continue;
    const rel = path.relative(root, path.dirname(p));
    if (rel === '' || rel.startsWith('..')) continue;
    let dir = root;
    for (const part of rel.split(path.sep)) {
      dir = path.join(dir, part);
      if (anchorRoots.includes(dir) || anchors.includes(dir)) continue;
      if (probe.kind(dir) !== 'dir' || probe.realpath(dir) !== dir) break;
      anchors.push(dir);
    }
  }
  anchors.sort((a, b) => a.split('/').length - b.split('/').length);
  return { writable, hidden, pinned, placeholders, guarded, anchors, sweepAtEnd, absent };
}
