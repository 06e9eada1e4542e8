// Turning an allowed domain into the one address the proxy connects to.
// Every address the name resolves to must be public (a name that also points
// at loopback or a private range is refused outright); the proxy then
// connects to the exact address it checked, never looking the name up again.
import type * as Dns from 'node:dns/promises';
import { isIP } from 'node:net';
import { lazyRequire } from '../lazy-require.js';
import { isNonPublicAddress } from './address.js';
import type { HostMap } from './host-map.js';

export interface ResolvedAddress {
  readonly address: string;
  readonly family: number;
}

/** Resolves a domain to all its addresses (dns.lookup semantics). Injectable for tests. */
export type LookupFn = (host: string) => Promise<readonly ResolvedAddress[]>;

export type Resolution =
  | { readonly kind: 'ok'; readonly address: string; readonly port: number; readonly mapped: boolean }
  | { readonly kind: 'private'; readonly address: string }
  | { readonly kind: 'failed'; readonly error: string };

export const REASON_PRIVATE_ADDRESS = 'resolves to a private/loopback address';

const dns = lazyRequire<typeof Dns>('node:dns/promises');

/** The default resolver: the OS resolver, every address, in its order. */
export const systemLookup: LookupFn = async (host) => dns().lookup(host, { all: true, verbatim: true });

/** A short code for an error (`ECONNREFUSED`), falling back to its message. */
export function errorCode(error: unknown): string {
  if (error && typeof error === 'object' && 'code' in error && typeof error.code === 'string') return error.code;
  return error instanceof Error ? error.message : String(error);
}

/** Resolves a normalized, already-allowed domain; a host-map entry wins over DNS. */
export async function resolveTarget(host: string, port: number, hostMap: HostMap, lookup: LookupFn): Promise<Resolution> {
  const mapped = hostMap.get(host);
  if (mapped) return { kind: 'ok', address: mapped.host, port: mapped.port ?? port, mapped: true };
  let addresses: readonly ResolvedAddress[];
  try {
    addresses = await lookup(host);
  } catch (error) {
    return { kind: 'failed', error: errorCode(error) };
  }
  const first = addresses[0];
  if (!first) return { kind: 'failed', error: 'ENOTFOUND' };
  const bad = addresses.find((a) => isIP(a.address) === 0 || isNonPublicAddress(a.address));
  if (bad) return { kind: 'private', address: bad.address };
  return { kind: 'ok', address: first.address, port, mapped: false };
}
