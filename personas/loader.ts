// Persona files on disk: load one, find one by name, list them all, decide
// whether one may run now, and write one back out as YAML. Every failure is
// one line naming the file, never a stack trace.
import { closeSync, openSync, readSync, readdirSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { stringify } from 'yaml';
import { oneLine } from './issue-format.js';
import { MAX_PERSONA_FILE_BYTES, formatFromName, parsePersonaText } from './parse-text.js';
import type { ParseResult } from './parse-text.js';
import { personasDir } from './paths.js';
import { SLUG_RE } from './schema.js';
import type { Persona } from './schema.js';

export { MAX_PERSONA_FILE_BYTES, MAX_YAML_ALIASES, parsePersonaText } from './parse-text.js';
export type { ParseResult, PersonaFormat } from './parse-text.js';

/** File extensions a persona file may have, in lookup order. */
export const PERSONA_EXTENSIONS = ['.yaml', '.yml', '.json'] as const;

export type FindResult = { ok: true; persona: Persona; path: string } | { ok: false; errors: string[] };

export interface PersonaEntry {
  /** The file's base name without extension (what `name:` must be). */
  readonly name: string;
  readonly path: string;
  readonly result: ParseResult;
}

function errnoCode(err: unknown): string | undefined {
  return err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

function fileError(label: string, err: unknown): string {
  switch (errnoCode(err)) {
    case 'ENOENT':
      return `${label}: no such file`;
    case 'EACCES':
    case 'EPERM':
      return `${label}: cannot read the file (permission denied)`;
    case 'EISDIR':
      return `${label}: is a directory, not a persona file`;
    default:
      return `${label}: cannot read the file (${err instanceof Error ? err.message : String(err)})`;
  }
}

function readBounded(path: string, limit: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(limit + 1);
    let total = 0;
    for (;;) {
      const n = readSync(fd, buf, total, buf.length - total, null);
      if (n === 0 || total + n >= buf.length) return buf.subarray(0, total + n);
      total += n;
    }
  } finally {
    closeSync(fd);
  }
}

/** Reads, parses and validates a persona file; its `name` must equal the file's base name. */
export function loadPersonaFile(path: string): ParseResult {
  const label = oneLine(path);
  const ext = extname(path).toLowerCase();
  if (!(PERSONA_EXTENSIONS as readonly string[]).includes(ext)) {
    return { ok: false, errors: [`${label}: unsupported file type ${JSON.stringify(ext || '(none)')}; persona files end in .yaml, .yml or .json`] };
  }
  let bytes: Buffer;
  try {
    const stat = statSync(path);
    if (stat.isDirectory()) return { ok: false, errors: [`${label}: is a directory, not a persona file`] };
    if (!stat.isFile()) return { ok: false, errors: [`${label}: is not a regular file`] };
    if (stat.size > MAX_PERSONA_FILE_BYTES) {
      return { ok: false, errors: [`${label}: file is ${Math.ceil(stat.size / 1024)} KiB; persona files are limited to ${MAX_PERSONA_FILE_BYTES / 1024} KiB`] };
    }
    bytes = readBounded(path, MAX_PERSONA_FILE_BYTES);
  } catch (err) {
    return { ok: false, errors: [oneLine(fileError(label, err))] };
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return { ok: false, errors: [`${label}: is not UTF-8 text`] };
  }
  const result = parsePersonaText(text, label, formatFromName(path));
  if (!result.ok) return result;
  const expected = basename(path, extname(path));
  if (result.persona.name !== expected) {
    return {
      ok: false,
      errors: [oneLine(`${label}: name: ${JSON.stringify(result.persona.name)} does not match the file name; a persona's name must equal its file's base name (${JSON.stringify(expected)})`)],
    };
  }
  return result;
}

function personaFiles(dir: string): Array<{ name: string; path: string }> {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw new Error(oneLine(`cannot list persona files in ${dir}: ${err instanceof Error ? err.message : String(err)}`));
  }
  const files: Array<{ name: string; path: string }> = [];
  for (const entry of entries) {
    const ext = extname(entry.name).toLowerCase();
    if (entry.name.startsWith('.') || entry.isDirectory() || !(PERSONA_EXTENSIONS as readonly string[]).includes(ext)) continue;
    files.push({ name: basename(entry.name, extname(entry.name)), path: join(dir, entry.name) });
  }
  return files.sort((a, b) => (a.name === b.name ? a.path.localeCompare(b.path) : a.name < b.name ? -1 : 1));
}

/** Every persona file in `personasDir(home)` with its parse result, valid or not, sorted by name. */
export function listPersonas(home: string): PersonaEntry[] {
  return personaFiles(personasDir(home)).map(({ name, path }) => ({ name, path, result: loadPersonaFile(path) }));
}

/** Finds `<name>.yaml`, `.yml` or `.json` in `personasDir(home)` and loads it. */
export function findPersona(home: string, name: string): FindResult {
  const dir = personasDir(home);
  if (!SLUG_RE.test(name)) {
    return { ok: false, errors: [oneLine(`${JSON.stringify(name)} is not a valid persona name (lowercase letters, digits and dashes)`)] };
  }
  let files: Array<{ name: string; path: string }>;
  try {
    files = personaFiles(dir);
  } catch (err) {
    return { ok: false, errors: [err instanceof Error ? err.message : String(err)] };
  }
  const matches = files.filter((f) => f.name === name);
  if (matches.length === 0) {
    const known = [...new Set(files.map((f) => f.name))];
    return { ok: false, errors: [oneLine(`unknown persona ${JSON.stringify(name)} (looked in ${dir}; known: ${known.length > 0 ? known.join(', ') : 'none'})`)] };
  }
  if (matches.length > 1) {
    const names = matches.map((m) => basename(m.path)).join(', ');
    return { ok: false, errors: [oneLine(`persona ${JSON.stringify(name)} has more than one file (${names} in ${dir}); keep only one`)] };
  }
  const path = (matches[0] as { path: string }).path;
  const result = loadPersonaFile(path);
  return result.ok ? { ok: true, persona: result.persona, path } : result;
}

/** true once `now` is past the persona's `expires` instant. */
export function isExpired(persona: Persona, now: Date = new Date()): boolean {
  if (persona.expires === undefined) return false;
  const until = Date.parse(persona.expires);
  return Number.isNaN(until) || now.getTime() > until;
}

/** `2026-01-31` for a date-only expiry (stored as that day's last instant), else the ISO timestamp. */
export function formatExpiry(expires: string): string {
  return expires.endsWith('T23:59:59.999Z') ? expires.slice(0, 10) : expires;
}

/**
 * Why this persona may not run now, in one line, or undefined when it may.
 * `file` names the persona file in the expiry hint.
 */
export function checkRunnable(
  persona: Persona,
  now: Date = new Date(),
  suspended: ReadonlySet<string> = new Set(),
  file = 'its persona file',
): string | undefined {
  const name = JSON.stringify(persona.name);
  if (suspended.has(persona.name)) return `persona ${name} is suspended; resume it (personae persona resume ${persona.name}) before running it again`;
  if (isExpired(persona, now) && persona.expires !== undefined) {
    return oneLine(`persona ${name} expired on ${formatExpiry(persona.expires)}; edit expires: in ${file} to extend it`);
  }
  return undefined;
}

/** The persona as a YAML persona file; `parsePersonaText` of the result gives the same persona back. */
export function serializePersona(persona: Persona): string {
  return stringify(persona, { lineWidth: 0, aliasDuplicateObjects: false });
}
