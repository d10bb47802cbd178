import type { RateLimit } from '../config/env.js';
import { skewMarginMs } from '../mitra/limiter.js';
import { Refusal } from './refusal.js';
import type { SupplyFigures, SupplyView } from './supply-snapshot.js';

/**
 * The expected wait for a new order's create-order slot (ms), as the queue guard judges it.
 *
 * The model, read from the limiter (src/mitra/limiter.ts, shared-limiter.ts, lane-queue.ts) and
 * the engine (engine.ts):
 * - **The budget.** `MITRA_RATE_LIMIT` allows `limit` calls per `windowMs`. Each call holds its slot
 *   while under way and for one window plus a skew margin (a fifth of the window, at most 1 s)
 *   after it ended; so, once the budget is spent, slots come back at `limit` per
 *   `windowMs + margin` (a call's own duration, milliseconds against a window of seconds, is left
 *   out). On PostgreSQL with `MITRA_RATE_LIMIT_SCOPE=shared` that budget is the one of all
 *   instances together, counted in the database.
 * - **The create-order share.** Every create-order waits in the order lane, which is served before
 *   any queued status, balance or catalogue call (on each instance, and each instance's slot of
 *   the shared budget goes to its order lane first). While orders wait, queries get no new slot:
 *   the create-order share of the budget is all of it. (Queries starved meanwhile are sent once
 *   the order lane is empty; an instance with no order of its own waiting may spend slots on its
 *   queries, which the model does not count.)
 * - **The orders ahead.** A purchase topped up and not yet sent is QUEUED: each needs one
 *   create-order, whichever instance holds it, so the QUEUED transactions in the database (every
 *   instance's, on PostgreSQL) are the orders ahead of a new one. The limiter's own waiting counts
 *   are per process and would miss the other instances' queues. Not counted: INITIATED purchases
 *   (not paid, may never be), ORDERING ones (sent: they hold their slots already), and the
 *   create-orders UNKNOWN ones send again to resolve themselves (at most one at a time each, on
 *   their own schedule).
 * - **The wait.** The `queued` orders ahead take `queued` slots; at `limit` slots per
 *   `windowMs + margin`, that is `queued × (windowMs + margin) / limit`, and the new order's slot
 *   comes next. No queue: no wait. It is the mean of a steady flow; right after a burst on an
 *   idle budget, the slots taken together come back together one window later, and a wait can
 *   be up to one window longer (or, while slots of the window are still free, shorter).
 *
 * With `MITRA_RATE_LIMIT_SCOPE=instance` on PostgreSQL, each instance has the whole budget to
 * itself but the queue counted is every instance's: the wait is overstated by the number of
 * instances.
 */
export function expectedWaitMs(input: { queued: number; budget: RateLimit }): number {
  const { queued, budget } = input;
  if (queued <= 0 || budget.limit <= 0) return 0;
  const cycleMs = budget.windowMs + skewMarginMs(budget.windowMs);
  return Math.round((queued * cycleMs) / budget.limit);
}

export type QueueVerdict =
  | { kind: 'off' }
  | { kind: 'sell'; waitMs: number }
  | { kind: 'refuse'; waitMs: number };

/** Whether a new order may be sold: refused when its expected wait exceeds `maxWaitMs` (0: off). */
export function judgeQueue(input: { queued: number; budget: RateLimit; maxWaitMs: number }): QueueVerdict {
  if (input.maxWaitMs <= 0) return { kind: 'off' };
  const waitMs = expectedWaitMs(input);
  return waitMs > input.maxWaitMs ? { kind: 'refuse', waitMs } : { kind: 'sell', waitMs };
}

/** A wait as the refusal says it: whole minutes from a minute on, else seconds; rounded up. */
export function aboutWait(ms: number): string {
  if (ms >= 60_000) return `${Math.ceil(ms / 60_000)} min`;
  return `${Math.ceil(ms / 1000)} s`;
}

/** A setting as the refusal says it: whole minutes when it is some, else seconds. */
const limitText = (ms: number): string =>
  ms % 60_000 === 0 ? `${ms / 60_000} min` : `${Math.round(ms / 1000)} s`;

