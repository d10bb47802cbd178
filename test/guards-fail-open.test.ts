import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Store } from '../src/db/store.js';
import type { SupplyView } from '../src/fulfilment/supply-snapshot.js';
import { createLogger } from '../src/log.js';
import { textOf } from './helpers/console-html.js';
import { type E2E, startE2E } from './helpers/e2e.js';
import { initBody, type RazerHarness, send, startRazer } from './helpers/razer.js';
import { TEST_DIALECT } from './helpers/storage.js';

/**
 * The init guards read the open purchases (through the shared snapshot) at every init. When that
 * read fails (a PostgreSQL statement timeout, a dropped connection), they fail open: "a stale
 * reading must not stop all sales". Every init was a 500 before.
 */

const TIMEOUT = 'canceling statement due to statement timeout';

let h: RazerHarness | undefined;
let e: E2E | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
  await e?.close();
  e = undefined;
});

const init = (r: RazerHarness, n: string, over: Record<string, unknown> = {}) =>
  send(r, 'POST', '/transaction/init', initBody(n, over));

/** A balance the guard judges by: read now, `idr` IDR. */
const freshBalance = (r: RazerHarness, idr: number) => ({
  reading: () => ({ idr, at: r.clock.now }),
  maxAgeMs: 900_000,
});

describe('the init guards when the open purchases cannot be read', () => {
  it('the queue guard sells (200, one row) when its figures cannot be read', async () => {
    h = await startRazer();
    h.deps.queueGuard = { maxWaitMs: 600_000, budget: { limit: 200, windowMs: 60_000 } };
    h.deps.supply = () => Promise.reject(new Error(TIMEOUT));
    const reply = await init(h, 'FO-Q-1');
    expect(reply.status, reply.text).toBe(200);
    expect((await h.row('FO-Q-1'))?.state).toBe('INITIATED');
  });

  it('the balance guard sells on a fresh balance when what open purchases will be charged cannot be read', async () => {
    h = await startRazer();
    h.deps.balanceGuard = freshBalance(h, 1_000_000);
    h.deps.supply = () => Promise.reject(new Error('Connection terminated unexpectedly'));
    const reply = await init(h, 'FO-B-1');
    expect(reply.status, reply.text).toBe(200);
  });

  it('without a snapshot, a failing read of the store sells too', async () => {
    h = await startRazer();
    h.deps.queueGuard = { maxWaitMs: 600_000, budget: { limit: 200, windowMs: 60_000 } };
    h.deps.balanceGuard = freshBalance(h, 1_000_000);
    vi.spyOn(h.store, 'openCommitments').mockRejectedValue(new Error(TIMEOUT));
    expect((await init(h, 'FO-S-1')).status).toBe(200);
  });

  it('judges nothing on unknown figures, and by the last good figures while they are kept', async () => {
    h = await startRazer();
    const r = h;
    // What open purchases will still be charged (16,000) leaves 14,000 of 30,000: below DIAMOND50's
    // price (15,000).
    r.deps.balanceGuard = freshBalance(r, 30_000);
    const unread = { reason: TIMEOUT, since: r.clock.now };
    let view: SupplyView = { figures: null, unread };
    r.deps.supply = async () => view;
    expect((await init(r, 'FO-U-1', { accountId: '1-1' })).status).toBe(200);

    view = { figures: { committedIdr: 16_000, queuedOrders: 1, readAt: r.clock.now - 30_000 }, unread };
    const refused = await init(r, 'FO-K-1', { accountId: '2-1' });
    expect(refused.status).toBe(400);
    expect(refused.json.code).toBe('OOS');
    expect(await r.row('FO-K-1')).toBeUndefined();
  });

  it('answers a repeated init racing its first with the first answer, byte for byte', async () => {
    h = await startRazer();
    h.deps.queueGuard = { maxWaitMs: 600_000, budget: { limit: 200, windowMs: 60_000 } };
    h.deps.balanceGuard = freshBalance(h, 1_000_000);
    // Both requests are past their checks before either reads the figures (which then fail).
    let waiting = 0;
    let release!: () => void;
    const bothIn = new Promise<void>((resolve) => {
      release = resolve;
    });
    h.deps.supply = async () => {
      if (++waiting === 2) release();
      await bothIn;
      throw new Error(TIMEOUT);
    };
    const [first, repeat] = await Promise.all([init(h, 'FO-R-1'), init(h, 'FO-R-1')]);
    expect(first.status, first.text).toBe(200);
    expect(repeat.status, repeat.text).toBe(200);
    expect(repeat.text).toBe(first.text);
    expect(await h.count('transactions')).toBe(1);
  });
});

