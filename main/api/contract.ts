// The control API contract: every route's request and response, and every
// stream message, as zod schemas. Both sides use it: the backend parses every
// request with it (the UI is untrusted input), the renderer parses every
// response and message. Imports nothing but zod.
import * as z from 'zod';

export const API_PREFIX = '/api';
/** Largest JSON request body the backend reads. */
export const MAX_BODY_BYTES = 512 * 1024;
/** Largest terminal or stream message a client may send. */
export const MAX_WS_MESSAGE_BYTES = 64 * 1024;
/** WebSocket subprotocol carrying a bearer token (browsers cannot set headers on a WebSocket). */
export const TOKEN_PROTOCOL_PREFIX = 'personae-token.';

const Slug = z.string().regex(/^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/, 'must be a persona name (lowercase letters, digits, dashes)');
const Id = z.string().min(1).max(128).regex(/^[A-Za-z0-9-]+$/, 'must be an id');
const Text = (max: number) => z.string().max(max);

// ---- errors -----------------------------------------------------------------

export const FieldErrorSchema = z.strictObject({
  field: z.string().describe('Dotted field path, e.g. network.allow[2]; empty for the whole file'),
  message: z.string(),
});
export type FieldError = z.infer<typeof FieldErrorSchema>;

export const RefusalCodeSchema = z.enum([
  'not-found', 'invalid', 'suspended', 'expired', 'missing-secret', 'missing-tool', 'workspace', 'no-command', 'refused', 'worktree',
]);
export type RefusalCode = z.infer<typeof RefusalCodeSchema>;

/** Every error response: one readable line, plus field errors for persona writes. */
export const ErrorBodySchema = z.object({
  error: z.string(),
  code: z.string().optional(),
  fields: z.array(FieldErrorSchema).optional(),
});
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

// ---- events -----------------------------------------------------------------

export const DecisionSchema = z.enum(['allow', 'deny', 'ask']);
export type Decision = z.infer<typeof DecisionSchema>;

export const EventSchema = z.object({
  id: z.string(),
  ts: z.string(),
  session: z.string(),
  persona: z.string(),
  agent: z.object({ kind: z.string(), version: z.string().nullable() }),
  on_behalf_of: z.string(),
  kind: z.string(),
  tool: z.string().nullable(),
  target: z.string().nullable(),
  decision: z.nullable(DecisionSchema),
  reason: z.string().nullable(),
  detail: z.record(z.string(), z.unknown()),
});
export type ApiEvent = z.infer<typeof EventSchema>;

/** The feed's filter: the same fields `personae audit` takes. Kind may end in `*` (`session.*`). */
export const EventFilterSchema = z.strictObject({
  session: Id.optional(),
  persona: Slug.optional(),
  kind: Text(64).regex(/^[a-z.*]+$/, 'must be an event kind like exec or session.*').optional(),
  decision: z.optional(DecisionSchema),
  text: Text(200).optional(),
});
export type EventFilter = z.infer<typeof EventFilterSchema>;

/** GET /api/events: query-string fields (all strings on the wire). */
export const EventQuerySchema = EventFilterSchema.extend({
  since: Text(64).optional(),
  until: Text(64).optional(),
  after: z.string().regex(/^[0-9A-Z]{26}$/, 'must be an event id').optional(),
  before: z.string().regex(/^[0-9A-Z]{26}$/, 'must be an event id').optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(500),
  order: z.enum(['asc', 'desc']).default('asc'),
});
export type EventQuery = z.infer<typeof EventQuerySchema>;

export const EventPageSchema = z.strictObject({
  events: z.array(EventSchema),
  /** True when the page is full: more events lie beyond it in the direction read. */
  has_more: z.boolean(),
});
export type EventPage = z.infer<typeof EventPageSchema>;

// ---- personas ---------------------------------------------------------------

