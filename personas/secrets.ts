// The local secret store: persona files name secrets (`secret:gh-night`),
// this file holds their values. One JSON file, mode 0600 in a 0700 directory,
// replaced atomically. Values never appear in errors or logs: messages name
// secrets, never show them.
import * as z from 'zod/mini';
import { PrivateFileError, readPrivateFile, writePrivateFileAtomic } from './private-file.js';
import { secretsPath } from './paths.js';
import { SECRET_NAME_RE } from './schema.js';

/** Largest secret value accepted, in UTF-8 bytes. */
export const MAX_SECRET_BYTES = 64 * 1024;
const MAX_STORE_BYTES = 64 * 1024 * 1024;
const WHAT = 'secrets file';

/** A one-line, user-facing secret store problem. Never contains a secret value. */
export class SecretStoreError extends Error {
  override readonly name = 'SecretStoreError';
}

const StoreFileSchema = z.strictObject({
  version: z.literal(1),
  secrets: z.record(z.string().check(z.regex(SECRET_NAME_RE)), z.string()),
});

export interface SecretLookup {
  /** Values of the secrets found, by name. */
  readonly values: Record<string, string>;
  /** Requested names the store does not hold. */
  readonly missing: string[];
}

/** The store bound to one personae home. */
export interface SecretStore {
  readonly path: string;
  set(name: string, value: string): void;
  remove(name: string): boolean;
  names(): string[];
  get(names: readonly string[]): SecretLookup;
}

function rethrow(err: unknown): never {
  if (err instanceof PrivateFileError) throw new SecretStoreError(err.message);
  throw err;
}

function readStore(home: string): Map<string, string> {
  const path = secretsPath(home);
  let text: string | undefined;
  try {
    text = readPrivateFile(path, WHAT, MAX_STORE_BYTES);
  } catch (err) {
    rethrow(err);
  }
  if (text === undefined) return new Map();
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    // The parser's message quotes the text, which holds secret values: say nothing more.
    throw new SecretStoreError(`${WHAT} ${path} is not valid JSON; restore it from a backup or remove it and set the secrets again`);
  }
  const parsed = StoreFileSchema.safeParse(data);
  if (!parsed.success) {
    throw new SecretStoreError(`${WHAT} ${path} is not in the format personae writes; restore it from a backup or remove it and set the secrets again`);
  }
  return new Map(Object.entries(parsed.data.secrets));
}

function writeStore(home: string, secrets: ReadonlyMap<string, string>): void {
  const sorted = Object.fromEntries([...secrets.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const text = `${JSON.stringify({ version: 1, secrets: sorted }, null, 2)}\n`;
  try {
    writePrivateFileAtomic(secretsPath(home), text, WHAT);
  } catch (err) {
    rethrow(err);
  }
}

/** Throws a SecretStoreError unless `name` is a valid secret name. */
export function assertSecretName(name: string): void {
  if (typeof name !== 'string' || !SECRET_NAME_RE.test(name)) {
    const shown = JSON.stringify(String(name).slice(0, 60));
    throw new SecretStoreError(`invalid secret name ${shown}: use letters, digits, ".", "_" and "-", starting with a letter or digit, at most 128 characters`);
  }
}

/** Strips one trailing newline (values usually arrive on stdin) and validates; returns the value to store. */
export function normalizeSecretValue(value: string): string {
  const v = value.endsWith('\r\n') ? value.slice(0, -2) : value.endsWith('\n') ? value.slice(0, -1) : value;
  if (v === '') throw new SecretStoreError('secret value is empty');
  const bytes = Buffer.byteLength(v, 'utf8');
  if (bytes > MAX_SECRET_BYTES) throw new SecretStoreError(`secret value is ${bytes} bytes; the limit is ${MAX_SECRET_BYTES / 1024} KiB`);
  if (v.includes('\0')) throw new SecretStoreError('secret value contains a NUL byte, which an environment variable cannot carry');
  return v;
}

/** Stores (or replaces) a secret. */
export function setSecret(home: string, name: string, value: string): void {
  assertSecretName(name);
  const v = normalizeSecretValue(value);
  const secrets = readStore(home);
  secrets.set(name, v);
  writeStore(home, secrets);
}

/** Removes a secret; false when there was none by that name. */
export function removeSecret(home: string, name: string): boolean {
  assertSecretName(name);
  const secrets = readStore(home);
  if (!secrets.delete(name)) return false;
  writeStore(home, secrets);
  return true;
}

/** Names of the stored secrets, sorted. */
export function listSecretNames(home: string): string[] {
  return [...readStore(home).keys()].sort();
}

/** Values of the named secrets, and the names the store lacks. */
export function getSecrets(home: string, names: readonly string[]): SecretLookup {
  const secrets = readStore(home);
  const values: Record<string, string> = {};
  const missing: string[] = [];
  for (const name of new Set(names)) {
    const value = secrets.get(name);
    if (value === undefined) missing.push(name);
    else values[name] = value;
  }
  return { values, missing };
}

/** The store bound to `home`. */
export function openSecretStore(home: string): SecretStore {
  return {
    path: secretsPath(home),
    set: (name, value) => setSecret(home, name, value),
    remove: (name) => removeSecret(home, name),
    names: () => listSecretNames(home),
    get: (names) => getSecrets(home, names),
  };
}
