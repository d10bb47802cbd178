import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PostgresStore } from '../src/db/postgres/store.js';
import { SqliteStore } from '../src/db/sqlite/store.js';
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
import {
  countRows,
  fillDisk as fillSqliteFile,
  freeDisk as freeSqliteFile,
  type TempStore,
  tempStore,
} from './helpers/storage.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const SCHEDULE = [30_000, 60_000, 120_000, 300_000, 900_000];
const ORDERING_LEASE_MS = 5000;

let store: TempStore;
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

beforeEach(async () => {
  store = await tempStore();
  now = T0;
  await seedCatalogue(store, now);
  statusCalls = [];
  createCalls = [];
  stateAtCall = [];
  alerts = [];
  overdue = [];
  statusReply = ambiguous;
  createReply = ambiguous;
  limiterClock = new FakeClock();
  limiter = new RateLimiter({ limit: 1000, windowMs: 1000 }, limiterClock, 0);
  engine = newEngine(engineDeps());
  reconciler = new Reconciler({
    store,
    leaseMs: ORDERING_LEASE_MS,
    // Through the variable: a test may replace the engine.
    engine: { advance: (...a) => engine.advance(...a), isBusy: (n) => engine.isBusy(n) },
    now: () => now,
    logger: createLogger('silent'),
    onOverdue: (n) => overdue.push(n),
  });
});
afterEach(async () => {
  for (const e of engines.splice(0)) e.close();
  await store.close();
});

/** Every engine a test made, to stop listening to moves before the store closes. */
const engines: FulfilmentEngine[] = [];
function newEngine(deps: EngineDeps): FulfilmentEngine {
  const made = new FulfilmentEngine(deps);
  engines.push(made);
  return made;
}

/** The tables a full disk refuses: they only grow (as in fillDisk of the SQLite file). */
const APPEND_ONLY = ['transaction_events', 'supplier_calls', 'razer_exchanges', 'webhook_inbox'];

/**
 * The disk fills up: every append (a move's event, an audit row, a webhook) fails as it does
 * on a full disk, while an update in place may still fit. SQLite: the file may not grow and
 * its last pages are packed. PostgreSQL: the server's disk cannot be filled from here, so a
 * trigger raises its disk_full error (SQLSTATE 53100) on each append, rolling back the
 * database transaction it is part of, as the real error would.
 */
async function fillDisk(): Promise<void> {
  if (store instanceof SqliteStore) return fillSqliteFile(store.storage.sqlite);
  if (!(store instanceof PostgresStore)) throw new Error(`no full disk for ${store.dialect}`);
  await store.connection.pool.query(`
    create function test_disk_full() returns trigger language plpgsql as $$
    begin
      raise exception 'could not extend file: No space left on device' using errcode = 'disk_full';
    end $$;
    ${APPEND_ONLY.map(
      (t) =>
        `create trigger test_disk_full before insert on ${t} for each row execute function test_disk_full();`,
    ).join('\n')}
  `);
}

/** The disk has room again. */
async function freeDisk(): Promise<void> {
  if (store instanceof SqliteStore) return freeSqliteFile(store.storage.sqlite);
  if (!(store instanceof PostgresStore)) throw new Error(`no full disk for ${store.dialect}`);
  await store.connection.pool.query('drop function test_disk_full() cascade');
}

/** An engine whose create-order reply comes back while the disk fills: its commit fails. */
function engineFillingDiskOnReply(): FulfilmentEngine {
  const deps = engineDeps();
  const { client } = deps;
  return newEngine({
    ...deps,
    client: {
      ...client,
      createOrder: async (o, permit, n) => {
        const reply = await client.createOrder(o, permit, n);
        await fillDisk();
        return reply;
      },
    },
  });
}

