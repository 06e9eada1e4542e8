// Session lifecycle: preflight, start (proxy, broker, exec log, sandbox),
// limits, stop (the whole tree, verified), end. Its filesystem side (grants,
// watcher, re-hiding, end-of-session sweep) is session-fs.ts. One object per session;
// everything it owns is closed when it ends.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from '../personas/random.js';
import { parseDuration } from '../personas/schema.js';
import type { AgentInfo, EmitEvent, EventInput, SessionLabels } from './audit/event.js';
import { createRedactor } from './audit/redact.js';
import type { AuditStore } from './audit/store.js';
import type { ExecTracer } from './intercept/exec-tracer.js';
import { prepareExecSide } from './session-exec.js';
import { sandboxPasswd } from './launch/passwd.js';
import { findHostTools } from './launch/host-tools.js';
import { findSandboxInit, isZombie, stopNamespace, type StopResult } from './launch/pidns.js';
import { SANDBOX_BRIDGES, watchBridges } from './launch/bridge-watch.js';
import { inotifyDescriptor } from './launch/exit-handoff.js';
import { releaseRunDir } from './launch/run-dirs.js';
import { bridgeSockets, pickPassEnv, planLaunch, type LaunchRequest } from './launch/plan.js';
import { spawnPlan, type RunningProcess } from './launch/spawn.js';
import { compileNetworkRules } from './net/domain-rules.js';

import { credentialEvent, prepareInterception, requestEvent } from './net/interception.js';
import { startControlServer, type ControlServer } from './session-control.js';
import { SessionFilesystem } from './session-fs.js';
import { Approvals } from './intercept/approvals.js';
import { startPlumbing } from './session-plumbing.js';
import type { HookHandler } from './intercept/hook-handler.js';
import { hookTimeoutSeconds } from './intercept/adapters.js';
import { atDeadline } from './deadline.js';
import { mark } from './timing.js';
import { deferred, type EndReason, type SessionEnd, type SessionOptions } from './session-types.js';

export type { EndReason, SessionEnd, SessionOptions } from './session-types.js';
export { SessionRefused } from './session-types.js';

export class Session {
  readonly id: string;
  readonly labels: SessionLabels;
  readonly emit: EmitEvent;
  readonly ended: Promise<SessionEnd>;
  private proc: RunningProcess | undefined;
  private store: AuditStore | undefined;
  /** Events emitted before the store is open. */
  private readonly early: EventInput[] = [];
  private ns: string | undefined;
  private init: number | undefined;
  /** Bridges die with the sandbox at its end: the watch stops first. */
  private stopBridgeWatch: () => void = () => undefined;
  private files: SessionFilesystem | undefined;
  private failure: string | undefined;
  private stopping: Promise<StopResult> | undefined;
  private endReason: EndReason = 'exit';
  private readonly cleanups: Array<() => Promise<void> | void> = [];
  private resolveEnd!: (end: SessionEnd) => void;
  private stopResult: StopResult | undefined;
  private goNow: (() => void) | undefined;
  approvals!: Approvals;
  hooks: HookHandler | undefined;
  /** Telemetry exports (OTLP/HTTP JSON) from the agent, for adapters that cross-check hooks. */
  onTelemetry: ((path: string, body: string) => void) | undefined;
  readonly hooksLive = deferred();

  decided(toolUseId: string): boolean {
    return this.hooks?.decided(toolUseId) ?? false;
  }

