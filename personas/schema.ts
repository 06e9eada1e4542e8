// The persona file format, version 1. Every field is validated here, at the
// boundary; everything downstream works on the parsed `Persona` type.
// Safe defaults are written on the schema: nothing writable, no network,
// no credentials, ask before anything no rule covers.
import * as z from 'zod';
import { checkDomainPattern } from './domain-pattern.js';
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
export const AgentKindSchema = z.enum(AGENT_KINDS).describe('Which agent CLI this persona runs: claude, codex, gemini, or shell (any command)');
export type AgentKind = z.infer<typeof AgentKindSchema>;

/**
 * Files inside a writable workspace that let code run later, outside this
 * session (git hooks, editor tasks, agent settings). Read-only unless the
 * persona names them in `filesystem.allow_sensitive`.
 */
export const SENSITIVE_PATHS = [
  '.git/hooks', '.git/config', '.gitmodules', '.bashrc', '.bash_profile', '.profile', '.zshrc',
  '.vscode', '.idea', '.mcp.json', '.claude', '.envrc',
] as const;
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
const DurationSchema = z
  .string()
  .regex(DURATION_RE, DURATION_MESSAGE)
  .refine((v) => (parseDuration(v) ?? 0) > 0, { message: DURATION_MESSAGE });

const PathSchema = z
  .string()
  .min(1, 'must not be empty')
  .refine((p) => !p.includes('\0'), { message: 'must not contain NUL bytes' })
  .refine((p) => /^(?:\/|~(?:\/|$)|\{workspace\}(?:\/|$))/.test(p), {
    message: 'must be absolute, or start with ~/ or {workspace}/',
  })
  .refine((p) => !p.split('/').includes('..'), { message: 'must not contain ".."' });

const DomainPatternSchema = z.string().superRefine((value, ctx) => {
  const problem = checkDomainPattern(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const ToolRuleSchema = z.string().superRefine((value, ctx) => {
  const problem = checkToolRule(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const CredentialRefSchema = z
  .string()
  .regex(/^secret:[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, 'must be secret:NAME (stored with `personae secret set NAME`)');

const EnvNameSchema = z
  .string()
  .regex(ENV_NAME_RE, 'must be an environment variable name (A-Z, 0-9, _)')
  .refine((n) => !RESERVED_ENV.has(n) && !RESERVED_ENV_PREFIXES.some((p) => n.startsWith(p)), {
    message: 'is reserved by the sandbox and cannot carry a credential',
  });

export const FilesystemSchema = z
  .strictObject({
    write: z
      .array(PathSchema)
      .default([])
      .describe('Paths the agent may write. {workspace} is the session workspace. Empty means nothing is writable.'),
    read_deny: z
      .array(PathSchema)
      .default([])
      .describe('Paths hidden from the agent entirely (~ expands to the real home). Secrets like ~/.ssh belong here.'),
    allow_sensitive: z
      .array(SensitivePathSchema)
      .default([])
      .describe('Persistence traps inside writable paths (git hooks, editor and agent settings) this persona may write. Default: none.'),
  })
  .describe('Filesystem grants. Everything outside `write` is read-only; `read_deny` paths are hidden.');

export const NetworkSchema = z
  .strictObject({
    allow: z
      .array(DomainPatternSchema)
      .default([])
      .describe('Domains the agent may reach through the egress proxy: example.com, *.example.com, host:port. Empty means no network.'),
    deny: z.array(DomainPatternSchema).default([]).describe('Domains refused even when an allow pattern matches.'),
  })
  .describe('Network grants, enforced by the egress proxy outside the sandbox.');

export const ToolsSchema = z
  .strictObject({
    allow: z.array(ToolRuleSchema).default([]).describe('Tool calls allowed without asking, e.g. Bash(npm run test:*), Read, Edit(src/**).'),
    ask: z.array(ToolRuleSchema).default([]).describe('Tool calls that wait for a human decision.'),
    deny: z.array(ToolRuleSchema).default([]).describe('Tool calls always refused, e.g. Bash(git push:*), WebFetch(domain:example.com).'),
  })
  .describe('Claude Code-style tool rules. deny beats ask beats allow; unmatched calls follow execution_mode.');

export const LimitsSchema = z
  .strictObject({
    max_runtime: DurationSchema.optional().describe('Stop the session after this long, e.g. 30m or 8h.'),
    max_tool_calls: z.number().int().positive().optional().describe('Stop the session after this many tool calls.'),
    approval_timeout: DurationSchema.default('5m').describe('How long an `ask` waits for a human before it is denied.'),
    drift_threshold: z
      .number()
      .int()
      .min(2)
      .default(5)
      .describe('Identical failing calls in a row that count as drift.'),
    on_drift: z.enum(['pause', 'stop']).default('stop').describe('What drift past the threshold does to the session.'),
  })
  .describe('Limits that stop a session automatically.');

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

const DateSchema = z
  .string()
  .regex(DATE_RE, DATE_MESSAGE)
  .transform((v, ctx) => {
    const iso = parsePersonaDate(v);
    if (iso === undefined) {
      ctx.addIssue({ code: 'custom', message: DATE_MESSAGE });
      return z.NEVER;
    }
    return iso;
  });

export const PersonaSchema = z
  .strictObject({
    version: z.literal(1).describe('Persona file format version. Always 1.'),
    name: z.string().regex(SLUG_RE, 'must be a slug: lowercase letters, digits and dashes').describe('Unique slug, e.g. night-builder.'),
    display_name: z.string().min(1).max(120).describe('Human-friendly name shown in the app and the audit log.'),
    owner: z.string().min(1).max(200).describe('The human or team accountable for this persona.'),
    purpose: z.string().min(1).max(2000).describe('What this persona is for, in a sentence.'),
    agent: AgentKindSchema,
    execution_mode: z
      .enum(['autonomous', 'approve'])
      .default('approve')
      .describe('autonomous: calls no rule covers are allowed; approve: they wait for a human.'),
    expires: DateSchema.optional().describe('After this date the persona refuses to run.'),
    filesystem: FilesystemSchema.default({ write: [], read_deny: [], allow_sensitive: [] }),
    network: NetworkSchema.default({ allow: [], deny: [] }),
    credentials: z
      .record(EnvNameSchema, CredentialRefSchema)
      .default({})
      .describe('Environment variables set from the local secret store: { GITHUB_TOKEN: secret:gh-night }.'),
    tools: ToolsSchema.default({ allow: [], ask: [], deny: [] }),
    limits: LimitsSchema.default({ approval_timeout: '5m', drift_threshold: 5, on_drift: 'stop' }),
  })
  .describe('A persona: a named, owned identity an agent runs as, with hard grants.');

export type Persona = z.infer<typeof PersonaSchema>;
export type PersonaInput = z.input<typeof PersonaSchema>;
