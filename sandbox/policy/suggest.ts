// Learn a persona from what recorded sessions did: the narrowest grants that
// would have let them do it (`personae persona suggest SESSION...`).
// - network.allow: each host:port the agent tried to reach, allowed or not
//   (a learning run usually allows nothing and lets the proxy record);
// - filesystem.write: {workspace}/DIR for each top-level directory of the
//   workspace written into, or {workspace} when files were written at its
//   root or a directory was created there (a write grant must exist when a
//   session starts);
// - tools.allow: each program the agent ran as `Bash(prog:*)` (with its
//   subcommand for git, npm and the like), and each tool call as a rule.
// Left out on purpose, and listed: destinations reached in only one of
// several sessions, writes outside the workspace, persistence traps, IP
// targets, what the persona denies on purpose (network.deny, tools.deny),
// and what the agent adapter grants by itself. The persona's identity,
// hidden paths, credentials, deny lists and limits are kept. Pure.
import type { AuditEvent } from '../audit/event.js';
import type { Persona, PersonaInput } from '../../personas/schema.js';
import { parseShellCommand } from './shell-split.js';

export interface RecordedSession {
  readonly id: string;
  readonly workspace: string | null;
  readonly events: readonly AuditEvent[];
}

export interface SuggestInput {
  readonly sessions: readonly RecordedSession[];
  /** The persona the sessions ran as, when it is still installed. */
  readonly current?: Persona;
  /** Name of the suggested persona (default: the current one's, or the sessions'). */
  readonly name?: string;
  /** A destination must appear in this many sessions (default 2 when there are several, else 1). */
  readonly minSessions?: number;
}

export interface LeftOut {
  readonly what: string;
  readonly why: string;
}

export interface Suggestion {
  readonly persona: PersonaInput;
  /** A comment for each learned entry, by `section:value` (e.g. `network:api.github.com:443`). */
  readonly notes: ReadonlyMap<string, string>;
  readonly leftOut: readonly LeftOut[];
  readonly sessions: readonly string[];
}

/** Programs whose first argument names what they do (`git push`, `npm publish`). */
const SUBCOMMAND_TOOLS = new Set([
  'git', 'npm', 'npx', 'pnpm', 'yarn', 'bun', 'cargo', 'go', 'docker', 'podman', 'kubectl', 'helm', 'pip', 'pip3',
  'gh', 'terraform', 'make', 'apt', 'apt-get', 'brew', 'dotnet', 'mvn', 'gradle', 'poetry', 'uv',
]);
const FILE_INPUT_KEYS = ['file_path', 'notebook_path', 'path'];
const PLAIN_WORD_RE = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;

function basename(p: string): string {
  return p.split('/').filter((x) => x !== '').pop() ?? p;
}

/** `Bash(git push:*)`, `Bash(ls:*)` for a command's words; undefined when its program is not a plain word. */
export function commandRule(words: readonly string[]): string | undefined {
  const prog = words[0] === undefined ? undefined : basename(words[0]);
  if (prog === undefined || !PLAIN_WORD_RE.test(prog)) return undefined;
  const sub = words[1];
  if (SUBCOMMAND_TOOLS.has(prog) && sub !== undefined && PLAIN_WORD_RE.test(sub) && !sub.startsWith('-')) return `Bash(${prog} ${sub}:*)`;
  return `Bash(${prog}:*)`;
}

function inside(dir: string, p: string): string | undefined {
  const d = dir.endsWith('/') ? dir.slice(0, -1) : dir;
  if (p === d) return '';
  return p.startsWith(`${d}/`) ? p.slice(d.length + 1) : undefined;
}

