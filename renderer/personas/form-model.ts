// The persona edit form <-> persona data. Lists are edited one item per
// line; fields the form does not show are kept as they were, and a field the
// file leaves out stays out while the form shows its default (the backend
// then changes only the fields that changed, in place: yaml-edit.ts).
import type { FieldError } from '../../main/api/contract.js';

export interface PersonaForm {
  name: string;
  display_name: string;
  owner: string;
  purpose: string;
  agent: string;
  execution_mode: string;
  expires: string;
  write: string;
  read_deny: string;
  network_allow: string;
  network_deny: string;
  tools_allow: string;
  tools_ask: string;
  tools_deny: string;
  credentials: string;
  max_runtime: string;
  max_tool_calls: string;
  approval_timeout: string;
}

export type FormField = keyof PersonaForm;

export const EMPTY_FORM: PersonaForm = {
  name: '', display_name: '', owner: '', purpose: '', agent: 'shell', execution_mode: 'approve', expires: '',
  write: '{workspace}', read_deny: '~/.ssh\n~/.aws\n~/.gnupg', network_allow: '', network_deny: '',
  tools_allow: '', tools_ask: '', tools_deny: '', credentials: '', max_runtime: '', max_tool_calls: '', approval_timeout: '',
};

type Data = Record<string, unknown>;

function obj(v: unknown): Data {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Data) : {};
}

function lines(v: unknown): string {
  return Array.isArray(v) ? v.map(String).join('\n') : '';
}

function str(v: unknown): string {
  return v === undefined || v === null ? '' : String(v);
}

/** One credential as a form line: `ENV=secret:NAME`, `ENV=secret:NAME hosts=a.com,b.com` or `ENV=secret:NAME inject=env`. */
function credentialLine(env: string, ref: unknown): string {
  if (typeof ref !== 'object' || ref === null) return `${env}=${str(ref)}`;
  const r = ref as { secret?: unknown; hosts?: unknown; inject?: unknown };
  const hosts = Array.isArray(r.hosts) && r.hosts.length > 0 ? ` hosts=${r.hosts.map(String).join(',')}` : '';
  const inject = r.inject === 'env' ? ' inject=env' : '';
  return `${env}=secret:${str(r.secret)}${hosts}${inject}`;
}

/** A form line's credential: the short form, or the long form when it names hosts or inject. */
function credentialRef(text: string): unknown {
  const [ref = '', ...opts] = text.split(/\s+/);
  if (opts.length === 0) return ref;
  const out: Data = { secret: ref.replace(/^secret:/, '') };
  for (const o of opts) {
    const eq = o.indexOf('=');
    const key = eq === -1 ? o : o.slice(0, eq);
    const value = eq === -1 ? '' : o.slice(eq + 1);
    out[key] = key === 'hosts' ? value.split(',').map((h) => h.trim()).filter((h) => h !== '') : value;
  }
  return out;
}

function list(text: string): string[] {
  return text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
}

export function formFromData(data: Data): PersonaForm {
  const fs = obj(data.filesystem);
  const net = obj(data.network);
  const tools = obj(data.tools);
  const limits = obj(data.limits);
  const creds = Object.entries(obj(data.credentials)).map(([k, v]) => credentialLine(k, v)).join('\n');
  return {
    name: str(data.name), display_name: str(data.display_name), owner: str(data.owner), purpose: str(data.purpose),
    agent: str(data.agent) || 'shell', execution_mode: str(data.execution_mode) || 'approve', expires: str(data.expires),
    write: lines(fs.write), read_deny: lines(fs.read_deny), network_allow: lines(net.allow), network_deny: lines(net.deny),
    tools_allow: lines(tools.allow), tools_ask: lines(tools.ask), tools_deny: lines(tools.deny), credentials: creds,
    max_runtime: str(limits.max_runtime), max_tool_calls: str(limits.max_tool_calls), approval_timeout: str(limits.approval_timeout),
  };
}

