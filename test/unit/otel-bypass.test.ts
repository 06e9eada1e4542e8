// The OpenTelemetry cross-check: a tool that Claude Code reports as run,
// without a personae hook decision, is flagged as a bypass, once.
import { describe, expect, it } from 'vitest';
import type { EventInput } from '../../sandbox/audit/event.js';
import type { AdapterSession } from '../../sandbox/intercept/adapter.js';
import { BypassDetector, otlpEvents } from '../../sandbox/intercept/otel.js';

function logs(records: Array<Record<string, string>>): string {
  return JSON.stringify({
    resourceLogs: [
      {
        scopeLogs: [
          {
            logRecords: records.map((attrs) => ({
              body: { stringValue: `claude_code.${attrs['event.name'] ?? ''}` },
              attributes: Object.entries(attrs).map(([key, v]) => ({ key, value: { stringValue: v } })),
            })),
          },
        ],
      },
    ],
  });
}

function fakeSession(decided: string[]): { session: AdapterSession; events: EventInput[] } {
  const events: EventInput[] = [];
  const session = {
    id: 's',
    emit: (e: EventInput) => events.push(e),
    limit: () => undefined,
    fail: () => undefined,
    stop: () => Promise.resolve(),
    hooksLive: { promise: Promise.resolve() },
    onTelemetry: undefined,
    decided: (id: string) => decided.includes(id),
  } satisfies AdapterSession;
  return { session, events };
}

describe('OTel bypass detection', () => {
  it('reads OTLP/HTTP JSON log records', () => {
    expect(otlpEvents(logs([{ 'event.name': 'tool_result', tool_name: 'Bash', tool_use_id: 'toolu_1' }]))).toEqual([
      { name: 'tool_result', attributes: { 'event.name': 'tool_result', tool_name: 'Bash', tool_use_id: 'toolu_1' } },
    ]);
  });

  it('flags a tool result with no hook decision, once; decided calls and other events are fine', () => {
    const { session, events } = fakeSession(['toolu_ok']);
    const d = new BypassDetector(session);
    const body = logs([
      { 'event.name': 'tool_result', tool_name: 'Bash', tool_use_id: 'toolu_ok', success: 'true' },
      { 'event.name': 'tool_result', tool_name: 'Write', tool_use_id: 'toolu_sneaky', success: 'true' },
      { 'event.name': 'api_request', model: 'x' },
    ]);
    d.receive('/v1/logs', body);
    d.receive('/v1/logs', body);
    expect(events.filter((e) => e.kind === 'bypass')).toEqual([expect.objectContaining({ kind: 'bypass', tool: 'Write', target: 'toolu_sneaky', decision: 'deny' })]);
  });

  it('says once that telemetry checked in, at the first tool result matching a decision', () => {
    const { session, events } = fakeSession(['toolu_a', 'toolu_b']);
    const d = new BypassDetector(session);
    d.receive('/v1/logs', logs([{ 'event.name': 'api_request', model: 'x' }, { 'event.name': 'tool_result', tool_name: 'Write', tool_use_id: 'toolu_undecided' }]));
    expect(events.filter((e) => e.kind === 'session.ready')).toEqual([]);
    d.receive('/v1/logs', logs([{ 'event.name': 'tool_result', tool_name: 'Bash', tool_use_id: 'toolu_a' }, { 'event.name': 'tool_result', tool_name: 'Bash', tool_use_id: 'toolu_b' }]));
    expect(events.filter((e) => e.kind === 'session.ready')).toEqual([expect.objectContaining({ kind: 'session.ready', target: 'telemetry', detail: { tool_use_id: 'toolu_a', source: 'otel' } })]);
  });

  it('ignores malformed exports, other paths, and anything after close', () => {
    const { session, events } = fakeSession([]);
    const d = new BypassDetector(session);
    d.receive('/v1/logs', '{not json');
    d.receive('/v1/metrics', logs([{ 'event.name': 'tool_result', tool_use_id: 'a' }]));
    d.close();
    d.receive('/v1/logs', logs([{ 'event.name': 'tool_result', tool_use_id: 'b' }]));
    expect(events).toEqual([]);
  });
});
