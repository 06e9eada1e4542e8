import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isNonPublicAddress, ipv6Bytes } from '../../sandbox/net/address.js';
import { displayHost, normalizeHost, parseInetAton } from '../../sandbox/net/host.js';
import { parseHostMap } from '../../sandbox/net/host-map.js';

describe('normalizeHost', () => {
  it('lower-cases and strips one trailing dot', () => {
    expect(normalizeHost('GitHub.COM.')).toEqual({ kind: 'domain', host: 'github.com' });
    expect(normalizeHost('a-b_c.example.org')).toEqual({ kind: 'domain', host: 'a-b_c.example.org' });
    expect(normalizeHost('github.com..')).toBe('host name has an empty label');
  });

  it.each([
    ['127.0.0.1', '127.0.0.1'],
    ['127.1', '127.0.0.1'],
    ['127.0.1', '127.0.0.1'],
    ['0x7f.0.0.1', '127.0.0.1'],
    ['0X7F.1', '127.0.0.1'],
    ['2130706433', '127.0.0.1'],
    ['0x7f000001', '127.0.0.1'],
    ['0177.0.0.1', '127.0.0.1'],
    ['0177.0x0.00.0x1', '127.0.0.1'],
    ['017700000001', '127.0.0.1'],
    ['0', '0.0.0.0'],
    ['0x', '0.0.0.0'],
    ['10.0.0.1.', '10.0.0.1'],
    ['169.254.169.254', '169.254.169.254'],
    ['192.168.1', '192.168.0.1'],
  ])('reads %s as the IPv4 address %s', (raw, canonical) => {
    expect(normalizeHost(raw)).toEqual({ kind: 'ip', host: canonical, family: 4 });
  });

  it.each([['::1'], ['[::1]'], ['[::FFFF:127.0.0.1]'], ['::ffff:7f00:1'], ['fe80::1%eth0'], ['[2001:db8::1]'], ['::']])('classifies %s as IPv6', (raw) => {
    expect(normalizeHost(raw)).toMatchObject({ kind: 'ip', family: 6 });
  });

  it.each([
    [''],
    ['.'],
    ['a..b'],
    ['exa mple.com'],
    ['exa\u0000mple.com'],
    ['ex%61mple.com'],
    ['evil.com/x'],
    ['user@evil.com'],
    ['bücher.de'],
    ['[127.0.0.1]'],
    ['[::1'],
    ['::1]'],
    ['1:2'],
    ['256.0.0.1'],
    ['1.2.3.4.5'],
    ['08.0.0.1'],
    ['0x100000000'],
    ['4294967296'],
    ['1.2.3.256'],
    ['a.b.123'],
    [`${'a'.repeat(64)}.com`],
    [`${'abcdefghi.'.repeat(26)}com`],
  ])('rejects %j', (raw) => {
    expect(typeof normalizeHost(raw)).toBe('string');
  });

  it('never classifies a spelling of a 32-bit number as a domain', () => {
    const spelling = fc.integer({ min: 0, max: 0xffffffff }).chain((n) =>
      fc.constantFrom<(v: number) => string>(
        (v) => String(v),
        (v) => `0x${v.toString(16)}`,
        (v) => `0${v.toString(8)}`,
        (v) => [v >>> 24, v & 0xffffff].join('.'),
        (v) => [v >>> 24, (v >>> 16) & 0xff, v & 0xffff].join('.'),
        (v) => [v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff].map((b) => `0x${b.toString(16)}`).join('.'),
        (v) => [v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff].map((b) => `0${b.toString(8)}`).join('.'),
      ).map((render) => ({ n, text: render(n) })),
    );
    fc.assert(
      fc.property(spelling, fc.boolean(), fc.boolean(), ({ n, text }, upper, dot) => {
        const raw = `${upper ? text.toUpperCase() : text}${dot ? '.' : ''}`;
        const canonical = [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff].join('.');
        expect(normalizeHost(raw)).toEqual({ kind: 'ip', host: canonical, family: 4 });
      }),
    );
  });

  it('never returns a domain that is not plain lower-case labels', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (raw) => {
        const result = normalizeHost(raw);
        if (typeof result !== 'string' && result.kind === 'domain') {
          expect(result.host).toMatch(/^[a-z0-9_-]{1,63}(\.[a-z0-9_-]{1,63})*$/);
          expect(result.host).not.toMatch(/\.(0x[0-9a-f]*|[0-9]+)$|^(0x[0-9a-f]*|[0-9]+)$/);
        }
      }),
    );
  });
});

