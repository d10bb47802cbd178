import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { getBrand, getVariation } from '../src/db/catalogue.js';
import { getTransaction, insertTransaction, listEvents } from '../src/db/transactions.js';
import {
  type EngineDeps,
  FulfilmentEngine,
  MAX_RESENDS,
  OVERDUE_CHECK_MS,
} from '../src/fulfilment/engine.js';
import { Reconciler } from '../src/fulfilment/reconciler.js';
import type { State } from '../src/fulfilment/states.js';
import { createLogger } from '../src/log.js';
import { RateLimiter } from '../src/mitra/limiter.js';
import type { MitraOutcome } from '../src/mitra/outcome.js';
import type { CreateOrderData, OrderStatusData } from '../src/mitra/schemas.js';
import { FakeClock } from './helpers/fake-clock.js';
import { T0, transactionRow } from './helpers/fixtures.js';
import { seedCatalogue } from './helpers/razer.js';
import { fillDisk, freeDisk, tempStorage } from './helpers/storage.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const SCHEDULE = [30_000, 60_000, 120_000, 300_000, 900_000];

let storage: ReturnType<typeof tempStorage>;
let now: number;
let statusReply: MitraOutcome<OrderStatusData>;
let createReply: MitraOutcome<CreateOrderData>;
let statusCalls: number[];
let createCalls: number[];
/** The row's state as seen from inside each create-order call. */
let stateAtCall: (string | undefined)[];
let alerts: string[];
let engine: FulfilmentEngine;
let reconciler: Reconciler;
let limiter: RateLimiter;
let limiterClock: FakeClock;
let overdue: string[];

const ambiguous = { kind: 'ambiguous', reason: 'timed out', rc: null, httpStatus: null } as const;
const status = (s: number, extra: Partial<OrderStatusData> = {}): MitraOutcome<OrderStatusData> => ({
  kind: 'accepted',
  httpStatus: 200,
  data: { code: 'VCG-1', ref_id: 'RG-T1', status: s, ...extra },
});
const statusOf = (
  n: string,
  s: unknown,
  extra: Partial<OrderStatusData> = {},
): MitraOutcome<OrderStatusData> => ({
  kind: 'accepted',
  httpStatus: 200,
  data: { code: `VCG-${n}`, ref_id: `RG-${n}`, status: s, ...extra },
});

beforeEach(() => {
  storage = tempStorage();
  now = T0;
  seedCatalogue(storage.db, now);
  statusCalls = [];
  createCalls = [];
  stateAtCall = [];
  alerts = [];
  overdue = [];
  statusReply = ambiguous;
  createReply = ambiguous;
  limiterClock = new FakeClock();
  limiter = new RateLimiter({ limit: 1000, windowMs: 1000 }, limiterClock, 0);
  engine = new FulfilmentEngine(engineDeps());
  reconciler = new Reconciler({
    db: storage.db,
    // Through the variable: a test may replace the engine.
    engine: { advance: (...a) => engine.advance(...a), isBusy: (n) => engine.isBusy(n) },
    now: () => now,
    logger: createLogger('silent'),
    onOverdue: (n) => overdue.push(n),
  });
});
afterEach(() => storage.close());

/** An engine whose create-order reply comes back while the disk fills: its commit fails. */
function engineFillingDiskOnReply(): FulfilmentEngine {
  const deps = engineDeps();
  const { client } = deps;
  return new FulfilmentEngine({
    ...deps,
    client: {
      ...client,
      createOrder: async (o, permit, n) => {
        const reply = await client.createOrder(o, permit, n);
        fillDisk(storage.sqlite);
        return reply;
      },
    },
  });
}

/** The engine's dependencies over the test's storage, clock and scripted supplier. */
function engineDeps(): EngineDeps {
  return {
    db: storage.db,
    client: {
      createOrder: async (_o, permit, n) => {
        permit.spend('order');
        permit.release();
        createCalls.push(now);
        stateAtCall.push(getTransaction(storage.db, n ?? '')?.state);
        return createReply;
      },
      orderStatus: async () => {
        statusCalls.push(now);
        return statusReply;
      },
    },
    limiter,
    catalogue: {
      brand: (k) => getBrand(storage.db, k),
      variation: (b, v) => getVariation(storage.db, b, v),
      refreshBrand: async () => 'ok',
    },
    now: () => now,
    logger: createLogger('silent'),
    schedule: SCHEDULE,
    orderingLeaseMs: 5000,
    onAlert: (a) => alerts.push(a.message),
  };
}

