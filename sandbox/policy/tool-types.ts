// Types shared by the tool-rule evaluators.

export type RuleList = 'deny' | 'ask' | 'allow';
export type ExecutionMode = 'autonomous' | 'approve' | 'observe';

export interface ToolDecision {
  readonly decision: 'allow' | 'deny' | 'ask';
  /** Why: the rule with its list (`tools.deny: Bash(git push:*)`), the execution mode, or what was malformed. */
  readonly reason: string;
  /** The rule as written in the persona, when a rule decided. */
  readonly matched?: string;
  /** Observe mode: what approve mode would have decided instead of this allow. */
  readonly wouldBe?: { readonly decision: 'ask'; readonly reason: string; readonly matched?: string };
}

export interface ToolCall {
  readonly tool: string;
  readonly input: Record<string, unknown>;
  /** The agent's working directory, used to resolve relative paths. Defaults to the workspace. */
  readonly cwd?: string;
}

/** Inputs longer than this (1 MiB) are refused rather than evaluated. */
export const MAX_INPUT_STRING = 1024 * 1024;

export function byMode(mode: ExecutionMode): ToolDecision {
  return mode === 'autonomous'
    ? { decision: 'allow', reason: 'execution_mode: autonomous' }
    : { decision: 'ask', reason: 'execution_mode: approve' };
}

/**
 * Observe mode, from the decision approve mode made: what it would ask about
 * is allowed and says so (`wouldBe`); allow and deny stand, and so does an
 * ask that exists because the call might match a deny rule once expanded:
 * observe never weakens a deny rule.
 */
export function observed(strict: ToolDecision): ToolDecision {
  if (strict.decision !== 'ask' || strict.reason.startsWith('tools.deny')) return strict;
  return {
    decision: 'allow',
    reason: `execution_mode: observe (would ask: ${strict.reason})`,
    wouldBe: { decision: 'ask', reason: strict.reason, ...(strict.matched === undefined ? {} : { matched: strict.matched }) },
  };
}

export function ruleReason(list: RuleList, source: string): string {
  return `tools.${list}: ${source}`;
}
