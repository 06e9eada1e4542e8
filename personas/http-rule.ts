// `network.allow` entries: a plain domain pattern (`registry.npmjs.org`,
// today's meaning: the whole host, tunnelled as it is), or an HTTP rule that
// narrows a host to methods and a path:
//
//   GET,HEAD registry.npmjs.org/**            read-only, anywhere on the host
//   POST api.github.com/repos/acme/widget/**  one method, under one path
//   git.example.com/acme/widget.git/**        any method, under one path
//
// A host named by an HTTP rule is seen request by request (the proxy
// terminates its TLS), so each request is decided and recorded. Paths are
// globs over the request path without its query: `*` stays within one
// segment, `**` (a whole segment) spans any number of them, and a trailing
// `/**` also matches the directory itself.
import { parseDomainPattern } from './domain-pattern.js';
import type { DomainPattern } from './domain-pattern.js';

export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

export interface NetworkAllowEntry {
  readonly pattern: DomainPattern;
  /** Present for an HTTP rule; a plain domain pattern has none. */
  readonly http?: {
    /** Allowed methods; undefined means any. */
    readonly methods: readonly HttpMethod[] | undefined;
    /** Path glob, always starting with `/`; undefined means any path. */
    readonly path: string | undefined;
  };
}

// RFC 3986 pchar, minus `%` escapes of `/`, `\` and `.` (checked apart), plus `*` for globs.
const SEGMENT_RE = /^(?:[A-Za-z0-9\-._~!$&'()+,;=:@*]|%[0-9A-Fa-f]{2})+$/;

function checkPath(path: string, quoted: string): string | undefined {
  if (/[?#]/.test(path)) return `${quoted}: a path rule matches the path only; leave out the query (?...) and fragment (#...)`;
  const segments = path.slice(1).split('/');
  for (const [i, segment] of segments.entries()) {
    if (segment === '' && i === segments.length - 1) continue;
    if (segment === '') return `${quoted}: the path has an empty segment (//)`;
    if (segment === '.' || segment === '..') return `${quoted}: the path must not contain "." or ".." segments`;
    if (!SEGMENT_RE.test(segment)) return `${quoted}: the path has characters a URL path cannot hold`;
    if (/%(?:2f|5c|2e)/i.test(segment)) return `${quoted}: the path must not escape "/", "\\" or "."`;
    if (segment.includes('**') && segment !== '**') return `${quoted}: "**" must be a whole path segment (/**/)`;
  }
  return undefined;
}

function parseMethods(text: string, quoted: string): HttpMethod[] | string {
  const methods: HttpMethod[] = [];
  for (const raw of text.split(',')) {
    const m = raw.trim().toUpperCase();
    if (!(HTTP_METHODS as readonly string[]).includes(m)) {
      return `${quoted}: ${JSON.stringify(raw.trim())} is not an HTTP method (use ${HTTP_METHODS.join(', ')}, comma-separated)`;
    }
    if (!methods.includes(m as HttpMethod)) methods.push(m as HttpMethod);
  }
  return methods;
}

/** Parses one `network.allow` entry; returns a problem description (string) when it is not acceptable. */
export function parseNetworkAllow(raw: string): NetworkAllowEntry | string {
  if (typeof raw !== 'string') return 'must be a domain pattern like example.com or an HTTP rule like "GET example.com/**"';
  const quoted = JSON.stringify(raw.length > 80 ? `${raw.slice(0, 80)}...` : raw);
  const text = raw.trim();
  if (text.length > 1024) return `${quoted} is too long`;
  const space = text.search(/\s/);
  const methodsText = space === -1 ? undefined : text.slice(0, space);
  const target = space === -1 ? text : text.slice(space).trim();
  if (/\s/.test(target)) return `${quoted}: write an HTTP rule as "METHODS host/path", e.g. "GET,HEAD registry.npmjs.org/**"`;
  const slash = target.indexOf('/');
  const hostText = slash === -1 ? target : target.slice(0, slash);
  const path = slash === -1 ? undefined : target.slice(slash);
  const pattern = parseDomainPattern(hostText);
  if (typeof pattern === 'string') return pattern;
  if (methodsText === undefined && path === undefined) return { pattern };
  const methods = methodsText === undefined ? undefined : parseMethods(methodsText, quoted);
  if (typeof methods === 'string') return methods;
  if (path !== undefined) {
    const problem = checkPath(path, quoted);
    if (problem) return problem;
  }
  return { pattern, http: { methods, path } };
}

/** Returns a problem description, or undefined when the entry is acceptable. */
export function checkNetworkAllow(raw: string): string | undefined {
  const parsed = parseNetworkAllow(raw);
  return typeof parsed === 'string' ? parsed : undefined;
}
