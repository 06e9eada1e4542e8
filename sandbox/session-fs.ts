// A session's filesystem side, from start to end: the grants compiled into
// mounts (placeholders held on the host), the watcher recording writes in
// writable paths (traps created there go to quarantine), the guard hiding
// again what the host replaces mid-session, and at the end the last events
// settled, diffs of what changed, placeholders removed and leftover traps
// swept. The session owns one; it decides nothing about processes.
import { cpSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Persona } from '../personas/schema.js';
import type { EmitEvent, EventInput } from './audit/event.js';
import { watchWritable, type FsWatcher } from './intercept/fs-watch.js';
import { sandboxedGitDiff } from './intercept/git-diff.js';
import { homeCandidates, homeChanges } from './intercept/home-diff.js';
import { codeRunningParts, nestedGitEntries } from './intercept/git-traps.js';
import { MountGuard } from './launch/mount-guard.js';
import { INSIDE, type HostTools } from './launch/plan.js';
import { hostProbe, prepareFilesystem, type PreparedFilesystem } from './launch/prepare-fs.js';
import { mark } from './timing.js';

/** Moves a file out of the workspace into personae's quarantine; returns where it went. */
function quarantinePath(p: string, dir: string): string | undefined {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const dest = path.join(dir, `${Date.now()}-${path.basename(p)}`);
    try {
      renameSync(p, dest);
    } catch {
      cpSync(p, dest, { recursive: true });
      rmSync(p, { recursive: true, force: true });
    }
    return dest;
  } catch {
    return undefined;
  }
}

export interface SessionFilesystemOptions {
  readonly sessionId: string;
  readonly persona: Persona;
  readonly workspace: string;
  readonly userHome: string;
  readonly personaeHome: string;
  /** The persona's own persistent HOME: its traps are held, its writes recorded, its changes diffed. */
  readonly personaHome: string;
  /** The session's run directory (personae's own): the watcher's settle markers go there. */
  readonly runDir: string;
  readonly tools: HostTools;
  readonly emit: EmitEvent;
  /** A part failed (the watcher, or hiding a replaced path again): the session fails closed. */
  readonly fail: (message: string) => void;
  /** A process in the sandbox, once known (its mount namespace is where paths are hidden again). */
  readonly sandboxPid: () => number | undefined;
  /**
   * The workspace is still being written by personae (a worktree's checkout):
   * the watcher starts once it is done, so personae's own writes are never
   * taken for the agent's (chokidar reports a directory's new files up to a
   * second late, so starting earlier and ignoring events until then would
   * not do). The session's command starts only after it (see ready()).
   */
  readonly workspaceReady?: Promise<void>;
  /** The session's git worktree (in personae's data), when it runs in one. */
  readonly worktree?: string;
}

export class SessionFilesystem {
  readonly prepared: PreparedFilesystem;
  private readonly watching: Promise<FsWatcher>;
  private readonly guard: MountGuard;
  private readonly quarantine: string;
  /** Files the session wrote or deleted (for the diffs at its end). */
  private readonly changed = new Set<string>();
  private released = false;
  private readonly startedAt = Date.now();

  constructor(private readonly o: SessionFilesystemOptions) {
    this.quarantine = path.join(o.personaeHome, 'quarantine', o.sessionId);
    const prep = prepareFilesystem(o.persona, { workspace: o.workspace, userHome: o.userHome, personaHome: o.personaHome, worktree: o.worktree }, o.personaeHome, { runDir: o.runDir, quarantine: this.quarantine });
    this.prepared = prep;
    mark('filesystem planned');
    // The watcher loads and scans while the rest of the session starts: the writable grants. (The persona's HOME
    // is looked at when the session is over: home-diff.ts.)
    const watched = prep.plan.writable;
    const watch = (): Promise<FsWatcher> => watchWritable(watched, o.emit, (e) => o.fail(`file watcher failed: ${e.message}`), {
      guarded: prep.plan.guarded,
      onTrap: (p) => quarantinePath(p, this.quarantine),
      markerDir: o.runDir,
      grantOf: (p) => {
        const root = watched.filter((w) => p === w || p.startsWith(`${w}/`)).sort((a, b) => b.length - a.length)[0];
        return { reason: `filesystem.write: ${root ?? p}`, area: root === o.workspace ? 'workspace' : 'granted' };
      },
    });
    this.watching = o.workspaceReady === undefined ? watch() : o.workspaceReady.then(() => {
      mark('worktree checked out');
      return watch();
    });
    this.watching.catch(() => undefined); // awaited by ready(), which reports it
    this.guard = new MountGuard({
      remount: o.tools.remount,
      emptyInside: INSIDE.emptyFile,
      pid: o.sandboxPid,
      onWatchError: (dir, message) => o.fail(`could not watch ${dir} for the host's changes, so a denied path created or replaced there would show inside the sandbox: ${message}`),
      onReport: (r) => {
        if (!r.ok) {
          o.fail(`could not hide ${r.path} again inside the sandbox after it changed on the host: ${r.error ?? 'unknown error'}`);
          return;
        }
        o.emit({
          kind: 'decision',
          tool: 'filesystem',
          target: r.path,
          decision: 'deny',
          reason: r.action === 'pin' ? 'a persistence trap was replaced on the host during the session: pinned read-only again inside the sandbox' : 'a denied path appeared or was replaced on the host during the session: hidden again inside the sandbox',
          detail: { by: 'host', action: r.action },
        });
      },
    });
    // The persona's HOME is personae's own: nothing on the host replaces its traps mid-session, so they need no guard.
    const inHome = (p: string): boolean => p.startsWith(`${o.personaHome}/`);
    this.guard.add([
      ...prep.plan.hidden.map((x) => ({ path: x.path, action: x.kind })),
      ...prep.plan.pinned.filter((p) => !inHome(p)).map((p) => ({ path: p, action: 'pin' as const })),
      ...(prep.plan.absent ?? []).map((p) => ({ path: p, action: 'hide' as const })),
    ]);
  }

