// The backend's sessions: the ones it launched (with a terminal), and the
// ones other processes run (`personae run`), read from the audit database.
// A session reads as stopped only once the engine verified that none of its
// processes survive. Closing the backend stops the sessions it launched.
import { homedir } from 'node:os';
import type { AuditEvent } from '../../sandbox/audit/event.js';
import type { AuditStore, SessionRecord } from '../../sandbox/audit/store.js';
import type { Session } from '../../sandbox/session.js';
import type { LaunchRequestSchema, SessionInfo, SessionState, StopOutcome } from '../api/contract.js';
import type * as z from 'zod';
import { defaultAgentCommand, LaunchRefusal, prepareLaunch, sessionOptions, type PreparedLaunch } from '../launch.js';
import { randomUUID } from '../../personas/random.js';
import type { SessionCounts } from '../../sandbox/audit/store.js';
import type { WorktreeLaunch } from '../worktree-launch.js';
import { isAlive, stopForeignSession } from '../session-stop.js';
import { HttpError } from './http.js';
import { TerminalChannel } from './terminal.js';

type Launch = z.infer<typeof LaunchRequestSchema>;

interface Owned {
  readonly session: Session;
  readonly terminal: TerminalChannel;
  state: SessionState;
}

export interface SessionRegistryOptions {
  readonly home: string;
  readonly store: AuditStore;
  readonly defaultOnBehalfOf: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly userHome?: string;
  /** Called once a session of this backend started (to follow its approvals). */
  readonly onStarted?: (session: Session) => void;
  /** Called once a session of this backend ended. */
  readonly onEnded?: (id: string) => void;
}

/** How long a session launched with start_on_attach waits for its terminal view. */
const START_ON_ATTACH_MS = 5000;

const RUNNING_STATES: ReadonlySet<SessionState> = new Set(['running', 'stopping', 'stop-failed']);

export class SessionRegistry {
  private readonly owned = new Map<string, Owned>();
  /** Sessions of other processes this backend stopped (or is stopping). */
  private readonly foreign = new Map<string, SessionState>();
  private readonly listeners = new Set<(info: SessionInfo) => void>();
  private closing = false;

  constructor(private readonly o: SessionRegistryOptions) {}

