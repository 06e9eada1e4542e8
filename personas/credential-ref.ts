// What a persona's `credentials` entry means, in one normalized shape. Two
// spellings:
//   GITHUB_TOKEN: { secret: github, hosts: [api.github.com, github.com] }
//   ANTHROPIC_API_KEY: secret:anthropic      (short form: the model API's hosts)
// plus `inject: env` for the old way (the real value in the sandbox's
// environment, in the clear), which a persona must ask for by name.
import { MODEL_API_KEYS, AGENT_API_HOSTS } from './agent-hosts.js';
import { parseDomainPattern } from './domain-pattern.js';
import type { DomainPattern } from './domain-pattern.js';

export const SECRET_REF_PREFIX = 'secret:';

/** The long form as parsed (see CredentialSpecSchema in schema.ts). */
export interface CredentialObject {
  readonly secret: string;
  readonly hosts?: readonly string[] | undefined;
  readonly inject?: 'proxy' | 'env' | undefined;
}

export type CredentialRef = string | CredentialObject;

export interface CredentialSpec {
  /** The name in the secret store. */
  readonly secret: string;
  /** `proxy`: the sandbox sees a placeholder, the proxy sends the value to `hosts`; `env`: the value itself is in the environment. */
  readonly inject: 'proxy' | 'env';
  /** Hosts the value goes to (`host` or `host:port`), as written or known; empty when there are none. */
  readonly hosts: readonly string[];
  /** true when the hosts are personae's known ones for this variable (short form, or long form without hosts). */
  readonly knownHosts: boolean;
}

/** The model API hosts a variable's key belongs to (none for an unknown variable). */
export function knownCredentialHosts(env: string): readonly string[] {
  const agent = MODEL_API_KEYS[env];
  return agent === undefined ? [] : AGENT_API_HOSTS[agent];
}

/** The secret name a reference names (`secret:gh` or `{ secret: gh }` -> `gh`). */
export function secretName(ref: CredentialRef): string {
  return typeof ref === 'string' ? ref.slice(SECRET_REF_PREFIX.length) : ref.secret;
}

/** Normalizes one `credentials` entry of a valid persona. */
export function credentialSpec(env: string, ref: CredentialRef): CredentialSpec {
  const secret = secretName(ref);
  if (typeof ref !== 'string' && ref.inject === 'env') return { secret, inject: 'env', hosts: [], knownHosts: false };
  const written = typeof ref === 'string' ? undefined : ref.hosts;
  if (written !== undefined && written.length > 0) return { secret, inject: 'proxy', hosts: written.map((h) => h.trim().toLowerCase()), knownHosts: false };
  return { secret, inject: 'proxy', hosts: knownCredentialHosts(env), knownHosts: true };
}

/** Why `raw` cannot be a credential's host, or undefined. Credentials go to named hosts only: a wildcard is too broad. */
export function checkCredentialHost(raw: string): string | undefined {
  const parsed = parseDomainPattern(raw);
  if (typeof parsed === 'string') return parsed;
  if (parsed.wildcard) return `${JSON.stringify(raw)} is too broad for a credential: name each host it is sent to`;
  return undefined;
}

/** True when some pattern could let a request for `host` through (exact match, or a wildcard above it). */
export function hostReachable(host: DomainPattern, allowed: readonly DomainPattern[]): boolean {
  return allowed.some((a) => {
    const sameHost = a.wildcard ? host.host.endsWith(`.${a.host}`) : a.host === host.host;
    const port = host.port ?? 443;
    return sameHost && (a.port === undefined ? port === 443 || port === 80 : a.port === port);
  });
}
