// Deciding a requested host:port against a persona's network rules.
// Deny beats allow; an empty allow list allows nothing; IP targets are never
// allowed; a pattern without a port grants only the web ports 80 and 443.
import { parseDomainPattern } from '../../personas/domain-pattern.js';
import type { DomainPattern } from '../../personas/domain-pattern.js';
import { normalizeHost } from './host.js';

export interface NetworkRule {
  /** The pattern as the persona wrote it (trimmed), for reasons. */
  readonly source: string;
  readonly pattern: DomainPattern;
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

function compileList(list: readonly string[], field: 'network.allow' | 'network.deny'): NetworkRule[] {
  return list.map((raw, index) => {
    const pattern = parseDomainPattern(raw);
    if (typeof pattern === 'string') throw new Error(`${field}[${index}]: ${pattern}`);
    return { source: raw.trim(), pattern };
  });
}

/** Compiles allow/deny patterns; throws an Error naming the first bad pattern (`network.allow[2]: ...`). */
export function compileNetworkRules(allow: readonly string[], deny: readonly string[]): CompiledNetworkRules {
  return { allow: compileList(allow, 'network.allow'), deny: compileList(deny, 'network.deny') };
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
