// Deciding one HTTP request against a persona's network rules, once the
// proxy can see it (plain HTTP, or HTTPS it terminates). The connection was
// already allowed by host; here a host named only by HTTP rules is narrowed
// to their methods and paths. A plain allow entry for the host allows every
// request. Pure.
import { hostMatches, portGranted } from './domain-rules.js';
import type { CompiledNetworkRules, NetworkRule } from './domain-rules.js';

export interface RequestDecision {
  readonly decision: 'allow' | 'deny';
  /** The rule that decided (`network.allow: GET,HEAD registry.npmjs.org/**`), or why none did. */
  readonly reason: string;
}

function grants(rule: NetworkRule, host: string, port: number): boolean {
  return hostMatches(rule.pattern, host) && portGranted(rule.pattern, port);
}

/** True when requests to host:port are decided one by one (only HTTP rules grant it). */
export function hasHttpRules(rules: CompiledNetworkRules, host: string, port: number): boolean {
  let http = false;
  for (const rule of rules.allow) {
    if (!grants(rule, host, port)) continue;
    if (rule.http === undefined) return false;
    http = true;
  }
  return http;
}

/**
 * Why a request path cannot be matched safely (a server would read it as
 * another path), or undefined. Dot segments, empty segments and escaped
 * `/`, `\` or `.` are refused outright rather than guessed at.
 */
export function pathProblem(path: string): string | undefined {
  if (!path.startsWith('/')) return 'the request target is not a path';
  if (path.includes('\\')) return 'the path holds a backslash';
  if (/%(?:2f|5c|2e)/i.test(path)) return 'the path escapes "/", "\\" or "."';
  const segments = path.slice(1).split('/');
  if (segments.some((s) => s === '.' || s === '..')) return 'the path holds "." or ".." segments';
  if (segments.slice(0, -1).some((s) => s === '')) return 'the path holds an empty segment (//)';
  return undefined;
}

/** The path of a request target without its query. */
export function pathOnly(target: string): string {
  const q = target.search(/[?#]/);
  return q === -1 ? target : target.slice(0, q);
}

/** Decides one request; `target` is the origin-form path and query. */
export function decideRequest(rules: CompiledNetworkRules, host: string, port: number, method: string, target: string): RequestDecision {
  const matching = rules.allow.filter((rule) => grants(rule, host, port));
  const plain = matching.find((rule) => rule.http === undefined);
  if (plain) return { decision: 'allow', reason: `network.allow: ${plain.source}` };
  const path = pathOnly(target);
  const problem = pathProblem(path);
  if (problem !== undefined) return { decision: 'deny', reason: `${problem}; requests to ${host} are decided by path` };
  const rule = matching.find(
    (r) => r.http !== undefined && (r.http.methods === undefined || (r.http.methods as readonly string[]).includes(method)) && (r.http.path === undefined || r.http.path.test(path)),
  );
  if (rule) return { decision: 'allow', reason: `network.allow: ${rule.source}` };
  return { decision: 'deny', reason: `no network.allow rule allows ${method} ${path.length > 200 ? `${path.slice(0, 200)}...` : path} on ${host}` };
}

/** A request target for events: the path, each query value replaced by `*`, bounded. */
export function redactTarget(target: string): string {
  const q = target.indexOf('?');
  const path = q === -1 ? target : target.slice(0, q);
  const query = q === -1 ? '' : target.slice(q + 1).split('#')[0] ?? '';
  const shownQuery = query === '' ? '' : `?${query.split('&').map((pair) => {
    const eq = pair.indexOf('=');
    return eq === -1 ? pair : `${pair.slice(0, eq)}=*`;
  }).join('&')}`;
  const text = `${path}${shownQuery}`.replace(/[^\x21-\x7e]/g, '?');
  return text.length > 500 ? `${text.slice(0, 500)}...` : text;
}
