// The Codex CLI adapter (@openai/codex, a native Rust binary). Observed with
// codex-cli 0.169.0 (see test/fixtures/AGENT-CLI-NOTES.md):
//  - Codex has command hooks with Claude Code's protocol: PreToolUse /
//    PostToolUse / SessionStart in `$CODEX_HOME/hooks.json`, stdin payload
//    `{session_id, turn_id, cwd, hook_event_name, model, permission_mode,
//    tool_name, tool_input, tool_use_id}` (tool_name `Bash` with
//    `{command}`, `apply_patch` with `{command: <patch>}`, `view_image` with
//    `{path}`, MCP tools `mcp__server__tool`), answered with
//    `hookSpecificOutput.permissionDecision` or exit 2 + stderr. Nested tool
//    calls of its "code mode" (`exec` JavaScript cell) go through the hooks too.
//  - Its hooks fail OPEN: exit 1, non-JSON output and a timeout all let the
//    call run. The personae hook turns each of its own failures into exit 2.
//  - Hooks outside a managed layer (/etc/codex, which personae cannot add to a
//    read-only /) only run once "trusted" in Codex's own state, so personae
//    passes --dangerously-bypass-hook-trust: the only hooks it can load are the
//    read-only ones personae wrote (config.toml and hooks.json are mounted
//    read-only over the persona's CODEX_HOME, plugins are off, project
//    `.codex/` layers stay disabled because no project is trusted).
//  - approval_policy "never" never waits on a prompt; Codex's own sandbox is
//    off (danger-full-access): personae's bwrap sandbox is the wall.
//  - Second layer, like Claude's permissions.deny: the persona's
//    `Bash(prefix:*)` deny rules become Codex execpolicy `forbidden` prefix
//    rules (`$CODEX_HOME/rules/`, read-only), enforced even when a hook fails.
//  - SessionStart must check in within HOOKS_LIVE_MS or the session stops.
import { AGENT_API_HOSTS } from '../../personas/agent-hosts.js';
import { existsSync, mkdirSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseToolRule } from '../../personas/tool-rule.js';
import type { Persona } from '../../personas/schema.js';
import { INSIDE } from '../launch/plan.js';
import type { AdapterPlan, AdapterSession, AgentAdapter } from './adapter.js';
import { AgentCommandError, baseUrlHost, findAgentInstall, HOOKS_LIVE_MS, hooksLiveWatch, readAgentVersion } from './agent-common.js';

/** Where the Codex install (bin/, codex-path/, codex-resources/) is mounted in the sandbox. */
const INSIDE_CODEX = '/run/personae/codex';
const INSIDE_BIN = '/run/personae/agent-bin';
/** API domains Codex needs with an API key (ChatGPT sign-in would add chatgpt.com and auth.openai.com). */
export const CODEX_API_DOMAINS = AGENT_API_HOSTS.codex;
/** The credential Codex reads: OPENAI_API_KEY (`codex exec` also takes CODEX_API_KEY). */
export const CODEX_CREDENTIAL_ENV = 'OPENAI_API_KEY';

const TRIPLES: Record<string, string> = { x64: 'x86_64-unknown-linux-musl', arm64: 'aarch64-unknown-linux-musl' };
const PLATFORM_PACKAGES: Record<string, string> = { x64: '@openai/codex-linux-x64', arm64: '@openai/codex-linux-arm64' };

