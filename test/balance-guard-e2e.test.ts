import { afterEach, describe, expect, it } from 'vitest';
import { type E2E, startE2E } from './helpers/e2e.js';
import { waitFor } from './helpers/wait.js';

// The balance guard against the simulator: init refuses what the supplier balance cannot pay
// for, never a top-up; a stale reading alerts instead of refusing.

let e: E2E | undefined;
afterEach(async () => {
  await e?.close();
  e = undefined;
});

/** DIAMOND50 sells MLBB112, 15,000 IDR in the simulator. */
const PRICE = 15_000;

async function metric(env: E2E, series: string): Promise<number> {
  const { body } = await env.gw.metrics.render();
  const line = body.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? Number.NaN : Number(line.slice(series.length + 1));
}

describe('balance guard', () => {
  it('refuses an init the balance cannot pay for (OOS, saying why), never the top-up of an earlier init', async () => {
    e = await startE2E();
    const early = await e.init('T-EARLY');
    expect(early.status).toBe(200);

    // The start's own poll is over: the next one reads the balance set here, not joins it.
    await e.gw.balance.idle();
    e.sim.balance = PRICE - 1;
    expect((await e.gw.balance.poll())?.idr).toBe(PRICE - 1);
    const refused = await e.init('T-LOW');
    expect(refused.status).toBe(400);
    expect(refused.json.code).toBe('OOS');
    expect(refused.json.message).toBe(
      'DIAMOND50 cannot be paid for now: the supplier balance is too low for it (the operator must top it up)',
    );
    expect(await e.state('T-LOW')).toBeUndefined();
    expect(await metric(e, 'gateway_init_refusals_total{code="OOS",reason="balance"}')).toBe(1);

    // The operator tops the Mitra account up; the watch has not read it again yet. The purchase
    // initiated before is paid for at top-up, whatever the guard would say of a new init.
    e.sim.balance = 1_000_000;
    const topup = await e.topup('T-EARLY', early.json.transactionToken);
    expect(topup.status === 200 || topup.status === 408).toBe(true);
    expect((await e.settle('T-EARLY')).json.status).toBe('SUCCESS');
    expect((await e.init('T-STILL-LOW')).json.code).toBe('OOS');
    expect(await metric(e, 'gateway_init_refusals_total{code="OOS",reason="balance"}')).toBe(2);

    // Read again: sales go on.
    await e.gw.balance.poll();
    expect((await e.init('T-AGAIN')).status).toBe(200);
    expect(await metric(e, 'gateway_supplier_committed_idr')).toBe(0);
  });

  it('counts what paid purchases will still be charged against the balance, not unpaid inits', async () => {
    e = await startE2E();
    e.sim.balance = 2 * PRICE - 1;
    await e.gw.balance.poll();
    // Inits not paid for commit nothing: both are accepted.
    const paid = await e.init('T-PAID');
    expect(paid.status).toBe(200);
    expect((await e.init('T-UNPAID')).status).toBe(200);

    // Paid, and its order held back by the supplier's rate limit (rc 45): QUEUED, certainly not
    // sent, so its price is still to be charged.
    // Every attempt within the test is refused so (each pauses a second: far more than it needs).
    for (let i = 0; i < 100; i++) e.sim.nextFault('order', { kind: 'rateLimit' });
    const topup = await e.topup('T-PAID', paid.json.transactionToken);
    expect(topup.status).not.toBe(400);
    expect(await e.state('T-PAID')).toBe('QUEUED');
    // The guards read the open purchases at most once a second (one snapshot, shared with the
    // metrics): an init within a second of the top-up may not see it yet. Once the figure shows
    // it, the next init is judged by it.
    const env = e;
    await waitFor(
      async () => (await metric(env, 'gateway_supplier_committed_idr')) >= PRICE,
      5000,
      'the snapshot to count the paid purchase',
    );
    const refused = await e.init('T-OVER');
    expect(refused.json.code).toBe('OOS');
    e.sim.clearQueued();
  });

  it('does not count twice an order that may be charged already (ORDERING, UNKNOWN): it sells', async () => {
    e = await startE2E();
    e.sim.balance = 2 * PRICE - 1;
    await e.gw.balance.poll();
    const paid = await e.init('T-HUNG');
    // The supplier takes the order and the reply never comes: UNKNOWN, charged in fact.
    e.sim.setFaults({ hangProbability: 1 });
    const topup = await e.topup('T-HUNG', paid.json.transactionToken);
    expect(topup.status).not.toBe(400);
    expect(['ORDERING', 'UNKNOWN']).toContain(await e.state('T-HUNG'));
    expect((await e.init('T-NEXT')).status).toBe(200);
    e.sim.setFaults({ hangProbability: 0 });
  });

  it('does not refuse on a balance older than BALANCE_GUARD_MAX_AGE: one alert instead', async () => {
    let skew = 0;
    e = await startE2E({
      env: { BALANCE_GUARD_MAX_AGE: '1m' },
      gateway: { now: () => Date.now() + skew },
    });
    // The start's own poll done first: on a loaded machine its turn (a database read) could
    // otherwise come after the skew below and date a fresh reading then.
    await e.gw.balance.idle();
    e.sim.balance = 1;
    await e.gw.balance.poll();
    expect((await e.init('T-FRESH')).json.code).toBe('OOS');

    skew = 2 * 60_000; // the reading is now two minutes old
    expect((await e.init('T-STALE-1')).status).toBe(200);
    expect((await e.init('T-STALE-2')).status).toBe(200);
    expect(await metric(e, 'gateway_alerts_total{kind="stale-balance"}')).toBe(1);
    expect(await metric(e, 'gateway_init_refusals_total{code="OOS",reason="balance"}')).toBe(1);
    expect(await metric(e, 'gateway_alert_active{kind="stale-balance"}')).toBe(1);
    // A fresh reading ends the condition at once, with no init to judge by it.
    await e.gw.balance.poll();
    expect(await metric(e, 'gateway_alert_active{kind="stale-balance"}')).toBe(0);
  });
});
