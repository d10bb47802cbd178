import { afterEach, describe, expect, it } from 'vitest';
import { PostgresStore } from '../src/db/postgres/store.js';
import { SqliteStore } from '../src/db/sqlite/store.js';
import type { Store } from '../src/db/store.js';
import { canMove, isTerminal, type State } from '../src/fulfilment/states.js';
import { type E2E, startE2E } from './helpers/e2e.js';
import { initBody, send } from './helpers/razer.js';
import { waitFor } from './helpers/wait.js';

// The design's invariants (shared/design.md), each named and checked. The crash tests
// (crash.test.ts) check 1-5 across SIGKILLs; the property tests (razer-property.test.ts)
// check 6 on random input; e2e-load.test.ts checks 7 under a burst.

let e: E2E;
afterEach(async () => {
  await e?.close();
});

/** Rows of a query that reads the same on both adapters, straight from the database. */
async function select(store: Store, sql: string): Promise<Record<string, unknown>[]> {
  if (store instanceof PostgresStore) return (await store.connection.pool.query(sql)).rows;
  if (store instanceof SqliteStore)
    return store.storage.sqlite.prepare(sql).all() as Record<string, unknown>[];
  throw new Error(`no raw reads for the ${store.dialect} store`);
}

/**
 * Every transaction and event as stored. Without PostgreSQL's step lease columns: the lease is
 * the adapter's coordination, not the transaction's state (SQLite keeps it in memory).
 */
const snapshot = async () =>
  JSON.stringify([
    (await select(e.gw.store, 'select * from transactions order by transaction_number')).map(
      ({ lease_holder: _holder, lease_until: _until, ...row }) => row,
    ),
    await select(e.gw.store, 'select * from transaction_events order by id'),
  ]);

