// Evaluate a persona's Claude Code-style tool rules for one tool call.
//
// deny beats ask beats allow; a call no rule matches follows the execution
// mode (autonomous: allow, approve: ask). Observe decides as approve, then
// allows what approve would ask about, saying so (`wouldBe`; see
// tool-types.ts `observed`). Per tool:
//   Bash                         tool-bash.ts (split, unwrap, prefix/wildcard rules)
//   Read/Edit families           tool-paths.ts (gitignore-style paths, path-glob.ts)
//   WebFetch(domain:x)           the URL's host: exact, `*.x` for subdomains,
//                                `*` for all; deny/ask rules also cover
//                                subdomains of an exact domain
//   mcp__server / __tool / __*   the server's tools, one tool, a wildcard
//   Task(name), Agent(name)      the subagent_type
//   anything else                the bare tool name
// A specifier this module cannot interpret (`WebSearch(foo)`, `Skill(x)`,
// `WebFetch(https://x/*)`) matches EVERY call of that tool when it is a deny or
// ask rule and none when it is an allow rule; so does a rule that fails to
// parse (every call of every tool, when even its tool name is unreadable).
// Such rules are listed in `errors`. Malformed calls are denied, and this
// module never throws.

import { parseToolRule } from '../../personas/tool-rule.js';
import { compileBashRule, decideBash, wildcardMatch } from './tool-bash.js';
import type { BashRule } from './tool-bash.js';
import { compilePathRule, decidePathTool, isFileTool, pathRuleApplies } from './tool-paths.js';
import type { PathRule } from './tool-paths.js';
import { normalizeAbsolute } from './path-glob.js';
import { MAX_INPUT_STRING, byMode, observed, ruleReason } from './tool-types.js';
import type { ExecutionMode, RuleList, ToolCall, ToolDecision } from './tool-types.js';

export type { ExecutionMode, RuleList, ToolCall, ToolDecision } from './tool-types.js';

export interface ToolRuleLists {
  readonly allow: readonly string[];
  readonly ask: readonly string[];
  readonly deny: readonly string[];
}

export interface ToolRuleContext {
  /** Absolute workspace path: the project root and the default cwd. */
  readonly workspace: string;
  /** Absolute persona home, for `~/` patterns. */
  readonly home: string;
}

type Other =
  | { readonly kind: 'tool' } // bare name, or a specifier we cannot interpret (see the file comment)
  | { readonly kind: 'domain'; readonly domain: string }
  | { readonly kind: 'field'; readonly field: string; readonly value: string } // Task(explore): input.subagent_type
  | { readonly kind: 'anything' }; // a rule whose tool name is unreadable

interface OtherRule {
  readonly list: RuleList;
  readonly source: string;
  readonly tool: string;
  readonly specifier: string | undefined;
  readonly target: Other;
}

export interface CompiledToolRules {
  readonly ctx: ToolRuleContext;
  readonly bash: readonly BashRule[];
  readonly paths: readonly PathRule[];
  readonly other: readonly OtherRule[];
  /** Rules that could not be compiled, as `tools.deny[2]: message`. */
  readonly errors: readonly string[];
}

const LISTS: readonly RuleList[] = ['deny', 'ask', 'allow'];
const MAX_TOOL_NAME = 512;

export function compileToolRules(tools: ToolRuleLists, ctx: ToolRuleContext): CompiledToolRules {
  const base = { workspace: normalizeAbsolute(ctx.workspace), home: normalizeAbsolute(ctx.home) };
  const bash: BashRule[] = [];
  const paths: PathRule[] = [];
  const other: OtherRule[] = [];
  const errors: string[] = [];
  for (const list of LISTS) {
    const raws = Array.isArray(tools[list]) ? tools[list] : [];
    raws.forEach((raw, index) => {
      const where = `tools.${list}[${index}]`;
      const parsed = parseToolRule(raw);
      if (typeof parsed === 'string') {
        errors.push(`${where}: ${parsed}`);
        if (list === 'allow') return;
        // An unreadable deny/ask rule still restricts: all calls of its tool, or of every tool.
        const source = typeof raw === 'string' ? raw.trim() : String(raw);
        const tool = /^([A-Za-z][A-Za-z0-9_-]*)(\(|$)/.exec(source)?.[1];
        if (tool === 'Bash') bash.push(compileBashRule(list, source, undefined));
        else if (tool !== undefined && isFileTool(tool)) paths.push({ list, source, tool, matcher: undefined });
        else other.push({ list, source, tool: tool ?? '', specifier: undefined, target: tool === undefined ? { kind: 'anything' } : { kind: 'tool' } });
        return;
      }
      const { tool, specifier, source } = parsed;
      if (tool === 'Bash') {
        bash.push(compileBashRule(list, source, specifier));
      } else if (isFileTool(tool)) {
        const rule = compilePathRule(list, source, tool, specifier, base);
        if ('error' in rule) {
          errors.push(`${where}: ${rule.error}`);
          if (list !== 'allow') paths.push({ list, source, tool, matcher: undefined });
        } else paths.push(rule);
      } else if (tool === 'WebFetch' && specifier !== undefined && specifier.startsWith('domain:')) {
        const domain = normalizeHost(specifier.slice('domain:'.length));
        other.push({ list, source, tool, specifier, target: { kind: 'domain', domain } });
      } else if ((tool === 'Task' || tool === 'Agent') && specifier !== undefined) {
        other.push({ list, source, tool, specifier, target: { kind: 'field', field: 'subagent_type', value: specifier } });
      } else {
        if (specifier !== undefined) {
          const effect = list === 'allow' ? 'the rule never matches' : 'it matches every call of the tool';
          errors.push(`${where}: ${JSON.stringify(source)}: the specifier is not understood; ${effect}`);
          if (list === 'allow') return;
        }
        other.push({ list, source, tool, specifier, target: { kind: 'tool' } });
      }
    });
  }
  return { ctx: base, bash, paths, other, errors };
}

function normalizeHost(host: string): string {
  return host.trim().toLowerCase().replace(/\.+$/, '');
}

/** `mcp__server` covers the server's tools; `*` is a wildcard; anything else is exact. */
function toolNameMatches(ruleTool: string, callTool: string): boolean {
  if (ruleTool.includes('*')) return wildcardMatch(ruleTool, callTool);
  if (ruleTool === callTool) return true;
  return ruleTool.startsWith('mcp__') && ruleTool.indexOf('__', 5) === -1 && callTool.startsWith(`${ruleTool}__`);
}

function hostMatches(rule: string, host: string, list: RuleList): boolean {
  if (rule === '*') return true;
  if (rule.startsWith('*.')) return host.endsWith(rule.slice(1)) || (list !== 'allow' && host === rule.slice(2));
  return host === rule || (list !== 'allow' && host.endsWith(`.${rule}`));
}

function otherMatches(rule: OtherRule, tool: string, input: Record<string, unknown>): boolean | { error: string } {
  if (rule.target.kind === 'anything') return true;
  if (!toolNameMatches(rule.tool, tool)) return false;
  if (rule.target.kind === 'tool') return true;
  if (rule.target.kind === 'field') return input[rule.target.field] === rule.target.value;
  const url = input.url;
  if (typeof url !== 'string' || url.length > MAX_INPUT_STRING) return { error: 'malformed input: WebFetch.url must be a string' };
  let host: string;
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return { error: 'malformed input: WebFetch.url must be http(s)' };
    host = normalizeHost(parsed.hostname);
  } catch {
    return { error: 'malformed input: WebFetch.url is not a valid URL' };
  }
  return hostMatches(rule.target.domain, host, rule.list);
}

