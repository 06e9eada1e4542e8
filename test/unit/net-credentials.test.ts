// Placeholders, header injection, leak detection and the body streams, as data.
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { bindCredentials, leakInUrl, rewriteHeaders, scrubHeaders, valuePatterns } from '../../sandbox/net/credentials.js';
import type { CredentialGrant } from '../../sandbox/net/credentials.js';
import { makePlaceholder } from '../../sandbox/net/placeholder.js';
import { DetectStream, ReplaceStream, replaceAll } from '../../sandbox/net/scan-stream.js';

const GH = 'ghp_0123456789abcdefghijABCDEFGHIJ012345';

function grant(env: string, value: string, hosts: string[], inject: 'proxy' | 'env' = 'proxy'): CredentialGrant {
  return { env, secret: env.toLowerCase(), value, inject, hosts };
}

async function through(stream: NodeJS.ReadWriteStream, chunks: readonly string[]): Promise<string> {
  let out = '';
  await pipeline(
    Readable.from(chunks.map((c) => Buffer.from(c))),
    stream,
    new Writable({
      write(chunk: Buffer, _enc, done) {
        out += chunk.toString('latin1');
        done();
      },
    }),
  );
  return out;
}

describe('makePlaceholder', () => {
  it('keeps a known prefix, the length and the character classes', () => {
    for (const value of [GH, 'sk-ant-api03-abcDEF123_-xyzXYZ0987654321abcdefghij', 'sk-proj-ABCdef0123456789ghijKLMNop', 'github_pat_11ABCDEFG0123456789_abcdefghijklmnop']) {
      const p = makePlaceholder(value);
      expect(p).not.toBe(value);
      expect(p).toHaveLength(value.length);
      const classes = (s: string): string => s.replace(/[a-z]/g, 'a').replace(/[A-Z]/g, 'A').replace(/[0-9]/g, '0');
      const prefix = /^(sk-ant-api03-|sk-proj-|github_pat_|ghp_)/.exec(value)?.[0] ?? '';
      expect(p.startsWith(prefix)).toBe(true);
      expect(classes(p.slice(prefix.length))).toBe(classes(value.slice(prefix.length)));
    }
  });

  it('is fresh each time', () => {
    expect(makePlaceholder(GH)).not.toBe(makePlaceholder(GH));
  });

  it('marks a short or odd value as personae\'s own', () => {
    expect(makePlaceholder('hunter2')).toMatch(/^personae-placeholder-[A-Za-z0-9]{32}$/);
    expect(makePlaceholder('pässwörd-with-ümlauts-0123456789abcdefghij')).toMatch(/^personae-placeholder-/);
  });
});

describe('bindCredentials', () => {
  it('gives the sandbox placeholders, and the value only to inject: env', () => {
    const b = bindCredentials([grant('GITHUB_TOKEN', GH, ['api.github.com', 'git.example.com:8443']), grant('LEGACY', 'clear-value', [], 'env')], () => 'PH');
    expect(b.env).toEqual({ GITHUB_TOKEN: 'PH', LEGACY: 'clear-value' });
    expect(b.values).toEqual({ GITHUB_TOKEN: GH, LEGACY: 'clear-value' });
    expect(b.bindings).toEqual([{ name: 'GITHUB_TOKEN', placeholder: 'PH', value: GH, hosts: [{ host: 'api.github.com', port: 443 }, { host: 'git.example.com', port: 8443 }] }]);
  });
});

