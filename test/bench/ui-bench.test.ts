// Keeps the UI benchmark from rotting: a short run must produce sane numbers.
// (The real figures come from `npm run bench`.)
import { describe, expect, it } from 'vitest';
import { e2eUnavailable } from '../e2e/browser.js';
import { benchUi } from './ui-bench.js';

describe.skipIf(e2eUnavailable() !== undefined)('benchUi', () => {
  it('runs briefly', async () => {
    const r = await benchUi({ rate: 500, durationMs: 1000, loaded: 5000, scrollMs: 500 });
    expect(r.latency.samples).toBeGreaterThan(100);
    expect(r.latency.medianMs).toBeGreaterThan(0);
    expect(r.latency.p99Ms).toBeGreaterThanOrEqual(r.latency.medianMs);
    expect(r.frames.loaded).toBeGreaterThanOrEqual(5000);
    expect(r.frames.scroll.samples).toBeGreaterThan(5);
  }, 90_000);
});
