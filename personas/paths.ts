// Where personae keeps its state. Everything lives under one directory,
// `$PERSONAE_HOME` (default `~/.local/share/personae`), so a test or a second
// install can point somewhere else with one variable.
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { SLUG_RE } from './schema.js';

/** The personae state directory, absolute: `$PERSONAE_HOME`, else `$XDG_DATA_HOME/personae`, else `~/.local/share/personae`. */
export function personaeHome(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env['PERSONAE_HOME'];
  if (explicit !== undefined && explicit !== '') return resolve(explicit);
  const xdg = env['XDG_DATA_HOME'];
  if (xdg !== undefined && isAbsolute(xdg)) return resolve(xdg, 'personae');
  const home = env['HOME'] !== undefined && env['HOME'] !== '' ? env['HOME'] : homedir();
  return resolve(home, '.local', 'share', 'personae');
}

/** Persona files: `<home>/personas/<name>.yaml|.yml|.json`. */
export function personasDir(home: string): string {
  return join(home, 'personas');
}

/** The local secret store directory (mode 0700). */
export function secretsDir(home: string): string {
  return join(home, 'secrets');
}

/** The local secret store file (mode 0600). */
export function secretsPath(home: string): string {
  return join(secretsDir(home), 'secrets.json');
}

/** The persona's own persistent HOME, mounted read-write into its sandboxes. Throws on a name that is not a slug. */
export function personaHomeDir(home: string, name: string): string {
  if (!SLUG_RE.test(name)) throw new Error(`${JSON.stringify(name)} is not a valid persona name`);
  return join(home, 'homes', name);
}

/** Runtime sockets and pid files. */
export function runDir(home: string): string {
  return join(home, 'run');
}

/** The SQLite audit database. */
export function auditDbPath(home: string): string {
  return join(home, 'audit.db');
}

/** The list of suspended personas. */
export function suspendedPath(home: string): string {
  return join(home, 'suspended.json');
}
