// The Gemini CLI adapter (@google/gemini-cli, a Node bundle). Observed with
// Gemini CLI 0.61.0 (see test/fixtures/AGENT-CLI-NOTES.md):
//  - Gemini CLI has command hooks in settings.json: BeforeTool / AfterTool /
//    SessionStart (timeouts in ms), stdin payload `{session_id, cwd,
//    hook_event_name, timestamp, tool_name, tool_input, mcp_context?}` with
//    its own tool names (run_shell_command, write_file, replace, read_file,
//    web_fetch, mcp_<server>_<tool>...), answered with `{"decision":"deny",
//    "reason"}` on stdout or exit 2 + stderr. Claude's hookSpecificOutput is
//    ignored. The broker translates both ways (geminiRuleCalls, geminiReply).
//  - Its hooks fail OPEN: exit 1, non-JSON output and a timeout all let the
//    call run. The personae hook turns each of its own failures into exit 2.
//  - Hooks from settings only run in a trusted folder, so the workspace is
//    trusted (GEMINI_CLI_TRUST_WORKSPACE=true), which also loads the
//    workspace's `.gemini/settings.json` above the user settings. A workspace
//    file can then switch hooks off (hooksConfig.enabled / disabled) or add a
//    hook that rewrites a tool's input after personae allowed it (both seen).
//    Gemini reads settings once at start, so personae refuses to start when
//    the workspace's settings configure hooks, and the broker flags an
//    AfterTool whose input differs from every input it allowed (`bypass`).
//  - The persona's settings (hooks, API-key auth, no update checks or usage
//    statistics) are mounted read-only as `$GEMINI_CLI_HOME/.gemini/settings.json`;
//    its extensions folder is an empty read-only folder (an extension could
//    bring its own hooks).
//  - --approval-mode yolo never waits on a prompt; the hooks decide.
//  - SessionStart must check in within HOOKS_LIVE_MS or the session stops.
import { AGENT_API_HOSTS } from '../../personas/agent-hosts.js';
import { existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Persona } from '../../personas/schema.js';
import { INSIDE } from '../launch/plan.js';
import type { AdapterPlan, AdapterSession, AgentAdapter } from './adapter.js';
import { AgentCommandError, baseUrlHost, findAgentInstall, HOOKS_LIVE_MS, hooksLiveWatch, readAgentVersion } from './agent-common.js';
import type { RuleCall } from './codex.js';

/** Where the Gemini CLI package (bundle/) and the Node running it are mounted in the sandbox. */
const INSIDE_GEMINI = '/run/personae/gemini';
const INSIDE_BIN = '/run/personae/agent-bin';
/** The API domain Gemini needs with an API key (Google sign-in would add oauth2/cloudcode-pa.googleapis.com). */
export const GEMINI_API_DOMAINS = AGENT_API_HOSTS.gemini;
/** The credential Gemini CLI reads with API-key auth (GOOGLE_API_KEY for Vertex AI). */
export const GEMINI_CREDENTIAL_ENV = 'GEMINI_API_KEY';
/** Every personae hook carries this name: disabling it by name disables SessionStart too, which the check-in catches. */
export const GEMINI_HOOK_NAME = 'personae';

const MISSING = 'Gemini CLI is not installed: npm install -g @google/gemini-cli (or set PERSONAE_GEMINI_BIN)';

/** From the `gemini` launcher (bundle/gemini.js, maybe through a symlink) or the package folder, the package folder. */
export function resolveGeminiPackage(found: string): string | undefined {
  const real = realpathSync(found);
  const candidates = [real, path.dirname(path.dirname(real))];
  for (const dir of candidates) {
    if (existsSync(path.join(dir, 'bundle', 'gemini.js')) && existsSync(path.join(dir, 'package.json'))) return dir;
  }
  return undefined;
}

/** Finds Gemini CLI: $PERSONAE_GEMINI_BIN, PATH, then personae's own dependency. */
export function findGeminiPackage(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return findAgentInstall('gemini', env, resolveGeminiPackage);
}

