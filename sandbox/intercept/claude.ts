// The Claude Code adapter. Claude Code's hooks fail open (a hook that crashes,
// times out or is ignored lets the call run), so interception is layered:
//  - a generated settings file, read-only in the sandbox, registers the
//    personae hook for every tool (PreToolUse/PostToolUse) and SessionStart,
//    and carries the persona's deny rules as permissions.deny;
//  - Claude Code runs with --setting-sources "" (no user/project settings, so
//    nothing in the workspace can switch hooks off) and --permission-mode
//    dontAsk (never waits on a prompt; a call the hook did not allow is denied);
//  - the hook itself turns every failure into a deny (exit 2);
//  - SessionStart must check in within HOOKS_LIVE_MS or the session is stopped
//    (a settings file Claude Code silently dropped registers no hooks);
//  - Claude Code's own OpenTelemetry events are received on the broker socket
//    and any tool that ran without a hook decision is flagged as `bypass`.
import { AGENT_API_HOSTS } from '../../personas/agent-hosts.js';
import { existsSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Persona } from '../../personas/schema.js';
import { INSIDE } from '../launch/plan.js';
import type { AdapterPlan, AdapterSession, AgentAdapter } from './adapter.js';
import { AgentCommandError, baseUrlHost, findAgentInstall, HOOKS_LIVE_MS, hooksLiveWatch, readAgentVersion } from './agent-common.js';
import { BypassDetector } from './otel.js';

export { AgentCommandError, HOOKS_LIVE_MS } from './agent-common.js';

const INSIDE_SETTINGS = '/run/personae/claude/settings.json';
const INSIDE_BIN = '/run/personae/agent-bin';
/** Flags personae sets itself; a command that tries to change them is refused. */
const FORBIDDEN_FLAGS = ['--dangerously-skip-permissions', '--permission-mode', '--settings', '--setting-sources', '--allow-dangerously-skip-permissions', '--permission-prompt-tool'];

/**
 * Finds the Claude Code binary: $PERSONAE_CLAUDE_BIN, PATH, then personae's own
 * dependency. npm's package ships a small stub until its postinstall copies the
 * native binary in; where that did not run (--ignore-scripts), the binary is
 * taken from the platform package next to it.
 */
export function findClaudeBinary(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return findAgentInstall('claude', env, (found) => {
    const real = realpathSync(found);
    if (statSync(real).size > 1024 * 1024) return real;
    const platform = `${process.platform}-${process.arch}`;
    for (let dir = path.dirname(real); dir !== path.dirname(dir); dir = path.dirname(dir)) {
      const candidate = path.join(dir, 'node_modules', '@anthropic-ai', `claude-code-${platform}`, 'claude');
      if (existsSync(candidate)) return realpathSync(candidate);
      if (path.basename(dir) === 'node_modules') {
        const sibling = path.join(dir, '@anthropic-ai', `claude-code-${platform}`, 'claude');
        if (existsSync(sibling)) return realpathSync(sibling);
      }
    }
    return undefined;
  });
}

/** The settings Claude Code gets: hooks on every tool, the persona's deny rules, no preflight side traffic. */
export function claudeSettings(persona: Persona, hookTimeoutSeconds: number): Record<string, unknown> {
  const hook = (event: string, timeout: number): unknown[] => [
    { matcher: '*', hooks: [{ type: 'command', command: `${INSIDE.hookCommand} ${event}`, timeout }] },
  ];
  return {
    hooks: {
      SessionStart: hook('SessionStart', 10),
      PreToolUse: hook('PreToolUse', hookTimeoutSeconds),
      PostToolUse: hook('PostToolUse', 10),
    },
    permissions: { deny: [...persona.tools.deny], defaultMode: 'dontAsk' },
    skipWebFetchPreflight: true,
  };
}

/** Checks the generated settings against what Claude Code 2.1 silently drops a file for. */
export function validateClaudeSettings(s: Record<string, unknown>): string | undefined {
  const perms = s.permissions as { deny?: unknown; defaultMode?: unknown } | undefined;
  if (!perms || !Array.isArray(perms.deny) || !perms.deny.every((d) => typeof d === 'string')) return 'permissions.deny must be a list of strings';
  if (!['default', 'acceptEdits', 'plan', 'dontAsk', 'bypassPermissions'].includes(String(perms.defaultMode))) return 'permissions.defaultMode is invalid';
  for (const [event, list] of Object.entries(s.hooks as Record<string, unknown>)) {
    for (const m of list as Array<{ hooks: Array<{ type: unknown; command: unknown; timeout: unknown }> }>) {
      for (const h of m.hooks) {
        if (h.type !== 'command' || typeof h.command !== 'string' || !Number.isInteger(h.timeout)) return `hooks.${event}: invalid hook`;
      }
    }
  }
  return undefined;
}

