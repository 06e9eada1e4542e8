// Decides one agent hook call (Claude Code's hook protocol) for one session:
// tool rules, approvals, limits, drift. The session is the one whose broker
// socket the call came on; what the payload claims about sessions is ignored.
import { z } from 'zod';
import type { Persona } from '../../personas/schema.js';
import type { EmitEvent } from '../audit/event.js';
import { decideToolCall, type CompiledToolRules } from '../policy/tool-rules.js';
import type { Approvals } from './approvals.js';
import { DriftTracker } from './drift.js';

export interface HookReply {
  /** 0: print `body` on stdout (hook JSON); 2: print `body` on stderr and block. */
  readonly code: 0 | 2;
  readonly body: string;
}

export interface HookContext {
  readonly persona: Persona;
  readonly emit: EmitEvent;
  readonly rules: CompiledToolRules;
  readonly approvals: Approvals;
  limit(name: string, reason: string): void;
  stop(reason: 'stopped' | 'limit' | 'failure'): void;
  /** The agent's hooks checked in (SessionStart). */
  onLive(): void;
}

const PayloadSchema = z.looseObject({
  hook_event_name: z.string().max(64).optional(),
  session_id: z.string().max(200).optional(),
  tool_name: z.string().min(1).max(512).optional(),
  tool_input: z.record(z.string(), z.unknown()).optional(),
  tool_use_id: z.string().max(200).optional(),
  tool_response: z.unknown().optional(),
  error: z.unknown().optional(),
  cwd: z.string().max(4096).optional(),
});
type Payload = z.infer<typeof PayloadSchema>;

const MAX_DETAIL_STRING = 4096;

function clip(v: unknown, depth = 0): unknown {
  if (typeof v === 'string') return v.length > MAX_DETAIL_STRING ? `${v.slice(0, MAX_DETAIL_STRING)}… (${v.length} chars)` : v;
  if (v === null || typeof v !== 'object' || depth > 6) return typeof v === 'object' && v !== null ? '[…]' : v;
  if (Array.isArray(v)) return v.slice(0, 50).map((x) => clip(x, depth + 1));
  return Object.fromEntries(Object.entries(v as Record<string, unknown>).slice(0, 50).map(([k, x]) => [k, clip(x, depth + 1)]));
}

/** What a tool call is about, in one line: the command, the path, the URL. */
export function targetOf(tool: string, input: Record<string, unknown>): string {
  const pick = (...keys: string[]): string | undefined => {
    for (const k of keys) if (typeof input[k] === 'string') return input[k];
    return undefined;
  };
  const t = pick('command', 'file_path', 'notebook_path', 'url', 'path', 'pattern', 'query', 'prompt') ?? JSON.stringify(input);
  const line = t.replace(/\s+/g, ' ').trim();
  return line.length > 500 ? `${line.slice(0, 500)}…` : line || tool;
}

function oneLine(s: string): string {
  return s.replace(/[\r\n]+/g, ' ').slice(0, 2000);
}

export class HookHandler {
  private calls = 0;
  private readonly decidedIds = new Set<string>();
  private paused = false;
  private readonly drift: DriftTracker;

  constructor(private readonly ctx: HookContext) {
    this.drift = new DriftTracker(ctx.persona.limits.drift_threshold);
  }

  /** Handles one hook call; never throws (a failure is a deny with an event). */
  async handle(event: string, raw: string): Promise<HookReply> {
    if (event === 'Shell') return this.shellCommand(raw);
    let payload: Payload;
    try {
      payload = PayloadSchema.parse(JSON.parse(raw));
    } catch {
      return this.reject(event, 'malformed hook payload', { bytes: raw.length });
    }
    switch (event) {
      case 'PreToolUse':
        return this.preToolUse(payload);
      case 'PostToolUse':
      case 'PostToolUseFailure':
        return this.postToolUse(event, payload);
      case 'SessionStart':
        this.ctx.onLive();
        this.ctx.emit({ kind: 'session.ready', target: 'hooks', reason: 'agent hooks checked in', detail: { agent_session: payload.session_id ?? null } });
        return { code: 0, body: '{}' };
      default:
        return { code: 0, body: '{}' };
    }
  }

  /** A call that could not be read: denied, and recorded. */
  reject(event: string, reason: string, detail: Record<string, unknown> = {}): HookReply {
    this.ctx.emit({ kind: 'tool.call', tool: null, target: event, decision: 'deny', reason, detail });
    return { code: 2, body: `personae denied this call: ${reason}` };
  }

