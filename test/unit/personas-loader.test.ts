import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { checkRunnable, findPersona, isExpired, listPersonas, loadPersonaFile, parsePersonaText, serializePersona } from '../../personas/loader.js';
import { personasDir } from '../../personas/paths.js';
import type { Persona } from '../../personas/schema.js';

const BASE = `version: 1
name: night
display_name: Night builder
owner: ana@example.com
purpose: Build things at night.
agent: claude
`;

function errorsOf(text: string, label = 'night.yaml', format?: 'yaml' | 'json'): string[] {
  const result = parsePersonaText(text, label, format);
  if (result.ok) throw new Error(`expected errors, got a persona for:\n${text}`);
  return result.errors;
}

function parsed(text: string, label = 'night.yaml'): Persona {
  const result = parsePersonaText(text, label);
  if (!result.ok) throw new Error(result.errors.join('\n'));
  return result.persona;
}

describe('parsePersonaText', () => {
  test('a minimal persona gets the safe defaults', () => {
    const p = parsed(BASE);
    expect(p.execution_mode).toBe('approve');
    expect(p.filesystem).toEqual({ write: [], read_deny: [], allow_sensitive: [] });
    expect(p.network).toEqual({ allow: [], deny: [] });
    expect(p.credentials).toEqual({});
    expect(p.tools).toEqual({ allow: [], ask: [], deny: [] });
    expect(p.limits).toEqual({ approval_timeout: '5m', drift_threshold: 5, on_drift: 'stop' });
  });

  test('JSON persona files parse the same way', () => {
    const json = JSON.stringify({ version: 1, name: 'night', display_name: 'N', owner: 'o', purpose: 'p', agent: 'shell' });
    const result = parsePersonaText(json, 'night.json');
    expect(result.ok).toBe(true);
  });

  // Each bad file gives exactly the listed line(s), naming the file and the field.
  const table: Array<[string, string, string[]]> = [
    ['unknown top-level key (typo)', `${BASE}filesytem:\n  write: []\n`, ['night.yaml: filesytem: unknown field; did you mean "filesystem"?']],
    ['unknown nested key (typo)', `${BASE}filesystem:\n  wirte: ["{workspace}"]\n`, ['night.yaml: filesystem.wirte: unknown field; did you mean "write"?']],
    [
      'unknown key, nothing close',
      `${BASE}limits:\n  banana: 1\n`,
      ['night.yaml: limits.banana: unknown field (known fields: max_runtime, max_tool_calls, approval_timeout, drift_threshold, on_drift)'],
    ],
    ['missing required field', BASE.replace('owner: ana@example.com\n', ''), ['night.yaml: owner: is required (text)']],
    ['wrong type: list expected', `${BASE}filesystem:\n  write: "{workspace}"\n`, ['night.yaml: filesystem.write: expected a list, got text "{workspace}"']],
    ['wrong type: number expected', `${BASE}limits:\n  max_tool_calls: lots\n`, ['night.yaml: limits.max_tool_calls: expected a number, got text "lots"']],
    ['wrong type: empty value', `${BASE}network:\n  allow:\n`, ['night.yaml: network.allow: expected a list, got an empty value']],
    ['wrong type: mapping where text expected', `${BASE.replace('purpose: Build things at night.', 'purpose:\n  a: 1')}`, ['night.yaml: purpose: expected text, got a mapping (key: value)']],
    ['not a whole number', `${BASE}limits:\n  max_tool_calls: 1.5\n`, ['night.yaml: limits.max_tool_calls: expected a whole number, got the number 1.5']],
    ['too small number', `${BASE}limits:\n  drift_threshold: 1\n`, ['night.yaml: limits.drift_threshold: must be at least 2']],
    ['bad slug', BASE.replace('name: night', 'name: Night_Builder'), ['night.yaml: name: "Night_Builder" must be a slug: lowercase letters, digits and dashes']],
    ['bad agent', BASE.replace('agent: claude', 'agent: copilot'), ['night.yaml: agent: must be one of claude, codex, gemini, shell; got text "copilot"']],
    ['version 2', BASE.replace('version: 1', 'version: 2'), ['night.yaml: version: must be 1 (the only persona file version this personae reads), got the number 2']],
    ['empty display name', BASE.replace('display_name: Night builder', 'display_name: ""'), ['night.yaml: display_name: must not be empty']],
    ['"*" network pattern', `${BASE}network:\n  allow: [github.com, "*"]\n`, ['night.yaml: network.allow[1]: "*" is too broad']],
    ['"*.com" network pattern', `${BASE}network:\n  allow: [a.org, b.org, "*.com"]\n`, ['night.yaml: network.allow[2]: "*.com" is too broad']],
    ['IP network pattern', `${BASE}network:\n  deny: ["10.0.0.1"]\n`, ['night.yaml: network.deny[0]: "10.0.0.1" is an IP address; network rules name domains']],
    ['".." in a write path', `${BASE}filesystem:\n  write: ["{workspace}/../etc"]\n`, ['night.yaml: filesystem.write[0]: "{workspace}/../etc" must not contain ".."']],
    ['relative path', `${BASE}filesystem:\n  read_deny: [".ssh"]\n`, ['night.yaml: filesystem.read_deny[0]: ".ssh" must be absolute, or start with ~/ or {workspace}/']],
    ['~user path', `${BASE}filesystem:\n  read_deny: ["~root/.ssh"]\n`, ['night.yaml: filesystem.read_deny[0]: "~root/.ssh" must be absolute, or start with ~/ or {workspace}/']],
    ['bad sensitive path', `${BASE}filesystem:\n  allow_sensitive: [.git]\n`, [expect.stringMatching(/^night\.yaml: filesystem\.allow_sensitive\[0\]: must be one of \.git\/hooks, .*; got text "\.git"$/) as unknown as string]],
    ['LD_PRELOAD as credential', `${BASE}credentials:\n  LD_PRELOAD: secret:x\n`, ['night.yaml: credentials.LD_PRELOAD: "LD_PRELOAD" is reserved by the sandbox and cannot carry a credential']],
    ['PATH as credential', `${BASE}credentials:\n  PATH: secret:x\n`, ['night.yaml: credentials.PATH: "PATH" is reserved by the sandbox and cannot carry a credential']],
    ['lowercase env name', `${BASE}credentials:\n  token: secret:x\n`, ['night.yaml: credentials.token: "token" must be an environment variable name (A-Z, 0-9, _)']],
    ['literal credential value', `${BASE}credentials:\n  GITHUB_TOKEN: ghp_abc\n`, ['night.yaml: credentials.GITHUB_TOKEN: "ghp_abc" must be secret:NAME (stored with `personae secret set NAME`), or { secret: NAME, hosts: [...] }']],
    ['short-form credential with no known hosts', `${BASE}credentials:\n  NPM_TOKEN: secret:npm\n`, ['night.yaml: credentials.NPM_TOKEN: secret:npm has no hosts, so personae would send it nowhere; bind it with { secret: npm, hosts: [api.example.com] }, or pass it in the clear with { secret: npm, inject: env }']],
    ['credential bound to a wildcard host', `${BASE}network:\n  allow: ["*.github.com"]\ncredentials:\n  GITHUB_TOKEN: { secret: gh, hosts: ["*.github.com"] }\n`, ['night.yaml: credentials.GITHUB_TOKEN.hosts[0]: "*.github.com" is too broad for a credential: name each host it is sent to']],
    ['credential bound to "*.com"', `${BASE}credentials:\n  GITHUB_TOKEN: { secret: gh, hosts: ["*.com"] }\n`, ['night.yaml: credentials.GITHUB_TOKEN.hosts[0]: "*.com" is too broad']],
    ['credential bound to a host the network does not allow', `${BASE}network:\n  allow: [github.com]\ncredentials:\n  GITHUB_TOKEN: { secret: gh, hosts: [github.com, api.github.com] }\n`, ['night.yaml: credentials.GITHUB_TOKEN.hosts[1]: "api.github.com" is not allowed by network.allow, so the credential could never be sent there']],
    ['hosts with inject: env', `${BASE}network:\n  allow: [github.com]\ncredentials:\n  GITHUB_TOKEN: { secret: gh, hosts: [github.com], inject: env }\n`, ['night.yaml: credentials.GITHUB_TOKEN.hosts: cannot go with inject: env: a value in the environment goes wherever the agent sends it; drop hosts, or drop inject: env']],
    ['unknown credential field', `${BASE}credentials:\n  GITHUB_TOKEN: { secret: gh, host: [github.com] }\n`, ['night.yaml: credentials.GITHUB_TOKEN.host: unknown field; did you mean "hosts"?']],
    ['"secret:" inside the long form', `${BASE}credentials:\n  GITHUB_TOKEN: { secret: "secret:gh", inject: env }\n`, ['night.yaml: credentials.GITHUB_TOKEN.secret: "secret:gh" must be the name of a stored secret (personae secret set NAME), without "secret:"']],
    ['bad HTTP method', `${BASE}network:\n  allow: ["FETCH registry.npmjs.org/**"]\n`, ['night.yaml: network.allow[0]: "FETCH registry.npmjs.org/**": "FETCH" is not an HTTP method (use GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, comma-separated)']],
    ['over-broad HTTP rule', `${BASE}network:\n  allow: ["GET *.com/**"]\n`, ['night.yaml: network.allow[0]: "*.com" is too broad']],
    ['HTTP rule with a query', `${BASE}network:\n  allow: ["GET api.example.com/search?q=x"]\n`, ['night.yaml: network.allow[0]: "GET api.example.com/search?q=x": a path rule matches the path only; leave out the query (?...) and fragment (#...)']],
    ['HTTP rule with ".."', `${BASE}network:\n  allow: ["GET api.example.com/a/../b"]\n`, ['night.yaml: network.allow[0]: "GET api.example.com/a/../b": the path must not contain "." or ".." segments']],
    ['bad duration', `${BASE}limits:\n  max_runtime: 8 hours\n`, ['night.yaml: limits.max_runtime: "8 hours" must be a duration like 90s, 30m, 8h or 2d']],
    ['zero duration', `${BASE}limits:\n  approval_timeout: 0s\n`, ['night.yaml: limits.approval_timeout: "0s" must be a duration like 90s, 30m, 8h or 2d']],
    ['infinite duration', `${BASE}limits:\n  max_runtime: ${'9'.repeat(400)}d\n`, [expect.stringMatching(/^night\.yaml: limits\.max_runtime: "9+\.\.\." must be a duration/) as unknown as string]],
    ['bad date', `${BASE}expires: tomorrow\n`, ['night.yaml: expires: "tomorrow" must be a date like 2026-12-31 or an ISO 8601 timestamp with a time zone']],
    ['impossible date', `${BASE}expires: 2026-02-31\n`, ['night.yaml: expires: "2026-02-31" must be a date like 2026-12-31 or an ISO 8601 timestamp with a time zone']],
    ['date as a number', `${BASE}expires: 20270101\n`, ['night.yaml: expires: expected text, got the number 20270101']],
    ['bad tool rule', `${BASE}tools:\n  deny: ["Bash(git push:*"]\n`, ['night.yaml: tools.deny[0]: "Bash(git push:*" is missing its closing ")"']],
    ['odd key is quoted in the path', `${BASE}"two words": 1\n`, [expect.stringMatching(/^night\.yaml: \["two words"\]: unknown field/) as unknown as string]],
  ];

  test.each(table)('%s', (_name, text, expected) => {
    expect(errorsOf(text)).toEqual(expected);
  });

  test('several problems give one line each', () => {
    const errors = errorsOf(`${BASE}network:\n  allow: ["*", "*.com"]\nfilesystem:\n  wirte: []\n`);
    expect(errors).toHaveLength(3);
    for (const e of errors) expect(e).toMatch(/^night\.yaml: (network\.allow\[[01]\]|filesystem\.wirte): /);
  });

  const wholeFile: Array<[string, string, 'yaml' | 'json' | undefined, RegExp]> = [
    ['empty file', '', undefined, /^x\.yaml: file is empty; /],
    ['only comments', '# nothing here\n', undefined, /^x\.yaml: file is empty; /],
    ['top-level list', '- a\n- b\n', undefined, /^x\.yaml: expected a mapping of persona fields at the top level, got a list$/],
    ['top-level scalar', 'hello\n', undefined, /^x\.yaml: expected a mapping of persona fields at the top level, got text "hello"$/],
    ['top-level null', 'null\n', undefined, /^x\.yaml: expected a mapping of persona fields at the top level, got an empty value$/],
    ['duplicate keys', `${BASE}agent: shell\n`, undefined, /^x\.yaml: line 7: duplicate key "agent"; each key may appear only once$/],
    ['syntax error', 'version: 1\nname: [a, b\nowner: x\n', undefined, /^x\.yaml: line \d+: /],
    ['tabs', 'version: 1\nfilesystem:\n\twrite: []\n', undefined, /^x\.yaml: line 3: Tabs are not allowed as indentation$/],
    ['two documents', `${BASE}---\n${BASE}`, undefined, /^x\.yaml: line 7: a persona file holds exactly one YAML document/],
    ['custom tag', `${BASE}x: !evil thing\n`, undefined, /^x\.yaml: line 7: Unresolved tag: !evil; /],
    ['undefined alias', BASE.replace('purpose: Build things at night.', 'purpose: *nope'), undefined, /^x\.yaml: (line \d+: )?.*(alias|nope)/i],
    ['JSON syntax error', '{\n  "version": 1,\n}', 'json', /^x\.yaml: line 3: invalid JSON: unexpected "}"; expected a double-quoted key$/],
    ['JSON duplicate key', '{"version": 1,\n "version": 1}', 'json', /^x\.yaml: line 2: duplicate key "version"; each key may appear only once$/],
    ['JSON trailing garbage', '{}\n{}', 'json', /^x\.yaml: line 2: invalid JSON: unexpected "\{" after the end of the JSON value$/],
    ['JSON unterminated string', '{"version": "1}', 'json', /^x\.yaml: line 1: invalid JSON: invalid or unterminated string$/],
    ['JSON top-level list', '[1, 2]', 'json', /^x\.yaml: expected a mapping of persona fields at the top level, got a list$/],
  ];

  test.each(wholeFile)('%s', (_name, text, format, pattern) => {
    const errors = errorsOf(text, 'x.yaml', format);
    expect(errors.length).toBeGreaterThanOrEqual(1);
    expect(errors[0]).toMatch(pattern);
    for (const e of errors) expect(e).not.toMatch(/[\n\r]|\bat .*\.(ts|js):\d+/);
  });

  test('an alias bomb is refused, quickly', () => {
    const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 12; i++) lines.push(`a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]`);
    const started = Date.now();
    const errors = errorsOf(`${lines.join('\n')}\n`, 'bomb.yaml');
    expect(errors).toEqual(['bomb.yaml: YAML aliases expand too much (more than 100); refusing what looks like an alias bomb']);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  test('files over 256 KiB are refused before parsing', () => {
    const errors = errorsOf(`${BASE}purpose: ${'x'.repeat(300 * 1024)}\n`, 'big.yaml');
    expect(errors).toEqual(['big.yaml: file is 301 KiB; persona files are limited to 256 KiB']);
  });

  // Deep nesting reaching the YAML composer can abort the process (a V8 fatal
  // error, not an exception), so it must be refused before composing.
  test.each([
    ['flow lists', `${'['.repeat(100_000)}${']'.repeat(100_000)}`],
    ['block lists', `${'- '.repeat(100_000)}x\n`],
    ['complex keys', `${'? '.repeat(100_000)}x\n`],
    ['indented mappings', `${Array.from({ length: 40 }, (_, i) => `${' '.repeat(i)}k:`).join('\n')} 1\n`],
  ])('deeply nested YAML is one error, not a crash: %s', (_name, text) => {
    expect(errorsOf(text, 'deep.yaml')).toEqual(['deep.yaml: lists and mappings nest more than 32 levels deep; a persona file needs only a few']);
  });

  test('deeply nested JSON is one error, not a crash', () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    expect(errorsOf(deep, 'deep.json')).toEqual(['deep.json: line 1: invalid JSON: lists and mappings nest more than 32 levels deep']);
  });

  test('__proto__ keys are unknown fields, not prototype changes', () => {
    expect(errorsOf(`${BASE}__proto__:\n  polluted: true\n`)).toEqual([expect.stringMatching(/^night\.yaml: __proto__: unknown field/)]);
    const json = errorsOf('{"version": 1, "__proto__": {"polluted": true}}', 'x.json');
    expect(json).toContain('x.json: __proto__: unknown field (known fields: version, name, display_name, owner, purpose, agent, execution_mode, expires, filesystem, network, credentials, tools, limits)');
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  test('a long error list is capped', () => {
    const many = Array.from({ length: 80 }, (_, i) => `k${i}: 1`).join('\n');
    const errors = errorsOf(`${BASE}${many}\n`);
    expect(errors).toHaveLength(51);
    expect(errors[50]).toBe('night.yaml: ... and 30 more problems');
  });

  test('a file label with a newline cannot break the one-line rule', () => {
    const errors = errorsOf('- a\n', 'evil\nname.yaml');
    expect(errors[0]).toBe('evil name.yaml: expected a mapping of persona fields at the top level, got a list');
  });
});

describe('files', () => {
  let home: string;
  let dir: string;
  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), 'personae-loader-'));
    dir = personasDir(home);
    mkdirSync(dir, { recursive: true });
  });
  afterEach(() => rmSync(home, { recursive: true, force: true }));

  test('loadPersonaFile: valid file', () => {
    writeFileSync(join(dir, 'night.yaml'), BASE);
    const result = loadPersonaFile(join(dir, 'night.yaml'));
    expect(result.ok && result.persona.name).toBe('night');
  });

  test('loadPersonaFile: name must match the file name', () => {
    const path = join(dir, 'day.yaml');
    writeFileSync(path, BASE);
    expect(loadPersonaFile(path)).toEqual({
      ok: false,
      errors: [`${path}: name: "night" does not match the file name; a persona's name must equal its file's base name ("day")`],
    });
  });

  test('loadPersonaFile: missing, directory, wrong extension, not UTF-8, too big', () => {
    expect(loadPersonaFile(join(dir, 'nope.yaml'))).toEqual({ ok: false, errors: [`${join(dir, 'nope.yaml')}: no such file`] });
    mkdirSync(join(dir, 'sub.yaml'));
    expect(loadPersonaFile(join(dir, 'sub.yaml'))).toEqual({ ok: false, errors: [`${join(dir, 'sub.yaml')}: is a directory, not a persona file`] });
    expect(loadPersonaFile(join(dir, 'night.txt'))).toEqual({
      ok: false,
      errors: [`${join(dir, 'night.txt')}: unsupported file type ".txt"; persona files end in .yaml, .yml or .json`],
    });
    writeFileSync(join(dir, 'bin.yaml'), Buffer.from([0xff, 0xfe, 0x00, 0x41]));
    expect(loadPersonaFile(join(dir, 'bin.yaml'))).toEqual({ ok: false, errors: [`${join(dir, 'bin.yaml')}: is not UTF-8 text`] });
    writeFileSync(join(dir, 'big.yaml'), 'x'.repeat(257 * 1024));
    expect(loadPersonaFile(join(dir, 'big.yaml'))).toEqual({ ok: false, errors: [`${join(dir, 'big.yaml')}: file is 257 KiB; persona files are limited to 256 KiB`] });
  });

  test('loadPersonaFile: a JSON file by extension, errors carry the path as label', () => {
    const path = join(dir, 'night.json');
    writeFileSync(path, JSON.stringify({ version: 1, name: 'night', display_name: 'N', owner: 'o', purpose: 'p', agent: 'shell', network: { allow: ['*.com'] } }));
    expect(loadPersonaFile(path)).toEqual({ ok: false, errors: [`${path}: network.allow[0]: "*.com" is too broad`] });
  });

  test('findPersona: yaml, yml, json; unknown and ambiguous names', () => {
    writeFileSync(join(dir, 'night.yml'), BASE);
    writeFileSync(join(dir, 'alpha.json'), '{}');
    const found = findPersona(home, 'night');
    expect(found.ok && found.path).toBe(join(dir, 'night.yml'));
    expect(findPersona(home, 'ghost')).toEqual({ ok: false, errors: [`unknown persona "ghost" (looked in ${dir}; known: alpha, night)`] });
    expect(findPersona(home, '../etc/passwd')).toEqual({ ok: false, errors: ['"../etc/passwd" is not a valid persona name (lowercase letters, digits and dashes)'] });
    writeFileSync(join(dir, 'night.json'), '{}');
    expect(findPersona(home, 'night')).toEqual({ ok: false, errors: [`persona "night" has more than one file (night.json, night.yml in ${dir}); keep only one`] });
    const invalid = findPersona(home, 'alpha');
    expect(invalid.ok).toBe(false);
  });

  test('findPersona: no personas directory at all', () => {
    rmSync(dir, { recursive: true });
    expect(findPersona(home, 'x')).toEqual({ ok: false, errors: [`unknown persona "x" (looked in ${dir}; known: none)`] });
  });

  test('listPersonas lists valid and invalid files, skipping others', () => {
    writeFileSync(join(dir, 'night.yaml'), BASE);
    writeFileSync(join(dir, 'broken.yaml'), 'version: [');
    writeFileSync(join(dir, 'notes.txt'), 'hi');
    writeFileSync(join(dir, '.hidden.yaml'), BASE);
    const list = listPersonas(home);
    expect(list.map((e) => [e.name, e.result.ok])).toEqual([
      ['broken', false],
      ['night', true],
    ]);
    expect(listPersonas(join(home, 'nowhere'))).toEqual([]);
  });
});