/** How the Codex install is laid out: the native binary, and the npm vendor folder holding it when there is one. */
export interface CodexInstall {
  readonly binary: string;
  /** `vendor/<triple>` (bin/codex, codex-path/rg, codex-resources/), mounted whole; undefined for a lone binary. */
  readonly vendorDir: string | undefined;
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** From whatever `codex` resolves to (the npm launcher bin/codex.js, or the native binary), the native binary. */
export function resolveCodexInstall(found: string, arch: string = process.arch): CodexInstall | undefined {
  const real = realpathSync(found);
  const triple = TRIPLES[arch];
  const platformPackage = PLATFORM_PACKAGES[arch];
  if (!real.endsWith('.js')) {
    const bin = path.dirname(real);
    const vendor = path.dirname(bin);
    const laidOut = path.basename(bin) === 'bin' && existsSync(path.join(vendor, 'codex-path'));
    return { binary: real, vendorDir: laidOut ? vendor : undefined };
  }
  if (!triple || !platformPackage) return undefined;
  // <nm>/@openai/codex/bin/codex.js -> <nm>/@openai/codex-linux-x64/vendor/<triple>/bin/codex (or nested, or bundled).
  const pkg = path.dirname(path.dirname(real));
  const nm = path.dirname(path.dirname(pkg));
  const vendors = [
    path.join(nm, platformPackage, 'vendor', triple),
    path.join(pkg, 'node_modules', platformPackage, 'vendor', triple),
    path.join(pkg, 'vendor', triple),
  ];
  for (const v of vendors) {
    const bin = path.join(v, 'bin', 'codex');
    if (isFile(bin)) return { binary: realpathSync(bin), vendorDir: realpathSync(v) };
  }
  return undefined;
}

/** Finds Codex: $PERSONAE_CODEX_BIN, PATH, then personae's own dependency. */
export function findCodexInstall(env: NodeJS.ProcessEnv = process.env): CodexInstall | undefined {
  return findAgentInstall('codex', env, resolveCodexInstall);
}

const MISSING = 'Codex is not installed: npm install -g @openai/codex (or set PERSONAE_CODEX_BIN)';

/** A TOML basic string (JSON's escapes are a subset TOML accepts). */
function tomlString(s: string): string {
  return JSON.stringify(s);
}

/** The hooks Codex gets: the personae hook on every tool, before and after, and a SessionStart check-in. */
export function codexHooks(hookTimeoutSeconds: number): Record<string, unknown> {
  const hook = (event: string, timeout: number, matcher?: string): unknown[] => [
    { ...(matcher ? { matcher } : {}), hooks: [{ type: 'command', command: `${INSIDE.hookCommand} ${event}`, timeout }] },
  ];
  return {
    hooks: {
      SessionStart: hook('SessionStart', 10),
      PreToolUse: hook('PreToolUse', hookTimeoutSeconds, '*'),
      PostToolUse: hook('PostToolUse', 10, '*'),
    },
  };
}

export interface CodexConfigOptions {
  /** Override of the API base URL (a fake server in tests); Codex then uses a personae provider without WebSockets. */
  readonly baseUrl?: string;
}

/** `$CODEX_HOME/config.toml`: never prompt, Codex's own sandbox off, hooks on, plugins off, no side traffic. */
export function codexConfigToml(opts: CodexConfigOptions = {}): string {
  const lines = [
    '# Generated by personae for this session; mounted read-only.',
    'approval_policy = "never"',
    'sandbox_mode = "danger-full-access"',
    'check_for_update_on_startup = false',
  ];
  if (opts.baseUrl) lines.push('model_provider = "personae"');
  // shell_snapshot off: no login-shell script (sourcing ~/.bashrc) runs before the session's commands.
  lines.push('', '[features]', 'hooks = true', 'plugins = false', 'shell_snapshot = false', '', '[analytics]', 'enabled = false');
  if (opts.baseUrl) {
    lines.push(
      '',
      '[model_providers.personae]',
      'name = "personae"',
      `base_url = ${tomlString(opts.baseUrl)}`,
      `env_key = ${tomlString(CODEX_CREDENTIAL_ENV)}`,
      'wire_api = "responses"',
      'supports_websockets = false',
    );
  }
  return `${lines.join('\n')}\n`;
}

const RULE_TOKEN = /^[A-Za-z0-9._/@%+=:,-]+$/;

/**
 * The persona's `Bash(<prefix>:*)` / `Bash(<prefix> *)` deny rules as Codex
 * execpolicy `forbidden` prefix rules. Other rules (exact commands, inner
 * wildcards, other tools) are left to the hook: this layer only adds denials.
 */
export function codexExecPolicy(persona: Persona): string {
  const rules: string[] = [];
  for (const raw of persona.tools.deny) {
    const r = parseToolRule(raw);
    if (typeof r === 'string' || r.tool !== 'Bash' || r.specifier === undefined) continue;
    const m = /^(.*?)(?::\*| \*)$/.exec(r.specifier);
    if (!m?.[1]) continue;
    const tokens = m[1].trim().split(/\s+/);
    if (tokens.length === 0 || !tokens.every((t) => RULE_TOKEN.test(t))) continue;
    rules.push(
      `prefix_rule(pattern = [${tokens.map((t) => JSON.stringify(t)).join(', ')}], decision = "forbidden", justification = ${JSON.stringify(`personae: tools.deny: ${r.source}`)})`,
    );
  }
  return `# Generated by personae for this session; mounted read-only.\n${rules.join('\n')}\n`;
}

/** Subcommands that manage Codex itself rather than run an agent session (exec, review, resume, fork). */
const OTHER_SUBCOMMANDS = new Set([
  'agents', 'login', 'logout', 'mcp', 'plugin', 'app-server', 'remote-control', 'completion', 'update', 'doctor', 'sandbox',
  'debug', 'apply', 'a', 'queue', 'archive', 'delete', 'migrate-rollouts', 'migrate-nfs-db', 'unarchive', 'cloud',
  'exec-server', 'features', 'help', 'mcp-server',
]);
/** Flags personae sets itself or that would weaken interception. */
const FORBIDDEN_FLAGS = [
  '--dangerously-bypass-approvals-and-sandbox', '--yolo', '--full-auto', '--approve-for-me', '-a', '--ask-for-approval',
  '-s', '--sandbox', '-p', '--profile', '--ignore-user-config', '--trust', '--enable', '--disable', '--remote',
  '--remote-auth-token-env', '--oss', '--local-provider', '--dangerously-bypass-hook-trust',
];
/** `-c key=value` overrides of these keys (and their sub-keys) are refused. */
const FORBIDDEN_CONFIG_KEYS = [
  'approval_policy', 'approvals_reviewer', 'sandbox_mode', 'sandbox_workspace_write', 'default_permissions', 'permissions',
  'features', 'hooks', 'model_provider', 'model_providers', 'openai_base_url', 'chatgpt_base_url', 'profile', 'profiles',
  'projects', 'notify', 'otel', 'experimental_use_profile', 'shell_environment_policy', 'plugins', 'mcp_servers',
];

function flagMatches(arg: string, flag: string): boolean {
  if (arg === flag || arg.startsWith(`${flag}=`)) return true;
  // Short flags with an attached value: -sread-only, -pprofile.
  return /^-[a-zA-Z]$/.test(flag) && arg.startsWith(flag) && !arg.startsWith('--');
}

function configKey(value: string): string {
  return (value.split('=')[0] ?? '').trim().replace(/^["']|["']$/g, '');
}

/** Adds personae's flags to a `codex ...` command; refuses flags and subcommands that would weaken interception. */
export function codexCommand(command: readonly string[]): string[] {
  const [bin, ...args] = command;
  if (bin === undefined || path.basename(bin) !== 'codex') {
    throw new AgentCommandError('a codex persona runs Codex: the command must start with codex');
  }
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (a === '--') break;
    const bad = FORBIDDEN_FLAGS.find((f) => flagMatches(a, f));
    if (bad !== undefined) throw new AgentCommandError(`${a} is set by personae or would weaken interception for a codex persona; remove it from the command`);
    let value: string | undefined;
    if (a === '-c' || a === '--config') value = args[++i];
    else if (a.startsWith('--config=')) value = a.slice('--config='.length);
    else if (a.startsWith('-c') && a.length > 2 && !a.startsWith('--')) value = a.slice(2);
    if (value !== undefined) {
      const key = configKey(value);
      const root = key.split('.')[0] ?? '';
      if (FORBIDDEN_CONFIG_KEYS.includes(root) || FORBIDDEN_CONFIG_KEYS.includes(key)) {
        throw new AgentCommandError(`-c ${key}=... is set by personae for a codex persona; remove it from the command`);
      }
    }
  }
  // The first positional argument is either a subcommand or the prompt of the interactive CLI.
  const first = firstPositional(args);
  if (first !== undefined && OTHER_SUBCOMMANDS.has(first)) {
    throw new AgentCommandError(`codex ${first} is not an agent session; a codex persona runs codex, codex exec, review, resume or fork`);
  }
  // A top-level flag: Codex applies it to every subcommand.
  return ['codex', '--dangerously-bypass-hook-trust', ...args];
}

/** Options that take a value (the next argument, unless written as --flag=value). */
const VALUE_FLAGS = new Set([
  '-c', '--config', '-i', '--image', '-m', '--model', '-C', '--cd', '--add-dir', '--thread-source', '--cyber-access-program',
  '--output-schema', '--color', '-o', '--output-last-message',
]);

function firstPositional(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (a === '--') return args[i + 1];
    if (VALUE_FLAGS.has(a)) {
      i++;
      continue;
    }
    if (!a.startsWith('-')) return a;
  }
  return undefined;
}

/** `codex --version` prints `codex-cli 0.169.0`; it writes helper links under CODEX_HOME, so it runs in a throw-away one. */
export function readCodexVersion(binary: string): Promise<string | null> {
  return readAgentVersion(binary, ['--version'], ['CODEX_HOME']);
}

/** Creates an empty file (and its folders) if missing, so a read-only mount has somewhere to go. */
function placeholder(file: string): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  if (!existsSync(file)) writeFileSync(file, '', { mode: 0o600 });
}

