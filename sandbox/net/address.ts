// Is a resolved address somewhere a sandbox must never reach? Loopback,
// private, link-local, CGNAT, multicast, unspecified and reserved ranges,
// including IPv6 forms that embed such an IPv4 address (mapped, compatible,
// NAT64, 6to4).
import { isIPv4, isIPv6 } from 'node:net';

type Bytes = readonly number[];

/** Parses a strict dotted quad into 4 bytes. */
export function ipv4Bytes(text: string): number[] | undefined {
  if (!isIPv4(text)) return undefined;
  return text.split('.').map(Number);
}

function groupsOf(part: string): number[] | undefined {
  if (part === '') return [];
  const out: number[] = [];
  const pieces = part.split(':');
  for (let i = 0; i < pieces.length; i += 1) {
    const piece = pieces[i] ?? '';
    if (i === pieces.length - 1 && piece.includes('.')) {
      const v4 = ipv4Bytes(piece);
      if (!v4) return undefined;
      out.push(((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0));
    } else {
      if (!/^[0-9a-f]{1,4}$/i.test(piece)) return undefined;
      out.push(parseInt(piece, 16));
    }
  }
  return out;
}

/** Parses an IPv6 address (with optional zone id) into 16 bytes. */
export function ipv6Bytes(text: string): number[] | undefined {
  if (!isIPv6(text)) return undefined;
  const address = text.split('%')[0] ?? '';
  const halves = address.split('::');
  if (halves.length > 2) return undefined;
  const head = groupsOf(halves[0] ?? '');
  const tail = halves.length === 2 ? groupsOf(halves[1] ?? '') : [];
  if (!head || !tail) return undefined;
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  if (fill < 0 || head.length + fill + tail.length !== 8) return undefined;
  const groups = [...head, ...new Array<number>(fill).fill(0), ...tail];
  return groups.flatMap((g) => [g >> 8, g & 0xff]);
}

/** True when `bytes` starts with the first `bits` bits of `prefix`. */
function inPrefix(bytes: Bytes, prefix: Bytes, bits: number): boolean {
  for (let i = 0; i < bits; i += 1) {
    const byte = Math.floor(i / 8);
    const mask = 0x80 >> (i % 8);
    if (((bytes[byte] ?? 0) & mask) !== ((prefix[byte] ?? 0) & mask)) return false;
  }
  return true;
}

const V4_BLOCKED: ReadonlyArray<readonly [Bytes, number]> = [
  [[0, 0, 0, 0], 8], // "this network", unspecified
  [[10, 0, 0, 0], 8], // private
  [[100, 64, 0, 0], 10], // CGNAT
  [[127, 0, 0, 0], 8], // loopback
  [[169, 254, 0, 0], 16], // link-local (cloud metadata lives here)
  [[172, 16, 0, 0], 12], // private
  [[192, 0, 0, 0], 24], // IETF protocol assignments
  [[192, 168, 0, 0], 16], // private
  [[198, 18, 0, 0], 15], // benchmarking
  [[224, 0, 0, 0], 4], // multicast
  [[240, 0, 0, 0], 4], // reserved and broadcast
];

const V6_BLOCKED: ReadonlyArray<readonly [Bytes, number]> = [
  [[0x01, 0x00], 64], // discard-only
  [[0xfc], 7], // unique local
  [[0xfe, 0x80], 10], // link-local
  [[0xfe, 0xc0], 10], // site-local (deprecated)
  [[0xff], 8], // multicast
];

/** Prefixes that carry an IPv4 address in their last 4 bytes (or bytes 2..5 for 6to4). */
const V6_EMBEDDING: ReadonlyArray<readonly [Bytes, number, number]> = [
  [[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff], 96, 12], // IPv4-mapped
  [[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 96, 12], // IPv4-compatible, ::, ::1
  [[0, 0x64, 0xff, 0x9b], 96, 12], // NAT64 well-known prefix
  [[0, 0x64, 0xff, 0x9b, 0, 1], 48, 12], // NAT64 local-use prefix
  [[0x20, 0x02], 16, 2], // 6to4
];

function v4Blocked(bytes: Bytes): boolean {
  return V4_BLOCKED.some(([prefix, bits]) => inPrefix(bytes, prefix, bits));
}

function v6Blocked(bytes: Bytes): boolean {
  if (V6_BLOCKED.some(([prefix, bits]) => inPrefix(bytes, prefix, bits))) return true;
  for (const [prefix, bits, offset] of V6_EMBEDDING) {
    if (inPrefix(bytes, prefix, bits)) return v4Blocked(bytes.slice(offset, offset + 4));
  }
  return false;
}

/**
 * True when the address is not a public unicast address a sandbox may reach:
 * loopback, private, link-local, CGNAT, multicast, unspecified, reserved, and
 * IPv6 forms embedding those. Anything unparseable counts as non-public.
 */
export function isNonPublicAddress(address: string): boolean {
  const v4 = ipv4Bytes(address);
  if (v4) return v4Blocked(v4);
  const v6 = ipv6Bytes(address);
  if (v6) return v6Blocked(v6);
  return true;
}
