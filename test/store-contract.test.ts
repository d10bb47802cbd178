import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { PACKAGE_ROOT } from '../src/config/paths.js';
import { PostgresStore } from '../src/db/postgres/store.js';
import { SqliteStore } from '../src/db/sqlite/store.js';
import type { Dialect, Store } from '../src/db/store.js';
import type {
  Move,
  NewExchange,
  NewInitiated,
  TransactionCursor,
  TransactionPage,
  TransactionQuery,
  WebhookQuery,
} from '../src/db/types.js';
import type { StoredState } from '../src/db/vocabulary.js';
import { T0, transactionRow } from './helpers/fixtures.js';
import { createDatabase } from './helpers/postgres.js';
import { waitFor } from './helpers/wait.js';

// The storage port's promises, held by both adapters. The PostgreSQL half runs where the
// vitest project starts a server (test/helpers/postgres-setup.ts provides its URL); what only
// several instances on one database can show is tested on PostgreSQL alone.

const adminUrl = inject('postgresUrl') as string | undefined;

/** A transaction row in `state` (QUEUED unless told), from the shared fixture. */
const row = (n: string, state: StoredState = 'QUEUED', overrides: Partial<NewInitiated> = {}): NewInitiated =>
  transactionRow(n, state, overrides);

function initExchange(n: string): NewExchange {
  return {
    transactionNumber: n,
    endpoint: 'init',
    apiId: 'publisherA',
    method: 'POST',
    path: '/init',
    requestHash: `hash-${n}`,
    requestBody: '{}',
    responseStatus: 200,
    responseHeaders: { 'content-type': 'application/json' },
    responseBody: '{"ok":true}',
    receivedAt: T0,
    respondedAt: T0,
  };
}

const numbers = (page: TransactionPage) => page.items.map((r) => r.transactionNumber);

const move = (n: string, from: StoredState, to: StoredState, extra: Partial<Move> = {}): Move => ({
  transactionNumber: n,
  from,
  to,
  cause: 'supplier',
  at: T0 + 1000,
  ...extra,
});

