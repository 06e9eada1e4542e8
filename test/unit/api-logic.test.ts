// The backend's pure logic: auth checks, the live filter, routing, the
// morning review summary and its HTML escaping.
import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../sandbox/audit/event.js';
import type { SessionRecord } from '../../sandbox/audit/store.js';
import { matchesFilter } from '../../main/server/event-feed.js';
import { escapeHtml, renderReviewHtml } from '../../main/server/review-html.js';
import { summarizeReview, yesterdayEvening } from '../../main/server/review.js';
import { Router } from '../../main/server/router.js';
import { bearerOf, checkHost, checkOrigin, Credentials, parseCookies, protocolTokenOf } from '../../main/server/security.js';
import { defaultAgentCommand, refusalExitCode } from '../../main/launch.js';

const ev = (over: Partial<AuditEvent>): AuditEvent => ({
  id: '01J00000000000000000000000', ts: '2026-01-02T03:04:05.000Z', session: 's1', persona: 'p', agent: { kind: 'shell', version: null },
  on_behalf_of: 'me', kind: 'exec', tool: null, target: null, decision: null, reason: null, detail: {}, ...over,
});

describe('security checks', () => {
  it('Host must be our loopback address and port', () => {
    expect(checkHost('127.0.0.1:4000', 4000).ok).toBe(true);
    expect(checkHost('LOCALHOST:4000', 4000).ok).toBe(true);
    for (const h of [undefined, '', '127.0.0.1', '127.0.0.1:4001', 'evil.example:4000', '[::1]:4000', '127.0.0.1:4000.evil']) {
      expect(checkHost(h, 4000)).toMatchObject({ ok: false, status: 421 });
    }
  });

  it('a present Origin must be ours', () => {
    expect(checkOrigin(undefined, 4000).ok).toBe(true);
    expect(checkOrigin('http://127.0.0.1:4000', 4000).ok).toBe(true);
    for (const o of ['null', 'http://127.0.0.1:4001', 'https://127.0.0.1:4000', 'http://evil.example']) expect(checkOrigin(o, 4000)).toMatchObject({ ok: false, status: 403 });
  });

  it('tokens: bearer, subprotocol, one-time code for a cookie', () => {
    const c = new Credentials(1000);
    expect(c.accepts({ authorization: `Bearer ${c.token}` }, 1)).toBe(true);
    expect(c.accepts({ authorization: `Bearer ${c.token}x` }, 1)).toBe(false);
    expect(c.accepts({ authorization: c.token }, 1)).toBe(false);
    expect(c.accepts({ protocol: `chat, personae-token.${c.token}` }, 1)).toBe(true);
    const code = c.newLoginCode(0);
    expect(c.redeem(code, 2000)).toBeUndefined();
    const fresh = c.newLoginCode();
    const cookie = c.redeem(fresh) as string;
    expect(cookie).toMatch(/^[0-9a-f]{64}$/);
    expect(c.redeem(fresh)).toBeUndefined();
    expect(c.accepts({ cookie: `other=1; personae_1=${cookie}` }, 1)).toBe(true);
    expect(c.accepts({ cookie: `personae_2=${cookie}` }, 1)).toBe(false);
    expect(c.accepts({ cookie: `personae_1=${c.token}` }, 1)).toBe(false);
    expect(parseCookies('a=1; a=2; b').get('a')).toBe('1');
    expect(bearerOf('Bearer a b')).toBeUndefined();
    expect(protocolTokenOf(undefined)).toBeUndefined();
  });
});

describe('live filter', () => {
  it('matches as the SQL query does', () => {
    const e = ev({ kind: 'net.connect', decision: 'deny', target: 'Example.com:443', reason: 'no rule' });
    expect(matchesFilter(e, {})).toBe(true);
    expect(matchesFilter(e, { kind: 'net.*' })).toBe(true);
    expect(matchesFilter(e, { kind: 'net' })).toBe(false);
    expect(matchesFilter(e, { decision: 'deny', persona: 'p', session: 's1' })).toBe(true);
    expect(matchesFilter(e, { decision: 'allow' })).toBe(false);
    expect(matchesFilter(e, { text: 'EXAMPLE' })).toBe(true);
    expect(matchesFilter(e, { text: 'nothing' })).toBe(false);
  });
});

describe('router', () => {
  it('matches patterns, decodes parameters, reports allowed methods', () => {
    const r = new Router().add('GET', '/api/x/:id', () => undefined).add('POST', '/api/x/:id/stop', () => undefined);
    expect(r.match('GET', '/api/x/a%20b')).toMatchObject({ params: { id: 'a b' } });
    expect(r.match('DELETE', '/api/x/1')).toEqual({ allowed: ['GET'] });
    expect(r.match('GET', '/api/x/%E0%A4%A')).toBeUndefined();
    expect(r.match('GET', '/api/y')).toBeUndefined();
  });
});