/** The settings Gemini CLI gets: hooks on every tool, API-key auth, no update checks, usage statistics or telemetry. */
export function geminiSettings(hookTimeoutSeconds: number): Record<string, unknown> {
  const hook = (event: string, timeoutMs: number, matcher?: string): unknown[] => [
    { ...(matcher ? { matcher } : {}), hooks: [{ type: 'command', name: GEMINI_HOOK_NAME, command: `${INSIDE.hookCommand} ${event}`, timeout: timeoutMs }] },
  ];
  return {
    security: { auth: { selectedType: 'gemini-api-key' } },
    general: { enableAutoUpdate: false, enableAutoUpdateNotification: false },
    privacy: { usageStatisticsEnabled: false },
    telemetry: { enabled: false },
    hooksConfig: { enabled: true },
    hooks: {
      SessionStart: hook('SessionStart', 10_000),
      BeforeTool: hook('BeforeTool', hookTimeoutSeconds * 1000, '.*'),
      AfterTool: hook('AfterTool', 10_000, '.*'),
    },
  };
}

/** Strips // and /* *\/ comments (Gemini reads its settings as JSON with comments), leaving strings alone. */
function stripJsonComments(text: string): string {
  return text.replace(/("(?:\\.|[^"\\])*")|\/\/[^\n]*|\/\*[\s\S]*?\*\//g, (m, str: string | undefined) => str ?? '');
}

/**
 * Why a workspace cannot run under a gemini persona, or undefined. Its
 * `.gemini/settings.json` is loaded above the persona's settings (the folder
 * must be trusted for hooks to run), so hook settings there could switch
 * personae's hooks off or rewrite a call after it was allowed.
 */
export function geminiWorkspaceProblem(workspace: string): string | undefined {
  const file = path.join(workspace, '.gemini', 'settings.json');
  if (!existsSync(file)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(stripJsonComments(readFileSync(file, 'utf8')));
  } catch {
    return `${file} is not valid JSON; personae cannot tell whether it disables its hooks`;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const keys = ['hooks', 'hooksConfig'].filter((k) => k in parsed);
  if (keys.length > 0) return `${file} configures ${keys.join(' and ')}, which would override personae's hooks; remove them`;
  return undefined;
}

/** Subcommands that manage Gemini CLI itself rather than run an agent. */
const OTHER_SUBCOMMANDS = new Set(['mcp', 'extensions', 'extension', 'skills', 'skill', 'hooks', 'hook', 'gemma']);
/** Flags personae sets itself or that would weaken interception. */
const FORBIDDEN_FLAGS = ['-y', '--yolo', '--approval-mode', '-s', '--sandbox', '-e', '--extensions', '--admin-policy', '--acp', '--experimental-acp'];
const VALUE_FLAGS = new Set([
  '-m', '--model', '-p', '--prompt', '-i', '--prompt-interactive', '-w', '--worktree', '--policy', '--allowed-mcp-server-names',
  '--allowed-tools', '-r', '--resume', '--session-file', '--session-id', '--delete-session', '--include-directories', '-o', '--output-format',
]);

/** Adds personae's flags to a `gemini ...` command; refuses flags and subcommands that would weaken interception. */
export function geminiCommand(command: readonly string[]): string[] {
  const [bin, ...args] = command;
  if (bin === undefined || path.basename(bin) !== 'gemini') {
    throw new AgentCommandError('a gemini persona runs Gemini CLI: the command must start with gemini');
  }
  let first: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (a === '--') break;
    const bad = FORBIDDEN_FLAGS.find((f) => a === f || a.startsWith(`${f}=`));
    if (bad !== undefined) throw new AgentCommandError(`${a} is set by personae or would weaken interception for a gemini persona; remove it from the command`);
    if (VALUE_FLAGS.has(a)) {
      i++;
      continue;
    }
    if (first === undefined && !a.startsWith('-')) first = a;
  }
  if (first !== undefined && OTHER_SUBCOMMANDS.has(first)) {
    throw new AgentCommandError(`gemini ${first} manages Gemini CLI itself; a gemini persona runs gemini [prompt] or gemini -p`);
  }
  return ['gemini', '--approval-mode', 'yolo', ...args];
}

