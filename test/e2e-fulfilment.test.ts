import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../src/db/open.js';
import { type E2E, startE2E, WEBHOOK_TOKEN } from './helpers/e2e.js';
import { clientFor } from './helpers/mitra.js';
import { tempDatabase } from './helpers/storage.js';
import { waitFor } from './helpers/wait.js';

let e: E2E;
/** Run after the gateway of the test has closed (databases a test made itself). */
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await e?.close();
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** The supplier holds exactly one order for the transaction (invariant 1). */
const oneOrder = (n: string) => expect(e.sim.ordersFor(`RG-${n}`)).toHaveLength(1);
const noOrder = (n: string) => expect(e.sim.ordersFor(`RG-${n}`)).toHaveLength(0);

describe('razer-side §4: supplier outcomes become answers', () => {
  it('order status success -> SUCCESS, 200 (top-up delivered, completed by webhook)', async () => {
    // Polling far away: only the webhook can complete it within the top-up wait.
    e = await startE2E({ env: { RECONCILE_SCHEDULE_MS: '60000' } });
    const { topup } = await e.purchase('T-OK');
    expect(topup.status).toBe(200);
    expect(topup.json).toEqual({
      transactionNumber: 'T-OK',
      status: 'SUCCESS',
      referenceId: expect.stringMatching(/^VCG-TRX-/),
    });
    expect((await e.query('T-OK')).text).toBe(topup.text);
    oneOrder('T-OK');
    // Create-order and one status call: the webhook was the trigger.
    expect(await e.calls('T-OK')).toEqual([
      { operation: 'order', outcome: 'accepted' },
      { operation: 'order-status', outcome: 'accepted' },
    ]);
    expect(await e.events('T-OK')).toEqual([
      'INITIATED>QUEUED',
      'QUEUED>ORDERING',
      'ORDERING>PROCESSING',
      'PROCESSING>SUCCESS',
    ]);
  });

  it('a voucher: 200 with the voucher code', async () => {
    e = await startE2E();
    const { topup } = await e.purchase('T-V', { sku: 'STEAMV50', accountId: 'player-1' });
    expect(topup.status).toBe(200);
    const order = e.sim.order('RG-T-V');
    expect(topup.json).toEqual({
      transactionNumber: 'T-V',
      status: 'SUCCESS',
      referenceId: order?.trxCode,
      voucher: { code: order?.voucherCode },
    });
  });

  it.each([
    ['failed', { kind: 'fail', sn: 'Invalid player id' } as const, 'Invalid player id'],
    ['refunded', { kind: 'refund', sn: 'Provider error, refunded' } as const, 'Provider error, refunded'],
  ])('order status %s -> FAILED, 400 FAILED with the supplier reason', async (_name, ending, message) => {
    e = await startE2E();
    e.sim.nextEnding(ending);
    const { topup } = await e.purchase('T-F');
    expect(topup.status).toBe(400);
    expect(topup.json).toEqual({ code: 'FAILED', message });
    oneOrder('T-F');
  });

  it.each([
    [
      'product not found (rc 44)',
      { kind: 'refuse', rc: '44', status: 'NOT_FOUND', http: 404 } as const,
      'INAVLID_SKU',
    ],
    [
      'validation (rc 40)',
      { kind: 'refuse', rc: '40', status: 'VALIDATION_ERROR', http: 400 } as const,
      'INVALID_ACCT',
    ],
    [
      'signature rejected (rc 43)',
      { kind: 'refuse', rc: '43', status: 'SIGNATURE_INVALID', http: 401 } as const,
      'FAILED',
    ],
  ])('create-order %s -> FAILED, 400 %s', async (_name, fault, code) => {
    e = await startE2E();
    e.sim.nextFault('order', fault);
    const { topup } = await e.purchase('T-R');
    expect(topup.status).toBe(400);
    expect(topup.json.code).toBe(code);
    noOrder('T-R');
    expect(e.gw.counters.alerts).toBe(fault.rc === '43' ? 1 : 0);
  });

  it('create-order insufficient balance (rc 25) -> 400 OOS, operator alerted', async () => {
    e = await startE2E();
    // Lowered after the init: the balance guard would refuse the init itself.
    const init = await e.init('T-BAL');
    expect(init.status).toBe(200);
    e.sim.balance = 100;
    const topup = await e.topup('T-BAL', init.json.transactionToken);
    expect(topup.json).toMatchObject({ code: 'OOS' });
    expect(e.gw.counters.alerts).toBe(1);
    noOrder('T-BAL');
  });

  it('price limit (rc 24): refreshed, sent once more within max_price, delivered', async () => {
    e = await startE2E();
    const v = e.sim.variation('MLBB', 'MLBB112');
    if (v) v.price = 15800; // moved without a Product Status webhook: the cache is stale
    const { topup } = await e.purchase('T-24');
    expect((await e.settle('T-24')).status).toBe(200);
    expect(topup.status === 200 || topup.status === 408).toBe(true);
    oneOrder('T-24');
    expect(e.sim.order('RG-T-24')?.offeredPrice).toBe(15800);
    expect((await e.calls('T-24')).slice(0, 2)).toEqual([
      { operation: 'order', outcome: 'refused' },
      { operation: 'order', outcome: 'accepted' },
    ]);
    expect(e.sim.stats.calls.variations).toBe(4); // 3 brands at start, then MLBB again
  });

  it('price limit (rc 24) above max_price after the refresh -> 400 OOS', async () => {
    e = await startE2E();
    const v = e.sim.variation('MLBB', 'MLBB112');
    if (v) v.price = 16500;
    const { topup } = await e.purchase('T-24X');
    expect(topup.json).toMatchObject({ code: 'OOS' });
    noOrder('T-24X');
  });

  it('ref id already exists (rc 23) -> UNKNOWN, resolved to the existing order', async () => {
    e = await startE2E();
    const init = await e.init('T-23');
    // Someone (an earlier run) already placed the order for this ref_id.
    const other = clientFor(e.sim);
    await other.client.createOrder(
      {
        brand_key: 'MLBB',
        variation_key: 'MLBB112',
        price: 15000,
        ref_id: 'RG-T-23',
        data: [
          { key: 'user_id', value: '123456' },
          { key: 'zone_id', value: '12' },
        ],
      },
      await other.limiter.acquire('order'),
    );
    await e.topup('T-23', init.json.transactionToken);
    expect((await e.settle('T-23')).status).toBe(200);
    oneOrder('T-23');
    expect(await e.events('T-23')).toContain('ORDERING>UNKNOWN');
  });

  it.each([
    ['HTTP 500', { kind: 'http500' } as const, false],
    ['an unreadable reply', { kind: 'garbage' } as const, false],
    ['a timeout before the order exists', { kind: 'hang' } as const, false],
    ['a timeout after the simulator created the order', { kind: 'createThenHang' } as const, true],
    ['the reply dropped after creation', { kind: 'dropReplyAfterCreate' } as const, true],
  ])(
    'no clear answer (%s) -> UNKNOWN, reconciled to exactly one order and 200',
    async (_name, fault, created) => {
      e = await startE2E();
      e.sim.nextFault('order', fault);
      await e.purchase('T-AMB');
      expect(await e.events('T-AMB')).toContain('ORDERING>UNKNOWN');
      expect((await e.settle('T-AMB')).status).toBe(200);
      oneOrder('T-AMB');
      // Not created: sent again and accepted. Created: the supplier's webhook named our ref_id
      // first, or a second send was refused as a duplicate (rc 23).
      const orderCalls = (await e.calls('T-AMB')).filter((c) => c.operation === 'order');
      if (created) expect([undefined, 'exists']).toContain(orderCalls[1]?.outcome);
      else expect(orderCalls[1]?.outcome).toBe('accepted');
    },
  );

  it('created but unanswered, with no webhook: sent again (rc 23), then found by ref_id', async () => {
    e = await startE2E({ sim: { faults: { webhookDropProbability: 1 } } });
    e.sim.nextFault('order', { kind: 'dropReplyAfterCreate' });
    await e.purchase('T-23B');
    expect((await e.settle('T-23B')).status).toBe(200);
    oneOrder('T-23B');
    expect((await e.calls('T-23B')).slice(0, 3)).toEqual([
      { operation: 'order', outcome: 'ambiguous' },
      { operation: 'order', outcome: 'exists' },
      { operation: 'order-status', outcome: 'accepted' },
    ]);
  });

  it('rate limited (HTTP 429, rc 45) before acceptance -> QUEUED, sent again after Retry-After', async () => {
    e = await startE2E();
    e.sim.nextFault('order', { kind: 'rateLimit' });
    await e.purchase('T-45');
    expect((await e.events('T-45')).slice(0, 3)).toEqual([
      'INITIATED>QUEUED',
      'QUEUED>ORDERING',
      'ORDERING>QUEUED',
    ]);
    expect((await e.settle('T-45')).status).toBe(200);
    oneOrder('T-45');
  });
});

