import { describe, expect, it } from 'vitest';
import type { OpenCommitment } from '../src/db/types.js';
import {
  aboutWait,
  expectedWaitMs,
  guardFigures,
  guardQueue,
  judgeQueue,
} from '../src/fulfilment/queue-guard.js';
import { Refusal } from '../src/fulfilment/refusal.js';
import { SupplySnapshot, supplyFigures } from '../src/fulfilment/supply-snapshot.js';

const MINUTE = 60_000;
/** The default budget: 200 calls per minute, each slot held a minute and a second. */
const DEFAULT = { limit: 200, windowMs: MINUTE };

describe('the expected wait for a new order', () => {
  it('is nothing without a queue', () => {
    expect(expectedWaitMs({ queued: 0, budget: DEFAULT })).toBe(0);
  });

  it('is the time the budget takes to send the orders ahead: queued × (window + margin) / limit', () => {
    // 200 per 61 s: 305 ms an order.
    expect(expectedWaitMs({ queued: 1, budget: DEFAULT })).toBe(305);
    expect(expectedWaitMs({ queued: 200, budget: DEFAULT })).toBe(61_000);
    expect(expectedWaitMs({ queued: 1967, budget: DEFAULT })).toBe(599_935);
    expect(expectedWaitMs({ queued: 1968, budget: DEFAULT })).toBe(600_240);
    // The margin is a fifth of a short window: 5 per 3.6 s.
    expect(expectedWaitMs({ queued: 10, budget: { limit: 5, windowMs: 3000 } })).toBe(7200);
    // 5 per 61 s: 12.2 s an order.
    expect(expectedWaitMs({ queued: 50, budget: { limit: 5, windowMs: MINUTE } })).toBe(610_000);
  });

  it('refuses above MAX_SUPPLIER_WAIT only, and never when it is 0', () => {
    const judge = (queued: number, maxWaitMs = 10 * MINUTE) =>
      judgeQueue({ queued, budget: DEFAULT, maxWaitMs });
    expect(judge(0)).toEqual({ kind: 'sell', waitMs: 0 });
    expect(judge(1967)).toEqual({ kind: 'sell', waitMs: 599_935 });
    expect(judge(1968)).toEqual({ kind: 'refuse', waitMs: 600_240 });
    expect(judge(1_000_000, 0)).toEqual({ kind: 'off' });
    // Exactly the limit sells.
    expect(judgeQueue({ queued: 10, budget: { limit: 5, windowMs: 3000 }, maxWaitMs: 7200 }).kind).toBe(
      'sell',
    );
  });

  it('says the wait in whole minutes from a minute, else seconds, rounded up', () => {
    expect(aboutWait(600_240)).toBe('11 min');
    expect(aboutWait(60_000)).toBe('1 min');
    expect(aboutWait(59_001)).toBe('60 s');
    expect(aboutWait(7200)).toBe('8 s');
  });
});

const group = (over: Partial<OpenCommitment>): OpenCommitment => ({
  state: 'QUEUED',
  hasTrxCode: false,
  priceOffered: null,
  maxPrice: 16_000,
  count: 1,
  ...over,
});

describe('the guards’ figures from one read of the open purchases', () => {
  it('counts the queued orders and what they will still be charged', () => {
    const groups = [
      group({ count: 3 }),
      group({ priceOffered: 15_000, count: 2 }),
      group({ state: 'ORDERING', priceOffered: 15_000, count: 4 }),
      group({ state: 'PROCESSING', hasTrxCode: true, priceOffered: 15_000, count: 7 }),
      group({ state: 'UNKNOWN', count: 1 }),
    ];
    expect(supplyFigures(groups)).toEqual({ committedIdr: 3 * 16_000 + 2 * 15_000, queuedOrders: 5 });
    expect(guardFigures(supplyFigures(groups), { budget: DEFAULT, maxWaitMs: 10 * MINUTE })).toEqual({
      committedIdr: 78_000,
      queuedOrders: 5,
      expectedWaitSeconds: 1.5,
      maxWaitSeconds: 600,
    });
    expect(guardFigures({ committedIdr: 0, queuedOrders: 0 }, { budget: DEFAULT, maxWaitMs: 0 })).toEqual({
      committedIdr: 0,
      queuedOrders: 0,
      expectedWaitSeconds: 0,
      maxWaitSeconds: null,
    });
  });
});