export const GrantsSchema = z.strictObject({
  write: z.array(z.string()),
  read_deny: z.array(z.string()),
  network_allow: z.array(z.string()),
  network_deny: z.array(z.string()),
  tools_allow: z.array(z.string()),
  tools_ask: z.array(z.string()),
  tools_deny: z.array(z.string()),
  /** Environment variable -> secret name. Names only, never values. */
  credentials: z.record(z.string(), z.string()),
});
export type Grants = z.infer<typeof GrantsSchema>;

export const PersonaSummarySchema = z.strictObject({
  name: z.string(),
  display_name: z.string(),
  owner: z.string(),
  purpose: z.string(),
  agent: z.string(),
  execution_mode: z.string(),
  expires: z.string().nullable(),
  expired: z.boolean(),
  suspended: z.boolean(),
  grants: GrantsSchema,
  limits: z.record(z.string(), z.union([z.string(), z.number()])),
  file: z.string(),
});
export type PersonaSummary = z.infer<typeof PersonaSummarySchema>;

export const InvalidPersonaFileSchema = z.strictObject({ name: z.string(), file: z.string(), errors: z.array(z.string()) });
export type InvalidPersonaFile = z.infer<typeof InvalidPersonaFileSchema>;

export const PersonaListSchema = z.strictObject({
  personas: z.array(PersonaSummarySchema),
  invalid: z.array(InvalidPersonaFileSchema),
});
export type PersonaList = z.infer<typeof PersonaListSchema>;

export const PersonaDetailSchema = z.strictObject({
  summary: PersonaSummarySchema,
  /** The file's data as written (what the edit form starts from). */
  data: z.record(z.string(), z.unknown()),
  text: z.string(),
  format: z.enum(['yaml', 'json']),
});
export type PersonaDetail = z.infer<typeof PersonaDetailSchema>;

/** POST /api/personas and PUT /api/personas/:name: the persona as data (validated by the persona schema on the server). */
export const PersonaWriteSchema = z.strictObject({ persona: z.record(z.string(), z.unknown()) });
export type PersonaWrite = z.infer<typeof PersonaWriteSchema>;

/** POST /api/personas/validate: data, or file text. */
export const PersonaValidateSchema = z.union([
  z.strictObject({ persona: z.record(z.string(), z.unknown()) }),
  z.strictObject({ text: Text(256 * 1024), format: z.enum(['yaml', 'json']).default('yaml') }),
]);
export type PersonaValidate = z.infer<typeof PersonaValidateSchema>;

export const ValidationResultSchema = z.strictObject({
  ok: z.boolean(),
  fields: z.array(FieldErrorSchema),
});
export type ValidationResult = z.infer<typeof ValidationResultSchema>;

export const PersonaImportSchema = z.strictObject({
  text: Text(256 * 1024),
  filename: Text(255).regex(/\.(ya?ml|json)$/i, 'must end in .yaml, .yml or .json'),
  overwrite: z.boolean().default(false),
});
export type PersonaImport = z.infer<typeof PersonaImportSchema>;

export const SecretNamesSchema = z.strictObject({ names: z.array(z.string()) });

// ---- sessions ---------------------------------------------------------------

/**
 * running: its processes run; stopping: a stop was asked, not yet verified;
 * stopped: stopped and verified that no process survives; ended: exited on
 * its own (or in another process); stop-failed: processes survived a stop.
 */
export const SessionStateSchema = z.enum(['running', 'stopping', 'stopped', 'ended', 'stop-failed']);
export type SessionState = z.infer<typeof SessionStateSchema>;

/** pending: the worktree waits for Keep or Discard; applied: kept (merged into its checkout); discarded: thrown away. */
export const WorktreeStateSchema = z.enum(['pending', 'applied', 'discarded']);
export type WorktreeState = z.infer<typeof WorktreeStateSchema>;

