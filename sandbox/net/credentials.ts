// Credentials bound to hosts, as the proxy uses them. The sandbox holds a
// placeholder per credential; in a terminated request to one of the
// credential's hosts the proxy swaps the placeholder for the value in the
// headers (Basic auth decoded and re-encoded), and a placeholder headed
// anywhere else (headers, URL or body) stops the request. Responses from a
// host that got a value have it swapped back, so the sandbox never sees it.
import { normalizeHost } from './host.js';
import { makePlaceholder } from './placeholder.js';
import type { ScanPattern } from './scan-stream.js';

/** One persona credential with its value, as the launch gathered it. */
export interface CredentialGrant {
  /** The environment variable (what events name). */
  readonly env: string;
  /** The secret's name in the store. */
  readonly secret: string;
  readonly value: string;
  readonly inject: 'proxy' | 'env';
  /** `host` or `host:port`; a host without a port means 443. */
  readonly hosts: readonly string[];
}

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** A credential the proxy injects. */
export interface Binding {
  readonly name: string;
  readonly placeholder: string;
  readonly value: string;
  readonly hosts: readonly HostPort[];
}

export interface BoundCredentials {
  /** What the sandbox's environment gets: placeholders, and the values of `inject: env` credentials. */
  readonly env: Readonly<Record<string, string>>;
  readonly bindings: readonly Binding[];
  /** Every real value by variable, for redaction. */
  readonly values: Readonly<Record<string, string>>;
}

function parseHostPort(text: string): HostPort | undefined {
  const colon = text.lastIndexOf(':');
  const host = colon === -1 ? text : text.slice(0, colon);
  const port = colon === -1 ? 443 : Number(text.slice(colon + 1));
  const normalized = normalizeHost(host);
  if (typeof normalized === 'string' || !Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return { host: normalized.host, port };
}

/** Placeholders for a session's credentials. `placeholder` is injectable for tests. */
export function bindCredentials(grants: readonly CredentialGrant[], placeholder: (value: string) => string = makePlaceholder): BoundCredentials {
  const env: Record<string, string> = {};
  const values: Record<string, string> = {};
  const bindings: Binding[] = [];
  for (const g of grants) {
    values[g.env] = g.value;
    if (g.inject === 'env') {
      env[g.env] = g.value;
      continue;
    }
    const ph = placeholder(g.value);
    env[g.env] = ph;
    const hosts = g.hosts.map(parseHostPort).filter((h): h is HostPort => h !== undefined);
    bindings.push({ name: g.env, placeholder: ph, value: g.value, hosts });
  }
  return { env, bindings, values };
}

/** True when the binding's value goes to host:port. */
export function boundTo(binding: Binding, host: string, port: number): boolean {
  return binding.hosts.some((h) => h.host === host && h.port === port);
}

export interface Leak {
  readonly name: string;
  /** Where the placeholder was: `url`, `header NAME`, `body`. */
  readonly where: string;
}

export interface HeaderRewrite {
  readonly headers: string[];
  /** Credentials whose value went in. */
  readonly injected: readonly string[];
  /** Encoded forms of injected values (Basic auth) a response may echo, each with what the sandbox sent instead. */
  readonly echoes: ReadonlyArray<{ readonly name: string; readonly sent: string; readonly seen: string }>;
  readonly leak?: Leak;
}

function replaceEvery(text: string, bound: readonly Binding[], injected: Set<string>): string {
  let out = text;
  for (const b of bound) {
    if (!out.includes(b.placeholder)) continue;
    out = out.split(b.placeholder).join(b.value);
    injected.add(b.name);
  }
  return out;
}

function leakIn(text: string, others: readonly Binding[]): Binding | undefined {
  return others.find((b) => text.includes(b.placeholder));
}

/** `Basic base64(user:pass)` decoded, or undefined. */
function basicCredentials(value: string): string | undefined {
  const m = /^(\s*basic\s+)([A-Za-z0-9+/=]+)\s*$/i.exec(value);
  return m?.[2] === undefined ? undefined : Buffer.from(m[2], 'base64').toString('latin1');
}

/**
 * Rewrites a flat raw header list for a terminated request: placeholders of
 * `bound` credentials become their values; a placeholder of any of `others`
 * is a leak (the first found is reported, and the caller refuses the request).
 */
export function rewriteHeaders(raw: readonly string[], bound: readonly Binding[], others: readonly Binding[]): HeaderRewrite {
  const out: string[] = [];
  const injected = new Set<string>();
  const echoes: Array<{ name: string; sent: string; seen: string }> = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] ?? '';
    const value = raw[i + 1] ?? '';
    const decoded = name.toLowerCase() === 'authorization' ? basicCredentials(value) : undefined;
    const leaked = leakIn(value, others) ?? (decoded === undefined ? undefined : leakIn(decoded, others));
    if (leaked) return { headers: [], injected: [], echoes: [], leak: { name: leaked.name, where: `header ${name}` } };
    const basicBound = decoded === undefined ? undefined : bound.find((b) => decoded.includes(b.placeholder));
    if (decoded !== undefined && basicBound !== undefined) {
      const prefix = /^\s*basic\s+/i.exec(value)?.[0] ?? 'Basic ';
      const sent = Buffer.from(replaceEvery(decoded, bound, injected), 'latin1').toString('base64');
      out.push(name, `${prefix}${sent}`);
      echoes.push({ name: basicBound.name, sent, seen: value.slice(prefix.length).trim() });
    } else {
      out.push(name, replaceEvery(value, bound, injected));
    }
  }
  return { headers: out, injected: [...injected], echoes };
}

/** A placeholder of `others` in a request target, as sent or percent-decoded. */
export function leakInUrl(target: string, others: readonly Binding[]): Leak | undefined {
  let decoded = target;
  try {
    decoded = decodeURIComponent(target.replace(/\+/g, ' '));
  } catch {
    // keep the raw form
  }
  const b = leakIn(target, others) ?? leakIn(decoded, others);
  return b === undefined ? undefined : { name: b.name, where: 'url' };
}

/** Patterns that find the placeholders of `bindings` in a request body. */
export function placeholderPatterns(bindings: readonly Binding[]): ScanPattern[] {
  return bindings.map((b) => ({ name: b.name, find: Buffer.from(b.placeholder, 'latin1') }));
}

/** Patterns that turn the values of `bindings` (and the encoded forms sent) back into what the sandbox sent. */
export function valuePatterns(bindings: readonly Binding[], echoes: HeaderRewrite['echoes'] = []): ScanPattern[] {
  return [
    ...bindings.map((b) => ({ name: b.name, find: Buffer.from(b.value, 'utf8'), replace: Buffer.from(b.placeholder, 'utf8') })),
    ...echoes.map((e) => ({ name: e.name, find: Buffer.from(e.sent, 'latin1'), replace: Buffer.from(e.seen, 'latin1') })),
  ];
}

/** Response header values with every pattern's text replaced. */
export function scrubHeaders(raw: readonly string[], patterns: readonly ScanPattern[]): string[] {
  return raw.map((v, i) => (i % 2 === 0 ? v : patterns.reduce((text, p) => (p.replace === undefined ? text : text.split(p.find.toString('latin1')).join(p.replace.toString('latin1'))), v)));
}
