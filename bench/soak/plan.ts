// What the soak offers, and what passes between the orchestrator and the load process.
import { z } from 'zod';

/** The supplier's cap, given to the gateway as MITRA_RATE_LIMIT and enforced by the simulator. */
export const SUPPLIER_CAP = '10/1s';
/** Purchases offered per second during a burst, as a multiple of the cap (in calls per second). */
export const PEAK_FACTOR = 10;
export const CYCLE_MS = 60_000;
/**
 * Share of each cycle spent offering purchases. Each purchase costs about two supplier calls
 * (the order, then one status check on its webhook) and the gateway's limiter keeps a margin of a
 * fifth of the window, so a burst of d seconds needs about d x 10 x 2 x 1.2 seconds of the cap to
 * drain: 1/30 of a minute (2 s) needs about 48 s, leaving the rest of the cycle as slack.
 */
export const DUTY = 1 / 30;
/** Queries and init+cancel pairs per second, all the time. */
export const QUERY_RATE = 20;
export const CANCEL_RATE = 2;
/**
 * RSS slope (MB per minute, after the first cycle) below which memory is called flat: a growth
 * of 1 MB/min is 1.4 GB a day, enough to take down a small VM between two deploys; the GC's
 * sawtooth (tens of MB, a drop every minute or two under this load) moves a least-squares slope
 * over three cycles or more by a few tenths of that.
 */
export const FLAT_BELOW_MB_PER_MIN = 1;
/** Whole cycles after the warm-up needed to judge memory: over one, the slope is mostly where the GC fell. */
export const JUDGE_MEMORY_AFTER_CYCLES = 3;

export const loadConfigSchema = z.strictObject({
  url: z.string(),
  apiId: z.string(),
  key: z.string(),
  seed: z.number().int(),
  durationMs: z.number().positive(),
  cycleMs: z.number().positive(),
  burstMs: z.number().nonnegative(),
  purchaseRate: z.number().positive(),
  queryRate: z.number().positive(),
  cancelRate: z.number().positive(),
  /** After the run: how long open purchases are still queried before giving up on them. */
  settleMs: z.number().nonnegative(),
});
export type LoadConfig = z.output<typeof loadConfigSchema>;

export const ENDPOINTS = ['init', 'topup', 'query', 'cancel'] as const;
export type Endpoint = (typeof ENDPOINTS)[number];

// JSON writes NaN (no sample) as null.
const figure = z
  .number()
  .nullable()
  .transform((v) => v ?? Number.NaN);

export const endpointResultSchema = z.object({
  count: z.number(),
  p50: figure,
  p99: figure,
  max: figure,
  /** When the slowest one was sent, in ms from the start of the load. */
  slowestAt: z.number(),
  /** Answers by HTTP status. */
  statuses: z.record(z.string(), z.number()),
  /** No answer at all (connection refused or reset, timeout). */
  errors: z.number(),
});
export type EndpointResult = z.output<typeof endpointResultSchema>;

export const loadResultSchema = z.object({
  endpoints: z.object({
    init: endpointResultSchema,
    topup: endpointResultSchema,
    query: endpointResultSchema,
    cancel: endpointResultSchema,
  }),
  purchases: z.object({
    offered: z.number(),
    initRefused: z.number(),
    answered: z.number(),
    delivered: z.number(),
    notDelivered: z.number(),
    openAtEnd: z.number(),
  }),
  cancels: z.object({ fresh: z.number(), ofDelivered: z.number(), unexpected: z.number() }),
  contradictions: z.number(),
  unsignedAnswers: z.number(),
  /** Share of one core the load process used: near 100 % means the client limited the run. */
  clientCpu: z.number(),
});
export type LoadResult = z.output<typeof loadResultSchema>;
