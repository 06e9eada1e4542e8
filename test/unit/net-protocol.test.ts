import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { endToEndHeaders, parseAbsoluteTarget, parseAuthority, upstreamRequestHeaders } from '../../sandbox/net/http-target.js';
import { parseGreeting, parseRequest, replyForError, socksReply } from '../../sandbox/net/socks5.js';

describe('SOCKS5 parsing', () => {
  it('parses greetings, waiting for complete messages', () => {
    expect(parseGreeting(Buffer.from([5]))).toEqual({ kind: 'incomplete' });
    expect(parseGreeting(Buffer.from([5, 2, 0]))).toEqual({ kind: 'incomplete' });
    expect(parseGreeting(Buffer.from([5, 2, 0, 2, 9]))).toEqual({ kind: 'ok', value: { methods: [0, 2] }, consumed: 4 });
    expect(parseGreeting(Buffer.from([4, 1, 0])).kind).toBe('invalid');
    expect(parseGreeting(Buffer.from([5, 0])).kind).toBe('invalid');
  });

  it('parses CONNECT requests for names, IPv4 and IPv6', () => {
    const name = Buffer.concat([Buffer.from([5, 1, 0, 3, 10]), Buffer.from('github.com'), Buffer.from([1, 187])]);
    expect(parseRequest(name)).toEqual({ kind: 'ok', value: { command: 1, host: 'github.com', port: 443 }, consumed: name.length });
    expect(parseRequest(name.subarray(0, name.length - 1))).toEqual({ kind: 'incomplete' });
    expect(parseRequest(Buffer.from([5, 1, 0, 1, 127, 0, 0, 1, 0, 80]))).toMatchObject({ value: { host: '127.0.0.1', port: 80 } });
    const v6 = Buffer.from([5, 1, 0, 4, ...new Array<number>(15).fill(0), 1, 0, 22]);
    expect(parseRequest(v6)).toMatchObject({ value: { host: '0:0:0:0:0:0:0:1', port: 22 } });
  });

  it('rejects bad requests with the right reply code', () => {
    const bad = (bytes: number[]): number | undefined => {
      const parsed = parseRequest(Buffer.from(bytes));
      return parsed.kind === 'invalid' ? parsed.reply[1] : undefined;
    };
    expect(bad([5, 1, 0, 9, 0, 0, 0, 0, 0, 0])).toBe(0x08);
    expect(bad([4, 1, 0, 1, 0, 0, 0, 0, 0, 0])).toBe(0x01);
    expect(bad([5, 1, 7, 1, 0, 0, 0, 0, 0, 0])).toBe(0x01);
    expect(bad([5, 1, 0, 3, 0, 0, 0])).toBe(0x01);
  });

  it('never throws on arbitrary bytes, and never reads past the input', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const buf = Buffer.from(bytes);
        for (const parsed of [parseGreeting(buf), parseRequest(buf)]) {
          if (parsed.kind === 'ok') expect(parsed.consumed).toBeLessThanOrEqual(buf.length);
        }
      }),
    );
  });

  it('maps errors to RFC 1928 reply codes', () => {
    expect(socksReply(2)).toEqual(Buffer.from([5, 2, 0, 1, 0, 0, 0, 0, 0, 0]));
    expect(replyForError('ENOTFOUND')).toBe(4);
    expect(replyForError('ECONNREFUSED')).toBe(5);
    expect(replyForError('ENETUNREACH')).toBe(3);
    expect(replyForError('ETIMEDOUT')).toBe(6);
    expect(replyForError('EWHATEVER')).toBe(1);
  });
});

describe('HTTP targets', () => {
  it('parses CONNECT authorities', () => {
    expect(parseAuthority('github.com:443')).toEqual({ host: 'github.com', port: 443 });
    expect(parseAuthority('[::1]:8080')).toEqual({ host: '[::1]', port: 8080 });
    expect(parseAuthority('github.com')).toBe('missing port');
    expect(parseAuthority('github.com', 80)).toEqual({ host: 'github.com', port: 80 });
    for (const bad of ['', ':443', 'a:0', 'a:65536', 'a:44x', '::1:443', '[::1', '[::1]x:1', 'a:']) {
      expect(typeof parseAuthority(bad), bad).toBe('string');
    }
  });

  it('parses absolute-URI request targets', () => {
    expect(parseAbsoluteTarget('http://example.com/a/b?c=d#frag')).toEqual({ host: 'example.com', port: 80, authority: 'example.com', path: '/a/b?c=d' });
    expect(parseAbsoluteTarget('HTTP://example.com:8080')).toEqual({ host: 'example.com', port: 8080, authority: 'example.com:8080', path: '/' });
    expect(parseAbsoluteTarget('http://example.com?q')).toMatchObject({ path: '/?q' });
    expect(parseAbsoluteTarget('http://[::1]:80/')).toMatchObject({ host: '[::1]', port: 80 });
    for (const bad of ['/relative', 'https://example.com/', 'ftp://x/', 'http://user:pw@example.com/', 'http://a.com\\@b.com/', 'http://exa mple.com/', 'http:///x']) {
      expect(typeof parseAbsoluteTarget(bad), bad).toBe('string');
    }
  });

  it('drops hop-by-hop, Connection-listed and Proxy-* headers', () => {
    const raw = ['Connection', 'close, X-Secret', 'X-Secret', 's', 'Proxy-Authorization', 'p', 'Keep-Alive', '5', 'TE', 'trailers', 'Accept', '*/*', 'Upgrade', 'h2c'];
    expect(endToEndHeaders(raw)).toEqual(['Accept', '*/*']);
  });

  it('sets Host from the URL and keeps chunked bodies framed', () => {
    expect(upstreamRequestHeaders(['Host', 'evil.com', 'Content-Length', '3'], 'good.com')).toEqual(['Host', 'good.com', 'Content-Length', '3']);
    expect(upstreamRequestHeaders(['Transfer-Encoding', 'chunked', 'Content-Length', '3'], 'good.com')).toEqual(['Host', 'good.com', 'Transfer-Encoding', 'chunked']);
  });
});