const open = (n: string, state: State, extra: Record<string, unknown> = {}) =>
  insertTransaction(
    storage.db,
    transactionRow(n, state, {
      refId: `RG-${n}`,
      deadlineAt: now + 24 * HOUR,
      nextCheckAt: now,
      priceOffered: 15000,
      ...extra,
    }),
  );

/** One reconciler pass, and the steps it started. */
async function pass() {
  await reconciler.tick();
  await engine.idle();
}

describe('reconciler', () => {
  it('follows the schedule while Mitra is unreachable for hours, never guesses, and flags at the deadline', async () => {
    open('T1', 'PROCESSING', { trxCode: 'VCG-1' });
    for (let t = 0; t <= 30 * HOUR; t += 10_000) {
      now = T0 + t;
      await pass();
    }
    const gaps = statusCalls.slice(1, 7).map((at, i) => at - (statusCalls[i] ?? 0));
    expect(gaps).toEqual([30_000, 60_000, 120_000, 300_000, 900_000, 900_000]);
    expect(getTransaction(storage.db, 'T1')).toMatchObject({ state: 'PROCESSING', attention: true });
    expect(overdue).toEqual(['T1']); // told once, not at every pass
    expect(listEvents(storage.db, 'T1')).toEqual([]);

    statusReply = status(2, { sn: 'SN-9' });
    now += 15 * MIN;
    await pass();
    expect(getTransaction(storage.db, 'T1')).toMatchObject({ state: 'SUCCESS', voucherCode: 'SN-9' });
  });

  it('sends a due QUEUED order, and commits ORDERING before the call', async () => {
    open('T2', 'QUEUED');
    createReply = { kind: 'accepted', httpStatus: 200, data: { trx_code: 'VCG-2', selling_total: 15000 } };
    await pass();
    expect(stateAtCall).toEqual(['ORDERING']);
    expect(getTransaction(storage.db, 'T2')).toMatchObject({
      state: 'PROCESSING',
      trxCode: 'VCG-2',
      orderAttempts: 1,
      pricePaid: 15000,
    });
    expect(listEvents(storage.db, 'T2').map((e) => `${e.fromState}>${e.toState}:${e.cause}`)).toEqual([
      'QUEUED>ORDERING:reconciler',
      'ORDERING>PROCESSING:supplier',
    ]);
  });

  it('fails a QUEUED order as OOS without sending it when the price went above max_price', async () => {
    open('T3', 'QUEUED', { maxPrice: 14000 });
    await pass();
    expect(getTransaction(storage.db, 'T3')).toMatchObject({ state: 'FAILED', failureCode: 'OOS' });
    expect(createCalls).toEqual([]);
  });

  it('closes initiated transactions past their TTL', async () => {
    insertTransaction(
      storage.db,
      transactionRow('T4', 'INITIATED', { refId: 'RG-T4', expiresAt: now + HOUR }),
    );
    await pass();
    expect(getTransaction(storage.db, 'T4')?.state).toBe('INITIATED');
    now += HOUR;
    await pass();
    expect(getTransaction(storage.db, 'T4')?.state).toBe('EXPIRED');
    expect(listEvents(storage.db, 'T4')[0]).toMatchObject({ cause: 'reconciler', toState: 'EXPIRED' });
  });

  it('resolves UNKNOWN without a trx code by sending again with the same ref_id', async () => {
    open('T5', 'UNKNOWN');
    createReply = { kind: 'accepted', httpStatus: 200, data: { trx_code: 'VCG-5' } };
    await pass();
    expect(getTransaction(storage.db, 'T5')).toMatchObject({
      state: 'PROCESSING',
      trxCode: 'VCG-5',
      orderAttempts: 1,
    });
  });

  it('keeps UNKNOWN when the second send is refused: a refusal then proves nothing', async () => {
    open('T6', 'UNKNOWN');
    createReply = {
      kind: 'refused',
      rc: '25',
      status: 'CLIENT_ERROR',
      message: 'Insufficient Balance',
      httpStatus: 400,
    };
    await pass();
    expect(getTransaction(storage.db, 'T6')).toMatchObject({ state: 'UNKNOWN', checks: 1 });
  });
});

