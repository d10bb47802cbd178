import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MitraClient } from '../src/mitra/client.js';
import type { Limiter } from '../src/mitra/limiter.js';
import type { MitraSimulator } from '../src/sim/mitra-sim.js';
import { clientFor, startSim, startWebhookReceiver } from './helpers/mitra.js';
import { waitFor } from './helpers/wait.js';

let sim: MitraSimulator;
let hooks: Awaited<ReturnType<typeof startWebhookReceiver>>;
let client: MitraClient;
let limiter: Limiter;

beforeEach(async () => {
  hooks = await startWebhookReceiver();
  sim = await startSim({ webhookUrl: hooks.url });
  ({ client, limiter } = clientFor(sim));
});
afterEach(async () => {
  await sim.close();
  await hooks.close();
});

const MLBB = { brand_key: 'MLBB', variation_key: 'MLBB112', price: 15000 };
const MLBB_DATA = [
  { key: 'user_id', value: '123456' },
  { key: 'zone_id', value: '12' },
];
const place = async (refId: string, over: Record<string, unknown> = {}) =>
  client.createOrder({ ...MLBB, ref_id: refId, data: MLBB_DATA, ...over }, await limiter.acquire('order'));
type Hook = { type: string; data: Record<string, unknown> };
const hooksOf = (type: string) => (hooks.received as Hook[]).filter((h) => h.type === type);

describe('simulator: published scenarios', () => {
  it('MLBB112: processing at first, succeeds later, and calls the webhook (Status Update and Top Up)', async () => {
    const created = await place('RG-A');
    if (created.kind !== 'accepted') throw new Error(created.kind);
    const trx = created.data.trx_code;
    expect(sim.order(trx)?.status).toBe(1);
    await waitFor(
      () => hooksOf('topup').length === 1 && hooksOf('status_update').length === 1,
      3000,
      'webhooks',
    );
    expect(hooksOf('topup')[0]?.data).toMatchObject({ trx_code: trx, ref_id: 'RG-A', status: 2 });
    expect(hooksOf('status_update')[0]?.data).toMatchObject({
      trx_code: trx,
      ref_id: 'RG-A',
      status: 2,
      status_name: 'Success',
    });
    const status = await client.orderStatus(trx);
    expect(status).toMatchObject({
      kind: 'accepted',
      data: { status: 2, sn: expect.stringMatching(/^SN\d+$/) },
    });
  });

  it('STEAMV50: succeeds with a voucher code (no Top Up webhook: it is a voucher)', async () => {
    const created = await place('RG-S', {
      brand_key: 'STEAM',
      variation_key: 'STEAMV50',
      price: 55000,
      data: [],
    });
    if (created.kind !== 'accepted') throw new Error(created.kind);
    await waitFor(() => hooksOf('status_update').length === 1, 3000, 'status webhook');
    const status = await client.orderStatus(created.data.trx_code);
    expect(status).toMatchObject({
      kind: 'accepted',
      data: { status: 2, detail: { voucher_code: expect.stringMatching(/^STEAM-[0-9A-F]{12}$/) } },
    });
    expect(hooksOf('topup')).toHaveLength(0);
  });

  it('VCG: product not found; empty ref_id: CLIENT_ERROR; empty data: VALIDATION_ERROR', async () => {
    expect(await place('RG-V', { variation_key: 'VCG' })).toMatchObject({
      kind: 'refused',
      status: 'NOT_FOUND',
      rc: '44',
    });
    expect(await place('')).toMatchObject({ kind: 'refused', status: 'CLIENT_ERROR' });
    expect(await place('RG-E', { data: [] })).toMatchObject({ kind: 'refused', status: 'VALIDATION_ERROR' });
    expect(sim.orders).toHaveLength(0);
  });
});

