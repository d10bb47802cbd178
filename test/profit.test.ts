import { describe, expect, it } from 'vitest';
import {
  formatAmount,
  formatRate,
  minorDigits,
  parseDecimal,
  RATE_DECIMALS,
  toIdr,
} from '../src/config/money.js';
import { TRANSACTION_STATES } from '../src/db/vocabulary.js';
import { type FiguresRow, figuresText, type SaleFigures, saleFigures } from '../src/fulfilment/profit.js';
import type { State } from '../src/fulfilment/states.js';

// The profit rule (src/fulfilment/profit.ts) for every state, and the integer money it rests on.

/** 0.99 USD at 16250.5 IDR, as an init records it. */
const REVENUE = {
  revenueMinor: 99,
  revenueCurrency: 'USD',
  revenueRateE6: 16_250_500_000,
  revenueRateSet: '2026-12-01',
  revenueIdr: 16088,
};
const NO_REVENUE = {
  revenueMinor: null,
  revenueCurrency: null,
  revenueRateE6: null,
  revenueRateSet: null,
  revenueIdr: null,
};

const row = (state: State, over: Partial<FiguresRow> = {}): FiguresRow => ({
  state,
  priceOffered: 15000,
  pricePaid: 15000,
  ...REVENUE,
  ...over,
});

const RECORDED = { amount: '0.99', currency: 'USD', rate: '16250.5', rateSet: '2026-12-01', idr: 16088 };

describe('integer money', () => {
  it('reads decimals exactly, as text or YAML numbers, within the digits allowed', () => {
    expect(parseDecimal('0.99', 2, 1000)).toEqual({ ok: true, scaled: 99n });
    expect(parseDecimal(0.99, 2, 1000)).toEqual({ ok: true, scaled: 99n });
    expect(parseDecimal('0.990', 2, 1000)).toEqual({ ok: true, scaled: 99n });
    expect(parseDecimal(' 15000 ', 2, 1_000_000)).toEqual({ ok: true, scaled: 1_500_000n });
    expect(parseDecimal(16250.123456, RATE_DECIMALS, 1_000_000)).toEqual({
      ok: true,
      scaled: 16_250_123_456n,
    });
    // 0.1 + 0.2 is not 0.3 in floating point; as a decimal it is refused, never rounded.
    expect(parseDecimal(0.1 + 0.2, 2, 1000)).toMatchObject({ ok: false, reason: /at most 2 decimals/ });
    expect(parseDecimal('0.999', 2, 1000)).toMatchObject({
      ok: false,
      reason: /at most 2 decimals, got 0.999/,
    });
    expect(parseDecimal('1.5', 0, 1000)).toMatchObject({ ok: false, reason: /whole number/ });
    expect(parseDecimal('0', 2, 1000)).toMatchObject({ ok: false, reason: /greater than 0/ });
    expect(parseDecimal('-1', 2, 1000)).toMatchObject({ ok: false, reason: /decimal number/ });
    expect(parseDecimal(1e-7, 6, 1000)).toMatchObject({ ok: false, reason: /decimal number/ });
    expect(parseDecimal('1,5', 2, 1000)).toMatchObject({ ok: false });
    expect(parseDecimal('1001', 2, 1000)).toMatchObject({ ok: false, reason: /at most 1,000/ });
    expect(parseDecimal(null, 2, 1000)).toMatchObject({ ok: false });
  });

  it('knows the minor digits of ISO 4217: two unless the currency says otherwise', () => {
    expect([minorDigits('USD'), minorDigits('MYR'), minorDigits('IDR')]).toEqual([2, 2, 2]);
    expect([minorDigits('JPY'), minorDigits('KRW'), minorDigits('VND')]).toEqual([0, 0, 0]);
    expect([minorDigits('KWD'), minorDigits('BHD')]).toEqual([3, 3]);
  });

  it('converts to whole IDR rounded half up, in integers', () => {
    // 0.99 × 16250.5 = 16087.995
    expect(toIdr(99, 'USD', 16_250_500_000)).toBe(16088);
    // 0.01 × 150 = 1.5 -> 2; 0.01 × 149.999999 = 1.49999999 -> 1
    expect(toIdr(1, 'USD', 150_000_000)).toBe(2);
    expect(toIdr(1, 'USD', 149_999_999)).toBe(1);
    // 1.005 KWD × 53000.5 = 53265.5025
    expect(toIdr(1005, 'KWD', 53_000_500_000)).toBe(53266);
    expect(toIdr(100, 'JPY', 105_123_456)).toBe(10512);
    expect(toIdr(1_500_000, 'IDR', 1_000_000)).toBe(15000);
    expect(toIdr(50, 'IDR', 1_000_000)).toBe(1); // 0.50 IDR: half up
    // The largest amount at the largest rate is still counted exactly.
    expect(toIdr(100_000_000_000, 'USD', 1_000_000_000_000)).toBe(1_000_000_000_000_000);
    // Where floating point would be off: 1.15 × 100 is 114.99999999999999 in binary.
    expect(toIdr(115, 'USD', 100_000_000)).toBe(115);
    expect(() => toIdr(1.5, 'USD', 1)).toThrow(RangeError);
  });

  it('writes amounts and rates back as the file would', () => {
    expect(formatAmount(99, 'USD')).toBe('0.99');
    expect(formatAmount(100, 'USD')).toBe('1.00');
    expect(formatAmount(1005, 'KWD')).toBe('1.005');
    expect(formatAmount(100, 'JPY')).toBe('100');
    expect(formatRate(16_250_500_000)).toBe('16250.5');
    expect(formatRate(1_000_000)).toBe('1');
    expect(formatRate(105_123_456)).toBe('105.123456');
  });
});