class Tally {
  private readonly seen = new Map<string, { sessions: Set<string>; count: number; denied: number }>();
  add(key: string, session: string, denied = false): void {
    const t = this.seen.get(key) ?? { sessions: new Set<string>(), count: 0, denied: 0 };
    t.sessions.add(session);
    t.count++;
    if (denied) t.denied++;
    this.seen.set(key, t);
  }
  entries(): Array<[string, { sessions: Set<string>; count: number; denied: number }]> {
    return [...this.seen.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }
}

function times(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}

function describe(t: { sessions: Set<string>; count: number; denied: number }, total: number, what: string): string {
  const parts = [`${times(t.count, what)} in ${t.sessions.size} of ${times(total, 'session')}`];
  if (t.denied > 0) parts.push(t.denied === t.count ? 'denied when recorded' : `${t.denied} denied when recorded`);
  return parts.join(', ');
}

/** The tool rule for one recorded tool call, or a reason to leave it out. */
function toolCallRule(e: AuditEvent, workspace: string | null): string | LeftOut | undefined {
  const tool = e.tool;
  if (tool === null || tool === 'Shell') return undefined;
  const input = (e.detail.input ?? {}) as Record<string, unknown>;
  if (tool === 'Bash') return undefined; // handled per command, below
  if (tool === 'WebFetch' && typeof input.url === 'string') {
    try {
      return `WebFetch(domain:${new URL(input.url).hostname})`;
    } catch {
      return { what: `WebFetch ${input.url.slice(0, 80)}`, why: 'not a URL' };
    }
  }
  if ((tool === 'Task' || tool === 'Agent') && typeof input.subagent_type === 'string') return `${tool}(${input.subagent_type})`;
  const key = FILE_INPUT_KEYS.find((k) => typeof input[k] === 'string');
  if (key !== undefined && workspace !== null) {
    const p = input[key] as string;
    const rel = inside(workspace, p.startsWith('/') ? p : `${workspace}/${p}`);
    if (rel === undefined) return { what: `${tool} ${p}`, why: 'outside the workspace' };
    if (rel === '') return `${tool}(/)`;
    const [top, ...rest] = rel.split('/');
    return rest.length === 0 ? `${tool}(/${top ?? ''})` : `${tool}(/${top ?? ''}/**)`;
  }
  return tool;
}

function bashRules(command: string): string[] {
  const parsed = parseShellCommand(command);
  if ('error' in parsed) return [];
  return parsed.commands.map((c) => commandRule(c.words.map((w) => w.value))).filter((r): r is string => r !== undefined);
}

function matchesHost(pattern: string, host: string): boolean {
  const p = pattern.toLowerCase().replace(/:\d+$/, '');
  return p.startsWith('*.') ? host.endsWith(p.slice(1)) : host === p;
}

/** The narrowest persona that would have let `sessions` do what they did. */
export function suggestPersona(input: SuggestInput): Suggestion {
  const { sessions, current } = input;
  const total = sessions.length;
  const minSessions = input.minSessions ?? (total > 1 ? 2 : 1);
  const notes = new Map<string, string>();
  const leftOut: LeftOut[] = [];
  const net = new Tally();
  const writes = new Tally();
  const commands = new Tally();
  const tools = new Tally();
  const createdTops = new Set<string>();
  const rootWrites = new Set<string>();
  const outside = new Tally();
  const traps = new Set<string>();
  const adapterHosts = new Set<string>();
  const IP_RE = /^(\d{1,3}(\.\d{1,3}){3}|\[?[0-9a-f:]+\]?)$/i;
  for (const s of sessions) {
    const start = s.events.find((e) => e.kind === 'session.start');
    const workspace = s.workspace ?? (typeof start?.detail.workspace === 'string' ? start.detail.workspace : null);
    const startAllow = ((start?.detail.network as { allow?: unknown } | undefined)?.allow ?? []) as unknown[];
    for (const a of startAllow) if (typeof a === 'string' && !(current?.network.allow ?? []).includes(a)) adapterHosts.add(a);
    for (const e of s.events) {
      if (e.kind === 'net.connect' && e.target !== null) {
        const host = e.target.replace(/:\d+$/, '').replace(/^\[|\]$/g, '').toLowerCase();
        if ([...adapterHosts].some((p) => matchesHost(p, host))) continue;
        if (e.reason?.startsWith('network.deny')) { leftOut.push({ what: e.target, why: `denied on purpose (${e.reason})` }); continue; }
        if (IP_RE.test(host)) { leftOut.push({ what: e.target, why: 'an IP address: network rules name domains' }); continue; }
        net.add(e.target.toLowerCase(), s.id, e.decision === 'deny');
      } else if ((e.kind === 'fs.write' || e.kind === 'fs.delete') && e.target !== null) {
        if (e.reason?.startsWith('persistence trap')) { traps.add(e.target); continue; }
        const rel = workspace === null ? undefined : inside(workspace, e.target);
        if (rel === undefined || rel === '') { outside.add(e.target, s.id); continue; }
        const [top, ...rest] = rel.split('/');
        if (top === undefined) continue;
        if (rest.length === 0) {
          if (e.detail.op === 'mkdir') createdTops.add(top);
          else rootWrites.add(top);
        }
        writes.add(top, s.id);
      } else if (e.kind === 'exec') {
        const argv = Array.isArray(e.detail.argv) ? e.detail.argv.map(String) : [];
        const path = typeof e.detail.path === 'string' ? e.detail.path : argv[0] ?? '';
        if (path.startsWith('/run/personae/')) continue; // personae's own helpers inside the sandbox
        const rule = commandRule(argv.length > 0 ? argv : [path]);
        if (rule !== undefined) commands.add(rule, s.id, e.decision === 'deny');
      } else if (e.kind === 'tool.call') {
        if (e.reason?.startsWith('tools.deny')) { leftOut.push({ what: `${e.tool ?? '?'} ${e.target ?? ''}`.trim(), why: `denied on purpose (${e.reason})` }); continue; }
        const rules = e.tool === 'Bash' && typeof e.target === 'string'
          ? bashRules(typeof (e.detail.input as { command?: unknown } | undefined)?.command === 'string' ? String((e.detail.input as { command: string }).command) : e.target)
          : [toolCallRule(e, workspace)];
        for (const r of rules) {
          if (r === undefined) continue;
          if (typeof r === 'string') tools.add(r, s.id, e.decision === 'deny');
          else leftOut.push(r);
        }
      }
    }
  }

  const allow: string[] = [];
  for (const [target, t] of net.entries()) {
    if (t.sessions.size < minSessions) {
      leftOut.push({ what: target, why: `one-off destination (${describe(t, total, 'connection')})` });
      continue;
    }
    allow.push(target);
    notes.set(`network:${target}`, describe(t, total, 'connection'));
  }

  const write: string[] = [];
  const tops = writes.entries();
  const needRoot = tops.some(([top]) => createdTops.has(top) || rootWrites.has(top));
  if (needRoot) {
    write.push('{workspace}');
    const why = [...new Set([...createdTops].map((d) => `${d}/ created`).concat([...rootWrites].map((f) => `${f} written`)))].slice(0, 4).join(', ');
    notes.set('write:{workspace}', `${times(tops.reduce((n, [, t]) => n + t.count, 0), 'write')}; the whole workspace because ${why}`);
  } else {
    for (const [top, t] of tops) {
      write.push(`{workspace}/${top}`);
      notes.set(`write:{workspace}/${top}`, `${describe(t, total, 'write')}; must exist when a session starts`);
    }
  }
  for (const [p, t] of outside.entries()) leftOut.push({ what: p, why: `write outside the workspace (${describe(t, total, 'write')})` });
  for (const p of traps) leftOut.push({ what: p, why: 'persistence trap: name it in filesystem.allow_sensitive by hand if it is meant' });

  const toolAllow: string[] = [];
  for (const [rule, t] of [...commands.entries(), ...tools.entries()]) {
    if (toolAllow.includes(rule)) continue;
    toolAllow.push(rule);
    notes.set(`tools:${rule}`, describe(t, total, rule.startsWith('Bash(') ? 'run' : 'call'));
  }
  const denyTools = current?.tools.deny ?? [];

  const firstEvent = sessions.flatMap((s) => s.events)[0];
  const personaName = input.name ?? current?.name ?? firstEvent?.persona ?? 'suggested';
  const persona: PersonaInput = {
    version: 1,
    name: personaName,
    display_name: current?.display_name ?? personaName,
    owner: current?.owner ?? firstEvent?.on_behalf_of ?? 'unknown',
    purpose: current?.purpose ?? `Learned from ${times(total, 'recorded session')}.`,
    agent: current?.agent ?? ((firstEvent?.agent.kind ?? 'shell') as Persona['agent']),
    execution_mode: current === undefined || current.execution_mode === 'observe' ? 'approve' : current.execution_mode,
    ...(current?.expires === undefined ? {} : { expires: current.expires }),
    filesystem: {
      write,
      read_deny: [...(current?.filesystem.read_deny ?? [])],
      allow_sensitive: [...(current?.filesystem.allow_sensitive ?? [])],
    },
    network: { allow, deny: [...(current?.network.deny ?? [])] },
    credentials: { ...(current?.credentials ?? {}) },
    tools: { allow: toolAllow, ask: [...(current?.tools.ask ?? [])], deny: [...denyTools] },
    ...(current === undefined ? {} : { limits: { ...current.limits } }),
  };
  const seen = new Set<string>();
  const uniqueLeftOut = leftOut.filter((l) => {
    const k = `${l.what}\n${l.why}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  return { persona, notes, leftOut: uniqueLeftOut, sessions: sessions.map((s) => s.id) };
}