/** A session's git worktree (sessions launched with `worktree`). */
export const SessionWorktreeSchema = z.strictObject({
  branch: z.string(),
  base: z.string(),
  /** The worktree's checkout. */
  path: z.string(),
  /** The checkout it came from (where Keep merges). */
  repo: z.string(),
  state: WorktreeStateSchema,
});
export type SessionWorktree = z.infer<typeof SessionWorktreeSchema>;

export const SessionInfoSchema = z.strictObject({
  id: z.string(),
  persona: z.string(),
  agent: z.object({ kind: z.string(), version: z.string().nullable() }),
  on_behalf_of: z.string(),
  workspace: z.string().nullable(),
  command: z.array(z.string()),
  started_at: z.string(),
  ended_at: z.string().nullable(),
  exit_code: z.number().nullable(),
  end_reason: z.string().nullable(),
  sandbox_pid: z.number().nullable(),
  state: SessionStateSchema,
  /** Launched by this backend: it has a terminal the app can attach to. */
  terminal: z.boolean(),
  worktree: SessionWorktreeSchema.nullable(),
  /** Files changed: counted by git for an ended worktree session, else the files it wrote. */
  files_changed: z.number().nullable(),
  /** Refused attempts (as the morning review counts them). */
  denials: z.number(),
});
export type SessionInfo = z.infer<typeof SessionInfoSchema>;

export const SessionListQuerySchema = z.strictObject({
  running: z.enum(['true', 'false']).optional(),
  persona: Slug.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
});
export const SessionListSchema = z.strictObject({ sessions: z.array(SessionInfoSchema) });

export const LaunchRequestSchema = z.strictObject({
  persona: Slug,
  workspace: Text(4096).min(1, 'is required'),
  on_behalf_of: Text(200).optional(),
  /** The agent's first prompt (claude, codex, gemini). */
  prompt: Text(20_000).optional(),
  /** Argv to run instead of the agent's default command. */
  command: z.array(Text(20_000)).min(1).max(256).optional(),
  /** Run in a new git worktree of the workspace's repository (its changes are kept or discarded after). */
  worktree: z.boolean().default(false),
  /** With worktree: the commit its branch starts from (default HEAD). */
  base: Text(256).optional(),
  cols: z.number().int().min(10).max(1000).default(100),
  rows: z.number().int().min(5).max(500).default(30),
  /** The command starts once a terminal view attached and gave the PTY its size (at most 5 s later): its first byte is laid out for that view. */
  start_on_attach: z.boolean().optional(),
});
export type LaunchRequest = z.input<typeof LaunchRequestSchema>;

export const StopOutcomeSchema = z.strictObject({
  session: z.string(),
  /** True only when the engine verified that no process of the session survives. */
  verified: z.boolean(),
  survivors: z.number(),
  error: z.string().optional(),
});
export type StopOutcome = z.infer<typeof StopOutcomeSchema>;

export const StopAllResultSchema = z.strictObject({ results: z.array(StopOutcomeSchema) });

export const SuspendResultSchema = z.strictObject({
  name: z.string(),
  suspended: z.boolean(),
  stopped: z.array(StopOutcomeSchema),
});
export type SuspendResult = z.infer<typeof SuspendResultSchema>;

// ---- worktrees: changes, keep, discard ----------------------------------------

export const ChangeCommitSchema = z.strictObject({
  sha: z.string(),
  author: z.string(),
  email: z.string(),
  date: z.string(),
  subject: z.string(),
  on_behalf_of: z.string().nullable(),
  session: z.string().nullable(),
});
export type ChangeCommit = z.infer<typeof ChangeCommitSchema>;

export const ChangedFileSchema = z.strictObject({
  path: z.string(),
  /** A added, M modified, D deleted, T type changed. */
  status: z.string(),
  added: z.number().nullable(),
  deleted: z.number().nullable(),
  /** Left uncommitted in the worktree (kept, and committed for the persona on Keep). */
  uncommitted: z.boolean(),
});
export type ChangedFile = z.infer<typeof ChangedFileSchema>;

