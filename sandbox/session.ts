// Session lifecycle: preflight, start (proxy, broker, exec log, sandbox),
// limits, stop (the whole tree, verified), end. Its filesystem side (grants,
// watcher, re-hiding, end-of-session sweep) is session-fs.ts. One object per session;
// everything it owns is closed when it ends.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from '../personas/random.js';
import type { Persona } from '../personas/schema.js';
import { parseDuration } from '../personas/schema.js';
import type { AgentInfo, EmitEvent, EventInput, SessionLabels } from './audit/event.js';
import { createRedactor } from './audit/redact.js';
import type { AuditStore } from './audit/store.js';
import { ExecTracer } from './intercept/exec-tracer.js';
import { answerHeldExec, ExecAnswers, prepareExecRules } from './intercept/exec-decisions.js';
import { findHostTools } from './launch/host-tools.js';
import { findSandboxInit, stopNamespace, type StopResult } from './launch/pidns.js';
import { SANDBOX_BRIDGES, watchBridges } from './launch/bridge-watch.js';
import { inotifyDescriptor } from './launch/exit-handoff.js';
import { releaseRunDir } from './launch/run-dirs.js';
import { prepareTripwires } from './launch/tripwires.js';
import { bridgeSockets, mountDests, passwdFor, pickPassEnv, planLaunch, type LaunchRequest } from './launch/plan.js';
import { spawnPlan, type RunningProcess, type StdioMode } from './launch/spawn.js';
import { compileNetworkRules } from './net/domain-rules.js';
import { startEgressProxy, type EgressProxy } from './net/proxy.js';
import type { CredentialGrant } from './net/credentials.js';
import { credentialEvent, prepareInterception, requestEvent } from './net/interception.js';
import type { AgentAdapter } from './intercept/adapter.js';
import { startControlServer, type ControlServer } from './session-control.js';
import { SessionFilesystem } from './session-fs.js';
import { Approvals } from './intercept/approvals.js';
import { startBroker } from './intercept/broker.js';
import { HookHandler } from './intercept/hook-handler.js';
import { compileToolRules } from './policy/tool-rules.js';
import { hookTimeoutSeconds } from './intercept/adapters.js';
import { mark } from './timing.js';
import type { ReviewedWorktree, SessionWorktree, WorktreeSummary } from './worktree/session-worktree.js';

export interface SessionOptions {
  readonly persona: Persona;
  readonly personaeHome: string;
  readonly personaHome: string;
  readonly runDir: string;
  readonly workspace: string;
  readonly command: readonly string[];
  readonly onBehalfOf: string;
  readonly userHome: string;
  /** The persona's credentials with their values; the sandbox sees placeholders (see net/interception.ts). */
  readonly credentials: readonly CredentialGrant[];
  /** Extra CAs the proxy trusts for upstream servers (PERSONAE_UPSTREAM_CA), PEM. */
  readonly upstreamCa?: string;
  /**
   * The audit log, or how to open it: then it is opened once the sandbox is
   * spawned (the sandbox sets itself up meanwhile, its command held until the
   * go), and events from before are appended then, with their own times.
   */
  readonly store: AuditStore | (() => Promise<AuditStore>);
  readonly stdio: StdioMode;
  readonly adapter: AgentAdapter;
  readonly hostMap?: ReadonlyMap<string, { host: string; port?: number }>;
  readonly env?: NodeJS.ProcessEnv;
  /** The supervisor exits when the session ends (personae run): keep the kernel's retiring of its file watches off that exit (see launch/exit-handoff.ts). */
  readonly exitsAfter?: boolean;
  /** The command waits for go() instead of starting as soon as everything is ready (the app's terminal view gives the PTY its size first). */
  readonly deferGo?: boolean;
  /** SIGTERM-to-SIGKILL grace when stopping; at most 2000 ms. */
  readonly graceMs?: number;
  readonly sessionId?: string;
  /** The session runs in a git worktree personae made for it (its workspace is the worktree). */
  readonly worktree?: SessionWorktree;
  /** The session reviews another session's worktree (its workspace), read-only. */
  readonly review?: ReviewedWorktree;
}

export type EndReason = 'exit' | 'stopped' | 'limit' | 'suspended' | 'failure';

export interface SessionEnd {
  readonly exitCode: number;
  readonly reason: EndReason;
  readonly stop: StopResult | undefined;
  /** Why the session failed (the first failure), when it did. */
  readonly failure?: string;
  /** A worktree session's work, summed up. */
  readonly worktree?: WorktreeSummary;
}

export class SessionRefused extends Error {}

