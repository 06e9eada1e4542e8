// Parses the exec logger's output (native/personae-execlog.c) into exec
// records: every program started inside the sandbox, with its argv, pid and
// parent pid, and what the persona's command rules decided about it. The
// logger runs outside the sandbox and the kernel stops each exec until it has
// been read and decided, so what the agent does inside can neither forge nor
// suppress these lines.
//
//   exec PID PPID DECISION HEXPATH HEXARG... [...]
//   exit PID CODE | exit PID sig SIGNAL | exit PID sig ?
//
// DECISION is `a` (no rule matched: it ran), `dRULE:HEXTEXT` (refused by
// rule number RULE of the rules file, matched as TEXT) or
// `qRULE:ID:HEXTEXT` (held by an ask rule until personae answers ID).
// An argument cut at 4096 bytes ends in "~"; a trailing "..." means further
// arguments were left out. An exit line follows for each process that
// executed something ("sig ?": killed by a signal that could not be read).
import { constants } from 'node:os';

export type ExecVerdict =
  | { readonly kind: 'allow' }
  | { readonly kind: 'deny'; readonly rule: number; readonly matchedAs: string }
  | { readonly kind: 'ask'; readonly rule: number; readonly id: string; readonly matchedAs: string };

export interface ExecRecord {
  readonly pid: number;
  readonly ppid: number | undefined;
  readonly path: string;
  readonly argv: readonly string[];
  /** Some argument was cut or left out. */
  readonly truncated: boolean;
  readonly verdict: ExecVerdict;
}

export interface ExitRecord {
  readonly pid: number;
  /** The exit code, when it exited. */
  readonly code: number | undefined;
  /** The signal's name (SIGKILL) when one killed it; `unknown` when which one could not be seen. */
  readonly signal: string | undefined;
}

const SIGNAL_NAMES = new Map(Object.entries(constants.signals).map(([name, n]) => [n, name]));
const EXIT_RE = /^exit (\d+) (?:(\d+)|sig (\d+|\?))$/;

/** Parses one exit line; undefined for anything else. */
export function parseExitLine(line: string): ExitRecord | undefined {
  const m = EXIT_RE.exec(line.replace(/\r?\n$/, ''));
  if (!m) return undefined;
  const pid = Number(m[1]);
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  const code = m[2] === undefined ? undefined : Number(m[2]);
  const sig = m[3];
  const signal = sig === undefined ? undefined : sig === '?' ? 'unknown' : (SIGNAL_NAMES.get(Number(sig)) ?? `signal ${sig}`);
  return { pid, code, signal };
}

const HEX = /^(?:[0-9a-f]{2})*$/;

function decode(token: string): string | undefined {
  return HEX.test(token) ? Buffer.from(token, 'hex').toString('utf8') : undefined;
}

const VERDICT_RE = /^(?:a|d(\d{1,6}):((?:[0-9a-f]{2})*)|q(\d{1,6}):(\d{1,20}):((?:[0-9a-f]{2})*))$/;

function parseVerdict(token: string): ExecVerdict | undefined {
  const m = VERDICT_RE.exec(token);
  if (!m) return undefined;
  if (m[1] !== undefined) return { kind: 'deny', rule: Number(m[1]), matchedAs: decode(m[2] ?? '') ?? '' };
  if (m[3] !== undefined) return { kind: 'ask', rule: Number(m[3]), id: m[4] ?? '', matchedAs: decode(m[5] ?? '') ?? '' };
  return { kind: 'allow' };
}

/** Parses one line; undefined for anything that is not a well-formed record. */
export function parseExecLine(line: string): ExecRecord | undefined {
  const parts = line.replace(/\r?\n$/, '').split(' ');
  if (parts[0] !== 'exec' || parts.length < 5) return undefined;
  const pid = Number(parts[1]);
  const ppid = Number(parts[2]);
  const verdict = parseVerdict(parts[3] ?? '');
  const path = decode(parts[4] ?? '');
  if (!Number.isSafeInteger(pid) || pid <= 0 || !Number.isSafeInteger(ppid) || path === undefined || verdict === undefined) return undefined;
  const argv: string[] = [];
  let truncated = false;
  for (const raw of parts.slice(5)) {
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
  return { pid, ppid: ppid > 0 ? ppid : undefined, path, argv, truncated, verdict };
}

export interface ReadRecord {
  readonly pid: number;
  /** The tripwire's index in the tripwires file. */
  readonly trip: number;
  /** The hidden path (or the name inside a hidden directory) that was looked up, listed or opened. */
  readonly path: string;
  readonly op: 'lookup' | 'list' | 'open';
}

const READ_RE = /^read (\d+) (\d{1,3}) ((?:[0-9a-f]{2})+) (lookup|list|open)$/;

/** Parses one denied-read line (`read PID TRIP HEXPATH OP`); undefined for anything else. */
export function parseReadLine(line: string): ReadRecord | undefined {
  const m = READ_RE.exec(line.replace(/\r?\n$/, ''));
  if (!m) return undefined;
  const pid = Number(m[1]);
  const path = decode(m[3] ?? '');
  if (!Number.isSafeInteger(pid) || pid <= 0 || path === undefined) return undefined;
  return { pid, trip: Number(m[2]), path, op: m[4] as ReadRecord['op'] };
}
