// A session's credentials and request inspection, from launch to proxy:
// placeholders for the sandbox's environment (made before the sandbox is
// planned), and, when the persona binds a credential to hosts or has HTTP
// rules, the session CA, the trust bundle the sandbox sees and the TLS
// terminator the proxy uses (made while the sandbox sets itself up). A
// persona with neither pays for none of it: no CA, no bundle, no TLS code
// loaded.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { EventInput } from '../audit/event.js';
import { bindCredentials } from './credentials.js';
import type { Binding, CredentialGrant } from './credentials.js';
import type { CompiledNetworkRules } from './domain-rules.js';
import type { CredentialRecord, HttpRequestRecord } from './intercept-request.js';
import type { EgressProxyOptions } from './proxy.js';

export interface InterceptionOptions {
  readonly grants: readonly CredentialGrant[];
  readonly rules: CompiledNetworkRules;
  /** The session's private directory (outside the sandbox). */
  readonly dir: string;
  readonly sessionId: string;
  /** personae's own environment (SSL_CERT_FILE names the system's CAs when set). */
  readonly env: NodeJS.ProcessEnv;
  /** Extra CAs for upstream servers (PERSONAE_UPSTREAM_CA), PEM. */
  readonly upstreamCa?: string;
  readonly onRequest: (r: HttpRequestRecord) => void;
  readonly onCredential: (c: CredentialRecord) => void;
}

export interface SessionInterception {
  /** The credential variables of the sandbox's environment: placeholders, and the values of `inject: env` ones. */
  readonly env: Readonly<Record<string, string>>;
  /** Every real value by variable, for redaction. */
  readonly values: Readonly<Record<string, string>>;
  readonly bindings: readonly Binding[];
  /** Host directory to bind into the sandbox, when the session terminates TLS: bundle.pem (system CAs + session CA) and session-ca.pem. */
  readonly trustDir: string | undefined;
  /** Makes the CA and fills the bundle; resolves with the proxy's interceptor factory (undefined when not needed). */
  start(): Promise<EgressProxyOptions['intercept']>;
}

/** A one-line reason the session's CA or trust bundle cannot be made. */
export class InterceptionError extends Error {
  override readonly name = 'InterceptionError';
}

/** True when some request of this persona must be seen: a credential bound to a host, or an HTTP rule. */
export function needsTermination(bindings: readonly Binding[], rules: CompiledNetworkRules): boolean {
  return bindings.some((b) => b.hosts.length > 0) || rules.allow.some((r) => r.http !== undefined);
}

export function prepareInterception(o: InterceptionOptions): SessionInterception {
  const bound = bindCredentials(o.grants);
  const needed = needsTermination(bound.bindings, o.rules);
  // The directory must exist when the sandbox is spawned (it is bound in); its files are written before the command starts.
  const trustDir = needed ? path.join(o.dir, 'trust') : undefined;
  if (trustDir !== undefined) mkdirSync(trustDir, { mode: 0o755 });
  const start = async (): Promise<EgressProxyOptions['intercept']> => {
    if (trustDir === undefined) return undefined;
    const [{ createSessionCa }, { createInterceptor }, trust] = await Promise.all([
      import('./session-ca.js'),
      import('./terminate.js'),
      import('./trust.js'),
    ]);
    let ca: ReturnType<typeof createSessionCa>;
    let system: string;
    try {
      system = trust.systemCertificates(o.env);
      ca = createSessionCa(o.sessionId.slice(0, 8));
      writeFileSync(path.join(trustDir, 'bundle.pem'), trust.sandboxBundle(system, ca.certPem), { mode: 0o644 });
      writeFileSync(path.join(trustDir, 'session-ca.pem'), ca.certPem, { mode: 0o644 });
    } catch (e) {
      throw new InterceptionError(`cannot make the session's certificate authority: ${(e as Error).message.split('\n')[0] ?? ''}`);
    }
    const upstreamTrust = trust.upstreamTrust(system, o.upstreamCa);
    return (base) => createInterceptor({ ...base, bindings: bound.bindings, ca, upstreamTrust, onRequest: o.onRequest, onCredential: o.onCredential });
  };
  return { env: bound.env, values: bound.values, bindings: bound.bindings, trustDir, start };
}

/** The audit event of one request the proxy saw. */
export function requestEvent(r: HttpRequestRecord): EventInput {
  const defaultPort = r.scheme === 'https' ? 443 : 80;
  const authority = r.port === defaultPort ? r.host : `${r.host}:${r.port}`;
  return {
    kind: 'http.request',
    target: `${r.method} ${r.scheme}://${authority}${r.path}`,
    decision: r.decision,
    reason: r.reason,
    detail: {
      scheme: r.scheme,
      method: r.method,
      host: r.host,
      port: r.port,
      path: r.path,
      ...(r.status !== undefined ? { status: r.status } : {}),
      bytes_out: r.bytesOut,
      bytes_in: r.bytesIn,
      duration_ms: r.durationMs,
      credentials: [...r.credentials],
      ...(r.error !== undefined ? { error: r.error } : {}),
    },
  };
}

/** The audit event of a placeholder refused on its way to a host its credential is not bound to. */
export function credentialEvent(c: CredentialRecord): EventInput {
  return {
    kind: 'credential',
    target: `${c.name} -> ${c.host}:${c.port}`,
    decision: 'deny',
    reason: c.reason,
    detail: { credential: c.name, host: c.host, port: c.port, scheme: c.scheme, where: c.where },
  };
}
