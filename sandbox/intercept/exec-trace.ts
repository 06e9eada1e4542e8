// Parses strace's output (execve/clone family, -f, --pidns-translation) into
// exec events: every program started inside the sandbox, with its argv, pid
// and parent pid, and its exit. The tracer runs outside the sandbox, so what
// the agent does inside cannot forge or suppress these lines.

export interface ExecStart {
  readonly type: 'exec';
  readonly pid: number;
  readonly ppid: number | undefined;
  readonly path: string;
  readonly argv: readonly string[];
}
export interface ExecExit {
  readonly type: 'exit';
  readonly pid: number;
  readonly code: number | undefined;
  readonly signal: string | undefined;
}
export type TraceRecord = ExecStart | ExecExit;

const LINE_RE = /^(\d+)\s+(.*)$/;

/** Decodes one C string literal as strace prints it (starting at text[i] === '"'); returns the value and the index after it. */
export function readCString(text: string, i: number): { value: string; end: number } | undefined {
  if (text[i] !== '"') return undefined;
  const bytes: number[] = [];
  let j = i + 1;
  while (j < text.length) {
    const c = text[j];
    if (c === '"') {
      let end = j + 1;
      if (text.startsWith('...', end)) end += 3; // truncated by -s
      return { value: Buffer.from(bytes).toString('utf8'), end };
    }
    if (c === '\\') {
      const n = text[j + 1];
      const simple: Record<string, number> = { n: 10, t: 9, r: 13, v: 11, f: 12, a: 7, b: 8, '\\': 92, '"': 34, "'": 39 };
      if (n !== undefined && simple[n] !== undefined) {
        bytes.push(simple[n]);
        j += 2;
        continue;
      }
      if (n === 'x') {
        bytes.push(parseInt(text.slice(j + 2, j + 4), 16));
        j += 4;
        continue;
      }
      const oct = /^[0-7]{1,3}/.exec(text.slice(j + 1, j + 4));
      if (oct) {
        bytes.push(parseInt(oct[0], 8) & 0xff);
        j += 1 + oct[0].length;
        continue;
      }
      return undefined;
    }
    bytes.push(...Buffer.from(c ?? '', 'utf8'));
    j += 1;
  }
  return undefined;
}

/** Parses `"path", ["a", "b"...]` at the start of execve's arguments. */
function parseExecArgs(args: string): { path: string; argv: string[] } | undefined {
  let i = args.startsWith('AT_FDCWD, ') ? 'AT_FDCWD, '.length : 0;
  const p = readCString(args, i);
  if (!p) return undefined;
  i = p.end;
  if (!args.startsWith(', [', i)) return { path: p.value, argv: [] };
  i += 3;
  const argv: string[] = [];
  while (i < args.length && args[i] !== ']') {
    if (args.startsWith('...', i)) break;
    const s = readCString(args, i);
    if (!s) break;
    argv.push(s.value);
    i = s.end;
    if (args.startsWith(', ', i)) i += 2;
  }
  return { path: p.value, argv };
}

/** A streaming parser: feed it lines, get records. Keeps per-pid state for unfinished syscalls and parentage. */
export class ExecTraceParser {
  private readonly pending = new Map<number, string>();
  private readonly parent = new Map<number, number>();
  private readonly execed = new Set<number>();
  /** Records waiting for their parent pid (a vfork parent's return is printed after the child's exec). */
  private queue: TraceRecord[] = [];

  /** Parses one line; returns the records that are complete, in order. */
  line(raw: string): TraceRecord[] {
    this.queue.push(...this.parse(raw));
    let ready = 0;
    while (ready < this.queue.length) {
      const r = this.queue[ready];
      if (r?.type === 'exec' && r.ppid === undefined) {
        const ppid = this.parent.get(r.pid);
        if (ppid === undefined) break;
        this.queue[ready] = { ...r, ppid };
      }
      ready += 1;
    }
    return ready === 0 ? [] : this.queue.splice(0, ready);
  }

  /** Returns every record still queued (parent unknown), e.g. at the end of a chunk of output. */
  flush(): TraceRecord[] {
    const out = this.queue.map((r) => (r.type === 'exec' && r.ppid === undefined ? { ...r, ppid: this.parent.get(r.pid) } : r));
    this.queue = [];
    return out;
  }

  private parse(raw: string): TraceRecord[] {
    const m = LINE_RE.exec(raw.trimEnd());
    if (!m) return [];
    const pid = Number(m[1]);
    let body = m[2] ?? '';
    if (body.startsWith('+++ exited with ')) {
      return this.exit(pid, Number(/(\d+)/.exec(body)?.[1]), undefined);
    }
    if (body.startsWith('+++ killed by ')) {
      return this.exit(pid, undefined, /killed by (\w+)/.exec(body)?.[1]);
    }
    if (body.endsWith('<unfinished ...>')) {
      this.pending.set(pid, body.slice(0, -'<unfinished ...>'.length).trimEnd());
      return [];
    }
    const resumed = /^<\.\.\. \w+ resumed>\s?(.*)$/.exec(body);
    if (resumed) {
      const start = this.pending.get(pid);
      this.pending.delete(pid);
      if (start === undefined) return [];
      body = `${start}${resumed[1] ?? ''}`;
    }
    return this.syscall(pid, body);
  }

  private exit(pid: number, code: number | undefined, signal: string | undefined): TraceRecord[] {
    this.pending.delete(pid);
    this.parent.delete(pid);
    if (!this.execed.delete(pid)) return [];
    return [{ type: 'exit', pid, code, signal }];
  }

  private syscall(pid: number, body: string): TraceRecord[] {
    const call = /^(\w+)\((.*)\)\s+=\s+(-?\d+)(?:\s+\/\*\s*(\d+)[^*]*\*\/)?/s.exec(body);
    if (!call) return [];
    const [, name, args, ret, translated] = call;
    if (name === 'clone' || name === 'clone3' || name === 'fork' || name === 'vfork') {
      const child = Number(translated ?? ret);
      if (child > 0) this.parent.set(child, pid);
      return [];
    }
    if ((name === 'execve' || name === 'execveat') && ret === '0') {
      const parsed = parseExecArgs(args ?? '');
      if (!parsed) return [];
      this.execed.add(pid);
      return [{ type: 'exec', pid, ppid: this.parent.get(pid), path: parsed.path, argv: parsed.argv }];
    }
    return [];
  }
}
