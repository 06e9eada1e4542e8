// Reads the exec tracer's FIFO and turns its records into `exec` and
// `exec.exit` events. The sandbox's own plumbing (the init shell, the socat
// bridges, the seccomp helper) is left out: events start at the agent's command.
import { createReadStream, existsSync, type ReadStream } from 'node:fs';
import type { EmitEvent } from '../audit/event.js';
import { INSIDE } from '../launch/plan.js';
import { ExecTraceParser, type TraceRecord } from './exec-trace.js';

function quoteArg(a: string): string {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}

export function formatArgv(argv: readonly string[]): string {
  return argv.map(quoteArg).join(' ');
}

export class ExecTracer {
  private readonly parser = new ExecTraceParser();
  private stream: ReadStream | undefined;
  private done: Promise<void> = Promise.resolve();
  private initPid: number | undefined;
  private agentStarted = false;
  private readonly infra = new Set<number>();
  private readonly programs = new Map<number, string>();
  private partial = '';
  private closing = false;

  constructor(
    readonly path: string,
    private readonly emit: EmitEvent,
    private readonly onFailure: (message: string) => void,
  ) {}

  /**
   * Follows the FIFO strace writes to. The die-with-parent helper creates it
   * (mode 0600, in personae's run directory, outside the sandbox) before it
   * starts strace, which opens it close-on-exec: nothing inside can write to
   * it, and the trace never touches the disk. strace blocks until we read, so
   * a slow reader slows the sandbox down rather than losing events.
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
      stream.on('data', (chunk: string | Buffer) => this.chunk(String(chunk)));
      stream.on('end', () => {
        this.chunk('\n');
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
    for (const line of lines) for (const r of this.parser.line(line)) this.record(r);
    for (const r of this.parser.flush()) this.record(r);
  }

  private record(r: TraceRecord): void {
    if (r.type === 'exit') {
      if (!this.agentStarted || this.infra.has(r.pid)) return;
      const program = this.programs.get(r.pid) ?? String(r.pid);
      this.programs.delete(r.pid);
      this.emit({
        kind: 'exec.exit',
        tool: program,
        target: program,
        detail: { pid: r.pid, code: r.code ?? null, signal: r.signal ?? null },
      });
      return;
    }
    if (!this.agentStarted) {
      if (r.argv[3] === 'personae-init' && r.path === INSIDE.realSh) {
        this.initPid = r.pid;
        return;
      }
      if (r.pid === this.initPid && r.path === INSIDE.seccomp) {
        this.agentStarted = true;
        return;
      }
      if (r.ppid !== undefined && r.ppid === this.initPid) this.infra.add(r.pid);
      return;
    }
    // personae's own helpers inside the sandbox (the hook command) are not the agent's commands.
    if (this.infra.has(r.pid) || r.path.startsWith(`${INSIDE.runDir}/`)) {
      this.infra.add(r.pid);
      return;
    }
    this.programs.set(r.pid, r.argv[0] ?? r.path);
    this.emit({
      kind: 'exec',
      tool: r.argv[0] ?? r.path,
      target: formatArgv(r.argv),
      detail: { path: r.path, argv: [...r.argv], pid: r.pid, ppid: r.ppid ?? null },
    });
  }

  /** Waits (bounded) for the rest of the trace after the sandbox exits (strace closes the FIFO when it ends). */
  async drain(timeoutMs = 2000): Promise<void> {
    await Promise.race([this.done, new Promise((r) => setTimeout(r, timeoutMs).unref())]);
  }

  close(): void {
    this.closing = true;
    this.stream?.destroy();
  }
}
