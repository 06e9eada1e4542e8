// The persona file format, version 1. Every field is validated here, at the
// boundary; everything downstream works on the parsed `Persona` type.
// Safe defaults are written on the schema: nothing writable, no network,
// no credentials, ask before anything no rule covers.
//
// Written with zod's mini API (functions instead of methods): a cold
// `personae run` builds these schemas on every start, and mini's are about a
// third as costly to build. Descriptions (for the JSON Schema editors use)
// are registered on the schema itself, without the copy `.describe()` makes.
import * as z from 'zod/mini';
import './zod-config.js';
import { AGENT_API_HOSTS } from './agent-hosts.js';
import { checkCredentialHost, credentialSpec, hostReachable } from './credential-ref.js';
import { checkDomainPattern, parseDomainPattern } from './domain-pattern.js';
import type { DomainPattern } from './domain-pattern.js';
import { checkNetworkAllow, parseNetworkAllow } from './http-rule.js';
import { checkToolRule } from './tool-rule.js';

export const SLUG_RE = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;
export const ENV_NAME_RE = /^[A-Z_][A-Z0-9_]*$/;
export const SECRET_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/** Variables a credential may never set: they would change how the sandbox itself behaves. */
const RESERVED_ENV = new Set([
  'PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'TMPDIR', 'PWD', 'TERM', 'LANG',
  'HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'all_proxy', 'no_proxy',
  'BASH_ENV', 'ENV', 'PROMPT_COMMAND', 'NODE_OPTIONS', 'PYTHONSTARTUP', 'PYTHONPATH',
]);
const RESERVED_ENV_PREFIXES = ['LD_', 'PERSONAE_', 'GIT_', 'DYLD_'];

export const AGENT_KINDS = ['claude', 'codex', 'gemini', 'shell'] as const;
/** Registers `description` for `schema` (shown by editors through the JSON Schema) and returns the schema itself. */
function described<T extends z.ZodMiniType>(schema: T, description: string): T {
  z.globalRegistry.add(schema as z.core.$ZodType, { description });
  return schema;
}

export const AgentKindSchema = described(z.enum(AGENT_KINDS), 'Which agent CLI this persona runs: claude, codex, gemini, or shell (any command)');
export type AgentKind = z.infer<typeof AgentKindSchema>;

/**
 * Files inside a writable workspace that let code run later, outside this
 * session (git hooks, editor tasks, agent settings). Read-only unless the
 * persona names them in `filesystem.allow_sensitive`.
 */
export const WORKSPACE_TRAPS = [
  '.git/hooks', '.git/config', '.gitmodules', '.bashrc', '.bash_profile', '.profile', '.zshrc',
  '.vscode', '.idea', '.mcp.json', '.claude', '.envrc',
] as const;

/**
 * Files in the persona's own HOME (it persists between sessions) that a
 * session could use to leave code or instructions for the next one: shell
 * start-up files (Claude Code's Bash tool sources them), git, npm and ssh
 * configuration, agents' plugins, commands and memory. Read-only unless the
 * persona names them in `filesystem.allow_sensitive`.
 */
export const HOME_TRAPS = [
  '.bashrc', '.bash_profile', '.bash_login', '.bash_logout', '.profile', '.zshrc', '.zshenv', '.zprofile', '.zlogin',
  '.gitconfig', '.config/git', '.npmrc', '.yarnrc', '.envrc', '.mcp.json', '.ssh', '.config/fish', '.pythonrc',
  '.claude/settings.json', '.claude/settings.local.json', '.claude/CLAUDE.md', '.claude/plugins', '.claude/commands', '.claude/agents',
] as const;

export const SENSITIVE_PATHS = [...new Set<string>([...WORKSPACE_TRAPS, ...HOME_TRAPS])] as [string, ...string[]];
export const SensitivePathSchema = z.enum(SENSITIVE_PATHS);

const DURATION_RE = /^(\d+)(ms|s|m|h|d)$/;
const DURATION_UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses `90s`, `30m`, `8h`, `2d`, `500ms` to milliseconds; undefined if malformed. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION_RE.exec(text.trim());
  if (!m) return undefined;
  const ms = Number(m[1]) * (DURATION_UNIT_MS[m[2] ?? ''] ?? Number.NaN);
  // A 400-digit count would be Infinity (or lose precision): not a duration.
  return Number.isSafeInteger(ms) ? ms : undefined;
}