describe('applying a supplier status', () => {
  it('records a success reported after FAILED as an anomaly, flagged, not applied', () => {
    open('T7', 'FAILED', { trxCode: 'VCG-1', refId: 'RG-T1' });
    engine.applyStatus('T7', { code: 'VCG-1', ref_id: 'RG-T1', status: 2 }, 'webhook');
    expect(getTransaction(storage.db, 'T7')).toMatchObject({ state: 'FAILED', attention: true });
    expect(alerts[0]).toMatch(/delivered after it was recorded FAILED/);
    expect(listEvents(storage.db, 'T7')).toEqual([]);
  });

  it('ignores a status that belongs to another ref_id', () => {
    open('T8', 'PROCESSING', { trxCode: 'VCG-8' });
    engine.applyStatus('T8', { code: 'VCG-8', ref_id: 'RG-SOMEONE-ELSE', status: 2 }, 'webhook');
    expect(getTransaction(storage.db, 'T8')?.state).toBe('PROCESSING');
    expect(alerts[0]).toMatch(/belongs to RG-SOMEONE-ELSE/);
  });

  it("applies a status found with a webhook's trx code only when it names our ref_id", async () => {
    open('T12', 'UNKNOWN', { refId: 'RG-T12' });
    statusReply = { kind: 'accepted', httpStatus: 200, data: { code: 'VCG-OTHER', status: 2 } }; // no ref_id
    await engine.advance('T12', 'webhook', { trxCode: 'VCG-OTHER' });
    expect(getTransaction(storage.db, 'T12')?.state).toBe('UNKNOWN');
    expect(alerts[0]).toMatch(/belongs to an unnamed ref_id, not RG-T12: not applied/);
    statusReply = {
      kind: 'accepted',
      httpStatus: 200,
      data: { code: 'VCG-12', ref_id: 'RG-T12', status: 2 },
    };
    await engine.advance('T12', 'webhook', { trxCode: 'VCG-12' });
    expect(getTransaction(storage.db, 'T12')).toMatchObject({ state: 'SUCCESS', trxCode: 'VCG-12' });
  });

  it('moves UNKNOWN forward on processing, success or failure, and learns the trx code', () => {
    open('T9', 'UNKNOWN', { refId: 'RG-T9' });
    engine.applyStatus('T9', { code: 'VCG-9', ref_id: 'RG-T9', status: 1 }, 'reconciler');
    expect(getTransaction(storage.db, 'T9')).toMatchObject({ state: 'PROCESSING', trxCode: 'VCG-9' });
    open('T10', 'UNKNOWN', { refId: 'RG-T10' });
    engine.applyStatus('T10', { code: 'VCG-10', ref_id: 'RG-T10', status: 3, sn: 'bad id' }, 'reconciler');
    expect(getTransaction(storage.db, 'T10')).toMatchObject({
      state: 'FAILED',
      failureCode: 'FAILED',
      failureReason: 'bad id',
      trxCode: 'VCG-10',
    });
  });

  it('never moves a terminal state, whatever is reported', () => {
    open('T11', 'SUCCESS', { trxCode: 'VCG-11', refId: 'RG-T11' });
    engine.applyStatus('T11', { code: 'VCG-11', ref_id: 'RG-T11', status: 2 }, 'webhook');
    engine.applyStatus('T11', { code: 'VCG-11', ref_id: 'RG-T11', status: 1 }, 'webhook');
    expect(getTransaction(storage.db, 'T11')).toMatchObject({ state: 'SUCCESS', attention: false });
    expect(listEvents(storage.db, 'T11')).toEqual([]);
  });
});

