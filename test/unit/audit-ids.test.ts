import { describe, expect, it } from 'vitest';
import { createIdGenerator, EVENT_ID_LENGTH, eventIdTime, isEventId, minEventIdAt, newEventId } from '../../sandbox/audit/ids.js';

describe('event ids', () => {
  it('are 26 Crockford base32 characters encoding the time', () => {
    const id = createIdGenerator({ now: () => 1_700_000_000_123 })();
    expect(id).toHaveLength(EVENT_ID_LENGTH);
    expect(isEventId(id)).toBe(true);
    expect(eventIdTime(id)).toBe(1_700_000_000_123);
  });

  it('strictly increase within a process, also inside one millisecond', () => {
    const ids = Array.from({ length: 10_000 }, () => newEventId());
    for (let i = 1; i < ids.length; i++) expect(ids[i]! > ids[i - 1]!).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('stay monotonic when the clock steps back', () => {
    let t = 5_000;
    const gen = createIdGenerator({ now: () => t });
    const a = gen();
    t = 4_000;
    const b = gen();
    expect(b > a).toBe(true);
    expect(eventIdTime(b)).toBe(5_000);
  });

  it('sort by time across generators (processes)', () => {
    const early = createIdGenerator({ now: () => 1000 })();
    const late = createIdGenerator({ now: () => 1001 })();
    expect(late > early).toBe(true);
    expect(minEventIdAt(1001) <= late).toBe(true);
    expect(minEventIdAt(1001) > early).toBe(true);
  });

  it('differ across generators in the same millisecond', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => createIdGenerator({ now: () => 42 })()));
    expect(ids.size).toBe(1000);
  });

  it('carry into the next digit and borrow the next ms on overflow', () => {
    const gen = createIdGenerator({ now: () => 7, random: (buf) => buf.fill(0xff) });
    const first = gen();
    expect(first.slice(10)).toBe('F' + 'Z'.repeat(15));
    const second = gen();
    expect(second > first).toBe(true);
    expect(second.slice(10)).toBe('G' + '0'.repeat(15));
  });

  it('reject malformed ids', () => {
    expect(isEventId('nope')).toBe(false);
    expect(isEventId('01ARZ3NDEKTSV4RRFFQ69G5FAI')).toBe(false); // I is not in the alphabet
    expect(() => eventIdTime('x')).toThrow(/not an event id/);
  });
});
