import { afterEach, describe, expect, it } from 'vitest';
import { runSim } from '../src/cli/sim.js';
import { mitraSign } from '../src/mitra/signature.js';
import { SANDBOX_CREDENTIALS } from '../src/sandbox-credentials.js';
import { DEFAULT_WIRE, DIALECTS, type DialectName, dialectNameSchema } from '../src/sim/dialects.js';
import {
  type MitraSimOptions,
  type MitraSimulator,
  type OrderEnding,
  SIM_STATUS,
} from '../src/sim/mitra-sim.js';
import { SIM_KEYS, startSim, startWebhookReceiver } from './helpers/mitra.js';
import { waitFor } from './helpers/wait.js';

// Each dialect is shown on the raw wire (signed HTTP calls, webhook bodies as posted), next to
// the same calls against the default simulator.

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

type Hooks = Awaited<ReturnType<typeof startWebhookReceiver>>;

async function start(dialect: DialectName | null, options: Partial<MitraSimOptions> = {}) {
  const hooks = await startWebhookReceiver();
  closers.push(hooks.close);
  const sim = await startSim({ webhookUrl: hooks.url, dialect, ...options });
  closers.push(() => sim.close());
  return { sim, hooks };
}

interface Envelope {
  code: number;
  status: string;
  rc_code: string;
  message: string;
  data: unknown;
}
interface StatusData {
  code: string;
  ref_id: string;
  status: unknown;
  detail: Record<string, unknown>;
  history_status: { status_name: string }[];
  sn: unknown;
}

