import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { secretsDir, secretsPath, suspendedPath } from '../../personas/paths.js';
import {
  MAX_SECRET_BYTES,
  SecretStoreError,
  getSecrets,
  listSecretNames,
  openSecretStore,
  removeSecret,
  setSecret,
} from '../../personas/secrets.js';
import { SuspendedListError, listSuspended, resumePersona, suspendPersona } from '../../personas/suspended.js';

let home: string;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'personae-secrets-'));
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

function mode(path: string): number {
  return statSync(path).mode & 0o777;
}

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a throw');
}

describe('secret store', () => {
  test('set, list, get, remove', () => {
    expect(listSecretNames(home)).toEqual([]);
    setSecret(home, 'gh-night', 'ghp_value\n');
    setSecret(home, 'a.token', 'x');
    expect(listSecretNames(home)).toEqual(['a.token', 'gh-night']);
    expect(getSecrets(home, ['gh-night', 'nope', 'gh-night'])).toEqual({ values: { 'gh-night': 'ghp_value' }, missing: ['nope'] });
    setSecret(home, 'gh-night', 'replaced');
    expect(getSecrets(home, ['gh-night']).values).toEqual({ 'gh-night': 'replaced' });
    expect(removeSecret(home, 'gh-night')).toBe(true);
    expect(removeSecret(home, 'gh-night')).toBe(false);
    expect(listSecretNames(home)).toEqual(['a.token']);
  });

  test('the bound store does the same', () => {
    const store = openSecretStore(home);
    store.set('k', 'v');
    expect(store.names()).toEqual(['k']);
    expect(store.get(['k']).values).toEqual({ k: 'v' });
    expect(store.remove('k')).toBe(true);
    expect(store.path).toBe(secretsPath(home));
  });

  test('file is 0600 in a 0700 directory, written atomically (no temp files left)', () => {
    const old = process.umask(0o000);
    try {
      setSecret(home, 'k', 'v');
    } finally {
      process.umask(old);
    }
    expect(mode(secretsPath(home))).toBe(0o600);
    expect(mode(secretsDir(home))).toBe(0o700);
    expect(readdirSync(secretsDir(home))).toEqual(['secrets.json']);
    expect(JSON.parse(readFileSync(secretsPath(home), 'utf8'))).toEqual({ version: 1, secrets: { k: 'v' } });
  });

  test('only one trailing newline is stripped', () => {
    setSecret(home, 'a', 'line\n\n');
    setSecret(home, 'b', 'crlf\r\n');
    setSecret(home, 'c', '  spaced  ');
    expect(getSecrets(home, ['a', 'b', 'c']).values).toEqual({ a: 'line\n', b: 'crlf', c: '  spaced  ' });
  });

  test.each([
    ['empty', '', 'secret value is empty'],
    ['just a newline', '\n', 'secret value is empty'],
    ['too large', 'x'.repeat(MAX_SECRET_BYTES + 1), `secret value is ${MAX_SECRET_BYTES + 1} bytes; the limit is 64 KiB`],
    ['NUL byte', 'a\0b', 'secret value contains a NUL byte, which an environment variable cannot carry'],
  ])('bad value: %s', (_name, value, message) => {
    const err = thrown(() => setSecret(home, 'k', value));
    expect(err).toBeInstanceOf(SecretStoreError);
    expect(err.message).toBe(message);
  });

  test('a value of exactly 64 KiB is fine', () => {
    setSecret(home, 'k', 'x'.repeat(MAX_SECRET_BYTES));
    expect(getSecrets(home, ['k']).values['k']).toHaveLength(MAX_SECRET_BYTES);
  });

  test.each(['', '-x', '../x', 'a/b', 'a b', 'x'.repeat(129), '__proto__'])('bad name %j', (name) => {
    const err = thrown(() => setSecret(home, name, 'v'));
    expect(err).toBeInstanceOf(SecretStoreError);
    expect(err.message).toMatch(/^invalid secret name ".*": use letters, digits/);
  });

  test('a world-readable secrets file is refused with the chmod fix', () => {
    setSecret(home, 'k', 'topsecret');
    chmodSync(secretsPath(home), 0o644);
    const err = thrown(() => listSecretNames(home));
    expect(err).toBeInstanceOf(SecretStoreError);
    expect(err.message).toBe(
      `secrets file ${secretsPath(home)} is readable or writable by other users (mode 0644); refusing to use it. Fix it with: chmod 600 ${secretsPath(home)}`,
    );
    expect(err.message).not.toContain('topsecret');
    expect(() => getSecrets(home, ['k'])).toThrow(SecretStoreError);
    expect(() => setSecret(home, 'k2', 'v')).toThrow(SecretStoreError);
    chmodSync(secretsPath(home), 0o600);
    expect(listSecretNames(home)).toEqual(['k']);
  });

  test('a group-readable file and a symlink are refused too', () => {
    setSecret(home, 'k', 'v');
    chmodSync(secretsPath(home), 0o640);
    expect(() => listSecretNames(home)).toThrow(/mode 0640/);
    chmodSync(secretsPath(home), 0o600);
    const elsewhere = join(home, 'elsewhere.json');
    writeFileSync(elsewhere, JSON.stringify({ version: 1, secrets: {} }), { mode: 0o600 });
    rmSync(secretsPath(home));
    symlinkSync(elsewhere, secretsPath(home));
    expect(() => listSecretNames(home)).toThrow(/is a symbolic link/);
  });

  test.skipIf(process.getuid?.() !== 0)('a secrets file owned by someone else is refused (needs root to set up)', () => {
    setSecret(home, 'k', 'v');
    chownSync(secretsPath(home), 12345, 12345);
    expect(() => listSecretNames(home)).toThrow(/is owned by uid 12345, not you \(uid 0\); refusing to use it\. Fix it with: chown/);
  });

  test('a secrets directory open to others is refused on write', () => {
    setSecret(home, 'k', 'v');
    chmodSync(secretsDir(home), 0o755);
    expect(() => setSecret(home, 'k2', 'v')).toThrow(`secrets file directory ${secretsDir(home)} is open to other users (mode 0755); fix it with: chmod 700 ${secretsDir(home)}`);
  });

  test('a corrupt file is an error that never shows its contents', () => {
    mkdirSync(dirname(secretsPath(home)), { recursive: true, mode: 0o700 });
    writeFileSync(secretsPath(home), '{"version": 1, "secrets": {"k": "hunter2"', { mode: 0o600 });
    const err = thrown(() => listSecretNames(home));
    expect(err.message).toMatch(/is not valid JSON/);
    expect(err.message).not.toContain('hunter2');
    writeFileSync(secretsPath(home), JSON.stringify({ version: 1, secrets: { k: 5, hunter2: 'hunter2' } }), { mode: 0o600 });
    expect(thrown(() => listSecretNames(home)).message).toMatch(/not in the format personae writes/);
  });
});

