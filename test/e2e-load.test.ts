import { afterAll, describe, expect, it } from 'vitest';
import { type E2E, startE2E } from './helpers/e2e.js';
import { waitFor } from './helpers/wait.js';

let e: E2E;
afterAll(() => e?.close());

describe('a burst at ten times the rate limit', () => {
  it('invariant 7: the supplier rate limit is never exceeded, and every purchase finishes once', async () => {
    // Mitra allows 10 calls per 500 ms here, and says so with rc 45 beyond that.
    const rate = { limit: 10, windowMs: 500 };
    e = await startE2E({
      sim: { rateLimit: rate, completeAfterMs: 20 },
      env: { MITRA_RATE_LIMIT: '10/500ms', TOPUP_WAIT_MS: '300', RECONCILE_SCHEDULE_MS: '300,600,1200' },
    });
    const numbers = Array.from({ length: 100 }, (_, i) => `BURST-${String(i).padStart(3, '0')}`);
    const answers = await Promise.all(numbers.map((n, i) => e.purchase(n, { accountId: `${100000 + i}-1` })));
    expect(answers.every((a) => [200, 408].includes(a.topup.status))).toBe(true);

    await waitFor(
      async () => {
        const delivered = new Set(
          (await e.gw.store.listInState('SUCCESS', 1000)).map((row) => row.transactionNumber),
        );
        return numbers.every((n) => delivered.has(n));
      },
      90_000,
      'every purchase of the burst to be delivered',
    );
    expect(e.sim.stats.rateLimited).toBe(0);
    for (const n of numbers) expect(e.sim.ordersFor(`RG-${n}`)).toHaveLength(1);
    for (const n of numbers.slice(0, 10)) expect((await e.query(n)).status).toBe(200);
  }, 120_000);
});
