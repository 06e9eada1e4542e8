// Explicit host overrides: `name=127.0.0.1:8080,other.test=127.0.0.1`.
// A mapped domain is still subject to the network rules; only where it
// connects changes (and the private-address check is skipped, since the user
// chose the address).
import { isIPv4, isIPv6 } from 'node:net';
import { normalizeHost } from './host.js';

export interface HostMapTarget {
  readonly host: string;
  readonly port?: number;
}

export type HostMap = ReadonlyMap<string, HostMapTarget>;

function parsePort(text: string, entry: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) < 1 || Number(text) > 65535) {
    throw new Error(`host map entry "${entry}": invalid port "${text}"`);
  }
  return Number(text);
}

function parseTarget(text: string, entry: string): HostMapTarget {
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(text);
  if (bracketed) {
    const host = bracketed[1] ?? '';
    if (!isIPv6(host)) throw new Error(`host map entry "${entry}": "${host}" is not an IPv6 address`);
    return bracketed[2] === undefined ? { host } : { host, port: parsePort(bracketed[2], entry) };
  }
  const colon = text.indexOf(':');
  const host = colon === -1 ? text : text.slice(0, colon);
  if (!isIPv4(host)) throw new Error(`host map entry "${entry}": "${host}" is not an IP address (use 1.2.3.4 or [::1])`);
  return colon === -1 ? { host } : { host, port: parsePort(text.slice(colon + 1), entry) };
}

/** Parses `name=ip[:port],...` (whitespace around entries ignored); throws a one-line Error on a bad entry. */
export function parseHostMap(text: string): Map<string, HostMapTarget> {
  const map = new Map<string, HostMapTarget>();
  for (const rawEntry of text.split(',')) {
    const entry = rawEntry.trim();
    if (entry === '') continue;
    const eq = entry.indexOf('=');
    if (eq === -1) throw new Error(`host map entry "${entry}": expected name=address[:port]`);
    const name = normalizeHost(entry.slice(0, eq).trim());
    if (typeof name === 'string') throw new Error(`host map entry "${entry}": ${name}`);
    if (name.kind !== 'domain') throw new Error(`host map entry "${entry}": the name must be a domain`);
    map.set(name.host, parseTarget(entry.slice(eq + 1).trim(), entry));
  }
  return map;
}

/** A copy of a host map whose keys are normalized domains (entries with unusable keys are dropped). */
export function normalizeHostMap(map: HostMap | undefined): HostMap {
  const out = new Map<string, HostMapTarget>();
  for (const [key, value] of map ?? []) {
    const name = normalizeHost(key);
    if (typeof name !== 'string' && name.kind === 'domain') out.set(name.host, value);
  }
  return out;
}