// -- what each test opened, closed after it

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function openSqlite(): Promise<Store> {
  const dir = mkdtempSync(join(tmpdir(), 'gateway-contract-'));
  const store = SqliteStore.open(join(dir, 'gateway.db'), 'test');
  cleanups.push(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await store.migrate();
  return store;
}

/** A fresh database; `open` adds an instance on it (not migrated). */
async function pgDatabase(url: string) {
  const database = await createDatabase(url);
  cleanups.push(() => database.drop());
  let instances = 0;
  return {
    url: database.url,
    async open(poolSize = 10): Promise<PostgresStore> {
      const store = await PostgresStore.open(database.url, { poolSize, instanceId: `pg-${++instances}` });
      cleanups.push(() => store.close());
      return store;
    },
  };
}

async function openPostgres(url: string): Promise<Store> {
  const store = await (await pgDatabase(url)).open();
  await store.migrate();
  return store;
}

interface Adapter {
  name: Dialect;
  /** A migrated store on a database of its own. */
  open(): Promise<Store>;
}

// Each vitest project holds its own adapter to the contract (TEST_DATABASE).
const adapters: Adapter[] =
  process.env.TEST_DATABASE === 'postgres' && adminUrl
    ? [{ name: 'postgres', open: () => openPostgres(adminUrl) }]
    : [{ name: 'sqlite', open: openSqlite }];

describe.each(adapters)('Store contract: $name', (adapter) => {
  it('reads back the row it wrote, JSON in the order written, without adapter columns', async () => {
    const store = await adapter.open();
    const written = await store.insertTransaction(
      row('TX1', 'QUEUED', { customParam: { zeta: '1', alpha: '2' } }),
    );
    const read = await store.getTransaction('TX1');
    expect(read).toEqual(written);
    expect(Object.keys(read?.customParam ?? {})).toEqual(['zeta', 'alpha']);
    expect(read).not.toHaveProperty('leaseHolder');
    expect(read).not.toHaveProperty('leaseUntil');
    expect(read?.maxPrice).toBe(16000);
    expect(read?.isVoucher).toBe(false);
  });

  it('keeps what a sale earns as init wrote it, exactly, through moves; a row written without it reads null', async () => {
    const store = await adapter.open();
    const revenue = {
      revenueMinor: 99,
      revenueCurrency: 'USD',
      revenueRateE6: 16_250_500_000,
      revenueRateSet: '2026-12-01',
      revenueIdr: 16088,
    };
    expect(await store.insertInitiated(row('REV-1', 'INITIATED', revenue), initExchange('REV-1'))).toBe(
      'created',
    );
    // The largest figures a mapping allows (1e9 units at 1e6 IDR each) come back exactly.
    const largest = {
      revenueMinor: 100_000_000_000,
      revenueCurrency: 'USD',
      revenueRateE6: 1_000_000_000_000,
      revenueRateSet: '2026-12-01',
      revenueIdr: 1_000_000_000_000_000,
    };
    await store.insertTransaction(row('REV-2', 'QUEUED', largest));
    // IDR: no rate date.
    const idr = {
      ...revenue,
      revenueMinor: 5_850_000,
      revenueCurrency: 'IDR',
      revenueRateE6: 1_000_000,
      revenueRateSet: null,
      revenueIdr: 58500,
    };
    await store.insertTransaction(row('REV-3', 'QUEUED', idr));
    // Written before the columns, or for a SKU without revenue.
    await store.insertTransaction(row('OLD-1', 'SUCCESS', { pricePaid: 15000 }));

    expect(await store.getTransaction('REV-1')).toMatchObject(revenue);
    expect(await store.getTransaction('REV-2')).toMatchObject(largest);
    expect(await store.getTransaction('REV-3')).toMatchObject(idr);
    expect(await store.getTransaction('OLD-1')).toMatchObject({
      revenueMinor: null,
      revenueCurrency: null,
      revenueRateE6: null,
      revenueRateSet: null,
      revenueIdr: null,
      pricePaid: 15000,
    });
    // Moves and patches of the sale leave its revenue as recorded; the cost is the supplier's.
    await store.moveTransaction(move('REV-1', 'INITIATED', 'QUEUED', { cause: 'razer' }));
    await store.moveTransaction(move('REV-1', 'QUEUED', 'ORDERING', { patch: { priceOffered: 15000 } }));
    await store.moveTransaction(move('REV-1', 'ORDERING', 'PROCESSING', { patch: { pricePaid: 14900 } }));
    expect(await store.patchTransaction('REV-1', 'PROCESSING', { checks: 1 }, T0 + 2000)).toBe(true);
    await store.moveTransaction(move('REV-1', 'PROCESSING', 'SUCCESS', { patch: { pricePaid: 15000 } }));
    expect(await store.getTransaction('REV-1')).toMatchObject({
      ...revenue,
      state: 'SUCCESS',
      pricePaid: 15000,
    });
    const listed = await store.pageTransactions({ limit: 10, q: 'REV-2' });
    expect(listed.items[0]).toMatchObject(largest);
  });

  it('moves by compare-and-set: of two moves from one state exactly one wins, one event', async () => {
    const store = await adapter.open();
    await store.insertTransaction(row('TX1'));
    const results = await Promise.all([
      store.moveTransaction(move('TX1', 'QUEUED', 'ORDERING')),
      store.moveTransaction(move('TX1', 'QUEUED', 'FAILED')),
    ]);
    const won = results.filter((r) => r.ok);
    expect(won).toHaveLength(1);
    const winner = won[0]?.ok ? won[0].row.state : undefined;
    const lost = results.find((r) => !r.ok);
    expect(lost).toEqual({ ok: false, reason: 'stale', current: winner });
    const events = await store.listEvents('TX1');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ fromState: 'QUEUED', toState: winner, instanceId: store.instanceId });
    expect(await store.moveTransaction(move('NOPE', 'QUEUED', 'ORDERING'))).toEqual({
      ok: false,
      reason: 'missing',
    });
  });

  it('announces moves into a final state only, once each, with the row the move wrote', async () => {
    const store = await adapter.open();
    const heard: string[] = [];
    store.onFinal((n) => heard.push(n));
    // PostgreSQL's notices come through a LISTEN session that starts asynchronously; SQLite's at once.
    if (store instanceof PostgresStore)
      await waitFor(
        async () => {
          const listening = await store.connection.pool.query<{ n: number }>(
            "select count(*)::int as n from pg_stat_activity where query ilike 'listen%' and datname = current_database()",
          );
          return listening.rows[0]?.n === 1;
        },
        5000,
        'the store to listen',
      );
    await store.insertTransaction(row('TX1'));
    const ordering = await store.moveTransaction(
      move('TX1', 'QUEUED', 'ORDERING', { patch: { orderAttempts: 1 } }),
    );
    expect(ordering).toMatchObject({
      ok: true,
      row: { state: 'ORDERING', orderAttempts: 1, updatedAt: T0 + 1000 },
    });
    const done = await store.moveTransaction(
      move('TX1', 'ORDERING', 'SUCCESS', {
        patch: { trxCode: 'TRX-1', voucherCode: 'CODE' },
        detail: 'delivered',
      }),
    );
    expect(done.ok && done.row).toEqual(await store.getTransaction('TX1'));
    expect(done).toMatchObject({
      ok: true,
      row: { state: 'SUCCESS', trxCode: 'TRX-1', voucherCode: 'CODE' },
    });
    const events = await store.listEvents('TX1');
    expect(events.map((e) => [e.fromState, e.toState, e.detail, e.instanceId])).toEqual([
      ['QUEUED', 'ORDERING', null, store.instanceId],
      ['ORDERING', 'SUCCESS', 'delivered', store.instanceId],
    ]);
    expect(await store.moveTransaction(move('TX1', 'ORDERING', 'FAILED'))).toEqual({
      ok: false,
      reason: 'stale',
      current: 'SUCCESS',
    });
    if (adapter.name === 'sqlite') expect(heard).toEqual(['TX1']);
    else await waitFor(() => heard.length === 1, 5000, 'the final move to be heard');
    expect(heard).toEqual(['TX1']);
  });

  it('stores what a supplier sends with NUL in it (PostgreSQL text cannot hold NUL: it is marked U+FFFD)', async () => {
    const store = await adapter.open();
    await store.insertTransaction(row('TX1', 'PROCESSING'));
    const nul = 'CODE\u0000X';
    const kept = adapter.name === 'postgres' ? 'CODE\ufffdX' : nul;
    const moved = await store.moveTransaction(
      move('TX1', 'PROCESSING', 'SUCCESS', { patch: { voucherCode: nul }, detail: `delivered ${nul}` }),
    );
    expect(moved.ok).toBe(true);
    expect((await store.getTransaction('TX1'))?.voucherCode).toBe(kept);
    await store.writeAudit(
      [],
      [
        {
          transactionNumber: 'TX1',
          operation: 'order-status',
          method: 'GET',
          url: 'http://mitra/x',
          requestBody: null,
          httpStatus: 200,
          replyBody: `{"sn":"${nul}"}`,
          rcCode: '00',
          outcome: 'accepted',
          error: null,
          startedAt: 1,
          durationMs: 1,
        },
      ],
    );
    expect((await store.listSupplierCalls('TX1'))[0]?.replyBody).toBe(`{"sn":"${kept}"}`);
    expect(await store.findBySupplierRef(nul)).toBeUndefined();
  });

  it('a move requiring neverSent is stale once an order was sent', async () => {
    const store = await adapter.open();
    await store.insertTransaction(row('TX1', 'QUEUED', { orderAttempts: 1 }));
    expect(await store.moveTransaction(move('TX1', 'QUEUED', 'CANCELLED', { neverSent: true }))).toEqual({
      ok: false,
      reason: 'stale',
      current: 'QUEUED',
    });
  });

  it('fences a step whose lease was taken over: lost-lease, nothing written', async () => {
    const store = await adapter.open();
    await store.insertTransaction(row('TX1'));
    expect(await store.claimStep('TX1', 'step-a', 1)).toEqual(await store.getTransaction('TX1'));
    // A's lease runs out; B takes the row.
    await waitFor(
      async () => (await store.claimStep('TX1', 'step-b', 60_000)) !== null,
      5000,
      'the lease to run out',
    );
    const before = await store.getTransaction('TX1');

    expect(
      await store.moveTransaction(
        move('TX1', 'QUEUED', 'ORDERING', { lease: 'step-a', patch: { orderAttempts: 1 } }),
      ),
    ).toEqual({ ok: false, reason: 'lost-lease' });
    expect(await store.patchTransaction('TX1', 'QUEUED', { checks: 9 }, T0 + 5, 'step-a')).toBe(false);
    expect(await store.renewStep('TX1', 'step-a', 60_000)).toBe(false);
    await store.releaseStep('TX1', 'step-a');
    expect(await store.getTransaction('TX1')).toEqual(before);
    expect(await store.listEvents('TX1')).toEqual([]);
    // A's release did not free B's lease.
    expect(await store.claimStep('TX1', 'step-c', 60_000)).toBeNull();

    expect(await store.patchTransaction('TX1', 'QUEUED', { checks: 1 }, T0 + 5, 'step-b')).toBe(true);
    const moved = await store.moveTransaction(move('TX1', 'QUEUED', 'ORDERING', { lease: 'step-b' }));
    expect(moved.ok).toBe(true);
  });

  it('gives a step lease to exactly one of 20 concurrent claimants, and again once released', async () => {
    const store = await adapter.open();
    await store.insertTransaction(row('TX1'));
    const claims = await Promise.all(
      Array.from({ length: 20 }, (_, i) => store.claimStep('TX1', `holder-${i}`, 60_000)),
    );
    expect(claims.filter(Boolean)).toHaveLength(1);
    const holder = `holder-${claims.findIndex((c) => c !== null)}`;
    // Not even the holder claims an unexpired lease twice; it renews instead.
    expect(await store.claimStep('TX1', holder, 60_000)).toBeNull();
    expect(await store.renewStep('TX1', holder, 60_000)).toBe(true);
    await store.releaseStep('TX1', holder);
    expect(await store.claimStep('TX1', 'another', 60_000)).toMatchObject({
      transactionNumber: 'TX1',
      state: 'QUEUED',
    });
    // A row that is not there is not held.
    expect(await store.claimStep('NOPE', 'another', 60_000)).toBeNull();
    expect(await store.claimStep('NOPE', 'a-third', 60_000)).toBeNull();
  });

  it('claims due open rows whose lease is free, oldest due first', async () => {
    const store = await adapter.open();
    await store.insertTransaction(row('DUE2', 'PROCESSING', { nextCheckAt: T0 + 20 }));
    await store.insertTransaction(row('DUE1', 'UNKNOWN', { nextCheckAt: T0 + 10 }));
    await store.insertTransaction(row('HELD', 'QUEUED', { nextCheckAt: T0 }));
    await store.insertTransaction(row('LATER', 'QUEUED', { nextCheckAt: T0 + 1000 }));
    await store.insertTransaction(row('DONE', 'SUCCESS', { nextCheckAt: T0 }));
    expect(await store.claimStep('HELD', 'step', 60_000)).not.toBeNull();

    const claimed = await store.claimDue(T0 + 100, 10, 'reconciler', 60_000);
    expect(claimed.map((r) => r.transactionNumber)).toEqual(['DUE1', 'DUE2']);
    expect(claimed[0]).not.toHaveProperty('leaseHolder');
    expect(await store.claimDue(T0 + 100, 10, 'reconciler-2', 60_000)).toEqual([]);
    expect(await store.claimStep('DUE1', 'step', 60_000)).toBeNull();
  });

  it('creates a transaction once when 10 inits of it race: one created, one exchange', async () => {
    const store = await adapter.open();
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, () => store.insertInitiated(row('TX1', 'INITIATED'), initExchange('TX1'))),
    );
    expect(outcomes.filter((o) => o === 'created')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'exists')).toHaveLength(9);
    expect(await store.listExchanges('TX1')).toHaveLength(1);
    expect(await store.findCreatingInit('TX1')).toMatchObject({ requestHash: 'hash-TX1' });
  });

  it('counts an account by its limit key or its account_id (rows written before limit keys too), in the insert too', async () => {
    const store = await adapter.open();
    const zone = (z: string) => [
      { key: 'user_id', value: '123456' },
      { key: 'zone_id', value: z },
    ];
    const account = { limitKey: row('ANY').limitKey, accountId: '123456-12' };
    // Keyed: counted by the key, whatever the accountId's spelling; another zone is another account.
    await store.insertTransaction(row('NEW1', 'QUEUED', { accountId: '0123456-012' }));
    await store.insertTransaction(
      row('NEW2', 'QUEUED', { supplierData: zone('13'), accountId: '123456-13' }),
    );
    // Another key (a field filled from customParam, say) but the same accountId: counted, as
    // before limit keys, so that the count is never looser than by accountId.
    await store.insertTransaction(
      row('NEW3', 'QUEUED', { supplierData: [...zone('12'), { key: 'server', value: 'x' }] }),
    );
    // Written before the upgrade (limit_key null): counted by account_id, as they were then.
    await store.insertTransaction({ ...row('OLD1'), limitKey: null });
    await store.insertTransaction({ ...row('OLD2'), limitKey: null, accountId: '0123456-12' });
    await store.insertTransaction({ ...row('OLD3', 'FAILED'), limitKey: null });
    expect(await store.countRecentPurchases({ sku: 'DIAMOND50', account, since: T0 - 1 })).toBe(3);
    expect(await store.countRecentPurchases({ sku: 'OTHER', account, since: T0 - 1 })).toBe(0);
    expect(await store.countRecentPurchases({ sku: 'DIAMOND50', account: null, since: T0 - 1 })).toBe(5);
    expect(await store.getTransaction('NEW1')).toMatchObject({ limitKey: account.limitKey });
    expect(await store.getTransaction('OLD1')).toMatchObject({ limitKey: null });

    // The insert's own count, atomic with it, follows the same rule.
    const limits = (perAccount: number) => ({ since: T0 - 1, perAccount, perSku: null });
    const init = (n: string, over: Partial<NewInitiated>, perAccount: number) =>
      store.insertInitiated(row(n, 'INITIATED', over), initExchange(n), limits(perAccount));
    expect(await init('TX1', {}, 3)).toBe('over-account-limit');
    expect(await init('TX1', { accountId: '00123456-12' }, 1)).toBe('over-account-limit');
    expect(await init('TX2', { supplierData: zone('0013') }, 1)).toBe('over-account-limit');
    // A key of its own, but an unkeyed row of its accountId: counted as before the upgrade.
    expect(await init('TX3', { supplierData: zone('14'), accountId: '0123456-12' }, 1)).toBe(
      'over-account-limit',
    );
    expect(await init('TX4', { supplierData: zone('14'), accountId: '123456-14' }, 1)).toBe('created');
    expect(await init('TX5', {}, 4)).toBe('created');
    expect(await store.getTransaction('TX5')).toMatchObject({ limitKey: account.limitKey });
  });

  it('gives a job to one holder at a time, which renews it, until it runs out', async () => {
    const store = await adapter.open();
    expect(await store.tryJobLease('prune', 'a', 60_000)).toBe(true);
    expect(await store.tryJobLease('prune', 'b', 60_000)).toBe(false);
    expect(await store.tryJobLease('other-job', 'b', 60_000)).toBe(true);
    // The holder renews, here to a lease that runs out at once.
    expect(await store.tryJobLease('prune', 'a', 1)).toBe(true);
    await waitFor(() => store.tryJobLease('prune', 'b', 60_000), 5000, "a's turn to run out");
    expect(await store.tryJobLease('prune', 'a', 60_000)).toBe(false);
  });

  it('keeps the last supplier balance read, whole IDR beyond 2^31, the last write winning', async () => {
    const store = await adapter.open();
    expect(await store.lastBalance()).toBeUndefined();
    await store.saveBalance(3_000_000_000, T0);
    expect(await store.lastBalance()).toEqual({
      supplier: 'mitra',
      balanceIdr: 3_000_000_000,
      readAt: T0,
      readBy: store.instanceId,
    });
    await store.saveBalance(0, T0 + 60_000);
    expect(await store.lastBalance()).toMatchObject({ balanceIdr: 0, readAt: T0 + 60_000 });
  });

  it('writes audit rows together, supplier calls with the instance', async () => {
    const store = await adapter.open();
    await store.writeAudit(
      [initExchange('TX1'), { ...initExchange('TX1'), endpoint: 'query' }],
      [
        {
          transactionNumber: 'TX1',
          operation: 'create-order',
          method: 'POST',
          url: 'https://mitra.example/order',
          outcome: 'accepted',
          startedAt: T0,
          durationMs: 250,
        },
      ],
    );
    expect(await store.listExchanges('TX1')).toHaveLength(2);
    expect(await store.listSupplierCalls('TX1')).toMatchObject([{ instanceId: store.instanceId }]);
    expect(await store.listCallEndsSince(T0, 60_000)).toEqual([T0 + 250]);
  });

  it('adds counts of repeated queries to their transactions, keeping the latest time', async () => {
    const store = await adapter.open();
    await store.insertTransaction(row('TX1', 'SUCCESS'));
    expect(await store.getTransaction('TX1')).toMatchObject({ queriesRepeated: 0, lastQueriedAt: null });
    await store.writeAudit([], [], [{ transactionNumber: 'TX1', count: 3, lastAt: T0 + 9 }]);
    await store.writeAudit(
      [],
      [],
      [
        { transactionNumber: 'TX1', count: 2, lastAt: T0 + 4 },
        { transactionNumber: 'NOBODY', count: 1, lastAt: T0 },
      ],
    );
    expect(await store.getTransaction('TX1')).toMatchObject({ queriesRepeated: 5, lastQueriedAt: T0 + 9 });
    expect(await store.getTransaction('NOBODY')).toBeUndefined();
  });

  it('answers the queries of the rest of the port alike', async () => {
    const store = await adapter.open();
    await store.insertTransaction(row('OPEN1', 'PROCESSING', { deadlineAt: T0, trxCode: 'MTR-1' }));
    await store.insertTransaction(row('OPEN2', 'PROCESSING', { createdAt: T0 + 10 }));
    await store.insertTransaction(row('INIT1', 'INITIATED', { expiresAt: T0 }));
    await store.insertTransaction(row('GONE1', 'FAILED', { accountId: 'other' }));

    const account = { limitKey: row('ANY').limitKey, accountId: '123456-12' };
    expect(await store.countRecentPurchases({ sku: 'DIAMOND50', account, since: T0 - 1 })).toBe(3);
    expect(await store.countRecentPurchases({ sku: 'DIAMOND50', account: null, since: T0 })).toBe(1);
    expect((await store.findBySupplierRef('RG-OPEN2'))?.transactionNumber).toBe('OPEN2');
    expect((await store.findBySupplierRef('MTR-1'))?.transactionNumber).toBe('OPEN1');
    expect(await store.findBySupplierRef('nothing')).toBeUndefined();
    expect((await store.listInState('PROCESSING', 1)).map((r) => r.transactionNumber)).toEqual(['OPEN1']);
    expect((await store.listInState('PROCESSING', 5, 'OPEN1')).map((r) => r.transactionNumber)).toEqual([
      'OPEN2',
    ]);
    expect((await store.listExpiredInitiated(T0, 10)).map((r) => r.transactionNumber)).toEqual(['INIT1']);
    expect((await store.listOverdue(T0, 10)).map((r) => r.transactionNumber)).toEqual(['OPEN1']);
    // Only while still in the state listed: a row delivered since is not flagged.
    expect(await store.flagForOperator('OPEN1', 'late', T0 + 1, { clear: true, inState: 'UNKNOWN' })).toBe(
      false,
    );
    expect(await store.flagForOperator('OPEN1', 'late', T0 + 1, { clear: true, inState: 'PROCESSING' })).toBe(
      true,
    );
    expect(await store.flagForOperator('OPEN1', 'again', T0 + 2, { clear: true })).toBe(false);
    expect(await store.listOverdue(T0, 10)).toEqual([]);
    expect(await store.getTransaction('OPEN1')).toMatchObject({ attention: true, attentionReason: 'late' });

    const id = await store.storeWebhook({
      receivedAt: T0,
      sourceIp: '10.0.0.1',
      headers: { 'x-b': '1', 'x-a': '2' },
      body: '{}',
      bodySha256: 'sha',
    });
    expect((await store.listUnprocessedWebhooks()).map((w) => w.id)).toEqual([id]);
    await store.markWebhook(id, { kind: 'order', transactionRef: 'OPEN1', result: 'matched' }, T0 + 5);
    expect(await store.listUnprocessedWebhooks()).toEqual([]);
    const webhook = await store.getWebhook(id);
    expect(webhook).toMatchObject({ processedAt: T0 + 5, result: 'matched' });
    expect(Object.keys(webhook?.headers ?? {})).toEqual(['x-b', 'x-a']);
    expect(await store.listWebhooks()).toHaveLength(1);

    expect(await store.catalogueFetchedAt()).toEqual({ brands: null, oldestVariations: null });
    const forms = [{ key: 'user_id', type: 'text' }];
    await store.replaceBrands(
      [{ brandKey: 'MLBB', name: 'Mobile Legends', isVoucher: null, isActive: true, forms }],
      T0,
    );
    await store.replaceVariations(
      'MLBB',
      [{ variationKey: 'V1', name: '112 diamonds', price: 15000, isActive: true }],
      T0 + 1,
    );
    expect(await store.getBrand('MLBB')).toEqual({
      brandKey: 'MLBB',
      name: 'Mobile Legends',
      isVoucher: null,
      isActive: true,
      forms,
      fetchedAt: T0,
    });
    expect(await store.getVariation('MLBB', 'V1')).toMatchObject({ price: 15000, fetchedAt: T0 + 1 });
    expect(await store.catalogueFetchedAt()).toEqual({ brands: T0, oldestVariations: T0 + 1 });
    await store.replaceBrands([], T0 + 2);
    expect(await store.getBrand('MLBB')).toBeUndefined();
  });

  it('prunes old audit rows of final transactions, never the creating init', async () => {
    const store = await adapter.open();
    await store.insertTransaction(row('DONE', 'SUCCESS'));
    await store.insertTransaction(row('OPEN', 'PROCESSING'));
    const query = { ...initExchange('DONE'), endpoint: 'query' };
    await store.writeAudit(
      [
        initExchange('DONE'),
        query,
        initExchange('DONE'),
        initExchange('OPEN'),
        { ...query, transactionNumber: null },
      ],
      [
        {
          transactionNumber: 'DONE',
          operation: 'status',
          method: 'GET',
          url: 'u',
          outcome: 'ok',
          startedAt: T0,
          durationMs: 1,
        },
        {
          transactionNumber: 'OPEN',
          operation: 'status',
          method: 'GET',
          url: 'u',
          outcome: 'ok',
          startedAt: T0,
          durationMs: 1,
        },
      ],
    );
    const hook = { receivedAt: T0, sourceIp: 'ip', headers: {}, body: '{}', bodySha256: 's' };
    for (const ref of ['DONE', 'OPEN', 'unknown']) {
      await store.markWebhook(
        await store.storeWebhook(hook),
        { kind: 'k', transactionRef: ref, result: 'r' },
        T0,
      );
    }
    const before = T0 + 1;
    expect(await store.pruneBatch('exchanges', before, 0, 100)).toMatchObject({ found: 3, deleted: 3 });
    expect((await store.listExchanges('DONE')).map((x) => x.endpoint)).toEqual(['init']);
    expect(await store.findCreatingInit('DONE')).toBeDefined();
    expect(await store.listExchanges('OPEN')).toHaveLength(1);
    expect(await store.pruneBatch('supplierCalls', before, 0, 100)).toMatchObject({ found: 1, deleted: 1 });
    expect(await store.listSupplierCalls('OPEN')).toHaveLength(1);
    const webhooks = await store.pruneBatch('webhooks', before, 0, 100);
    expect(webhooks).toMatchObject({ found: 2, deleted: 2 });
    expect((await store.listWebhooks()).map((w) => w.transactionRef)).toEqual(['OPEN']);
    expect(await store.pruneBatch('webhooks', before, webhooks.lastId, 100)).toEqual({
      found: 0,
      deleted: 0,
      lastId: webhooks.lastId,
    });
  });

  it("lists an operator's transactions: flagged first, then open oldest first, then final newest first", async () => {
    const store = await adapter.open();
    const seeds: [string, StoredState, number, boolean][] = [
      ['A', 'PROCESSING', T0 + 30, false],
      ['B', 'SUCCESS', T0 + 10, true],
      ['C', 'QUEUED', T0 + 20, true],
      ['D', 'FAILED', T0 + 10, false],
      ['E', 'SUCCESS', T0 + 40, false],
      ['F', 'UNKNOWN', T0 + 5, false],
      ['G', 'INITIATED', T0 + 30, false],
      ['H', 'EXPIRED', T0 + 40, false],
    ];
    for (const [n, state, createdAt, attention] of seeds)
      await store.insertTransaction(row(n, state, { createdAt, attention }));

    const all = await store.pageTransactions({ limit: 100 });
    // Ties (A and G, E and H) by transaction number.
    expect(numbers(all)).toEqual(['B', 'C', 'F', 'A', 'G', 'E', 'H', 'D']);
    expect(all.next).toBeNull();
    expect(all.items[0]).not.toHaveProperty('leaseHolder');
    // A page exactly full is the last one too.
    expect((await store.pageTransactions({ limit: 8 })).next).toBeNull();
    const first = await store.pageTransactions({ limit: 7 });
    expect(numbers(first)).toEqual(['B', 'C', 'F', 'A', 'G', 'E', 'H']);
    expect(first.next).toEqual({ rank: 2, key: -(T0 + 40), transactionNumber: 'H' });
    const rest = await store.pageTransactions({ limit: 7, after: first.next ?? undefined });
    expect(numbers(rest)).toEqual(['D']);
    expect(rest.next).toBeNull();
  });

  it("filters an operator's listing by state, flag, sku, time and an exact number, ref_id or trx_code", async () => {
    const store = await adapter.open();
    await store.insertTransaction(row('A1', 'QUEUED', { createdAt: T0, trxCode: 'MTR-A1' }));
    await store.insertTransaction(row('A2', 'SUCCESS', { createdAt: T0 + 10, attention: true }));
    await store.insertTransaction(row('A3', 'FAILED', { createdAt: T0 + 20, sku: 'GOLD100' }));
    await store.insertTransaction(
      row('A4', 'PROCESSING', { createdAt: T0 + 30, sku: 'GOLD100', attention: true, trxCode: 'MTR-A4' }),
    );
    const list = async (query: Omit<TransactionQuery, 'limit'>) =>
      numbers(await store.pageTransactions({ limit: 100, ...query }));

    expect(await list({})).toEqual(['A2', 'A4', 'A1', 'A3']);
    expect(await list({ states: ['SUCCESS', 'FAILED'] })).toEqual(['A2', 'A3']);
    expect(await list({ states: ['QUEUED'] })).toEqual(['A1']);
    expect(await list({ attention: true })).toEqual(['A2', 'A4']);
    expect(await list({ attention: false })).toEqual(['A1', 'A3']);
    expect(await list({ sku: 'GOLD100' })).toEqual(['A4', 'A3']);
    // since is inclusive, until exclusive.
    expect(await list({ since: T0 + 10 })).toEqual(['A2', 'A4', 'A3']);
    expect(await list({ until: T0 + 30 })).toEqual(['A2', 'A1', 'A3']);
    expect(await list({ since: T0 + 10, until: T0 + 30 })).toEqual(['A2', 'A3']);
    expect(await list({ q: 'A1' })).toEqual(['A1']);
    expect(await list({ q: 'RG-A3' })).toEqual(['A3']);
    expect(await list({ q: 'MTR-A4' })).toEqual(['A4']);
    expect(await list({ q: 'MTR' })).toEqual([]);
    expect(await list({ states: ['PROCESSING', 'FAILED'], sku: 'GOLD100', attention: false })).toEqual([
      'A3',
    ]);
  });

  it('walks every transaction exactly once, a few at a time, across ranks and ties', async () => {
    const store = await adapter.open();
    const states: StoredState[] = ['QUEUED', 'SUCCESS', 'PROCESSING', 'FAILED', 'UNKNOWN', 'EXPIRED'];
    for (let i = 0; i < 23; i++) {
      await store.insertTransaction(
        row(`TX${String(i).padStart(2, '0')}`, states[i % states.length], {
          // Equal times in every rank: the number breaks the tie.
          createdAt: T0 + (i % 4) * 10,
          attention: i % 5 === 0,
        }),
      );
    }
    const whole = numbers(await store.pageTransactions({ limit: 100 }));
    expect(whole).toHaveLength(23);

    const walked: string[] = [];
    let after: TransactionCursor | undefined;
    for (let pages = 0; ; pages++) {
      expect(pages).toBeLessThan(10);
      const page = await store.pageTransactions({ limit: 4, after });
      walked.push(...numbers(page));
      if (!page.next) {
        expect(page.items.length).toBeLessThanOrEqual(4);
        break;
      }
      expect(page.items).toHaveLength(4);
      after = page.next;
    }
    expect(walked).toEqual(whole);
    expect(new Set(walked).size).toBe(23);
  });

  it('resumes after the cursor when rows are added between pages', async () => {
    const store = await adapter.open();
    for (let i = 1; i <= 6; i++)
      await store.insertTransaction(row(`R${i}`, 'QUEUED', { createdAt: T0 + i * 10 }));
    const first = await store.pageTransactions({ limit: 3 });
    expect(numbers(first)).toEqual(['R1', 'R2', 'R3']);

    // Before the cursor: not seen on later pages. After it: seen once.
    await store.insertTransaction(row('EARLY', 'QUEUED', { createdAt: T0 + 5 }));
    await store.insertTransaction(row('FLAGGED', 'QUEUED', { createdAt: T0 + 50, attention: true }));
    await store.insertTransaction(row('R3B', 'QUEUED', { createdAt: T0 + 30 }));
    await store.insertTransaction(row('LATE', 'QUEUED', { createdAt: T0 + 35 }));
    await store.insertTransaction(row('DONE', 'SUCCESS', { createdAt: T0 }));

    const second = await store.pageTransactions({ limit: 3, after: first.next ?? undefined });
    expect(numbers(second)).toEqual(['R3B', 'LATE', 'R4']);
    const third = await store.pageTransactions({ limit: 3, after: second.next ?? undefined });
    expect(numbers(third)).toEqual(['R5', 'R6', 'DONE']);
    expect(third.next).toBeNull();
  });

  it('counts transactions in every state, zero included, and those flagged', async () => {
    const store = await adapter.open();
    const none = {
      INITIATED: 0,
      QUEUED: 0,
      ORDERING: 0,
      PROCESSING: 0,
      UNKNOWN: 0,
      SUCCESS: 0,
      FAILED: 0,
      CANCELLED: 0,
      EXPIRED: 0,
    };
    expect(await store.countTransactions()).toEqual({ byState: none, attention: 0 });

    await store.insertTransaction(row('Q1'));
    await store.insertTransaction(row('Q2', 'QUEUED', { attention: true }));
    await store.insertTransaction(row('S1', 'SUCCESS', { attention: true }));
    await store.insertTransaction(row('F1', 'FAILED'));
    await store.insertTransaction(row('F2', 'FAILED'));
    await store.flagForOperator('F1', 'refund?', T0 + 1);
    expect(await store.countTransactions()).toEqual({
      byState: { ...none, QUEUED: 2, SUCCESS: 1, FAILED: 2 },
      attention: 3,
    });
  });

  it('gives when the oldest transaction of each open state started waiting: init for INITIATED, top-up for the others', async () => {
    const store = await adapter.open();
    const none = { INITIATED: null, QUEUED: null, ORDERING: null, PROCESSING: null, UNKNOWN: null };
    expect(await store.oldestOpen()).toEqual(none);

    const at = (n: string, state: StoredState, createdAt: number, toppedUpAt: number | null) =>
      store.insertTransaction(row(n, state, { createdAt, updatedAt: createdAt, toppedUpAt }));
    await at('I1', 'INITIATED', T0 + 50, null);
    await at('I2', 'INITIATED', T0 + 20, null);
    // Created first, topped up last: QUEUED counts from the top-up.
    await at('Q1', 'QUEUED', T0, T0 + 400);
    await at('Q2', 'QUEUED', T0 + 10, T0 + 300);
    await at('P1', 'PROCESSING', T0, T0 + 100);
    await at('U1', 'UNKNOWN', T0, T0 + 200);
    // Final rows, however old, wait for nothing.
    await at('S1', 'SUCCESS', T0 - 1000, T0 - 900);
    await at('F1', 'FAILED', T0 - 1000, T0 - 900);
    await at('E1', 'EXPIRED', T0 - 1000, null);
    expect(await store.oldestOpen()).toEqual({
      INITIATED: T0 + 20,
      QUEUED: T0 + 300,
      ORDERING: null,
      PROCESSING: T0 + 100,
      UNKNOWN: T0 + 200,
    });

    // A move takes a row out of its state's oldest, and the top-up a move writes counts.
    expect((await store.moveTransaction(move('P1', 'PROCESSING', 'SUCCESS'))).ok).toBe(true);
    expect((await store.moveTransaction(move('Q2', 'QUEUED', 'ORDERING'))).ok).toBe(true);
    expect(
      (await store.moveTransaction(move('I2', 'INITIATED', 'QUEUED', { patch: { toppedUpAt: T0 + 250 } })))
        .ok,
    ).toBe(true);
    expect(await store.oldestOpen()).toEqual({
      INITIATED: T0 + 50,
      QUEUED: T0 + 250,
      ORDERING: T0 + 300,
      PROCESSING: null,
      UNKNOWN: T0 + 200,
    });
  });

  it('pages open topped-up purchases by top-up time then number, after a cursor, and counts the rest up to a cap', async () => {
    const store = await adapter.open();
    const start = { toppedUpAt: 0, transactionNumber: '' };
    const page = (
      after: { toppedUpAt: number; transactionNumber: string },
      through: number,
      limit: number,
      countUpTo = 100,
    ) => store.listOpenByTopUp({ after, through, limit, countUpTo });
    expect(await page(start, T0 + 1_000_000, 5)).toEqual({ items: [], more: 0 });

    const topped = (n: string, state: StoredState, toppedUpAt: number | null, attention = false) =>
      store.insertTransaction(row(n, state, { toppedUpAt, attention }));
    await topped('B', 'PROCESSING', T0 + 10);
    await topped('A', 'QUEUED', T0 + 10); // same time as B: by number
    await topped('C', 'UNKNOWN', T0 + 5, true);
    await topped('D', 'ORDERING', T0 + 30);
    await topped('E', 'QUEUED', T0 + 40);
    await topped('LATE', 'PROCESSING', T0 + 1000);
    // Never listed: final, not topped up, or without a top-up time.
    await topped('S', 'SUCCESS', T0);
    await topped('X', 'CANCELLED', T0);
    await topped('I', 'INITIATED', null);
    await topped('N', 'QUEUED', null);

    const first = await page(start, T0 + 100, 2);
    expect(first).toEqual({
      items: [
        { transactionNumber: 'C', state: 'UNKNOWN', toppedUpAt: T0 + 5, attention: true },
        { transactionNumber: 'A', state: 'QUEUED', toppedUpAt: T0 + 10, attention: false },
      ],
      more: 3, // B, D, E: LATE is past `through`
    });
    const second = await page({ toppedUpAt: T0 + 10, transactionNumber: 'A' }, T0 + 100, 2);
    expect(second.items.map((p) => p.transactionNumber)).toEqual(['B', 'D']);
    expect(second.more).toBe(1);
    const third = await page({ toppedUpAt: T0 + 30, transactionNumber: 'D' }, T0 + 100, 2);
    expect(third).toEqual({
      items: [{ transactionNumber: 'E', state: 'QUEUED', toppedUpAt: T0 + 40, attention: false }],
      more: 0,
    });
    // `through` is inclusive; the rest is counted no further than asked.
    expect((await page(start, T0 + 1000, 10)).items.map((p) => p.transactionNumber)).toEqual([
      'C',
      'A',
      'B',
      'D',
      'E',
      'LATE',
    ]);
    expect(await page(start, T0 + 1000, 1, 2)).toMatchObject({ more: 2 });
    // A purchase that became final leaves the listing.
    expect((await store.moveTransaction(move('A', 'QUEUED', 'CANCELLED'))).ok).toBe(true);
    expect((await page(start, T0 + 100, 10)).items.map((p) => p.transactionNumber)).toEqual([
      'C',
      'B',
      'D',
      'E',
    ]);
  });

  it('counts transactions per hour of created_at and state, in [since, until)', async () => {
    const store = await adapter.open();
    const H = 3_600_000; // T0 is on the hour (10:00 UTC).
    expect(await store.purchasesByHour(T0 - 24 * H, T0 + 24 * H)).toEqual([]);

    const created: [string, StoredState, number][] = [
      ['BEFORE', 'QUEUED', T0 - 1],
      ['A1', 'QUEUED', T0],
      ['A2', 'FAILED', T0 + 10],
      ['A3', 'SUCCESS', T0 + 59 * 60_000],
      ['A4', 'SUCCESS', T0 + H - 1],
      ['B1', 'SUCCESS', T0 + H],
      ['B2', 'QUEUED', T0 + H + 5],
      ['D1', 'EXPIRED', T0 + 3 * H + 1],
      ['UNTIL', 'SUCCESS', T0 + 4 * H],
      ['AFTER', 'SUCCESS', T0 + 5 * H],
    ];
    for (const [n, state, createdAt] of created)
      await store.insertTransaction(row(n, state, { createdAt, updatedAt: createdAt }));

    // Hours in order, states by name within an hour; the empty hour T0 + 2H is not listed.
    expect(await store.purchasesByHour(T0, T0 + 4 * H)).toEqual([
      { hour: T0, state: 'FAILED', count: 1 },
      { hour: T0, state: 'QUEUED', count: 1 },
      { hour: T0, state: 'SUCCESS', count: 2 },
      { hour: T0 + H, state: 'QUEUED', count: 1 },
      { hour: T0 + H, state: 'SUCCESS', count: 1 },
      { hour: T0 + 3 * H, state: 'EXPIRED', count: 1 },
    ]);
    // since inclusive, until exclusive; a bound inside an hour still buckets by the whole hour.
    expect(await store.purchasesByHour(T0 + 10, T0 + H + 1)).toEqual([
      { hour: T0, state: 'FAILED', count: 1 },
      { hour: T0, state: 'SUCCESS', count: 2 },
      { hour: T0 + H, state: 'SUCCESS', count: 1 },
    ]);
    expect(await store.purchasesByHour(T0 - H, T0)).toEqual([{ hour: T0 - H, state: 'QUEUED', count: 1 }]);
    expect(await store.purchasesByHour(T0 + 4 * H, T0 + 5 * H)).toEqual([
      { hour: T0 + 4 * H, state: 'SUCCESS', count: 1 },
    ]);
    // Ranges that hold nothing: an empty hour, and since == until on a row.
    expect(await store.purchasesByHour(T0 + 2 * H, T0 + 3 * H)).toEqual([]);
    expect(await store.purchasesByHour(T0 + H, T0 + H)).toEqual([]);
  });

  it('lists webhooks newest first, filtered, a page at a time', async () => {
    const store = await adapter.open();
    const ids: number[] = [];
    for (let i = 0; i < 7; i++) {
      ids.push(
        await store.storeWebhook({
          receivedAt: T0 + i * 10,
          sourceIp: '10.0.0.1',
          headers: {},
          body: '{}',
          bodySha256: `sha-${i}`,
        }),
      );
    }
    const id = (i: number) => ids[i] ?? -1;
    const outcomes: [number, string, string | null][] = [
      [0, 'order', 'TX1'],
      [2, 'order', 'TX2'],
      [3, 'voucher', 'TX1'],
      [5, 'order', null],
    ];
    for (const [i, kind, transactionRef] of outcomes)
      await store.markWebhook(id(i), { kind, transactionRef, result: 'matched' }, T0 + 100);
    const list = async (query: Omit<WebhookQuery, 'limit'>, limit = 100) => {
      const page = await store.pageWebhooks({ limit, ...query });
      return { ids: page.items.map((w) => ids.indexOf(w.id)), next: page.next };
    };

    expect(await list({})).toEqual({ ids: [6, 5, 4, 3, 2, 1, 0], next: null });
    expect((await list({ processed: true })).ids).toEqual([5, 3, 2, 0]);
    expect((await list({ processed: false })).ids).toEqual([6, 4, 1]);
    expect((await list({ kind: 'order' })).ids).toEqual([5, 2, 0]);
    expect((await list({ transactionRef: 'TX1' })).ids).toEqual([3, 0]);
    expect((await list({ kind: 'order', transactionRef: 'TX1' })).ids).toEqual([0]);
    // since is inclusive, until exclusive.
    expect((await list({ since: T0 + 20, until: T0 + 50 })).ids).toEqual([4, 3, 2]);
    expect((await list({ beforeId: id(3) })).ids).toEqual([2, 1, 0]);

    expect(await list({}, 3)).toEqual({ ids: [6, 5, 4], next: id(4) });
    expect(await list({ beforeId: id(4) }, 3)).toEqual({ ids: [3, 2, 1], next: id(1) });
    expect(await list({ beforeId: id(1) }, 3)).toEqual({ ids: [0], next: null });
    expect(await list({}, 7)).toEqual({ ids: [6, 5, 4, 3, 2, 1, 0], next: null });
    expect(await list({ processed: false }, 2)).toEqual({ ids: [6, 4], next: id(4) });
    expect(await list({ processed: false, beforeId: id(4) }, 2)).toEqual({ ids: [1], next: null });
  });

  it("records who made an operator's move on its event, null when no one is named", async () => {
    const store = await adapter.open();
    await store.insertTransaction(row('TX1', 'UNKNOWN'));
    expect((await store.moveTransaction(move('TX1', 'UNKNOWN', 'PROCESSING'))).ok).toBe(true);
    const byOperator = move('TX1', 'PROCESSING', 'SUCCESS', { cause: 'operator', actor: 'alice' });
    expect((await store.moveTransaction(byOperator)).ok).toBe(true);
    expect((await store.listEvents('TX1')).map((e) => [e.toState, e.cause, e.actor])).toEqual([
      ['PROCESSING', 'supplier', null],
      ['SUCCESS', 'operator', 'alice'],
    ]);
  });

  it('proves the database writable', async () => {
    const store = await adapter.open();
    await expect(store.checkWritable()).resolves.toBeUndefined();
  });
});