  onChange(listener: (info: SessionInfo) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Launches a sandboxed session with a PTY; throws LaunchRefusal or HttpError. */
  async launch(req: Launch): Promise<SessionInfo> {
    if (this.closing) throw new HttpError(503, 'the backend is shutting down');
    const probe = prepareLaunch({
      home: this.o.home,
      persona: req.persona,
      workspace: req.workspace,
      command: req.command ?? ['placeholder'],
      onBehalfOf: req.on_behalf_of?.trim() || this.o.defaultOnBehalfOf,
      env: this.o.env,
      checkTools: true,
    });
    const command = req.command ?? defaultAgentCommand(probe.persona.agent, req.prompt);
    let prepared: PreparedLaunch = { ...probe, command };
    const { Session } = await import('../../sandbox/session.js');
    const sessionId = randomUUID();
    let wt: WorktreeLaunch | undefined;
    if (req.worktree) {
      const [{ prepareWorktreeLaunch }, { findHostTools }] = await Promise.all([import('../worktree-launch.js'), import('../../sandbox/launch/host-tools.js')]);
      wt = prepareWorktreeLaunch(prepared, { sessionId, base: req.base, bwrap: findHostTools(this.o.env).bwrap, userHome: this.o.userHome ?? homedir() });
      prepared = wt.prepared;
    } else if (req.base !== undefined) throw new LaunchRefusal('worktree', 'base needs worktree');
    let session: Session;
    try {
      session = await Session.start({
        ...sessionOptions(prepared, {
          store: this.o.store,
          stdio: { kind: 'pty', cols: req.cols, rows: req.rows },
          userHome: this.o.userHome ?? homedir(),
          sessionId,
          worktree: wt?.worktree,
        }),
        deferGo: req.start_on_attach === true,
      });
    } catch (e) {
      if (wt !== undefined) {
        await wt.undo();
        this.o.store.updateWorktree(sessionId, { state: 'discarded' });
      }
      if (e instanceof LaunchRefusal) throw e;
      const msg = (e as Error).message;
      throw new LaunchRefusal(/cannot sandbox: .* not found/.test(msg) ? 'missing-tool' : 'refused', msg);
    }
    const proc = session.process;
    if (proc === undefined) throw new HttpError(500, 'the session started without a process');
    const terminal = new TerminalChannel(proc, () => session.go());
    if (req.start_on_attach === true) {
      // The command starts once the terminal view gave the PTY its size; without a view, soon anyway.
      const fallback = setTimeout(() => terminal.started(), START_ON_ATTACH_MS);
      fallback.unref();
      void session.ended.finally(() => clearTimeout(fallback));
    } else terminal.started();
    const entry: Owned = { session, terminal, state: 'running' };
    this.owned.set(session.id, entry);
    this.o.onStarted?.(session);
    void session.ended.then((end) => {
      if (entry.state === 'running') {
        // Stopped from elsewhere (`personae stop`, a limit, a suspension): stopped only if verified.
        const stopped = (end.reason === 'stopped' || end.reason === 'suspended' || end.reason === 'limit') && end.stop !== undefined;
        entry.state = !stopped ? 'ended' : end.stop?.survivors.length === 0 ? 'stopped' : 'stop-failed';
      }
      this.o.onEnded?.(session.id);
      this.changed(session.id);
    }).catch((e: Error) => {
      // A session ending while the backend shuts down must not become an unhandled rejection.
      if (!this.closing) console.error(`personae: session ${session.id}: ${e.message}`);
    });
    this.o.store.flush();
    const info = this.info(session.id);
    if (info === undefined) throw new HttpError(500, 'the session is not recorded');
    this.changed(session.id);
    return info;
  }

  terminal(id: string): TerminalChannel | undefined {
    return this.owned.get(id)?.terminal;
  }

  info(id: string): SessionInfo | undefined {
    const rec = this.o.store.getSession(id);
    if (rec === null) return undefined;
    return this.toInfo(rec, this.o.store.sessionCounts([id]).get(id));
  }

  list(opts: { running?: boolean; persona?: string; limit: number }): SessionInfo[] {
    const rows = this.o.store.listSessions({ persona: opts.persona, limit: opts.running === undefined ? opts.limit : 10_000 });
    const states = rows.map((r) => ({ r, state: this.stateOf(r) }));
    const chosen = (opts.running === undefined ? states : states.filter((x) => RUNNING_STATES.has(x.state) === opts.running)).slice(0, opts.limit);
    const counts = this.o.store.sessionCounts(chosen.map((x) => x.r.id));
    return chosen.map((x) => this.toInfo(x.r, counts.get(x.r.id)));
  }

  /** Tells the app a session changed (its worktree was kept or discarded). */
  touched(id: string): void {
    this.changed(id);
  }

  /** Stops one session and waits for the verdict. */
  async stop(id: string, reason: 'user' | 'suspend' = 'user'): Promise<StopOutcome> {
    const own = this.owned.get(id);
    if (own !== undefined) {
      if (own.state === 'ended' || own.state === 'stopped') return { session: id, verified: true, survivors: 0 };
      own.state = 'stopping';
      this.changed(id);
      const r = await own.session.stop(reason === 'suspend' ? 'suspended' : 'stopped');
      own.state = r.survivors.length === 0 ? 'stopped' : 'stop-failed';
      this.changed(id);
      return { session: id, verified: r.survivors.length === 0, survivors: r.survivors.length };
    }
    const rec = this.o.store.getSession(id);
    if (rec === null) throw new HttpError(404, `unknown session ${JSON.stringify(id)}`);
    if (rec.ended_at !== null || !isAlive(rec.supervisor_pid)) return { session: id, verified: true, survivors: 0 };
    this.foreign.set(id, 'stopping');
    this.changed(id);
    const out = await stopForeignSession(this.o.home, rec, reason);
    this.foreign.set(id, out.verified ? 'stopped' : 'stop-failed');
    this.changed(id);
    return out;
  }

  /** Stops every running session, this backend's and other processes'. */
  async stopAll(filter: (info: SessionInfo) => boolean = () => true, reason: 'user' | 'suspend' = 'user'): Promise<StopOutcome[]> {
    const targets = this.list({ running: true, limit: 1000 }).filter(filter);
    return Promise.all(targets.map((t) => this.stop(t.id, reason).catch((e: Error) => ({ session: t.id, verified: false, survivors: 0, error: e.message }))));
  }

  /** Events from the feed: sessions of other processes starting and ending show up live. */
  onEvents(events: readonly AuditEvent[]): void {
    const touched = new Set<string>();
    for (const e of events) if (e.kind === 'session.start' || e.kind === 'session.end' || e.kind === 'stop') touched.add(e.session);
    for (const id of touched) if (!this.owned.has(id)) this.changed(id);
  }

  /** Stops this backend's sessions (bounded) and closes their terminals. */
  async close(): Promise<void> {
    this.closing = true;
    const live = [...this.owned.values()].filter((o) => o.state === 'running' || o.state === 'stopping');
    await Promise.all(live.map((o) => o.session.stop('stopped').catch(() => undefined)));
    await Promise.race([Promise.all(live.map((o) => o.session.ended)), new Promise((r) => setTimeout(r, 5000).unref())]);
    for (const o of this.owned.values()) o.terminal.close();
    this.listeners.clear();
  }

  private stateOf(rec: SessionRecord): SessionState {
    const own = this.owned.get(rec.id);
    if (own !== undefined) return own.state;
    const f = this.foreign.get(rec.id);
    if (f !== undefined && f !== 'stopping') return f;
    if (rec.ended_at === null && isAlive(rec.supervisor_pid)) return f ?? 'running';
    return rec.end_reason === 'stopped' || rec.end_reason === 'suspended' ? 'stopped' : 'ended';
  }

  private toInfo(rec: SessionRecord, counts: SessionCounts | undefined): SessionInfo {
    const own = this.owned.get(rec.id);
    const state = this.stateOf(rec);
    const w = rec.worktree;
    const live = RUNNING_STATES.has(state);
    return {
      id: rec.id,
      persona: rec.persona,
      agent: rec.agent,
      on_behalf_of: rec.on_behalf_of,
      workspace: rec.workspace,
      command: [...rec.command],
      started_at: rec.started_at,
      ended_at: rec.ended_at,
      exit_code: rec.exit_code,
      end_reason: rec.end_reason,
      sandbox_pid: rec.sandbox_pid,
      state,
      terminal: own !== undefined,
      worktree: w === null ? null : { branch: w.branch, base: w.base, path: w.path, repo: w.repo, state: rec.worktree_state ?? 'pending' },
      files_changed: w !== null && !live && rec.files_changed !== null ? rec.files_changed : counts?.files ?? null,
      denials: counts?.denials ?? 0,
    };
  }

  private changed(id: string): void {
    // After close() the store may be shut: nobody is listening, so there is nothing to tell.
    if (this.listeners.size === 0) return;
    const info = this.info(id);
    if (info === undefined) return;
    for (const l of this.listeners) l(info);
  }
}
