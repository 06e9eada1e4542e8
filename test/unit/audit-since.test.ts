import { describe, expect, it } from 'vitest';
import { parseSince, toIsoTime } from '../../sandbox/audit/since.js';

const now = new Date(2024, 4, 15, 12, 30, 0); // local time

describe('parseSince', () => {
  it.each([
    ['10m', 10 * 60_000],
    ['2h', 2 * 3_600_000],
    ['1d', 86_400_000],
    ['90s', 90_000],
    ['1w', 7 * 86_400_000],
    ['1.5h', 5_400_000],
    ['3 days ago', 3 * 86_400_000],
    ['15 min', 15 * 60_000],
    [' 2H ', 2 * 3_600_000],
  ])('reads %s as a duration ago', (text, ms) => {
    expect(parseSince(text, now).getTime()).toBe(now.getTime() - ms);
  });

  it('reads words', () => {
    expect(parseSince('now', now).getTime()).toBe(now.getTime());
    expect(parseSince('today', now)).toEqual(new Date(2024, 4, 15));
    expect(parseSince('yesterday', now)).toEqual(new Date(2024, 4, 14));
    expect(parseSince('yesterday', new Date(2024, 0, 1, 8))).toEqual(new Date(2023, 11, 31));
  });

  it('reads dates as local midnight', () => {
    expect(parseSince('2024-05-01', now)).toEqual(new Date(2024, 4, 1));
  });

  it('reads ISO timestamps', () => {
    expect(parseSince('2024-05-01T12:00:00Z', now).toISOString()).toBe('2024-05-01T12:00:00.000Z');
    expect(parseSince('2024-05-01T12:00:00.250+02:00', now).toISOString()).toBe('2024-05-01T10:00:00.250Z');
    expect(parseSince('2024-05-01 12:00Z', now).toISOString()).toBe('2024-05-01T12:00:00.000Z');
    expect(parseSince('2024-05-01T12:00', now)).toEqual(new Date(2024, 4, 1, 12, 0));
  });

  it.each(['', 'soon', '10', '10 parsecs', '-5m', '2024-02-30', '2024-13-01', '2024-05-01T25:00Z', 'm10', '1e3m'])(
    'rejects %j with a one-line message',
    (text) => {
      expect(() => parseSince(text, now)).toThrow(/^invalid time .*: use an ISO time/);
      try { parseSince(text, now); } catch (err) { expect((err as Error).message).not.toContain('\n'); }
    },
  );

  it('toIsoTime accepts Dates and strings', () => {
    expect(toIsoTime(undefined)).toBeUndefined();
    expect(toIsoTime(new Date(0))).toBe('1970-01-01T00:00:00.000Z');
    expect(toIsoTime('1h', now)).toBe(new Date(now.getTime() - 3_600_000).toISOString());
    expect(() => toIsoTime(new Date(NaN))).toThrow(/invalid time/);
  });
});
