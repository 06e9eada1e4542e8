// Reads the exec logger's FIFO and turns its records into `exec` and
// `exec.exit` events, each exec with what the persona's command rules
// decided (allow, deny with the rule, or ask).
// Only the agent's command and what it starts are filtered (the sandbox's
// own plumbing, the init shell and the socat bridges, runs before the
// filter); personae's own helper inside (the hook command) is left out by its
// path when it runs, and recorded like anything else when a rule refuses it.
import { createReadStream, existsSync, type ReadStream } from 'node:fs';
import type { EmitEvent } from '../audit/event.js';
import { INSIDE } from '../launch/plan.js';
import { ruleReason } from '../policy/tool-types.js';
import type { ExecRule } from '../policy/exec-rules.js';
import type { TripRoot } from '../policy/tripwires.js';
import { DeniedReads } from './denied-reads.js';
import { parseExecLine, parseExitLine, parseReadLine, type ExecRecord, type ExitRecord } from './exec-trace.js';

/** An exec an ask rule holds in the kernel, for the session to answer. */
export interface HeldExec {
  readonly id: string;
  readonly rule: ExecRule;
  /** The reading that matched (`git push origin main`). */
  readonly matchedAs: string;
  /** The command as it was run. */
  readonly target: string;
  readonly record: ExecRecord;
}

export interface ExecTracerOptions {
  /** The rules file's rules, by the index the logger reports. */
  readonly rules?: readonly ExecRule[];
  /** The tripwires file's hidden paths, by the index the logger reports. */
  readonly tripwires?: readonly TripRoot[];
  /** Decides an asked exec; its answer goes back to the logger through `reply`. */
  readonly onAsk?: (held: HeldExec) => HeldAnswer;
  readonly reply?: (id: string, decision: 'allow' | 'deny') => void;
}

/** The session's answer: at once (nobody to ask, or a human already approved it), or later. */
export type HeldAnswer =
  | { readonly decision: 'allow' | 'deny'; readonly reason: string; readonly detail?: Record<string, unknown> }
  | { readonly decision: 'ask'; readonly reason: string; readonly answer: Promise<{ readonly decision: 'allow' | 'deny'; readonly reason: string; readonly approval: string }> };

function quoteArg(a: string): string {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}

export function formatArgv(argv: readonly string[]): string {
  return argv.map(quoteArg).join(' ');
}

export class ExecTracer {
  private stream: ReadStream | undefined;
  private done: Promise<void> = Promise.resolve();
  private partial = '';
  /** What each live process last executed (for its exit event). */
  private readonly programs = new Map<number, string>();
  private closing = false;
  /** The last refused exec (pid, rule, argv): a PATH search retrying it is not a new attempt. */
  private lastDenied = '';
  private finished = false;
  /** The agent's command has started (its exec is the first line). */
  started = false;
  private markStarted: () => void = () => undefined;
  /** Resolves once the agent's command has started (the sandbox is set up), or the log has ended. */
  readonly whenStarted: Promise<void> = new Promise((resolve) => {
    this.markStarted = resolve;
  });

  private readonly rules: readonly ExecRule[];
  private readonly tripwires: readonly TripRoot[];
  private readonly onAsk: (held: HeldExec) => HeldAnswer;
  private readonly reply: (id: string, decision: 'allow' | 'deny') => void;
  private readonly reads = new DeniedReads();

  constructor(
    readonly path: string,
    private readonly emit: EmitEvent,
    private readonly onFailure: (message: string) => void,
    opts: ExecTracerOptions = {},
  ) {
    this.rules = opts.rules ?? [];
    this.tripwires = opts.tripwires ?? [];
    this.onAsk = opts.onAsk ?? (() => ({ decision: 'deny', reason: 'nobody can answer' }));
    this.reply = opts.reply ?? (() => undefined);
  }