describe('rewriteHeaders', () => {
  const { bindings } = bindCredentials([grant('GITHUB_TOKEN', GH, ['api.github.com']), grant('NPM_TOKEN', 'npm_0123456789abcdefghijABCDEFGHIJ', ['registry.npmjs.org'])], (v) => `PH-${v.slice(0, 3)}`);
  const [gh, npm] = bindings as [(typeof bindings)[0], (typeof bindings)[0]];

  it('puts the value where the placeholder was, in any header', () => {
    const r = rewriteHeaders(['Authorization', 'Bearer PH-ghp', 'Cookie', 'a=1; t=PH-ghp', 'Accept', '*/*'], [gh], [npm]);
    expect(r.headers).toEqual(['Authorization', `Bearer ${GH}`, 'Cookie', `a=1; t=${GH}`, 'Accept', '*/*']);
    expect(r.injected).toEqual(['GITHUB_TOKEN']);
    expect(r.leak).toBeUndefined();
  });

  it('decodes Basic auth, fills it and encodes it again; the echo maps back', () => {
    const sent = Buffer.from('x-access-token:PH-ghp').toString('base64');
    const r = rewriteHeaders(['authorization', `Basic ${sent}`], [gh], [npm]);
    expect(Buffer.from((r.headers[1] ?? '').replace('Basic ', ''), 'base64').toString()).toBe(`x-access-token:${GH}`);
    expect(r.echoes).toEqual([{ name: 'GITHUB_TOKEN', sent: Buffer.from(`x-access-token:${GH}`).toString('base64'), seen: sent }]);
  });

  it("reports another credential's placeholder, plain or inside Basic auth", () => {
    expect(rewriteHeaders(['x-api-key', 'PH-npm'], [gh], [npm]).leak).toEqual({ name: 'NPM_TOKEN', where: 'header x-api-key' });
    const basic = `Basic ${Buffer.from('u:PH-npm').toString('base64')}`;
    expect(rewriteHeaders(['Authorization', basic], [gh], [npm]).leak).toEqual({ name: 'NPM_TOKEN', where: 'header Authorization' });
  });

  it('finds a placeholder in a URL, as sent or percent-encoded', () => {
    expect(leakInUrl('/x?t=PH-npm', [npm])).toEqual({ name: 'NPM_TOKEN', where: 'url' });
    expect(leakInUrl('/x?t=%50H-npm', [npm])).toEqual({ name: 'NPM_TOKEN', where: 'url' });
    expect(leakInUrl('/x?t=other', [npm])).toBeUndefined();
  });

  it('takes values out of response headers', () => {
    expect(scrubHeaders(['X-Echo', `token ${GH}`, GH, 'name-stays'], valuePatterns([gh]))).toEqual(['X-Echo', 'token PH-ghp', GH, 'name-stays']);
  });
});

describe('body streams', () => {
  const patterns = [{ name: 'T', find: Buffer.from('PLACEHOLDER') }];

  it('DetectStream stops at a placeholder split across chunks, passing none of it', async () => {
    const found: string[] = [];
    const s = new DetectStream(patterns, (p) => found.push(p.name), 0);
    const out = await through(s, ['a'.repeat(100), 'xxPLACE', 'HOLDERyy', 'more']);
    expect(found).toEqual(['T']);
    expect(out).not.toContain('P');
    expect(out.length).toBeLessThanOrEqual(102);
  });

  it('DetectStream holds a small body whole: nothing passes before the end', async () => {
    const found: string[] = [];
    const s = new DetectStream(patterns, (p) => found.push(p.name), 1024);
    const passed: number[] = [];
    s.on('data', (c: Buffer) => passed.push(c.length));
    s.write(Buffer.from('x'.repeat(500)));
    await new Promise((r) => setImmediate(r));
    expect(passed).toEqual([]);
    s.end(Buffer.from('PLACEHOLDER'));
    await new Promise((r) => s.on('end', r).resume());
    expect(found).toEqual(['T']);
    expect(passed).toEqual([]);
  });

  it('DetectStream passes a clean body through unchanged, counting it', async () => {
    const s = new DetectStream(patterns, () => undefined, 8);
    const text = 'clean body '.repeat(50);
    expect(await through(s, [text.slice(0, 7), text.slice(7, 300), text.slice(300)])).toBe(text);
    expect(s.bytes).toBe(text.length);
  });

  it('ReplaceStream replaces values split across chunks', async () => {
    const s = new ReplaceStream([{ name: 'T', find: Buffer.from('REALVALUE'), replace: Buffer.from('PLACEHOLD') }]);
    const out = await through(s, ['start REAL', 'VAL', 'UE mid REALVALUE', ' end REALV', 'ALUE']);
    expect(out).toBe('start PLACEHOLD mid PLACEHOLD end PLACEHOLD');
  });

  it('replaceAll handles a replacement of another length', () => {
    expect(replaceAll(Buffer.from('aXXbXX'), [{ name: 'T', find: Buffer.from('XX'), replace: Buffer.from('yyy') }]).toString()).toBe('ayyybyyy');
  });
});
