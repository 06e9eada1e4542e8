import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { stringify } from 'yaml';
import { parsePersonaText, serializePersona } from '../../personas/loader.js';
import type { ParseResult } from '../../personas/loader.js';
import { PersonaSchema } from '../../personas/schema.js';

const LABEL = 'fuzz.yaml';

function assertWellFormed(result: ParseResult): void {
  if (result.ok) return;
  expect(result.errors.length).toBeGreaterThan(0);
  for (const line of result.errors) {
    expect(typeof line).toBe('string');
    expect(line.startsWith(`${LABEL}: `)).toBe(true);
    expect(line).not.toMatch(/[\n\r\u2028\u2029]/);
    expect(line.length).toBeLessThan(1000);
  }
}

function check(text: string, format?: 'yaml' | 'json'): void {
  let result: ParseResult | undefined;
  expect(() => {
    result = parsePersonaText(text, LABEL, format);
  }).not.toThrow();
  assertWellFormed(result as ParseResult);
}

const YAML_PIECES = [
  'version: 1\n', 'version: 2\n', 'name: night\n', 'name: Bad Name\n', 'agent: claude\n', 'display_name: x\n', 'owner: o\n', 'purpose: p\n',
  'filesystem:\n', '  write:\n', '    - "{workspace}"\n', '    - ../x\n', 'network:\n', '  allow: ["*.com"]\n', 'credentials:\n', '  LD_PRELOAD: secret:x\n',
  'limits:\n', '  max_runtime: 8h\n', '  max_runtime: 99999999999999999999999d\n', 'expires: 2026-02-31\n', 'expires: 2027-01-01\n',
  '- ', '[', ']', '{', '}', ': ', ', ', '&a ', '*a ', '*b ', '!!str ', '!!binary ', '!x ', '---\n', '...\n', '"', "'", '\t', '  ', '# c\n', '\n', '? ',
  '|\n', '>-\n', '%YAML 1.1\n', '%TAG ! tag:x:\n', '<<: *a\n', '__proto__: 1\n', 'constructor: {}\n', '\u0000', '\uFEFF', '\u2028', 'é', '😀', '0x1F', '.inf', '~', 'null',
];

const yamlish = fc.array(fc.constantFrom(...YAML_PIECES), { maxLength: 40 }).map((parts) => parts.join(''));

const slug = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?$/);
const text = (max: number) => fc.string({ minLength: 1, maxLength: max, unit: 'grapheme' });
const validPersona = fc.record({
  version: fc.constant(1 as const),
  name: slug,
  display_name: text(120),
  owner: text(200),
  purpose: text(200),
  agent: fc.constantFrom('claude', 'codex', 'gemini', 'shell'),
  execution_mode: fc.constantFrom('autonomous', 'approve', 'observe'),
  expires: fc.option(fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2999-12-31T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString()), { nil: undefined }),
  filesystem: fc.record({
    write: fc.array(fc.constantFrom('{workspace}', '{workspace}/src', '~/notes', '/tmp/x y', '~'), { maxLength: 3 }),
    read_deny: fc.array(fc.constantFrom('~/.ssh', '~/.aws', '/etc/shadow'), { maxLength: 3 }),
    allow_sensitive: fc.array(fc.constantFrom('.vscode', '.git/hooks', '.envrc'), { maxLength: 2 }),
  }),
  network: fc.record({
    allow: fc.array(fc.constantFrom('github.com', '*.npmjs.org', 'api.example.com:8443', 'yes.no'), { maxLength: 3 }),
    deny: fc.array(fc.constantFrom('evil.example.com', '*.internal.example'), { maxLength: 2 }),
  }),
  credentials: fc
    .tuple(
      fc.dictionary(fc.constantFrom('ANTHROPIC_API_KEY', 'OPENAI_API_KEY', 'GEMINI_API_KEY'), slug.map((s) => `secret:${s}`), { maxKeys: 2 }),
      fc.dictionary(fc.constantFrom('GITHUB_TOKEN', 'NPM_TOKEN', 'X_1'), slug.map((s) => ({ secret: s, inject: 'env' as const })), { maxKeys: 2 }),
    )
    .map(([short, clear]) => ({ ...short, ...clear })),
  tools: fc.record({
    allow: fc.array(fc.constantFrom('Read', 'Bash(npm test:*)', 'Edit(src/**)'), { maxLength: 3 }),
    ask: fc.array(fc.constantFrom('Write', 'Bash(git commit:*)'), { maxLength: 2 }),
    deny: fc.array(fc.constantFrom('Bash(git push:*)', 'WebFetch(domain:example.com)'), { maxLength: 2 }),
  }),
  limits: fc.record({
    approval_timeout: fc.constantFrom('5m', '90s', '1h'),
    drift_threshold: fc.integer({ min: 2, max: 100 }),
    on_drift: fc.constantFrom('pause', 'stop'),
    max_runtime: fc.option(fc.constantFrom('8h', '30m', '2d'), { nil: undefined }),
    max_tool_calls: fc.option(fc.integer({ min: 1, max: 100_000 }), { nil: undefined }),
  }),
});

function withoutUndefined<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

describe('parsePersonaText never throws and always answers in single lines', () => {
  test('arbitrary strings, as YAML and as JSON', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300, unit: 'binary' }), (s) => {
        check(s, 'yaml');
        check(s, 'json');
      }),
      { numRuns: 400 },
    );
  });

  test('YAML-ish token soup', () => {
    fc.assert(fc.property(yamlish, (s) => check(s, 'yaml')), { numRuns: 800 });
  });

  test('arbitrary JSON values', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        check(JSON.stringify(v), 'json');
        check(stringify(v), 'yaml');
      }),
      { numRuns: 300 },
    );
  });

  test('valid personas with arbitrary fields replaced or added', () => {
    fc.assert(
      fc.property(validPersona, fc.string({ maxLength: 20 }), fc.anything(), (p, key, junk) => {
        const broken = { ...withoutUndefined(p), [key]: junk } as Record<string, unknown>;
        check(stringify(broken), 'yaml');
        let json: string | undefined;
        try {
          json = JSON.stringify(broken);
        } catch {
          json = undefined; // BigInt and friends: not JSON
        }
        if (json !== undefined) check(json, 'json');
      }),
      { numRuns: 300 },
    );
  });
});

describe('serializePersona', () => {
  test('round-trips any valid persona', () => {
    fc.assert(
      fc.property(validPersona, (input) => {
        const persona = PersonaSchema.parse(withoutUndefined(input));
        const again = parsePersonaText(serializePersona(persona), 'p.yaml');
        expect(again).toEqual({ ok: true, persona });
      }),
      { numRuns: 300 },
    );
  });
});