describe('simulator: rules', () => {
  it('checks data against the brand forms (numeric, option)', async () => {
    expect(
      await place('R1', {
        data: [
          { key: 'user_id', value: 'abc' },
          { key: 'zone_id', value: '1' },
        ],
      }),
    ).toMatchObject({
      kind: 'refused',
      message: 'user_id must be numeric',
    });
    const gi = { brand_key: 'GENSHIN', variation_key: 'GI60', price: 16000 };
    expect(
      await place('R2', {
        ...gi,
        data: [
          { key: 'user_id', value: '812345678' },
          { key: 'server', value: 'Mars' },
        ],
      }),
    ).toMatchObject({
      kind: 'refused',
      message: 'server must be one of the options',
    });
    expect(
      (
        await place('R3', {
          ...gi,
          data: [
            { key: 'user_id', value: '812345678' },
            { key: 'server', value: 'Asia' },
          ],
        })
      ).kind,
    ).toBe('accepted');
  });

  it('debits the supplier price from the balance, refuses when short (rc 25), and refunds failures', async () => {
    sim.balance = 20000;
    expect(await place('R1', { price: 16000 })).toMatchObject({
      kind: 'accepted',
      data: { selling_total: 15000 },
    });
    expect(sim.balance).toBe(5000);
    expect(await place('R2')).toMatchObject({ kind: 'refused', rc: '25' });
    sim.nextEnding({ kind: 'fail', sn: 'x' });
    sim.balance = 15000;
    const failing = await place('R3');
    if (failing.kind !== 'accepted') throw new Error(failing.kind);
    await waitFor(() => sim.order(failing.data.trx_code)?.status === 3, 3000, 'failure');
    expect(sim.balance).toBe(15000);
  });

  it('refuses an order priced below the supplier price (rc 24) and an inactive variation', async () => {
    expect(await place('R1', { price: 14999 })).toMatchObject({ kind: 'refused', rc: '24' });
    expect(await place('R2', { variation_key: 'MLBB5000', price: 2_000_000 })).toMatchObject({
      kind: 'refused',
      rc: '44',
    });
  });

  it('answers order status by trx code, and by ref_id unless told not to', async () => {
    const created = await place('RG-REF');
    if (created.kind !== 'accepted') throw new Error(created.kind);
    expect(await client.orderStatus('RG-REF')).toMatchObject({
      kind: 'accepted',
      data: { code: created.data.trx_code },
    });
    const strict = await startSim({ statusAcceptsRefId: false });
    try {
      const c = clientFor(strict);
      await c.client.createOrder(
        { ...MLBB, ref_id: 'RG-X', data: MLBB_DATA },
        await c.limiter.acquire('order'),
      );
      expect(await c.client.orderStatus('RG-X')).toMatchObject({ kind: 'refused', rc: '44' });
    } finally {
      await strict.close();
    }
  });

  it('enforces its own rate limit with HTTP 429 and rc 45', async () => {
    const tight = await startSim({ rateLimit: { limit: 3, windowMs: 60_000 } });
    try {
      const c = clientFor(tight, { retry: { tries: 1 } });
      for (let i = 0; i < 3; i++) expect((await c.client.balance()).kind).toBe('accepted');
      expect(await c.client.balance()).toMatchObject({ kind: 'retryable', rc: '45', httpStatus: 429 });
      expect(tight.stats.rateLimited).toBe(1);
    } finally {
      await tight.close();
    }
  });

  it('sends a Product Status webhook on a price or active-flag change', async () => {
    sim.setVariation('MLBB', 'MLBB112', { price: 17000 });
    sim.setVariation('MLBB', 'MLBB112', { isActive: false });
    await waitFor(() => hooksOf('product_status').length === 2, 3000, 'product webhooks');
    expect(hooksOf('product_status').map((h) => h.data)).toEqual([
      { brand_key: 'MLBB', variation_key: 'MLBB112', price: 17000, is_active: true },
      { brand_key: 'MLBB', variation_key: 'MLBB112', price: 17000, is_active: false },
    ]);
  });
});