export function codexAdapter(persona: Persona, opts: { personaHome: string; hookTimeoutSeconds: number; env?: NodeJS.ProcessEnv }): AgentAdapter {
  const env = opts.env ?? process.env;
  const install = findCodexInstall(env);
  let version: string | null | undefined;
  return {
    kind: 'codex',
    async version() {
      if (version !== undefined) return version;
      if (!install) throw new AgentCommandError(MISSING);
      version = await readCodexVersion(install.binary);
      return version;
    },
    async prepare({ session, dir }): Promise<AdapterPlan> {
      if (!install) throw new AgentCommandError(MISSING);
      const watch = hooksLiveWatch('Codex', HOOKS_LIVE_MS);
      const baseUrl = env.PERSONAE_OPENAI_BASE_URL;
      const apiHost = baseUrlHost(baseUrl);
      const codexHome = path.join(opts.personaHome, '.codex');
      const files = {
        config: path.join(dir, 'codex-config.toml'),
        dotenv: path.join(dir, 'codex-dotenv'),
        hooks: path.join(dir, 'codex-hooks.json'),
        rules: path.join(dir, 'codex-rules'),
      };
      writeFileSync(files.config, codexConfigToml(baseUrl ? { baseUrl } : {}), { mode: 0o444 });
      writeFileSync(files.hooks, JSON.stringify(codexHooks(opts.hookTimeoutSeconds), null, 2), { mode: 0o444 });
      // Codex loads $CODEX_HOME/.env into its environment at start: empty and read-only, so a session cannot plant one for the next.
      writeFileSync(files.dotenv, '', { mode: 0o444 });
      mkdirSync(files.rules, { recursive: true, mode: 0o755 });
      writeFileSync(path.join(files.rules, 'personae.rules'), codexExecPolicy(persona), { mode: 0o444 });
      // Mount points inside the persona's (writable) CODEX_HOME.
      placeholder(path.join(codexHome, 'config.toml'));
      placeholder(path.join(codexHome, 'hooks.json'));
      placeholder(path.join(codexHome, '.env'));
      mkdirSync(path.join(codexHome, 'rules'), { recursive: true, mode: 0o700 });
      await Promise.resolve();
      const binds = install.vendorDir
        ? [{ src: install.vendorDir, dest: INSIDE_CODEX }]
        : [{ src: install.binary, dest: `${INSIDE_BIN}/codex` }];
      return {
        networkAllow: [...CODEX_API_DOMAINS, ...(apiHost && !(CODEX_API_DOMAINS as readonly string[]).includes(apiHost) ? [apiHost] : [])],
        env: {
          CODEX_HOME: codexHome,
          // The launcher's marker; without it Codex suggests a standalone installer.
          CODEX_MANAGED_BY_NPM: '1',
        },
        roBinds: [
          ...binds,
          { src: files.config, dest: path.join(codexHome, 'config.toml') },
          { src: files.hooks, dest: path.join(codexHome, 'hooks.json') },
          { src: files.dotenv, dest: path.join(codexHome, '.env') },
          { src: files.rules, dest: path.join(codexHome, 'rules') },
        ],
        extraPath: install.vendorDir ? [`${INSIDE_CODEX}/bin`, `${INSIDE_CODEX}/codex-path`] : [INSIDE_BIN],
        rewriteCommand: codexCommand,
        started: (s: AdapterSession) => watch.started(s),
        close: () => watch.ended(session),
      };
    },
  };
}

