import { describe, expect, it } from 'vitest';
import type {
  Endpoint,
  Exchange,
  History,
  StoredTransaction,
  SupplierOrder,
} from '../bench/campaign/history.js';
import { checkHistory, type Violation } from '../bench/campaign/invariants.js';

// The campaign's checker on small fabricated histories: each kind of violation is caught, and a
// clean history passes.

const T0 = 1_700_000_000_000;

/** A history written by hand, its sends, answers and kills numbered in the order they are added. */
class Story {
  readonly h: History = { purchases: [], exchanges: [], kills: [], orders: [], attempts: [], stored: [] };
  #tick = 0;
  #ms = T0;

  /** The fabricated wall clock, moved on by `ms`. */
  #clock(ms: number): number {
    this.#ms += ms;
    return this.#ms;
  }

  buy(n: string, voucher = false): this {
    this.h.purchases.push({
      transactionNumber: n,
      round: 1,
      sku: voucher ? 'STEAMV50' : 'DIAMOND50',
      voucher,
      plan: 'buy',
    });
    return this;
  }

  /** An answer (status null: none), sent and received in the order written. */
  say(n: string, endpoint: Endpoint, status: number | null, body: unknown = {}): this {
    const exchange: Exchange = {
      sentTick: ++this.#tick,
      answeredTick: ++this.#tick,
      round: 1,
      instance: 'A',
      endpoint,
      transactionNumber: n,
      sentAt: this.#clock(10),
      answeredAt: this.#clock(10),
      status,
      body: typeof body === 'string' ? body : JSON.stringify(body),
    };
    this.h.exchanges.push(exchange);
    return this;
  }

  init(n: string, token = `tok-${n}`): this {
    return this.say(n, 'init', 200, { transactionNumber: n, transactionToken: token, status: 'INITIATED' });
  }

  delivered(n: string, trxCode: string, code?: string): this {
    const body = {
      transactionNumber: n,
      status: 'SUCCESS',
      referenceId: trxCode,
      ...(code ? { voucher: { code } } : {}),
    };
    return this.say(n, 'topup', 200, body);
  }

  kill(): this {
    this.h.kills.push({ round: 1, instance: 'A', at: this.#clock(10), tick: ++this.#tick, how: 'sigkill' });
    return this;
  }

  /** A supplier order, delivered (status 2) at the time of writing unless said otherwise. */
  order(n: string, trxCode: string, over: Partial<SupplierOrder> = {}): this {
    const at = new Date(this.#clock(1)).toISOString();
    this.h.orders.push({
      trxCode,
      refId: `RG-${n}`,
      status: 2,
      voucherCode: null,
      sn: `SN-${trxCode}`,
      history: [
        { status_name: 'Processing', timestamp: at },
        { status_name: 'Success', timestamp: at },
      ],
      ...over,
    });
    this.h.attempts.push({ refId: `RG-${n}`, at: this.#ms });
    return this;
  }

  stored(n: string, states: string[], over: Partial<StoredTransaction> = {}): this {
    const events = states
      .slice(1)
      .map((to, i) => ({ from: states[i] ?? '', to, cause: 'razer', at: T0 + i, detail: null }));
    this.h.stored.push({
      transactionNumber: n,
      refId: `RG-${n}`,
      state: states.at(-1) ?? 'INITIATED',
      token: `tok-${n}`,
      isVoucher: false,
      trxCode: null,
      voucherCode: null,
      attention: false,
      orderAttempts: 0,
      resends: 0,
      events,
      ...over,
    });
    return this;
  }
}

const DELIVERED = ['INITIATED', 'QUEUED', 'ORDERING', 'PROCESSING', 'SUCCESS'];
const FAILED = ['INITIATED', 'QUEUED', 'ORDERING', 'PROCESSING', 'FAILED'];

/** A clean history: a pending answer across a kill (first), a top-up, a voucher, a failure, a cancel. */
function clean(): Story {
  const s = new Story();
  s.buy('P1').init('P1').say('P1', 'topup', 408, { transactionNumber: 'P1', status: 'PENDING' });
  s.say('P1', 'topup', null).kill().order('P1', 'VCG-4').delivered('P1', 'VCG-4').stored('P1', DELIVERED);
  s.say('P1', 'cancel', 400, { code: 'NOT_ALLOW_CANCEL', message: 'sent' });
  s.buy('T1').init('T1').order('T1', 'VCG-1').delivered('T1', 'VCG-1').stored('T1', DELIVERED);
  s.say('T1', 'query', 200, { transactionNumber: 'T1', status: 'SUCCESS', referenceId: 'VCG-1' });
  s.buy('V1', true)
    .init('V1')
    .order('V1', 'VCG-2', { voucherCode: 'CODE-2', sn: 'CODE-2' })
    .delivered('V1', 'VCG-2', 'CODE-2')
    .stored('V1', DELIVERED, { isVoucher: true });
  s.buy('F1')
    .init('F1')
    .order('F1', 'VCG-3', {
      status: 3,
      history: [{ status_name: 'Failed', timestamp: new Date(T0).toISOString() }],
    })
    .say('F1', 'topup', 400, { code: 'FAILED', message: 'invalid player' })
    .stored('F1', FAILED);
  s.buy('C1')
    .init('C1')
    .say('C1', 'cancel', 200, { transactionNumber: 'C1', status: 'CANCELLED' })
    .say('C1', 'topup', 400, { code: 'FAILED', message: 'the transaction was cancelled' })
    .stored('C1', ['INITIATED', 'CANCELLED']);
  return s;
}

const found = (violations: Violation[]) => violations.map((v) => [v.invariant, v.transactionNumber]);

describe('the campaign checker', () => {
  it('passes a clean history', () => {
    expect(checkHistory(clean().h)).toEqual([]);
  });

  it('invariant 1: a second order for one transaction', () => {
    const s = clean().order('T1', 'VCG-9');
    expect(found(checkHistory(s.h))).toEqual([[1, 'T1']]);
  });

  it('invariant 1: an order for a transaction never topped up, or stored as cancelled', () => {
    const s = clean();
    s.buy('A1').init('A1').order('A1', 'VCG-8', { status: 3 }).stored('A1', ['INITIATED', 'EXPIRED']);
    expect(found(checkHistory(s.h))).toEqual([
      [1, 'A1'],
      [1, 'A1'],
    ]);
  });

  it('invariant 1: a 200 without any supplier order', () => {
    const s = new Story().buy('T1').init('T1').delivered('T1', 'VCG-1').stored('T1', DELIVERED);
    expect(found(checkHistory(s.h))).toEqual([[1, 'T1']]);
  });

  it('invariant 2: a 200, then a 400', () => {
    const s = clean().say('T1', 'query', 400, { code: 'FAILED', message: 'refunded' });
    expect(found(checkHistory(s.h))).toContainEqual([2, 'T1']);
  });

  it('invariant 2: a 408 after a definitive answer, and a cancel after NOT_ALLOW_CANCEL', () => {
    const s = clean()
      .say('F1', 'query', 408, { transactionNumber: 'F1', status: 'PENDING' })
      .say('P1', 'cancel', 200, { transactionNumber: 'P1', status: 'CANCELLED' });
    expect(found(checkHistory(s.h))).toEqual(expect.arrayContaining([[2, 'F1']]));
    expect(checkHistory(s.h).filter((v) => v.transactionNumber === 'P1' && v.invariant === 2)).toHaveLength(
      2,
    );
  });

  it('invariant 2: a repeated init that is not the first answer byte for byte', () => {
    const s = clean().say('T1', 'init', 200, {
      transactionNumber: 'T1',
      transactionToken: 'other',
      status: 'INITIATED',
    });
    expect(found(checkHistory(s.h))).toEqual([[2, 'T1']]);
  });

  it('invariant 3: a 200 whose order was not delivered', () => {
    const s = new Story().buy('T1').init('T1');
    s.order('T1', 'VCG-1', {
      status: 4,
      history: [{ status_name: 'Refund', timestamp: new Date(T0).toISOString() }],
    });
    s.delivered('T1', 'VCG-1').stored('T1', DELIVERED);
    expect(found(checkHistory(s.h))).toEqual([[3, 'T1']]);
  });

  it('invariant 3: a 200 before the supplier delivered', () => {
    const s = new Story()
      .buy('T1')
      .init('T1')
      .delivered('T1', 'VCG-1')
      .order('T1', 'VCG-1')
      .stored('T1', DELIVERED);
    expect(found(checkHistory(s.h))).toEqual([[3, 'T1']]);
  });

  it('invariant 3: a voucher answered 200 without its code, or with another code', () => {
    const without = new Story().buy('V1', true).init('V1');
    without.order('V1', 'VCG-2', { voucherCode: 'CODE-2' }).delivered('V1', 'VCG-2').stored('V1', DELIVERED);
    expect(found(checkHistory(without.h))).toEqual([[3, 'V1']]);

    const wrong = new Story().buy('V1', true).init('V1');
    wrong
      .order('V1', 'VCG-2', { voucherCode: 'CODE-2' })
      .delivered('V1', 'VCG-2', 'CODE-X')
      .stored('V1', DELIVERED);
    expect(checkHistory(wrong.h)).toEqual([
      expect.objectContaining({ invariant: 3, message: expect.stringMatching(/CODE-X/) }),
    ]);

    const none = new Story().buy('V1', true).init('V1');
    none
      .order('V1', 'VCG-2', { voucherCode: '', sn: ' ' })
      .delivered('V1', 'VCG-2', 'CODE-2')
      .stored('V1', DELIVERED);
    expect(found(checkHistory(none.h))).toEqual([[3, 'V1']]);
  });

  it('invariant 3: a 400 for a delivered order', () => {
    const s = new Story().buy('T1').init('T1').order('T1', 'VCG-1');
    s.say('T1', 'topup', 400, { code: 'FAILED', message: 'no' }).stored('T1', FAILED);
    expect(found(checkHistory(s.h))).toEqual([[3, 'T1']]);
  });

  it('invariant 4: a state moving backwards, out of a final state, or events that do not chain', () => {
    const back = clean();
    back.h.stored = back.h.stored.filter((t) => t.transactionNumber !== 'T1');
    back.stored('T1', [...DELIVERED, 'PROCESSING', 'SUCCESS']);
    expect(checkHistory(back.h)).toEqual([
      expect.objectContaining({
        invariant: 4,
        transactionNumber: 'T1',
        message: expect.stringMatching(/SUCCESS -> PROCESSING/),
      }),
    ]);

    const gap = new Story().stored('G1', ['INITIATED', 'QUEUED', 'ORDERING', 'PROCESSING']);
    gap.h.stored[0]?.events.splice(1, 1);
    expect(checkHistory(gap.h)).toEqual([
      expect.objectContaining({
        invariant: 4,
        transactionNumber: 'G1',
        message: expect.stringMatching(/from ORDERING while the state was QUEUED/),
      }),
    ]);

    const moved = new Story().stored('M1', ['INITIATED', 'QUEUED'], { state: 'PROCESSING' });
    expect(found(checkHistory(moved.h))).toEqual([[4, 'M1']]);
  });

  it('invariant 5: an answer given before the kill, contradicted after the restart', () => {
    const s = clean().kill().say('T1', 'query', 408, { transactionNumber: 'T1', status: 'PENDING' });
    const violations = checkHistory(s.h);
    expect(found(violations)).toEqual([[5, 'T1']]);
    expect(violations[0]?.evidence.some((e) => e.startsWith('kill of A'))).toBe(true);
  });

  it('invariant 5: an acknowledged init lost, or forgotten after a restart', () => {
    const lost = clean();
    lost.buy('L1').init('L1');
    expect(found(checkHistory(lost.h))).toEqual([[5, 'L1']]);

    const forgotten = clean()
      .kill()
      .say('T1', 'query', 400, { code: 'ORIGIN_NOT_FOUND', message: 'unknown' });
    expect(found(checkHistory(forgotten.h))).toEqual(expect.arrayContaining([[5, 'T1']]));
  });

  it('invariant 5: a definitive answer that is not the stored state', () => {
    const s = new Story().buy('F1').init('F1').say('F1', 'topup', 400, { code: 'OOS', message: 'price' });
    s.stored('F1', ['INITIATED', 'QUEUED', 'ORDERING', 'UNKNOWN']);
    expect(found(checkHistory(s.h))).toEqual([[5, 'F1']]);
  });
});
