import { describe, expect, it } from 'vitest';
import {
  committedIdr,
  judgeBalance,
  type OpenCommitment,
  stillToCharge,
} from '../src/fulfilment/balance-guard.js';

const open = (over: Partial<OpenCommitment>): OpenCommitment => ({
  state: 'QUEUED',
  hasTrxCode: false,
  priceOffered: null,
  maxPrice: 16_000,
  count: 1,
  ...over,
});

describe('what an open purchase will still be charged', () => {
  it('counts a queued purchase at its ceiling until an order price is known, then at that price', () => {
    expect(stillToCharge(open({ state: 'QUEUED' }))).toBe(16_000);
    expect(stillToCharge(open({ state: 'QUEUED', priceOffered: 15_000 }))).toBe(15_000);
  });

  it('counts nothing for an order being sent or of unknown fate: it may be charged and in the balance already', () => {
    expect(stillToCharge(open({ state: 'ORDERING', priceOffered: 15_000 }))).toBe(0);
    expect(stillToCharge(open({ state: 'UNKNOWN', priceOffered: 15_500 }))).toBe(0);
    expect(stillToCharge(open({ state: 'UNKNOWN' }))).toBe(0);
  });

  it('counts nothing for an order Mitra accepted (charged at acceptance)', () => {
    expect(stillToCharge(open({ state: 'PROCESSING', priceOffered: 15_000, hasTrxCode: true }))).toBe(0);
    expect(stillToCharge(open({ state: 'PROCESSING', priceOffered: 15_000 }))).toBe(0);
    expect(stillToCharge(open({ state: 'UNKNOWN', priceOffered: 15_000, hasTrxCode: true }))).toBe(0);
  });

  it('counts nothing for a purchase not paid yet, or closed', () => {
    for (const state of ['INITIATED', 'SUCCESS', 'FAILED', 'CANCELLED', 'EXPIRED'] as const)
      expect(stillToCharge(open({ state, priceOffered: 15_000 }))).toBe(0);
  });

  it('sums the groups, each times its count', () => {
    expect(
      committedIdr([
        open({ state: 'QUEUED', count: 3 }),
        open({ state: 'QUEUED', priceOffered: 15_000, count: 2 }),
        open({ state: 'ORDERING', priceOffered: 15_000, count: 4 }),
        open({ state: 'PROCESSING', priceOffered: 15_000, hasTrxCode: true, count: 10 }),
      ]),
    ).toBe(3 * 16_000 + 2 * 15_000);
    expect(committedIdr([])).toBe(0);
  });
});

describe('the balance guard', () => {
  const now = 1_000_000_000;
  const maxAgeMs = 15 * 60_000;
  const judge = (idr: number, committed: number, ageMs = 0, price = 15_000) =>
    judgeBalance({ reading: { idr, at: now - ageMs }, committed, price, now, maxAgeMs });

  it('sells while the balance left after open purchases pays the price, exactly included', () => {
    expect(judge(100_000, 0)).toEqual({ kind: 'sell' });
    expect(judge(30_000, 15_000)).toEqual({ kind: 'sell' });
  });

  it('refuses when what is left is below the price', () => {
    expect(judge(29_999, 15_000)).toEqual({ kind: 'refuse', available: 14_999 });
    expect(judge(10_000, 0)).toEqual({ kind: 'refuse', available: 10_000 });
    expect(judge(10_000, 20_000)).toEqual({ kind: 'refuse', available: -10_000 });
  });

  it('never refuses on a reading older than the set age, nor without any reading', () => {
    expect(judge(0, 0, maxAgeMs)).toEqual({ kind: 'refuse', available: 0 });
    expect(judge(0, 0, maxAgeMs + 1)).toEqual({ kind: 'stale', ageMs: maxAgeMs + 1 });
    // Read "in the future": the clock stepped back, the reading's age is unknown.
    expect(judge(0, 0, -1)).toEqual({ kind: 'stale', ageMs: -1 });
    expect(judgeBalance({ reading: null, committed: 0, price: 15_000, now, maxAgeMs })).toEqual({
      kind: 'unknown',
    });
  });
});
