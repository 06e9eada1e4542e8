// Reads the exec logger's FIFO and turns its records into `exec` and
// `exec.exit` events.
// Only the agent's command and what it starts are filtered (the sandbox's
// own plumbing, the init shell and the socat bridges, runs before the
// filter); personae's helpers inside (the hook command, the real shells
// behind the shell wrapper) are left out by their path.
import { createReadStream, existsSync, type ReadStream } from 'node:fs';
import type { EmitEvent } from '../audit/event.js';
import { INSIDE } from '../launch/plan.js';
import { parseExecLine, parseExitLine, type ExecRecord, type ExitRecord } from './exec-trace.js';

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
  private finished = false;
  /** The agent's command has started (its exec is the first line). */
  started = false;

  constructor(
    readonly path: string,
    private readonly emit: EmitEvent,
    private readonly onFailure: (message: string) => void,
  ) {}

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
      if (r !== undefined) this.record(r);
      else if (x !== undefined) this.exit(x);
      else if (/^end -?\d+$/.test(line)) this.finished = true;
      else if (line.trim() !== '') this.onFailure('exec log: a malformed line');
    }
  }

  private record(r: ExecRecord): void {
    this.started = true;
    // personae's own helpers inside the sandbox (the hook command, the real shells) are not the agent's commands.
    if (r.path.startsWith(`${INSIDE.runDir}/`)) return;
    this.programs.set(r.pid, r.argv[0] ?? r.path);
    this.emit({
      kind: 'exec',
      tool: r.argv[0] ?? r.path,
      target: formatArgv(r.argv),
      detail: { path: r.path, argv: [...r.argv], pid: r.pid, ppid: r.ppid ?? null, ...(r.truncated ? { truncated: true } : {}) },
    });
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
