// What changes between two personas, in grant terms (`personae persona diff`,
// `persona install` over an existing one, and the UI's suggested persona):
// one line per added or removed list entry and per changed value, and a short
// summary of what a persona grants. Pure.
import type { Persona } from './schema.js';

export interface PersonaChange {
  /** The field, as in the file: `network.allow`, `execution_mode`, `credentials.GITHUB_TOKEN`. */
  readonly field: string;
  readonly kind: 'added' | 'removed' | 'changed';
  readonly before?: string;
  readonly after?: string;
}

const LISTS = [
  'filesystem.write', 'filesystem.read_deny', 'filesystem.allow_sensitive', 'network.allow', 'network.deny',
  'tools.allow', 'tools.ask', 'tools.deny',
] as const;
const SCALARS = ['display_name', 'owner', 'purpose', 'agent', 'execution_mode', 'expires'] as const;
const LIMITS = ['max_runtime', 'max_tool_calls', 'approval_timeout', 'drift_threshold', 'on_drift'] as const;

function get(p: Persona, field: string): unknown {
  return field.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], p);
}

const text = (v: unknown): string | undefined => (v === undefined || v === null ? undefined : String(v));

/** Every difference from `a` to `b`, in file order. */
export function diffPersonas(a: Persona, b: Persona): PersonaChange[] {
  const out: PersonaChange[] = [];
  if (a.name !== b.name) out.push({ field: 'name', kind: 'changed', before: a.name, after: b.name });
  for (const f of SCALARS) {
    const x = text(a[f]);
    const y = text(b[f]);
    if (x === y) continue;
    out.push({ field: f, kind: x === undefined ? 'added' : y === undefined ? 'removed' : 'changed', ...(x === undefined ? {} : { before: x }), ...(y === undefined ? {} : { after: y }) });
  }
  for (const f of LISTS) {
    const x = (get(a, f) ?? []) as string[];
    const y = (get(b, f) ?? []) as string[];
    for (const v of x) if (!y.includes(v)) out.push({ field: f, kind: 'removed', before: v });
    for (const v of y) if (!x.includes(v)) out.push({ field: f, kind: 'added', after: v });
  }
  const keys = [...new Set([...Object.keys(a.credentials), ...Object.keys(b.credentials)])].sort();
  for (const k of keys) {
    // A credential is a reference (`secret:NAME`) or a spec ({ secret, hosts, inject }): compared as written.
    const show = (v: (typeof a.credentials)[string] | undefined): string | undefined => (v === undefined ? undefined : typeof v === 'string' ? v : JSON.stringify(v));
    const x = show(a.credentials[k]);
    const y = show(b.credentials[k]);
    if (x === y) continue;
    out.push({ field: `credentials.${k}`, kind: x === undefined ? 'added' : y === undefined ? 'removed' : 'changed', ...(x === undefined ? {} : { before: x }), ...(y === undefined ? {} : { after: y }) });
  }
  for (const f of LIMITS) {
    const x = text(a.limits[f]);
    const y = text(b.limits[f]);
    if (x !== y) out.push({ field: `limits.${f}`, kind: x === undefined ? 'added' : y === undefined ? 'removed' : 'changed', ...(x === undefined ? {} : { before: x }), ...(y === undefined ? {} : { after: y }) });
  }
  return out;
}

/** One change as one line: `+ network.allow: api.github.com`, `~ execution_mode: approve -> observe`. */
export function formatChange(c: PersonaChange): string {
  if (c.kind === 'added') return `+ ${c.field}: ${c.after ?? ''}`;
  if (c.kind === 'removed') return `- ${c.field}: ${c.before ?? ''}`;
  return `~ ${c.field}: ${c.before ?? ''} -> ${c.after ?? ''}`;
}

const list = (xs: readonly string[], none: string): string => (xs.length === 0 ? none : xs.join(', '));

/** What a persona grants, one line per kind of grant. */
export function describeGrants(p: Persona): string[] {
  return [
    `agent ${p.agent}, execution_mode ${p.execution_mode}, owner ${p.owner}${p.expires === undefined ? '' : `, expires ${p.expires.slice(0, 10)}`}`,
    `writes: ${list(p.filesystem.write, 'nothing (read-only)')}${p.filesystem.allow_sensitive.length > 0 ? `; persistence traps: ${p.filesystem.allow_sensitive.join(', ')}` : ''}`,
    `network: ${list(p.network.allow, 'none')}${p.network.deny.length > 0 ? `; denied: ${p.network.deny.join(', ')}` : ''}`,
    `tools: allow ${list(p.tools.allow, '-')}; ask ${list(p.tools.ask, '-')}; deny ${list(p.tools.deny, '-')}`,
    `credentials: ${list(Object.entries(p.credentials).map(([k, v]) => `${k} <- ${v}`), 'none')}`,
  ];
}