describe('parseInetAton', () => {
  it('rejects overflowing parts', () => {
    expect(parseInetAton('1.16777216')).toBeUndefined();
    expect(parseInetAton('1.2.65536')).toBeUndefined();
    expect(parseInetAton('1.2.3.256')).toBeUndefined();
    expect(parseInetAton('1.2.16777215')).toBeUndefined();
    expect(parseInetAton('1.2.65535')).toBe('1.2.255.255');
  });
});

describe('displayHost', () => {
  it('keeps hosts printable and bounded', () => {
    expect(displayHost('a\nb\u0000c')).toBe('a?b?c');
    expect(displayHost('x'.repeat(1000)).length).toBeLessThan(300);
  });
});

describe('isNonPublicAddress', () => {
  it.each([
    '127.0.0.1', '127.255.255.254', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.0.1', '169.254.169.254',
    '100.64.0.1', '100.127.255.255', '0.0.0.0', '224.0.0.1', '255.255.255.255', '192.0.0.8',
    '::', '::1', 'fc00::1', 'fd12:3456::1', 'fe80::1', 'fe80::1%lo', 'ff02::1', '::ffff:127.0.0.1', '::ffff:7f00:1',
    '::ffff:10.0.0.1', '::127.0.0.1', '64:ff9b::a00:1', '2002:7f00:1::', '2002:c0a8:0101::1', 'not-an-ip',
  ])('blocks %s', (address) => {
    expect(isNonPublicAddress(address)).toBe(true);
  });

  it.each(['8.8.8.8', '93.184.216.34', '172.32.0.1', '100.128.0.1', '2606:4700::1111', '::ffff:8.8.8.8', '64:ff9b::808:808', '2002:808:808::1'])(
    'lets %s through',
    (address) => {
      expect(isNonPublicAddress(address)).toBe(false);
    },
  );

  it('parses IPv6 forms to 16 bytes', () => {
    expect(ipv6Bytes('::1')).toEqual([...new Array<number>(15).fill(0), 1]);
    expect(ipv6Bytes('::ffff:1.2.3.4')?.slice(10)).toEqual([0xff, 0xff, 1, 2, 3, 4]);
    expect(ipv6Bytes('1:2:3:4:5:6:7:8')?.slice(0, 2)).toEqual([0, 1]);
  });

  it('agrees with the IPv4 verdict for every IPv4-mapped address', () => {
    fc.assert(
      fc.property(fc.ipV4(), (v4) => {
        expect(isNonPublicAddress(`::ffff:${v4}`)).toBe(isNonPublicAddress(v4));
      }),
    );
  });
});

describe('parseHostMap', () => {
  it('parses names, IPs and optional ports', () => {
    const map = parseHostMap(' name.test=127.0.0.1:8080, Other.Test.=127.0.0.1 ,v6.test=[::1]:9 ');
    expect([...map]).toEqual([
      ['name.test', { host: '127.0.0.1', port: 8080 }],
      ['other.test', { host: '127.0.0.1' }],
      ['v6.test', { host: '::1', port: 9 }],
    ]);
    expect(parseHostMap('').size).toBe(0);
  });

  it.each(['nameonly', 'a.test=', 'a.test=example.com', 'a.test=127.0.0.1:0', 'a.test=127.0.0.1:x', '127.0.0.1=127.0.0.1', 'a b=127.0.0.1', 'a.test=[nope]'])(
    'throws a one-line error for %j',
    (text) => {
      expect(() => parseHostMap(text)).toThrow(/^host map entry "[^\n]*$/);
    },
  );
});
