// Decides one agent hook call (Claude Code's hook protocol) for one session:
// tool rules, approvals, limits, drift. The session is the one whose broker
// socket the call came on; what the payload claims about sessions is ignored.
import * as z from 'zod/mini';
import type { Persona } from '../../personas/schema.js';
import type { EmitEvent } from '../audit/event.js';
import { decideToolCall, type CompiledToolRules, type ToolDecision } from '../policy/tool-rules.js';
import type { Approvals } from './approvals.js';
import { codexRuleCalls, type RuleCall } from './codex.js';
import { DriftTracker } from './drift.js';
import { geminiEvent, geminiReply, geminiRuleCalls } from './gemini.js';

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
  hook_event_name: z.optional(z.string().check(z.maxLength(64))),
  session_id: z.optional(z.string().check(z.maxLength(200))),
  tool_name: z.optional(z.string().check(z.minLength(1), z.maxLength(512))),
  tool_input: z.optional(z.record(z.string(), z.unknown())),
  tool_use_id: z.optional(z.string().check(z.maxLength(200))),
  tool_response: z.optional(z.unknown()),
  error: z.optional(z.unknown()),
  cwd: z.optional(z.string().check(z.maxLength(4096))),
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

/**
 * One agent's hook protocol in the broker's terms. The broker speaks Claude
 * Code's (events PreToolUse/PostToolUse/SessionStart, rules in its tool
 * vocabulary, hookSpecificOutput answers); the persona's agent kind (not the
 * payload) says which dialect a session's hook calls use.
 */
interface Dialect {
  /** The agent's event name as the broker's. */
  event(event: string): string;
  /** The call as the persona's tool rules see it: usually one call, several when it touches several files or URLs. */
  ruleCalls(tool: string, input: Record<string, unknown>, payload: Record<string, unknown>): RuleCall[];
  reply(decision: 'allow' | 'deny', text: string): HookReply;
  /** Check that what ran (PostToolUse) is a call personae allowed: for agents whose other hooks may rewrite a call's input. */
  readonly checksRewrites: boolean;
}

function claudeReply(decision: 'allow' | 'deny', text: string): HookReply {
  const json = JSON.stringify({ hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: decision, permissionDecisionReason: text } });
  return decision === 'allow' ? { code: 0, body: json } : { code: 2, body: `${json}\t${text}` };
}

const CLAUDE: Dialect = { event: (e) => e, ruleCalls: (tool, input) => [{ tool, input }], reply: claudeReply, checksRewrites: false };
// Codex's hooks speak Claude Code's protocol; only its file tools need mapping.
const CODEX: Dialect = { event: (e) => e, ruleCalls: codexRuleCalls, reply: claudeReply, checksRewrites: false };
const GEMINI: Dialect = { event: geminiEvent, ruleCalls: geminiRuleCalls, reply: geminiReply, checksRewrites: true };

function dialectFor(agent: Persona['agent']): Dialect {
  return agent === 'codex' ? CODEX : agent === 'gemini' ? GEMINI : CLAUDE;
}

const STRICTNESS: Record<ToolDecision['decision'], number> = { allow: 0, ask: 1, deny: 2 };
const rank = (d: ToolDecision): number => STRICTNESS[d.decision] * 2 + (d.wouldBe === undefined ? 0 : 1);

export class HookHandler {
  private calls = 0;
  private readonly decidedIds = new Set<string>();
  private paused = false;
  private readonly drift: DriftTracker;
  private readonly dialect: Dialect;
  /** Inputs allowed and not yet seen in a PostToolUse, by tool (agents whose other hooks may rewrite inputs). */
  private readonly allowedInputs = new Map<string, number>();
  /** Tool calls a human approved because of an ask rule, until their PostToolUse (or an hour): they cover the execs that rule holds. */
  private readonly approvedRunning = new Map<string, { readonly rule: string; readonly approval: string; readonly by: string; readonly until: number }>();

  constructor(private readonly ctx: HookContext) {
    this.drift = new DriftTracker(ctx.persona.limits.drift_threshold);
    this.dialect = dialectFor(ctx.persona.agent);
  }