/** `gemini --version` prints `0.61.0`; it creates ~/.gemini, so it runs with a throw-away home. */
export function readGeminiVersion(pkg: string, node: string = process.execPath): Promise<string | null> {
  return readAgentVersion(node, [path.join(pkg, 'bundle', 'gemini.js'), '--version'], ['GEMINI_CLI_HOME'], 20_000, { GEMINI_CLI_NO_RELAUNCH: 'true' });
}

export function geminiAdapter(
  _persona: Persona,
  opts: { workspace: string; personaHome: string; hookTimeoutSeconds: number; env?: NodeJS.ProcessEnv },
): AgentAdapter {
  const env = opts.env ?? process.env;
  const pkg = findGeminiPackage(env);
  const node = realpathSync(process.execPath);
  let version: string | null | undefined;
  return {
    kind: 'gemini',
    async version() {
      if (version !== undefined) return version;
      if (!pkg) throw new AgentCommandError(MISSING);
      version = await readGeminiVersion(pkg, node);
      return version;
    },
    async prepare({ session, dir }): Promise<AdapterPlan> {
      if (!pkg) throw new AgentCommandError(MISSING);
      const watch = hooksLiveWatch('Gemini CLI', HOOKS_LIVE_MS);
      const problem = geminiWorkspaceProblem(opts.workspace);
      if (problem) throw new AgentCommandError(`cannot run Gemini CLI here: ${problem}`);
      const baseUrl = env.PERSONAE_GEMINI_BASE_URL;
      const apiHost = baseUrlHost(baseUrl);
      const geminiDir = path.join(opts.personaHome, '.gemini');
      const settingsFile = path.join(dir, 'gemini-settings.json');
      writeFileSync(settingsFile, JSON.stringify(geminiSettings(opts.hookTimeoutSeconds), null, 2), { mode: 0o444 });
      const noExtensions = path.join(dir, 'gemini-extensions');
      mkdirSync(noExtensions, { recursive: true, mode: 0o555 });
      const launcher = path.join(dir, 'gemini');
      writeFileSync(launcher, `#!/bin/sh\nexec ${INSIDE_GEMINI}/node ${INSIDE_GEMINI}/cli/bundle/gemini.js "$@"\n`, { mode: 0o555 });
      // Mount points inside the persona's (writable) home.
      mkdirSync(path.join(geminiDir, 'extensions'), { recursive: true, mode: 0o700 });
      if (!existsSync(path.join(geminiDir, 'settings.json'))) writeFileSync(path.join(geminiDir, 'settings.json'), '{}', { mode: 0o600 });
      await Promise.resolve();
      return {
        networkAllow: [...GEMINI_API_DOMAINS, ...(apiHost && !(GEMINI_API_DOMAINS as readonly string[]).includes(apiHost) ? [apiHost] : [])],
        env: {
          GEMINI_CLI_HOME: opts.personaHome,
          // Hooks from settings only run in a trusted folder (see the file comment for what that costs).
          GEMINI_CLI_TRUST_WORKSPACE: 'true',
          // One process: no relaunch with a bigger heap.
          GEMINI_CLI_NO_RELAUNCH: 'true',
          NO_BROWSER: 'true',
          // Set explicitly: in a trusted folder Gemini CLI loads the workspace's .env, which may add (never override) variables.
          GEMINI_CLI_SYSTEM_SETTINGS_PATH: '/etc/gemini-cli/settings.json',
          GEMINI_CLI_SYSTEM_DEFAULTS_PATH: '/etc/gemini-cli/system-defaults.json',
          GOOGLE_GEMINI_BASE_URL: baseUrl ?? `https://${GEMINI_API_DOMAINS[0]}`,
        },
        roBinds: [
          { src: pkg, dest: `${INSIDE_GEMINI}/cli` },
          { src: node, dest: `${INSIDE_GEMINI}/node` },
          { src: launcher, dest: `${INSIDE_BIN}/gemini` },
          { src: settingsFile, dest: path.join(geminiDir, 'settings.json') },
          { src: noExtensions, dest: path.join(geminiDir, 'extensions') },
        ],
        extraPath: [INSIDE_BIN],
        rewriteCommand: geminiCommand,
        started: (s: AdapterSession) => watch.started(s),
        close: () => watch.ended(session),
      };
    },
  };
}

