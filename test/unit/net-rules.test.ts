import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileNetworkRules, decideHost } from '../../sandbox/net/domain-rules.js';
import { normalizeHost } from '../../sandbox/net/host.js';

const rules = compileNetworkRules(['*.github.com', 'api.example.com', 'example.org:8443', 'pkg.test'], ['evil.github.com', 'pkg.test:443']);

describe('decideHost', () => {
  it.each([
    ['a.github.com', 443, 'allow', 'network.allow: *.github.com'],
    ['a.b.github.com', 80, 'allow', 'network.allow: *.github.com'],
    ['A.GitHub.Com.', 443, 'allow', 'network.allow: *.github.com'],
    ['github.com', 443, 'deny', 'no network.allow rule matches'],
    ['evil-github.com', 443, 'deny', 'no network.allow rule matches'],
    ['github.com.evil.com', 443, 'deny', 'no network.allow rule matches'],
    ['agithub.com', 443, 'deny', 'no network.allow rule matches'],
    ['evil.github.com', 443, 'deny', 'network.deny: evil.github.com'],
    ['evil.github.com', 22, 'deny', 'network.deny: evil.github.com'],
    ['x.evil.github.com', 443, 'allow', 'network.allow: *.github.com'],
    ['a.github.com', 8443, 'deny', 'port 8443 not granted for a.github.com'],
    ['api.example.com', 443, 'allow', 'network.allow: api.example.com'],
    ['x.api.example.com', 443, 'deny', 'no network.allow rule matches'],
    ['example.org', 8443, 'allow', 'network.allow: example.org:8443'],
    ['example.org', 443, 'deny', 'port 443 not granted for example.org'],
    ['pkg.test', 80, 'allow', 'network.allow: pkg.test'],
    ['pkg.test', 443, 'deny', 'network.deny: pkg.test:443'],
    ['127.0.0.1', 443, 'deny', 'IP address targets are not allowed'],
    ['0x7f.1', 443, 'deny', 'IP address targets are not allowed'],
    ['[::1]', 443, 'deny', 'IP address targets are not allowed'],
    ['::ffff:127.0.0.1', 443, 'deny', 'IP address targets are not allowed'],
  ] as const)('%s:%i -> %s (%s)', (host, port, decision, reason) => {
    expect(decideHost(rules, host, port)).toEqual({ decision, reason });
  });

  it('denies everything when nothing is allowed', () => {
    const none = compileNetworkRules([], []);
    expect(decideHost(none, 'github.com', 443)).toEqual({ decision: 'deny', reason: 'no network.allow rule matches' });
  });

  it('denies invalid hosts and ports with a reason', () => {
    expect(decideHost(rules, 'a.github.com', 0).decision).toBe('deny');
    expect(decideHost(rules, 'a.github.com', 70000).decision).toBe('deny');
    expect(decideHost(rules, 'a b.github.com', 443).reason).toMatch(/^invalid host: /);
    expect(decideHost(rules, 'a..github.com', 443).reason).toMatch(/^invalid host: /);
  });

  it('names the offending pattern when compiling fails', () => {
    expect(() => compileNetworkRules(['ok.com', '*.com'], [])).toThrow('network.allow[1]: "*.com" is too broad');
    expect(() => compileNetworkRules([], ['1.2.3.4'])).toThrow(/^network\.deny\[0\]: .*IP address/);
  });
});

const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?$/);
const alphaLabel = fc.stringMatching(/^[a-z]{1,8}$/);
const domain = fc.tuple(fc.array(label, { minLength: 1, maxLength: 3 }), alphaLabel).map(([ls, tld]) => [...ls, tld].join('.'));
const pattern = fc.tuple(fc.boolean(), domain, fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined })).map(
  ([wild, host, port]) => `${wild ? '*.' : ''}${host}${port === undefined ? '' : `:${port}`}`,
);
const port = fc.oneof(fc.constantFrom(80, 443, 8080, 8443), fc.integer({ min: 1, max: 65535 }));

