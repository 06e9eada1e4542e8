import { describe, expect, it } from 'vitest';
import type { EventInput } from '../../sandbox/audit/event.js';
import { createRedactor, createTextRedactor } from '../../sandbox/audit/redact.js';

describe('createTextRedactor', () => {
  it('replaces every occurrence of every secret with its name', () => {
    const r = createTextRedactor({ GH_TOKEN: 'ghp_abc123', NPM: 'npm_zzz' });
    expect(r('a ghp_abc123 b ghp_abc123 npm_zzz')).toBe('a [REDACTED:GH_TOKEN] b [REDACTED:GH_TOKEN] [REDACTED:NPM]');
    expect(r('nothing here')).toBe('nothing here');
  });

  it('redacts short secrets and regex metacharacters literally', () => {
    const r = createTextRedactor({ PIN: '42', ODD: 'a.b*c' });
    expect(r('x42y a.b*c axbbc')).toBe('x[REDACTED:PIN]y [REDACTED:ODD] axbbc');
  });

  it('leaves no fragment of overlapping secrets', () => {
    const r = createTextRedactor({ A: 'abcdef', B: 'defghi' });
    expect(r('xxabcdefghixx')).toBe('xx[REDACTED:A,B]xx');
    expect(r('abcdef defghi')).toBe('[REDACTED:A] [REDACTED:B]');
  });

  it('names only the longer secret when one contains another', () => {
    const r = createTextRedactor({ LONG: 'token-123456', SHORT: '1234' });
    expect(r('token-123456 and 1234')).toBe('[REDACTED:LONG] and [REDACTED:SHORT]');
  });

  it('merges self-overlapping occurrences', () => {
    const r = createTextRedactor({ A: 'aaaa' });
    expect(r('baaaaab')).toBe('b[REDACTED:A]b');
  });

  it('ignores empty secret values', () => {
    const r = createTextRedactor({ EMPTY: '' });
    expect(r('abc')).toBe('abc');
  });
});

describe('createRedactor', () => {
  const secrets = { API_KEY: 'sk-live-XYZ', DB_PASS: 'hunter2' };

  it('is the identity with no secrets', () => {
    const input: EventInput = { kind: 'exec', target: 'x', detail: { a: 1 } };
    expect(createRedactor({})(input)).toBe(input);
    expect(createRedactor({ EMPTY: '' })(input)).toBe(input);
  });

  it('redacts target, reason, tool and nested detail values and keys', () => {
    const redact = createRedactor(secrets);
    const input: EventInput = {
      kind: 'tool.call',
      tool: 'Bash(hunter2)',
      target: 'curl -H "Authorization: sk-live-XYZ"',
      reason: 'rule hunter2',
      decision: 'allow',
      detail: {
        argv: ['mysql', '-phunter2', { deep: ['sk-live-XYZ'] }],
        env: { 'sk-live-XYZ': 'value', plain: 'ok' },
        n: 7,
        flag: true,
        none: null,
      },
    };
    const out = redact(input);
    expect(out).toEqual({
      kind: 'tool.call',
      tool: 'Bash([REDACTED:DB_PASS])',
      target: 'curl -H "Authorization: [REDACTED:API_KEY]"',
      reason: 'rule [REDACTED:DB_PASS]',
      decision: 'allow',
      detail: {
        argv: ['mysql', '-p[REDACTED:DB_PASS]', { deep: ['[REDACTED:API_KEY]'] }],
        env: { '[REDACTED:API_KEY]': 'value', plain: 'ok' },
        n: 7,
        flag: true,
        none: null,
      },
    });
    // The input is not modified.
    expect(input.target).toContain('sk-live-XYZ');
    expect(JSON.stringify(input.detail)).toContain('hunter2');
    expect(JSON.stringify(out)).not.toMatch(/hunter2|sk-live-XYZ/);
  });

  it('shares untouched sub-trees and keeps key order', () => {
    const clean = { a: [1, 2, 3] };
    const out = createRedactor(secrets)({ kind: 'exec', detail: { first: 'hunter2', clean, last: 'z' } });
    expect(out.detail?.['clean']).toBe(clean);
    expect(Object.keys(out.detail ?? {})).toEqual(['first', 'clean', 'last']);
  });

  it('redacts numbers whose digits are a secret', () => {
    const out = createRedactor({ PIN: '4711' })({ kind: 'exec', detail: { code: 94711, other: 12 } });
    expect(out.detail).toEqual({ code: '9[REDACTED:PIN]', other: 12 });
  });

  it('survives cycles, toJSON and a __proto__ key', () => {
    const cyclic: Record<string, unknown> = { s: 'hunter2' };
    cyclic['self'] = cyclic;
    const detail = JSON.parse('{"__proto__": "hunter2"}') as Record<string, unknown>;
    detail['when'] = new Date(0);
    detail['cyclic'] = cyclic;
    const out = createRedactor(secrets)({ kind: 'exec', detail });
    const d = out.detail as Record<string, unknown>;
    expect(Object.prototype.hasOwnProperty.call(d, '__proto__')).toBe(true);
    expect(d['__proto__']).toBe('[REDACTED:DB_PASS]');
    expect(Object.getPrototypeOf(d)).toBe(Object.prototype);
    expect(d['when']).toBe('1970-01-01T00:00:00.000Z');
    expect(d['cyclic']).toEqual({ s: '[REDACTED:DB_PASS]', self: '[Circular]' });
  });

  it('handles 50k events per second with secrets configured', () => {
    const many: Record<string, string> = {};
    for (let i = 0; i < 20; i++) many[`S${i}`] = `secret-value-${i}-${'x'.repeat(i)}`;
    const redact = createRedactor(many);
    const input: EventInput = {
      kind: 'exec', tool: 'Bash', target: 'git commit -m "fix the thing in src/foo.ts"', reason: 'Bash(git:*)',
      detail: { argv: ['git', 'commit', '-m', 'fix the thing'], cwd: '/work/repo', pid: 1234, env: { TERM: 'xterm' } },
    };
    const n = 50_000;
    const start = performance.now();
    for (let i = 0; i < n; i++) redact(input);
    const perSecond = n / ((performance.now() - start) / 1000);
    expect(perSecond).toBeGreaterThan(50_000);
  });
});
