// Reads the exec tracer's FIFO and turns its records into `exec` and
// `exec.exit` events. The sandbox's own plumbing (the init shell, the socat
// bridges, the seccomp helper) is left out: events start at the agent's command.
import { closeSync, openSync, readSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
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
  private fd: number | undefined;
  private watcher: FSWatcher | undefined;
  private readonly buf = Buffer.alloc(256 * 1024);
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
   * Creates the trace file strace writes to. It lives in personae's run
   * directory, outside the sandbox, and strace opens it close-on-exec, so
   * nothing in the sandbox can write to it.
   */
  create(): void {
    writeFileSync(this.path, '', { mode: 0o600 });
    this.fd = openSync(this.path, 'r');
  }

  /** Follows the file as strace appends to it (inotify, with a slow poll as a safety net). */
  start(): void {
    try {
      this.watcher = watch(this.path, { persistent: false }, () => this.pump());
      this.watcher.on('error', (err) => {
        if (!this.closing) this.onFailure(`exec tracer failed: ${err.message}`);
      });
    } catch (err) {
      this.onFailure(`exec tracer failed: ${(err as Error).message}`);
    }
  }

  /** Reads whatever strace has appended since the last read. */
  pump(): void {
    if (this.fd === undefined) return;
    for (;;) {
      let n: number;
      try {
        n = readSync(this.fd, this.buf, 0, this.buf.length, null);
      } catch (err) {
        if (!this.closing) this.onFailure(`exec tracer failed: ${(err as Error).message}`);
        return;
      }
      if (n <= 0) return;
      this.chunk(this.buf.toString('utf8', 0, n));
    }
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

  /** Reads the rest of the trace after the sandbox exits (strace has exited too, so the file is complete). */
  drain(): void {
    this.pump();
    this.chunk('\n');
  }

  close(): void {
    this.closing = true;
    this.watcher?.close();
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
