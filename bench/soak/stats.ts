// The soak's figures, pure: percentiles, a least-squares slope, the busiest window of calls, the
// cycles of the offered load and when the queue drained in each.

export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentile of values sorted ascending; NaN when there are none. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? Number.NaN;
}

export function summarize(values: readonly number[]): LatencySummary {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? Number.NaN,
  };
}

/** Least-squares slope of y over x; NaN with fewer than two distinct x. */
export function slope(points: readonly { x: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return Number.NaN;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const p of points) {
    sxy += (p.x - mx) * (p.y - my);
    sxx += (p.x - mx) ** 2;
  }
  return sxx === 0 ? Number.NaN : sxy / sxx;
}

/**
 * The most calls in any window of `windowMs`, counted as the supplier does: a call at `t`
 * shares its window with the calls in (t - windowMs, t]. `at` is the time of the call that
 * closed the busiest window (null: no calls).
 */
export function maxInWindow(times: readonly number[], windowMs: number): { max: number; at: number | null } {
  const sorted = [...times].sort((a, b) => a - b);
  let max = 0;
  let at: number | null = null;
  let first = 0;
  for (let last = 0; last < sorted.length; last++) {
    const t = sorted[last] ?? 0;
    while ((sorted[first] ?? t) <= t - windowMs) first++;
    if (last - first + 1 > max) {
      max = last - first + 1;
      at = t;
    }
  }
  return { max, at };
}

export interface Cycle {
  index: number;
  /** ms from the start of the load. */
  start: number;
  burstEnd: number;
  end: number;
}

/** Cycles of `cycleMs` over `durationMs` (the last one cut short), each opening with a burst. */
export function cycles(durationMs: number, cycleMs: number, burstMs: number): Cycle[] {
  const out: Cycle[] = [];
  for (let start = 0, index = 0; start < durationMs; start += cycleMs, index++) {
    const end = Math.min(durationMs, start + cycleMs);
    out.push({ index, start, burstEnd: Math.min(end, start + burstMs), end });
  }
  return out;
}

/** Times (ms from the start) at which `rate` per second fires during each cycle's burst. */
export function* burstTimes(plan: readonly Cycle[], ratePerSecond: number): Generator<number> {
  const step = 1000 / ratePerSecond;
  for (const c of plan) for (let t = c.start; t < c.burstEnd; t += step) yield t;
}

/** Times (ms from the start) at which `rate` per second fires over the whole run. */
export function* steadyTimes(durationMs: number, ratePerSecond: number): Generator<number> {
  const step = 1000 / ratePerSecond;
  for (let t = 0; t < durationMs; t += step) yield t;
}

export interface QueueSample {
  /** ms from the start of the load. */
  t: number;
  open: number;
}

export interface CycleDrain {
  index: number;
  peak: number;
  peakAt: number | null;
  /** The first sample at zero after the burst and the peak, within the cycle; null: never. */
  drainedAt: number | null;
}

/** Per cycle: the queue's peak, and when it came back to zero before the next burst. */
export function drains(samples: readonly QueueSample[], plan: readonly Cycle[]): CycleDrain[] {
  return plan.map((c) => {
    const within = samples.filter((s) => s.t >= c.start && s.t < c.end);
    let peak = 0;
    let peakAt: number | null = null;
    for (const s of within)
      if (s.open > peak) {
        peak = s.open;
        peakAt = s.t;
      }
    const after = Math.max(c.burstEnd, peakAt ?? c.burstEnd);
    const zero = within.find((s) => s.t >= after && s.open === 0);
    return { index: c.index, peak, peakAt, drainedAt: zero ? zero.t : null };
  });
}

export interface Verdict {
  limit: number;
  maxInWindow: number;
  rateLimited: number;
  undrainedCycles: number[];
  openAtEnd: number;
  serverErrors: number;
  connectionErrors: number;
  contradictions: number;
  /** null: the run was too short to judge memory. */
  rssSlopeMbPerMin: number | null;
  flatBelowMbPerMin: number;
}

/** Why the soak failed; empty when it passed. */
export function failures(v: Verdict): string[] {
  const out: string[] = [];
  if (v.maxInWindow > v.limit)
    out.push(`rate limit exceeded: ${v.maxInWindow} calls in one window (limit ${v.limit})`);
  if (v.rateLimited > 0) out.push(`the simulator rate-limited ${v.rateLimited} calls`);
  if (v.undrainedCycles.length > 0)
    out.push(`the queue did not drain in cycle(s) ${v.undrainedCycles.map((i) => i + 1).join(', ')}`);
  if (v.openAtEnd > 0) out.push(`${v.openAtEnd} transactions still open at the end`);
  if (v.serverErrors > 0) out.push(`${v.serverErrors} answers with a 5xx status`);
  if (v.connectionErrors > 0) out.push(`${v.connectionErrors} connection errors`);
  if (v.contradictions > 0) out.push(`${v.contradictions} answers contradicted an earlier final answer`);
  // Shrinking is flat enough; NaN (no samples) is not.
  const rss = v.rssSlopeMbPerMin;
  if (rss !== null && !(rss < v.flatBelowMbPerMin))
    out.push(`memory not flat: RSS slope ${rss.toFixed(2)} MB/min (flat below ${v.flatBelowMbPerMin})`);
  return out;
}
