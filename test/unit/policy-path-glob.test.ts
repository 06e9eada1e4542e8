import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compilePathPattern, normalizeAbsolute, resolveInputPath } from '../../sandbox/policy/path-glob.js';
import type { PathMatcher } from '../../sandbox/policy/path-glob.js';

const ctx = { workspace: '/ws', home: '/home/p' };

function matcher(spec: string, anywhere = false): PathMatcher {
  const m = compilePathPattern(spec, ctx, { anywhere });
  if ('error' in m) throw new Error(m.error);
  return m;
}

describe('normalizeAbsolute', () => {
  it.each([
    ['/', '/'],
    ['/a/b', '/a/b'],
    ['//a///b/', '/a/b'],
    ['/a/./b/.', '/a/b'],
    ['/a/../b', '/b'],
    ['/../../a', '/a'],
    ['/a/b/../../..', '/'],
    ['/ws/src/../secrets/key', '/ws/secrets/key'],
  ])('%j -> %j', (input, expected) => {
    expect(normalizeAbsolute(input)).toBe(expected);
  });
});

describe('resolveInputPath', () => {
  it.each([
    ['/etc/passwd', '/etc/passwd'],
    ['src/a.ts', '/ws/src/a.ts'],
    ['./src/../.env', '/ws/.env'],
    ['../other', '/other'],
    ['~', '/home/p'],
    ['~/.ssh/id_rsa', '/home/p/.ssh/id_rsa'],
    ['~user/x', '/ws/~user/x'],
  ])('%j -> %j', (input, expected) => {
    expect(resolveInputPath(input, '/ws', '/home/p')).toEqual({ path: expected });
  });

  it.each([[''], [42], [null], ['a\0b'], ['/'.repeat(5000)]])('refuses %j', (input) => {
    expect('error' in resolveInputPath(input, '/ws', '/home/p')).toBe(true);
  });
});

describe('compilePathPattern: anchoring per the Claude Code docs', () => {
  it.each<[string, string, boolean]>([
    // //path: absolute
    ['//etc/**', '/etc/passwd', true],
    ['//etc/**', '/ws/etc/passwd', false],
    ['//etc', '/etc/ssh/sshd_config', true],
    // ~/path: home
    ['~/.ssh/**', '/home/p/.ssh/id_rsa', true],
    ['~/.ssh/**', '/ws/.ssh/id_rsa', false],
    ['~', '/home/p/anything', true],
    ['~/', '/home/p', true],
    // /path: project root
    ['/src/**/*.ts', '/ws/src/a/b.ts', true],
    ['/src/**/*.ts', '/ws/src/b.ts', true],
    ['/src/**/*.ts', '/src/b.ts', false],
    ['/src/**/*.ts', '/ws/lib/src/b.ts', false],
    // ./path and path with a slash: anchored to the cwd (the workspace)
    ['./.env', '/ws/.env', true],
    ['./.env', '/ws/sub/.env', false],
    ['./secrets/**', '/ws/secrets/a/b', true],
    ['secrets/**', '/ws/secrets/a', true],
    ['secrets/**', '/ws/x/secrets/a', false],
    ['../shared/**', '/shared/x', true],
    // path without a slash: any depth below the cwd
    ['*.env', '/ws/.env', true], // gitignore: `*` also matches a leading dot
    ['*.env', '/ws/prod.env', true],
    ['*.env', '/ws/deep/dir/prod.env', true],
    ['.env', '/ws/a/b/.env', true],
    ['.env*', '/ws/.env.local', true],
    ['secrets', '/ws/a/secrets/key.pem', true],
    ['secrets/', '/ws/secrets/key.pem', true],
    ['*.env', '/tmp/prod.env', false],
  ])('%j vs %j -> %j', (spec, path, expected) => {
    expect(matcher(spec).matches(path)).toBe(expected);
  });
});