describe('morning review', () => {
  it('summarizes per persona: sessions, denials, files, destinations, drift', () => {
    const session: SessionRecord = {
      id: 's1', persona: 'p', agent: { kind: 'shell', version: null }, on_behalf_of: 'me', workspace: '/w', command: ['x'], supervisor_pid: 1,
      sandbox_pid: 2, started_at: '2026-01-02T01:00:00.000Z', ended_at: '2026-01-02T02:00:00.000Z', exit_code: 0, end_reason: 'exit',
      worktree: null, worktree_state: null, files_changed: null,
    };
    const old = { ...session, id: 's0', started_at: '2025-01-01T00:00:00.000Z', ended_at: '2025-01-01T01:00:00.000Z' };
    const r = summarizeReview({
      since: new Date('2026-01-01T18:00:00Z'), until: new Date('2026-01-02T12:00:00Z'), now: new Date('2026-01-02T12:00:00Z'),
      sessions: [session, old], displayNames: new Map([['p', 'P']]), truncated: false,
      events: [
        ev({ kind: 'tool.call', decision: 'allow' }),
        ev({ kind: 'tool.call', decision: 'deny', reason: 'tools.deny' }),
        ev({ kind: 'net.connect', decision: 'deny', target: 'x.example:443' }),
        ev({ kind: 'net.connect', decision: 'allow', target: 'x.example:443' }),
        ev({ kind: 'fs.write', target: '/w/a' }),
        ev({ kind: 'fs.write', target: '/w/a', detail: { diff: '+1' } }),
        ev({ kind: 'fs.delete', target: '/w/b' }),
        ev({ kind: 'drift', target: 'Bash', reason: 'same failing call 5 times' }),
        ev({ kind: 'stop', decision: 'deny', reason: '1 processes survive' }),
        ev({ kind: 'http.request', decision: 'allow', detail: { method: 'GET', host: 'api.test', bytes_in: 100, bytes_out: 0, credentials: ['GITHUB_TOKEN'] } }),
        ev({ kind: 'http.request', decision: 'allow', detail: { method: 'GET', host: 'api.test', bytes_in: 50, bytes_out: 0, credentials: [] } }),
        ev({ kind: 'http.request', decision: 'deny', detail: { method: 'POST', host: 'rules.test', bytes_in: 0, bytes_out: 12, credentials: [] } }),
        ev({ kind: 'credential', decision: 'deny', target: 'GITHUB_TOKEN -> rules.test:443' }),
        ev({ persona: 'q', kind: 'exec' }),
      ],
    });
    expect(r.personas.map((p) => p.persona)).toEqual(['p', 'q']);
    const p = r.personas[0];
    expect(p).toMatchObject({ display_name: 'P', tool_calls: 2, denials: 4, duration_ms: 3_600_000, credential_refusals: 1 });
    expect(p?.requests).toEqual([
      { target: 'GET api.test', allowed: 2, denied: 0, bytes_in: 150, bytes_out: 0, credentials: ['GITHUB_TOKEN'] },
      { target: 'POST rules.test', allowed: 0, denied: 1, bytes_in: 0, bytes_out: 12, credentials: [] },
    ]);
    expect(p?.sessions.map((s) => s.id)).toEqual(['s1']);
    expect(p?.files).toEqual([{ path: '/w/a', writes: 2, deletes: 0, diff: '+1' }, { path: '/w/b', writes: 0, deletes: 1, diff: null }]);
    expect(p?.network).toEqual([{ target: 'x.example:443', allowed: 1, denied: 1 }]);
    expect(p?.drift_flags).toHaveLength(1);
    expect(r.personas[1]?.commands).toBe(1);
    const html = renderReviewHtml({ ...r, personas: [{ ...(p as NonNullable<typeof p>), display_name: '<script>alert(1)</script>' }] });
    expect(html).not.toContain('<script>alert');
    expect(html).toContain('&lt;script&gt;');
    expect(html).toContain('<code>GET api.test</code>');
    expect(escapeHtml(`"'&`)).toBe('&quot;&#39;&amp;');
  });

  it('defaults to yesterday evening', () => {
    const d = yesterdayEvening(new Date(2026, 0, 2, 9, 30));
    expect([d.getDate(), d.getHours(), d.getMinutes()]).toEqual([1, 18, 0]);
  });
});

describe('launch helpers', () => {
  it('default commands per agent, refusal exit codes', () => {
    expect(defaultAgentCommand('claude', 'fix the bug')).toEqual(['claude', 'fix the bug']);
    expect(defaultAgentCommand('shell', '  ')).toEqual(['bash', '-i']);
    expect(defaultAgentCommand('shell', 'make test')).toEqual(['sh', '-c', 'make test']);
    expect(refusalExitCode('not-found')).toBe(2);
    expect(refusalExitCode('expired')).toBe(3);
  });
});
