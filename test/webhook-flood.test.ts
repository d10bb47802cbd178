import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../src/log.js';
import { type E2E, startE2E } from './helpers/e2e.js';

/**
 * Whoever holds the webhook token and posts from an allowed address could store ~50 MB/s of
 * anything, kept for the retention period: each source address now has a cap per window, and a
 * body nothing reads is stored as its hash and first KiB.
 */

let e: E2E | undefined;
afterEach(async () => {
  await e?.close();
  e = undefined;
});

const ADMIN_TOKEN = 'admin-token-for-tests-0123456789';
// Two allowed sources, told apart by the X-Forwarded-For entry the (trusted) proxy appended.
const A = '203.0.113.10';
const B = '203.0.113.20';

/** A gateway whose clock the test moves (the cap's windows are read from it), logging to `lines`. */
async function start(env: Record<string, string>) {
  let t = Date.now();
  const lines: { level: number; msg: string; [key: string]: unknown }[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  e = await startE2E({
    env: { MITRA_WEBHOOK_ALLOW_IPS: `${A},${B}`, TRUST_PROXY: '1', ADMIN_TOKEN, ...env },
    gateway: { now: () => t },
    logger: createLogger('info', sink),
  });
  return {
    e,
    lines,
    advance: (ms: number) => {
      t += ms;
    },
  };
}

const post = (from: string, body: string) =>
  fetch((e as E2E).webhookUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': from },
    body,
  });

/** A webhook Mitra could send: it names a transaction (none of ours, so it is done at once). */
const transactionWebhook = (ref: string, padBytes = 0) =>
  JSON.stringify({ data: { ref_id: ref, status: 2, note: 'x'.repeat(padBytes) } });

