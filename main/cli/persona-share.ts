// `personae persona suggest SESSION...`, `persona diff NAME FILE`, and
// `persona install DIR|FILE|PRESET`: personas learned from runs and shared as
// files (a folder of presets is a checkout of the team's repository).
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describeGrants, diffPersonas, formatChange } from '../../personas/diff.js';
import { findPersona, loadPersonaFile, PERSONA_EXTENSIONS } from '../../personas/loader.js';
import type { Persona } from '../../personas/schema.js';
import { personasDir } from '../../personas/paths.js';
import { findSecretLike } from '../../personas/secret-scan.js';
import { getSecrets, listSecretNames } from '../../personas/secrets.js';
import { packageRoot } from '../../sandbox/launch/host-tools.js';
import { home, openStore } from './context.js';
import { fail, info } from './output.js';

function presetsDir(): string {
  return path.join(packageRoot(), 'personas', 'presets');
}

export async function personaSuggest(sessions: readonly string[], opts: { name?: string; minSessions?: string }): Promise<number> {
  const min = opts.minSessions === undefined ? undefined : Number(opts.minSessions);
  if (min !== undefined && (!Number.isInteger(min) || min < 1)) return fail('--min-sessions must be a whole number of at least 1', 2);
  let store;
  try {
    store = await openStore(true);
  } catch {
    return fail('no audit log yet: run a session first', 1);
  }
  try {
    const { suggestFromSessions } = await import('../persona-suggest.js');
    const s = suggestFromSessions(home(), store, sessions, { ...(opts.name === undefined ? {} : { name: opts.name }), ...(min === undefined ? {} : { minSessions: min }) });
    process.stdout.write(s.yaml);
    info(`learned from ${s.sessions.length} session(s); ${s.leftOut.length} thing(s) left out on purpose (listed at the end)${s.currentPath === null ? '' : `; ${s.changes.length} change(s) from ${s.currentPath}`}`);
    return 0;
  } catch (e) {
    return fail((e as Error).message, 2);
  } finally {
    store.close();
  }
}

export function personaDiff(name: string, file: string): number {
  const current = findPersona(home(), name);
  if (!current.ok) return fail(current.errors.join('\n'), 2);
  const other = loadPersonaFile(file);
  if (!other.ok) return fail(other.errors.join('\n'), 2);
  const changes = diffPersonas(current.persona, other.persona);
  if (changes.length === 0) process.stdout.write(`no changes: ${file} grants what ${name} grants\n`);
  for (const c of changes) process.stdout.write(`${formatChange(c)}\n`);
  return 0;
}

interface Candidate {
  readonly source: string;
  readonly persona: Persona;
}

function personaFilesIn(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => !e.name.startsWith('.') && !e.isDirectory() && (PERSONA_EXTENSIONS as readonly string[]).includes(path.extname(e.name).toLowerCase()))
    .map((e) => path.join(dir, e.name))
    .sort();
}

/** A persona file checked for installing: valid, and free of anything that looks like a secret. */
function check(file: string, known: Readonly<Record<string, string>>): Candidate | string[] {
  const r = loadPersonaFile(file);
  if (!r.ok) return r.errors;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    return [`${file}: ${(e as Error).message}`];
  }
  const secret = findSecretLike(text, known);
  if (secret !== undefined) return [`${file}: holds what looks like a secret (${secret}); persona files name secrets as secret:NAME (personae secret set NAME), never their values`];
  return { source: file, persona: r.persona };
}

export function personaInstall(target: string, opts: { force?: boolean; dryRun?: boolean }): number {
  const preset = path.join(presetsDir(), `${target}.yaml`);
  const isDir = existsSync(target) && statSync(target).isDirectory();
  const files = isDir ? personaFilesIn(target) : existsSync(target) ? [target] : existsSync(preset) ? [preset] : [];
  if (files.length === 0) {
    return fail(isDir ? `${target}: no persona files (.yaml, .yml, .json) in this folder` : `no persona file, folder or preset "${target}" (presets are in ${presetsDir()})`, 2);
  }
  const h = home();
  const known = getSecrets(h, listSecretNames(h)).values;
  const candidates: Candidate[] = [];
  const problems: string[] = [];
  for (const f of files) {
    const c = check(f, known);
    if (Array.isArray(c)) problems.push(...c);
    else candidates.push(c);
  }
  const names = new Map<string, string>();
  for (const c of candidates) {
    const other = names.get(c.persona.name);
    if (other !== undefined) problems.push(`${c.source}: persona ${c.persona.name} is also defined by ${other}`);
    names.set(c.persona.name, c.source);
  }
  // All or nothing: a team's presets go in together, or not at all.
  if (problems.length > 0) return fail([...problems, `nothing installed (${problems.length} problem(s))`].join('\n'), 2);
  const dir = personasDir(h);
  const plan: Array<{ c: Candidate; dest: string; existing: Persona | undefined }> = [];
  for (const c of candidates) {
    const dest = path.join(dir, `${c.persona.name}${path.extname(c.source) || '.yaml'}`);
    const found = findPersona(h, c.persona.name);
    plan.push({ c, dest, existing: found.ok ? found.persona : undefined });
  }
  const blocked = plan.filter((p) => p.existing !== undefined && !opts.force);
  for (const { c, existing } of plan) {
    process.stdout.write(`${c.persona.name} (${c.source})${existing === undefined ? '' : ' replaces the installed one'}:\n`);
    for (const line of describeGrants(c.persona)) process.stdout.write(`  ${line}\n`);
    if (existing !== undefined) {
      const changes = diffPersonas(existing, c.persona);
      for (const ch of changes) process.stdout.write(`  ${formatChange(ch)}\n`);
      if (changes.length === 0) process.stdout.write('  (no changes)\n');
    }
  }
  if (opts.dryRun) return 0;
  if (blocked.length > 0) {
    return fail(`${blocked.map((b) => b.c.persona.name).join(', ')} exist already; use --force to replace (changes listed above); nothing installed`, 1);
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const { c, dest } of plan) {
    for (const ext of PERSONA_EXTENSIONS) {
      const other = path.join(dir, `${c.persona.name}${ext}`);
      if (other !== dest && existsSync(other)) return fail(`persona ${c.persona.name} also has ${other}; remove it first`, 1);
    }
    copyFileSync(c.source, dest);
    info(`installed persona ${c.persona.name} at ${dest}`);
  }
  return 0;
}