/** The spec, spelled out independently: is `host:port` covered by this one allow pattern? */
function covered(patternText: string, host: string, p: number): boolean {
  const [hostPart, portText] = patternText.split(':') as [string, string | undefined];
  const portOk = portText === undefined ? p === 80 || p === 443 : Number(portText) === p;
  if (!portOk) return false;
  if (hostPart.startsWith('*.')) return host.endsWith(`.${hostPart.slice(2)}`);
  return host === hostPart;
}

describe('decideHost properties', () => {
  it('an allow is always backed by a pattern that covers the normalized host and port', () => {
    fc.assert(
      fc.property(fc.array(pattern, { maxLength: 4 }), fc.oneof(domain, fc.string({ maxLength: 40 })), port, (allow, host, p) => {
        const verdict = decideHost(compileNetworkRules(allow, []), host, p);
        if (verdict.decision === 'allow') {
          const normalized = normalizeHost(host);
          expect(typeof normalized).not.toBe('string');
          const name = (normalized as { host: string }).host;
          expect(allow.some((a) => covered(a, name, p))).toBe(true);
        }
      }),
    );
  });

  it('odd spellings never widen a rule: prefixes, suffixes, separators and case tricks', () => {
    const trick = fc.constantFrom(
      (h: string) => `evil-${h}`,
      (h: string) => `evil${h}`,
      (h: string) => `${h}.evil.com`,
      (h: string) => `${h}evil.com`,
      (h: string) => `${h}%2eevil.com`,
      (h: string) => `${h}\u0000.evil.com`,
      (h: string) => `${h}/.evil.com`,
      (h: string) => `${h}..`,
      (h: string) => `.${h}`,
      (h: string) => `${h} `,
      (h: string) => `${h}@evil.com`,
      (h: string) => `evil.com#${h}`,
    );
    fc.assert(
      fc.property(domain, trick, port, (host, mangle, p) => {
        const exact = compileNetworkRules([host], []);
        expect(decideHost(exact, mangle(host), p).decision).toBe('deny');
      }),
    );
  });

  it('a wildcard never matches its apex nor a look-alike, and always matches real subdomains on web ports', () => {
    fc.assert(
      fc.property(domain, label, fc.constantFrom(80, 443), (apex, sub, p) => {
        const wild = compileNetworkRules([`*.${apex}`], []);
        expect(decideHost(wild, apex, p).decision).toBe('deny');
        expect(decideHost(wild, `${sub}${apex}`, p).decision).toBe('deny');
        expect(decideHost(wild, `${sub}-${apex}`, p).decision).toBe('deny');
        expect(decideHost(wild, `${apex}.${sub}.com`, p).decision).toBe('deny');
        expect(decideHost(wild, `${sub}.${apex}`, p).decision).toBe('allow');
        expect(decideHost(wild, `${sub.toUpperCase()}.${apex}.`, p).decision).toBe('allow');
      }),
    );
  });

  it('deny beats allow whatever the order and spelling', () => {
    fc.assert(
      fc.property(domain, port, fc.boolean(), (host, p, upper) => {
        const both = compileNetworkRules([host, `*.${host}`], [host]);
        const asked = upper ? host.toUpperCase() : `${host}.`;
        expect(decideHost(both, asked, p)).toEqual({ decision: 'deny', reason: `network.deny: ${host}` });
      }),
    );
  });

  it('IP targets are denied however they are written, even with broad allow rules', () => {
    const broad = compileNetworkRules(['*.in-addr.arpa', '*.example.com'], []);
    const ipv4Spelling = fc.tuple(fc.ipV4(), fc.constantFrom('dotted', 'int', 'hex', 'short')).map(([ip, form]) => {
      const n = ip.split('.').reduce((acc, b) => acc * 256 + Number(b), 0);
      if (form === 'int') return String(n);
      if (form === 'hex') return `0x${n.toString(16)}`;
      if (form === 'short') return `${ip.split('.')[0]}.${n % 16777216}`;
      return ip;
    });
    fc.assert(
      fc.property(fc.oneof(ipv4Spelling, fc.ipV6(), fc.ipV6().map((v6) => `[${v6}]`)), port, (ip, p) => {
        expect(decideHost(broad, ip, p)).toEqual({ decision: 'deny', reason: 'IP address targets are not allowed' });
      }),
    );
  });
});