describe('simulator: faults', () => {
  it('fails or refunds after processing, with the reason in sn', async () => {
    sim.nextEnding({ kind: 'fail', sn: 'invalid player' });
    sim.nextEnding({ kind: 'refund', sn: 'provider error' });
    const a = await place('R-fail');
    const b = await place('R-refund');
    if (a.kind !== 'accepted' || b.kind !== 'accepted') throw new Error('not accepted');
    await waitFor(() => hooksOf('status_update').length === 2, 3000, 'status webhooks');
    expect(await client.orderStatus(a.data.trx_code)).toMatchObject({
      data: { status: 3, sn: 'invalid player' },
    });
    expect(await client.orderStatus(b.data.trx_code)).toMatchObject({
      data: {
        status: 4,
        sn: 'provider error',
        history_status: [
          { status_name: 'Processing' },
          { status_name: 'Success' },
          { status_name: 'Refund' },
        ],
      },
    });
  });

  it('can leave an order processing for ever, or end it by hand', async () => {
    sim.nextEnding({ kind: 'stay' });
    const a = await place('R-stay');
    if (a.kind !== 'accepted') throw new Error(a.kind);
    const other = await place('R-other');
    await waitFor(() => hooksOf('status_update').length === 1, 3000, 'the other order to finish');
    expect(sim.order(a.data.trx_code)?.status).toBe(1);
    sim.finish(a.data.trx_code, { kind: 'success' });
    expect(sim.order(a.data.trx_code)?.status).toBe(2);
    expect(other.kind).toBe('accepted');
  });

  it('drops, duplicates, delays and reorders webhooks', async () => {
    sim.setFaults({ webhookDropProbability: 1 });
    sim.setVariation('MLBB', 'MLBB112', { price: 15100 });
    expect(sim.stats.webhooksDropped).toBe(1);

    sim.setFaults({ webhookDropProbability: 0, webhookDuplicateProbability: 1 });
    sim.setVariation('MLBB', 'MLBB112', { price: 15200 });
    await waitFor(() => hooks.received.length === 2, 3000, 'duplicated webhook');

    sim.setFaults({ webhookDuplicateProbability: 0, webhookDelayMs: 150 });
    const before = Date.now();
    sim.setVariation('MLBB', 'MLBB112', { price: 15300 });
    await waitFor(() => hooks.received.length === 3, 3000, 'delayed webhook');
    expect(Date.now() - before).toBeGreaterThanOrEqual(140);

    sim.setFaults({ webhookDelayMs: 0, webhookReorderWindowMs: 50 });
    sim.setVariation('MLBB', 'MLBB112', { price: 15400 });
    sim.setVariation('MLBB', 'MLBB112', { price: 15500 });
    await waitFor(() => hooks.received.length === 5, 3000, 'reordered webhooks');
    expect((hooks.received.slice(3) as Hook[]).map((h) => h.data.price)).toEqual([15500, 15400]);
  });

  it('applies latency and probabilistic faults to every call', async () => {
    sim.setFaults({ latencyMs: 60 });
    const t = Date.now();
    expect((await client.balance()).kind).toBe('accepted');
    expect(Date.now() - t).toBeGreaterThanOrEqual(55);
    sim.setFaults({ latencyMs: 0, http500Probability: 1 });
    const c = clientFor(sim, { retry: { tries: 1 } }).client;
    expect(await c.balance()).toMatchObject({ kind: 'ambiguous', httpStatus: 500 });
  });

  it('is driven over HTTP by its admin endpoints', async () => {
    const post = (path: string, body: unknown) =>
      fetch(`${sim.url}/__sim/${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await post('next-fault', { op: 'balance', fault: { kind: 'http500' } })).status).toBe(200);
    expect(await clientFor(sim, { retry: { tries: 1 } }).client.balance()).toMatchObject({
      kind: 'ambiguous',
    });
    expect((await post('faults', { latencyMs: -1 })).status).toBe(400);
    expect((await post('next-ending', { kind: 'fail', sn: 'nope' })).status).toBe(200);
    expect(
      (await post('variation', { brand_key: 'MLBB', variation_key: 'MLBB112', price: 19000 })).status,
    ).toBe(200);
    expect(sim.variation('MLBB', 'MLBB112')?.price).toBe(19000);
    const state = (await (await fetch(`${sim.url}/__sim/state`)).json()) as {
      balance: number;
      stats: { calls: { balance: number } };
    };
    expect(state).toMatchObject({ balance: 10_000_000, stats: { calls: { balance: 1 } } });
  });
});
