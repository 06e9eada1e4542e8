// Keeps the benchmark from rotting: a short run must produce sane numbers.
// (The real numbers come from the bench runner, not from this test.)
import { describe, expect, it } from 'vitest';
import { benchAudit } from './audit-bench.js';

describe('benchAudit', () => {
  it.each(['worker', 'same-thread'] as const)('runs briefly with a %s reader', async (reader) => {
    const result = await benchAudit({ durationMs: 300, targetRate: 5000, reader });
    for (const phase of [result.max, result.paced]) {
      expect(phase.events).toBeGreaterThan(0);
      expect(phase.writeErrors).toBe(0);
      expect(phase.latency.samples).toBe(phase.events);
      expect(phase.latency.medianMs).toBeGreaterThanOrEqual(0);
      expect(phase.latency.p99Ms).toBeGreaterThanOrEqual(phase.latency.medianMs);
    }
    expect(result.paced.targetRate).toBe(5000);
  });
});
