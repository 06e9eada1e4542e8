// Claude Code-style permission rules: `Tool` or `Tool(specifier)`, e.g.
// `Bash(git push:*)`, `Edit(src/**)`, `WebFetch(domain:github.com)`,
// `mcp__server__tool`. This module parses and validates; matching lives in
// sandbox/policy.

export interface ToolRule {
  /** The tool name exactly as the agent reports it (Bash, Read, mcp__github__create_issue). */
  readonly tool: string;
  /** The text between the parentheses, or undefined for a bare tool name (matches every call). */
  readonly specifier: string | undefined;
  /** The rule as written, for `reason` in decisions. */
  readonly source: string;
}

const TOOL_NAME_RE = /^[A-Za-z][A-Za-z0-9_-]*$/;
// MCP tool names may use `*` wildcards after the `mcp__` prefix: `mcp__github__*`, `mcp__*`.
const MCP_NAME_RE = /^mcp__[A-Za-z0-9_*-]*$/;

function isToolName(name: string): boolean {
  return TOOL_NAME_RE.test(name) || MCP_NAME_RE.test(name);
}

export function parseToolRule(raw: string): ToolRule | string {
  if (typeof raw !== 'string' || raw.trim() === '') return 'must be a tool rule like Bash(npm test:*) or Read';
  const text = raw.trim();
  const open = text.indexOf('(');
  if (open === -1) {
    if (!isToolName(text)) return `${JSON.stringify(raw)} is not a tool name`;
    return { tool: text, specifier: undefined, source: text };
  }
  if (!text.endsWith(')')) return `${JSON.stringify(raw)} is missing its closing ")"`;
  const tool = text.slice(0, open);
  const specifier = text.slice(open + 1, -1).trim();
  if (!isToolName(tool)) return `${JSON.stringify(raw)} does not start with a tool name`;
  if (specifier === '') return `${JSON.stringify(raw)} has an empty specifier; write ${tool} alone to match every call`;
  if (specifier.includes('\0') || specifier.includes('\n')) return `${JSON.stringify(raw)} contains a control character`;
  return { tool, specifier: specifier === '*' ? undefined : specifier, source: text };
}

export function checkToolRule(raw: string): string | undefined {
  const parsed = parseToolRule(raw);
  return typeof parsed === 'string' ? parsed : undefined;
}
