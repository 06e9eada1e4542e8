// Pure parsing for the HTTP side of the proxy: CONNECT authorities,
// absolute-URI request targets, and the header rewriting a forward proxy
// owes (hop-by-hop and Proxy-* headers never travel on).

export interface Authority {
  /** The host as written (brackets kept for IPv6); normalized later by the rules. */
  readonly host: string;
  readonly port: number;
}

export interface AbsoluteTarget extends Authority {
  /** `host[:port]` for the Host header. */
  readonly authority: string;
  /** Origin-form path and query, never empty. */
  readonly path: string;
}

const PORT_RE = /^\d{1,5}$/;

function parsePort(text: string): number | undefined {
  if (!PORT_RE.test(text)) return undefined;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : undefined;
}

/** Parses `host:port` / `[v6]:port`; without a port, `defaultPort` applies (none given = required). */
export function parseAuthority(text: string, defaultPort?: number): Authority | string {
  if (text.length === 0 || text.length > 1024) return 'missing or over-long host';
  let host: string;
  let portText: string | undefined;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close === -1) return 'unbalanced brackets in host';
    host = text.slice(0, close + 1);
    const rest = text.slice(close + 1);
    if (rest !== '' && !rest.startsWith(':')) return 'garbage after bracketed host';
    portText = rest === '' ? undefined : rest.slice(1);
  } else {
    const colon = text.indexOf(':');
    if (colon !== text.lastIndexOf(':')) return 'IPv6 hosts must be bracketed';
    host = colon === -1 ? text : text.slice(0, colon);
    portText = colon === -1 ? undefined : text.slice(colon + 1);
  }
  if (host.length === 0) return 'missing host';
  if (portText === undefined) return defaultPort === undefined ? 'missing port' : { host, port: defaultPort };
  const port = parsePort(portText);
  return port === undefined ? `invalid port "${portText.slice(0, 10)}"` : { host, port };
}

/** Parses a forward-proxy request target (`http://host[:port]/path?q`). */
export function parseAbsoluteTarget(url: string): AbsoluteTarget | string {
  if (!/^[\x21-\x7e]+$/.test(url)) return 'request target has invalid characters';
  if (url.startsWith('/')) return 'this is a proxy: requests need an absolute http:// URL';
  const match = /^http:\/\/([^/?#]*)([^#]*)/i.exec(url);
  if (!match) return /^https:/i.test(url) ? 'use CONNECT for https:// URLs' : 'only http:// URLs can be forwarded';
  const authorityText = match[1] ?? '';
  if (authorityText.includes('@') || authorityText.includes('\\')) return 'credentials in the URL are not supported';
  const authority = parseAuthority(authorityText, 80);
  if (typeof authority === 'string') return authority;
  const rest = match[2] ?? '';
  const path = rest === '' ? '/' : rest.startsWith('?') ? `/${rest}` : rest;
  return { ...authority, authority: authorityText, path };
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
]);

/** Header names listed in Connection headers (they are hop-by-hop too). */
function connectionTokens(raw: readonly string[]): Set<string> {
  const tokens = new Set<string>();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if ((raw[i] ?? '').toLowerCase() !== 'connection') continue;
    for (const token of (raw[i + 1] ?? '').split(',')) tokens.add(token.trim().toLowerCase());
  }
  return tokens;
}

/** Filters a flat raw header list ([name, value, ...]) down to end-to-end headers. */
export function endToEndHeaders(raw: readonly string[]): string[] {
  const listed = connectionTokens(raw);
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] ?? '';
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || lower.startsWith('proxy-') || listed.has(lower)) continue;
    out.push(name, raw[i + 1] ?? '');
  }
  return out;
}

/**
 * Headers for the upstream request: end-to-end headers, the Host from the
 * URL (never the client's), and chunked framing when the client's body was
 * chunked (Node re-chunks it; without this a GET body would be unframed).
 */
export function upstreamRequestHeaders(raw: readonly string[], authority: string): string[] {
  const chunked = hasHeader(raw, 'transfer-encoding');
  const kept = endToEndHeaders(raw);
  const headers = ['Host', authority, ...(chunked ? withoutHeader(kept, 'content-length') : kept)];
  if (chunked) headers.push('Transfer-Encoding', 'chunked');
  return headers;
}

/** A flat raw header list without every header named `name` (lower case). */
export function withoutHeader(raw: readonly string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if ((raw[i] ?? '').toLowerCase() !== name) out.push(raw[i] ?? '', raw[i + 1] ?? '');
  }
  return out;
}

/** True when the flat raw header list has a header named `name` (lower case). */
export function hasHeader(raw: readonly string[], name: string): boolean {
  for (let i = 0; i < raw.length; i += 2) if ((raw[i] ?? '').toLowerCase() === name) return true;
  return false;
}
