import { describe, expect, it } from 'vitest';
import type { TransactionRow } from '../src/db/types.js';
import { type Resolution, resolutionRefusal } from '../src/fulfilment/operator.js';
import type { State } from '../src/fulfilment/states.js';
import { transactionRow } from './helpers/fixtures.js';

const row = (state: State, over: Partial<TransactionRow> = {}): TransactionRow => ({
  razerId: null,
  userIp: null,
  countryCode: null,
  customParam: null,
  isVoucher: false,
  trxCode: 'TRX-1',
  orderAttempts: 1,
  resends: 0,
  priceOffered: null,
  pricePaid: null,
  voucherCode: null,
  failureCode: null,
  failureReason: null,
  deadlineAt: null,
  toppedUpAt: null,
  nextCheckAt: null,
  checks: 0,
  attention: false,
  attentionReason: null,
  queriesRepeated: 0,
  lastQueriedAt: null,
  revenueMinor: null,
  revenueCurrency: null,
  revenueRateE6: null,
  revenueRateSet: null,
  revenueIdr: null,
  ...transactionRow('OP-1', state),
  ...over,
});

const delivered: Resolution = { outcome: 'delivered', reason: 'confirmed' };
const failed: Resolution = { outcome: 'failed', reason: 'refunded' };
const refusal = (r: TransactionRow, res: Resolution) => {
  const e = resolutionRefusal(r, res);
  return e && [e.status, e.code, e.message];
};

describe('which transactions an operator may resolve', () => {
  it('takes an open transaction that went to the supplier, either way', () => {
    for (const state of ['ORDERING', 'UNKNOWN', 'PROCESSING'] as const) {
      expect(refusal(row(state), delivered)).toBeNull();
      expect(refusal(row(state), failed)).toBeNull();
    }
  });

  it('never touches a final state, nor one never topped up', () => {
    for (const state of ['SUCCESS', 'FAILED', 'CANCELLED', 'EXPIRED'] as const)
      expect(refusal(row(state, { attention: true }), failed)).toEqual([
        409,
        'CONFLICT',
        `OP-1 is already ${state}; a final state never changes`,
      ]);
    expect(refusal(row('INITIATED'), failed)?.[0]).toBe(409);
  });

  it('takes a QUEUED one only when flagged, and only as failed: nothing was ordered', () => {
    expect(refusal(row('QUEUED'), failed)?.[2]).toMatch(/not sent to the supplier yet/);
    expect(refusal(row('QUEUED', { attention: true }), failed)).toBeNull();
    expect(refusal(row('QUEUED', { attention: true }), delivered)?.[2]).toMatch(/cannot be delivered/);
  });

  it('needs a voucher code for a voucher, and a trx code Razer can be given', () => {
    expect(refusal(row('PROCESSING', { isVoucher: true }), delivered)?.slice(0, 2)).toEqual([400, 'INVALID']);
    expect(refusal(row('PROCESSING', { isVoucher: true }), { ...delivered, voucherCode: 'V-1' })).toBeNull();
    expect(refusal(row('UNKNOWN', { trxCode: null }), delivered)?.[2]).toMatch(/needs the trxCode/);
    expect(refusal(row('UNKNOWN', { trxCode: null }), { ...delivered, trxCode: 'T-9' })).toBeNull();
    expect(refusal(row('UNKNOWN', { trxCode: null }), failed)).toBeNull();
    expect(refusal(row('PROCESSING'), { ...delivered, trxCode: 'OTHER' })?.[2]).toMatch(
      /already has trx_code TRX-1/,
    );
  });
});

describe('a resolution decided on a state the transaction has left', () => {
  it('is refused (409) when seenState differs, taken when it matches or is absent', () => {
    expect(refusal(row('PROCESSING'), { ...failed, seenState: 'QUEUED' })).toEqual([
      409,
      'CONFLICT',
      'OP-1 is PROCESSING now, not QUEUED as when you decided; look again',
    ]);
    expect(refusal(row('PROCESSING'), { ...failed, seenState: 'UNKNOWN' })?.[0]).toBe(409);
    expect(refusal(row('PROCESSING'), { ...failed, seenState: 'PROCESSING' })).toBeNull();
    expect(refusal(row('PROCESSING'), failed)).toBeNull();
  });
});