const DURATION_MESSAGE = 'must be a duration like 90s, 30m, 8h or 2d';
const DurationSchema = z.string().check(
  z.regex(DURATION_RE, DURATION_MESSAGE),
  z.refine((v) => (parseDuration(v) ?? 0) > 0, { message: DURATION_MESSAGE }),
);

const PathSchema = z.string().check(
  z.minLength(1, 'must not be empty'),
  z.refine((p) => !p.includes('\0'), { message: 'must not contain NUL bytes' }),
  z.refine((p) => /^(?:\/|~(?:\/|$)|\{workspace\}(?:\/|$))/.test(p), {
    message: 'must be absolute, or start with ~/ or {workspace}/',
  }),
  z.refine((p) => !p.split('/').includes('..'), { message: 'must not contain ".."' }),
);

/** A string checked by `problem` (a message, or undefined when the value is fine). */
const checkedString = (problem: (value: string) => string | undefined): z.ZodMiniString =>
  z.string().check(
    z.superRefine((value, ctx) => {
      const message = problem(value);
      if (message) ctx.addIssue({ code: 'custom', message });
    }),
  );

const DomainPatternSchema = checkedString(checkDomainPattern);

const NetworkAllowSchema = checkedString(checkNetworkAllow);

const ToolRuleSchema = checkedString(checkToolRule);

const CredentialRefSchema = described(
  z.string().check(z.regex(/^secret:[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, 'must be secret:NAME (stored with `personae secret set NAME`), or { secret: NAME, hosts: [...] }')),
  'Short form: a stored secret for a model API key (ANTHROPIC_API_KEY, OPENAI_API_KEY, GEMINI_API_KEY), sent to that API only.',
);

export const CredentialSpecSchema = described(
  z.strictObject({
    secret: described(
      z.string().check(z.regex(SECRET_NAME_RE, 'must be the name of a stored secret (personae secret set NAME), without "secret:"')),
      'The secret\'s name in the local store (`personae secret set NAME`).',
    ),
    hosts: described(
      z.optional(z.array(checkedString(checkCredentialHost)).check(z.minLength(1, 'must name at least one host'))),
      'The hosts (host or host:port, no wildcards) whose HTTPS requests get the real value; everywhere else the placeholder is refused. Each must be reachable through network.allow.',
    ),
    inject: described(
      z._default(z.enum(['proxy', 'env']), 'proxy'),
      'proxy (default): the sandbox sees a placeholder and the proxy puts the value into requests to `hosts`. env: the real value in the environment, in the clear.',
    ),
  }),
  'A credential bound to hosts: { secret: github, hosts: [api.github.com, github.com] }.',
);

const EnvNameSchema = z.string().check(
  z.regex(ENV_NAME_RE, 'must be an environment variable name (A-Z, 0-9, _)'),
  z.refine((n) => !RESERVED_ENV.has(n) && !RESERVED_ENV_PREFIXES.some((p) => n.startsWith(p)), {
    message: 'is reserved by the sandbox and cannot carry a credential',
  }),
);

/** A list of `item`, empty when absent. */
const list = <T extends z.ZodMiniType>(item: T) => z._default(z.array(item), []);

export const FilesystemSchema = described(
  z.strictObject({
    write: described(list(PathSchema), 'Paths the agent may write. {workspace} is the session workspace. Empty means nothing is writable.'),
    read_deny: described(list(PathSchema), 'Paths hidden from the agent entirely (~ expands to the real home). Secrets like ~/.ssh belong here.'),
    allow_sensitive: described(
      list(SensitivePathSchema),
      'Persistence traps this persona may write: in writable paths (git hooks, editor and agent settings) and in its own HOME (shell start-up files, git/npm/ssh configuration, agent plugins and memory). Default: none.',
    ),
  }),
  'Filesystem grants. Everything outside `write` is read-only; `read_deny` paths are hidden.',
);

export const NetworkSchema = described(
  z.strictObject({
    allow: described(
      list(NetworkAllowSchema),
      'Domains the agent may reach through the egress proxy: example.com, *.example.com, host:port; or HTTP rules narrowing a host to methods and a path, e.g. "GET,HEAD registry.npmjs.org/**" (each request is then decided and recorded). Empty means no network.',
    ),
    deny: described(list(DomainPatternSchema), 'Domains refused even when an allow pattern matches.'),
  }),
  'Network grants, enforced by the egress proxy outside the sandbox.',
);

export const ToolsSchema = described(
  z.strictObject({
    allow: described(list(ToolRuleSchema), 'Tool calls allowed without asking, e.g. Bash(npm run test:*), Read, Edit(src/**).'),
    ask: described(list(ToolRuleSchema), 'Tool calls that wait for a human decision.'),
    deny: described(list(ToolRuleSchema), 'Tool calls always refused, e.g. Bash(git push:*), WebFetch(domain:example.com).'),
  }),
  'Claude Code-style tool rules. deny beats ask beats allow; unmatched calls follow execution_mode.',
);

export const LimitsSchema = described(
  z.strictObject({
    max_runtime: described(z.optional(DurationSchema), 'Stop the session after this long, e.g. 30m or 8h.'),
    max_tool_calls: described(z.optional(z.int().check(z.positive())), 'Stop the session after this many tool calls.'),
    approval_timeout: described(z._default(DurationSchema, '5m'), 'How long an `ask` waits for a human before it is denied.'),
    drift_threshold: described(z._default(z.int().check(z.gte(2)), 5), 'Identical failing calls in a row that count as drift.'),
    on_drift: described(z._default(z.enum(['pause', 'stop']), 'stop'), 'What drift past the threshold does to the session.'),
  }),
  'Limits that stop a session automatically.',
);

// `2026-12-31`, or that date with a time and a zone: `2026-12-31T18:00:00Z`, `...+02:00`.
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})(T([01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d{1,3})?)?(?:Z|[+-](?:0\d|1[0-4]):[0-5]\d))?$/;
const DATE_MESSAGE = 'must be a date like 2026-12-31 or an ISO 8601 timestamp with a time zone';