// Registered in the postgres project only: several instances are PostgreSQL's case.
if (adminUrl)
  describe('Store contract: several PostgreSQL instances on one database', () => {
    const url = adminUrl ?? '';

    it('never hands the same due row to two instances claiming at once', async () => {
      const database = await pgDatabase(url);
      const [a, b] = [await database.open(), await database.open()];
      await a.migrate();
      const numbers = Array.from({ length: 200 }, (_, i) => `DUE${String(i).padStart(3, '0')}`);
      for (const n of numbers) await a.insertTransaction(row(n, 'PROCESSING', { nextCheckAt: T0 }));

      const claimAll = async (store: Store, holder: string) => {
        const got: string[] = [];
        for (;;) {
          const rows = await store.claimDue(T0 + 1, 7, holder, 60_000);
          if (rows.length === 0) return got;
          got.push(...rows.map((r) => r.transactionNumber));
        }
      };
      const claimed = await Promise.all([
        claimAll(a, 'a-1'),
        claimAll(a, 'a-2'),
        claimAll(b, 'b-1'),
        claimAll(b, 'b-2'),
      ]);
      const all = claimed.flat();
      expect(all).toHaveLength(numbers.length);
      expect(new Set(all).size).toBe(numbers.length);
    });

    it('shares the rate budget: no 300 ms window holds more than 5 calls across 3 instances', async () => {
      const database = await pgDatabase(url);
      const stores = [await database.open(), await database.open(), await database.open()];
      await stores[0]?.migrate();
      const budget = { limit: 5, windowMs: 300, longestCallMs: 60_000 };
      const granted: number[] = [];
      const until = Date.now() + 1500;
      const taker = async (store: Store) => {
        const shared = store.rateBudget(budget);
        if (!shared) throw new Error('PostgreSQL shares its budget');
        while (Date.now() < until) {
          const slot = await shared.take();
          if (slot.granted) {
            granted.push(slot.id);
            await shared.end(slot.id);
          } else {
            // Pacing, as a real caller would: the answer says when a slot frees up.
            await new Promise((r) => setTimeout(r, slot.retryInMs));
          }
        }
      };
      await Promise.all(stores.flatMap((s) => [taker(s), taker(s)]));

      // When each slot was granted, in database time.
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      const { rows } = await client
        .query<{ t: number }>(
          'select extract(epoch from started_at)::float8 * 1000 as t from rate_slots where id = any($1) order by started_at',
          [granted],
        )
        .finally(() => client.end());
      const times = rows.map((r) => r.t);
      expect(times).toHaveLength(granted.length);
      // 1.5 s of 300 ms windows: about 25 calls, never more than 30.
      expect(granted.length).toBeGreaterThanOrEqual(10);
      expect(granted.length).toBeLessThanOrEqual(30);
      for (let i = 0; i + 5 < times.length; i++) {
        expect((times[i + 5] ?? 0) - (times[i] ?? 0)).toBeGreaterThanOrEqual(300 - 0.01);
      }
    });

    it("counts a slot never ended (a dead instance's) until its longest call is over", async () => {
      const database = await pgDatabase(url);
      const store = await database.open();
      await store.migrate();
      const shared = store.rateBudget({ limit: 1, windowMs: 50, longestCallMs: 200 });
      const first = await shared?.take();
      expect(first?.granted).toBe(true);
      const refused = await shared?.take();
      expect(refused?.granted).toBe(false);
      const wait = refused && !refused.granted ? refused.retryInMs : 0;
      expect(wait).toBeGreaterThan(50);
      expect(wait).toBeLessThanOrEqual(250);
      await waitFor(async () => (await shared?.take())?.granted === true, 5000, 'the slot to stop counting');
    });

    /**
     * Moves fresh transactions into a final state (one not final first) until `heard` has one:
     * LISTEN starts asynchronously, so the first notices may go unheard.
     */
    const finalUntilHeard = (store: Store, heard: string[], prefix: string, what: string) => {
      let i = 0;
      return waitFor(
        async () => {
          const n = `${prefix}${++i}`;
          await store.insertTransaction(row(n));
          await store.moveTransaction(move(n, 'QUEUED', 'ORDERING'));
          await store.moveTransaction(move(n, 'ORDERING', 'SUCCESS'));
          return heard.length > 0;
        },
        5000,
        what,
      );
    };

    it('announces a move into a final state made on one instance to the listeners of another', async () => {
      const database = await pgDatabase(url);
      const [a, b] = [await database.open(), await database.open()];
      await a.migrate();
      const heard: string[] = [];
      const gone: string[] = [];
      a.onFinal((n) => heard.push(n));
      const unsubscribe = a.onFinal((n) => gone.push(n));
      unsubscribe();
      await finalUntilHeard(b, heard, 'TX', 'a final move to be heard on the other instance');
      // Listening now. Notices come in commit order on one session: once the second is heard,
      // the first (a move to ORDERING, committed before it) would have been, were it announced.
      await b.insertTransaction(row('OPEN'));
      await b.insertTransaction(row('DONE'));
      await b.moveTransaction(move('OPEN', 'QUEUED', 'ORDERING'));
      await b.moveTransaction(move('DONE', 'QUEUED', 'SUCCESS'));
      await waitFor(() => heard.includes('DONE'), 5000, 'the second final move to be heard');
      expect(heard).not.toContain('OPEN');
      expect(heard.filter((n) => n === 'DONE')).toHaveLength(1);
      // Listeners are called together: the one that left heard none of it.
      expect(gone).toEqual([]);
    });

    it('hears final moves again after its listening connection was lost', async () => {
      const database = await pgDatabase(url);
      const [a, b] = [await database.open(), await database.open()];
      await a.migrate();
      const heard: string[] = [];
      a.onFinal((n) => heard.push(n));
      await finalUntilHeard(b, heard, 'A', 'the first final move to be heard');

      // The server drops the listening session (restart, failover, idle timeout).
      const dropped = await b.connection.pool.query<{ dropped: boolean }>(
        "select pg_terminate_backend(pid) as dropped from pg_stat_activity where query ilike 'listen%' and datname = current_database()",
      );
      expect(dropped.rows).toEqual([{ dropped: true }]);
      heard.length = 0;
      await finalUntilHeard(b, heard, 'B', 'a final move to be heard after reconnecting');
      expect(heard[0]).toMatch(/^B\d+$/);
    });

    it("keeps catalogue rows found for a second: its own refresh read at once, another instance's within the second", async () => {
      const database = await pgDatabase(url);
      const [a, b] = [await database.open(), await database.open()];
      await a.migrate();
      const variation = (price: number) => [
        { variationKey: 'V1', name: '112 diamonds', price, isActive: true },
      ];
      await a.replaceVariations('MLBB', variation(100), T0);
      expect(await a.getVariation('MLBB', 'V1')).toMatchObject({ price: 100 });
      // Another instance's refresh: this one answers from memory until its second is over.
      await b.replaceVariations('MLBB', variation(200), T0 + 1);
      expect(await a.getVariation('MLBB', 'V1')).toMatchObject({ price: 100 });
      await waitFor(
        async () => (await a.getVariation('MLBB', 'V1'))?.price === 200,
        5000,
        "the other instance's price to be read",
      );
      // Its own refresh is read at once.
      await a.replaceVariations('MLBB', variation(300), T0 + 2);
      expect(await a.getVariation('MLBB', 'V1')).toMatchObject({ price: 300 });
      // What was not found is not kept: a product that appears is seen at once.
      expect(await a.getVariation('MLBB', 'V2')).toBeUndefined();
      await b.replaceVariations(
        'MLBB',
        [...variation(300), { variationKey: 'V2', name: 'x', price: 5, isActive: true }],
        T0 + 3,
      );
      expect(await a.getVariation('MLBB', 'V2')).toMatchObject({ price: 5 });
    });

    it('migrates once when two instances start together', async () => {
      const database = await pgDatabase(url);
      const [a, b] = [await database.open(), await database.open()];
      const journal = JSON.parse(
        readFileSync(resolve(PACKAGE_ROOT, 'migrations', 'postgres', 'meta', '_journal.json'), 'utf8'),
      ) as { entries: unknown[] };
      const ran = await Promise.all([a.migrate(), b.migrate()]);
      expect(ran.reduce((x, y) => x + y, 0)).toBe(journal.entries.length);
      expect(ran).toContain(0);
      expect(await a.migrate()).toBe(0);
    });

    it('refuses checkWritable on a read-only database', async () => {
      const database = await pgDatabase(url);
      const store = await database.open();
      await store.migrate();
      await store.close();
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      const name = new URL(database.url).pathname.slice(1);
      await client
        .query(`alter database ${client.escapeIdentifier(name)} set default_transaction_read_only = on`)
        .finally(() => client.end());
      const readOnly = await database.open();
      const error = await readOnly.checkWritable().then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(error).toBeInstanceOf(Error);
      // drizzle wraps the server's error, which says why.
      expect(String(error instanceof Error ? error.cause : error)).toMatch(/read-only transaction/);
    });
  });
