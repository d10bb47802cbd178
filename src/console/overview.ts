import type { HourlyCount } from '../db/types.js';
import type { State } from '../fulfilment/states.js';

export const HOUR_MS = 60 * 60 * 1000;
export const DAY_MS = 24 * HOUR_MS;

/** How the overview groups states: what became of a purchase. */
export const OUTCOMES = ['delivered', 'failed', 'not bought', 'open'] as const;
export type Outcome = (typeof OUTCOMES)[number];

export const outcomeOf = (state: State): Outcome => {
  switch (state) {
    case 'SUCCESS':
      return 'delivered';
    case 'FAILED':
      return 'failed';
    // Not paid for (yet): an init Razer never topped up is no open purchase.
    case 'INITIATED':
    case 'CANCELLED':
    case 'EXPIRED':
      return 'not bought';
    default:
      return 'open';
  }
};

export interface HourBar {
  /** The hour's start, epoch ms. */
  hour: number;
  counts: Record<Outcome, number>;
  total: number;
}

const zero = (): Record<Outcome, number> => ({ delivered: 0, failed: 0, 'not bought': 0, open: 0 });

/** The 24 hours ending with the current one, oldest first: the window the chart queries. */
export const chartWindow = (now: number): { since: number; until: number } => {
  const current = now - (now % HOUR_MS);
  return { since: current - 23 * HOUR_MS, until: current + HOUR_MS };
};

/** One bar per hour of the window, every hour present (zero when nothing was bought). */
export function hourlyBars(counts: readonly HourlyCount[], now: number): HourBar[] {
  const { since } = chartWindow(now);
  const bars: HourBar[] = Array.from({ length: 24 }, (_, i) => ({
    hour: since + i * HOUR_MS,
    counts: zero(),
    total: 0,
  }));
  for (const c of counts) {
    const bar = bars[(c.hour - since) / HOUR_MS];
    if (!bar) continue;
    bar.counts[outcomeOf(c.state)] += c.count;
    bar.total += c.count;
  }
  return bars;
}

/** Purchases of the window that failed since midnight UTC. */
export const failedToday = (counts: readonly HourlyCount[], now: number): number => {
  const midnight = now - (now % DAY_MS);
  return counts.filter((c) => c.hour >= midnight && c.state === 'FAILED').reduce((n, c) => n + c.count, 0);
};
