// Ids come from the kernel's generator without node:crypto: check their shape
// and that they look random (no repeats, every byte value and bit position used).
import { describe, expect, it } from 'vitest';
import { fillRandom, randomHex, randomUUID } from '../../personas/random.js';

describe('random ids', () => {
  it('makes version 4 UUIDs, all different', () => {
    const ids = Array.from({ length: 2000 }, () => randomUUID());
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('makes hex of the asked length', () => {
    expect(randomHex(6)).toMatch(/^[0-9a-f]{12}$/);
    expect(randomHex(0)).toBe('');
    expect(new Set(Array.from({ length: 1000 }, () => randomHex(4))).size).toBeGreaterThan(995);
  });

  it('fills whole buffers, large ones too, with every byte value and no stuck bit', () => {
    const buf = new Uint8Array(1 << 20);
    fillRandom(buf);
    const seen = new Set(buf);
    expect(seen.size).toBe(256);
    for (let bit = 0; bit < 8; bit++) {
      let ones = 0;
      for (const b of buf) ones += (b >> bit) & 1;
      // 2^20 fair coin flips: within 1% of half, far beyond chance to miss.
      expect(Math.abs(ones / buf.length - 0.5)).toBeLessThan(0.01);
    }
    const tail = buf.subarray(buf.length - 64);
    expect(tail.some((b) => b !== 0)).toBe(true);
  });
});