  /** Handles one hook call; never throws (a failure is a deny with an event). */
  async handle(event: string, raw: string): Promise<HookReply> {
    let payload: Payload;
    try {
      payload = PayloadSchema.parse(JSON.parse(raw));
    } catch {
      return this.reject(event, 'malformed hook payload', { bytes: raw.length });
    }
    switch (this.dialect.event(event)) {
      case 'PreToolUse':
        return this.preToolUse(payload);
      case 'PostToolUse':
      case 'PostToolUseFailure':
        return this.postToolUse(this.dialect.event(event), payload);
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
    const calls = this.dialect.ruleCalls(tool, input, p);
    let d = this.decide(calls, p.cwd);
    if (this.paused && d.decision === 'allow') d = { decision: 'ask', reason: 'session paused after drift' };
    if (calls.length !== 1 || calls[0]?.tool !== tool) Object.assign(base.detail, { judged_as: calls.map((c) => ({ tool: c.tool, target: targetOf(c.tool, c.input) })) });
    // Observe mode: allowed, and recorded as what a stricter persona would have decided.
    if (d.wouldBe !== undefined) Object.assign(base.detail, { would_be: d.wouldBe.decision, would_be_reason: d.wouldBe.reason, ...(d.wouldBe.matched ? { would_be_rule: d.wouldBe.matched } : {}) });
    this.ctx.emit({ kind: 'tool.call', ...base, decision: d.decision, reason: d.reason });
    let decision: 'allow' | 'deny' = d.decision === 'ask' ? 'deny' : d.decision;
    let reason = d.reason;
    if (d.decision === 'ask') {
      const { id, answer } = this.ctx.approvals.request(tool, target, d.reason);
      const a = await answer;
      decision = a.decision;
      reason = a.timedOut ? `no answer within limits.approval_timeout (${this.ctx.persona.limits.approval_timeout})` : `${a.decision === 'allow' ? 'approved' : 'denied'} by ${a.by}`;
      this.ctx.emit({ kind: 'approval', tool, target, decision, reason, detail: { approval: id, asked_because: d.reason, tool_use_id: p.tool_use_id ?? null } });
      if (decision === 'allow' && d.matched !== undefined && this.approvedRunning.size < 1000) {
        this.approvedRunning.set(p.tool_use_id ?? `approval:${id}`, { rule: d.matched, approval: id, by: a.by, until: Date.now() + 3_600_000 });
      }
    }
    const key = DriftTracker.key(tool, input);
    if (decision === 'deny') {
      this.noteFailure(key, tool, target);
      return this.dialect.reply('deny', oneLine(`personae denied this call (${reason}). Do not retry it; choose another approach or stop.`));
    }
    if (this.dialect.checksRewrites && this.allowedInputs.size < 10_000) this.allowedInputs.set(key, (this.allowedInputs.get(key) ?? 0) + 1);
    return this.dialect.reply('allow', oneLine(`personae: ${reason}`));
  }

  /** The strictest decision over every call the agent's call amounts to (deny beats ask beats allow). */
  private decide(calls: readonly RuleCall[], cwd: string | undefined): ToolDecision {
    let strictest: ToolDecision | undefined;
    for (const c of calls) {
      const where = c.cwd ?? cwd;
      const d = decideToolCall(this.ctx.rules, { tool: c.tool, input: c.input, ...(where ? { cwd: where } : {}) }, this.ctx.persona.execution_mode);
      // Among equals, a would-be decision (observe mode) is the stricter: it must not get lost.
      if (strictest === undefined || rank(d) > rank(strictest)) strictest = d;
      if (d.decision === 'deny') break;
    }
    return strictest ?? { decision: 'deny', reason: 'malformed input: nothing to decide' };
  }

  /** A running tool call a human approved because of this ask rule (it covers the execs the rule holds). */
  covering(rule: string): { approval: string; by: string } | undefined {
    const now = Date.now();
    for (const [key, a] of this.approvedRunning) {
      if (a.until < now) this.approvedRunning.delete(key);
      else if (a.rule === rule) return { approval: a.approval, by: a.by };
    }
    return undefined;
  }

  private postToolUse(event: string, p: Payload): HookReply {
    if (p.tool_use_id !== undefined) this.approvedRunning.delete(p.tool_use_id);
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
    if (this.dialect.checksRewrites) this.checkRan(key, tool, target);
    return { code: 0, body: '{}' };
  }

  /** A call ran (PostToolUse) with an input personae never allowed: another hook rewrote it after the decision. */
  private checkRan(key: string, tool: string, target: string): void {
    const n = this.allowedInputs.get(key) ?? 0;
    if (n > 1) this.allowedInputs.set(key, n - 1);
    else if (n === 1) this.allowedInputs.delete(key);
    else {
      this.ctx.emit({
        kind: 'bypass',
        tool,
        target,
        decision: 'deny',
        reason: 'a tool ran with an input personae did not allow (rewritten by another hook after the decision)',
        detail: {},
      });
    }
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
