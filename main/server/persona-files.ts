// Personas for the control API: summaries with grants at a glance, the file
// as written (for the edit form), validation with errors on the field (the
// same schema and wording as the CLI), and writes (create, update, import)
// that only ever land as valid files in $PERSONAE_HOME/personas.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { parse as parseYaml, stringify } from 'yaml';
import { secretName } from '../../personas/credential-ref.js';
import { describeIssues, formatPath } from '../../personas/issue-format.js';
import { isExpired, listPersonas, loadPersonaFile, parsePersonaText, PERSONA_EXTENSIONS } from '../../personas/loader.js';
import type { PersonaFormat } from '../../personas/loader.js';
import { personasDir } from '../../personas/paths.js';
import { PersonaSchema, SLUG_RE, type Persona } from '../../personas/schema.js';
import { listSuspended } from '../../personas/suspended.js';
import type { FieldError, PersonaDetail, PersonaList, PersonaSummary } from '../api/contract.js';
import { HttpError } from './http.js';
import { applyToYaml } from './yaml-edit.js';

export function summarize(persona: Persona, file: string, suspended: ReadonlySet<string>, now = new Date()): PersonaSummary {
  const credentials: Record<string, string> = {};
  for (const [env, ref] of Object.entries(persona.credentials)) credentials[env] = secretName(ref);
  const limits: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(persona.limits)) if (typeof v === 'string' || typeof v === 'number') limits[k] = v;
  return {
    name: persona.name,
    display_name: persona.display_name,
    owner: persona.owner,
    purpose: persona.purpose,
    agent: persona.agent,
    execution_mode: persona.execution_mode,
    expires: persona.expires ?? null,
    expired: isExpired(persona, now),
    suspended: suspended.has(persona.name),
    grants: {
      write: persona.filesystem.write,
      read_deny: persona.filesystem.read_deny,
      network_allow: persona.network.allow,
      network_deny: persona.network.deny,
      tools_allow: persona.tools.allow,
      tools_ask: persona.tools.ask,
      tools_deny: persona.tools.deny,
      credentials,
    },
    limits,
    file,
  };
}

function suspendedOrEmpty(home: string): Set<string> {
  try {
    return listSuspended(home);
  } catch {
    return new Set();
  }
}

export function listAll(home: string): PersonaList {
  const suspended = suspendedOrEmpty(home);
  const out: PersonaList = { personas: [], invalid: [] };
  for (const entry of listPersonas(home)) {
    if (entry.result.ok) out.personas.push(summarize(entry.result.persona, entry.path, suspended));
    else out.invalid.push({ name: entry.name, file: entry.path, errors: entry.result.errors });
  }
  return out;
}

function fileOf(home: string, name: string): string | undefined {
  if (!SLUG_RE.test(name)) return undefined;
  for (const ext of PERSONA_EXTENSIONS) {
    const p = join(personasDir(home), `${name}${ext}`);
    if (existsSync(p)) return p;
  }
  return undefined;
}

function formatOf(file: string): PersonaFormat {
  return file.toLowerCase().endsWith('.json') ? 'json' : 'yaml';
}

export function detail(home: string, name: string): PersonaDetail {
  const file = fileOf(home, name);
  if (file === undefined) throw new HttpError(404, `unknown persona ${JSON.stringify(name)}`, { code: 'not-found' });
  const loaded = loadPersonaFile(file);
  if (!loaded.ok) throw new HttpError(422, loaded.errors.join('\n'), { code: 'invalid', fields: textFieldErrors(loaded.errors, file) });
  const text = readFileSync(file, 'utf8');
  const format = formatOf(file);
  const raw: unknown = format === 'json' ? JSON.parse(text) : parseYaml(text, { maxAliasCount: 100 });
  const data = raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  return { summary: summarize(loaded.persona, file, suspendedOrEmpty(home)), data, text, format };
}

/** Field errors for persona data, worded as the CLI words them. */
export function dataFieldErrors(data: unknown): FieldError[] {
  const parsed = PersonaSchema.safeParse(data, { reportInput: true });
  if (parsed.success) return [];
  const out: FieldError[] = [];
  for (const issue of parsed.error.issues) {
    const candidates = [formatPath(issue.path)];
    if (issue.code === 'unrecognized_keys') for (const k of issue.keys) candidates.push(formatPath([...issue.path, k]));
    for (const line of describeIssues([issue])) {
      const field = candidates.filter((c) => c !== '' && line.startsWith(`${c}: `)).sort((a, b) => b.length - a.length)[0];
      out.push(field === undefined ? { field: '', message: line } : { field, message: line.slice(field.length + 2) });
    }
  }
  return out;
}

