// Audit events as OTLP log records and GenAI spans: ids derived from the
// session and tool call, the persona as gen_ai.agent.name.
import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../sandbox/audit/event.js';
import { eventToLog, eventToSpans, rootSpanIdOf, toolSpanIdOf, traceIdOf } from '../../sandbox/audit/otlp-map.js';
import type { MapContext } from '../../sandbox/audit/otlp-map.js';

const S = '7d33c49e-3cab-4f2e-a6ca-e0715e9fa051';
const base: AuditEvent = {
  id: 'ev-1', ts: '2026-03-01T10:00:05.000Z', session: S, persona: 'night-builder', agent: { kind: 'claude', version: '2.1.0' },
  on_behalf_of: 'alice', kind: 'exec', tool: null, target: null, decision: null, reason: null, detail: {},
};
const ev = (over: Partial<AuditEvent>): AuditEvent => ({ ...base, ...over });
const facts = { owner: 'platform@example.com', startedAt: '2026-03-01T10:00:00.000Z' };
const ctx: MapContext = {
  session: () => facts,
  toolCall: (_s, id) => (id === 'tu-1' ? { ts: '2026-03-01T10:00:01.000Z', decision: 'allow', reason: 'tools.allow: Bash' } : undefined),
};

describe('ids', () => {
  it('the trace id is the session UUID; span ids are stable and distinct', () => {
    expect(traceIdOf(S)).toBe('7d33c49e3cab4f2ea6cae0715e9fa051');
    expect(traceIdOf('not-a-uuid')).toMatch(/^[0-9a-f]{32}$/);
    expect(rootSpanIdOf(S)).toMatch(/^[0-9a-f]{16}$/);
    expect(rootSpanIdOf(S)).toBe(rootSpanIdOf(S));
    expect(toolSpanIdOf(S, 'tu-1')).not.toBe(rootSpanIdOf(S));
  });
});

describe('eventToLog', () => {
  it('carries the event fields as attributes, in the session trace', () => {
    const l = eventToLog(ev({ kind: 'net.connect', target: 'x.test:443', decision: 'deny', reason: 'not in network.allow', detail: { protocol: 'connect' } }), facts);
    expect(l).toMatchObject({ timeMs: Date.parse(base.ts), traceId: traceIdOf(S), spanId: rootSpanIdOf(S), severityNumber: 13, eventName: 'personae.net.connect' });
    expect(l.attributes).toMatchObject({
      'gen_ai.agent.name': 'night-builder', 'gen_ai.agent.id': S, 'gen_ai.conversation.id': S, 'gen_ai.provider.name': 'anthropic',
      'personae.event.id': 'ev-1', 'personae.decision': 'deny', 'personae.reason': 'not in network.allow', 'personae.on_behalf_of': 'alice',
      'personae.owner': 'platform@example.com', 'personae.target': 'x.test:443', 'personae.detail': '{"protocol":"connect"}',
    });
    expect(l.body).toBe('net.connect deny x.test:443');
  });

  it('tool events sit under their tool span; an observed call says what it would be', () => {
    const l = eventToLog(ev({ kind: 'tool.call', tool: 'Bash', target: 'ls', decision: 'allow', detail: { tool_use_id: 'tu-1', would_be: 'ask' } }), facts);
    expect(l.spanId).toBe(toolSpanIdOf(S, 'tu-1'));
    expect(l.attributes).toMatchObject({ 'gen_ai.tool.name': 'Bash', 'gen_ai.tool.call.id': 'tu-1', 'personae.would_be': 'ask' });
    expect(l.severityNumber).toBe(10);
  });
});

describe('eventToSpans', () => {
  it('session.end closes the invoke_agent root span from the session start', () => {
    const [root] = eventToSpans(ev({ kind: 'session.end', reason: 'exit', detail: { exit_code: 0 } }), ctx);
    expect(root).toMatchObject({
      name: 'invoke_agent night-builder', traceId: traceIdOf(S), spanId: rootSpanIdOf(S), startMs: Date.parse(facts.startedAt), endMs: Date.parse(base.ts),
      status: { code: 'unset' }, attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'night-builder', 'personae.exit_code': 0 },
    });
    expect(root?.parentSpanId).toBeUndefined();
    expect(eventToSpans(ev({ kind: 'session.end', reason: 'limit', detail: { exit_code: 137 } }), ctx)[0]?.status).toEqual({ code: 'error', message: 'limit' });
  });

  it('a tool call is an execute_tool span from the call to its result', () => {
    const [s] = eventToSpans(ev({ kind: 'tool.result', tool: 'Bash', target: 'ls', reason: 'ok', detail: { tool_use_id: 'tu-1', ok: true } }), ctx);
    expect(s).toMatchObject({
      name: 'execute_tool Bash', spanId: toolSpanIdOf(S, 'tu-1'), parentSpanId: rootSpanIdOf(S), startMs: Date.parse('2026-03-01T10:00:01.000Z'),
      attributes: { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'Bash', 'gen_ai.tool.call.id': 'tu-1', 'personae.decision': 'allow', 'personae.reason': 'tools.allow: Bash' },
      status: { code: 'unset' },
    });
  });

  it('a denied call ends at once, in error; other events make no span', () => {
    const [d] = eventToSpans(ev({ kind: 'tool.call', tool: 'Bash', decision: 'deny', reason: 'tools.deny: Bash(git push:*)', detail: { tool_use_id: 'tu-9' } }), ctx);
    expect(d).toMatchObject({ spanId: toolSpanIdOf(S, 'tu-9'), status: { code: 'error', message: 'denied: tools.deny: Bash(git push:*)' } });
    expect(eventToSpans(ev({ kind: 'tool.call', decision: 'allow', detail: { tool_use_id: 'tu-1' } }), ctx)).toEqual([]);
    expect(eventToSpans(ev({ kind: 'exec' }), ctx)).toEqual([]);
    expect(eventToSpans(ev({ kind: 'approval', tool: 'Bash', decision: 'deny', detail: { tool_use_id: 'tu-1' } }), ctx)[0]?.startMs).toBe(Date.parse('2026-03-01T10:00:01.000Z'));
  });
});
