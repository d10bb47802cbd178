import { describe, expect, it } from 'vitest';
import type { OpenCommitment } from '../src/db/types.js';
import {
  aboutWait,
  expectedWaitMs,
  guardFigures,
  guardQueue,
  judgeQueue,
  queueVerdict,
} from '../src/fulfilment/queue-guard.js';
import { Refusal } from '../src/fulfilment/refusal.js';
import { SupplySnapshot, type SupplyUnreadReport, supplyFigures } from '../src/fulfilment/supply-snapshot.js';

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
    const view = { figures: { ...supplyFigures(groups), readAt: 7 }, unread: null };
    expect(guardFigures(view, { budget: DEFAULT, maxWaitMs: 10 * MINUTE })).toEqual({
      committedIdr: 78_000,
      queuedOrders: 5,
      expectedWaitSeconds: 1.5,
      maxWaitSeconds: 600,
      unread: null,
    });
    const none = { figures: { committedIdr: 0, queuedOrders: 0, readAt: 7 }, unread: null };
    expect(guardFigures(none, { budget: DEFAULT, maxWaitMs: 0 })).toEqual({
      committedIdr: 0,
      queuedOrders: 0,
      expectedWaitSeconds: 0,
      maxWaitSeconds: null,
      unread: null,
    });
  });

  it('shows the figures unknown, with the reason, when the open purchases cannot be read', () => {
    const unread = { reason: 'canceling statement due to statement timeout', since: 1000 };
    expect(guardFigures({ figures: null, unread }, { budget: DEFAULT, maxWaitMs: 10 * MINUTE })).toEqual({
      committedIdr: null,
      queuedOrders: null,
      expectedWaitSeconds: null,
      maxWaitSeconds: 600,
      unread: { ...unread, figuresReadAt: null },
    });
    // The last good figures, kept: shown, with when they were read.
    const kept = { committedIdr: 16_000, queuedOrders: 1, readAt: 500 };
    expect(guardFigures({ figures: kept, unread }, { budget: DEFAULT, maxWaitMs: 0 })).toEqual({
      committedIdr: 16_000,
      queuedOrders: 1,
      expectedWaitSeconds: 0.3,
      maxWaitSeconds: null,
      unread: { ...unread, figuresReadAt: 500 },
    });
  });

  it('says the queue guard’s verdict: off, unknown, over or under its limit', () => {
    const at = (queued: number | null, maxWaitMs = 600 * 1000) =>
      queueVerdict(
        guardFigures(
          queued === null
            ? { figures: null, unread: { reason: 'x', since: 0 } }
            : { figures: { committedIdr: 0, queuedOrders: queued, readAt: 0 }, unread: null },
          { budget: DEFAULT, maxWaitMs },
        ),
      );
    expect(at(0, 0)).toBe('off');
    expect(at(null, 0)).toBe('off');
    expect(at(null)).toBe('unknown');
    expect(at(1967)).toBe('under');
    expect(at(1968)).toBe('over');
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

  it('judges nothing without figures (the open purchases could not be read): the sale goes through', async () => {
    const told: string[] = [];
    const guard = { maxWaitMs: 5000, budget, refused: (why: string) => told.push(why) };
    await expect(guardQueue(guard, async () => null, 'DIAMOND50')).resolves.toBeUndefined();
    expect(told).toEqual([]);
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
    expect(await first).toEqual({
      figures: { committedIdr: 32_000, queuedOrders: 2, readAt: 1_000_000 },
      unread: null,
    });
    expect(await second).toBe(await first);

    r.set(5);
    at += 999;
    expect((await snapshot.current()).figures?.queuedOrders).toBe(2);
    expect(r.reads()).toBe(1);
    at += 1;
    const third = snapshot.current();
    expect(r.reads()).toBe(2);
    r.answer(1);
    expect(await third).toEqual({
      figures: { committedIdr: 80_000, queuedOrders: 5, readAt: 1_001_000 },
      unread: null,
    });

    // A clock that stepped back reads again.
    at -= 10_000;
    void snapshot.current();
    expect(r.reads()).toBe(3);
  });

  it('reads at each ask with an age of 0', async () => {
    let reads = 0;
    const snapshot = new SupplySnapshot({
      read: async () => [group({ count: ++reads })],
      now: () => 5,
      maxAgeMs: 0,
    });
    expect((await snapshot.current()).figures?.queuedOrders).toBe(1);
    expect((await snapshot.current()).figures?.queuedOrders).toBe(2);
  });
});

/**
 * A read of the open purchases that fails (a PostgreSQL statement timeout, a dropped connection)
 * must not stop all sales: the snapshot never fails; it answers the last good figures for a
 * minute, then none, and tells of it once, not once per init.
 */