describe('the profit rule', () => {
  it('covers every state: open ones have no figure yet, SUCCESS earns, the others earn and cost nothing', () => {
    const outcomes = Object.fromEntries(TRANSACTION_STATES.map((s) => [s, saleFigures(row(s))]));
    const open: SaleFigures = {
      outcome: 'open',
      revenue: RECORDED,
      revenueIdr: null,
      costIdr: null,
      costFrom: 'open',
      profitIdr: null,
    };
    const nothing: SaleFigures = {
      outcome: 'not-delivered',
      revenue: RECORDED,
      revenueIdr: 0,
      costIdr: 0,
      costFrom: 'nothing-charged',
      profitIdr: 0,
    };
    expect(outcomes).toEqual({
      INITIATED: open,
      QUEUED: open,
      ORDERING: open,
      PROCESSING: open,
      UNKNOWN: open,
      SUCCESS: {
        outcome: 'delivered',
        revenue: RECORDED,
        revenueIdr: 16088,
        costIdr: 15000,
        costFrom: 'supplier',
        profitIdr: 1088,
      },
      FAILED: nothing,
      CANCELLED: nothing,
      EXPIRED: nothing,
    });
  });

  it("costs a delivered sale what the supplier charged, else the order's price; a loss is negative", () => {
    // grand_total at delivery or selling_total at acceptance: pricePaid.
    expect(saleFigures(row('SUCCESS', { pricePaid: 14500, priceOffered: 15000 }))).toMatchObject({
      costIdr: 14500,
      costFrom: 'supplier',
      profitIdr: 1588,
    });
    // The supplier said nothing of what it charged: the price sent with the order.
    expect(saleFigures(row('SUCCESS', { pricePaid: null, priceOffered: 15000 }))).toMatchObject({
      costIdr: 15000,
      costFrom: 'order-price',
      profitIdr: 1088,
    });
    expect(saleFigures(row('SUCCESS', { pricePaid: null, priceOffered: null }))).toMatchObject({
      costIdr: null,
      costFrom: 'not-recorded',
      revenueIdr: 16088,
      profitIdr: null,
    });
    expect(saleFigures(row('SUCCESS', { pricePaid: 20000 }))).toMatchObject({ profitIdr: -3912 });
  });

  it('earns nothing and costs nothing for a failed or refunded sale, even one the supplier charged first', () => {
    // Accepted (selling_total 15000 recorded), then failed or refunded: given back, so 0.
    const refunded = saleFigures(row('FAILED', { pricePaid: 15000 }));
    expect(refunded).toMatchObject({ revenueIdr: 0, costIdr: 0, profitIdr: 0 });
    // What it would have earned stays in view.
    expect(refunded.revenue).toEqual(RECORDED);
    // Refused before anything was sent.
    expect(saleFigures(row('FAILED', { pricePaid: null, priceOffered: null }))).toMatchObject({
      costIdr: 0,
      profitIdr: 0,
    });
  });

  it('reports a sale recorded without revenue (before the columns, or no revenue in the mapping) as not recorded', () => {
    const old = saleFigures(row('SUCCESS', NO_REVENUE));
    expect(old).toEqual({
      outcome: 'delivered',
      revenue: null,
      revenueIdr: null,
      costIdr: 15000,
      costFrom: 'supplier',
      profitIdr: null,
    });
    expect(figuresText(old)).toEqual({
      cost: 'IDR 15,000 (charged by the supplier)',
      revenue: 'not recorded',
      profit: 'not recorded',
    });
    // A part of a revenue is never taken for the whole.
    expect(saleFigures(row('SUCCESS', { ...REVENUE, revenueRateE6: null })).revenue).toBeNull();
    // Not delivered: nothing earned whatever was recorded.
    expect(saleFigures(row('EXPIRED', NO_REVENUE))).toMatchObject({ revenue: null, profitIdr: 0 });
  });

  it('says the figures in words: cost, revenue with its rate and date, profit', () => {
    expect(figuresText(saleFigures(row('SUCCESS')))).toEqual({
      cost: 'IDR 15,000 (charged by the supplier)',
      revenue: '0.99 USD at 16250.5 IDR (rate set 2026-12-01) = IDR 16,088',
      profit: 'IDR 1,088',
    });
    expect(figuresText(saleFigures(row('FAILED')))).toEqual({
      cost: 'IDR 0 (not delivered: nothing charged)',
      revenue:
        'IDR 0 (not delivered; if delivered: 0.99 USD at 16250.5 IDR (rate set 2026-12-01) = IDR 16,088)',
      profit: 'IDR 0',
    });
    expect(figuresText(saleFigures(row('PROCESSING')))).toEqual({
      cost: 'not final yet',
      revenue: 'not final yet; if delivered: 0.99 USD at 16250.5 IDR (rate set 2026-12-01) = IDR 16,088',
      profit: 'not final yet',
    });
    const idr = {
      revenueMinor: 5_850_000,
      revenueCurrency: 'IDR',
      revenueRateE6: 1_000_000,
      revenueRateSet: null,
      revenueIdr: 58500,
    };
    expect(figuresText(saleFigures(row('SUCCESS', { ...idr, pricePaid: 55000 })))).toEqual({
      cost: 'IDR 55,000 (charged by the supplier)',
      revenue: 'IDR 58,500',
      profit: 'IDR 3,500',
    });
  });
});
