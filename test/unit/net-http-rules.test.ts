// HTTP rules in network.allow: parsing, path globs, per-request decisions.
import { describe, expect, it } from 'vitest';
import { parseNetworkAllow } from '../../personas/http-rule.js';
import { compileNetworkRules, decideHost, pathGlob } from '../../sandbox/net/domain-rules.js';
import { decideRequest, hasHttpRules, pathProblem, redactTarget } from '../../sandbox/net/http-policy.js';

describe('parseNetworkAllow', () => {
  it('reads plain domains as before and HTTP rules as methods, host and path', () => {
    expect(parseNetworkAllow('registry.npmjs.org')).toEqual({ pattern: { wildcard: false, host: 'registry.npmjs.org', port: undefined } });
    expect(parseNetworkAllow('get,HEAD  registry.npmjs.org/**')).toEqual({
      pattern: { wildcard: false, host: 'registry.npmjs.org', port: undefined },
      http: { methods: ['GET', 'HEAD'], path: '/**' },
    });
    expect(parseNetworkAllow('git.example.com:8443/acme/widget.git/**')).toMatchObject({ pattern: { port: 8443 }, http: { methods: undefined, path: '/acme/widget.git/**' } });
    expect(parseNetworkAllow('POST *.example.com')).toMatchObject({ pattern: { wildcard: true }, http: { methods: ['POST'], path: undefined } });
  });

  it('refuses what it cannot read, in words', () => {
    expect(parseNetworkAllow('FETCH a.example.com/')).toContain('"FETCH" is not an HTTP method');
    expect(parseNetworkAllow('GET *.com/**')).toBe('"*.com" is too broad');
    expect(parseNetworkAllow('GET a.example.com/x?y=1')).toContain('leave out the query');
    expect(parseNetworkAllow('GET a.example.com/a//b')).toContain('empty segment');
    expect(parseNetworkAllow('GET a.example.com/a**/b')).toContain('"**" must be a whole path segment');
    expect(parseNetworkAllow('GET a.example.com/%2e%2e/b')).toContain('must not escape');
    expect(parseNetworkAllow('GET a.example.com /x')).toContain('write an HTTP rule as');
  });
});

describe('pathGlob', () => {
  it('matches * within a segment, ** across segments, and a trailing /** the directory itself', () => {
    const re = pathGlob('/repos/acme/*/pulls/**');
    expect(re.test('/repos/acme/widget/pulls')).toBe(true);
    expect(re.test('/repos/acme/widget/pulls/1/comments')).toBe(true);
    expect(re.test('/repos/acme/widget/other')).toBe(false);
    expect(re.test('/repos/acme/a/b/pulls')).toBe(false);
    expect(pathGlob('/**').test('/')).toBe(true);
    expect(pathGlob('/a/**/z').test('/a/z')).toBe(true);
    expect(pathGlob('/a/**/z').test('/a/b/c/z')).toBe(true);
    expect(pathGlob('/v1.2/x').test('/v1x2/x')).toBe(false);
  });
});

describe('decideRequest', () => {
  const rules = compileNetworkRules(['GET,HEAD registry.npmjs.org/**', 'POST api.github.com/repos/acme/widget/**', 'api.github.com:8443', 'plain.example.com'], []);

  it('allows the connection to a rule host, and decides each request by method and path', () => {
    expect(decideHost(rules, 'registry.npmjs.org', 443)).toEqual({ decision: 'allow', reason: 'network.allow: GET,HEAD registry.npmjs.org/**' });
    expect(decideRequest(rules, 'registry.npmjs.org', 443, 'GET', '/react?x=1')).toEqual({ decision: 'allow', reason: 'network.allow: GET,HEAD registry.npmjs.org/**' });
    expect(decideRequest(rules, 'registry.npmjs.org', 443, 'PUT', '/react')).toEqual({ decision: 'deny', reason: 'no network.allow rule allows PUT /react on registry.npmjs.org' });
    expect(decideRequest(rules, 'api.github.com', 443, 'POST', '/repos/acme/widget/pulls').decision).toBe('allow');
    expect(decideRequest(rules, 'api.github.com', 443, 'POST', '/repos/acme/other/pulls').decision).toBe('deny');
    expect(decideRequest(rules, 'api.github.com', 443, 'POST', '/repos/acme/widget/../other').reason).toContain('"." or ".." segments');
  });

  it('a plain entry for the host and port allows every request; only rule-only hosts are decided', () => {
    expect(decideRequest(rules, 'api.github.com', 8443, 'DELETE', '/anything').decision).toBe('allow');
    expect(hasHttpRules(rules, 'api.github.com', 443)).toBe(true);
    expect(hasHttpRules(rules, 'api.github.com', 8443)).toBe(false);
    expect(hasHttpRules(rules, 'plain.example.com', 443)).toBe(false);
  });

  it('refuses paths a server could read as another path', () => {
    for (const p of ['/a/./b', '/a/%2e%2e/b', '/a%2fb', '/a\\b', '/a//b']) expect(pathProblem(p), p).toBeDefined();
    expect(pathProblem('/a/b/')).toBeUndefined();
  });
});

describe('redactTarget', () => {
  it('keeps the path and the query keys, never the values', () => {
    expect(redactTarget('/search?q=secret&page=2&flag')).toBe('/search?q=*&page=*&flag');
    expect(redactTarget('/plain')).toBe('/plain');
  });
});
