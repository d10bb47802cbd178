import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/env.js';
import { signatureHeader } from '../src/razer/signature.js';
import { requestSignedContent, responseSignedContent } from '../src/readings/razer.js';
import { type E2E, startE2E } from './helpers/e2e.js';
import { REQUIRED_ENV } from './helpers/env.js';
import { API_ID, API_KEY, initBody, type RazerHarness, send, startRazer } from './helpers/razer.js';

let h: RazerHarness | undefined;
let e: E2E | undefined;
afterEach(async () => {
  await h?.close();
  await e?.close();
  h = undefined;
  e = undefined;
});

const MiB = 1024 * 1024;

interface Streamed {
  status: number;
  text: string;
  signature: string | undefined;
  /** Body bytes the client had handed to the socket when the answer arrived. */
  written: number;
}

/**
 * POSTs a chunked body (no Content-Length) of `fill` bytes in 64 KiB chunks, as fast as the
 * server reads, until the answer arrives or `cap` bytes are written. Honours backpressure.
 */
function streamBody(
  baseUrl: string,
  path: string,
  headers: Record<string, string>,
  body: { fill: number; cap: number } | { chunks: string[] },
): Promise<Streamed> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    let written = 0;
    let answered = false;
    const req = request({
      host: url.hostname,
      port: url.port,
      path,
      method: 'POST',
      headers,
      agent: false,
    });
    req.on('response', (res) => {
      answered = true;
      const writtenAtAnswer = written;
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('error', reject);
      res.on('end', () => {
        req.destroy();
        resolve({
          status: res.statusCode ?? 0,
          text: Buffer.concat(parts).toString('utf8'),
          signature: res.headers['x-razer-signature'] as string | undefined,
          written: writtenAtAnswer,
        });
      });
    });
    // Once answered, the server may drop the connection under the unfinished upload.
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    if ('chunks' in body) {
      for (const chunk of body.chunks) {
        written += Buffer.byteLength(chunk);
        req.write(chunk);
      }
      req.end();
      return;
    }
    const chunk = Buffer.alloc(64 * 1024, body.fill);
    const pump = () => {
      while (!answered && written < body.cap) {
        written += chunk.length;
        if (!req.write(chunk)) {
          req.once('drain', pump);
          return;
        }
      }
      if (!answered) req.end();
    };
    pump();
  });
}

/** A header naming a known api-id with a made-up signature: its answer is not signed (no signing oracle). */
const knownApiIdHeader = `${Buffer.from(API_ID).toString('base64')}:${Buffer.from('0'.repeat(64)).toString('base64')}`;

const expectSignedBy = (reply: { text: string; signature: string | undefined | null }, uri: string) =>
  expect(reply.signature).toBe(
    signatureHeader(API_ID, API_KEY, responseSignedContent('POST', uri, reply.text)),
  );

