// Normalizing the host a sandboxed program asked for. One spelling per host:
// lower case, no trailing dot, no IPv6 brackets. Anything the OS resolver
// would read as an IP address (inet_aton's `127.1`, `0x7f.0.0.1`,
// `2130706433`, `0177.0.0.1`, IPv6 literals) is classified as an IP, so that
// no odd spelling slips past a domain rule.
import { isIPv6 } from 'node:net';

export type NormalizedHost =
  | { readonly kind: 'domain'; readonly host: string }
  | { readonly kind: 'ip'; readonly host: string; readonly family: 4 | 6 };

const MAX_HOST_LENGTH = 253;
const MAX_RAW_LENGTH = 1024;
const DOMAIN_LABEL_RE = /^[a-z0-9_-]{1,63}$/;
const NUMERIC_LABEL_RE = /^(0x[0-9a-f]*|[0-9]+)$/;

/** One inet_aton component: decimal, octal (leading 0) or hex (0x); undefined when malformed. */
function parseAtonPart(part: string): number | undefined {
  if (part.length === 0 || part.length > 40) return undefined;
  if (/^0x[0-9a-f]*$/.test(part)) return part.length === 2 ? 0 : parseInt(part.slice(2), 16);
  if (/^0[0-7]+$/.test(part)) return parseInt(part, 8);
  if (/^(0|[1-9][0-9]*)$/.test(part)) return parseInt(part, 10);
  return undefined;
}

/**
 * Reads `text` the way inet_aton does (1 to 4 parts, the last filling the
 * remaining bytes) and returns the canonical dotted quad, or undefined.
 */
export function parseInetAton(text: string): string | undefined {
  const parts = text.split('.');
  if (parts.length < 1 || parts.length > 4) return undefined;
  const values = parts.map(parseAtonPart);
  if (values.some((v) => v === undefined)) return undefined;
  const nums = values as number[];
  const last = nums[nums.length - 1] as number;
  const head = nums.slice(0, -1);
  if (head.some((v) => v > 255)) return undefined;
  const lastBytes = 4 - head.length;
  if (last >= 2 ** (8 * lastBytes)) return undefined;
  const bytes = [...head];
  for (let i = lastBytes - 1; i >= 0; i -= 1) bytes.push(Math.floor(last / 2 ** (8 * i)) % 256);
  return bytes.join('.');
}

/** True when the last label is numeric, i.e. the resolver would try to read the name as an IPv4 address. */
function endsInNumber(host: string): boolean {
  const labels = host.split('.');
  return NUMERIC_LABEL_RE.test(labels[labels.length - 1] ?? '');
}

function checkDomain(host: string): string | undefined {
  if (host.length > MAX_HOST_LENGTH) return 'host name is too long';
  for (const label of host.split('.')) {
    if (label.length === 0) return 'host name has an empty label';
    if (label.length > 63) return 'host name has a label longer than 63 characters';
    if (!DOMAIN_LABEL_RE.test(label)) return 'host name has invalid characters';
  }
  return undefined;
}

/**
 * Normalizes a requested host. Returns the classified host, or a short
 * problem description (string) when the host is not acceptable.
 */
export function normalizeHost(raw: string): NormalizedHost | string {
  if (typeof raw !== 'string' || raw.length === 0) return 'empty host';
  if (raw.length > MAX_RAW_LENGTH) return 'host name is too long';
  let text = raw.toLowerCase();
  if (text.startsWith('[') || text.endsWith(']')) {
    if (!(text.startsWith('[') && text.endsWith(']'))) return 'unbalanced brackets in host';
    const inner = text.slice(1, -1);
    return isIPv6(inner) ? { kind: 'ip', host: inner, family: 6 } : 'bracketed host is not an IPv6 address';
  }
  if (text.includes(':')) return isIPv6(text) ? { kind: 'ip', host: text, family: 6 } : 'host has invalid characters';
  if (text.endsWith('.')) text = text.slice(0, -1);
  if (text.length === 0) return 'empty host';
  if (endsInNumber(text)) {
    const ip = parseInetAton(text);
    return ip === undefined ? 'host looks numeric but is not a valid IPv4 address' : { kind: 'ip', host: ip, family: 4 };
  }
  const problem = checkDomain(text);
  return problem ?? { kind: 'domain', host: text };
}

/** A printable, bounded rendering of an untrusted host for events and messages. */
export function displayHost(raw: string): string {
  const clipped = raw.length > 255 ? `${raw.slice(0, 255)}...` : raw;
  return clipped.replace(/[^\x21-\x7e]/g, '?');
}