function isCalendarDate(year: string, month: string, day: string): boolean {
  const y = Number(year);
  const m = Number(month);
  const d = Number(day);
  if (m < 1 || m > 12 || d < 1) return false;
  return d <= new Date(Date.UTC(y, m, 0)).getUTCDate();
}

/**
 * Normalizes `2026-12-31` (the end of that day, UTC) or a full ISO 8601
 * timestamp with a time zone to an ISO string; undefined if malformed.
 * Strict on purpose: `new Date()` alone would accept `1` or roll `02-31` over
 * into March.
 */
export function parsePersonaDate(text: string): string | undefined {
  const m = DATE_RE.exec(text);
  if (!m || !isCalendarDate(m[1] ?? '', m[2] ?? '', m[3] ?? '')) return undefined;
  const d = new Date(m[4] ? text : `${text}T23:59:59.999Z`);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

const DateSchema = z.pipe(
  z.string().check(z.regex(DATE_RE, DATE_MESSAGE)),
  z.transform((v: string, ctx) => {
    const iso = parsePersonaDate(v);
    if (iso === undefined) {
      ctx.issues.push({ code: 'custom', message: DATE_MESSAGE, input: v });
      return z.NEVER;
    }
    return iso;
  }),
);

interface CredentialIssueSink {
  readonly issues: readonly unknown[];
  addIssue(issue: { code: 'custom'; message: string; path: PropertyKey[] }): void;
}

/** Hosts a persona's requests can reach: its network.allow patterns and its agent's model API. */
function reachablePatterns(allow: readonly string[], agent: AgentKind): DomainPattern[] {
  const out: DomainPattern[] = [];
  for (const raw of allow) {
    const entry = parseNetworkAllow(raw);
    if (typeof entry !== 'string') out.push(entry.pattern);
  }
  for (const host of AGENT_API_HOSTS[agent]) {
    const p = parseDomainPattern(host);
    if (typeof p !== 'string') out.push(p);
  }
  return out;
}

/** Every credential has hosts it can reach, or says `inject: env`. */
function checkCredentials(
  persona: { readonly agent: AgentKind; readonly network: { readonly allow: readonly string[] }; readonly credentials: Readonly<Record<string, string | z.infer<typeof CredentialSpecSchema>>> },
  ctx: CredentialIssueSink,
): void {
  // Only a persona whose every field parsed is checked as a whole (the others already have their lines).
  if (ctx.issues.length > 0) return;
  const reachable = reachablePatterns(persona.network.allow, persona.agent);
  for (const [env, ref] of Object.entries(persona.credentials)) {
    if (typeof ref !== 'string' && ref.inject === 'env') {
      if (ref.hosts !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['credentials', env, 'hosts'], message: 'cannot go with inject: env: a value in the environment goes wherever the agent sends it; drop hosts, or drop inject: env' });
      }
      continue;
    }
    const spec = credentialSpec(env, ref);
    if (spec.hosts.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['credentials', env],
        message: `secret:${spec.secret} has no hosts, so personae would send it nowhere; bind it with { secret: ${spec.secret}, hosts: [api.example.com] }, or pass it in the clear with { secret: ${spec.secret}, inject: env }`,
      });
      continue;
    }
    if (spec.knownHosts) continue;
    spec.hosts.forEach((host, i) => {
      const pattern = parseDomainPattern(host);
      if (typeof pattern !== 'string' && !hostReachable(pattern, reachable)) {
        ctx.addIssue({ code: 'custom', path: ['credentials', env, 'hosts', i], message: `${JSON.stringify(host)} is not allowed by network.allow, so the credential could never be sent there` });
      }
    });
  }
}

