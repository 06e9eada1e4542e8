// Types shared by the tool-rule evaluators.

export type RuleList = 'deny' | 'ask' | 'allow';
export type ExecutionMode = 'autonomous' | 'approve';

export interface ToolDecision {
  readonly decision: 'allow' | 'deny' | 'ask';
  /** Why: the rule with its list (`tools.deny: Bash(git push:*)`), the execution mode, or what was malformed. */
  readonly reason: string;
  /** The rule as written in the persona, when a rule decided. */
  readonly matched?: string;
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

export function ruleReason(list: RuleList, source: string): string {
  return `tools.${list}: ${source}`;
}
