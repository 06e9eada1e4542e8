// Cross-check for Claude Code: its own OpenTelemetry log events (OTLP/HTTP
// JSON, received on the broker socket) say which tools ran. A tool that ran
// with no PreToolUse decision from personae is flagged as a `bypass` event.
// The first tool result that matches a decision is a `session.ready` record
// (target `telemetry`): the cross-check is live in this session, and a
// session without one had no cross-check.
// Telemetry is self-reported by the agent: a check, never the record.
import type { AdapterSession } from './adapter.js';

interface OtlpAttribute {
  key?: string;
  value?: { stringValue?: string; intValue?: string | number; boolValue?: boolean };
}
interface OtlpRecord {
  body?: { stringValue?: string };
  attributes?: OtlpAttribute[];
}

function attrs(r: OtlpRecord): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of r.attributes ?? []) {
    if (!a.key || !a.value) continue;
    const v = a.value.stringValue ?? a.value.intValue ?? a.value.boolValue;
    if (v !== undefined) out[a.key] = String(v);
  }
  return out;
}

/** Every log record in an OTLP logs export, with its event name and attributes. */
export function otlpEvents(body: string): Array<{ name: string; attributes: Record<string, string> }> {
  const parsed = JSON.parse(body) as { resourceLogs?: Array<{ scopeLogs?: Array<{ logRecords?: OtlpRecord[] }> }> };
  const out = [];
  for (const rl of parsed.resourceLogs ?? []) {
    for (const sl of rl.scopeLogs ?? []) {
      for (const r of sl.logRecords ?? []) {
        const a = attrs(r);
        out.push({ name: a['event.name'] ?? r.body?.stringValue ?? '', attributes: a });
      }
    }
  }
  return out;
}

export class BypassDetector {
  private readonly flagged = new Set<string>();
  private closed = false;
  private live = false;

  constructor(private readonly session: AdapterSession) {}

  receive(path: string, body: string): void {
    if (this.closed || !path.startsWith('/v1/logs')) return;
    let events;
    try {
      events = otlpEvents(body);
    } catch {
      return;
    }
    for (const e of events) {
      const name = e.name.replace(/^claude_code\./, '');
      if (name !== 'tool_result') continue;
      const id = e.attributes.tool_use_id;
      if (!id || this.flagged.has(id)) continue;
      if (this.session.decided(id)) {
        if (!this.live) this.checkedIn(id);
        continue;
      }
      this.flagged.add(id);
      this.session.emit({
        kind: 'bypass',
        tool: e.attributes.tool_name ?? null,
        target: id,
        decision: 'deny',
        reason: 'the agent reports a tool call that ran without a personae hook decision',
        detail: { tool_use_id: id, success: e.attributes.success ?? null, source: 'otel' },
      });
    }
  }

  private checkedIn(id: string): void {
    this.live = true;
    this.session.emit({
      kind: 'session.ready',
      target: 'telemetry',
      reason: "the agent's telemetry checked in: the tools it reports are cross-checked against personae's decisions",
      detail: { tool_use_id: id, source: 'otel' },
    });
  }

  close(): void {
    this.closed = true;
  }
}