export interface QueueGuardDeps {
  /** MAX_SUPPLIER_WAIT (ms); 0: the guard is off. */
  maxWaitMs: number;
  /** MITRA_RATE_LIMIT: the supplier budget. */
  budget: RateLimit;
  /** Told why a sale was refused, with the figures (for the log). */
  refused?: (why: string) => void;
}

/**
 * The queue guard at init: refuses OOS when a new order would wait for its create-order slot
 * longer than MAX_SUPPLIER_WAIT. The same for every SKU (one budget, one queue): checked once per
 * init, before any per-SKU or per-variation guard. Never at top-up. Without figures (null: the
 * open purchases could not be read, nor recently enough) it judges nothing: the sale goes through.
 */
export async function guardQueue(
  guard: QueueGuardDeps,
  figures: () => Promise<Pick<SupplyFigures, 'queuedOrders'> | null>,
  sku: string,
): Promise<void> {
  if (guard.maxWaitMs <= 0) return;
  const read = await figures();
  if (!read) return;
  const { queuedOrders } = read;
  const verdict = judgeQueue({ queued: queuedOrders, budget: guard.budget, maxWaitMs: guard.maxWaitMs });
  if (verdict.kind !== 'refuse') return;
  guard.refused?.(
    `init of ${sku} refused: ${queuedOrders} orders are queued for the supplier budget (${guard.budget.limit} calls per ${guard.budget.windowMs / 1000} s): a new order would wait about ${Math.round(verdict.waitMs / 1000)} s, longer than MAX_SUPPLIER_WAIT (${Math.round(guard.maxWaitMs / 1000)} s)`,
  );
  throw new Refusal(
    'OOS',
    `${sku} cannot be delivered in time now: the supplier queue is too long: a new order would wait about ${aboutWait(verdict.waitMs)} (the most allowed is ${limitText(guard.maxWaitMs)})`,
    'queue',
  );
}

/** Both guards' figures as the metrics, the supplier report and /readyz's log line show them. */
export interface SupplierGuardFigures {
  /**
   * What open purchases will still be charged by Mitra (IDR), subtracted from the balance; null:
   * unknown (the open purchases could not be read, see `unread`).
   */
  committedIdr: number | null;
  /** Purchases paid and not sent yet, every instance's: the orders ahead of a new one; null: unknown. */
  queuedOrders: number | null;
  /** How long a new order would wait for its create-order slot (s, to a tenth); null: unknown. */
  expectedWaitSeconds: number | null;
  /** MAX_SUPPLIER_WAIT (s); null: the queue guard is off. */
  maxWaitSeconds: number | null;
  /**
   * Null while the open purchases are read. Else why they are not, since when, and when the
   * figures shown (the last good ones, which the guards judge by) were read; `figuresReadAt` null:
   * none recent enough, the figures are unknown and the guards judge nothing.
   */
  unread: { reason: string; since: number; figuresReadAt: number | null } | null;
}

export function guardFigures(
  view: SupplyView,
  guard: Pick<QueueGuardDeps, 'budget' | 'maxWaitMs'>,
): SupplierGuardFigures {
  const { figures, unread } = view;
  const maxWaitSeconds = guard.maxWaitMs > 0 ? guard.maxWaitMs / 1000 : null;
  const shown = unread && { ...unread, figuresReadAt: figures?.readAt ?? null };
  if (!figures)
    return {
      committedIdr: null,
      queuedOrders: null,
      expectedWaitSeconds: null,
      maxWaitSeconds,
      unread: shown,
    };
  const waitMs = expectedWaitMs({ queued: figures.queuedOrders, budget: guard.budget });
  return {
    committedIdr: figures.committedIdr,
    queuedOrders: figures.queuedOrders,
    expectedWaitSeconds: Math.round(waitMs / 100) / 10,
    maxWaitSeconds,
    unread: shown,
  };
}

/**
 * The queue guard's verdict as the figures show it: `off`, `unknown` (figures unknown: it judges
 * nothing), `over` (inits are refused) or `under`. /readyz logs its line again when it changes.
 */
export function queueVerdict(figures: SupplierGuardFigures): 'off' | 'unknown' | 'over' | 'under' {
  if (figures.maxWaitSeconds === null) return 'off';
  if (figures.expectedWaitSeconds === null) return 'unknown';
  return figures.expectedWaitSeconds > figures.maxWaitSeconds ? 'over' : 'under';
}