  private constructor(
    readonly options: SessionOptions,
    agent: AgentInfo,
  ) {
    this.id = options.sessionId ?? randomUUID();
    this.labels = { session: this.id, persona: options.persona.name, agent, on_behalf_of: options.onBehalfOf };
    const redact = createRedactor(Object.fromEntries(options.credentials.map((c) => [c.env, c.value])));
    if (typeof options.store !== 'function') this.store = options.store;
    this.emit = (input: EventInput) => {
      this.files?.note(input);
      if (this.store !== undefined) this.store.append(this.labels, redact(input));
      else this.early.push({ ...redact(input), ts: input.ts ?? new Date().toISOString() });
    };
    this.ended = new Promise((resolve) => {
      this.resolveEnd = resolve;
    });
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  get process(): RunningProcess | undefined {
    return this.proc;
  }

  /** Preflights, starts every component, and launches the sandbox. Throws SessionRefused (one line) when it cannot. */
  static async start(options: SessionOptions): Promise<Session> {
    const tools = findHostTools(options.env);
    const agent = await options.adapter.version();
    const session = new Session(options, { kind: options.persona.agent, version: agent });
    try {
      await session.launch(tools);
    } catch (err) {
      await session.abortSandbox();
      await session.cleanup();
      // What happened before the failure is still recorded, when the log can be opened.
      await session.openStore().catch(() => undefined);
      throw err;
    }
    return session;
  }

  /**
   * Kills a sandbox that never got its "go" (the start failed after the spawn).
   * Killing its logger alone is not enough: bwrap caught in its set-up may not
   * have armed its own die-with-parent yet, and its init would then live on,
   * holding the bridges. So the sandbox's pid namespace is found and killed.
   */
  private async abortSandbox(): Promise<void> {
    const proc = this.proc;
    if (proc === undefined) return;
    if (this.ns === undefined) await this.findNamespace();
    if (this.ns !== undefined) await stopNamespace(this.ns, this.init, 0);
    proc.kill('SIGKILL');
  }

  /** Opens the audit store (when it was given as an opener) and appends the events emitted before. */
  private async openStore(): Promise<AuditStore> {
    if (this.store === undefined) {
      const open = this.options.store as () => Promise<AuditStore>;
      this.store = await open();
    }
    for (const e of this.early.splice(0)) this.store.append(this.labels, e);
    return this.store;
  }

  private sessionDir(): string {
    return path.join(this.options.runDir, this.id.replace(/-/g, '').slice(0, 12));
  }

  private async launch(tools: ReturnType<typeof findHostTools>): Promise<void> {
    const o = this.options;
    const dir = this.sessionDir();
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.cleanups.push(() => releaseRunDir(dir));
    mkdirSync(o.personaHome, { recursive: true, mode: 0o700 });
    const emptyFile = path.join(dir, 'empty');
    writeFileSync(emptyFile, '', { mode: 0o000 });

    mark('dirs');
    const files = new SessionFilesystem({
      sessionId: this.id,
      persona: o.persona,
      workspace: o.workspace,
      userHome: o.userHome,
      personaeHome: o.personaeHome,
      personaHome: o.personaHome,
      runDir: dir,
      tools,
      emit: this.emit,
      fail: (message) => this.fail(message),
      sandboxPid: () => this.init,
      workspaceReady: o.worktree?.ready,
      worktree: o.worktree?.record.path,
    });
    this.files = files;
    this.cleanups.push(() => files.close());
    const fsPrep = files.prepared;

    mark('fs prepared');
    const adapterPlan = await o.adapter.prepare({ session: this, dir });
    this.cleanups.push(() => adapterPlan.close());
    const git = o.worktree ? o.worktree.launch(fsPrep.plan.writable, o.personaeHome) : o.review?.launch();
    // The persona's command rules decided at every exec, the denied-read tripwires, the tracer of both.
    const exec = prepareExecSide({
      persona: o.persona,
      dir,
      workspace: o.workspace,
      userHome: o.userHome,
      personaeHome: o.personaeHome,
      personaHome: o.personaHome,
      env: o.env ?? process.env,
      fs: fsPrep,
      extraPath: adapterPlan.extraPath,
      binds: adapterPlan.roBinds.map((b) => b.dest),
      worktreeMounts: git?.worktreeMounts ?? [],
      emit: this.emit,
      // A stop kills the logger too: only a failure before any stop is the logger's own.
      onFailure: (msg) => {
        if (this.stopping === undefined) this.fail(msg);
      },
      approvals: () => this.approvals,
      covering: (rule) => this.hooks?.covering(rule),
    });
    const { tracer, answers, tripwires } = exec;
    const execRules = exec.rules;
    if (answers !== undefined) this.cleanups.push(() => answers.close());
    mark('tripwires prepared');
    this.cleanups.push(() => tracer.close());
    // The proxy's and the broker's sockets go in a directory of their own, bound into the sandbox.
    const bridgeDir = path.join(dir, 'bridge');
    mkdirSync(bridgeDir, { mode: 0o700 });
    const network = { allow: [...o.persona.network.allow, ...adapterPlan.networkAllow], deny: o.persona.network.deny };
    const rules = compileNetworkRules(network.allow, network.deny);
    const interception = prepareInterception({
      grants: o.credentials,
      rules,
      dir,
      sessionId: this.id,
      env: o.env ?? process.env,
      ...(o.upstreamCa !== undefined ? { upstreamCa: o.upstreamCa } : {}),
      onRequest: (r) => this.emit(requestEvent(r)),
      onCredential: (c) => this.emit(credentialEvent(c)),
    });
    const req: LaunchRequest = {
      persona: o.persona,
      sessionId: this.id,
      workspace: o.workspace,
      command: adapterPlan.rewriteCommand ? adapterPlan.rewriteCommand(o.command) : o.command,
      onBehalfOf: o.onBehalfOf,
      personaHome: o.personaHome,
      bridgeDir,
      traceOutput: tracer.path,
      execLogSocket: path.join(dir, 'execlog.sock'),
      ...(execRules !== undefined ? { execRules: { file: execRules.file, answers: execRules.answers } } : {}),
      ...(tripwires !== undefined ? { tripwires: { file: tripwires.file, mountPoints: tripwires.mountPoints } } : {}),
      emptyFile,
      fs: fsPrep.plan,
      credentials: interception.env,
      ...(interception.trustDir !== undefined ? { trustDir: interception.trustDir } : {}),
      passEnv: pickPassEnv(o.env ?? process.env),
      adapterEnv: { ...adapterPlan.env, ...git?.env },
      roBinds: adapterPlan.roBinds,
      extraPath: adapterPlan.extraPath,
      hidden: fsPrep.hidden,
      tools,
      hookTimeoutSeconds: hookTimeoutSeconds(o.persona),
      ownTerminal: o.stdio.kind === 'pty',
      ...(git ? { worktreeMounts: git.worktreeMounts, gitConfig: git.gitConfig } : {}),
    };
    mark('interception prepared');
    const plan = planLaunch({ ...req, passwd: sandboxPasswd(dir, o.personaHome) });
    mark('planned');
    // The sandbox sets itself up (mounts, bridges) while the supervisor starts the rest: the
    // broker, the proxy, the audit store, the watcher, the control socket. The command inside
    // waits for the "go" below (the exec logger holds it).
    const holdFd = o.exitsAfter && o.stdio.kind !== 'pty' ? inotifyDescriptor(dir) : undefined; // a PTY passes no descriptors
    // The answers FIFO first: once the exec log's FIFO exists, both do.
    this.proc = await spawnPlan(plan, o.stdio, tools.seccomp, exec.fifos, holdFd);
    // The logger opens its FIFO once bwrap is on its way: follow it while the rest starts.
    const tracing = tracer.start();
    tracing.catch(() => undefined); // awaited below, before the go
    mark('spawned');

    // The hook broker: every agent's tool calls (where the agent has hooks) are decided here.
    this.approvals = new Approvals(this.id, o.persona.name, parseDuration(o.persona.limits.approval_timeout) ?? 300_000);
    this.cleanups.push(() => this.approvals.close());
    const { hooks, broker, proxy } = await startPlumbing({
      persona: o.persona,
      workspace: o.workspace,
      personaHome: o.personaHome,
      sockets: bridgeSockets(bridgeDir),
      rules,
      hostMap: o.hostMap,
      intercept: await interception.start(),
      emit: this.emit,
      approvals: this.approvals,
      limit: (name, reason) => this.limit(name, reason),
      stop: (reason) => void this.stop(reason),
      onLive: () => this.hooksLive.resolve(),
      onTelemetry: (p, body) => this.onTelemetry?.(p, body),
    });
    this.hooks = hooks;
    this.cleanups.push(() => broker.close(), () => proxy.close());
    mark('proxy started');
    const store = await this.openStore();
    mark('store open');
    await files.ready();
    mark('watcher ready');
    this.emit({
      kind: 'session.start',
      target: o.command.join(' '),
      detail: {
        workspace: o.workspace, command: [...o.command], pid: this.proc.pid, writable: fsPrep.plan.writable, network, owner: o.persona.owner,
        ...(o.worktree ? { worktree: { branch: o.worktree.record.branch, base: o.worktree.record.base, repo: o.worktree.record.repo } } : {}),
        ...(o.review ? { review_of: o.review.session } : {}),
      },
    });
    store.upsertSession({
      id: this.id,
      persona: o.persona.name,
      agent: this.labels.agent,
      on_behalf_of: o.onBehalfOf,
      workspace: o.workspace,
      command: [...o.command],
      supervisor_pid: process.pid,
      sandbox_pid: this.proc.pid,
      ...(o.worktree ? { worktree: o.worktree.record, worktree_state: 'pending' as const } : {}),
    });
    store.flush();
    const control: ControlServer = await startControlServer(path.join(dir, 'control.sock'), {
      stop: (reason) => this.stop(reason === 'suspend' ? 'suspended' : 'stopped'),
      status: () => ({ id: this.id, persona: o.persona.name, pid: this.proc?.pid }),
      approvals: () => this.approvals.list(),
      answer: (id, decision, by) => this.approvals.answer(id, decision, by),
    });
    this.cleanups.push(() => control.close());
    await adapterPlan.started?.(this);
    await tracing;
    answers?.open();
    const root = this.proc.pid;
    this.goNow = () => {
      // Go: every write is watched and the session can be stopped; the agent's command may start.
      this.proc?.kill('SIGUSR1');
      mark('control ready');
      void this.findNamespace(30_000).then(() => files.sandboxFound(this.init, this.stopping === undefined && !isZombie(root), tracer.whenStarted));
      this.armLimits();
      this.stopBridgeWatch = watchBridges(() => this.init, () => tracer.started, SANDBOX_BRIDGES, (b) =>
        this.emit({
          kind: 'error',
          target: b.name,
          decision: 'deny',
          reason: `the ${b.name} inside the sandbox is gone: ${b.consequence} is refused for the rest of the session`,
        }),
      );
      this.cleanups.push(() => this.stopBridgeWatch());
    };
    if (o.deferGo !== true) this.go();
    void this.proc.exited.then((code) => this.finish(code, tracer));
  }

  /** Lets the command start (once; with deferGo). */
  go(): void {
    const go = this.goNow;
    this.goNow = undefined;
    if (this.stopping === undefined) go?.();
  }

  /** Records the sandbox's pid namespace (from its init, bwrap's child) so stop can find every member. */
  private async findNamespace(timeoutMs?: number): Promise<void> {
    const root = this.proc?.pid;
    const found = root === undefined ? undefined : await findSandboxInit(root, timeoutMs);
    if (found === undefined) return;
    this.ns = found.ns;
    this.init = found.init;
  }

  private armLimits(): void {
    const limit = this.options.persona.limits.max_runtime;
    const ms = limit ? parseDuration(limit) : undefined;
    if (limit !== undefined && ms !== undefined) this.cleanups.push(atDeadline(Date.now() + ms, () => this.limit('max_runtime', `limits.max_runtime: ${limit}`)));
  }

  /** A limit was reached: record it and stop. */
  limit(name: string, reason: string): void {
    this.emit({ kind: 'limit', target: name, decision: 'deny', reason });
    void this.stop('limit');
  }

  /** A component this session relies on failed: fail closed. */
  fail(message: string): void {
    this.failure ??= message;
    this.emit({ kind: 'error', target: 'session', decision: 'deny', reason: message });
    void this.stop('failure');
  }

  /** Stops the session: SIGTERM, SIGKILL after the grace, then verifies nothing is left. Idempotent. */
  stop(reason: EndReason = 'stopped'): Promise<StopResult> {
    if (this.stopping) return this.stopping;
    this.stopBridgeWatch();
    this.files?.stopGuarding();
    this.endReason = reason;
    this.emit({ kind: 'stop', target: this.id, reason });
    const grace = Math.min(this.options.graceMs ?? 1500, 2000);
    this.stopping = (async () => {
      if (this.ns === undefined) await this.findNamespace();
      let result: StopResult;
      if (this.ns !== undefined) {
        result = await stopNamespace(this.ns, this.init, grace);
      } else {
        this.proc?.kill('SIGKILL');
        result = { survivors: [], signalled: 0, killed: true };
      }
      this.proc?.kill('SIGKILL');
      this.stopResult = result;
      this.emit({
        kind: 'stop',
        target: this.id,
        decision: result.survivors.length === 0 ? 'allow' : 'deny',
        reason: result.survivors.length === 0 ? 'verified: no process survives' : `${result.survivors.length} processes survive`,
        detail: { verified: result.survivors.length === 0, signalled: result.signalled, killed: result.killed, survivors: result.survivors },
      });
      return result;
    })();
    return this.stopping;
  }

  private async finish(exitCode: number, tracer: ExecTracer): Promise<void> {
    this.stopBridgeWatch();
    this.files?.stopGuarding();
    mark('sandbox exited');
    // Whatever the command left behind (background processes) dies with the namespace: verify it.
    if (this.ns !== undefined && !this.stopping) {
      const left = await stopNamespace(this.ns, this.init, 0);
      this.stopResult = left;
    } else if (this.stopping) {
      await this.stopping;
    }
    mark('namespace verified');
    // The last exec lines and the last file events land together.
    await Promise.all([tracer.drain(), this.files?.settle()]);
    // A worktree's own changes are its diff against its base (below); HOME's are recorded either way.
    await this.files?.recordDiffs({ workspace: this.options.worktree === undefined });
    // A worktree's work is summed up before the placeholders go (the watcher would record their removal meanwhile).
    const worktree = await this.options.worktree?.conclude(this.emit, this.files?.prepared.hidden ?? [], (this.files?.changedCount ?? 1) > 0);
    this.files?.release();
    mark('tracer drained');
    // The store may be closed under us (its owner is shutting down): the session still ends.
    const quietly = (fn: () => unknown): void => {
      try {
        fn();
      } catch {
        // see above
      }
    };
    if (worktree?.files_changed !== undefined) quietly(() => this.store?.updateWorktree(this.id, { files_changed: worktree.files_changed }));
    this.emit({ kind: 'session.end', target: this.id, reason: this.endReason, detail: { exit_code: exitCode, ...(worktree ? { worktree } : {}) } });
    quietly(() => this.store?.endSession(this.id, { exit_code: exitCode, end_reason: this.endReason, ended_at: new Date().toISOString() }));
    await this.cleanup();
    quietly(() => this.store?.flush());
    mark('cleaned up');
    this.resolveEnd({
      exitCode, reason: this.endReason, stop: this.stopResult,
      ...(this.failure !== undefined ? { failure: this.failure } : {}),
      ...(worktree !== undefined ? { worktree } : {}),
    });
  }

  private async cleanup(): Promise<void> {
    while (this.cleanups.length > 0) {
      const c = this.cleanups.pop();
      try {
        await c?.();
      } catch {
        // cleanup is best effort; the session has already ended
      }
    }
  }
}
