import { afterEach, describe, expect, it } from 'vitest';
import { type E2E, startE2E } from './helpers/e2e.js';

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

    e.sim.balance = PRICE - 1;
    expect((await e.gw.balance.poll())?.idr).toBe(PRICE - 1);
    const refused = await e.init('T-LOW');
    expect(refused.status).toBe(400);
    expect(refused.json.code).toBe('OOS');
    expect(refused.json.message).toMatch(/supplier balance .*14,999 IDR, below its price of 15,000 IDR/);
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

    // Paid, and its order not answered (the supplier hangs): its price is still to be charged.
    e.sim.setFaults({ hangProbability: 1 });
    const topup = await e.topup('T-PAID', paid.json.transactionToken);
    expect(topup.status).not.toBe(400);
    expect(['QUEUED', 'ORDERING', 'UNKNOWN']).toContain(await e.state('T-PAID'));
    const refused = await e.init('T-OVER');
    expect(refused.json.code).toBe('OOS');
    expect(refused.json.message).toMatch(
      /balance left after open purchases is 1[34],999 IDR, below its price/,
    );
    expect(await metric(e, 'gateway_supplier_committed_idr')).toBeGreaterThanOrEqual(PRICE);
    e.sim.setFaults({ hangProbability: 0 });
  });

  it('does not refuse on a balance older than BALANCE_GUARD_MAX_AGE: one alert instead', async () => {
    let skew = 0;
    e = await startE2E({
      env: { BALANCE_GUARD_MAX_AGE: '1m' },
      gateway: { now: () => Date.now() + skew },
    });
    e.sim.balance = 1;
    await e.gw.balance.poll();
    expect((await e.init('T-FRESH')).json.code).toBe('OOS');

    skew = 2 * 60_000; // the reading is now two minutes old
    expect((await e.init('T-STALE-1')).status).toBe(200);
    expect((await e.init('T-STALE-2')).status).toBe(200);
    expect(await metric(e, 'gateway_alerts_total{kind="stale-balance"}')).toBe(1);
    expect(await metric(e, 'gateway_init_refusals_total{code="OOS",reason="balance"}')).toBe(1);
  });
});