/** The fields of a persona file, as written (display_name may be left out). */
export const PersonaFieldsSchema = z.strictObject({
    version: described(z.literal(1), 'Persona file format version. Always 1.'),
    name: described(z.string().check(z.regex(SLUG_RE, 'must be a slug: lowercase letters, digits and dashes')), 'Unique slug, e.g. night-builder.'),
    display_name: described(z.optional(z.string().check(z.minLength(1), z.maxLength(120))), 'Human-friendly name shown in the app and the audit log (default: the name).'),
    owner: described(z.string().check(z.minLength(1), z.maxLength(200)), 'The human or team accountable for this persona.'),
    purpose: described(z.string().check(z.minLength(1), z.maxLength(2000)), 'What this persona is for, in a sentence.'),
    agent: AgentKindSchema,
    execution_mode: described(
      z._default(z.enum(['autonomous', 'approve', 'observe']), 'approve'),
      'autonomous: calls no rule covers are allowed; approve: they wait for a human; observe: what approve would ask about runs and is recorded as a would-be decision (deny rules still deny; the sandbox stays on). For learning a persona: see personae persona suggest.',
    ),
    expires: described(z.optional(DateSchema), 'After this date the persona refuses to run.'),
    filesystem: z._default(FilesystemSchema, { write: [], read_deny: [], allow_sensitive: [] }),
    network: z._default(NetworkSchema, { allow: [], deny: [] }),
    credentials: described(
      z._default(z.record(EnvNameSchema, z.union([CredentialRefSchema, CredentialSpecSchema])), {}),
      'Environment variables from the local secret store. The sandbox sees a placeholder; the proxy sends the value to the credential\'s hosts only: { GITHUB_TOKEN: { secret: gh, hosts: [api.github.com] } }.',
    ),
    tools: z._default(ToolsSchema, { allow: [], ask: [], deny: [] }),
    limits: z._default(LimitsSchema, { approval_timeout: '5m', drift_threshold: 5, on_drift: 'stop' }),
}).check(z.superRefine((persona, ctx) => checkCredentials(persona, ctx)));

export const PersonaSchema = described(
  z.pipe(PersonaFieldsSchema, z.transform((p) => ({ ...p, display_name: p.display_name ?? p.name }))),
  'A persona: a named, owned identity an agent runs as, with hard grants.',
);

export type Persona = z.infer<typeof PersonaSchema>;
export type PersonaInput = z.input<typeof PersonaSchema>;