/** The console's supplier page as a reader sees it (signed in). */
async function supplierPage(url: string, token: string): Promise<{ status: number; text: string }> {
  const signIn = await fetch(`${url}/console/sign-in`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token, actor: 'alice' }).toString(),
    redirect: 'manual',
  });
  expect(signIn.status).toBe(303);
  const cookie = signIn.headers
    .getSetCookie()
    .map((line) => line.split(';')[0])
    .join('; ');
  const page = await fetch(`${url}/console/supplier`, { headers: { cookie } });
  return { status: page.status, text: textOf(await page.text()) };
}

describe(`a running gateway whose open purchases cannot be read (${TEST_DIALECT})`, () => {
  const ADMIN_TOKEN = 'admin-token-for-tests-0123456789';

  it('takes every init (200), orders each purchase once, shows the figures unknown, and tells of it once', async () => {
    const lines: Record<string, unknown>[] = [];
    const run = await startE2E({
      env: { ADMIN_TOKEN, MAX_SUPPLIER_WAIT: '10m' },
      logger: createLogger('info', { write: (line: string) => void lines.push(JSON.parse(line)) }),
      // Every ask reads: every init meets the failing read.
      gateway: { supplySnapshotMs: 0 },
    });
    e = run;
    const gw = run.gw;
    await gw.balance.poll();
    expect(gw.balance.last()?.idr).toBeGreaterThan(0);
    const store: Store = gw.store;
    const read = vi.spyOn(store, 'openCommitments').mockRejectedValue(new Error(TIMEOUT));

    const numbers = Array.from({ length: 6 }, (_, i) => `FO-E2E-${i}`);
    const inits = await Promise.all(numbers.map((n, i) => run.init(n, { accountId: `${500 + i}-1` })));
    for (const [i, r] of inits.entries()) expect(r.status, `${numbers[i]}: ${r.text}`).toBe(200);
    for (const [i, n] of numbers.entries())
      expect((await run.topup(n, inits[i]?.json.transactionToken)).status).not.toBe(500);
    for (const n of numbers) {
      expect((await run.settle(n)).status, n).toBe(200);
      expect(run.sim.ordersFor(`RG-${n}`), n).toHaveLength(1);
    }
    expect(read.mock.calls.length).toBeGreaterThanOrEqual(numbers.length);

    // The supplier API and page answer, the figures unknown with the reason.
    const res = await fetch(`${run.url}/admin/supplier`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(res.status).toBe(200);
    const { guards } = (await res.json()) as { guards: Record<string, unknown> };
    expect(guards).toMatchObject({
      committedIdr: null,
      availableIdr: null,
      queuedOrders: null,
      expectedWaitSeconds: null,
      maxWaitSeconds: 600,
      unread: { reason: TIMEOUT, figuresReadAt: null },
    });
    const page = await supplierPage(run.url, ADMIN_TOKEN);
    expect(page.status).toBe(200);
    expect(page.text).toContain('unknown: the open purchases cannot be read');
    expect(page.text).toContain(
      `${TIMEOUT}. The guards judge nothing meanwhile: no init is refused for the balance or the queue.`,
    );
    // The metrics answer, without the figures; readiness is not at stake.
    const metrics = await gw.metrics.render();
    expect(metrics.body).not.toMatch(/^gateway_supplier_committed_idr /m);
    expect(metrics.body).not.toMatch(/^gateway_supplier_expected_wait_seconds /m);
    expect(metrics.body).toMatch(/^gateway_alerts_total\{kind="open-purchases-unread"\} 1$/m);
    expect((await fetch(`${run.url}/readyz`)).status).toBe(200);

    // Told once: one warning, one alert, however many inits.
    const warned = lines.filter((l) => String(l.msg).startsWith('open purchases not read'));
    expect(warned.map((l) => l.msg)).toEqual([
      `open purchases not read (${TIMEOUT}): the init guards judge nothing: no init is refused for the balance or the supplier queue until they are read again`,
    ]);

    // Read again: the figures are back, the alert is cleared (a new failure is told again).
    read.mockRestore();
    const back = (await (
      await fetch(`${run.url}/admin/supplier`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
    ).json()) as { guards: Record<string, unknown> };
    expect(back.guards).toMatchObject({ committedIdr: 0, queuedOrders: 0, unread: null });
    expect(
      lines.filter((l) => l.msg === 'open purchases read again: the init guards judge by them again'),
    ).toHaveLength(1);
    vi.spyOn(store, 'openCommitments').mockRejectedValue(new Error('Connection terminated unexpectedly'));
    expect((await run.init('FO-E2E-AGAIN', { accountId: '600-1' })).status).toBe(200);
    expect((await gw.metrics.render()).body).toMatch(
      /^gateway_alerts_total\{kind="open-purchases-unread"\} 2$/m,
    );
  }, 60_000);
});