async function metric(name: string, labels: string): Promise<number> {
  const { body } = await (e as E2E).gw.metrics.render();
  const line = body.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
  return Number(line?.split(' ')[1]);
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('the webhook cap per source address', () => {
  it('past the row cap: 429 with Retry-After, nothing stored, counted, one alert and one log line; other sources and the next window are not refused', async () => {
    const g = await start({ MITRA_WEBHOOK_CAP: '10/60s' });
    for (let i = 0; i < 10; i++) expect((await post(A, transactionWebhook(`A-${i}`))).status).toBe(200);
    g.advance(20_000);
    const refused = [];
    for (let i = 0; i < 30; i++) refused.push(await post(A, transactionWebhook(`A-FLOOD-${i}`)));
    expect(refused.map((r) => r.status)).toEqual(Array(30).fill(429));
    expect(refused.map((r) => r.headers.get('retry-after'))).toEqual(Array(30).fill('40'));
    expect(await refused[0]?.json()).toEqual({
      code: 'TOO_MANY',
      message: 'webhook cap reached: more than 10 webhooks per 60 s from this address',
    });
    // As the API document says.
    type Documented = { headers?: Record<string, unknown>; content?: Record<string, unknown> };
    const doc = (await (await fetch(`${g.e.url}/openapi.json`)).json()) as {
      paths: Record<string, { post?: { responses: Record<string, Documented> } }>;
    };
    const documented = doc.paths['/mitra/webhook/{token}']?.post?.responses['429'];
    expect(documented?.headers?.['Retry-After']).toMatchObject({ required: true });
    expect(JSON.stringify(documented?.content?.['application/json'])).toContain('TOO_MANY');
    const stored = await g.e.gw.store.listWebhooks(100);
    expect(stored).toHaveLength(10);
    expect(stored.every((w) => w.sourceIp === A && !w.body.includes('FLOOD'))).toBe(true);

    // Another address has a window of its own.
    expect((await post(B, transactionWebhook('B-1'))).status).toBe(200);

    expect(await metric('gateway_webhooks_total', 'result="over_cap"')).toBe(30);
    expect(await metric('gateway_webhooks_total', 'result="accepted"')).toBe(11);
    expect(await metric('gateway_alerts_total', 'kind="webhook-flood"')).toBe(1);
    const alertLines = g.lines.filter((l) => l.alert === 'webhook-flood');
    expect(alertLines).toHaveLength(1);
    expect(alertLines[0]).toMatchObject({ key: A, msg: expect.stringContaining('MITRA_WEBHOOK_TOKEN') });
    const refusalLines = () => g.lines.filter((l) => l.msg.startsWith('webhook refused: the source is over'));
    expect(refusalLines()).toEqual([expect.objectContaining({ ip: A, over: 'rows', level: 40 })]);

    // The window ends: A is taken again, and the refusals of the window are told in one line.
    g.advance(40_000);
    expect((await post(A, transactionWebhook('A-NEXT'))).status).toBe(200);
    expect(g.lines.filter((l) => l.msg === 'webhook cap: a window with refusals ended')).toEqual([
      expect.objectContaining({ ip: A, refused: 30, stored: 10 }),
    ]);
    expect(await g.e.gw.store.listWebhooks(100)).toHaveLength(12);

    // A flood in the next window: refused and logged again, but alerted once only.
    for (let i = 0; i < 12; i++) await post(A, transactionWebhook(`A-AGAIN-${i}`));
    expect(await metric('gateway_webhooks_total', 'result="over_cap"')).toBe(33);
    expect(await metric('gateway_alerts_total', 'kind="webhook-flood"')).toBe(1);
    expect(refusalLines()).toHaveLength(2);
  });

  it('past the byte cap: 429 with Retry-After and nothing stored, until the window ends', async () => {
    const g = await start({ MITRA_WEBHOOK_CAP_BYTES: '2MiB' });
    // Two webhooks of a million bytes fit in 2 MiB with their headers; a third does not.
    expect((await post(A, transactionWebhook('BIG-1', 1_000_000))).status).toBe(200);
    expect((await post(A, transactionWebhook('BIG-2', 1_000_000))).status).toBe(200);
    const third = await post(A, transactionWebhook('BIG-3', 1_000_000));
    expect(third.status).toBe(429);
    expect(third.headers.get('retry-after')).toBe('60');
    expect(await third.json()).toEqual({
      code: 'TOO_MANY',
      message: 'webhook cap reached: more than 2097152 bytes of webhooks per 60 s from this address',
    });
    // Over once: the rest of the window is refused, a small one too (its body is not read).
    const small = await post(A, transactionWebhook('SMALL-1'));
    expect(small.status).toBe(429);
    expect((await post(B, transactionWebhook('B-SMALL'))).status).toBe(200);

    const stored = await g.e.gw.store.listWebhooks(100);
    expect(stored.map((w) => w.transactionRef).sort()).toEqual(['B-SMALL', 'BIG-1', 'BIG-2']);
    // What Mitra sends is stored whole, however large.
    expect(stored.find((w) => w.transactionRef === 'BIG-1')?.body).toBe(
      transactionWebhook('BIG-1', 1_000_000),
    );
    expect(await metric('gateway_webhooks_total', 'result="over_cap"')).toBe(2);
    expect(await metric('gateway_alerts_total', 'kind="webhook-flood"')).toBe(1);

    g.advance(60_000);
    expect((await post(A, transactionWebhook('SMALL-2'))).status).toBe(200);
  });

  it('counts the bytes stored: a large body nothing reads costs its first KiB, not its size', async () => {
    await start({ MITRA_WEBHOOK_CAP_BYTES: '2MiB' });
    // 40 MB sent, under 100 KB kept: nothing refused.
    const sent = 'not json '.repeat(100_000);
    for (let i = 0; i < 40; i++) expect((await post(A, `${i} ${sent}`)).status).toBe(200);
    const stored = await (e as E2E).gw.store.listWebhooks(100);
    expect(stored).toHaveLength(40);
    expect(stored.every((w) => Buffer.byteLength(w.body) === 1024)).toBe(true);
  });
});

describe('a webhook body nothing reads is stored as its hash and first KiB', () => {
  it('cut on a character boundary, marked in its result; what Mitra sends is stored whole; a replay still works', async () => {
    const g = await start({});
    const multiByte = `ab${'😀'.repeat(600)}`; // not JSON; 2,402 bytes
    const nameless = JSON.stringify({ hello: 'wörld', pad: 'é'.repeat(3000) });
    const small = 'not json, but short';
    const mitra = transactionWebhook('NOT-OURS', 100_000);
    for (const body of [multiByte, nameless, small, mitra]) expect((await post(A, body)).status).toBe(200);

    const stored = (await g.e.gw.store.listWebhooks(10)).sort((x, y) => x.id - y.id);
    expect(stored).toHaveLength(4);
    const [cutFaces, cutObject, whole, recognised] = stored; // cutObject: kept whole (JSON)
    expect(cutFaces).toMatchObject({
      kind: 'unrecognised',
      body: `ab${'😀'.repeat(255)}`,
      bodySha256: sha256(multiByte),
      result:
        'stored only: not JSON; only the first 1022 of 2402 bytes kept (bodySha256 is of the whole body)',
    });
    // JSON the readings do not recognise is kept whole: it may be what Mitra really sends.
    expect(cutObject).toMatchObject({
      kind: 'unrecognised',
      body: nameless,
      bodySha256: sha256(nameless),
      result: 'stored only: names no transaction and no product',
    });
    expect(whole).toMatchObject({ body: small, bodySha256: sha256(small), result: 'stored only: not JSON' });
    expect(recognised).toMatchObject({ kind: 'transaction', body: mitra, bodySha256: sha256(mitra) });

    // The operator's views: listed, and replayed (the cut body stays unrecognised).
    const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
    const list = await fetch(`${g.e.url}/admin/webhooks`, { headers: auth });
    expect(list.status).toBe(200);
    expect(((await list.json()) as { items: unknown[] }).items).toHaveLength(4);
    const replay = await fetch(`${g.e.url}/admin/webhooks/${cutFaces?.id}/replay`, {
      method: 'POST',
      headers: auth,
    });
    expect(replay.status).toBe(200);
    expect(await replay.json()).toMatchObject({ kind: 'unrecognised' });
  });
});
