import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RateLimiter } from '../src/mitra/limiter.js';
import type { MitraSimulator } from '../src/sim/mitra-sim.js';
import { clientFor, startSim } from './helpers/mitra.js';

let sim: MitraSimulator;
beforeEach(async () => {
  sim = await startSim();
});
afterEach(() => sim.close());

const order = (refId: string, over: Record<string, unknown> = {}) => ({
  brand_key: 'MLBB',
  variation_key: 'MLBB112',
  price: 16000,
  ref_id: refId,
  data: [
    { key: 'user_id', value: '123456' },
    { key: 'zone_id', value: '12' },
  ],
  ...over,
});

describe('Mitra client against the simulator', () => {
  it('reads brands with forms, variations, balance, and places and follows an order', async () => {
    const { client, limiter, calls } = clientFor(sim);
    const brands = await client.brands();
    expect(brands.kind).toBe('accepted');
    if (brands.kind !== 'accepted') return;
    expect(brands.data.find((b) => b.key === 'GENSHIN')?.forms[1]).toMatchObject({
      key: 'server',
      type: 'option',
    });

    const variations = await client.variations('MLBB');
    expect(variations.kind === 'accepted' && variations.data.find((v) => v.key === 'MLBB112')).toMatchObject({
      price: 15000,
      is_active: true,
    });
    expect(await client.balance()).toMatchObject({ kind: 'accepted', data: { balance: 10_000_000 } });

    const created = await client.createOrder(order('RG-1'), await limiter.acquire('order'), 'TX1');
    expect(created).toMatchObject({
      kind: 'accepted',
      data: { transaction_status: 'PROCESSING', selling_total: 15000 },
    });
    if (created.kind !== 'accepted') return;
    const status = await client.orderStatus(created.data.trx_code, 'TX1');
    expect(status).toMatchObject({
      kind: 'accepted',
      data: { code: created.data.trx_code, ref_id: 'RG-1', status: 1 },
    });

    expect(calls.map((c) => [c.operation, c.outcome])).toEqual([
      ['brands', 'accepted'],
      ['variations', 'accepted'],
      ['balance', 'accepted'],
      ['order', 'accepted'],
      ['order-status', 'accepted'],
    ]);
    expect(calls[3]).toMatchObject({
      transactionNumber: 'TX1',
      method: 'POST',
      rcCode: '00',
      httpStatus: 200,
    });
    expect(JSON.parse(calls[3]?.requestBody ?? '{}')).toMatchObject({
      ref_id: 'RG-1',
      price: 16000,
      timestamp: expect.stringMatching(/^\d{10}$/),
    });
  });

  it('keeps the signature out of what it records, and it survives URL encoding', async () => {
    const { client, calls } = clientFor(sim);
    expect((await client.brands()).kind).toBe('accepted'); // its sign ends in '=': the simulator verified it
    expect(calls[0]?.url).toMatch(/\/v2\/public\/brands\?sign=\[redacted\]$/);
    const params = new URLSearchParams({ sign: 'a+b/c==' });
    expect(params.toString()).toBe('sign=a%2Bb%2Fc%3D%3D');
    expect(new URLSearchParams(params.toString()).get('sign')).toBe('a+b/c==');
  });

  describe('outcome classes', () => {
    it('refused: unknown product (VCG), bad data, price ceiling, balance, bad key, bad signature', async () => {
      const { client, limiter } = clientFor(sim);
      const send = async (o: ReturnType<typeof order>) =>
        client.createOrder(o, await limiter.acquire('order'));
      expect(await send(order('R-vcg', { variation_key: 'VCG' }))).toMatchObject({
        kind: 'refused',
        rc: '44',
        status: 'NOT_FOUND',
      });
      expect(await send(order('R-data', { data: [] }))).toMatchObject({
        kind: 'refused',
        rc: '40',
        status: 'VALIDATION_ERROR',
      });
      expect(await send(order('', {}))).toMatchObject({ kind: 'refused', rc: '40', status: 'CLIENT_ERROR' });
      expect(await send(order('R-cheap', { price: 14999 }))).toMatchObject({ kind: 'refused', rc: '24' });
      sim.balance = 100;
      expect(await send(order('R-poor'))).toMatchObject({ kind: 'refused', rc: '25' });

      const wrongKey = clientFor(sim, { apiKey: 'nope' }).client;
      expect(await wrongKey.brands()).toMatchObject({ kind: 'refused', rc: '42', status: 'UNAUTHENTICATED' });
      const wrongSecret = clientFor(sim, { secretKey: 'nope' }).client;
      expect(await wrongSecret.brands()).toMatchObject({
        kind: 'refused',
        rc: '43',
        status: 'SIGNATURE_INVALID',
      });
      expect(sim.orders).toHaveLength(0);
    });

    it('exists: a second order with the same ref_id is refused with rc 23 and nothing is created', async () => {
      const { client, limiter } = clientFor(sim);
      expect((await client.createOrder(order('RG-dup'), await limiter.acquire('order'))).kind).toBe(
        'accepted',
      );
      expect(await client.createOrder(order('RG-dup'), await limiter.acquire('order'))).toMatchObject({
        kind: 'exists',
      });
      expect(sim.ordersFor('RG-dup')).toHaveLength(1);
    });

    it('retryable: rate limited (HTTP 429 + rc 45) pauses the limiter for Retry-After', async () => {
      const { client, limiter } = clientFor(sim);
      sim.nextFault('order', { kind: 'rateLimit' });
      const outcome = await client.createOrder(order('RG-rl'), await limiter.acquire('order'));
      expect(outcome).toMatchObject({ kind: 'retryable', rc: '45', retryAfterMs: 1000 });
      expect(limiter.stats().pausedForMs).toBeGreaterThan(900);
      expect(sim.orders).toHaveLength(0);
    });

    it('retryable: nothing listening (connection refused)', async () => {
      const url = sim.url;
      await sim.close();
      const { client, limiter } = clientFor({ url });
      expect(await client.createOrder(order('RG-down'), await limiter.acquire('order'))).toMatchObject({
        kind: 'retryable',
        reason: 'could not connect (ECONNREFUSED)',
      });
    });

    it('ambiguous: HTTP 500, an unreadable reply, a timeout, and a reply dropped after creating the order', async () => {
      const { client, limiter } = clientFor(sim, { timeoutMs: 300 });
      const send = async (ref: string) => client.createOrder(order(ref), await limiter.acquire('order'));
      sim.nextFault('order', { kind: 'http500' });
      expect(await send('RG-500')).toMatchObject({ kind: 'ambiguous', httpStatus: 500, rc: '50' });
      sim.nextFault('order', { kind: 'garbage' });
      expect(await send('RG-html')).toMatchObject({ kind: 'ambiguous', httpStatus: 502 });
      sim.nextFault('order', { kind: 'hang' });
      expect(await send('RG-hang')).toMatchObject({
        kind: 'ambiguous',
        reason: 'timed out waiting for the reply',
      });
      sim.nextFault('order', { kind: 'dropReplyAfterCreate' });
      expect(await send('RG-drop')).toMatchObject({
        kind: 'ambiguous',
        reason: expect.stringMatching(/^connection lost/),
      });
      // Only the dropped reply had created an order: the ambiguity was real.
      expect(sim.orders.map((o) => o.refId)).toEqual(['RG-drop']);
    });
  });

  describe('the HTTP client itself', () => {
    /** A raw TCP server that answers each request with `reply` (then does what `after` says). */
    async function rawServer(reply: string, after: 'end' | 'destroy' = 'end') {
      const requests: string[] = [];
      const server = createServer((socket) => {
        socket.once('data', (chunk) => {
          requests.push(chunk.toString('latin1'));
          socket.write(reply);
          if (after === 'destroy') socket.destroy();
          else socket.end();
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as AddressInfo;
      return { url: `http://127.0.0.1:${port}`, requests, close: () => new Promise((r) => server.close(r)) };
    }
    const http = (status: string, headers: string[], body: string) =>
      [`HTTP/1.1 ${status}`, ...headers, `content-length: ${Buffer.byteLength(body)}`, '', body].join('\r\n');

    it('names itself and asks for an uncompressed reply (undici sends neither by itself)', async () => {
      const server = await rawServer(http('200 OK', ['content-type: application/json'], '{}'));
      try {
        const { client } = clientFor(server);
        await client.balance();
        expect(server.requests[0]).toMatch(/^user-agent: razer-mitra-gateway$/im);
        expect(server.requests[0]).toMatch(/^accept-encoding: identity$/im);
      } finally {
        await server.close();
      }
    });

    it('does not follow a redirect: a create-order is never sent on to another address', async () => {
      const server = await rawServer(
        http('307 Temporary Redirect', [`location: ${sim.url}/v2/public/order`], ''),
      );
      try {
        const { client, limiter } = clientFor(server);
        const outcome = await client.createOrder(order('RG-redirected'), await limiter.acquire('order'));
        expect(outcome).toMatchObject({ kind: 'ambiguous', httpStatus: 307 });
        expect(sim.orders).toHaveLength(0);
      } finally {
        await server.close();
      }
    });

    it('a reply cut off in its body is a lost connection (ambiguous), not a reply', async () => {
      const full = '{"status":true,"data":{"trx_code":"VCG-1"}}';
      const cut = http('200 OK', ['content-type: application/json'], full).slice(0, -10);
      const server = await rawServer(cut, 'destroy');
      try {
        const { client, limiter, calls } = clientFor(server);
        const outcome = await client.createOrder(order('RG-cut'), await limiter.acquire('order'));
        expect(outcome).toMatchObject({
          kind: 'ambiguous',
          reason: expect.stringMatching(/^connection lost/),
        });
        expect(calls.at(-1)).toMatchObject({ httpStatus: 200, replyBody: null, outcome: 'ambiguous' });
      } finally {
        await server.close();
      }
    });

    it('reads the first of two Retry-After headers (fetch joined them into a date Date.parse took for 2001: no pause)', async () => {
      const body = JSON.stringify({
        code: 429,
        status: 'TOO_MANY_REQUESTS',
        rc_code: 45,
        message: 'slow down',
      });
      const server = await rawServer(
        http(
          '429 Too Many Requests',
          ['content-type: application/json', 'retry-after: 2', 'retry-after: 9'],
          body,
        ),
      );
      try {
        const { client, limiter } = clientFor(server);
        expect(await client.createOrder(order('RG-twice'), await limiter.acquire('order'))).toMatchObject({
          kind: 'retryable',
          rc: '45',
        });
        const paused = limiter.stats().pausedForMs;
        expect(paused).toBeGreaterThan(1000);
        expect(paused).toBeLessThanOrEqual(2000);
      } finally {
        await server.close();
      }
    });
  });

  describe('retries', () => {
    it('retries a safe call after a 500 and a timeout, and succeeds', async () => {
      const { client, calls } = clientFor(sim, { timeoutMs: 300 });
      sim.nextFault('brands', { kind: 'http500' });
      sim.nextFault('brands', { kind: 'hang' });
      expect((await client.brands()).kind).toBe('accepted');
      expect(calls.map((c) => c.outcome)).toEqual(['ambiguous', 'ambiguous', 'accepted']);
      expect(sim.stats.calls.brands).toBe(3);
    });

    it('gives up after four tries and returns the last outcome', async () => {
      const { client, calls } = clientFor(sim);
      for (let i = 0; i < 5; i++) sim.nextFault('order-status', { kind: 'http500' });
      expect(await client.orderStatus('VCG-TRX-000001')).toMatchObject({
        kind: 'ambiguous',
        httpStatus: 500,
      });
      expect(calls).toHaveLength(4);
    });

    it('does not retry a definitive refusal', async () => {
      const { client, calls } = clientFor(sim);
      expect(await client.orderStatus('VCG-TRX-404404')).toMatchObject({ kind: 'refused', rc: '44' });
      expect(calls).toHaveLength(1);
    });

    it('never retries create-order by itself', async () => {
      const { client, limiter, calls } = clientFor(sim);
      sim.nextFault('order', { kind: 'http500' });
      expect((await client.createOrder(order('RG-once'), await limiter.acquire('order'))).kind).toBe(
        'ambiguous',
      );
      expect(calls).toHaveLength(1);
      expect(sim.stats.calls.order).toBe(1);
    });

    it('waits for the limiter on every try, so retries never exceed the rate limit', async () => {
      const limiter = new RateLimiter({ limit: 2, windowMs: 200 }, undefined, 0);
      const { client, calls } = clientFor(sim, { limiter });
      sim.nextFault('brands', { kind: 'http500' });
      sim.nextFault('brands', { kind: 'http500' });
      expect((await client.brands()).kind).toBe('accepted');
      const times = calls.map((c) => c.startedAt);
      expect((times[2] ?? 0) - (times[0] ?? 0)).toBeGreaterThanOrEqual(195);
    });
  });

  it('refuses to send an order on a spent or query permit', async () => {
    const { client, limiter } = clientFor(sim);
    const permit = await limiter.acquire('order');
    await client.createOrder(order('RG-p1'), permit);
    await expect(client.createOrder(order('RG-p2'), permit)).rejects.toThrow('already spent');
    await expect(client.createOrder(order('RG-p3'), await limiter.acquire('query'))).rejects.toThrow(
      /cannot pay/,
    );
    expect(sim.orders).toHaveLength(1);
  });
});