function decideOther(rules: readonly OtherRule[], call: ToolCall, mode: ExecutionMode): ToolDecision {
  for (const list of LISTS) {
    for (const rule of rules) {
      if (rule.list !== list) continue;
      const m = otherMatches(rule, call.tool, call.input);
      if (typeof m === 'object') return { decision: 'deny', reason: m.error };
      if (m) return { decision: list, reason: ruleReason(list, rule.source), matched: rule.source };
    }
  }
  return byMode(mode);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Observe mode: decided as approve mode would, then `observed`. A command that
 * only might match a deny rule the exec logger decides goes on, as in
 * autonomous mode (each program it starts is decided at its exec), with what
 * approve mode would have done on the record.
 */
function observeCall(compiled: CompiledToolRules, call: ToolCall): ToolDecision {
  const strict = decideToolCall(compiled, call, 'approve');
  if (strict.decision === 'ask' && strict.reason.startsWith('tools.deny')) {
    const unattended = decideToolCall(compiled, call, 'autonomous');
    if (unattended.decision === 'allow' && unattended.reason.endsWith('decided at each exec')) {
      return { ...unattended, reason: `execution_mode: observe; ${unattended.reason}`, wouldBe: { decision: 'ask', reason: strict.reason, ...(strict.matched === undefined ? {} : { matched: strict.matched }) } };
    }
  }
  return observed(strict);
}

export function decideToolCall(compiled: CompiledToolRules, call: ToolCall, mode: ExecutionMode): ToolDecision {
  if (mode === 'observe') return observeCall(compiled, call);
  try {
    if (!isRecord(call)) return { decision: 'deny', reason: 'malformed input: the tool call must be an object' };
    const { tool, input } = call;
    if (typeof tool !== 'string' || tool === '' || tool.length > MAX_TOOL_NAME) {
      return { decision: 'deny', reason: 'malformed input: the tool name must be a non-empty string' };
    }
    if (!isRecord(input)) return { decision: 'deny', reason: `malformed input: ${tool} input must be an object` };
    if (mode !== 'autonomous' && mode !== 'approve') return { decision: 'ask', reason: `unknown execution_mode: ${String(mode)}` };
    const cwd = typeof call.cwd === 'string' && call.cwd.startsWith('/') && call.cwd.length <= 4096
      ? normalizeAbsolute(call.cwd)
      : compiled.ctx.workspace;
    // Rules whose tool name was unreadable apply to every tool, before anything else.
    const anything = compiled.other.filter((r) => r.target.kind === 'anything');
    const strictest = anything.find((r) => r.list === 'deny') ?? anything.find((r) => r.list === 'ask');
    if (strictest !== undefined) {
      return { decision: strictest.list === 'deny' ? 'deny' : 'ask', reason: ruleReason(strictest.list, strictest.source), matched: strictest.source };
    }
    if (tool === 'Bash') return decideBash(compiled.bash, input.command, mode);
    if (isFileTool(tool)) {
      const rules = compiled.paths.filter((r) => pathRuleApplies(r.tool, tool));
      return decidePathTool(rules, tool, input, cwd, compiled.ctx.home, mode);
    }
    return decideOther(compiled.other, { ...call, tool, input }, mode);
  } catch (err) {
    return { decision: 'deny', reason: `internal error while evaluating tool rules: ${err instanceof Error ? err.message : String(err)}` };
  }
}