/** GET /api/sessions/:id/changes */
export const ChangesSchema = z.strictObject({
  session: z.string(),
  /** worktree: read from the worktree now; recorded: the diffs the engine recorded (a session without a worktree, or one kept or discarded). */
  source: z.enum(['worktree', 'recorded']),
  worktree: SessionWorktreeSchema.nullable(),
  running: z.boolean(),
  commits: z.array(ChangeCommitSchema),
  files: z.array(ChangedFileSchema),
  /** Unified diff of the whole change (base to worktree). */
  patch: z.string(),
  truncated: z.boolean(),
});
export type Changes = z.infer<typeof ChangesSchema>;

export const ApplyRequestSchema = z.strictObject({ squash: z.boolean().default(false) });
export type ApplyRequest = z.input<typeof ApplyRequestSchema>;

export const ApplyResultSchema = z.strictObject({
  session: z.string(),
  mode: z.enum(['fast-forward', 'merge', 'squash', 'nothing']),
  commit: z.string(),
  into: z.string(),
  files: z.number(),
  uncommitted: z.number(),
});
export type ApplyResult = z.infer<typeof ApplyResultSchema>;

export const DiscardResultSchema = z.strictObject({ session: z.string(), branch: z.string(), path: z.string() });
export type DiscardResult = z.infer<typeof DiscardResultSchema>;

/** GET /api/workspace?path=: what the launch form needs to know about a workspace. */
export const WorkspaceQuerySchema = z.strictObject({ path: Text(4096).min(1) });
export const WorkspaceInfoSchema = z.strictObject({
  path: z.string(),
  /** Inside a git work tree. */
  git: z.boolean(),
  toplevel: z.string().nullable(),
  /** The checked-out branch (null when detached or not a repository). */
  branch: z.string().nullable(),
  /** Tracked files with uncommitted changes (a worktree launch is refused while there are any). */
  dirty: z.number(),
});
export type WorkspaceInfo = z.infer<typeof WorkspaceInfoSchema>;

export const DefaultsSchema = z.strictObject({
  on_behalf_of: z.string(),
  /** The launch form's workspace: the last session's, else the user's home. */
  workspace: z.string(),
  /** Where that default comes from, said under the field. */
  workspace_note: z.string(),
  version: z.string(),
});
export type Defaults = z.infer<typeof DefaultsSchema>;

// ---- approvals --------------------------------------------------------------

export const PendingApprovalSchema = z.strictObject({
  id: z.string(),
  session: z.string(),
  persona: z.string(),
  tool: z.string(),
  target: z.string().nullable(),
  /** A short, redacted summary of the tool input. */
  input_summary: z.string(),
  /** Why it waits: the rule (tools.ask) or the execution mode. */
  reason: z.string(),
  created: z.string(),
  /** When it is denied if nobody answers. */
  expires: z.string(),
});
export type PendingApproval = z.infer<typeof PendingApprovalSchema>;

export const ApprovalListSchema = z.strictObject({ approvals: z.array(PendingApprovalSchema) });
export const ApprovalAnswerSchema = z.strictObject({ decision: z.enum(['allow', 'deny']) });
export type ApprovalAnswer = z.infer<typeof ApprovalAnswerSchema>;
export const ApprovalAnsweredSchema = z.strictObject({ id: z.string(), decision: z.enum(['allow', 'deny']) });

// ---- morning review ---------------------------------------------------------

export const ReviewQuerySchema = z.strictObject({
  since: Text(64).optional(),
  until: Text(64).optional(),
  persona: Slug.optional(),
});
export type ReviewQuery = z.infer<typeof ReviewQuerySchema>;

export const ReviewSessionSchema = z.strictObject({
  id: z.string(),
  started_at: z.string(),
  ended_at: z.string().nullable(),
  duration_ms: z.number(),
  end_reason: z.string().nullable(),
  exit_code: z.number().nullable(),
  workspace: z.string().nullable(),
  on_behalf_of: z.string(),
  command: z.array(z.string()),
});