// ---- Hook protocol translation (used by the broker's HookHandler) ----

/** Gemini's hook events in the broker's (Claude Code's) terms. */
export function geminiEvent(event: string): string {
  if (event === 'BeforeTool') return 'PreToolUse';
  if (event === 'AfterTool') return 'PostToolUse';
  return event;
}

const URL_RE = /\bhttps?:\/\/[^\s<>"'`)\]}]+/g;

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/**
 * A Gemini tool call as the persona's tool rules see it (Claude Code's
 * vocabulary): run_shell_command is Bash, write_file Write, replace Edit,
 * read_file Read, list_directory LS, glob Glob, grep_search Grep, web_fetch
 * one WebFetch per URL in its prompt, google_web_search WebSearch, and an MCP
 * tool `mcp__<server>__<tool>`. Anything else keeps its own name.
 */
export function geminiRuleCalls(tool: string, input: Record<string, unknown>, payload: Record<string, unknown> = {}): RuleCall[] {
  const mcp = payload.mcp_context as { server_name?: unknown; tool_name?: unknown } | undefined;
  if (mcp && typeof mcp === 'object' && typeof mcp.server_name === 'string' && typeof mcp.tool_name === 'string') {
    return [{ tool: `mcp__${mcp.server_name}__${mcp.tool_name}`, input }];
  }
  const dir = str(input.dir_path);
  switch (tool) {
    case 'run_shell_command':
      return [{ tool: 'Bash', input: { command: input.command }, ...(dir ? { cwd: dir } : {}) }];
    case 'write_file':
      return [{ tool: 'Write', input: { file_path: input.file_path, content: input.content } }];
    case 'replace':
      return [{ tool: 'Edit', input: { file_path: input.file_path, old_string: input.old_string, new_string: input.new_string } }];
    case 'read_file':
      return [{ tool: 'Read', input: { file_path: input.file_path } }];
    case 'read_many_files': {
      const paths = Array.isArray(input.include) ? input.include.filter((p): p is string => typeof p === 'string') : [];
      return paths.length > 0 ? paths.map((p) => ({ tool: 'Read', input: { file_path: p } })) : [{ tool, input }];
    }
    case 'list_directory':
      return [{ tool: 'LS', input: { path: input.dir_path } }];
    case 'glob':
      return [{ tool: 'Glob', input: { pattern: input.pattern, ...(dir ? { path: dir } : {}) } }];
    case 'grep_search':
      return [{ tool: 'Grep', input: { pattern: input.pattern, ...(dir ? { path: dir } : {}) } }];
    case 'web_fetch': {
      const urls = [...(str(input.prompt) ?? '').matchAll(URL_RE)].map((m) => m[0]);
      const url = str(input.url);
      const all = [...(url ? [url] : []), ...urls];
      // No URL at all: judged as a WebFetch whose URL cannot be read (denied by any domain rule).
      return all.length > 0 ? all.map((u) => ({ tool: 'WebFetch', input: { url: u, prompt: input.prompt } })) : [{ tool: 'WebFetch', input: { url: '', prompt: input.prompt } }];
    }
    case 'google_web_search':
      return [{ tool: 'WebSearch', input: { query: input.query } }];
    default:
      return [{ tool, input }];
  }
}

/** The broker's decision in Gemini's hook protocol: JSON on stdout; a deny also exits 2 with the reason on stderr. */
export function geminiReply(decision: 'allow' | 'deny', text: string): { code: 0 | 2; body: string } {
  const json = JSON.stringify({ decision, reason: text });
  return decision === 'allow' ? { code: 0, body: json } : { code: 2, body: `${json}\t${text}` };
}
