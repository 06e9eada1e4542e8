import { describe, expect, it } from 'vitest';
import { AuditEventSchema } from '../../sandbox/audit/event.js';
import type { AuditEvent } from '../../sandbox/audit/event.js';
import { cell, formatTable, formatTime, toJsonl, toJsonlLine } from '../../sandbox/audit/export.js';

const base: AuditEvent = {
  id: '01HZX0000000000000000000AA',
  ts: '2024-05-01T12:00:00.123Z',
  session: '6f1c1a8e-0000-4000-8000-000000000001',
  persona: 'homelab',
  agent: { kind: 'claude', version: '2.1.0' },
  on_behalf_of: 'alice',
  kind: 'net.connect',
  tool: null,
  target: 'github.com:443',
  decision: 'deny',
  reason: 'network.deny[0]',
  detail: { bytes: 0 },
};

describe('toJsonl', () => {
  it('prints the contract keys in DESIGN.md order, one event per line', () => {
    // Build an event whose own key order is scrambled.
    const scrambled = Object.fromEntries(Object.entries(base).reverse()) as AuditEvent;
    const text = toJsonl([scrambled, base]);
    const lines = text.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe('');
    for (const line of lines.slice(0, 2)) {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      expect(Object.keys(parsed)).toEqual([
        'id', 'ts', 'session', 'persona', 'agent', 'on_behalf_of', 'kind', 'tool', 'target', 'decision', 'reason', 'detail',
      ]);
      expect(Object.keys(parsed['agent'] as object)).toEqual(['kind', 'version']);
      expect(AuditEventSchema.parse(parsed)).toEqual(base);
    }
    expect(toJsonl([])).toBe('');
  });

  it('escapes characters a terminal could act on while staying valid JSON', () => {
    const event = { ...base, target: 'a\u001b[2Jb\u009bc\u2028d\u007f' };
    const line = toJsonlLine(event);
    expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028]/);
    expect((JSON.parse(line) as AuditEvent).target).toBe(event.target);
  });
});

describe('formatTable', () => {
  it('renders a header and aligned rows', () => {
    const rows = formatTable([base, { ...base, kind: 'exec', decision: null, target: null, tool: 'Bash', reason: null }], { utc: true });
    const lines = rows.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^TIME\s+PERSONA\s+KIND\s+DECISION\s+TARGET\s+REASON$/);
    expect(lines[1]).toBe('2024-05-01 12:00:00.123  homelab  net.connect  deny      github.com:443  network.deny[0]');
    expect(lines[2]).toBe('2024-05-01 12:00:00.123  homelab  exec         -         Bash            -');
  });

  it('truncates long fields and neutralizes control characters', () => {
    const long = { ...base, target: 'x'.repeat(200), reason: 'evil\u001b]0;title\u0007\nnext' };
    const line = formatTable([long], { utc: true, targetWidth: 20 }).split('\n')[1] ?? '';
    expect(line).toContain(`${'x'.repeat(19)}…`);
    expect(line).not.toContain('x'.repeat(20));
    expect(line).not.toMatch(/[\u0000-\u001f]/);
    expect(line).toContain('\\u001b');
    expect(line).toContain('\\n');
  });

  it('has helpers for cells and times', () => {
    expect(cell(null, 5)).toBe('-');
    expect(cell('abcdef', 4)).toBe('abc…');
    expect(formatTime('not a time')).toBe('not a time');
    const local = formatTime(base.ts);
    const d = new Date(base.ts);
    expect(local).toContain(`${String(d.getHours()).padStart(2, '0')}:00:00.123`);
  });
});