/** The engine's dependencies over the test's storage, clock and scripted supplier. */
function engineDeps(): EngineDeps {
  return {
    store,
    client: {
      createOrder: async (_o, permit, n) => {
        permit.spend('order');
        permit.release();
        createCalls.push(now);
        stateAtCall.push((await store.getTransaction(n ?? ''))?.state);
        return createReply;
      },
      orderStatus: async () => {
        statusCalls.push(now);
        return statusReply;
      },
    },
    limiter,
    catalogue: {
      brand: (k) => store.getBrand(k),
      variation: (b, v) => store.getVariation(b, v),
      refreshBrand: async () => 'ok',
    },
    now: () => now,
    logger: createLogger('silent'),
    schedule: SCHEDULE,
    orderingLeaseMs: ORDERING_LEASE_MS,
    onAlert: (a) => alerts.push(a.message),
  };
}

const open = (n: string, state: State, extra: Record<string, unknown> = {}) =>
  store.insertTransaction(
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
  // 30 hours of passes every 10 s of the test's clock: some 10,800 reconciler ticks, each a
  // few queries, which takes longer than the default timeout on PostgreSQL.
  it('follows the schedule while Mitra is unreachable for hours, never guesses, and flags at the deadline', async () => {
    await open('T1', 'PROCESSING', { trxCode: 'VCG-1' });
    for (let t = 0; t <= 30 * HOUR; t += 10_000) {
      now = T0 + t;
      await pass();
    }
    const gaps = statusCalls.slice(1, 7).map((at, i) => at - (statusCalls[i] ?? 0));
    expect(gaps).toEqual([30_000, 60_000, 120_000, 300_000, 900_000, 900_000]);
    expect(await store.getTransaction('T1')).toMatchObject({ state: 'PROCESSING', attention: true });
    expect(overdue).toEqual(['T1']); // told once, not at every pass
    expect(await store.listEvents('T1')).toEqual([]);

    statusReply = status(2, { sn: 'SN-9' });
    now += 15 * MIN;
    await pass();
    expect(await store.getTransaction('T1')).toMatchObject({ state: 'SUCCESS', voucherCode: 'SN-9' });
  }, 90_000);

  it('sends a due QUEUED order, and commits ORDERING before the call', async () => {
    await open('T2', 'QUEUED');
    createReply = { kind: 'accepted', httpStatus: 200, data: { trx_code: 'VCG-2', selling_total: 15000 } };
    await pass();
    expect(stateAtCall).toEqual(['ORDERING']);
    expect(await store.getTransaction('T2')).toMatchObject({
      state: 'PROCESSING',
      trxCode: 'VCG-2',
      orderAttempts: 1,
      pricePaid: 15000,
    });
    expect((await store.listEvents('T2')).map((e) => `${e.fromState}>${e.toState}:${e.cause}`)).toEqual([
      'QUEUED>ORDERING:reconciler',
      'ORDERING>PROCESSING:supplier',
    ]);
  });

  it('fails a QUEUED order as OOS without sending it when the price went above max_price', async () => {
    await open('T3', 'QUEUED', { maxPrice: 14000 });
    await pass();
    expect(await store.getTransaction('T3')).toMatchObject({ state: 'FAILED', failureCode: 'OOS' });
    expect(createCalls).toEqual([]);
  });

  it('closes initiated transactions past their TTL', async () => {
    await store.insertTransaction(
      transactionRow('T4', 'INITIATED', { refId: 'RG-T4', expiresAt: now + HOUR }),
    );
    await pass();
    expect((await store.getTransaction('T4'))?.state).toBe('INITIATED');
    now += HOUR;
    await pass();
    expect((await store.getTransaction('T4'))?.state).toBe('EXPIRED');
    expect((await store.listEvents('T4'))[0]).toMatchObject({ cause: 'reconciler', toState: 'EXPIRED' });
  });

  it('resolves UNKNOWN without a trx code by sending again with the same ref_id', async () => {
    await open('T5', 'UNKNOWN');
    createReply = { kind: 'accepted', httpStatus: 200, data: { trx_code: 'VCG-5' } };
    await pass();
    expect(await store.getTransaction('T5')).toMatchObject({
      state: 'PROCESSING',
      trxCode: 'VCG-5',
      orderAttempts: 1,
    });
  });

  it('keeps UNKNOWN when the second send is refused: a refusal then proves nothing', async () => {
    await open('T6', 'UNKNOWN');
    createReply = {
      kind: 'refused',
      rc: '25',
      status: 'CLIENT_ERROR',
      message: 'Insufficient Balance',
      httpStatus: 400,
    };
    await pass();
    expect(await store.getTransaction('T6')).toMatchObject({ state: 'UNKNOWN', checks: 1 });
  });
});

