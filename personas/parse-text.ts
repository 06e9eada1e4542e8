// Persona text -> Persona, or one clear line per problem. Never throws:
// syntax errors, hostile YAML (alias bombs, duplicate keys, odd tags), huge
// files and schema violations all come back as `file: field: message` lines.
import { Composer, LineCounter, Parser, YAMLParseError } from 'yaml';
import type { Document, YAMLError } from 'yaml';
import { describeIssues, oneLine } from './issue-format.js';
import { checkJsonText, lineOf } from './json-check.js';
import { PersonaSchema } from './schema.js';
import type { Persona } from './schema.js';

export type PersonaFormat = 'yaml' | 'json';
export type ParseResult = { ok: true; persona: Persona } | { ok: false; errors: string[] };

/** Persona files larger than this are refused before parsing. */
export const MAX_PERSONA_FILE_BYTES = 256 * 1024;
/** Alias expansions allowed in one YAML file; more is treated as an alias bomb. */
export const MAX_YAML_ALIASES = 100;
/** Deepest nesting of lists and mappings accepted; a persona needs three levels. */
export const MAX_NESTING = 32;
/** At most this many error lines are reported for one file. */
export const MAX_REPORTED_ERRORS = 50;

type DataResult = { ok: true; value: unknown; empty: boolean } | { ok: false; errors: string[] };

/** `.json` -> json, anything else -> yaml. */
export function formatFromName(fileName: string): PersonaFormat {
  return fileName.toLowerCase().endsWith('.json') ? 'json' : 'yaml';
}

/** The (possibly quoted) mapping key starting at `pos`, unquoted and cut short. */
function keyAt(text: string, pos: number): string {
  const rest = text.slice(pos, pos + 200);
  const quote = rest[0];
  if (quote === '"' || quote === "'") {
    const end = rest.indexOf(quote, 1);
    return rest.slice(1, end === -1 ? undefined : end).slice(0, 60);
  }
  return (rest.split(/:(?:\s|$)|\n/)[0] ?? '').trim().slice(0, 60);
}

function yamlErrorLine(text: string, lines: LineCounter, err: YAMLError): string {
  const where = `line ${lines.linePos(err.pos[0]).line}`;
  const first = (err.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
  switch (err.code) {
    case 'DUPLICATE_KEY': {
      const key = keyAt(text, err.pos[0]);
      return `${where}: duplicate key ${JSON.stringify(key)}; each key may appear only once`;
    }
    case 'MULTIPLE_DOCS':
      return `${where}: a persona file holds exactly one YAML document (remove the "---" separator)`;
    case 'TAG_RESOLVE_FAILED':
      return `${where}: ${first}; persona files use plain YAML without custom tags`;
    default:
      return `${where}: ${first}`;
  }
}

function aliasErrorLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  if (/resource exhaustion|alias count/i.test(message)) {
    return `YAML aliases expand too much (more than ${MAX_YAML_ALIASES}); refusing what looks like an alias bomb`;
  }
  return `could not read YAML: ${message.split('\n')[0] ?? ''}`;
}

/** As yaml's parseDocument, from tokens parsed once: checked for depth (above) before the composer sees them. */
function parseYamlData(text: string): DataResult {
  const lines = new LineCounter();
  const tokens = [...new Parser(lines.addNewLine).parse(text)];
  if (nestsDeeperThan(tokens, MAX_NESTING)) {
    return { ok: false, errors: [`lists and mappings nest more than ${MAX_NESTING} levels deep; a persona file needs only a few`] };
  }
  const composer = new Composer({ prettyErrors: false, uniqueKeys: true, schema: 'core', merge: false, logLevel: 'error' });
  let doc: Document.Parsed | undefined;
  for (const next of composer.compose(tokens, true, text.length)) {
    if (doc === undefined) doc = next;
    else {
      doc.errors.push(new YAMLParseError([next.range[0], next.range[1]], 'MULTIPLE_DOCS', 'Source contains multiple documents; please use YAML.parseAllDocuments()'));
      break;
    }
  }
  if (doc === undefined) return { ok: true, value: null, empty: true };
  const problems = [...doc.errors, ...doc.warnings];
  if (problems.length > 0) return { ok: false, errors: problems.map((e) => yamlErrorLine(text, lines, e)) };
  if (doc.contents === null) return { ok: true, value: null, empty: true };
  try {
    return { ok: true, value: doc.toJS({ maxAliasCount: MAX_YAML_ALIASES }), empty: false };
  } catch (err) {
    return { ok: false, errors: [aliasErrorLine(err)] };
  }
}

