// Chip colours: each persona on screen gets its own hue, deterministically.
// A name's hash picks its preferred slot in a palette of well-separated hues;
// names are placed in sorted order and a taken slot passes on to the next
// free one three slots on (a hue far from it, not its neighbour), so two
// personas never share a colour while the palette lasts
// (20 hues), and the same set of names always gets the same colours.
import { useSyncExternalStore } from 'react';

/** 10 hues that read apart on a light chip (red, orange, yellow, green, teal, sky, blue, violet, purple, pink), then 10 in between. */
const BASE = [0, 28, 50, 125, 172, 198, 225, 258, 285, 328];
const BETWEEN = [14, 40, 88, 150, 186, 212, 242, 272, 306, 345];
export const PALETTE: readonly number[] = [...BASE, ...BETWEEN];
/** Coprime with 10 and 20, so probing visits every slot. */
const PROBE_STEP = 3;

export function nameHash(name: string): number {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** Hue per name: distinct for up to PALETTE.length names; past that, by hash. */
export function assignHues(names: Iterable<string>): Map<string, number> {
  const sorted = [...new Set(names)].sort();
  const out = new Map<string, number>();
  const taken = new Set<number>();
  // Up to 10 names use the distinct hues only; more names open the in-between ones.
  const size = sorted.length <= BASE.length ? BASE.length : PALETTE.length;
  for (const name of sorted) {
    const start = nameHash(name) % size;
    let slot = -1;
    for (let k = 0; k < size; k++) {
      const s = (start + PROBE_STEP * k) % size;
      if (!taken.has(s)) {
        slot = s;
        break;
      }
    }
    if (slot >= 0) taken.add(slot);
    out.set(name, slot >= 0 ? (PALETTE[slot] ?? 0) : nameHash(name) % 360);
  }
  return out;
}

// The names the app knows of (sessions, personas, chips drawn), and their hues.
const known = new Set<string>();
let hues = new Map<string, number>();
const listeners = new Set<() => void>();
let notifyQueued = false;

/** Adds names to the set the colours are assigned over; chips re-render when the assignment changes. */
export function knowPersonas(names: Iterable<string>): void {
  let added = false;
  for (const n of names) {
    if (!known.has(n)) {
      known.add(n);
      added = true;
    }
  }
  if (!added) return;
  hues = assignHues(known);
  if (notifyQueued) return;
  notifyQueued = true;
  queueMicrotask(() => {
    notifyQueued = false;
    for (const l of listeners) l();
  });
}

function subscribe(l: () => void): () => void {
  listeners.add(l);
  return () => {
    listeners.delete(l);
  };
}

/** The hue of a persona's chip. */
export function usePersonaHue(name: string): number {
  if (!known.has(name)) knowPersonas([name]);
  const all = useSyncExternalStore(subscribe, () => hues);
  return all.get(name) ?? nameHash(name) % 360;
}
