import type { TransactionRow } from './types.js';
import type { StoredState } from './vocabulary.js';

// What the sales reports read from storage (src/reports/ makes the figures): rows alike
// grouped with integer sums, and one page of sales after another in creation order.

/** The transactions created in [since, until) (epoch ms), grouped per day or per SKU. */
export interface SalesGroupQuery {
  since: number;
  until: number;
  by: 'day' | 'sku';
  /** by day: where days begin, minutes east of UTC. */
  utcOffsetMinutes: number;
}

/**
 * Rows of one bucket alike in everything the profit rule reads but the amounts: state, whether
 * the supplier took the order (trx code), and which figures were recorded. The sums are exact
 * integers over the rows of the group (0 when none is recorded).
 */
export interface SalesGroup {
  /** by day: the day at the offset, YYYY-MM-DD; by sku: the SKU. */
  key: string;
  state: StoredState;
  hasTrxCode: boolean;
  hasPricePaid: boolean;
  hasPriceOffered: boolean;
  /** revenue_minor, revenue_currency, revenue_rate_e6 and revenue_idr are all recorded. */
  hasRevenue: boolean;
  count: number;
  pricePaid: number;
  priceOffered: number;
  revenueIdr: number;
}

/** A transaction as the CSV export lists it. */
export type SaleRow = Pick<
  TransactionRow,
  | 'transactionNumber'
  | 'createdAt'
  | 'sku'
  | 'state'
  | 'trxCode'
  | 'priceOffered'
  | 'pricePaid'
  | 'revenueMinor'
  | 'revenueCurrency'
  | 'revenueRateE6'
  | 'revenueRateSet'
  | 'revenueIdr'
> & {
  /** When it moved into its final state (from its events); null while open. */
  finalAt: number | null;
};

/** One page of the transactions created in [since, until), after `after` in (created_at, number) order. */
export interface SalesPageQuery {
  since: number;
  until: number;
  after?: { createdAt: number; transactionNumber: string } | undefined;
  limit: number;
}

export const DAY_MS = 86_400_000;

/** A day's number since 1970-01-01 written YYYY-MM-DD. */
export const dayOfNumber = (n: number): string => new Date(n * DAY_MS).toISOString().slice(0, 10);

/**
 * An integer read from the database exactly: a number, a bigint, or the decimal text that an
 * int8 or a numeric (PostgreSQL's sum of bigints) or a cast to text comes back as. Throws
 * rather than round one beyond 2^53.
 */
export function exactInteger(value: unknown, what: string): number {
  if (value === null || value === undefined) return 0;
  const big =
    typeof value === 'bigint'
      ? value
      : typeof value === 'number' && Number.isInteger(value)
        ? BigInt(value)
        : typeof value === 'string' && /^-?\d+$/.test(value)
          ? BigInt(value)
          : null;
  if (big === null) throw new Error(`${what}: not an integer: ${String(value)}`);
  const n = Number(big);
  if (!Number.isSafeInteger(n)) throw new Error(`${what}: ${big} is beyond what is counted exactly (2^53)`);
  return n;
}

/**
 * Which figures a row recorded, as one small integer to group by (a narrower sort key than four
 * columns): 1 trx code, 2 price_paid, 4 price_offered, 8 all four revenue columns.
 */
export const FIGURE_FLAGS = {
  trxCode: 1,
  pricePaid: 2,
  priceOffered: 4,
  revenue: 8,
} as const;

/** A row of the grouping statement, as either database hands it over. */
export interface RawSalesGroup {
  k: unknown;
  state: StoredState;
  flags: unknown;
  n: unknown;
  paid: unknown;
  offered: unknown;
  revenue: unknown;
}

/** Adds the rows of a grouping statement into `into`, by bucket, state and flags; sums read exactly. */
export function mergeSalesGroups(
  into: Map<string, SalesGroup>,
  rows: readonly RawSalesGroup[],
  by: SalesGroupQuery['by'],
): void {
  for (const r of rows) {
    const flags = exactInteger(r.flags, 'flags');
    const key = by === 'day' ? dayOfNumber(exactInteger(r.k, 'day')) : String(r.k);
    const id = `${key}\u0000${r.state}\u0000${flags}`;
    const count = exactInteger(r.n, 'count');
    const pricePaid = exactInteger(r.paid, 'sum of price_paid');
    const priceOffered = exactInteger(r.offered, 'sum of price_offered');
    const revenueIdr = exactInteger(r.revenue, 'sum of revenue_idr');
    const seen = into.get(id);
    if (seen) {
      seen.count = exactSum(seen.count, count);
      seen.pricePaid = exactSum(seen.pricePaid, pricePaid);
      seen.priceOffered = exactSum(seen.priceOffered, priceOffered);
      seen.revenueIdr = exactSum(seen.revenueIdr, revenueIdr);
      continue;
    }
    into.set(id, {
      key,
      state: r.state,
      hasTrxCode: (flags & FIGURE_FLAGS.trxCode) !== 0,
      hasPricePaid: (flags & FIGURE_FLAGS.pricePaid) !== 0,
      hasPriceOffered: (flags & FIGURE_FLAGS.priceOffered) !== 0,
      hasRevenue: (flags & FIGURE_FLAGS.revenue) !== 0,
      count,
      pricePaid,
      priceOffered,
      revenueIdr,
    });
  }
}

/** a + b of two exact integers, refused rather than rounded beyond 2^53. */
function exactSum(a: number, b: number): number {
  const sum = a + b;
  if (!Number.isSafeInteger(sum)) throw new Error(`a sum passes 2^53 (${a} + ${b}): not counted exactly`);
  return sum;
}
