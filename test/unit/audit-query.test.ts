import { describe, expect, it } from 'vitest';
import { encodeEvent, normalizeTs } from '../../sandbox/audit/encode.js';
import type { SessionLabels } from '../../sandbox/audit/event.js';
import { buildEventQuery, MAX_QUERY_LIMIT, rowToEvent } from '../../sandbox/audit/query.js';

describe('buildEventQuery', () => {
  it('defaults to ascending, limit 1000, no conditions', () => {
    const q = buildEventQuery({});
    expect(q.sql).toMatch(/FROM events ORDER BY seq ASC LIMIT \?$/);
    expect(q.params).toEqual([1000]);
    expect(q.reverse).toBe(false);
  });

  it('clamps the limit', () => {
    expect(buildEventQuery({ limit: 1e9 }).params.at(-1)).toBe(MAX_QUERY_LIMIT);
    expect(buildEventQuery({ limit: 0 }).params.at(-1)).toBe(1);
    expect(buildEventQuery({ limit: Number.NaN }).params.at(-1)).toBe(1000);
  });

  it('turns kinds and prefixes into index-friendly conditions', () => {
    const q = buildEventQuery({ kind: ['exec', 'fs.write', 'session.*'] });
    expect(q.sql).toContain('(kind IN (?, ?) OR (kind >= ? AND kind < ?))');
    expect(q.params).toEqual(['exec', 'fs.write', 'session.', 'session/', 1000]);
    expect(buildEventQuery({ kind: '*' }).sql).not.toContain('WHERE');
    expect(() => buildEventQuery({ kind: [] })).toThrow(/empty/);
  });

  it('depends only on the shape of the filter', () => {
    const a = buildEventQuery({ session: 'a', decision: 'deny', text: 'x' });
    const b = buildEventQuery({ session: 'b', decision: 'allow', text: 'y' });
    expect(a.sql).toBe(b.sql);
  });

  it('escapes LIKE wildcards in text', () => {
    const q = buildEventQuery({ text: '50%_off\\' });
    expect(q.params.slice(0, 3)).toEqual(['%50\\%\\_off\\\\%', '%50\\%\\_off\\\\%', '%50\\%\\_off\\\\%']);
  });

  it('scans away from a cursor and says when to reverse', () => {
    expect(buildEventQuery({}, { beforeSeq: 10 })).toMatchObject({ reverse: true });
    expect(buildEventQuery({}, { beforeSeq: 10 }).sql).toContain('ORDER BY seq DESC');
    expect(buildEventQuery({ order: 'desc' }, { beforeSeq: 10 }).reverse).toBe(false);
    expect(buildEventQuery({ order: 'desc' }, { afterSeq: 10 })).toMatchObject({ reverse: true });
    expect(buildEventQuery({ order: 'desc' })).toMatchObject({ reverse: false });
  });

  it('rejects bad values with one-line messages', () => {
    expect(() => buildEventQuery({ decision: 'maybe' as never })).toThrow(/unknown decision "maybe"/);
    expect(() => buildEventQuery({ since: 'whenever' })).toThrow(/invalid time/);
    expect(() => buildEventQuery({ order: 'up' as never })).toThrow(/order must be/);
  });
});

describe('encodeEvent', () => {
  const labels: SessionLabels = { session: 's', persona: 'p', agent: { kind: 'shell', version: null }, on_behalf_of: 'me' };

  it('assigns id and canonical ts and round-trips through a row', () => {
    const { event, row } = encodeEvent(labels, { kind: 'exec', target: 'ls', detail: { argv: ['ls'] } }, Date.UTC(2024, 0, 1), 1 << 20);
    expect(event.ts).toBe('2024-01-01T00:00:00.000Z');
    expect(event.decision).toBeNull();
    const [id, ts, session, persona, agent_kind, agent_version, on_behalf_of, kind, tool, target, decision, reason, detail] = row;
    expect(rowToEvent({ id, ts, session, persona, agent_kind, agent_version, on_behalf_of, kind, tool, target, decision, reason, detail })).toEqual(event);
  });

  it('normalizes a given ts and falls back to now', () => {
    expect(normalizeTs('2024-01-01T01:00:00+01:00', 0)).toBe('2024-01-01T00:00:00.000Z');
    expect(normalizeTs('garbage', 0)).toBe('1970-01-01T00:00:00.000Z');
  });

  it('never throws on odd detail and caps its size', () => {
    const big = encodeEvent(labels, { kind: 'exec', detail: { blob: 'x'.repeat(5000) } }, 0, 1024);
    expect(big.event.detail).toMatchObject({ truncated: true });
    expect(big.row[12].length).toBeLessThan(5000);
    const bad = encodeEvent(labels, { kind: 'exec', detail: { n: 1n } }, 0, 1024);
    expect(bad.event.detail).toHaveProperty('unserializable');
    const weird = encodeEvent(labels, { kind: 'exec', detail: ['a'] as never, decision: 'sure' as never }, 0, 1024);
    expect(weird.event.detail).toEqual({ value: ['a'] });
    expect(weird.event.decision).toBeNull();
  });

  it('parses stored detail defensively', () => {
    const row = { id: 'i', ts: 't', session: 's', persona: 'p', agent_kind: 'k', agent_version: null, on_behalf_of: 'o', kind: 'exec', tool: null, target: null, decision: null, reason: null };
    expect(rowToEvent({ ...row, detail: 'not json' }).detail).toEqual({ unparsed: 'not json' });
    expect(rowToEvent({ ...row, detail: '[1]' }).detail).toEqual({ value: [1] });
  });
});