/** Identical denials (same kind, tool, target and reason) as one row with a count. */
export const ReviewDeniedGroupSchema = z.strictObject({
  kind: z.string(),
  tool: z.string().nullable(),
  target: z.string().nullable(),
  reason: z.string().nullable(),
  count: z.number(),
  first_ts: z.string(),
  last_ts: z.string(),
  sessions: z.number(),
});
export type ReviewDeniedGroup = z.infer<typeof ReviewDeniedGroupSchema>;

export const ReviewFileSchema = z.strictObject({
  path: z.string(),
  writes: z.number(),
  deletes: z.number(),
  /** A diff, when the engine recorded one with the change. */
  diff: z.string().nullable(),
});

export const ReviewDestinationSchema = z.strictObject({ target: z.string(), allowed: z.number(), denied: z.number() });
/** HTTP requests the proxy saw (terminated HTTPS, plain HTTP to rule hosts), by method and host; credentials by name only. */
export const ReviewRequestsSchema = z.strictObject({
  target: z.string(),
  allowed: z.number(),
  denied: z.number(),
  bytes_in: z.number(),
  bytes_out: z.number(),
  credentials: z.array(z.string()),
});

export const ReviewPersonaSchema = z.strictObject({
  persona: z.string(),
  display_name: z.string().nullable(),
  sessions: z.array(ReviewSessionSchema),
  duration_ms: z.number(),
  tool_calls: z.number(),
  commands: z.number(),
  denials: z.number(),
  approvals: z.number(),
  drift_flags: z.array(z.strictObject({ ts: z.string(), session: z.string(), target: z.string().nullable(), reason: z.string().nullable() })),
  files: z.array(ReviewFileSchema),
  network: z.array(ReviewDestinationSchema),
  requests: z.array(ReviewRequestsSchema),
  /** Placeholders refused on their way to a host their credential is not bound to. */
  credential_refusals: z.number(),
  denied_calls: z.array(EventSchema),
  /** Every denial of the range, identical ones grouped, most frequent first. */
  denied_groups: z.array(ReviewDeniedGroupSchema),
});
export type ReviewPersona = z.infer<typeof ReviewPersonaSchema>;

export const ReviewSchema = z.strictObject({
  since: z.string(),
  until: z.string(),
  generated_at: z.string(),
  personas: z.array(ReviewPersonaSchema),
  /** True when the range held more events than one review reads. */
  truncated: z.boolean(),
});
export type Review = z.infer<typeof ReviewSchema>;

// ---- health and login -------------------------------------------------------

// ---- learned personas -------------------------------------------------------

/** GET /api/sessions/:id/suggested-persona: the narrowest persona for this session, and what it changes. */
export const SuggestedPersonaSchema = z.strictObject({
  name: z.string(),
  yaml: z.string().describe('A persona file with comments, valid against the schema'),
  current_path: z.string().nullable().describe('The installed persona the session ran as, if any'),
  changes: z.array(z.strictObject({
    field: z.string(),
    kind: z.enum(['added', 'removed', 'changed']),
    before: z.string().optional(),
    after: z.string().optional(),
  })),
  left_out: z.array(z.strictObject({ what: z.string(), why: z.string() })),
  sessions: z.array(z.string()),
});
export type SuggestedPersona = z.infer<typeof SuggestedPersonaSchema>;

export const HealthSchema = z.strictObject({ ok: z.literal(true), version: z.string(), pid: z.number(), started_at: z.string() });
export const LoginLinkSchema = z.strictObject({ url: z.string() });

// ---- live stream (WebSocket /api/stream) ------------------------------------

export const StreamClientMessageSchema = z.discriminatedUnion('type', [
  /** Replace the subscription: the last `tail` matching events, then live ones. */
  z.strictObject({ type: z.literal('subscribe'), id: z.number().int().min(0), filter: EventFilterSchema, tail: z.number().int().min(0).max(10_000).default(500) }),
  /** Stop sending events (sessions and approvals still arrive). */
  z.strictObject({ type: z.literal('pause') }),
]);
export type StreamClientMessage = z.input<typeof StreamClientMessageSchema>;