describe('suspended personas', () => {
  test('suspend, list, resume', () => {
    expect(listSuspended(home)).toEqual(new Set());
    expect(suspendPersona(home, 'night')).toBe(true);
    expect(suspendPersona(home, 'night')).toBe(false);
    expect(suspendPersona(home, 'alpha')).toBe(true);
    expect(listSuspended(home)).toEqual(new Set(['alpha', 'night']));
    expect(JSON.parse(readFileSync(suspendedPath(home), 'utf8'))).toEqual({ version: 1, suspended: ['alpha', 'night'] });
    expect(resumePersona(home, 'night')).toBe(true);
    expect(resumePersona(home, 'night')).toBe(false);
    expect(listSuspended(home)).toEqual(new Set(['alpha']));
    expect(readdirSync(home)).toEqual(['suspended.json']);
  });

  test('names must be slugs', () => {
    expect(() => suspendPersona(home, '../x')).toThrow(SuspendedListError);
    expect(() => resumePersona(home, 'A')).toThrow('"A" is not a valid persona name');
  });

  test('an unreadable list fails closed', () => {
    writeFileSync(suspendedPath(home), 'nope', { mode: 0o600 });
    expect(() => listSuspended(home)).toThrow(/is not valid JSON/);
    writeFileSync(suspendedPath(home), JSON.stringify({ version: 1, suspended: ['Bad Name'] }), { mode: 0o600 });
    expect(() => listSuspended(home)).toThrow(/not in the format personae writes/);
  });

  test('a world-writable list is refused (anyone could lift a suspension)', () => {
    suspendPersona(home, 'night');
    chmodSync(suspendedPath(home), 0o666);
    expect(() => listSuspended(home)).toThrow(/is writable by other users \(mode 0666\)/);
    chmodSync(suspendedPath(home), 0o644);
    expect(listSuspended(home)).toEqual(new Set(['night']));
  });
});
