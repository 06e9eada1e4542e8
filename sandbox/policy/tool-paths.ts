// File tools. As in Claude Code, Edit rules apply to every tool that edits
// files and Read rules to every tool that reads them:
//   edit family: Edit, Write, MultiEdit, NotebookEdit. A rule naming any of
//     them (`Edit(src/**)`, `Write(src/**)`) applies to all four, since each
//     can do what the others do.
//   read family: Read, Glob, Grep, LS, NotebookRead. A `Read(...)` rule applies
//     to all five; a `Grep(...)`/`Glob(...)`/`LS(...)` rule only to its tool.
// The checked path is `file_path` (Read, Edit, Write, MultiEdit),
// `notebook_path` (NotebookEdit, NotebookRead), `path` (LS, Grep; default the
// cwd) and, for Glob, the directory the search starts from: `path` joined with
// the literal leading directories of `pattern` (`../../etc/*` starts at
// `../../etc`). A searched or listed directory D is matched as D and as an
// entry directly inside D, so `Read(./secrets/**)` also refuses `LS secrets`.
// What a search finds deeper inside D is not judged here: the sandbox hides
// denied paths.

import { compilePathPattern, resolveInputPath } from './path-glob.js';
import type { PathMatcher, PathPatternContext } from './path-glob.js';
import { byMode, ruleReason } from './tool-types.js';
import type { ExecutionMode, RuleList, ToolDecision } from './tool-types.js';

export const EDIT_TOOLS: ReadonlySet<string> = new Set(['Edit', 'Write', 'MultiEdit', 'NotebookEdit']);
export const READ_TOOLS: ReadonlySet<string> = new Set(['Read', 'Glob', 'Grep', 'LS', 'NotebookRead']);

export interface PathRule {
  readonly list: RuleList;
  readonly source: string;
  readonly tool: string;
  /** Undefined for a bare rule, which matches every call of the tools it applies to. */
  readonly matcher: PathMatcher | undefined;
}

export function isFileTool(tool: string): boolean {
  return EDIT_TOOLS.has(tool) || READ_TOOLS.has(tool);
}

/** Whether a rule naming `ruleTool` applies to a call of `callTool`. */
export function pathRuleApplies(ruleTool: string, callTool: string): boolean {
  if (ruleTool === callTool) return true;
  if (EDIT_TOOLS.has(ruleTool)) return EDIT_TOOLS.has(callTool);
  return ruleTool === 'Read' && READ_TOOLS.has(callTool);
}

export function compilePathRule(
  list: RuleList,
  source: string,
  tool: string,
  specifier: string | undefined,
  ctx: PathPatternContext,
): PathRule | { error: string } {
  if (specifier === undefined) return { list, source, tool, matcher: undefined };
  const matcher = compilePathPattern(specifier, ctx, { anywhere: list !== 'allow' });
  return 'error' in matcher ? matcher : { list, source, tool, matcher };
}

interface Target {
  readonly path: string;
  readonly directory: boolean;
}

const GLOB_CHARS = /[*?[{]/;

function targetsOf(
  tool: string,
  input: Record<string, unknown>,
  cwd: string,
  home: string,
): { targets: Target[] } | { error: string } {
  const one = (field: string, directory: boolean, fallback?: string): { targets: Target[] } | { error: string } => {
    const raw = input[field] ?? fallback;
    const r = resolveInputPath(raw, cwd, home);
    return 'error' in r ? { error: `malformed input: ${tool}.${field} ${r.error}` } : { targets: [{ path: r.path, directory }] };
  };
  switch (tool) {
    case 'NotebookEdit':
    case 'NotebookRead':
      return one('notebook_path', false);
    case 'LS':
    case 'Grep':
      return one('path', true, cwd);
    case 'Glob': {
      const pattern = input.pattern;
      if (typeof pattern !== 'string' || pattern === '') return { error: `malformed input: ${tool}.pattern must be a non-empty string` };
      const dir = one('path', true, cwd);
      if ('error' in dir) return dir;
      const root = (dir.targets[0] as Target).path;
      const literal: string[] = [];
      for (const name of pattern.split('/')) {
        if (GLOB_CHARS.test(name)) break;
        literal.push(name);
      }
      const whole = literal.length === pattern.split('/').length;
      const lead = (whole ? literal.slice(0, -1) : literal).join('/');
      const start = pattern.startsWith('/') ? lead || '/' : lead === '' ? root : `${root}/${lead}`;
      const r = resolveInputPath(start, root, home);
      if ('error' in r) return { error: `malformed input: ${tool}.pattern ${r.error}` };
      const targets: Target[] = [{ path: r.path, directory: true }];
      if (whole) {
        const file = resolveInputPath(pattern.startsWith('/') ? pattern : `${root}/${pattern}`, root, home);
        if ('path' in file) targets.push({ path: file.path, directory: false });
      }
      return { targets };
    }
    default:
      return one('file_path', false);
  }
}

function ruleMatches(rule: PathRule, target: Target): boolean {
  if (rule.matcher === undefined) return true;
  if (rule.matcher.matches(target.path)) return true;
  return target.directory && rule.matcher.matches(`${target.path === '/' ? '' : target.path}/\u0000`);
}

export function decidePathTool(
  rules: readonly PathRule[],
  tool: string,
  input: Record<string, unknown>,
  cwd: string,
  home: string,
  mode: ExecutionMode,
): ToolDecision {
  const found = targetsOf(tool, input, cwd, home);
  if ('error' in found) return { decision: 'deny', reason: found.error };
  const hit = (list: RuleList, target: Target): PathRule | undefined =>
    rules.find((r) => r.list === list && ruleMatches(r, target));
  for (const list of ['deny', 'ask'] as const) {
    for (const target of found.targets) {
      const rule = hit(list, target);
      if (rule !== undefined) return { decision: list, reason: ruleReason(list, rule.source), matched: rule.source };
    }
  }
  const allowed = found.targets.map((t) => hit('allow', t));
  const first = allowed[0];
  if (first !== undefined && allowed.every((r) => r !== undefined)) {
    return { decision: 'allow', reason: ruleReason('allow', first.source), matched: first.source };
  }
  return byMode(mode);
}