/** One signed call, as Mitra's clients make it: Bearer key, `sign` in the query. */
async function call(
  sim: { url: string },
  method: 'GET' | 'POST',
  path: string,
  message: string,
  query: Record<string, string> = {},
  body?: unknown,
  keys: { apiKey: string; secretKey: string } = SIM_KEYS,
): Promise<{ http: number; body: Envelope }> {
  const url = new URL(path, sim.url);
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  url.searchParams.set('sign', mitraSign(keys.secretKey, message));
  const res = await fetch(url, {
    method,
    headers: {
      authorization: `Bearer ${keys.apiKey}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { http: res.status, body: (await res.json()) as Envelope };
}

const MLBB = {
  brand_key: 'MLBB',
  variation_key: 'MLBB112',
  price: 15000,
  data: [
    { key: 'user_id', value: '123456' },
    { key: 'zone_id', value: '12' },
  ],
};
const STEAM = { brand_key: 'STEAM', variation_key: 'STEAMV50', price: 55000, data: [] };

function createOrder(sim: MitraSimulator, refId: string, product: typeof MLBB | typeof STEAM = MLBB) {
  const timestamp = String(Math.floor(Date.now() / 1000));
  return call(
    sim,
    'POST',
    '/v2/public/order',
    `order${product.brand_key}${product.variation_key}${product.price}${refId}${timestamp}`,
    {},
    { ...product, ref_id: refId, timestamp },
  );
}

async function orderStatus(sim: MitraSimulator, tid: string) {
  const reply = await call(sim, 'GET', '/v2/public/order-status', `orderstatus${tid}`, { tid });
  return { ...reply, data: reply.body.data as StatusData };
}

const balanceAt = (sim: MitraSimulator, path: string, word: string) => call(sim, 'GET', path, word);

/** Places an order that ends as told and waits (with a deadline) until it has ended. */
async function placeEnded(
  sim: MitraSimulator,
  refId: string,
  ending: OrderEnding,
  product: typeof MLBB | typeof STEAM = MLBB,
): Promise<string> {
  sim.nextEnding(ending);
  const created = await createOrder(sim, refId, product);
  expect(created.http).toBe(200);
  const trx = (created.body.data as { trx_code: string }).trx_code;
  if (ending.kind !== 'stay')
    await waitFor(() => sim.order(trx)?.status !== SIM_STATUS.processing, 3000, `${trx} to end`);
  return trx;
}

/** Webhook bodies that name `trx`, whatever keys they use; `kind` is their type or event. */
const hooksAbout = (hooks: Hooks, trx: string) =>
  hooks.received.filter((h) => JSON.stringify(h).includes(`"${trx}"`));
const kindOf = (h: unknown) => {
  const b = h as { type?: unknown; event?: unknown };
  return b.type ?? b.event;
};
async function hookOf(hooks: Hooks, trx: string, kind: string): Promise<unknown> {
  await waitFor(
    () => hooksAbout(hooks, trx).some((h) => kindOf(h) === kind),
    3000,
    `a ${kind} webhook about ${trx}`,
  );
  return hooksAbout(hooks, trx).find((h) => kindOf(h) === kind);
}

const NOT_FOUND_ROUTE = {
  code: 404,
  status: 'NOT_FOUND',
  rc_code: '44',
  message: 'route not found',
  data: null,
};

describe('the dialect registry', () => {
  it('has the fixed names, each deviating from the default in exactly one field', () => {
    expect(dialectNameSchema.options).toEqual([
      'failed-status-4',
      'processing-status-0',
      'voucher-key',
      'reason-key',
      'refund-name',
      'webhook-keys',
      'no-balance',
      'balance-path',
      'tid-refuses-ref-id',
      'rc23-http409',
      'ref-exists-rc',
    ]);
    expect(Object.keys(DIALECTS).sort()).toEqual([...dialectNameSchema.options].sort());
    for (const [name, d] of Object.entries(DIALECTS)) {
      const fields = Object.keys(d.deviation) as (keyof typeof DEFAULT_WIRE)[];
      expect(fields, name).toHaveLength(1);
      const field = fields[0] ?? 'balance';
      expect(d.deviation[field], name).not.toEqual(DEFAULT_WIRE[field]);
      expect(d.describe.length, name).toBeGreaterThan(10);
    }
  });
});

describe('failed-status-4', () => {
  async function scenario(dialect: DialectName | null) {
    const { sim, hooks } = await start(dialect);
    const trx = await placeEnded(sim, 'RG-F', { kind: 'fail', sn: 'invalid player' });
    return { reply: await orderStatus(sim, trx), hook: await hookOf(hooks, trx, 'status_update') };
  }
  it('a failed order has status 4 in the order status and its webhook', async () => {
    const { reply, hook } = await scenario('failed-status-4');
    expect(reply.data).toMatchObject({ status: 4, sn: 'invalid player' });
    expect(hook).toMatchObject({ type: 'status_update', data: { status: 4, status_name: 'Failed' } });
  });
  it('default: status 3', async () => {
    const { reply, hook } = await scenario(null);
    expect(reply.data).toMatchObject({ status: 3, sn: 'invalid player' });
    expect(hook).toMatchObject({ type: 'status_update', data: { status: 3, status_name: 'Failed' } });
  });
});

describe('processing-status-0', () => {
  async function scenario(dialect: DialectName | null) {
    const { sim, hooks } = await start(dialect, { newTransactionWebhook: true });
    const trx = await placeEnded(sim, 'RG-P', { kind: 'stay' });
    return { reply: await orderStatus(sim, trx), hook: await hookOf(hooks, trx, 'new_transaction') };
  }
  it('a processing order has status 0 in the order status and its webhook', async () => {
    const { reply, hook } = await scenario('processing-status-0');
    expect(reply.data.status).toBe(0);
    expect(reply.data.history_status).toEqual([{ status_name: 'Processing', timestamp: expect.any(String) }]);
    expect(hook).toEqual({
      type: 'new_transaction',
      data: { trx_code: reply.data.code, ref_id: 'RG-P', status: 0 },
    });
  });
  it('default: status 1', async () => {
    const { reply, hook } = await scenario(null);
    expect(reply.data.status).toBe(1);
    expect(hook).toEqual({
      type: 'new_transaction',
      data: { trx_code: reply.data.code, ref_id: 'RG-P', status: 1 },
    });
  });
});

describe('voucher-key', () => {
  async function scenario(dialect: DialectName | null) {
    const { sim, hooks } = await start(dialect);
    const trx = await placeEnded(sim, 'RG-V', { kind: 'success' }, STEAM);
    return {
      reply: await orderStatus(sim, trx),
      hook: await hookOf(hooks, trx, 'status_update'),
      code: sim.order(trx)?.voucherCode,
    };
  }
  it('the code is at data.detail.code, with no detail.voucher_code and sn null, in reply and webhook', async () => {
    const { reply, hook, code } = await scenario('voucher-key');
    expect(code).toMatch(/^STEAM-[0-9A-F]{12}$/);
    expect(reply.data).toMatchObject({ status: 2, sn: null, detail: { code } });
    expect(reply.data.detail).not.toHaveProperty('voucher_code');
    expect(hook).toEqual({
      type: 'status_update',
      data: {
        trx_code: reply.data.code,
        ref_id: 'RG-V',
        status: 2,
        sn: null,
        detail: { code },
        status_name: 'Success',
      },
    });
  });
  it('default: the code is in detail.voucher_code and sn', async () => {
    const { reply, hook, code } = await scenario(null);
    expect(code).toMatch(/^STEAM-[0-9A-F]{12}$/);
    expect(reply.data).toMatchObject({ status: 2, sn: code, detail: { voucher_code: code } });
    expect(reply.data.detail).not.toHaveProperty('code');
    expect(hook).toEqual({
      type: 'status_update',
      data: { trx_code: reply.data.code, ref_id: 'RG-V', status: 2, sn: code, status_name: 'Success' },
    });
  });
});

describe('reason-key', () => {
  async function scenario(dialect: DialectName | null) {
    const { sim, hooks } = await start(dialect);
    const trx = await placeEnded(sim, 'RG-R', { kind: 'fail', sn: 'invalid player' });
    return { reply: await orderStatus(sim, trx), hook: await hookOf(hooks, trx, 'status_update') };
  }
  it('the reason is at data.detail.note, sn null, in reply and webhook', async () => {
    const { reply, hook } = await scenario('reason-key');
    expect(reply.data).toMatchObject({
      status: 3,
      sn: null,
      detail: { note: 'invalid player', voucher_code: null },
    });
    expect(reply.data.detail).not.toHaveProperty('sn');
    expect(hook).toEqual({
      type: 'status_update',
      data: {
        trx_code: reply.data.code,
        ref_id: 'RG-R',
        status: 3,
        sn: null,
        detail: { note: 'invalid player' },
        status_name: 'Failed',
      },
    });
  });
  it('default: the reason is in sn', async () => {
    const { reply, hook } = await scenario(null);
    expect(reply.data).toMatchObject({ status: 3, sn: 'invalid player' });
    expect(reply.data.detail).not.toHaveProperty('note');
    expect(hook).toEqual({
      type: 'status_update',
      data: {
        trx_code: reply.data.code,
        ref_id: 'RG-R',
        status: 3,
        sn: 'invalid player',
        status_name: 'Failed',
      },
    });
  });
});

describe('refund-name', () => {
  async function scenario(dialect: DialectName | null) {
    const { sim, hooks } = await start(dialect);
    const trx = await placeEnded(sim, 'RG-D', { kind: 'refund', sn: 'provider error' });
    return { reply: await orderStatus(sim, trx), hook: await hookOf(hooks, trx, 'status_update') };
  }
  it('a refund is named "Dana Dikembalikan" in history_status and the webhook', async () => {
    const { reply, hook } = await scenario('refund-name');
    expect(reply.data.status).toBe(4);
    expect(reply.data.history_status.map((h) => h.status_name)).toEqual([
      'Processing',
      'Success',
      'Dana Dikembalikan',
    ]);
    expect(hook).toMatchObject({ data: { status: 4, status_name: 'Dana Dikembalikan' } });
  });
  it('default: it is named "Refund"', async () => {
    const { reply, hook } = await scenario(null);
    expect(reply.data.history_status.map((h) => h.status_name)).toEqual(['Processing', 'Success', 'Refund']);
    expect(hook).toMatchObject({ data: { status: 4, status_name: 'Refund' } });
  });
});

describe('webhook-keys', () => {
  async function scenario(dialect: DialectName | null) {
    const { sim, hooks } = await start(dialect);
    const trx = await placeEnded(sim, 'RG-W', { kind: 'success' });
    const sn = `SN${trx.replace(/\D/g, '')}`;
    return {
      trx,
      sn,
      update: await hookOf(hooks, trx, 'status_update'),
      topup: await hookOf(hooks, trx, 'topup'),
      reply: await orderStatus(sim, trx),
    };
  }
  it('webhooks are {event, transaction:{invoice, reference, status, …}}, no trx_code or ref_id', async () => {
    const { trx, sn, update, topup, reply } = await scenario('webhook-keys');
    expect(update).toEqual({
      event: 'status_update',
      transaction: { invoice: trx, reference: 'RG-W', status: 2, sn, status_name: 'Success' },
    });
    expect(topup).toEqual({
      event: 'topup',
      transaction: { invoice: trx, reference: 'RG-W', status: 2, sn },
    });
    expect(JSON.stringify([update, topup])).not.toMatch(/trx_code|ref_id/);
    // Only webhooks: the order status still names the order as code and ref_id.
    expect(reply.data).toMatchObject({ code: trx, ref_id: 'RG-W', status: 2, sn });
  });
  it('default: {type, data:{trx_code, ref_id, …}}', async () => {
    const { trx, sn, update, topup, reply } = await scenario(null);
    expect(update).toEqual({
      type: 'status_update',
      data: { trx_code: trx, ref_id: 'RG-W', status: 2, sn, status_name: 'Success' },
    });
    expect(topup).toEqual({ type: 'topup', data: { trx_code: trx, ref_id: 'RG-W', status: 2, sn } });
    expect(reply.data).toMatchObject({ code: trx, ref_id: 'RG-W', status: 2, sn });
  });
});

describe('no-balance', () => {
  it('the balance endpoint answers 404 as an unknown path does, and counts no call', async () => {
    const { sim } = await start('no-balance');
    const reply = await balanceAt(sim, '/v2/public/balance', 'balance');
    expect(reply).toEqual({ http: 404, body: NOT_FOUND_ROUTE });
    expect(await balanceAt(sim, '/v2/public/nothing-here', 'balance')).toEqual(reply);
    expect(sim.stats.calls.balance).toBe(0);
  });
  it('default: the balance', async () => {
    const { sim } = await start(null);
    expect(await balanceAt(sim, '/v2/public/balance', 'balance')).toEqual({
      http: 200,
      body: {
        code: 200,
        status: 'SUCCESS',
        rc_code: '00',
        message: 'Success',
        data: { balance: 10_000_000 },
      },
    });
  });
});

describe('balance-path', () => {
  const BALANCE = {
    code: 200,
    status: 'SUCCESS',
    rc_code: '00',
    message: 'Success',
    data: { balance: 10_000_000 },
  };
  it('the balance is at /v2/public/saldo signed "saldo"; /v2/public/balance is 404', async () => {
    const { sim } = await start('balance-path');
    expect(await balanceAt(sim, '/v2/public/saldo', 'saldo')).toEqual({ http: 200, body: BALANCE });
    expect(await balanceAt(sim, '/v2/public/saldo', 'balance')).toMatchObject({
      http: 401,
      body: { rc_code: '43' },
    });
    expect(await balanceAt(sim, '/v2/public/balance', 'balance')).toEqual({
      http: 404,
      body: NOT_FOUND_ROUTE,
    });
  });
  it('default: /v2/public/balance signed "balance"; /v2/public/saldo is 404', async () => {
    const { sim } = await start(null);
    expect(await balanceAt(sim, '/v2/public/balance', 'balance')).toEqual({ http: 200, body: BALANCE });
    expect(await balanceAt(sim, '/v2/public/saldo', 'saldo')).toEqual({ http: 404, body: NOT_FOUND_ROUTE });
  });
});

describe('tid-refuses-ref-id', () => {
  async function scenario(dialect: DialectName | null) {
    const { sim } = await start(dialect);
    const trx = await placeEnded(sim, 'RG-T', { kind: 'stay' });
    return { trx, byRef: await orderStatus(sim, 'RG-T'), byTrx: await orderStatus(sim, trx) };
  }
  it('order-status by ref_id is NOT_FOUND (rc 44, HTTP 404); by trx code it answers', async () => {
    const { trx, byRef, byTrx } = await scenario('tid-refuses-ref-id');
    expect(byRef.http).toBe(404);
    expect(byRef.body).toEqual({
      code: 404,
      status: 'NOT_FOUND',
      rc_code: '44',
      message: 'Transaction Not Available',
      data: null,
    });
    expect(byTrx).toMatchObject({ http: 200, data: { code: trx, ref_id: 'RG-T' } });
  });
  it('default: by ref_id it finds the order', async () => {
    const { trx, byRef, byTrx } = await scenario(null);
    expect(byRef).toMatchObject({ http: 200, data: { code: trx, ref_id: 'RG-T' } });
    expect(byTrx).toMatchObject({ http: 200, data: { code: trx } });
  });
});

describe('duplicate ref_id', () => {
  async function scenario(dialect: DialectName | null) {
    const { sim } = await start(dialect);
    await placeEnded(sim, 'RG-DUP', { kind: 'stay' });
    const again = await createOrder(sim, 'RG-DUP');
    expect(sim.ordersFor('RG-DUP')).toHaveLength(1);
    return again;
  }
  const envelope = (code: number, status: string, rc: string) => ({
    http: code,
    body: { code, status, rc_code: rc, message: 'Ref ID is already exist', data: null },
  });
  it('rc23-http409: HTTP 409, rc 23', async () => {
    expect(await scenario('rc23-http409')).toEqual(envelope(409, 'CLIENT_ERROR', '23'));
  });
  it('ref-exists-rc: rc 27, status DUPLICATE, HTTP 400', async () => {
    expect(await scenario('ref-exists-rc')).toEqual(envelope(400, 'DUPLICATE', '27'));
  });
  it('default: HTTP 400, CLIENT_ERROR, rc 23', async () => {
    expect(await scenario(null)).toEqual(envelope(400, 'CLIENT_ERROR', '23'));
  });
});

describe('setting the dialect', () => {
  it('at runtime over /__sim/dialect; orders made before answer in the new dialect too', async () => {
    const { sim } = await start(null);
    const trx = await placeEnded(sim, 'RG-RT', { kind: 'fail', sn: 'x' });
    const post = (body: unknown) =>
      fetch(`${sim.url}/__sim/dialect`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const set = await post({ dialect: 'failed-status-4' });
    expect(set.status).toBe(200);
    expect(await set.json()).toEqual({ dialect: 'failed-status-4' });
    expect(sim.dialect).toBe('failed-status-4');
    const state = (await (await fetch(`${sim.url}/__sim/state`)).json()) as { dialect: unknown };
    expect(state.dialect).toBe('failed-status-4');
    expect((await orderStatus(sim, trx)).data.status).toBe(4);

    expect((await post({ dialect: 'no-such-dialect' })).status).toBe(400);
    expect((await post({})).status).toBe(400);
    expect(sim.dialect).toBe('failed-status-4');

    expect(await (await post({ dialect: null })).json()).toEqual({ dialect: null });
    expect((await orderStatus(sim, trx)).data.status).toBe(3);
  });

  it('on the CLI with --dialect, and refuses an unknown name', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = {
      env: {},
      cwd: process.cwd(),
      out: (l: string) => out.push(l),
      err: (l: string) => err.push(l),
    };
    let stop = () => {};
    const stopped = new Promise<void>((resolve) => {
      stop = resolve;
    });
    const running = runSim(['--port', '0', '--dialect', 'balance-path'], io, stopped);
    closers.push(async () => {
      stop();
      await running;
    });
    await waitFor(() => out.some((l) => l.includes('dialect:')), 5000, 'the simulator to start');
    const url = /on (http:\/\/\S+)/.exec(out[0] ?? '')?.[1] ?? '';
    expect(out).toContain(`  dialect: balance-path (${DIALECTS['balance-path'].describe})`);
    const keys = {
      apiKey: SANDBOX_CREDENTIALS.MITRA_API_KEY,
      secretKey: SANDBOX_CREDENTIALS.MITRA_SECRET_KEY,
    };
    expect(await call({ url }, 'GET', '/v2/public/saldo', 'saldo', {}, undefined, keys)).toMatchObject({
      http: 200,
      body: { rc_code: '00', data: { balance: expect.any(Number) } },
    });
    expect(await call({ url }, 'GET', '/v2/public/balance', 'balance', {}, undefined, keys)).toEqual({
      http: 404,
      body: NOT_FOUND_ROUTE,
    });
    stop();
    expect(await running).toBe(0);

    const bad: string[] = [];
    const code = await runSim(
      ['--port', '0', '--dialect', 'klingon'],
      { ...io, err: (l) => bad.push(l) },
      stopped,
    );
    expect(code).toBe(1);
    expect(bad).toEqual([
      `gateway sim: --dialect must be one of ${dialectNameSchema.options.join(', ')}, got "klingon"`,
    ]);
  });
});