  /** How many files the session wrote or deleted (as the watcher saw them). */
  get changedCount(): number {
    return this.changed.size;
  }

  /** Notes a file event (called for every event the session emits). */
  note(input: EventInput): void {
    if ((input.kind === 'fs.write' || input.kind === 'fs.delete') && input.target && this.changed.size < 5000) this.changed.add(input.target);
  }

  /** Waits (bounded) until the watcher sees every write; throws when the workspace could not be made (workspaceReady). */
  async ready(timeoutMs = 2000): Promise<void> {
    const watcher = await this.watching;
    await Promise.race([watcher.ready, new Promise((r) => setTimeout(r, timeoutMs).unref())]);
  }

  /**
   * The sandbox's processes were looked for. Once its command has started (the sandbox is set
   * up), start hiding again what the host changes, and catch up. A sandbox still running whose
   * processes were not found cannot be guarded: fail closed.
   */
  async sandboxFound(init: number | undefined, running: boolean, commandStarted: Promise<void>): Promise<void> {
    if (init === undefined) {
      if (running) this.o.fail("the sandbox's processes could not be found: personae can neither keep its hiding mounts in place nor stop it by its pid namespace");
      return;
    }
    await commandStarted;
    this.guard.checkAll();
  }

  /** The sandbox is ending: its mounts no longer need guarding. */
  stopGuarding(): void {
    this.guard.close();
  }

  /** Lets the last file events land. */
  async settle(): Promise<void> {
    await (await this.watching).settle();
  }

  /**
   * Diffs of the files this session changed: in the workspace against git's
   * HEAD (when it is a repository), in the persona's HOME against what the
   * last session left there (home-diff.ts).
   */
  async recordDiffs(which: { readonly workspace: boolean } = { workspace: true }): Promise<void> {
    const home = this.o.personaHome;
    const shadow = path.join(this.o.personaeHome, 'home-shadows', this.o.persona.name);
    const since = this.startedAt - 1000;
    const reason = "the persona's own HOME (kept between sessions)";
    // Traps created in HOME are not allowed writes: the sweep below takes them to quarantine and records them denied.
    const traps = this.prepared.plan.guarded.filter((g) => g.startsWith(`${home}/`));
    const trapped = (f: string): boolean => traps.some((t) => f === t || f.startsWith(`${t}/`));
    for (const c of homeChanges(home, shadow, homeCandidates(home, shadow, [], since).filter((f) => !trapped(f)), since)) {
      const detail = { op: c.op, area: 'home', seen: 'at session end' };
      this.o.emit({ kind: c.op === 'unlink' ? 'fs.delete' : 'fs.write', target: c.file, decision: 'allow', reason, detail, ts: c.at.toISOString() });
      if (c.diff !== null) this.o.emit({ kind: 'fs.diff', target: c.file, detail: { diff: c.diff, base: c.base, area: 'home' } });
    }
    const ws = this.o.workspace;
    const inWorkspace = [...this.changed].filter((f) => !f.startsWith(`${home}/`));
    if (!which.workspace || inWorkspace.length === 0 || hostProbe.kind(path.join(ws, '.git')) !== 'dir') return;
    const diffs = await sandboxedGitDiff(this.o.tools, ws, inWorkspace, this.prepared.hidden);
    for (const [file, diff] of diffs) this.o.emit({ kind: 'fs.diff', target: file, detail: { diff, base: 'HEAD', area: 'workspace' } });
  }

  /** Removes placeholders and sweeps leftover persistence traps to quarantine (once), recording each one swept. */
  release(): void {
    if (this.released) return;
    this.released = true;
    const prep = this.prepared;
    prep.cleanup();
    const nested = this.o.persona.filesystem.allow_sensitive.includes('.git/config')
      ? []
      : prep.plan.writable.flatMap((root) => nestedGitEntries(root, this.changed)).flatMap(codeRunningParts);
    const swept = [...prep.swept, ...nested.map((p) => ({ path: p, quarantined: quarantinePath(p, this.quarantine) }))];
    for (const s of swept) {
      this.o.emit({
        kind: 'fs.write',
        target: s.path,
        decision: 'deny',
        reason: `persistence trap ${path.basename(s.path)} left at session end: not granted by filesystem.allow_sensitive`,
        detail: { op: 'swept', quarantined: s.quarantined ?? null },
      });
    }
  }

  /** Stops watching and guarding; releases the filesystem if the end did not. */
  async close(): Promise<void> {
    this.guard.close();
    this.release();
    await (await this.watching).close();
  }
}