/** A call as the persona's tool rules see it (Claude Code's vocabulary). */
export interface RuleCall {
  readonly tool: string;
  readonly input: Record<string, unknown>;
  /** Where the call runs, when the agent says so (relative paths resolve against it). */
  readonly cwd?: string;
}

/** The files an apply_patch touches: `*** Add File:` is a Write, Update/Delete/Move a change to an existing file (Edit). */
export function patchFiles(patch: string): RuleCall[] {
  const out: RuleCall[] = [];
  for (const line of patch.split('\n')) {
    const m = /^\*\*\* (Add File|Update File|Delete File|Move to): (.+)$/.exec(line.trimEnd());
    if (!m?.[2]) continue;
    out.push({ tool: m[1] === 'Add File' ? 'Write' : 'Edit', input: { file_path: m[2].trim() } });
  }
  return out;
}

/**
 * Codex's hook payload already uses Claude Code's names for shell commands
 * (`Bash`) and MCP tools; its own file tools are mapped onto the rule
 * vocabulary: apply_patch is one Write/Edit per file, view_image a Read.
 */
export function codexRuleCalls(tool: string, input: Record<string, unknown>): RuleCall[] {
  if (tool === 'apply_patch') {
    const patch = typeof input.command === 'string' ? input.command : typeof input.input === 'string' ? input.input : '';
    const files = patchFiles(patch);
    return files.length > 0 ? files : [{ tool, input }];
  }
  if (tool === 'view_image' && typeof input.path === 'string') return [{ tool: 'Read', input: { file_path: input.path } }];
  return [{ tool, input }];
}