describe('the shared snapshot when the open purchases cannot be read', () => {
  const SECOND = 1000;
  function failing() {
    let at = 1_000_000;
    let fail: Error | null = null;
    let reads = 0;
    let queued = 3;
    const unread: SupplyUnreadReport[] = [];
    const readAgain: { reason: string; since: number; failures: number }[] = [];
    const snapshot = new SupplySnapshot({
      read: async () => {
        reads++;
        if (fail) throw fail;
        return [group({ count: queued })];
      },
      now: () => at,
      unread: (r) => unread.push(r),
      readAgain: (r) => readAgain.push(r),
    });
    return {
      snapshot,
      unread,
      readAgain,
      reads: () => reads,
      fail: (message: string | null) => {
        fail = message === null ? null : new Error(message);
      },
      queue: (n: number) => {
        queued = n;
      },
      pass: (ms: number) => {
        at += ms;
      },
      at: () => at,
    };
  }

  it('answers unknown figures, with the reason, when no good read was ever made', async () => {
    const f = failing();
    f.fail('canceling statement due to statement timeout');
    await expect(f.snapshot.current()).resolves.toEqual({
      figures: null,
      unread: { reason: 'canceling statement due to statement timeout', since: 1_000_000 },
    });
    expect(f.unread).toHaveLength(1);
    expect(f.unread[0]).toMatchObject({ failures: 1, kept: null, since: 1_000_000 });
  });

  it('keeps the last good figures for a minute, then judges by none', async () => {
    const f = failing();
    const good = await f.snapshot.current();
    expect(good.figures).toEqual({ committedIdr: 48_000, queuedOrders: 3, readAt: 1_000_000 });
    f.fail('Connection terminated unexpectedly');
    f.queue(100);

    f.pass(SECOND);
    const kept = await f.snapshot.current();
    expect(kept).toEqual({
      figures: good.figures,
      unread: { reason: 'Connection terminated unexpectedly', since: 1_001_000 },
    });
    // Exactly a minute old: still judged by.
    f.pass(59 * SECOND);
    expect((await f.snapshot.current()).figures).toEqual(good.figures);
    // Older: none.
    f.pass(SECOND);
    expect(await f.snapshot.current()).toEqual({
      figures: null,
      unread: { reason: 'Connection terminated unexpectedly', since: 1_001_000 },
    });
  });

  it('asks a failing database once per second at most, however many asks', async () => {
    const f = failing();
    f.fail('timeout');
    await Promise.all([f.snapshot.current(), f.snapshot.current()]);
    for (let i = 0; i < 50; i++) await f.snapshot.current();
    expect(f.reads()).toBe(1);
    f.pass(SECOND);
    await f.snapshot.current();
    expect(f.reads()).toBe(2);
  });

  it('tells of the failure at its start, when the kept figures become too old, then once a minute; and once when read again', async () => {
    const f = failing();
    await f.snapshot.current();
    f.fail('timeout');
    // One ask per second for three minutes: 180 failed reads.
    for (let i = 0; i < 180; i++) {
      f.pass(SECOND);
      await f.snapshot.current();
    }
    expect(f.reads()).toBe(181);
    // At 1 s (figures kept), at 61 s (too old: none kept), at 121 s (a minute on); not at 180 s.
    expect(f.unread.map((u) => [u.failures, u.kept === null ? 'none' : 'kept'])).toEqual([
      [1, 'kept'],
      [61, 'none'],
      [121, 'none'],
    ]);
    expect(f.unread.every((u) => u.since === 1_001_000 && u.reason === 'timeout')).toBe(true);
    expect(f.readAgain).toEqual([]);

    f.fail(null);
    f.queue(4);
    f.pass(SECOND);
    expect(await f.snapshot.current()).toEqual({
      figures: { committedIdr: 64_000, queuedOrders: 4, readAt: f.at() },
      unread: null,
    });
    expect(f.readAgain).toEqual([{ reason: 'timeout', since: 1_001_000, failures: 180 }]);
    // A new failure later is told again at once.
    f.fail('timeout again');
    f.pass(SECOND);
    await f.snapshot.current();
    expect(f.unread.at(-1)).toMatchObject({ reason: 'timeout again', failures: 1, since: f.at() });
    expect(f.unread).toHaveLength(4);
  });

  it('answers even when telling of it fails, and when the read throws before its promise', async () => {
    const snapshot = new SupplySnapshot({
      read: () => {
        throw new Error('pool destroyed');
      },
      now: () => 0,
      unread: () => {
        throw new Error('log stream closed');
      },
    });
    await expect(snapshot.current()).resolves.toEqual({
      figures: null,
      unread: { reason: 'pool destroyed', since: 0 },
    });
  });
});
