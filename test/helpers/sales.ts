import type { ReportLine } from '../../src/reports/sales.js';
import type { E2E } from './e2e.js';
import { transactionRow } from './fixtures.js';

// Sales of three days at +07:00, written straight to storage as the engine would have left
// them: delivered at a profit and at a loss, failed, refunded, open, unpriced, never bought,
// and one each side of the range. What the reports of 2026-12-01 to 2026-12-03 must say.

export const SALES_OFFSET = '+07:00';
export const SALES_RANGE = { from: '2026-12-01', to: '2026-12-03' } as const;

/** 1.05 USD at 16250.5: 17063 IDR. */
const USD = {
  revenueMinor: 105,
  revenueCurrency: 'USD',
  revenueRateE6: 16_250_500_000,
  revenueRateSet: '2026-12-01',
  revenueIdr: 17063,
};
/** 55,000.00 IDR. */
const IDR = {
  revenueMinor: 5_500_000,
  revenueCurrency: 'IDR',
  revenueRateE6: 1_000_000,
  revenueRateSet: null,
  revenueIdr: 55000,
};

const at = (iso: string) => Date.parse(iso);
const STEAM = {
  sku: 'STEAMV50',
  brandKey: 'STEAM',
  variationKey: 'STEAMV50',
  maxPrice: 60000,
  isVoucher: true,
};

/** [number, state, UTC creation time, columns]. Days are at +07:00: 17:00Z is midnight. */
const SALES: [string, Parameters<typeof transactionRow>[1], string, Record<string, unknown>][] = [
  // Before the range: 2026-11-30 23:59 at +07:00.
  ['SALE-BEFORE', 'SUCCESS', '2026-11-30T16:59:00Z', { pricePaid: 15000, trxCode: 'VCG-B', ...USD }],
  // 2026-12-01: two delivered, one at a profit of 2063, one at a loss of 937.
  ['SALE-1A', 'SUCCESS', '2026-11-30T17:00:00Z', { pricePaid: 15000, trxCode: 'VCG-1A', ...USD }],
  ['SALE-1B', 'SUCCESS', '2026-12-01T16:59:59Z', { pricePaid: 18000, trxCode: 'VCG-1B', ...USD }],
  // 2026-12-02: a voucher delivered (profit 5000), one failed before any order, one refunded.
  ['SALE-2A', 'SUCCESS', '2026-12-01T17:00:00Z', { ...STEAM, pricePaid: 50000, trxCode: 'VCG-2A', ...IDR }],
  ['SALE-2B', 'FAILED', '2026-12-02T01:00:00Z', { priceOffered: 15000, ...USD }],
  ['SALE-2C', 'FAILED', '2026-12-02T02:00:00Z', { pricePaid: 15000, trxCode: 'VCG-2C', ...USD }],
  // 2026-12-03: one open, one delivered without revenue (unpriced), one at a loss of 2937,
  // and two never bought (not sold).
  ['SALE-3A', 'PROCESSING', '2026-12-03T01:00:00Z', { priceOffered: 15000, trxCode: 'VCG-3A', ...USD }],
  ['SALE-3B', 'SUCCESS', '2026-12-03T02:00:00Z', { sku: 'GENSHIN60', pricePaid: 10000, trxCode: 'VCG-3B' }],
  ['SALE-3C', 'SUCCESS', '2026-12-03T03:00:00Z', { pricePaid: 20000, trxCode: 'VCG-3C', ...USD }],
  ['SALE-3D', 'INITIATED', '2026-12-03T04:00:00Z', USD],
  ['SALE-3E', 'CANCELLED', '2026-12-03T05:00:00Z', USD],
  // After the range: 2026-12-04 00:00 at +07:00.
  ['SALE-AFTER', 'SUCCESS', '2026-12-03T17:00:00Z', { pricePaid: 15000, trxCode: 'VCG-A', ...USD }],
];

/** The transactions of the range, in creation order (the transactions CSV's rows). */
export const SALES_IN_RANGE = SALES.map(([n]) => n).filter((n) => n !== 'SALE-BEFORE' && n !== 'SALE-AFTER');

export async function seedSales(e: E2E): Promise<void> {
  for (const [n, state, created, columns] of SALES) {
    const createdAt = at(created);
    await e.gw.store.insertTransaction(
      transactionRow(n, state, {
        createdAt,
        updatedAt: createdAt + 60_000,
        expiresAt: createdAt + 3_600_000,
        ...columns,
      }),
    );
  }
}

const line = (key: string, l: Omit<ReportLine, 'key' | 'profitIdr'>): ReportLine => ({
  key,
  ...l,
  profitIdr: l.revenueIdr - l.costIdr,
});

const none = { failed: 0, refunded: 0, open: 0, unpriced: 0 };

/** What the report of SALES_RANGE says per day. */
export const BY_DAY: ReportLine[] = [
  line('2026-12-01', { ...none, sold: 2, delivered: 2, revenueIdr: 34126, costIdr: 33000 }),
  line('2026-12-02', {
    ...none,
    sold: 3,
    delivered: 1,
    failed: 1,
    refunded: 1,
    revenueIdr: 55000,
    costIdr: 50000,
  }),
  line('2026-12-03', {
    ...none,
    sold: 3,
    delivered: 2,
    open: 1,
    unpriced: 1,
    revenueIdr: 17063,
    costIdr: 20000,
  }),
];

/** ... and per SKU. */
export const BY_SKU: ReportLine[] = [
  line('DIAMOND50', {
    ...none,
    sold: 6,
    delivered: 3,
    failed: 1,
    refunded: 1,
    open: 1,
    revenueIdr: 51189,
    costIdr: 53000,
  }),
  line('GENSHIN60', { ...none, sold: 1, delivered: 1, unpriced: 1, revenueIdr: 0, costIdr: 0 }),
  line('STEAMV50', { ...none, sold: 1, delivered: 1, revenueIdr: 55000, costIdr: 50000 }),
];

export const TOTAL: ReportLine = line('total', {
  sold: 8,
  delivered: 5,
  failed: 1,
  refunded: 1,
  open: 1,
  unpriced: 1,
  revenueIdr: 106189,
  costIdr: 103000,
});