/** Adds personae's flags to a `claude ...` command; refuses flags that would weaken them. */
export function claudeCommand(command: readonly string[]): string[] {
  const [bin, ...args] = command;
  if (bin === undefined || path.basename(bin) !== 'claude') {
    throw new AgentCommandError('a claude persona runs Claude Code: the command must start with claude');
  }
  const bad = args.find((a) => FORBIDDEN_FLAGS.some((f) => a === f || a.startsWith(`${f}=`)));
  if (bad !== undefined) throw new AgentCommandError(`${bad} is set by personae for a claude persona; remove it from the command`);
  return ['claude', '--settings', INSIDE_SETTINGS, '--setting-sources', '', '--permission-mode', 'dontAsk', ...args];
}

export interface ClaudeAdapterOptions {
  readonly personaHome: string;
  readonly hookTimeoutSeconds: number;
  readonly env?: NodeJS.ProcessEnv;
  /** How long SessionStart may take to check in (default HOOKS_LIVE_MS). */
  readonly hooksLiveMs?: number;
}

export function claudeAdapter(persona: Persona, opts: ClaudeAdapterOptions): AgentAdapter {
  const hooksLiveMs = opts.hooksLiveMs ?? HOOKS_LIVE_MS;
  const env = opts.env ?? process.env;
  const binary = findClaudeBinary(env);
  let version: string | null | undefined;
  return {
    kind: 'claude',
    async version() {
      if (version !== undefined) return version;
      if (!binary) throw new AgentCommandError('Claude Code is not installed: npm install -g @anthropic-ai/claude-code (or set PERSONAE_CLAUDE_BIN)');
      version = await readAgentVersion(binary, ['--version'], ['CLAUDE_CONFIG_DIR']);
      return version;
    },
    async prepare({ session, dir }): Promise<AdapterPlan> {
      if (!binary) throw new AgentCommandError('Claude Code is not installed: npm install -g @anthropic-ai/claude-code (or set PERSONAE_CLAUDE_BIN)');
      const settings = claudeSettings(persona, opts.hookTimeoutSeconds);
      const problem = validateClaudeSettings(settings);
      if (problem) throw new AgentCommandError(`generated Claude Code settings are invalid: ${problem}`);
      const settingsFile = path.join(dir, 'claude-settings.json');
      writeFileSync(settingsFile, JSON.stringify(settings, null, 2), { mode: 0o444 });
      const baseUrl = env.PERSONAE_ANTHROPIC_BASE_URL;
      const apiHost = baseUrlHost(baseUrl);
      const detector = new BypassDetector(session);
      const watch = hooksLiveWatch('Claude Code', hooksLiveMs);
      session.onTelemetry = (p, body) => detector.receive(p, body);
      await Promise.resolve();
      return {
        networkAllow: [...AGENT_API_HOSTS.claude, ...(apiHost && !(AGENT_API_HOSTS.claude as readonly string[]).includes(apiHost) ? [apiHost] : [])],
        env: {
          CLAUDE_CONFIG_DIR: path.join(opts.personaHome, '.claude'),
          CLAUDE_CODE_TMPDIR: '/tmp',
          IS_SANDBOX: '1',
          CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
          DISABLE_AUTOUPDATER: '1',
          DISABLE_ERROR_REPORTING: '1',
          CLAUDE_CODE_ENABLE_TELEMETRY: '1',
          OTEL_LOGS_EXPORTER: 'otlp',
          OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
          OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${INSIDE.brokerPort}`,
          OTEL_LOGS_EXPORT_INTERVAL: '200',
          // The telemetry goes straight to the broker bridge inside the sandbox, not through the egress proxy.
          NO_PROXY: '127.0.0.1',
          no_proxy: '127.0.0.1',
          ...(baseUrl ? { ANTHROPIC_BASE_URL: baseUrl } : {}),
        },
        roBinds: [
          { src: settingsFile, dest: INSIDE_SETTINGS },
          { src: binary, dest: `${INSIDE_BIN}/claude` },
        ],
        extraPath: [INSIDE_BIN],
        rewriteCommand: claudeCommand,
        started: (s: AdapterSession) => watch.started(s),
        close() {
          detector.close();
          watch.ended(session);
        },
      };
    },
  };
}
