import { formatAmount, formatIdr, formatRate } from '../config/money.js';
import type { TransactionRow } from '../db/types.js';
import type { State } from './states.js';

// What a sale cost, what it earned and the profit, from what its row recorded when each
// happened: revenue at init (from the mapping and the rates then in force), cost when the
// supplier charged. Pure: the one place the rule lives, for the story and every report.

/** The columns the figures are read from. */
export type FiguresRow = Pick<
  TransactionRow,
  | 'state'
  | 'priceOffered'
  | 'pricePaid'
  | 'revenueMinor'
  | 'revenueCurrency'
  | 'revenueRateE6'
  | 'revenueRateSet'
  | 'revenueIdr'
>;

/** What the sale earns if delivered, as recorded at init. */
export interface RecordedRevenue {
  /** In its own currency, every minor digit written: "0.99". */
  amount: string;
  currency: string;
  /** The rate used: IDR per unit of the currency ("16250.5"; "1" for IDR). */
  rate: string;
  /** The day that rate was set (YYYY-MM-DD); null for IDR, which needs no rate. */
  rateSet: string | null;
  /** The amount at that rate, whole IDR rounded half up. */
  idr: number;
}

/**
 * Where a cost comes from. `supplier`: what the supplier said it charged (create-order's
 * selling_total, or the order status's grand_total at delivery); `order-price`: the supplier
 * said nothing, so the price sent with the order; `nothing-charged`: not delivered, so nothing
 * is spent (see saleFigures); `not-recorded`: a delivered sale with neither; `open`: not final.
 */
export type CostFrom = 'supplier' | 'order-price' | 'nothing-charged' | 'not-recorded' | 'open';

export interface SaleFigures {
  /** `open` until the sale is final; `delivered` (SUCCESS) or `not-delivered` (FAILED, CANCELLED, EXPIRED). */
  outcome: 'open' | 'delivered' | 'not-delivered';
  /** What the sale earns if delivered, recorded at init; null: not recorded (no revenue in the mapping then, or a sale from before revenue was kept). */
  revenue: RecordedRevenue | null;
  /** What it earned, whole IDR: the recorded revenue if delivered, 0 if not; null while open or not recorded. */
  revenueIdr: number | null;
  /** What it cost, whole IDR; null while open or not recorded. */
  costIdr: number | null;
  costFrom: CostFrom;
  /** revenueIdr - costIdr; null unless both are known. */
  profitIdr: number | null;
}

const NOT_DELIVERED: readonly State[] = ['FAILED', 'CANCELLED', 'EXPIRED'];

/** The revenue a row recorded at init, or null when it recorded none (or only part: never guessed). */
export function recordedRevenue(row: FiguresRow): RecordedRevenue | null {
  const { revenueMinor, revenueCurrency, revenueRateE6, revenueIdr } = row;
  if (revenueMinor === null || revenueCurrency === null || revenueRateE6 === null || revenueIdr === null)
    return null;
  return {
    amount: formatAmount(revenueMinor, revenueCurrency),
    currency: revenueCurrency,
    rate: formatRate(revenueRateE6),
    rateSet: row.revenueRateSet,
    idr: revenueIdr,
  };
}

/**
 * The profit rule, in IDR:
 * - open (INITIATED, QUEUED, ORDERING, PROCESSING, UNKNOWN): nothing is settled yet, no figure;
 * - SUCCESS: revenue is what init recorded; cost is what the supplier charged (pricePaid:
 *   selling_total, or grand_total at delivery), else the price sent with the order
 *   (priceOffered); profit is their difference;
 * - FAILED (refused, failed or refunded), CANCELLED, EXPIRED: Razer settles nothing for a sale
 *   answered as failed, and the supplier keeps nothing: a refused order was never charged, a
 *   cancelled or expired one never sent, and a failed or refunded one is given back to the
 *   prepaid Mitra balance (the gateway's assumption where the supplier does not say so: its
 *   grand_total on a failed order is the order's price, not a charge that stands). Revenue 0,
 *   cost 0, profit 0.
 */
export function saleFigures(row: FiguresRow): SaleFigures {
  const revenue = recordedRevenue(row);
  if (row.state === 'SUCCESS') {
    const cost =
      row.pricePaid !== null
        ? { costIdr: row.pricePaid, costFrom: 'supplier' as const }
        : row.priceOffered !== null
          ? { costIdr: row.priceOffered, costFrom: 'order-price' as const }
          : { costIdr: null, costFrom: 'not-recorded' as const };
    const revenueIdr = revenue?.idr ?? null;
    return {
      outcome: 'delivered',
      revenue,
      revenueIdr,
      ...cost,
      profitIdr: revenueIdr !== null && cost.costIdr !== null ? revenueIdr - cost.costIdr : null,
    };
  }
  if (NOT_DELIVERED.includes(row.state))
    return {
      outcome: 'not-delivered',
      revenue,
      revenueIdr: 0,
      costIdr: 0,
      costFrom: 'nothing-charged',
      profitIdr: 0,
    };
  return { outcome: 'open', revenue, revenueIdr: null, costIdr: null, costFrom: 'open', profitIdr: null };
}

const COST_FROM: Record<CostFrom, string> = {
  supplier: 'charged by the supplier',
  'order-price': 'the order price: the supplier did not say what it charged',
  'nothing-charged': 'not delivered: nothing charged',
  'not-recorded': 'not recorded',
  open: 'not final yet',
};

/** The revenue recorded at init, in words: "0.99 USD at 16250.5 IDR (rate set 2026-12-01) = IDR 16,088". */
export function revenueText(revenue: RecordedRevenue | null): string {
  if (!revenue) return 'not recorded';
  if (revenue.currency === 'IDR') return formatIdr(revenue.idr);
  return `${revenue.amount} ${revenue.currency} at ${revenue.rate} IDR${revenue.rateSet ? ` (rate set ${revenue.rateSet})` : ''} = ${formatIdr(revenue.idr)}`;
}

/** The figures as operators read them: cost, revenue and profit, one text each. */
export function figuresText(f: SaleFigures): { cost: string; revenue: string; profit: string } {
  const cost =
    f.costIdr === null ? COST_FROM[f.costFrom] : `${formatIdr(f.costIdr)} (${COST_FROM[f.costFrom]})`;
  const recorded = revenueText(f.revenue);
  const revenue =
    f.outcome === 'delivered'
      ? recorded
      : f.outcome === 'not-delivered'
        ? `IDR 0 (not delivered${f.revenue ? `; if delivered: ${recorded}` : ''})`
        : `not final yet${f.revenue ? `; if delivered: ${recorded}` : ''}`;
  const profit =
    f.profitIdr !== null ? formatIdr(f.profitIdr) : f.outcome === 'open' ? 'not final yet' : 'not recorded';
  return { cost, revenue, profit };
}