export const StreamServerMessageSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('hello'), sessions: z.array(SessionInfoSchema), approvals: z.array(PendingApprovalSchema) }),
  /** The answer to a subscribe: the newest `tail` matching events, oldest first. */
  z.strictObject({ type: z.literal('snapshot'), subscription: z.number(), events: z.array(EventSchema), has_older: z.boolean() }),
  /** New matching events, oldest first, batched. */
  z.strictObject({ type: z.literal('events'), subscription: z.number(), events: z.array(EventSchema) }),
  z.strictObject({ type: z.literal('session'), session: SessionInfoSchema }),
  z.strictObject({ type: z.literal('approvals'), approvals: z.array(PendingApprovalSchema) }),
  z.strictObject({ type: z.literal('error'), error: z.string() }),
]);
export type StreamServerMessage = z.infer<typeof StreamServerMessageSchema>;

// ---- terminal (WebSocket /api/sessions/:id/terminal) ------------------------

export const TerminalClientMessageSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('input'), data: z.string().max(MAX_WS_MESSAGE_BYTES) }),
  z.strictObject({ type: z.literal('resize'), cols: z.number().int().min(10).max(1000), rows: z.number().int().min(5).max(500) }),
]);
export type TerminalClientMessage = z.infer<typeof TerminalClientMessageSchema>;

export const TerminalServerMessageSchema = z.discriminatedUnion('type', [
  /** Output so far (bounded), sent once on connect. */
  z.strictObject({ type: z.literal('replay'), data: z.string() }),
  /** Output batched over ~16 ms. */
  z.strictObject({ type: z.literal('output'), data: z.string() }),
  z.strictObject({ type: z.literal('exit'), code: z.number() }),
]);
export type TerminalServerMessage = z.infer<typeof TerminalServerMessageSchema>;

// ---- routes -----------------------------------------------------------------

/** Paths of the control API, for both sides. */
export const routes = {
  health: '/api/health',
  loginLinks: '/api/login-links',
  defaults: '/api/defaults',
  personas: '/api/personas',
  persona: (name: string) => `/api/personas/${encodeURIComponent(name)}`,
  personaValidate: '/api/personas/validate',
  personaImport: '/api/personas/import',
  personaExport: (name: string) => `/api/personas/${encodeURIComponent(name)}/export`,
  personaSuspend: (name: string) => `/api/personas/${encodeURIComponent(name)}/suspend`,
  personaResume: (name: string) => `/api/personas/${encodeURIComponent(name)}/resume`,
  secrets: '/api/secrets',
  sessions: '/api/sessions',
  session: (id: string) => `/api/sessions/${encodeURIComponent(id)}`,
  sessionStop: (id: string) => `/api/sessions/${encodeURIComponent(id)}/stop`,
  sessionTerminal: (id: string) => `/api/sessions/${encodeURIComponent(id)}/terminal`,
  sessionSuggestedPersona: (id: string) => `/api/sessions/${encodeURIComponent(id)}/suggested-persona`,
  sessionChanges: (id: string) => `/api/sessions/${encodeURIComponent(id)}/changes`,
  sessionApply: (id: string) => `/api/sessions/${encodeURIComponent(id)}/apply`,
  sessionDiscard: (id: string) => `/api/sessions/${encodeURIComponent(id)}/discard`,
  workspace: '/api/workspace',
  stopAll: '/api/sessions/stop-all',
  events: '/api/events',
  approvals: '/api/approvals',
  approval: (id: string) => `/api/approvals/${encodeURIComponent(id)}`,
  review: '/api/review',
  reviewJsonl: '/api/review/export.jsonl',
  reviewHtml: '/api/review/export.html',
  stream: '/api/stream',
} as const;