  private async preToolUse(p: Payload): Promise<HookReply> {
    if (p.tool_name === undefined) return this.reject('PreToolUse', 'hook payload without tool_name');
    const tool = p.tool_name;
    const input = p.tool_input ?? {};
    const target = targetOf(tool, input);
    const base = { tool, target, detail: { input: clip(input), tool_use_id: p.tool_use_id ?? null, agent_session: p.session_id ?? null } };
    this.calls += 1;
    if (p.tool_use_id !== undefined && this.decidedIds.size < 100_000) this.decidedIds.add(p.tool_use_id);
    const max = this.ctx.persona.limits.max_tool_calls;
    if (max !== undefined && this.calls > max) {
      const reason = `limits.max_tool_calls: ${max}`;
      this.ctx.emit({ kind: 'tool.call', ...base, decision: 'deny', reason });
      this.ctx.limit('max_tool_calls', reason);
      return { code: 2, body: `personae denied this call: ${reason} reached; the session is stopping` };
    }
    let d = decideToolCall(this.ctx.rules, { tool, input, ...(p.cwd ? { cwd: p.cwd } : {}) }, this.ctx.persona.execution_mode);
    if (this.paused && d.decision === 'allow') d = { decision: 'ask', reason: 'session paused after drift' };
    this.ctx.emit({ kind: 'tool.call', ...base, decision: d.decision, reason: d.reason });
    let decision: 'allow' | 'deny' = d.decision === 'ask' ? 'deny' : d.decision;
    let reason = d.reason;
    if (d.decision === 'ask') {
      const { id, answer } = this.ctx.approvals.request(tool, target, d.reason);
      const a = await answer;
      decision = a.decision;
      reason = a.timedOut ? `no answer within limits.approval_timeout (${this.ctx.persona.limits.approval_timeout})` : `${a.decision === 'allow' ? 'approved' : 'denied'} by ${a.by}`;
      this.ctx.emit({ kind: 'approval', tool, target, decision, reason, detail: { approval: id, asked_because: d.reason } });
    }
    const key = DriftTracker.key(tool, input);
    if (decision === 'deny') {
      this.noteFailure(key, tool, target);
      const text = oneLine(`personae denied this call (${reason}). Do not retry it; choose another approach or stop.`);
      const json = JSON.stringify({ hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: 'deny', permissionDecisionReason: text } });
      return { code: 2, body: `${json}\t${text}` };
    }
    return {
      code: 0,
      body: JSON.stringify({ hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: 'allow', permissionDecisionReason: oneLine(`personae: ${reason}`) } }),
    };
  }

  /**
   * Shell-level interception: a `sh -c`/`bash -c` command string inside the
   * sandbox, whatever the agent. Only deny rules stop it here (allow and ask
   * are the agent-level hook's business); a command that might match a deny
   * rule once expanded is refused too.
   */
  private shellCommand(command: string): HookReply {
    const d = decideToolCall(this.ctx.rules, { tool: 'Bash', input: { command } }, 'autonomous');
    const denied = d.decision === 'deny' || (d.decision === 'ask' && d.reason.startsWith('tools.deny'));
    if (!denied) return { code: 0, body: '{}' };
    const target = targetOf('Bash', { command });
    this.ctx.emit({ kind: 'tool.call', tool: 'Shell', target, decision: 'deny', reason: d.reason, detail: { layer: 'shell', command: clip(command) } });
    this.noteFailure(DriftTracker.key('Shell', command), 'Shell', target);
    return { code: 2, body: oneLine(`denied by the persona (${d.reason})`) };
  }

  private postToolUse(event: string, p: Payload): HookReply {
    const tool = p.tool_name ?? 'unknown';
    const input = p.tool_input ?? {};
    const target = targetOf(tool, input);
    const resp = p.tool_response as Record<string, unknown> | undefined;
    const failed = event === 'PostToolUseFailure' || p.error !== undefined || (typeof resp === 'object' && resp !== null && (resp.success === false || resp.is_error === true || typeof resp.error === 'string'));
    this.ctx.emit({
      kind: 'tool.result',
      tool,
      target,
      decision: null,
      reason: failed ? 'failed' : 'ok',
      detail: { tool_use_id: p.tool_use_id ?? null, ok: !failed, response: clip(p.tool_response ?? p.error ?? null) },
    });
    const key = DriftTracker.key(tool, input);
    if (failed) this.noteFailure(key, tool, target);
    else this.drift.succeeded(key);
    return { code: 0, body: '{}' };
  }

  private noteFailure(key: string, tool: string, target: string): void {
    const v = this.drift.failed(key);
    if (!v.crossed) return;
    const action = this.ctx.persona.limits.on_drift;
    this.ctx.emit({
      kind: 'drift',
      tool,
      target,
      decision: 'deny',
      reason: `the same failing call ${v.count} times (limits.drift_threshold: ${this.ctx.persona.limits.drift_threshold}); on_drift: ${action}`,
      detail: { count: v.count, action },
    });
    if (action === 'stop') this.ctx.limit('drift', `limits.on_drift: stop after ${v.count} identical failing calls`);
    else this.paused = true;
  }

  decided(toolUseId: string): boolean {
    return this.decidedIds.has(toolUseId);
  }

  get toolCalls(): number {
    return this.calls;
  }
}