describe('an unsigned request can run the process out of memory', () => {
  it('a chunked body to /transaction/init is cut off at 64 KiB as it streams in: 400, unsigned, nothing recorded', async () => {
    h = await startRazer();
    const r = await streamBody(
      h.url,
      '/transaction/init',
      { 'content-type': 'application/json', 'x-razer-signature': knownApiIdHeader },
      { fill: 0x61, cap: 64 * MiB },
    );
    expect(r.status).toBe(400);
    expect(JSON.parse(r.text)).toEqual({
      code: 'INVALID_DATA',
      message: 'the body is larger than 65536 bytes.',
    });
    // Answered before any signature was verified: never signed.
    expect(r.signature ?? null).toBeNull();
    // The server stopped reading: the client could not push the body through.
    expect(r.written).toBeLessThan(16 * MiB);
    expect(await h.count('razer_exchanges')).toBe(0);
    expect(await h.count('transactions')).toBe(0);
    // The process serves on.
    const after = await send(h, 'POST', '/transaction/init', initBody('AFTER-FLOOD'));
    expect(after.status).toBe(200);
  });

  it.each(['/transaction/topup', '/transaction/cancel', '/account/validate'])(
    'a chunked body to %s is cut off the same way',
    async (path) => {
      h = await startRazer();
      const r = await streamBody(
        h.url,
        path,
        { 'content-type': 'application/json' },
        { fill: 0x61, cap: 64 * MiB },
      );
      expect(r.status).toBe(400);
      expect(JSON.parse(r.text)).toMatchObject({ code: 'INVALID_DATA' });
      expect(r.written).toBeLessThan(16 * MiB);
      expect(await h.count('razer_exchanges')).toBe(0);
    },
  );

  it('a small signed chunked init (no Content-Length) still succeeds', async () => {
    h = await startRazer();
    const text = JSON.stringify(initBody('CHUNKED-1'));
    const signature = signatureHeader(
      API_ID,
      API_KEY,
      requestSignedContent('body', 'POST', '/transaction/init', Buffer.from(text)),
    );
    const r = await streamBody(
      h.url,
      '/transaction/init',
      { 'content-type': 'application/json', 'x-razer-signature': signature },
      { chunks: [text.slice(0, 40), text.slice(40)] },
    );
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text)).toMatchObject({ transactionNumber: 'CHUNKED-1', status: 'INITIATED' });
    expectSignedBy(r, '/transaction/init');
    expect((await h.row('CHUNKED-1'))?.state).toBe('INITIATED');
  });

  it('a chunked webhook is cut off at 1 MiB as it streams in: 413, nothing stored; a small one is taken', async () => {
    e = await startE2E();
    const path = new URL(e.webhookUrl).pathname;
    const r = await streamBody(
      e.url,
      path,
      { 'content-type': 'application/json' },
      { fill: 0x20, cap: 64 * MiB },
    );
    expect(r.status).toBe(413);
    expect(JSON.parse(r.text)).toEqual({ code: 'TOO_LARGE', message: 'webhook larger than 1048576 bytes' });
    expect(r.written).toBeLessThan(16 * MiB);
    expect(await e.gw.store.listWebhooks()).toHaveLength(0);

    const small = await streamBody(
      e.url,
      path,
      { 'content-type': 'application/json' },
      { chunks: ['{"hello":', '"world"}'] },
    );
    expect(small.status).toBe(200);
    expect(await e.gw.store.listWebhooks()).toHaveLength(1);
    expect((await e.gw.store.listWebhooks())[0]?.body).toBe('{"hello":"world"}');
    // Razer's side of the same process serves on too.
    expect((await e.init('AFTER-WEBHOOK-FLOOD')).status).toBe(200);
  });

  it('a stranger to the webhook is refused before its body is read (wrong token 404, address 403)', async () => {
    e = await startE2E({ env: { MITRA_WEBHOOK_ALLOW_IPS: '172.236.143.138' } });
    const path = new URL(e.webhookUrl).pathname;
    for (const [target, status] of [
      [path, 403],
      ['/mitra/webhook/wrong-token-0123456789', 404],
    ] as const) {
      const r = await streamBody(
        e.url,
        target,
        { 'content-type': 'application/json' },
        { fill: 0x20, cap: 64 * MiB },
      );
      expect(r.status).toBe(status);
      expect(r.written).toBeLessThan(16 * MiB);
    }
    expect(await e.gw.store.listWebhooks()).toHaveLength(0);
  });
});

/** `{"transactionNumber":…,…,"deep":[[[…]]]}`: the object is level 1, each array one more. */
const nested = (fields: Record<string, unknown>, levels: number) =>
  `${JSON.stringify(fields).slice(0, -1)},"deep":${'['.repeat(levels - 1)}${']'.repeat(levels - 1)}}`;

describe('a signed NUL in a field gave a 500 on PostgreSQL, which cannot store it', () => {
  it.each([
    ['accountId', { accountId: '123456-12\u0000' }, "'accountId' must not contain control characters."],
    ['razerId', { razerId: 'RZR\u0000' }, "'razerId' must not contain control characters."],
    [
      'customParam',
      { customParam: { serverId: 'MY\u000001' } },
      "'customParam' values must not contain control characters.",
    ],
  ])(
    'init with a control character in %s: 400 INVALID_DATA, nothing created',
    async (_field, over, message) => {
      h = await startRazer();
      const r = await send(h, 'POST', '/transaction/init', initBody('NUL-1', over));
      expect({ status: r.status, body: r.json }).toEqual({
        status: 400,
        body: { code: 'INVALID_DATA', message },
      });
      expectSignedBy(r, '/transaction/init');
      expect(await h.count('transactions')).toBe(0);
      expect((await send(h, 'POST', '/transaction/init', initBody('NUL-1'))).status).toBe(200);
    },
  );
});