describe('expiry and runnability', () => {
  const persona = parsed(`${BASE}expires: 2026-01-31\n`);

  test('a date-only expiry lasts through that day (UTC)', () => {
    expect(persona.expires).toBe('2026-01-31T23:59:59.999Z');
    expect(isExpired(persona, new Date('2026-01-31T23:59:59.999Z'))).toBe(false);
    expect(isExpired(persona, new Date('2026-02-01T00:00:00.000Z'))).toBe(true);
    expect(isExpired(parsed(BASE), new Date('2999-01-01T00:00:00Z'))).toBe(false);
  });

  test('timestamps with a zone are honoured', () => {
    const p = parsed(`${BASE}expires: "2026-06-01T08:00:00+02:00"\n`);
    expect(p.expires).toBe('2026-06-01T06:00:00.000Z');
    expect(isExpired(p, new Date('2026-06-01T05:59:59Z'))).toBe(false);
    expect(isExpired(p, new Date('2026-06-01T06:00:01Z'))).toBe(true);
  });

  test('checkRunnable explains refusals in one line', () => {
    const after = new Date('2026-03-01T00:00:00Z');
    expect(checkRunnable(persona, new Date('2026-01-01T00:00:00Z'), new Set())).toBeUndefined();
    expect(checkRunnable(persona, after, new Set(), 'personas/night.yaml')).toBe(
      'persona "night" expired on 2026-01-31; edit expires: in personas/night.yaml to extend it',
    );
    expect(checkRunnable(persona, after, new Set())).toBe('persona "night" expired on 2026-01-31; edit expires: in its persona file to extend it');
    expect(checkRunnable(parsed(BASE), after, new Set(['night']))).toBe('persona "night" is suspended; resume it (personae persona resume night) before running it again');
  });
});

describe('serializePersona', () => {
  test('round-trips, including values YAML would otherwise reinterpret', () => {
    const p = parsed(
      `${BASE.replace('purpose: Build things at night.', 'purpose: "yes"')}expires: 2027-02-28\nfilesystem:\n  write: ["{workspace}", "~/x: y"]\ncredentials:\n  GITHUB_TOKEN: { secret: gh-night, hosts: [api.example.com:8443] }\n  ANTHROPIC_API_KEY: secret:anthropic\nnetwork:\n  allow: ["*.example.com", "api.example.com:8443", "GET,HEAD registry.npmjs.org/**"]\ntools:\n  deny: ["Bash(git push:*)"]\nlimits:\n  max_runtime: 8h\n`,
    );
    const text = serializePersona(p);
    const again = parsePersonaText(text, 'night.yaml');
    expect(again).toEqual({ ok: true, persona: p });
  });
});