/** Field errors from `file: field: message` lines (text validation and imports). */
export function textFieldErrors(lines: readonly string[], label: string): FieldError[] {
  return lines.map((l) => {
    const rest = l.startsWith(`${label}: `) ? l.slice(label.length + 2) : l;
    const m = /^([A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_][A-Za-z0-9_-]*|\[\d+\]|\["[^"]*"\])*): (.*)$/.exec(rest);
    return m && !/^line \d+$/.test(m[1] ?? '') ? { field: m[1] ?? '', message: m[2] ?? '' } : { field: '', message: rest };
  });
}

export function validateText(text: string, format: PersonaFormat): FieldError[] {
  const label = `persona.${format}`;
  const r = parsePersonaText(text, label, format);
  return r.ok ? [] : textFieldErrors(r.errors, label);
}

function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, text, { mode: 0o644 });
  renameSync(tmp, file);
}

function refuseInvalid(fields: FieldError[]): void {
  if (fields.length === 0) return;
  const summary = fields.map((f) => (f.field ? `${f.field}: ${f.message}` : f.message)).join('; ');
  throw new HttpError(422, `invalid persona: ${summary}`, { code: 'invalid', fields });
}

const HEADER = '# Written by the personae app. Validate with: personae persona validate FILE\n';

/** Creates (name must be free) or updates (name must match) a persona from data; returns its detail. */
export function writeData(home: string, data: Record<string, unknown>, mode: { create: true } | { update: string }): PersonaDetail {
  refuseInvalid(dataFieldErrors(data));
  const name = String(data.name);
  const existing = fileOf(home, name);
  if ('create' in mode && existing !== undefined) {
    throw new HttpError(409, `persona ${JSON.stringify(name)} already exists`, { code: 'exists', fields: [{ field: 'name', message: 'is already taken' }] });
  }
  if ('update' in mode) {
    if (name !== mode.update) throw new HttpError(422, 'a persona cannot be renamed; create a new one instead', { fields: [{ field: 'name', message: `must stay ${JSON.stringify(mode.update)}` }] });
    if (existing === undefined) throw new HttpError(404, `unknown persona ${JSON.stringify(name)}`, { code: 'not-found' });
  }
  const file = existing ?? join(personasDir(home), `${name}.yaml`);
  // An existing YAML file is edited in place: its comments, order and formatting stay.
  const before = existing !== undefined && formatOf(file) === 'yaml' ? readFileSync(file, 'utf8') : undefined;
  const edited = before !== undefined ? applyToYaml(before, data) : undefined;
  const text = formatOf(file) === 'json' ? `${JSON.stringify(data, null, 2)}\n` : edited ?? HEADER + stringify(data, { lineWidth: 0 });
  mkdirSync(personasDir(home), { recursive: true });
  writeAtomic(file, text);
  return detail(home, name);
}

/** Imports a persona file's text as-is (comments kept) under its own name. */
export function importText(home: string, text: string, filename: string, overwrite: boolean): PersonaDetail {
  const ext = extname(filename).toLowerCase() === '.json' ? '.json' : '.yaml';
  const format: PersonaFormat = ext === '.json' ? 'json' : 'yaml';
  const label = basename(filename);
  const r = parsePersonaText(text, label, format);
  if (!r.ok) throw new HttpError(422, r.errors.join('\n'), { code: 'invalid', fields: textFieldErrors(r.errors, label) });
  const name = r.persona.name;
  const existing = fileOf(home, name);
  if (existing !== undefined && !overwrite) throw new HttpError(409, `persona ${JSON.stringify(name)} already exists; import with overwrite to replace it`, { code: 'exists' });
  mkdirSync(personasDir(home), { recursive: true });
  const file = join(personasDir(home), `${name}${ext}`);
  writeAtomic(file, text);
  if (existing !== undefined && existing !== file) rmSync(existing, { force: true });
  return detail(home, name);
}

/** The persona file for download: it holds secret names only, never values. */
export function exportFile(home: string, name: string): { filename: string; text: string; format: PersonaFormat } {
  const file = fileOf(home, name);
  if (file === undefined) throw new HttpError(404, `unknown persona ${JSON.stringify(name)}`, { code: 'not-found' });
  return { filename: basename(file), text: readFileSync(file, 'utf8'), format: formatOf(file) };
}

export function exists(home: string, name: string): boolean {
  return fileOf(home, name) !== undefined;
}