/** The persona data for a form, on top of `base` (the file as it was) so unshown fields survive. */
export function dataFromForm(f: PersonaForm, base: Data = {}): Data {
  const set = (o: Data, k: string, v: unknown): void => {
    if (v === '' || v === undefined || (Array.isArray(v) && v.length === 0 && !(k in o))) delete o[k];
    else o[k] = v;
  };
  const out: Data = { ...base, version: base.version ?? 1 };
  for (const k of ['name', 'display_name', 'owner', 'purpose', 'agent', 'execution_mode', 'expires'] as const) set(out, k, f[k].trim());
  // Left out of the file and shown as the default (or, for display_name, as the name): still left out.
  if (!('execution_mode' in base) && 'name' in base && out.execution_mode === EMPTY_FORM.execution_mode) delete out.execution_mode;
  if (!('display_name' in base) && 'name' in base && out.display_name === out.name) delete out.display_name;
  const fs = { ...obj(base.filesystem) };
  set(fs, 'write', list(f.write));
  set(fs, 'read_deny', list(f.read_deny));
  const net = { ...obj(base.network) };
  set(net, 'allow', list(f.network_allow));
  set(net, 'deny', list(f.network_deny));
  const tools = { ...obj(base.tools) };
  set(tools, 'allow', list(f.tools_allow));
  set(tools, 'ask', list(f.tools_ask));
  set(tools, 'deny', list(f.tools_deny));
  const limits = { ...obj(base.limits) };
  set(limits, 'max_runtime', f.max_runtime.trim());
  const calls = f.max_tool_calls.trim();
  set(limits, 'max_tool_calls', calls === '' ? '' : /^\d+$/.test(calls) ? Number(calls) : calls);
  set(limits, 'approval_timeout', f.approval_timeout.trim());
  const creds: Data = {};
  for (const l of list(f.credentials)) {
    const eq = l.indexOf('=');
    if (eq > 0) creds[l.slice(0, eq).trim()] = credentialRef(l.slice(eq + 1).trim());
    else creds[l] = '';
  }
  for (const [k, v] of [['filesystem', fs], ['network', net], ['tools', tools], ['limits', limits], ['credentials', creds]] as const) {
    if (Object.keys(v).length === 0) delete out[k];
    else out[k] = v;
  }
  return out;
}

const FIELD_OF: ReadonlyArray<[RegExp, FormField]> = [
  [/^filesystem\.write/, 'write'],
  [/^filesystem\.read_deny/, 'read_deny'],
  [/^network\.allow/, 'network_allow'],
  [/^network\.deny/, 'network_deny'],
  [/^tools\.allow/, 'tools_allow'],
  [/^tools\.ask/, 'tools_ask'],
  [/^tools\.deny/, 'tools_deny'],
  [/^credentials/, 'credentials'],
  [/^limits\.max_runtime/, 'max_runtime'],
  [/^limits\.max_tool_calls/, 'max_tool_calls'],
  [/^limits\.approval_timeout/, 'approval_timeout'],
  [/^(name|display_name|owner|purpose|agent|execution_mode|expires)$/, 'name'],
];

/** Which form field shows a server field error (`network.allow[2]` -> network_allow); undefined: the form's general errors. */
export function formFieldOf(error: FieldError): FormField | undefined {
  for (const [re, field] of FIELD_OF) {
    if (!re.test(error.field)) continue;
    return field === 'name' ? (error.field as FormField) : field;
  }
  return undefined;
}

/** Errors grouped by form field, with the item path kept in the message (`[2]: "*.com" is too broad`). */
export function groupErrors(errors: readonly FieldError[]): { byField: Partial<Record<FormField, string[]>>; general: string[] } {
  const byField: Partial<Record<FormField, string[]>> = {};
  const general: string[] = [];
  for (const e of errors) {
    const f = formFieldOf(e);
    if (f === undefined) {
      general.push(e.field ? `${e.field}: ${e.message}` : e.message);
      continue;
    }
    // `network.allow[2]` -> `line 3: ...`, `credentials.TOKEN` -> `TOKEN: ...`
    const item = /(?:\[(\d+)\]|\.([A-Z_][A-Z0-9_]*))$/.exec(e.field);
    const where = item?.[1] !== undefined ? `line ${Number(item[1]) + 1}` : item?.[2];
    (byField[f] ??= []).push(where ? `${where}: ${e.message}` : e.message);
  }
  return { byField, general };
}
