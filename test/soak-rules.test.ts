import { describe, expect, it } from 'vitest';
import {
  burstTimes,
  cycles,
  drains,
  failures,
  maxInWindow,
  percentile,
  slope,
  steadyTimes,
  summarize,
  type Verdict,
} from '../bench/soak/stats.js';

describe('soak figures', () => {
  it('percentiles are nearest-rank over the sorted values', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted
    expect(summarize(values)).toEqual({ count: 100, p50: 50, p99: 99, max: 100 });
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([1, 2, 3, 4], 50)).toBe(2);
    expect(percentile([1, 2, 3, 4], 100)).toBe(4);
    expect(summarize([]).p99).toBeNaN();
  });

  it('the p99 of 1000 values sees the slowest ten', () => {
    const values = [...Array.from({ length: 990 }, () => 1), ...Array.from({ length: 10 }, () => 500)];
    expect(summarize(values).p99).toBe(1);
    expect(summarize([...values, 500]).p99).toBe(500);
  });

  it('the least-squares slope of a line is its slope, noise or not', () => {
    const line = Array.from({ length: 60 }, (_, i) => ({ x: i, y: 3 * i + 7 }));
    expect(slope(line)).toBeCloseTo(3, 10);
    const flat = Array.from({ length: 60 }, (_, i) => ({ x: i, y: 100 + (i % 2 === 0 ? 1 : -1) }));
    expect(Math.abs(slope(flat))).toBeLessThan(0.01);
    expect(slope([{ x: 1, y: 1 }])).toBeNaN();
    expect(
      slope([
        { x: 2, y: 1 },
        { x: 2, y: 5 },
      ]),
    ).toBeNaN();
  });

  it('the busiest window counts calls in (t - window, t], as the supplier does', () => {
    // Ten calls 100 ms apart fill a 1 s window exactly; the next one at +1000 ms starts a new one.
    const even = Array.from({ length: 20 }, (_, i) => i * 100);
    expect(maxInWindow(even, 1000)).toEqual({ max: 10, at: 900 });
    // One call squeezed in between is an overrun.
    expect(maxInWindow([...even, 950], 1000).max).toBe(11);
    // Calls exactly one window apart never share it.
    expect(maxInWindow([0, 1000, 2000], 1000).max).toBe(1);
    expect(maxInWindow([], 1000)).toEqual({ max: 0, at: null });
  });

  it('the busiest window catches a burst hidden between two evenly paced stretches', () => {
    const paced = Array.from({ length: 50 }, (_, i) => i * 120);
    const burst = [3001, 3002, 3003];
    expect(maxInWindow(paced, 1000).max).toBeLessThanOrEqual(10);
    expect(maxInWindow([...burst, ...paced], 1000).max).toBeGreaterThan(10);
  });

  it('cycles open with a burst and the last one is cut at the end of the run', () => {
    expect(cycles(150_000, 60_000, 2000)).toEqual([
      { index: 0, start: 0, burstEnd: 2000, end: 60_000 },
      { index: 1, start: 60_000, burstEnd: 62_000, end: 120_000 },
      { index: 2, start: 120_000, burstEnd: 122_000, end: 150_000 },
    ]);
    const times = [...burstTimes(cycles(120_000, 60_000, 2000), 100)];
    expect(times).toHaveLength(400);
    expect(times.every((t) => t % 60_000 < 2000)).toBe(true);
    expect([...steadyTimes(1000, 20)]).toHaveLength(20);
  });

  it('a cycle drains when the queue is back at zero after its burst and its peak', () => {
    const plan = cycles(120_000, 60_000, 2000);
    const samples = [
      { t: 0, open: 0 },
      { t: 1000, open: 40 },
      { t: 3000, open: 90 },
      { t: 30_000, open: 10 },
      { t: 45_000, open: 0 },
      { t: 59_000, open: 0 },
      // Cycle 2: zero before the burst's top-ups land does not count; never zero afterwards.
      { t: 60_000, open: 0 },
      { t: 63_000, open: 120 },
      { t: 119_000, open: 3 },
    ];
    expect(drains(samples, plan)).toEqual([
      { index: 0, peak: 90, peakAt: 3000, drainedAt: 45_000 },
      { index: 1, peak: 120, peakAt: 63_000, drainedAt: null },
    ]);
  });

  it('the verdict names each failure and passes a clean run', () => {
    const clean: Verdict = {
      limit: 10,
      maxInWindow: 10,
      rateLimited: 0,
      undrainedCycles: [],
      openAtEnd: 0,
      serverErrors: 0,
      connectionErrors: 0,
      contradictions: 0,
      rssSlopeMbPerMin: 0.2,
      flatBelowMbPerMin: 1,
    };
    expect(failures(clean)).toEqual([]);
    expect(failures({ ...clean, rssSlopeMbPerMin: -3 })).toEqual([]);
    expect(failures({ ...clean, maxInWindow: 11 })).toEqual([
      'rate limit exceeded: 11 calls in one window (limit 10)',
    ]);
    expect(failures({ ...clean, rateLimited: 2 })).toHaveLength(1);
    expect(failures({ ...clean, undrainedCycles: [1] })).toEqual(['the queue did not drain in cycle(s) 2']);
    expect(failures({ ...clean, openAtEnd: 4 })).toHaveLength(1);
    expect(failures({ ...clean, serverErrors: 1 })).toHaveLength(1);
    expect(failures({ ...clean, connectionErrors: 1 })).toHaveLength(1);
    expect(failures({ ...clean, contradictions: 1 })).toHaveLength(1);
    expect(failures({ ...clean, rssSlopeMbPerMin: 1.5 })[0]).toMatch(/^memory not flat/);
    expect(failures({ ...clean, rssSlopeMbPerMin: Number.NaN })[0]).toMatch(/^memory not flat/);
    expect(failures({ ...clean, rssSlopeMbPerMin: null })).toEqual([]);
  });
});