describe('the seven invariants', () => {
  it('invariant 1: exactly one supplier order per transaction, whatever is retried, lost or replayed', async () => {
    e = await startE2E({ sim: { faults: { webhookDuplicateProbability: 1 } } });
    e.sim.nextFault('order', { kind: 'dropReplyAfterCreate' });
    const { init } = await e.purchase('INV1');
    const replays = await Promise.all([
      e.init('INV1'),
      e.topup('INV1', init.json.transactionToken),
      e.topup('INV1', init.json.transactionToken),
      e.query('INV1'),
    ]);
    expect(replays[0]?.text).toBe(init.text);
    await e.settle('INV1');
    await e.topup('INV1', init.json.transactionToken);
    expect(e.sim.ordersFor('RG-INV1')).toHaveLength(1);
  });

  it('invariant 2: after a 200 or a 400 about a transaction, every later answer agrees', async () => {
    e = await startE2E();
    const ok = await e.purchase('INV2-OK');
    expect(ok.topup.status).toBe(200);
    e.sim.refund(e.sim.order('RG-INV2-OK')?.trxCode ?? '', 'chargeback'); // the supplier changes its mind
    e.sim.nextEnding({ kind: 'fail', sn: 'invalid id' });
    const ko = await e.purchase('INV2-KO');
    expect(ko.topup.status).toBe(400);
    e.sim.finish(e.sim.order('RG-INV2-KO')?.trxCode ?? '', { kind: 'success' }); // and here too
    await waitFor(() => e.gw.counters.alerts >= 2, 5000, 'both anomalies');
    for (const [n, first] of [
      ['INV2-OK', ok],
      ['INV2-KO', ko],
    ] as const) {
      expect((await e.query(n)).text).toBe(first.topup.text);
      expect((await e.topup(n, first.init.json.transactionToken)).text).toBe(first.topup.text);
    }
  });

  it('invariant 3: 400 only when not delivered, 200 only when delivered, otherwise 408', async () => {
    e = await startE2E({ env: { TOPUP_WAIT_MS: '1500' } });
    e.sim.nextEnding({ kind: 'success' });
    e.sim.nextEnding({ kind: 'fail', sn: 'no such player' });
    e.sim.nextEnding({ kind: 'stay' });
    const answers = [];
    for (const n of ['INV3-A', 'INV3-B', 'INV3-C'])
      answers.push([n, (await e.purchase(n)).topup.status] as const);
    e.sim.nextFault('order', { kind: 'refuse', rc: '44', status: 'NOT_FOUND', http: 404 });
    answers.push(['INV3-D', (await e.purchase('INV3-D')).topup.status] as const);
    for (const [n, status] of answers) {
      const order = e.sim.order(`RG-${n}`);
      const delivered = order?.status === 2;
      const certainlyNot = !order || order.status === 3 || order.status === 4;
      expect(status).toBe(delivered ? 200 : certainlyNot ? 400 : 408);
    }
    expect(answers.map(([, s]) => s)).toEqual([200, 400, 408, 400]);
  });

  it('invariant 4: states never move backwards, and a terminal state never changes', async () => {
    e = await startE2E();
    e.sim.nextFault('order', { kind: 'rateLimit' });
    await e.purchase('INV4-A');
    e.sim.nextFault('order', { kind: 'http500' });
    await e.purchase('INV4-B');
    const ok = await e.purchase('INV4-C');
    expect(ok.topup.status).toBe(200);
    e.sim.refund(e.sim.order('RG-INV4-C')?.trxCode ?? '', 'late refund');
    await Promise.all(['INV4-A', 'INV4-B'].map((n) => e.settle(n)));
    await waitFor(() => e.gw.counters.alerts >= 1, 5000, 'the refund anomaly');
    const events = (await select(e.gw.store, 'select from_state, to_state from transaction_events')) as {
      from_state: State;
      to_state: State;
    }[];
    expect(events.length).toBeGreaterThan(10);
    for (const ev of events) {
      expect(canMove(ev.from_state, ev.to_state)).toBe(true);
      expect(isTerminal(ev.from_state)).toBe(false);
    }
    expect(await e.state('INV4-C')).toBe('SUCCESS');
  });

  it('invariant 5: nothing acknowledged is lost: durable commits (SQLite: WAL, synchronous=FULL; PostgreSQL: synchronous_commit on), and the answer is stored before it is sent', async () => {
    e = await startE2E();
    const store = e.gw.store;
    if (store instanceof SqliteStore) {
      const pragma = (name: string) => store.storage.sqlite.pragma(name, { simple: true });
      expect(pragma('journal_mode')).toBe('wal');
      expect(pragma('synchronous')).toBe(2); // FULL
    } else {
      // A commit returns once its WAL record is flushed (the test server's fsync=off aside).
      expect(await select(store, 'show synchronous_commit')).toEqual([{ synchronous_commit: 'on' }]);
    }
    const { init, topup } = await e.purchase('INV5');
    // By the time each answer arrives, it and the state it speaks of are already committed.
    const stored = await e.gw.store.listExchanges('INV5');
    expect(stored.map((x) => x.responseBody)).toEqual([init.text, topup.text]);
    expect(await e.state('INV5')).toBe('SUCCESS');
  });

  it('invariant 6: bad input never changes state and never causes a 500', async () => {
    e = await startE2E();
    const { init } = await e.purchase('INV6');
    const before = await snapshot();
    const bad = [
      send(
        e,
        'POST',
        '/transaction/topup',
        { transactionNumber: 'INV6', transactionToken: init.json.transactionToken },
        { key: 'stolen' },
      ),
      send(e, 'POST', '/transaction/cancel', { transactionNumber: 'INV6' }, { header: null }),
      send(e, 'POST', '/transaction/cancel', { transactionNumber: 'INV6', transactionToken: 'guess' }),
      send(e, 'POST', '/transaction/init', '{"transactionNumber":'),
      send(e, 'POST', '/transaction/init', initBody('INV6', { accountId: '999-9' })),
      send(e, 'POST', '/transaction/init', { ...initBody('INV6-X'), sku: ['DIAMOND50'] }),
      send(e, 'GET', `/transaction/${'9'.repeat(80)}`),
      send(e, 'POST', '/transaction/topup', 'x'.repeat(70_000)),
      send(e, 'POST', '/nowhere', {}),
      fetch(`${e.url}/mitra/webhook/not-the-token-0000`, { method: 'POST', body: '{}' }).then((r) => ({
        status: r.status,
      })),
    ];
    const statuses = (await Promise.all(bad)).map((r) => r.status);
    expect(statuses).toEqual([401, 401, 400, 400, 409, 400, 400, 400, 404, 404]);
    expect(await snapshot()).toBe(before);
  });

  it('invariant 7: the supplier rate limit is never exceeded', async () => {
    e = await startE2E({
      sim: { rateLimit: { limit: 5, windowMs: 400 } },
      env: { MITRA_RATE_LIMIT: '5/400ms', TOPUP_WAIT_MS: '200', RECONCILE_SCHEDULE_MS: '200,400' },
    });
    const numbers = Array.from({ length: 25 }, (_, i) => `INV7-${i}`);
    await Promise.all(numbers.map((n, i) => e.purchase(n, { accountId: `${700000 + i}-1` })));
    await Promise.all(numbers.map((n) => e.settle(n, 60_000)));
    expect(e.sim.stats.rateLimited).toBe(0);
    for (const n of numbers) expect(e.sim.ordersFor(`RG-${n}`)).toHaveLength(1);
  }, 90_000);
});
