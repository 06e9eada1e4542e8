// Parses the exec logger's output (native/personae-execlog.c) into exec
// records: every program started inside the sandbox, with its argv, pid and
// parent pid. The logger runs outside the sandbox and the kernel stops each
// exec until it has been read, so what the agent does inside can neither
// forge nor suppress these lines.
//
//   exec PID PPID HEXPATH HEXARG... [...]
//
// An argument cut at 4096 bytes ends in "~"; a trailing "..." means further
// arguments were left out.

export interface ExecRecord {
  readonly pid: number;
  readonly ppid: number | undefined;
  readonly path: string;
  readonly argv: readonly string[];
  /** Some argument was cut or left out. */
  readonly truncated: boolean;
}

const HEX = /^(?:[0-9a-f]{2})*$/;

function decode(token: string): string | undefined {
  return HEX.test(token) ? Buffer.from(token, 'hex').toString('utf8') : undefined;
}

/** Parses one line; undefined for anything that is not a well-formed record. */
export function parseExecLine(line: string): ExecRecord | undefined {
  const parts = line.replace(/\r?\n$/, '').split(' ');
  if (parts[0] !== 'exec' || parts.length < 4) return undefined;
  const pid = Number(parts[1]);
  const ppid = Number(parts[2]);
  const path = decode(parts[3] ?? '');
  if (!Number.isSafeInteger(pid) || pid <= 0 || !Number.isSafeInteger(ppid) || path === undefined) return undefined;
  const argv: string[] = [];
  let truncated = false;
  for (const raw of parts.slice(4)) {
    if (raw === '...') {
      truncated = true;
      break;
    }
    const cut = raw.endsWith('~');
    const arg = decode(cut ? raw.slice(0, -1) : raw);
    if (arg === undefined) return undefined;
    truncated ||= cut;
    argv.push(arg);
  }
  return { pid, ppid: ppid > 0 ? ppid : undefined, path, argv, truncated };
}