  /**
   * Follows the FIFO the exec logger writes to. The die-with-parent helper
   * creates it (mode 0600, in personae's run directory, outside the sandbox)
   * before it starts the logger, which opens it close-on-exec: nothing inside
   * can write to it, and the log never touches the disk. An exec waits until
   * its line is written, so a slow reader slows the sandbox down rather than
   * losing events.
   */
  async start(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!existsSync(this.path)) {
      if (Date.now() > deadline) throw new Error('the exec tracer did not start');
      await new Promise((r) => setTimeout(r, 2));
    }
    const stream = createReadStream(this.path, { encoding: 'utf8', highWaterMark: 256 * 1024 });
    this.stream = stream;
    this.done = new Promise((resolve) => {
      stream.on('close', () => this.markStarted());
      stream.on('data', (chunk: string | Buffer) => this.chunk(String(chunk)));
      stream.on('end', () => {
        this.chunk('\n');
        // The logger writes "end" after the sandbox; without it, it was killed (and took the sandbox with it).
        if (!this.finished && !this.closing) this.onFailure('the exec logger stopped before the sandbox ended; every exec was refused from then on and the sandbox was killed with it');
        resolve();
      });
      stream.on('error', (err) => {
        if (!this.closing) this.onFailure(`exec tracer failed: ${err.message}`);
        resolve();
      });
    });
  }

  private chunk(text: string): void {
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) {
      const r = parseExecLine(line);
      const x = r === undefined ? parseExitLine(line) : undefined;
      const d = r === undefined && x === undefined ? parseReadLine(line) : undefined;
      if (r !== undefined) this.record(r);
      else if (x !== undefined) this.exit(x);
      else if (d !== undefined) this.deniedRead(d.pid, d.trip, d.path, d.op);
      else if (line.startsWith('trip ')) this.tripStatus(line.slice(5));
      else if (/^end -?\d+$/.test(line)) this.finished = true;
      else if (line.trim() !== '') this.onFailure('exec log: a malformed line');
    }
  }

  private record(r: ExecRecord): void {
    this.started = true;
    this.markStarted();
    const v = r.verdict;
    // personae's own helper inside the sandbox (the hook command) is not the agent's command.
    if (v.kind === 'allow' && r.path.startsWith(`${INSIDE.runDir}/`)) return;
    const program = r.argv[0] ?? r.path;
    const target = formatArgv(r.argv.length > 0 ? r.argv : [r.path]);
    const detail = { path: r.path, argv: [...r.argv], pid: r.pid, ppid: r.ppid ?? null, ...(r.truncated ? { truncated: true } : {}) };
    if (v.kind === 'allow') {
      this.programs.set(r.pid, program);
      this.emit({ kind: 'exec', tool: program, target, decision: 'allow', reason: null, detail });
      return;
    }
    const rule = this.rules[v.rule];
    if (rule === undefined) {
      // A rule number this session never wrote: the logger and the session disagree. Refused (deny) or held (answered deny).
      if (v.kind === 'ask') this.reply(v.id, 'deny');
      this.emit({ kind: 'exec', tool: program, target, decision: 'deny', reason: `exec log: unknown rule ${v.rule}`, detail });
      this.onFailure('exec log: a decision by an unknown rule');
      return;
    }
    const ruled = { ...detail, rule: rule.source, matched_as: v.matchedAs };
    if (v.kind === 'deny') {
      // A shell or execvp searching PATH tries the next directory after a refusal (/usr/bin/git,
      // then /bin/git): the same process asking again for the same command is one attempt.
      const key = `${r.pid}\u0000${v.rule}\u0000${r.argv.join('\u0000')}`;
      if (this.lastDenied === key) return;
      this.lastDenied = key;
      const reason = rule.list === 'deny' ? ruleReason('deny', rule.source) : `${ruleReason('ask', rule.source)} (refused: no one could be asked)`;
      this.emit({ kind: 'exec', tool: program, target, decision: 'deny', reason, detail: ruled });
      return;
    }
    let a: HeldAnswer;
    try {
      a = this.onAsk({ id: v.id, rule, matchedAs: v.matchedAs, target, record: r });
    } catch (err) {
      a = { decision: 'deny', reason: `internal error: ${err instanceof Error ? err.message : String(err)}` };
    }
    this.emit({ kind: 'exec', tool: program, target, decision: a.decision, reason: a.reason, detail: a.decision === 'ask' ? ruled : { ...ruled, ...a.detail } });
    if (a.decision !== 'ask') {
      this.answer(v.id, r.pid, program, a.decision);
      return;
    }
    a.answer.then(
      (final) => {
        this.emit({ kind: 'approval', tool: program, target, decision: final.decision, reason: final.reason, detail: { approval: final.approval, asked_because: ruleReason('ask', rule.source), layer: 'exec' } });
        this.answer(v.id, r.pid, program, final.decision);
      },
      () => this.answer(v.id, r.pid, program, 'deny'),
    );
  }

  /** A tripwire saw an attempt on a hidden path: an fs.read deny event, once per process, path and kind of attempt. */
  private deniedRead(pid: number, trip: number, target: string, op: string): void {
    const root = this.tripwires[trip];
    if (root === undefined || !this.reads.first(pid, target, op)) return;
    const program = this.programs.get(pid) ?? null;
    this.emit({ kind: 'fs.read', tool: program, target, decision: 'deny', reason: root.reason, detail: { op, pid, program, hidden: root.path } });
  }

  /** The tripwires' start: on, off (the paths stay hidden, attempts go unrecorded), or failed (nothing ran). */
  private tripStatus(status: string): void {
    const [state = '', ...rest] = status.split(' ');
    if (state === 'ok') return;
    const why = rest.join(' ');
    if (state === 'off') this.emit({ kind: 'error', target: 'tripwires', decision: null, reason: `denied reads go unrecorded in this session: ${why} (the paths stay hidden)` });
    else this.onFailure(`the sandbox could not be set up for denied-read tripwires: ${why}`);
  }

  private answer(id: string, pid: number, program: string, decision: 'allow' | 'deny'): void {
    if (decision === 'allow') this.programs.set(pid, program);
    this.reply(id, decision);
  }

  private exit(x: ExitRecord): void {
    const program = this.programs.get(x.pid);
    if (program === undefined) return; // only personae's helpers ran in it
    this.programs.delete(x.pid);
    this.emit({
      kind: 'exec.exit',
      tool: program,
      target: program,
      detail: { pid: x.pid, code: x.code ?? null, signal: x.signal ?? null },
    });
  }

  /** Waits (bounded) for the rest of the log after the sandbox exits (the logger closes the FIFO when it ends). */
  async drain(timeoutMs = 2000): Promise<void> {
    await Promise.race([this.done, new Promise((r) => setTimeout(r, timeoutMs).unref())]);
  }

  close(): void {
    this.closing = true;
    this.stream?.destroy();
  }
}
