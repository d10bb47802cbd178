import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { getBrand, getVariation } from '../src/db/catalogue.js';
import { getTransaction, insertTransaction, listEvents } from '../src/db/transactions.js';
import { FulfilmentEngine } from '../src/fulfilment/engine.js';
import { Reconciler } from '../src/fulfilment/reconciler.js';
import type { State } from '../src/fulfilment/states.js';
import { createLogger } from '../src/log.js';
import { RateLimiter } from '../src/mitra/limiter.js';
import type { MitraOutcome } from '../src/mitra/outcome.js';
import type { CreateOrderData, OrderStatusData } from '../src/mitra/schemas.js';
import { T0, transactionRow } from './helpers/fixtures.js';
import { seedCatalogue } from './helpers/razer.js';
import { tempStorage } from './helpers/storage.js';

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
let overdue: string[];

const ambiguous = { kind: 'ambiguous', reason: 'timed out', rc: null, httpStatus: null } as const;
const status = (s: number, extra: Partial<OrderStatusData> = {}): MitraOutcome<OrderStatusData> => ({
  kind: 'accepted',
  httpStatus: 200,
  data: { code: 'VCG-1', ref_id: 'RG-T1', status: s, ...extra },
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
  engine = new FulfilmentEngine({
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
    limiter: new RateLimiter({ limit: 1000, windowMs: 1000 }),
    catalogue: {
      brand: (k) => getBrand(storage.db, k),
      variation: (b, v) => getVariation(storage.db, b, v),
      refreshBrand: async () => 'ok',
    },
    now: () => now,
    logger: createLogger('silent'),
    schedule: SCHEDULE,
    onAlert: (a) => alerts.push(a.message),
  });
  reconciler = new Reconciler({
    db: storage.db,
    engine,
    now: () => now,
    logger: createLogger('silent'),
    onOverdue: (n) => overdue.push(n),
  });
});
afterEach(() => storage.close());

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
