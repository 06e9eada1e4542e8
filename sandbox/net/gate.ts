// The one gate every protocol goes through: rules, then resolution, then the
// attempt is reported exactly once (allowed or denied, with any error).
import { decideHost } from './domain-rules.js';
import type { CompiledNetworkRules } from './domain-rules.js';
import { displayHost, normalizeHost } from './host.js';
import type { HostMap } from './host-map.js';
import { REASON_PRIVATE_ADDRESS, resolveTarget } from './resolve.js';
import type { LookupFn } from './resolve.js';

export type NetProtocol = 'http' | 'connect' | 'socks5';

/** One network attempt, reported exactly once. */
export interface NetAttempt {
  readonly protocol: NetProtocol;
  /** Normalized host when it parsed, else a printable rendering of what was asked. */
  readonly host: string;
  readonly port: number;
  readonly decision: 'allow' | 'deny';
  /** The rule that decided, e.g. `network.allow: *.github.com`. */
  readonly reason: string;
  /** Set when an allowed attempt still failed (DNS, connect), e.g. `ECONNREFUSED`. */
  readonly error?: string;
}

export interface GateContext {
  readonly rules: CompiledNetworkRules;
  readonly hostMap: HostMap;
  readonly lookup: LookupFn;
  readonly report: (attempt: NetAttempt) => void;
}

export type GateOutcome =
  | { readonly kind: 'denied'; readonly host: string; readonly reason: string }
  | { readonly kind: 'failed'; readonly host: string; readonly error: string }
  | {
      readonly kind: 'open';
      readonly host: string;
      readonly address: string;
      readonly port: number;
      /** Reports the attempt (with the connect error, if any); only the first call counts. */
      readonly finish: (error?: string) => void;
    };

/** Decides and resolves one attempt. Denials and resolution failures are reported here. */
export async function passGate(ctx: GateContext, protocol: NetProtocol, rawHost: string, port: number): Promise<GateOutcome> {
  const normalized = normalizeHost(rawHost);
  const host = typeof normalized === 'string' ? displayHost(rawHost) : normalized.host;
  const base = { protocol, host, port };
  const verdict = decideHost(ctx.rules, rawHost, port);
  if (verdict.decision === 'deny') {
    ctx.report({ ...base, decision: 'deny', reason: verdict.reason });
    return { kind: 'denied', host, reason: verdict.reason };
  }
  const resolution = await resolveTarget(host, port, ctx.hostMap, ctx.lookup);
  if (resolution.kind === 'private') {
    ctx.report({ ...base, decision: 'deny', reason: REASON_PRIVATE_ADDRESS, error: `resolved to ${resolution.address}` });
    return { kind: 'denied', host, reason: REASON_PRIVATE_ADDRESS };
  }
  if (resolution.kind === 'failed') {
    ctx.report({ ...base, decision: 'allow', reason: verdict.reason, error: resolution.error });
    return { kind: 'failed', host, error: resolution.error };
  }
  let reported = false;
  const finish = (error?: string): void => {
    if (reported) return;
    reported = true;
    ctx.report(error === undefined ? { ...base, decision: 'allow', reason: verdict.reason } : { ...base, decision: 'allow', reason: verdict.reason, error });
  };
  return { kind: 'open', host, address: resolution.address, port: resolution.port, finish };
}