describe('compilePathPattern: glob syntax', () => {
  it.each<[string, string, boolean]>([
    ['/a/*.ts', '/ws/a/x.ts', true],
    ['/a/*.ts', '/ws/a/b/x.ts', false],
    ['/a/?.ts', '/ws/a/x.ts', true],
    ['/a/?.ts', '/ws/a/xy.ts', false],
    ['/a/[xy].ts', '/ws/a/y.ts', true],
    ['/a/[!xy].ts', '/ws/a/y.ts', false],
    ['/a/[!xy].ts', '/ws/a/z.ts', true],
    ['/a/[a-c]', '/ws/a/b', true],
    ['/a/[a-c]', '/ws/a/d', false],
    ['/a/[', '/ws/a/[', true],
    ['/a/\\*', '/ws/a/*', true],
    ['/a/\\*', '/ws/a/x', false],
    ['/**', '/ws/anything/at/all', true],
    ['/**/x', '/ws/x', true],
    ['/a/**/b', '/ws/a/b', true],
    ['/a/**/b', '/ws/a/1/2/3/b', true],
    ['/a/**/b', '/ws/a/1/2/3/c', false],
    ['/a/**/**/b', '/ws/a/1/b', true],
    ['/a**b', '/ws/aXXb', true],
    ['/a**b', '/ws/aX/Xb', false],
    ['/src/.', '/ws/src/x', true],
    ['/src/x/../y', '/ws/src/y', true],
  ])('%j vs %j -> %j', (spec, path, expected) => {
    expect(matcher(spec).matches(path)).toBe(expected);
  });

  it('refuses empty patterns and `..` after a wildcard', () => {
    expect('error' in compilePathPattern('', ctx)).toBe(true);
    expect('error' in compilePathPattern('/src/*/../x', ctx)).toBe(true);
  });

  it('normalises the path before matching', () => {
    const m = matcher('/secrets/**');
    expect(m.matches('/ws/src/../secrets/key')).toBe(true);
    expect(m.matches('/ws//secrets///key')).toBe(true);
    expect(m.matches('/ws/./secrets/./key')).toBe(true);
    expect(m.matches('/ws/secrets/../src/key')).toBe(false);
  });
});

describe('compilePathPattern: anywhere (deny and ask rules)', () => {
  it.each<[string, string, boolean]>([
    ['*.env', '/tmp/prod.env', true],
    ['.env', '/other/project/.env', true],
    ['**/id_rsa', '/home/p/.ssh/id_rsa', true],
    ['./.env', '/other/.env', false],
    ['/.env', '/other/.env', false],
    ['secrets/*.pem', '/x/secrets/a.pem', false],
  ])('%j vs %j -> %j', (spec, path, expected) => {
    expect(matcher(spec, true).matches(path)).toBe(expected);
  });
});

describe('compilePathPattern: properties', () => {
  const name = fc.stringMatching(/^[a-z0-9._-]{1,6}$/).filter((s) => s !== '.' && s !== '..');
  const detour = fc.oneof(
    name.map((n) => `${n}/..`),
    fc.constant('.'),
    fc.constant(''),
    name.map((n) => `${n}/./../`),
  );

  it('`..`, `.` and `//` detours never dodge a deny pattern', () => {
    const deny = matcher('/secrets/**', true);
    fc.assert(
      fc.property(fc.array(name, { minLength: 1, maxLength: 4 }), fc.array(detour, { maxLength: 6 }), (rest, detours) => {
        const segments = ['ws', 'secrets', ...rest];
        const spelled: string[] = [];
        segments.forEach((s, i) => {
          spelled.push(s);
          const d = detours[i];
          if (d !== undefined) spelled.push(d);
        });
        const path = `/${spelled.join('/')}`;
        expect(deny.matches(path)).toBe(true);
        const r = resolveInputPath(`src/../${spelled.slice(1).join('/')}`, '/ws', '/home/p');
        expect('path' in r && deny.matches(r.path)).toBe(true);
      }),
    );
  });

  it('a pattern matches a path exactly when it matches its normalised form', () => {
    const specs = ['*.env', '/src/**', '//etc/*', '~/.ssh/**', 'a/b?', '/x/[a-c]*'];
    fc.assert(
      fc.property(fc.constantFrom(...specs), fc.array(fc.oneof(name, fc.constant('..'), fc.constant('.')), { maxLength: 8 }), (spec, segs) => {
        const m = matcher(spec, true);
        const raw = `/${segs.join('/')}`;
        expect(m.matches(raw)).toBe(m.matches(normalizeAbsolute(raw)));
      }),
    );
  });

  it('stays fast on hostile patterns and long paths', () => {
    const m = matcher(`/${'*a'.repeat(20)}*b/**/${'**/'.repeat(20)}x`);
    const path = `/ws/${'a'.repeat(4000)}`;
    const t0 = Date.now();
    expect(m.matches(path)).toBe(false);
    const deep = matcher('/**/a/**/b/**/c/**/d');
    expect(deep.matches(`/ws/${'a/'.repeat(2000)}x`)).toBe(false);
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});
