// Turns zod issues into one plain line each: `field.path[2]: what is wrong`.
// The reader is a person editing a YAML file, not a TypeScript programmer:
// say what was expected and what was given, in words.
import type * as z from 'zod';
import { CredentialSpecSchema, FilesystemSchema, LimitsSchema, NetworkSchema, PersonaFieldsSchema, ToolsSchema } from './schema.js';

type Issue = z.core.$ZodIssue;

/** Known keys of each object in a persona file, by dotted path, for "did you mean" hints. */
const KNOWN_KEYS: ReadonlyMap<string, readonly string[]> = new Map([
  ['', Object.keys(PersonaFieldsSchema.shape)],
  ['filesystem', Object.keys(FilesystemSchema.shape)],
  ['network', Object.keys(NetworkSchema.shape)],
  ['tools', Object.keys(ToolsSchema.shape)],
  ['limits', Object.keys(LimitsSchema.shape)],
]);

const IDENT_RE = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const MAX_SHOWN_CHARS = 60;

/** Makes any text safe for a one-line message: no line breaks or control characters. */
export function oneLine(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ').trim();
}

/** `a.b[2]["odd key"]` from a zod path. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (typeof seg === 'string' && IDENT_RE.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${quote(String(seg))}]`;
  }
  return out;
}

/** A JSON-quoted, length-limited rendering of a string. */
export function quote(text: string): string {
  const short = text.length > MAX_SHOWN_CHARS ? `${text.slice(0, MAX_SHOWN_CHARS)}...` : text;
  return JSON.stringify(short);
}

/** Describes a parsed YAML/JSON value in plain words: `a list`, `the number 5`, `text "abc"`. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'an empty value';
  if (typeof value === 'string') return value === '' ? 'empty text' : `text ${quote(value)}`;
  if (typeof value === 'number' || typeof value === 'bigint') return `the number ${String(value)}`;
  if (typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : 'a list';
  if (value instanceof Uint8Array) return 'binary data';
  if (value instanceof Date) return 'a date object';
  if (value instanceof Map || value instanceof Set) return 'a set';
  if (typeof value === 'object') return 'a mapping (key: value)';
  return `a ${typeof value}`;
}

const EXPECTED_WORDS: Record<string, string> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping (key: value)',
  record: 'a mapping (key: value)',
  date: 'a date',
};

function expectedWords(expected: string): string {
  return EXPECTED_WORDS[expected] ?? expected;
}

function withValue(message: string, input: unknown): string {
  return typeof input === 'string' && /^(must|is|has) /.test(message) ? `${quote(input)} ${message}` : message;
}

/** Optimal string alignment distance: a swap of two letters counts as one edit. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i] as number[];
      const prev = d[i - 1] as number[];
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, ((d[i - 2] as number[])[j - 2] as number) + 1);
      row[j] = best;
    }
  }
  return (d[a.length] as number[])[b.length] as number;
}

/** The known key closest to `key`, if it is plausibly a typo of it. */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  if (lower.length > 64) return undefined;
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of known) {
    const distance = editDistance(lower, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const allowed = lower.length <= 4 ? 1 : lower.length <= 8 ? 2 : 3;
  return bestDistance <= allowed ? best : undefined;
}

function unknownKeyMessage(parentPath: readonly PropertyKey[], key: string): string {
  const isCredential = parentPath.length === 2 && parentPath[0] === 'credentials';
  const known = isCredential ? Object.keys(CredentialSpecSchema.shape) : KNOWN_KEYS.get(parentPath.join('.'));
  if (!known) return 'unknown field';
  const guess = closestKey(key, known);
  if (guess) return `unknown field; did you mean ${JSON.stringify(guess)}?`;
  return `unknown field (known fields: ${known.join(', ')})`;
}

function sizeWords(origin: string, n: number | bigint, word: 'least' | 'most'): string {
  switch (origin) {
    case 'string':
      return word === 'least' && Number(n) === 1 ? 'must not be empty' : `must be at ${word} ${String(n)} characters long`;
    case 'array':
    case 'set':
      return `must have at ${word} ${String(n)} item${Number(n) === 1 ? '' : 's'}`;
    default:
      return `must be at ${word} ${String(n)}`;
  }
}

function listValues(values: readonly unknown[]): string {
  return values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ');
}

/** The message part (after `field: `) for one issue, or several lines for several unknown keys. */
function issueMessages(issue: Issue): Array<{ path: readonly PropertyKey[]; message: string }> {
  const path = issue.path;
  const input: unknown = issue.input;
  switch (issue.code) {
    case 'invalid_type': {
      if (path.length === 0) return [{ path, message: `expected a mapping of persona fields at the top level, got ${describeValue(input)}` }];
      if (input === undefined) return [{ path, message: `is required (${expectedWords(issue.expected)})` }];
      return [{ path, message: `expected ${expectedWords(issue.expected)}, got ${describeValue(input)}` }];
    }
    case 'invalid_value': {
      const got = describeValue(input);
      if (input === undefined) {
        const allowed = issue.values.length === 1 ? `must be ${JSON.stringify(issue.values[0])}` : `one of ${listValues(issue.values)}`;
        return [{ path, message: `is required (${allowed})` }];
      }
      if (path.length === 1 && path[0] === 'version') {
        return [{ path, message: `must be 1 (the only persona file version this personae reads), got ${got}` }];
      }
      if (issue.values.length === 1) return [{ path, message: `must be ${JSON.stringify(issue.values[0])}, got ${got}` }];
      return [{ path, message: `must be one of ${listValues(issue.values)}; got ${got}` }];
    }
    case 'unrecognized_keys':
      return issue.keys.map((key) => ({ path: [...path, key], message: unknownKeyMessage(path, key) }));
    case 'invalid_key': {
      const key = path[path.length - 1];
      const inner = issue.issues.map((i) => i.message).join('; ');
      return [{ path, message: withValue(inner || 'is not an allowed key', typeof key === 'string' ? key : undefined) }];
    }
    case 'too_small':
      return [{ path, message: sizeWords(issue.origin, issue.minimum, 'least') }];
    case 'too_big':
      return [{ path, message: sizeWords(issue.origin, issue.maximum, 'most') }];
    case 'invalid_union': {
      // The branch the value was meant for (the others reject its very type) says what is wrong.
      const meant = issue.errors.filter((branch) => !branch.every((e) => e.code === 'invalid_type' && e.path.length === 0));
      const only = meant.length === 1 ? meant[0] : undefined;
      if (only !== undefined) return only.flatMap((e) => issueMessages({ ...e, path: [...path, ...e.path], input: e.input ?? input } as Issue));
      return [{ path, message: `does not match any allowed form; got ${describeValue(input)}` }];
    }
    case 'invalid_format':
    case 'custom':
      return [{ path, message: withValue(issue.message, input) }];
    default:
      return [{ path, message: issue.message }];
  }
}

/** One line per problem, without the file label: `<field.path>: <message>`, or just the message for top-level problems. */
export function describeIssues(issues: readonly Issue[]): string[] {
  const lines: string[] = [];
  for (const issue of issues) {
    for (const { path, message } of issueMessages(issue)) {
      const field = formatPath(path);
      lines.push(oneLine(field === '' ? message : `${field}: ${message}`));
    }
  }
  return lines;
}
