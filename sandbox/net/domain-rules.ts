// Deciding a requested host:port against a persona's network rules.
// Deny beats allow; an empty allow list allows nothing; IP targets are never
// allowed; a pattern without a port grants only the web ports 80 and 443.
import { parseDomainPattern } from '../../personas/domain-pattern.js';
import type { DomainPattern } from '../../personas/domain-pattern.js';
import { parseNetworkAllow } from '../../personas/http-rule.js';
import type { HttpMethod } from '../../personas/http-rule.js';
import { normalizeHost } from './host.js';

export interface HttpRule {
  /** undefined: any method. */
  readonly methods: readonly HttpMethod[] | undefined;
  /** Matches the request path (without its query); undefined: any path. */
  readonly path: RegExp | undefined;
}

export interface NetworkRule {
  /** The pattern as the persona wrote it (trimmed), for reasons. */
  readonly source: string;
  readonly pattern: DomainPattern;
  /** Set for an allow entry that narrows its host to methods and paths. */
  readonly http?: HttpRule;
}

export interface CompiledNetworkRules {
  readonly allow: readonly NetworkRule[];
  readonly deny: readonly NetworkRule[];
}

export interface HostDecision {
  readonly decision: 'allow' | 'deny';
  readonly reason: string;
}

/** Ports an allow pattern without `:port` grants. */
export const DEFAULT_PORTS: readonly number[] = [80, 443];

export const REASON_IP_TARGET = 'IP address targets are not allowed';
export const REASON_NO_MATCH = 'no network.allow rule matches';

/** A path glob as a RegExp: `*` within a segment, `**` across segments, a trailing `/**` matching the directory too. */
export function pathGlob(glob: string): RegExp {
  const segments = glob.split('/').slice(1);
  let re = '';
  segments.forEach((segment, i) => {
    const last = i === segments.length - 1;
    if (segment === '**') re += last ? '(?:/.*)?' : '(?:/[^/]+)*';
    else re += `/${segment.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*')}`;
  });
  return new RegExp(`^${re === '' ? '/' : re}$`);
}

function compileAllow(list: readonly string[]): NetworkRule[] {
  return list.map((raw, index) => {
    const entry = parseNetworkAllow(raw);
    if (typeof entry === 'string') throw new Error(`network.allow[${index}]: ${entry}`);
    const source = raw.trim().replace(/\s+/g, ' ');
    if (entry.http === undefined) return { source, pattern: entry.pattern };
    const path = entry.http.path === undefined ? undefined : pathGlob(entry.http.path);
    return { source, pattern: entry.pattern, http: { methods: entry.http.methods, path } };
  });
}

function compileDeny(list: readonly string[]): NetworkRule[] {
  return list.map((raw, index) => {
    const pattern = parseDomainPattern(raw);
    if (typeof pattern === 'string') throw new Error(`network.deny[${index}]: ${pattern}`);
    return { source: raw.trim(), pattern };
  });
}

/** Compiles allow/deny patterns; throws an Error naming the first bad pattern (`network.allow[2]: ...`). */
export function compileNetworkRules(allow: readonly string[], deny: readonly string[]): CompiledNetworkRules {
  return { allow: compileAllow(allow), deny: compileDeny(deny) };
}

/** True when a normalized domain matches the pattern's host part (ports aside). */
export function hostMatches(pattern: DomainPattern, host: string): boolean {
  if (!pattern.wildcard) return host === pattern.host;
  return host.length > pattern.host.length + 1 && host.endsWith(`.${pattern.host}`);
}

/** True when the pattern grants this port. */
export function portGranted(pattern: DomainPattern, port: number): boolean {
  return pattern.port === undefined ? DEFAULT_PORTS.includes(port) : pattern.port === port;
}

/** A deny pattern without a port refuses the host on every port. */
function denyMatches(rule: NetworkRule, host: string, port: number): boolean {
  return hostMatches(rule.pattern, host) && (rule.pattern.port === undefined || rule.pattern.port === port);
}

function deny(reason: string): HostDecision {
  return { decision: 'deny', reason };
}

/** Decides one attempt to reach `host:port`. Pure; the reason names the rule that decided. */
export function decideHost(rules: CompiledNetworkRules, host: string, port: number): HostDecision {
  if (!Number.isInteger(port) || port < 1 || port > 65535) return deny(`invalid port ${String(port)}`);
  const normalized = normalizeHost(host);
  if (typeof normalized === 'string') return deny(`invalid host: ${normalized}`);
  if (normalized.kind === 'ip') return deny(REASON_IP_TARGET);
  const name = normalized.host;
  const denied = rules.deny.find((rule) => denyMatches(rule, name, port));
  if (denied) return deny(`network.deny: ${denied.source}`);
  const hostRules = rules.allow.filter((rule) => hostMatches(rule.pattern, name));
  const allowed = hostRules.find((rule) => portGranted(rule.pattern, port));
  if (allowed) return { decision: 'allow', reason: `network.allow: ${allowed.source}` };
  if (hostRules.length > 0) return deny(`port ${port} not granted for ${name}`);
  return deny(REASON_NO_MATCH);
}
