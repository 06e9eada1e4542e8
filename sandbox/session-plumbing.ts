// A session's plumbing outside the sandbox: the hook broker (the agent's
// tool calls, decided by the persona's tool rules) and the egress proxy (its
// network, decided by the domain and HTTP rules), each on its unix socket in
// the session's bridge directory.
import type { Persona } from '../personas/schema.js';
import type { EmitEvent } from './audit/event.js';
import type { Approvals } from './intercept/approvals.js';
import { startBroker, type Broker } from './intercept/broker.js';
import { HookHandler } from './intercept/hook-handler.js';
import type { CompiledNetworkRules } from './net/domain-rules.js';
import { startEgressProxy, type EgressProxy } from './net/proxy.js';
import { compileToolRules } from './policy/tool-rules.js';

export interface PlumbingInput {
  readonly persona: Persona;
  readonly workspace: string;
  readonly personaHome: string;
  readonly sockets: { readonly proxy: string; readonly broker: string };
  readonly rules: CompiledNetworkRules;
  readonly hostMap?: ReadonlyMap<string, { host: string; port?: number }>;
  /** TLS termination for the hosts that need it (net/interception.ts), when the persona has any. */
  readonly intercept: Parameters<typeof startEgressProxy>[0]['intercept'];
  readonly emit: EmitEvent;
  readonly approvals: Approvals;
  limit(name: string, reason: string): void;
  stop(reason: 'stopped' | 'limit' | 'failure'): void;
  onLive(): void;
  onTelemetry(path: string, body: string): void;
}

export async function startPlumbing(i: PlumbingInput): Promise<{ hooks: HookHandler; broker: Broker; proxy: EgressProxy }> {
  const hooks = new HookHandler({
    persona: i.persona,
    emit: i.emit,
    rules: compileToolRules(i.persona.tools, { workspace: i.workspace, home: i.personaHome }),
    approvals: i.approvals,
    limit: i.limit,
    stop: i.stop,
    onLive: i.onLive,
  });
  const broker = await startBroker(i.sockets.broker, {
    hook: (event, payload) => hooks.handle(event, payload),
    rejected: (reason, detail) => hooks.reject('broker', reason, detail),
    otlp: i.onTelemetry,
  });
  const proxy = await startEgressProxy({
    socketPath: i.sockets.proxy,
    rules: i.rules,
    ...(i.hostMap !== undefined ? { hostMap: i.hostMap } : {}),
    ...(i.intercept !== undefined ? { intercept: i.intercept } : {}),
    onEvent: (a) =>
      i.emit({
        kind: 'net.connect',
        target: `${a.host}:${a.port}`,
        decision: a.decision,
        reason: a.reason,
        detail: { protocol: a.protocol, ...(a.error ? { error: a.error } : {}) },
      }),
  });
  return { hooks, broker, proxy };
}