describe('hardening: storage faults, misleading replies, bounded work', () => {
  it('defect 2: an ORDERING row whose reply was never committed is taken as UNKNOWN by the reconciler once its lease ran out', async () => {
    open('T20', 'ORDERING', { nextCheckAt: now + 5000, orderAttempts: 1 });
    await pass();
    expect(getTransaction(storage.db, 'T20')?.state).toBe('ORDERING'); // the lease holds
    expect(createCalls).toEqual([]);
    now += 5000;
    createReply = { kind: 'exists', rc: '23', message: 'Ref ID is already exist', httpStatus: 400 };
    statusReply = statusOf('T20', 1);
    await pass();
    expect(getTransaction(storage.db, 'T20')).toMatchObject({
      state: 'PROCESSING',
      trxCode: 'VCG-T20',
      orderAttempts: 2,
    });
    expect(listEvents(storage.db, 'T20').map((e) => `${e.fromState}>${e.toState}`)).toEqual([
      'ORDERING>UNKNOWN',
      'UNKNOWN>PROCESSING',
    ]);
  });

  it('defect 2: a permit is given back when the ORDERING commit fails on a full disk, and the step waits before trying again', async () => {
    limiter = new RateLimiter({ limit: 1, windowMs: 1000 }, limiterClock, 0);
    engine = new FulfilmentEngine({ ...engineDeps(), limiter });
    open('T21', 'QUEUED');
    fillDisk(storage.sqlite);
    await engine.advance('T21', 'reconciler');
    expect(getTransaction(storage.db, 'T21')?.state).toBe('QUEUED');
    expect(createCalls).toEqual([]);
    expect(engine.isBusy('T21')).toBe(true); // resting after the failure
    await limiterClock.advance(1000);
    expect(limiter.stats().inWindow).toBe(0); // the slot came back
    freeDisk(storage.sqlite);
    createReply = { kind: 'accepted', httpStatus: 200, data: { trx_code: 'VCG-21' } };
    now += 1000;
    expect(engine.isBusy('T21')).toBe(false);
    await engine.advance('T21', 'reconciler');
    expect(getTransaction(storage.db, 'T21')).toMatchObject({ state: 'PROCESSING', trxCode: 'VCG-21' });
  });

  it('defect 2: the trx code of an accepted order whose commit failed is kept and asked about, never ordered again', async () => {
    open('T22', 'QUEUED');
    createReply = { kind: 'accepted', httpStatus: 200, data: { trx_code: 'VCG-T22' } };
    engine = engineFillingDiskOnReply();
    await engine.advance('T22', 'razer');
    expect(getTransaction(storage.db, 'T22')?.state).toBe('ORDERING');
    freeDisk(storage.sqlite);
    statusReply = statusOf('T22', 2, { sn: 'SN-22' });
    now += 60_000;
    await pass();
    expect(createCalls).toHaveLength(1);
    expect(getTransaction(storage.db, 'T22')).toMatchObject({ state: 'SUCCESS', trxCode: 'VCG-T22' });
  });

  it('defect 9: create-order is not resent for ever: past the cap only the status by ref_id is asked', async () => {
    open('T23', 'UNKNOWN', { orderAttempts: MAX_RESENDS + 3, resends: MAX_RESENDS });
    await pass();
    expect(createCalls).toEqual([]);
    expect(statusCalls).toHaveLength(1);
    expect(getTransaction(storage.db, 'T23')).toMatchObject({
      state: 'UNKNOWN',
      orderAttempts: MAX_RESENDS + 3,
      resends: MAX_RESENDS,
    });
  });

  it('review: sends the supplier certainly did not take do not use up the resends of a later UNKNOWN', async () => {
    open('T27', 'QUEUED');
    createReply = { kind: 'retryable', reason: '429', rc: '45', httpStatus: 429, retryAfterMs: null };
    for (let i = 0; i < MAX_RESENDS + 2; i++) {
      await pass();
      now += 120_000;
    }
    createReply = ambiguous;
    await pass();
    expect(getTransaction(storage.db, 'T27')?.state).toBe('UNKNOWN');
    const before = createCalls.length;
    createReply = { kind: 'accepted', httpStatus: 200, data: { trx_code: 'VCG-T27' } };
    now += 120_000;
    await pass();
    expect(createCalls.length - before).toBe(1); // sent again with the same ref_id
    expect(getTransaction(storage.db, 'T27')).toMatchObject({
      state: 'PROCESSING',
      trxCode: 'VCG-T27',
      resends: 1,
    });
  });

  it('review: the kept trx code of our own order settles it even when the status reply names no ref_id', async () => {
    open('T28', 'QUEUED');
    createReply = { kind: 'accepted', httpStatus: 200, data: { trx_code: 'VCG-T28' } };
    engine = engineFillingDiskOnReply();
    await engine.advance('T28', 'razer');
    freeDisk(storage.sqlite);
    statusReply = {
      kind: 'accepted',
      httpStatus: 200,
      data: { code: 'VCG-T28', ref_id: null, status: 2, sn: 'SN' },
    };
    now += 60_000;
    await pass();
    expect(getTransaction(storage.db, 'T28')).toMatchObject({ state: 'SUCCESS', trxCode: 'VCG-T28' });
    expect(alerts).toEqual([]);
  });

  it('review: a status of another order reschedules instead of asking again at every tick', async () => {
    open('T29', 'ORDERING', { nextCheckAt: now + 5000 });
    statusReply = {
      kind: 'accepted',
      httpStatus: 200,
      data: { code: 'VCG-X', ref_id: 'RG-OTHER', status: 2 },
    };
    await engine.advance('T29', 'webhook', { trxCode: 'VCG-X' });
    expect(alerts).toHaveLength(1);
    expect(getTransaction(storage.db, 'T29')?.nextCheckAt).toBeGreaterThan(now);
  });

  it('review: a webhook contradicting FAILED whose status cannot be had is flagged for an operator, not dropped', async () => {
    open('T30', 'FAILED', { trxCode: 'VCG-T30' });
    statusReply = ambiguous;
    expect(await engine.advance('T30', 'webhook', { trxCode: 'VCG-T30', verifyFinal: true })).toBe(true);
    expect(getTransaction(storage.db, 'T30')).toMatchObject({ state: 'FAILED', attention: true });
    expect(alerts[0]).toMatch(/contradicts FAILED and the order status could not be had/);
  });

  it('review: advance reports a step that did not complete (a storage fault), so a webhook is kept for later', async () => {
    open('T31', 'QUEUED');
    fillDisk(storage.sqlite);
    expect(await engine.advance('T31', 'webhook')).toBe(false);
    freeDisk(storage.sqlite);
  });

  it('defect 9: past its deadline a transaction is checked at the slow cadence', async () => {
    open('T24', 'PROCESSING', { trxCode: 'VCG-T24', deadlineAt: now - 1 });
    await pass();
    const row = getTransaction(storage.db, 'T24');
    expect(row?.attention).toBe(true);
    expect((row?.nextCheckAt ?? 0) - now).toBe(OVERDUE_CHECK_MS);
  });

  it('defect 1: a voucher reported delivered without a code stays open, is checked again, and is flagged at the deadline', async () => {
    open('T25', 'PROCESSING', { trxCode: 'VCG-T25', isVoucher: true });
    statusReply = statusOf('T25', 2, { detail: { voucher_code: '' }, sn: '' });
    await pass();
    expect(getTransaction(storage.db, 'T25')).toMatchObject({
      state: 'PROCESSING',
      checks: 1,
      attention: false,
    });
    now += 24 * HOUR;
    await pass();
    expect(getTransaction(storage.db, 'T25')).toMatchObject({ state: 'PROCESSING', attention: true });
    expect(overdue).toEqual(['T25']);
    statusReply = statusOf('T25', 2, { detail: { voucher_code: 'CODE-25' } });
    now += OVERDUE_CHECK_MS;
    await pass();
    expect(getTransaction(storage.db, 'T25')).toMatchObject({ state: 'SUCCESS', voucherCode: 'CODE-25' });
  });

  it('defect 6: a status without a number neither fails nor completes the transaction', async () => {
    open('T26', 'PROCESSING', { trxCode: 'VCG-T26' });
    for (const s of [null, '', false, [], undefined]) {
      statusReply = statusOf('T26', s);
      now += HOUR;
      await pass();
    }
    expect(getTransaction(storage.db, 'T26')).toMatchObject({ state: 'PROCESSING', checks: 5 });
    expect(listEvents(storage.db, 'T26')).toEqual([]);
  });

  it('defect 8: start-up recovery turns every ORDERING row into UNKNOWN, past the first thousand', () => {
    for (let i = 0; i < 1203; i++) open(`R${String(i).padStart(5, '0')}`, 'ORDERING');
    expect(engine.recoverInterrupted()).toBe(1203);
    const left = storage.sqlite
      .prepare("select count(*) as n from transactions where state = 'ORDERING'")
      .get() as {
      n: number;
    };
    expect(left.n).toBe(0);
  });
});
