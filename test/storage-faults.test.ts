import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../src/db/sqlite/store.js';
import { type E2E, startE2E } from './helpers/e2e.js';
import { fillDisk, freeDisk } from './helpers/storage.js';
import { waitFor } from './helpers/wait.js';

let e: E2E;
afterEach(async () => {
  await e?.close();
});

const LIMIT = 5;

/**
 * The gateway's SQLite file: this file runs in the sqlite project only (it fills that file),
 * where startE2E gives the gateway a DATABASE_PATH.
 */
function gatewaySqlite() {
  const { store } = e.gw;
  if (!(store instanceof SqliteStore)) throw new Error(`a SQLite gateway is needed, not ${store.dialect}`);
  return store.storage.sqlite;
}

/** The state of each transaction, in order. */
function states(numbers: string[]) {
  return Promise.all(numbers.map((n) => e.state(n)));
}

/** Defect 2 of the hardening issue: one failed database write wedged the supplier side. */
describe('a full disk in the middle of steps', () => {
  it('defect 2: permits are released, ORDERING rows are taken over after their lease, trx codes survive, and purchases flow again after the disk has room', async () => {
    e = await startE2E({
      // The gateway's limit and the simulator's own: a single call over it would be refused.
      env: { MITRA_RATE_LIMIT: `${LIMIT}/400ms`, RECONCILE_SCHEDULE_MS: '100,200,400' },
      sim: { rateLimit: { limit: LIMIT, windowMs: 400 } },
    });
    const numbers = Array.from({ length: 12 }, (_, i) => `T-DISK-${i}`);
    const tokens = new Map<string, string>();
    for (const n of numbers) {
      const init = await e.init(n, { accountId: `${100 + numbers.indexOf(n)}-1` });
      expect(init.status).toBe(200);
      tokens.set(n, String(init.json.transactionToken));
    }
    // Orders take a while, so the disk fills while some are in flight and the rest wait for a permit.
    e.sim.setFaults({ latencyMs: 300 });
    const topups = numbers.map((n) => e.topup(n, tokens.get(n)));
    // Every top-up is taken (QUEUED) before the disk fills: the first orders can be in flight
    // before the last top-ups are queued.
    let seen: (string | undefined)[] = [];
    await waitFor(
      async () => {
        seen = await states(numbers);
        const ordering = seen.filter((s) => s === 'ORDERING').length;
        return ordering === LIMIT && seen.filter((s) => s === 'QUEUED').length === numbers.length - LIMIT;
      },
      5000,
      () => `the first orders in flight and the rest queued (now ${seen.join(', ')})`,
    );
    fillDisk(gatewaySqlite());
    // The replies of the orders in flight cannot be committed; the waiting orders get their
    // permits, cannot commit ORDERING, and must give the permits back.
    await waitFor(() => e.sim.orders.length === LIMIT, 5000, 'the orders in flight to be created');
    await waitFor(
      () => e.gw.limiter.stats().waiting.order === 0,
      8000,
      'every waiting order to get a permit',
    );
    const answers = await Promise.all(topups);
    for (const a of answers) expect(a.status).toBe(408);
    const after = await states(numbers);
    const stuck = numbers.filter((_, i) => after[i] === 'ORDERING');
    expect(stuck).toHaveLength(LIMIT); // their replies were never committed
    expect(after.filter((s) => s === 'QUEUED')).toHaveLength(numbers.length - LIMIT);

    freeDisk(gatewaySqlite());
    e.sim.setFaults({ latencyMs: 0 });
    for (const n of numbers) {
      const answer = await e.settle(n, 20_000);
      expect(answer.status, n).toBe(200);
      expect(e.sim.ordersFor(`RG-${n}`), n).toHaveLength(1);
      expect((await e.gw.store.getTransaction(n))?.trxCode).toBe(e.sim.order(`RG-${n}`)?.trxCode);
    }
    for (const n of stuck) {
      // Taken up again by the reconciler after the lease, settled by the trx code kept in
      // memory: a status call, never a second order.
      expect(await e.events(n)).toEqual([
        'INITIATED>QUEUED',
        'QUEUED>ORDERING',
        'ORDERING>PROCESSING',
        'PROCESSING>SUCCESS',
      ]);
      const calls = await e.calls(n);
      expect(calls.map((c) => c.operation)).toContain('order-status');
      expect(calls.filter((c) => c.operation === 'order')).toEqual([
        { operation: 'order', outcome: 'accepted' },
      ]);
    }

    // New purchases flow at the full rate limit: no slot was lost during the fault.
    const more = Array.from({ length: 2 * LIMIT }, (_, i) => `T-AFTER-${i}`);
    const results = await Promise.all(more.map((n, i) => e.purchase(n, { accountId: `${200 + i}-1` })));
    for (const [i, r] of results.entries()) {
      const n = more[i] ?? '';
      if (r.topup.status !== 200) expect((await e.settle(n, 10_000)).status, n).toBe(200);
    }
    expect(e.sim.stats.rateLimited).toBe(0);
  }, 60_000);
});
