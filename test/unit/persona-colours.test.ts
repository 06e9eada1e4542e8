// Chip colours: distinct for the personas on screen, the same for the same set.
import { describe, expect, it } from 'vitest';
import { assignHues, nameHash, PALETTE } from '../../renderer/ui/persona-colours.js';

describe('assignHues', () => {
  it('gives names whose hashes collide different hues', () => {
    const seen = new Map<number, string>();
    let pair: [string, string] | undefined;
    for (let i = 0; pair === undefined; i++) {
      const n = `p${i}`;
      const hit = seen.get(nameHash(n) % 10);
      if (hit !== undefined) pair = [hit, n];
      seen.set(nameHash(n) % 10, n);
    }
    const hues = assignHues(pair);
    expect(hues.get(pair[0])).not.toBe(hues.get(pair[1]));
  });

  it('is distinct for as many names as the palette holds, and deterministic whatever the order', () => {
    const names = Array.from({ length: PALETTE.length }, (_, i) => `persona-${i}`);
    const a = assignHues(names);
    expect(new Set(a.values()).size).toBe(names.length);
    const b = assignHues([...names].reverse());
    expect([...b.entries()].sort()).toEqual([...a.entries()].sort());
  });

  it('up to ten names get only the ten far-apart hues', () => {
    const hues = assignHues(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j']);
    for (const h of hues.values()) expect(PALETTE.slice(0, 10)).toContain(h);
  });
});