describe('a signed, deeply nested JSON body gets a 500', () => {
  const refused = { code: 'INVALID_DATA', message: 'the body nests deeper than 32 levels.' };

  it('init: 400 INVALID_DATA for a body 20,000 levels deep, nothing created', async () => {
    h = await startRazer();
    const body = nested(initBody('DEEP-1'), 20_000);
    expect(Buffer.byteLength(body)).toBeLessThan(64 * 1024);
    const r = await send(h, 'POST', '/transaction/init', body);
    expect(r.status).toBe(400);
    expect(r.json).toEqual(refused);
    expectSignedBy(r, '/transaction/init');
    expect(await h.count('transactions')).toBe(0);
  });

  it('topup and cancel: 400 INVALID_DATA, the transaction stays INITIATED, no order placed', async () => {
    h = await startRazer();
    const init = await send(h, 'POST', '/transaction/init', initBody('DEEP-2'));
    const token = init.json.transactionToken;
    const fields = { transactionNumber: 'DEEP-2', transactionToken: token };
    for (const path of ['/transaction/topup', '/transaction/cancel']) {
      const r = await send(h, 'POST', path, nested(fields, 20_000));
      expect(r.status).toBe(400);
      expect(r.json).toEqual(refused);
    }
    expect((await h.row('DEEP-2'))?.state).toBe('INITIATED');
    expect(h.fulfilment.calls).toEqual([]);
    // The same requests without the nesting still work.
    expect((await send(h, 'POST', '/transaction/cancel', fields)).json).toMatchObject({
      status: 'CANCELLED',
    });
  });

  it('validate: 400 INVALID_DATA; 32 levels are still read, 33 are not', async () => {
    h = await startRazer();
    const fields = { sku: 'DIAMOND50', accountId: '123456-12', userCountryCode: 'MY' };
    const deep = await send(h, 'POST', '/account/validate', nested(fields, 20_000));
    expect(deep.status).toBe(400);
    expect(deep.json).toEqual(refused);
    expect((await send(h, 'POST', '/account/validate', nested(fields, 32))).status).toBe(200);
    expect((await send(h, 'POST', '/account/validate', nested(fields, 33))).json).toEqual(refused);
  });

  it('a deep body that is not JSON is answered as not JSON, never 500', async () => {
    h = await startRazer();
    const r = await send(h, 'POST', '/transaction/init', `{"a":${'['.repeat(30_000)}`);
    expect(r.status).toBe(400);
    expect(r.json).toEqual({ code: 'INVALID_DATA', message: 'the body is not valid JSON.' });
  });
});

describe('the webhook allow-list trusts the sender’s end of X-Forwarded-For', () => {
  const ALLOWED = '172.236.143.138';
  const webhook = (forwardedFor?: string) =>
    fetch((e as E2E).webhookUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor }),
      },
      body: '{"hello":"world"}',
    });

  it('TRUST_PROXY=true: the sender writing the allowed address gets 403; the proxy-appended entry counts', async () => {
    e = await startE2E({ env: { MITRA_WEBHOOK_ALLOW_IPS: ALLOWED, TRUST_PROXY: 'true' } });
    // The attacker sent `X-Forwarded-For: <allowed>`; one proxy appended the attacker's address.
    expect((await webhook(`${ALLOWED}, 10.0.0.66`)).status).toBe(403);
    expect((await webhook()).status).toBe(403); // no header: the socket (127.0.0.1)
    expect(await e.gw.store.listWebhooks()).toHaveLength(0);
    // Mitra behind the proxy: its address is the rightmost.
    expect((await webhook(`10.0.0.66, ${ALLOWED}`)).status).toBe(200);
    expect((await e.gw.store.listWebhooks()).map((w) => w.sourceIp)).toEqual([ALLOWED]);
  });

  it('TRUST_PROXY=2: the second entry from the right counts; too few entries fall back to the socket', async () => {
    e = await startE2E({ env: { MITRA_WEBHOOK_ALLOW_IPS: ALLOWED, TRUST_PROXY: '2' } });
    expect((await webhook(`${ALLOWED}, 10.0.0.66, 10.0.0.2`)).status).toBe(403);
    expect((await webhook(`10.0.0.1, ${ALLOWED}`)).status).toBe(403);
    expect((await webhook(ALLOWED)).status).toBe(403);
    expect(await e.gw.store.listWebhooks()).toHaveLength(0);
    expect((await webhook(`10.0.0.66, ${ALLOWED}, 10.0.0.2`)).status).toBe(200);
    expect((await e.gw.store.listWebhooks()).map((w) => w.sourceIp)).toEqual([ALLOWED]);
  });

  it('TRUST_PROXY=false: the header is ignored', async () => {
    e = await startE2E({ env: { MITRA_WEBHOOK_ALLOW_IPS: ALLOWED, TRUST_PROXY: 'false' } });
    expect((await webhook(ALLOWED)).status).toBe(403);
  });

  it.each([
    ['false', 0],
    ['no', 0],
    ['0', 0],
    ['true', 1],
    ['yes', 1],
    ['1', 1],
    ['2', 2],
    ['10', 10],
  ])('TRUST_PROXY=%s is %i proxies', (value, proxies) => {
    const r = loadConfig({ ...REQUIRED_ENV, TRUST_PROXY: value });
    expect(r.ok && r.value.trustProxy).toBe(proxies);
  });

  it.each(['maybe', '-1', '11', '1.5', 'TRUE', '100'])(
    'TRUST_PROXY=%s is refused with one line naming it',
    (value) => {
      const r = loadConfig({ ...REQUIRED_ENV, TRUST_PROXY: value });
      expect(r.ok ? [] : r.errors).toEqual([
        `TRUST_PROXY must be true, false or a number of proxies from 0 to 10, got "${value}"`,
      ]);
    },
  );
});