describe('the queue guard at init', () => {
  const budget = { limit: 5, windowMs: 3000 };
  it('refuses OOS with the reason queue, saying why, and tells the log the figures', async () => {
    const told: string[] = [];
    const guard = { maxWaitMs: 5000, budget, refused: (why: string) => told.push(why) };
    await expect(guardQueue(guard, async () => ({ queuedOrders: 6 }), 'DIAMOND50')).resolves.toBeUndefined();
    const refused = await guardQueue(guard, async () => ({ queuedOrders: 10 }), 'DIAMOND50').catch((e) => e);
    expect(refused).toBeInstanceOf(Refusal);
    expect(refused).toMatchObject({
      code: 'OOS',
      reason: 'queue',
      message:
        'DIAMOND50 cannot be delivered in time now: the supplier queue is too long: a new order would wait about 8 s (the most allowed is 5 s)',
    });
    expect(told).toEqual([
      'init of DIAMOND50 refused: 10 orders are queued for the supplier budget (5 calls per 3 s): a new order would wait about 7 s, longer than MAX_SUPPLIER_WAIT (5 s)',
    ]);
  });

  it('reads nothing when off', async () => {
    let reads = 0;
    const figures = async () => {
      reads++;
      return { queuedOrders: 1_000_000 };
    };
    await guardQueue({ maxWaitMs: 0, budget }, figures, 'DIAMOND50');
    expect(reads).toBe(0);
  });
});

describe('the shared snapshot', () => {
  function reader() {
    const pending: ((groups: OpenCommitment[]) => void)[] = [];
    let queued = 0;
    return {
      reads: () => pending.length,
      set: (n: number) => {
        queued = n;
      },
      read: () =>
        new Promise<OpenCommitment[]>((resolve) => {
          const answer = queued;
          pending.push(() => resolve(answer > 0 ? [group({ count: answer })] : []));
        }),
      answer: (i: number) => pending[i]?.([]),
    };
  }

  it('answers every ask within a second from one read, and shares a read under way', async () => {
    let at = 1_000_000;
    const r = reader();
    const snapshot = new SupplySnapshot({ read: r.read, now: () => at });
    r.set(2);
    const first = snapshot.current();
    const second = snapshot.current();
    expect(r.reads()).toBe(1);
    r.answer(0);
    expect(await first).toEqual({ committedIdr: 32_000, queuedOrders: 2, readAt: 1_000_000 });
    expect(await second).toBe(await first);

    r.set(5);
    at += 999;
    expect((await snapshot.current()).queuedOrders).toBe(2);
    expect(r.reads()).toBe(1);
    at += 1;
    const third = snapshot.current();
    expect(r.reads()).toBe(2);
    r.answer(1);
    expect(await third).toEqual({ committedIdr: 80_000, queuedOrders: 5, readAt: 1_001_000 });

    // A clock that stepped back reads again.
    at -= 10_000;
    void snapshot.current();
    expect(r.reads()).toBe(3);
  });

  it('reads at each ask with an age of 0, and keeps no failed read', async () => {
    let fail = true;
    let reads = 0;
    const snapshot = new SupplySnapshot({
      read: async () => {
        reads++;
        if (fail) throw new Error('database away');
        return [group({ count: reads })];
      },
      now: () => 5,
      maxAgeMs: 0,
    });
    await expect(snapshot.current()).rejects.toThrow('database away');
    fail = false;
    expect((await snapshot.current()).queuedOrders).toBe(2);
    expect((await snapshot.current()).queuedOrders).toBe(3);
  });
});