function parseJsonData(text: string): DataResult {
  if (text.trim() === '') return { ok: true, value: null, empty: true };
  const problem = checkJsonText(text, MAX_NESTING);
  if (problem) {
    const prefix = problem.message.startsWith('duplicate key') ? '' : 'invalid JSON: ';
    return { ok: false, errors: [`line ${lineOf(text, problem.offset)}: ${prefix}${problem.message}`] };
  }
  return { ok: true, value: JSON.parse(text) as unknown, empty: false };
}

const COLLECTION_TOKENS = new Set(['block-map', 'block-seq', 'flow-collection']);

/**
 * true when lists/mappings nest deeper than `limit`. Uses the yaml package's
 * CST parser, which is iterative, and walks its tokens with an explicit
 * stack: the recursive composer must never see very deep input, because
 * running out of stack there can abort the whole process (a V8 fatal error,
 * not a catchable RangeError).
 */
function nestsDeeperThan(tokens: Iterable<unknown>, limit: number): boolean {
  for (const token of tokens) {
    const stack: Array<[unknown, number]> = [[token, 0]];
    for (let entry = stack.pop(); entry !== undefined; entry = stack.pop()) {
      const [node, depth] = entry;
      if (node === null || typeof node !== 'object') continue;
      const type = (node as { type?: unknown }).type;
      const here = typeof type === 'string' && COLLECTION_TOKENS.has(type) ? depth + 1 : depth;
      if (here > limit) return true;
      for (const child of Array.isArray(node) ? node : Object.values(node)) {
        if (child !== null && typeof child === 'object') stack.push([child, here]);
      }
    }
  }
  return false;
}

function parseData(text: string, format: PersonaFormat): DataResult {
  try {
    if (format === 'json') return parseJsonData(text);
    return parseYamlData(text);
  } catch (err) {
    // A last resort: parsing must report, never throw.
    const message = err instanceof Error ? err.message : String(err);
    return { ok: false, errors: [`could not parse ${format.toUpperCase()}: ${message.split('\n')[0] ?? ''}`] };
  }
}

function fail(fileLabel: string, messages: readonly string[]): ParseResult {
  const lines = [...new Set(messages.map((m) => oneLine(`${fileLabel}: ${m}`)))];
  if (lines.length > MAX_REPORTED_ERRORS) {
    const rest = lines.length - MAX_REPORTED_ERRORS;
    return { ok: false, errors: [...lines.slice(0, MAX_REPORTED_ERRORS), oneLine(`${fileLabel}: ... and ${rest} more problems`)] };
  }
  return { ok: false, errors: lines };
}

/** Parses and validates persona text. `fileLabel` prefixes every error line; `format` defaults from its extension. */
export function parsePersonaText(text: string, fileLabel: string, format: PersonaFormat = formatFromName(fileLabel)): ParseResult {
  const label = oneLine(fileLabel) || '<persona>';
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_PERSONA_FILE_BYTES) {
    return fail(label, [`file is ${Math.ceil(bytes / 1024)} KiB; persona files are limited to ${MAX_PERSONA_FILE_BYTES / 1024} KiB`]);
  }
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const data = parseData(body, format);
  if (!data.ok) return fail(label, data.errors);
  if (data.empty) return fail(label, ['file is empty; a persona file is a mapping starting with version: 1 and name: ...']);
  const parsed = PersonaSchema.safeParse(data.value, { reportInput: true });
  if (parsed.success) return { ok: true, persona: parsed.data };
  return fail(label, describeIssues(parsed.error.issues));
}