/** The sandbox's /etc/passwd (see LaunchRequest.passwd), in the run directory; undefined when the host's cannot be read. */
function sandboxPasswd(dir: string, personaHome: string): string | undefined {
  try {
    const file = path.join(dir, 'passwd');
    writeFileSync(file, passwdFor(readFileSync('/etc/passwd', 'utf8'), process.getuid?.() ?? -1, personaHome), { mode: 0o644 });
    return file;
  } catch {
    return undefined;
  }
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

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
    // The persona's command rules, decided by the exec logger at every exec; asked execs are answered here.
    mark('adapter prepared');
    const execRules = prepareExecRules(o.persona, dir, adapterPlan.extraPath);
    const answers = execRules === undefined ? undefined : new ExecAnswers(execRules.answers);
    if (answers !== undefined) this.cleanups.push(() => answers.close());
    const git = o.worktree ? o.worktree.launch(fsPrep.plan.writable, o.personaeHome) : o.review?.launch();
    // Denied-read tripwires over every hidden path: attempts on them become fs.read events.
    // PERSONAE_TRIPWIRES=off leaves them out (the paths are hidden all the same; for comparisons and broken FUSE set-ups).
    const tripwires = (o.env ?? process.env).PERSONAE_TRIPWIRES === 'off' ? undefined : prepareTripwires(dir, {
      ctx: { workspace: o.workspace, userHome: o.userHome },
      personaeHome: o.personaeHome,
      hiddenDirs: fsPrep.hidden,
      plan: fsPrep.plan,
      personaHome: o.personaHome,
      binds: [...adapterPlan.roBinds.map((b) => b.dest), ...mountDests(git?.worktreeMounts ?? [])],
    });
    mark('tripwires prepared');
    // A stop kills the logger too: only a failure before any stop is the logger's own.
    const tracer = new ExecTracer(
      path.join(dir, 'exec.fifo'),
      this.emit,
      (msg) => {
        if (this.stopping === undefined) this.fail(msg);
      },
      {
        rules: execRules?.compiled.rules,
        tripwires: tripwires?.trips ?? [],
        onAsk: (held) => answerHeldExec({ persona: o.persona, approvals: this.approvals, covering: (rule) => this.hooks?.covering(rule) }, held),
        reply: (id, decision) => answers?.reply(id, decision),
      },
    );
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
    this.proc = await spawnPlan(plan, o.stdio, tools.seccomp, [...(execRules ? [execRules.answers] : []), tracer.path], holdFd);
    // The logger opens its FIFO once bwrap is on its way: follow it while the rest starts.
    const tracing = tracer.start();
    tracing.catch(() => undefined); // awaited below, before the go
    mark('spawned');

    // The hook broker: every agent's tool calls (where the agent has hooks) are decided here.
    this.approvals = new Approvals(this.id, o.persona.name, parseDuration(o.persona.limits.approval_timeout) ?? 300_000);
    this.cleanups.push(() => this.approvals.close());
    const hooks = new HookHandler({
      persona: o.persona,
      emit: this.emit,
      rules: compileToolRules(o.persona.tools, { workspace: o.workspace, home: o.personaHome }),
      approvals: this.approvals,
      limit: (name, reason) => this.limit(name, reason),
      stop: (reason) => void this.stop(reason),
      onLive: () => this.hooksLive.resolve(),
    });
    this.hooks = hooks;
    const sockets = bridgeSockets(bridgeDir);
    const broker = await startBroker(sockets.broker, {
      hook: (event, payload) => hooks.handle(event, payload),
      rejected: (reason, detail) => hooks.reject('broker', reason, detail),
      otlp: (p, body) => this.onTelemetry?.(p, body),
    });
    this.cleanups.push(() => broker.close());

    const intercept = await interception.start();
    const proxy: EgressProxy = await startEgressProxy({
      socketPath: sockets.proxy,
      rules,
      hostMap: o.hostMap,
      ...(intercept !== undefined ? { intercept } : {}),
      onEvent: (a) =>
        this.emit({
          kind: 'net.connect',
          target: `${a.host}:${a.port}`,
          decision: a.decision,
          reason: a.reason,
          detail: { protocol: a.protocol, ...(a.error ? { error: a.error } : {}) },
        }),
    });
    this.cleanups.push(() => proxy.close());
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
    this.goNow = () => {
      // Go: every write is watched and the session can be stopped; the agent's command may start.
      this.proc?.kill('SIGUSR1');
      mark('control ready');
      void this.findNamespace().then(() => files.sandboxKnown());
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
  private async findNamespace(): Promise<void> {
    const root = this.proc?.pid;
    const found = root === undefined ? undefined : await findSandboxInit(root);
    if (found === undefined) return;
    this.ns = found.ns;
    this.init = found.init;
  }

  private armLimits(): void {
    const limit = this.options.persona.limits.max_runtime;
    const ms = limit ? parseDuration(limit) : undefined;
    if (ms === undefined) return;
    const deadline = Date.now() + ms;
    // setTimeout holds at most ~24.8 days: re-arm in steps until the deadline.
    const arm = (): void => {
      const left = deadline - Date.now();
      if (left <= 0) {
        this.limit('max_runtime', `limits.max_runtime: ${limit}`);
        return;
      }
      const t = setTimeout(arm, Math.min(left, 2 ** 31 - 1));
      t.unref();
      this.cleanups.push(() => clearTimeout(t));
    };
    arm();
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
    if (this.options.worktree === undefined) await this.files?.recordDiffs();
    // A worktree's work is summed up before the placeholders go (the watcher would record their removal meanwhile).
    const worktree = await this.options.worktree?.conclude(this.emit, this.files?.prepared.hidden ?? [], (this.files?.changedCount ?? 1) > 0);
    this.files?.release();
    mark('tracer drained');
    if (worktree?.files_changed !== undefined) {
      try {
        this.store?.updateWorktree(this.id, { files_changed: worktree.files_changed });
      } catch {
        // the store was closed under us (see below)
      }
    }
    this.emit({ kind: 'session.end', target: this.id, reason: this.endReason, detail: { exit_code: exitCode, ...(worktree ? { worktree } : {}) } });
    try {
      this.store?.endSession(this.id, { exit_code: exitCode, end_reason: this.endReason, ended_at: new Date().toISOString() });
    } catch {
      // the store was closed under us (its owner is shutting down): the session still ends
    }
    await this.cleanup();
    try {
      this.store?.flush();
    } catch {
      // as above
    }
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