describe('completion and webhooks', () => {
  it('completes by polling when every webhook is dropped', async () => {
    e = await startE2E({ sim: { faults: { webhookDropProbability: 1 } } });
    const { topup } = await e.purchase('T-POLL');
    expect([200, 408]).toContain(topup.status);
    expect((await e.settle('T-POLL')).status).toBe(200);
    expect(e.sim.stats.webhooksDropped).toBeGreaterThan(0);
    expect((await e.calls('T-POLL')).length).toBeLessThanOrEqual(4);
    oneOrder('T-POLL');
  });

  it('changes nothing on duplicated and reordered webhooks', async () => {
    // The simulator delivers a window's webhooks all at once (reversed). The window outlasts the
    // first scheduled status check (100 ms), so that they reach a transaction already final on
    // every adapter: with a short one, on a fast database, all four arrive while the first one's
    // status check runs and join that step instead of being read as duplicates.
    e = await startE2E({ sim: { faults: { webhookDuplicateProbability: 1, webhookReorderWindowMs: 500 } } });
    const { topup } = await e.purchase('T-DUP');
    expect((await e.settle('T-DUP')).text).toBe(
      topup.status === 200 ? topup.text : (await e.query('T-DUP')).text,
    );
    await waitFor(async () => {
      const webhooks = await e.gw.store.listWebhooks();
      return webhooks.every((w) => w.processedAt !== null) && webhooks.length >= 4;
    });
    oneOrder('T-DUP');
    expect((await e.events('T-DUP')).filter((t) => t.endsWith('>SUCCESS'))).toHaveLength(1);
    const results = (await e.gw.store.listWebhooks()).map((w) => w.result);
    expect(results.filter((r) => r?.startsWith('no-op: already SUCCESS')).length).toBeGreaterThanOrEqual(2);
  });

  it('refuses a webhook from an address not allowed (403) or on a wrong token (404), storing nothing', async () => {
    e = await startE2E({ env: { MITRA_WEBHOOK_ALLOW_IPS: '172.236.143.138' } });
    const post = (path: string) =>
      fetch(e.url + path, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"data":{"trx_code":"X"}}',
      });
    expect((await post(`/mitra/webhook/${WEBHOOK_TOKEN}`)).status).toBe(403);
    expect((await post('/mitra/webhook/wrong-token-0123456789')).status).toBe(404);
    expect(await e.gw.store.listWebhooks()).toHaveLength(0);
  });

  it('with TRUST_PROXY, honours the X-Forwarded-For entry the proxy appended (the rightmost)', async () => {
    e = await startE2E({ env: { MITRA_WEBHOOK_ALLOW_IPS: '172.236.143.138', TRUST_PROXY: 'true' } });
    const post = (forwardedFor: string) =>
      fetch(`${e.url}/mitra/webhook/${WEBHOOK_TOKEN}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': forwardedFor },
        body: '{"hello":"world"}',
      });
    // The leftmost entry is whatever the sender wrote.
    expect((await post('172.236.143.138, 10.0.0.1')).status).toBe(403);
    const res = await post('10.0.0.1, 172.236.143.138');
    expect(res.status).toBe(200);
    await waitFor(async () => (await e.gw.store.listWebhooks())[0]?.processedAt !== null);
    expect(await e.gw.store.listWebhooks()).toHaveLength(1);
    expect((await e.gw.store.listWebhooks())[0]).toMatchObject({
      sourceIp: '172.236.143.138',
      kind: 'unrecognised',
    });
  });

  it('never moves a transaction on a webhook alone: a forged "success" changes nothing', async () => {
    e = await startE2E();
    e.sim.nextEnding({ kind: 'stay' });
    const { topup } = await e.purchase('T-FORGED');
    expect(topup.status).toBe(408);
    const trx = e.sim.order('RG-T-FORGED')?.trxCode;
    await fetch(e.webhookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'topup', data: { trx_code: trx, ref_id: 'RG-T-FORGED', status: 2 } }),
    });
    await waitFor(async () => (await e.gw.store.listWebhooks()).some((w) => w.processedAt !== null));
    expect(await e.state('T-FORGED')).toBe('PROCESSING');
    expect((await e.query('T-FORGED')).status).toBe(408);
  });

  it('refreshes a brand on a Product Status webhook', async () => {
    e = await startE2E();
    e.sim.setVariation('MLBB', 'MLBB112', { price: 15900 });
    await waitFor(async () => (await e.gw.catalogue.variation('MLBB', 'MLBB112'))?.price === 15900);
    e.sim.setVariation('MLBB', 'MLBB112', { price: 17000 });
    await waitFor(async () => (await e.gw.catalogue.variation('MLBB', 'MLBB112'))?.price === 17000);
    expect((await e.init('T-PRICE')).json).toMatchObject({ code: 'OOS' });
  });
});

describe('after delivery, and when Mitra is away', () => {
  it('records a refund after SUCCESS as an anomaly for an operator, and keeps answering 200', async () => {
    e = await startE2E();
    const { topup } = await e.purchase('T-REF');
    expect(topup.status).toBe(200);
    const trx = e.sim.order('RG-T-REF')?.trxCode ?? '';
    e.sim.refund(trx, 'chargeback');
    await waitFor(async () => (await e.gw.store.getTransaction('T-REF'))?.attention === true);
    expect(await e.gw.store.getTransaction('T-REF')).toMatchObject({ state: 'SUCCESS', attention: true });
    expect((await e.query('T-REF')).text).toBe(topup.text);
    expect(e.gw.counters.alerts).toBe(1);
  });

  it('waits out Mitra being down, then delivers exactly once when it is back', async () => {
    e = await startE2E();
    await e.sim.suspend();
    const { topup } = await e.purchase('T-DOWN');
    expect(topup.status).toBe(408);
    expect(['QUEUED', 'UNKNOWN', 'ORDERING']).toContain(await e.state('T-DOWN'));
    expect((await e.query('T-DOWN')).status).toBe(408);
    await e.sim.resume();
    expect((await e.settle('T-DOWN', 15_000)).status).toBe(200);
    oneOrder('T-DOWN');
  });

  it('answers a repeated top-up from the state and never orders twice', async () => {
    e = await startE2E();
    e.sim.nextEnding({ kind: 'stay' });
    const { init, topup } = await e.purchase('T-REP');
    expect(topup.status).toBe(408);
    const again = await Promise.all([1, 2, 3].map(() => e.topup('T-REP', init.json.transactionToken)));
    expect(again.map((r) => r.status)).toEqual([408, 408, 408]);
    oneOrder('T-REP');
  });
});

describe('graceful stop', () => {
  it('lets a create-order under way finish and commits its reply before closing', async () => {
    // A database of the test's own, so that it can be read afresh once the gateway has closed.
    const database = await tempDatabase();
    cleanups.push(() => database.remove());
    e = await startE2E({ env: database.env });
    e.sim.nextFault('order', { kind: 'latency', ms: 300 });
    const init = await e.init('T-STOP');
    const topup = e.topup('T-STOP', init.json.transactionToken).catch(() => null);
    await waitFor(async () => (await e.state('T-STOP')) === 'ORDERING', 3000, 'the order to be under way');
    await e.gw.close();
    const store = await openStore(database.settings);
    try {
      expect(await store.getTransaction('T-STOP')).toMatchObject({
        state: 'PROCESSING',
        trxCode: expect.stringMatching(/^VCG-TRX-/),
      });
    } finally {
      await store.close();
    }
    await topup;
    oneOrder('T-STOP');
  });
});