describe('applying a supplier status', () => {
  it('records a success reported after FAILED as an anomaly, flagged, not applied', async () => {
    await open('T7', 'FAILED', { trxCode: 'VCG-1', refId: 'RG-T1' });
    await engine.applyStatus('T7', { code: 'VCG-1', ref_id: 'RG-T1', status: 2 }, 'webhook');
    expect(await store.getTransaction('T7')).toMatchObject({ state: 'FAILED', attention: true });
    expect(alerts[0]).toMatch(/delivered after it was recorded FAILED/);
    expect(await store.listEvents('T7')).toEqual([]);
  });

  it('ignores a status that belongs to another ref_id', async () => {
    await open('T8', 'PROCESSING', { trxCode: 'VCG-8' });
    await engine.applyStatus('T8', { code: 'VCG-8', ref_id: 'RG-SOMEONE-ELSE', status: 2 }, 'webhook');
    expect((await store.getTransaction('T8'))?.state).toBe('PROCESSING');
    expect(alerts[0]).toMatch(/belongs to RG-SOMEONE-ELSE/);
  });

  it("applies a status found with a webhook's trx code only when it names our ref_id", async () => {
    await open('T12', 'UNKNOWN', { refId: 'RG-T12' });
    statusReply = { kind: 'accepted', httpStatus: 200, data: { code: 'VCG-OTHER', status: 2 } }; // no ref_id
    await engine.advance('T12', 'webhook', { trxCode: 'VCG-OTHER' });
    expect((await store.getTransaction('T12'))?.state).toBe('UNKNOWN');
    expect(alerts[0]).toMatch(/belongs to an unnamed ref_id, not RG-T12: not applied/);
    statusReply = {
      kind: 'accepted',
      httpStatus: 200,
      data: { code: 'VCG-12', ref_id: 'RG-T12', status: 2 },
    };
    await engine.advance('T12', 'webhook', { trxCode: 'VCG-12' });
    expect(await store.getTransaction('T12')).toMatchObject({ state: 'SUCCESS', trxCode: 'VCG-12' });
  });

  it('moves UNKNOWN forward on processing, success or failure, and learns the trx code', async () => {
    await open('T9', 'UNKNOWN', { refId: 'RG-T9' });
    await engine.applyStatus('T9', { code: 'VCG-9', ref_id: 'RG-T9', status: 1 }, 'reconciler');
    expect(await store.getTransaction('T9')).toMatchObject({ state: 'PROCESSING', trxCode: 'VCG-9' });
    await open('T10', 'UNKNOWN', { refId: 'RG-T10' });
    await engine.applyStatus(
      'T10',
      { code: 'VCG-10', ref_id: 'RG-T10', status: 3, sn: 'bad id' },
      'reconciler',
    );
    expect(await store.getTransaction('T10')).toMatchObject({
      state: 'FAILED',
      failureCode: 'FAILED',
      failureReason: 'bad id',
      trxCode: 'VCG-10',
    });
  });

  it('never moves a terminal state, whatever is reported', async () => {
    await open('T11', 'SUCCESS', { trxCode: 'VCG-11', refId: 'RG-T11' });
    await engine.applyStatus('T11', { code: 'VCG-11', ref_id: 'RG-T11', status: 2 }, 'webhook');
    await engine.applyStatus('T11', { code: 'VCG-11', ref_id: 'RG-T11', status: 1 }, 'webhook');
    expect(await store.getTransaction('T11')).toMatchObject({ state: 'SUCCESS', attention: false });
    expect(await store.listEvents('T11')).toEqual([]);
  });
});

describe('hardening: storage faults, misleading replies, bounded work', () => {
  it('defect 2: an ORDERING row whose reply was never committed is taken as UNKNOWN by the reconciler once its lease ran out', async () => {
    await open('T20', 'ORDERING', { nextCheckAt: now + 5000, orderAttempts: 1 });
    await pass();
    expect((await store.getTransaction('T20'))?.state).toBe('ORDERING'); // the lease holds
    expect(createCalls).toEqual([]);
    now += 5000;
    createReply = { kind: 'exists', rc: '23', message: 'Ref ID is already exist', httpStatus: 400 };
    statusReply = statusOf('T20', 1);
    await pass();
    expect(await store.getTransaction('T20')).toMatchObject({
      state: 'PROCESSING',
      trxCode: 'VCG-T20',
      orderAttempts: 2,
    });
    expect((await store.listEvents('T20')).map((e) => `${e.fromState}>${e.toState}`)).toEqual([
      'ORDERING>UNKNOWN',
      'UNKNOWN>PROCESSING',
    ]);
  });

  it('defect 2: a permit is given back when the ORDERING commit fails on a full disk, and the step waits before trying again', async () => {
    limiter = new RateLimiter({ limit: 1, windowMs: 1000 }, limiterClock, 0);
    engine = newEngine({ ...engineDeps(), limiter });
    await open('T21', 'QUEUED');
    await fillDisk();
    await engine.advance('T21', 'reconciler');
    expect((await store.getTransaction('T21'))?.state).toBe('QUEUED');
    expect(createCalls).toEqual([]);
    expect(engine.isBusy('T21')).toBe(true); // resting after the failure
    await limiterClock.advance(1000);
    expect(limiter.stats().inWindow).toBe(0); // the slot came back
    await freeDisk();
    createReply = { kind: 'accepted', httpStatus: 200, data: { trx_code: 'VCG-21' } };
    now += 1000;
    expect(engine.isBusy('T21')).toBe(false);
    await engine.advance('T21', 'reconciler');
    expect(await store.getTransaction('T21')).toMatchObject({ state: 'PROCESSING', trxCode: 'VCG-21' });
  });

  it('defect 2: the trx code of an accepted order whose commit failed is kept and asked about, never ordered again', async () => {
    await open('T22', 'QUEUED');
    createReply = { kind: 'accepted', httpStatus: 200, data: { trx_code: 'VCG-T22' } };
    engine = engineFillingDiskOnReply();
    await engine.advance('T22', 'razer');
    expect((await store.getTransaction('T22'))?.state).toBe('ORDERING');
    await freeDisk();
    statusReply = statusOf('T22', 2, { sn: 'SN-22' });
    now += 60_000;
    await pass();
    expect(createCalls).toHaveLength(1);
    expect(await store.getTransaction('T22')).toMatchObject({ state: 'SUCCESS', trxCode: 'VCG-T22' });
  });

  it('defect 9: create-order is not resent for ever: past the cap only the status by ref_id is asked', async () => {
    await open('T23', 'UNKNOWN', { orderAttempts: MAX_RESENDS + 3, resends: MAX_RESENDS });
    await pass();
    expect(createCalls).toEqual([]);
    expect(statusCalls).toHaveLength(1);
    expect(await store.getTransaction('T23')).toMatchObject({
      state: 'UNKNOWN',
      orderAttempts: MAX_RESENDS + 3,
      resends: MAX_RESENDS,
    });
  });

  it('review: sends the supplier certainly did not take do not use up the resends of a later UNKNOWN', async () => {
    await open('T27', 'QUEUED');
    createReply = { kind: 'retryable', reason: '429', rc: '45', httpStatus: 429, retryAfterMs: null };
    for (let i = 0; i < MAX_RESENDS + 2; i++) {
      await pass();
      now += 120_000;
    }
    createReply = ambiguous;
    await pass();
    expect((await store.getTransaction('T27'))?.state).toBe('UNKNOWN');
    const before = createCalls.length;
    createReply = { kind: 'accepted', httpStatus: 200, data: { trx_code: 'VCG-T27' } };
    now += 120_000;
    await pass();
    expect(createCalls.length - before).toBe(1); // sent again with the same ref_id
    expect(await store.getTransaction('T27')).toMatchObject({
      state: 'PROCESSING',
      trxCode: 'VCG-T27',
      resends: 1,
    });
  });

  it('review: the kept trx code of our own order settles it even when the status reply names no ref_id', async () => {
    await open('T28', 'QUEUED');
    createReply = { kind: 'accepted', httpStatus: 200, data: { trx_code: 'VCG-T28' } };
    engine = engineFillingDiskOnReply();
    await engine.advance('T28', 'razer');
    await freeDisk();
    statusReply = {
      kind: 'accepted',
      httpStatus: 200,
      data: { code: 'VCG-T28', ref_id: null, status: 2, sn: 'SN' },
    };
    now += 60_000;
    await pass();
    expect(await store.getTransaction('T28')).toMatchObject({ state: 'SUCCESS', trxCode: 'VCG-T28' });
    expect(alerts).toEqual([]);
  });

  it('review: a status of another order reschedules instead of asking again at every tick', async () => {
    await open('T29', 'ORDERING', { nextCheckAt: now + 5000 });
    statusReply = {
      kind: 'accepted',
      httpStatus: 200,
      data: { code: 'VCG-X', ref_id: 'RG-OTHER', status: 2 },
    };
    await engine.advance('T29', 'webhook', { trxCode: 'VCG-X' });
    expect(alerts).toHaveLength(1);
    expect((await store.getTransaction('T29'))?.nextCheckAt).toBeGreaterThan(now);
  });

  it('review: a webhook contradicting FAILED whose status cannot be had is flagged for an operator, not dropped', async () => {
    await open('T30', 'FAILED', { trxCode: 'VCG-T30' });
    statusReply = ambiguous;
    expect(await engine.advance('T30', 'webhook', { trxCode: 'VCG-T30', verifyFinal: true })).toBe(true);
    expect(await store.getTransaction('T30')).toMatchObject({ state: 'FAILED', attention: true });
    expect(alerts[0]).toMatch(/contradicts FAILED and the order status could not be had/);
  });

  it('review (27): a webhook read while open that reported failure is checked when its step finds the row SUCCESS', async () => {
    // Decided at receive while PROCESSING; another step delivered it before this one ran.
    await open('T47', 'SUCCESS', { trxCode: 'VCG-T47', voucherCode: 'SN' });
    statusReply = statusOf('T47', 4);
    expect(await engine.advance('T47', 'webhook', { trxCode: 'VCG-T47', reportedSuccess: false })).toBe(true);
    expect(statusCalls).toHaveLength(1);
    // One that reported success agrees with it: no call.
    await open('T48', 'SUCCESS', { trxCode: 'VCG-T48', voucherCode: 'SN' });
    expect(await engine.advance('T48', 'webhook', { trxCode: 'VCG-T48', reportedSuccess: true })).toBe(true);
    expect(await engine.advance('T48', 'webhook', { trxCode: 'VCG-T48', reportedSuccess: null })).toBe(true);
    expect(statusCalls).toHaveLength(1);
  });

  it('review: advance reports a step that did not complete (a storage fault), so a webhook is kept for later', async () => {
    await open('T31', 'QUEUED');
    await fillDisk();
    expect(await engine.advance('T31', 'webhook')).toBe(false);
    await freeDisk();
  });

  it('defect 9: past its deadline a transaction is checked at the slow cadence', async () => {
    await open('T24', 'PROCESSING', { trxCode: 'VCG-T24', deadlineAt: now - 1 });
    await pass();
    const row = await store.getTransaction('T24');
    expect(row?.attention).toBe(true);
    expect((row?.nextCheckAt ?? 0) - now).toBe(OVERDUE_CHECK_MS);
  });

  it('review: a short deadline flags a purchase but does not slow its checks; a day after its top-up they slow', async () => {
    // RESOLVE_DEADLINE=15m: flagged 20 minutes after its top-up, still checked on the schedule.
    await open('T32', 'PROCESSING', {
      trxCode: 'VCG-T32',
      toppedUpAt: now - 20 * MIN,
      deadlineAt: now - 5 * MIN,
    });
    await open('T33', 'PROCESSING', {
      trxCode: 'VCG-T33',
      toppedUpAt: now - 25 * HOUR,
      deadlineAt: now - HOUR,
    });
    await pass();
    const [young, old] = [await store.getTransaction('T32'), await store.getTransaction('T33')];
    expect(young?.attention).toBe(true);
    expect((young?.nextCheckAt ?? 0) - now).toBeLessThan(OVERDUE_CHECK_MS);
    expect((young?.nextCheckAt ?? 0) - now).toBe(SCHEDULE[0]);
    expect((old?.nextCheckAt ?? 0) - now).toBe(OVERDUE_CHECK_MS);
  });

  it('review: a webhook contradicting a final state whose status is unclear (an unknown number) is flagged, not dropped', async () => {
    await open('T34', 'SUCCESS', { trxCode: 'VCG-T34', voucherCode: 'SN' });
    statusReply = statusOf('T34', 4);
    expect(await engine.advance('T34', 'webhook', { trxCode: 'VCG-T34', verifyFinal: true })).toBe(true);
    expect(await store.getTransaction('T34')).toMatchObject({ state: 'SUCCESS', attention: true });
    await open('T35', 'FAILED', { trxCode: 'VCG-T35' });
    statusReply = statusOf('T35', 0);
    expect(await engine.advance('T35', 'webhook', { trxCode: 'VCG-T35', verifyFinal: true })).toBe(true);
    expect(await store.getTransaction('T35')).toMatchObject({ state: 'FAILED', attention: true });
    // The number already alerted: a second contradicted final state is still flagged.
    await open('T36', 'SUCCESS', { trxCode: 'VCG-T36', voucherCode: 'SN' });
    statusReply = statusOf('T36', 4);
    await engine.advance('T36', 'webhook', { trxCode: 'VCG-T36', verifyFinal: true });
    expect(await store.getTransaction('T36')).toMatchObject({ state: 'SUCCESS', attention: true });
  });

  it('review: with a deadline beyond a day, a purchase not yet due keeps the schedule after 24 hours', async () => {
    await open('T37', 'PROCESSING', {
      trxCode: 'VCG-T37',
      toppedUpAt: now - 25 * HOUR,
      deadlineAt: now + 6 * 24 * HOUR,
      checks: 10,
    });
    statusReply = statusOf('T37', 1);
    await pass();
    const row = await store.getTransaction('T37');
    expect(row?.attention).toBe(false);
    expect((row?.nextCheckAt ?? 0) - now).toBe(SCHEDULE[4]);
  });

  it('defect 1: a voucher reported delivered without a code stays open, is checked again, and is flagged at the deadline', async () => {
    await open('T25', 'PROCESSING', { trxCode: 'VCG-T25', isVoucher: true });
    statusReply = statusOf('T25', 2, { detail: { voucher_code: '' }, sn: '' });
    await pass();
    expect(await store.getTransaction('T25')).toMatchObject({
      state: 'PROCESSING',
      checks: 1,
      attention: false,
    });
    now += 24 * HOUR;
    await pass();
    expect(await store.getTransaction('T25')).toMatchObject({ state: 'PROCESSING', attention: true });
    expect(overdue).toEqual(['T25']);
    statusReply = statusOf('T25', 2, { detail: { voucher_code: 'CODE-25' } });
    now += OVERDUE_CHECK_MS;
    await pass();
    expect(await store.getTransaction('T25')).toMatchObject({ state: 'SUCCESS', voucherCode: 'CODE-25' });
  });

  it('defect 6: a status without a number neither fails nor completes the transaction', async () => {
    await open('T26', 'PROCESSING', { trxCode: 'VCG-T26' });
    for (const s of [null, '', false, [], undefined]) {
      statusReply = statusOf('T26', s);
      now += HOUR;
      await pass();
    }
    expect(await store.getTransaction('T26')).toMatchObject({ state: 'PROCESSING', checks: 5 });
    expect(await store.listEvents('T26')).toEqual([]);
  });

  it('defect 8: start-up recovery turns every ORDERING row into UNKNOWN, past the first thousand', async () => {
    // Inserted together: the store's pool (or SQLite, one at a time) takes them in turn.
    await Promise.all(
      Array.from({ length: 1203 }, (_, i) => open(`R${String(i).padStart(5, '0')}`, 'ORDERING')),
    );
    expect(await engine.recoverInterrupted()).toBe(1203);
    expect(await countRows(store, 'transactions', "state = 'ORDERING'")).toBe(0);
  });
});
