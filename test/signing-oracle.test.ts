import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { signatureHeader, signRequest } from '../src/razer/signature.js';
import { requestSignedContent, responseSignedContent } from '../src/readings/razer.js';
import { jsonObject } from '../src/sim/razer-client.js';
import {
  API_ID,
  API_KEY,
  initBody,
  purchase,
  type RazerHarness,
  type RazerReply,
  send,
  startRazer,
} from './helpers/razer.js';

/**
 * Answers are signed in the request's own layout (VERB + URI + BODY), so a signed answer is also
 * a valid request signature for its text sent back as a body. Only verified requests get signed
 * answers (razer-side §1); what a verified answer sent back can do is bounded here.
 */

let h: RazerHarness;
beforeEach(async () => {
  h = await startRazer();
});
afterEach(() => h.close());

const knownIdGarbage = `${Buffer.from(API_ID).toString('base64')}:${Buffer.from('0'.repeat(64)).toString('base64')}`;

/** Sends exactly this target and body (no client-side encoding of the target), with this header. */
function raw(
  method: 'GET' | 'POST',
  target: string,
  body: string,
  signature: string | null,
): Promise<RazerReply> {
  const url = new URL(h.url);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (signature !== null) headers['x-razer-signature'] = signature;
    if (method === 'POST') headers['content-type'] = 'application/json';
    const req = httpRequest({ host: url.hostname, port: url.port, method, path: target, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const sig = res.headers['x-razer-signature'];
        resolve({
          status: res.statusCode ?? 0,
          text,
          json: jsonObject(text),
          signature: typeof sig === 'string' ? sig : null,
        });
      });
    });
    req.on('error', reject);
    req.end(method === 'POST' ? body : undefined);
  });
}

/**
 * A GET with exactly this request line, on a socket: a target with a space (most answers have
 * one) is cut there by the server's parser, which refuses the request (400) before the app.
 */
function rawGet(target: string, signature: string): Promise<RazerReply> {
  const url = new URL(h.url);
  return new Promise((resolve, reject) => {
    // Written, not ended: a half-closed socket may be dropped before a slow answer is sent. The
    // server closes it after answering (Connection: close).
    const socket = connect(Number(url.port), url.hostname, () => {
      socket.write(
        `GET ${target} HTTP/1.1\r\nHost: ${url.host}\r\nx-razer-signature: ${signature}\r\nConnection: close\r\n\r\n`,
      );
    });
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => {
      const reply = Buffer.concat(chunks).toString('utf8');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(reply)?.[1] ?? 0);
      const text = reply.slice(reply.indexOf('\r\n\r\n') + 4);
      const sig = /\r\nx-razer-signature: ([^\r]*)/i.exec(reply)?.[1] ?? null;
      resolve({ status, text, json: jsonObject(text), signature: sig });
    });
  });
}

/** Everything a request could change or store, as comparable text. */
async function everything(): Promise<string> {
  const tables = ['transactions', 'transaction_events', 'razer_exchanges', 'supplier_calls'];
  const counts = await Promise.all(tables.map((t) => h.count(t)));
  return JSON.stringify({ counts, calls: h.fulfilment.calls.length });
}

/** The state alone: transactions and their moves, and orders placed (the audit trail may grow). */
async function state(numbers: readonly string[]): Promise<string> {
  const rows = await Promise.all(numbers.map((n) => h.row(n)));
  return JSON.stringify({ rows, events: await h.count('transaction_events'), calls: h.fulfilment.calls });
}

describe('only answers to verified requests are signed', () => {
  it('a 401 is unsigned, whatever the header names', async () => {
    for (const header of [knownIdGarbage, null, 'not-a-signature']) {
      const r = await raw('POST', '/transaction/init?pad=x', JSON.stringify(initBody('O-1')), header);
      expect([r.status, r.signature]).toEqual([401, null]);
    }
  });

  it('a 404 is unsigned, even with a valid signature for that path', async () => {
    const r = await send(h, 'POST', '/transaction/topup{"code":"FAILED","message":"x"}', {});
    expect([r.status, r.signature]).toEqual([404, null]);
    const get = await send(h, 'GET', '/nowhere');
    expect([get.status, get.signature]).toEqual([404, null]);
  });

  it('a body too large is refused unsigned, even with a valid signature', async () => {
    const valid = await send(h, 'POST', '/transaction/cancel', { transactionNumber: 'x'.repeat(70_000) });
    expect([valid.status, valid.json.code, valid.signature]).toEqual([400, 'INVALID_DATA', null]);
    const garbage = await raw('POST', '/transaction/cancel', 'x'.repeat(70_000), knownIdGarbage);
    expect([garbage.status, garbage.signature]).toEqual([400, null]);
  });

  it('/health is signed only over a signature that verified for its own method', async () => {
    const asGet = await send(h, 'GET', '/health');
    expect(asGet.signature).toBe(
      signatureHeader(API_ID, API_KEY, responseSignedContent('GET', '/health', 'OK')),
    );
    // A HEAD carrying a GET's signature did not verify: unsigned.
    const head = await new Promise<string | undefined>((resolve, reject) => {
      const url = new URL(h.url);
      httpRequest(
        {
          host: url.hostname,
          port: url.port,
          method: 'HEAD',
          path: '/health',
          headers: {
            'x-razer-signature': signatureHeader(
              API_ID,
              API_KEY,
              requestSignedContent('body', 'GET', '/health', Buffer.alloc(0)),
            ),
          },
        },
        (res) => {
          res.resume();
          resolve(res.headers['x-razer-signature'] as string | undefined);
        },
      )
        .on('error', reject)
        .end();
    });
    expect(head).toBeUndefined();
  });
});

describe('an unverified answer sent back as a request', () => {
  /** The review's attack: its answer's text as the body, with the answer's signature if it had one. */
  async function sendBack(first: RazerReply, target: string, body: string, header: string) {
    const before = await everything();
    const again = await raw('POST', target, body, first.signature ?? header);
    expect(again.status).toBe(401);
    expect(await everything()).toBe(before);
  }

  it('a 401: refused 401, nothing recorded', async () => {
    const target = `/transaction/cancel?pad=${'p'.repeat(15_000)}`;
    const first = await raw('POST', target, '{}', knownIdGarbage);
    expect(first.status).toBe(401);
    await sendBack(first, target, first.text, knownIdGarbage);
    expect(h.unauthorized).toHaveLength(2);
  });

  it('a 404, cut between target and body: refused 401, nothing recorded', async () => {
    // POST + "/transaction/init/" + answer = POST + "/transaction/init" + ("/" + answer).
    const first = await raw('POST', '/transaction/init/', '{}', knownIdGarbage);
    expect(first.status).toBe(404);
    await sendBack(first, '/transaction/init', `/${first.text}`, knownIdGarbage);
  });

  it('a 400 for size: refused 401, nothing recorded', async () => {
    const target = '/transaction/cancel?pad=1';
    const first = await raw('POST', target, 'x'.repeat(70_000), knownIdGarbage);
    expect(first.status).toBe(400);
    await sendBack(first, target, first.text, knownIdGarbage);
  });
});

describe('a verified answer sent back as a request, with its signature, changes no state', () => {
  /** POST: the answer as the body. GET: the answer appended to the target (a GET's body is not signed). */
  async function sendBack(method: 'GET' | 'POST', target: string, answer: RazerReply, numbers: string[]) {
    expect(answer.signature, `${method} ${target} answered ${answer.status} signed`).not.toBeNull();
    const before = await state(numbers);
    const again =
      method === 'POST'
        ? await raw('POST', target, answer.text, answer.signature)
        : await rawGet(target + answer.text, answer.signature ?? '');
    expect(again.status, again.text).toBeLessThan(500);
    expect(await state(numbers)).toBe(before);
    return again;
  }

  it('init: 200, 409 and a refusal', async () => {
    const created = await send(h, 'POST', '/transaction/init', initBody('R-1'));
    expect(created.status).toBe(200);
    const again = await sendBack('POST', '/transaction/init', created, ['R-1']);
    // The answer lacks razerId: not an init.
    expect([again.status, again.json.code]).toEqual([400, 'INVALID_DATA']);
    const conflict = await send(h, 'POST', '/transaction/init', initBody('R-1', { accountId: '999-1' }));
    expect(conflict.status).toBe(409);
    await sendBack('POST', '/transaction/init', conflict, ['R-1']);
    const refused = await send(h, 'POST', '/transaction/init', initBody('R-2', { sku: 'NOPE' }));
    expect(refused.json.code).toBe('INAVLID_SKU');
    await sendBack('POST', '/transaction/init', refused, ['R-1', 'R-2']);
  });

  it('top-up: delivered, failed and pending; and their queries', async () => {
    const delivered = await purchase(h, 'R-10');
    expect(delivered.topup.status).toBe(200);
    h.fulfilment.outcome = { kind: 'fail', code: 'OOS', reason: 'out of stock' };
    const failed = await purchase(h, 'R-11');
    expect(failed.topup.status).toBe(400);
    h.fulfilment.outcome = { kind: 'pending' };
    const pending = await purchase(h, 'R-12');
    expect(pending.topup.status).toBe(408);
    const numbers = ['R-10', 'R-11', 'R-12'];
    for (const { topup } of [delivered, failed, pending]) {
      const again = await sendBack('POST', '/transaction/topup', topup, numbers);
      // No transactionToken in an answer: never a top-up.
      expect([again.status, again.json.code]).toEqual([400, 'INVALID_DATA']);
    }
    const queried = [];
    for (const n of numbers) {
      const answer = await send(h, 'GET', `/transaction/${n}`);
      const again = await sendBack('GET', `/transaction/${n}`, answer, numbers);
      queried.push([again.status, again.json.code]);
    }
    expect(queried).toEqual([
      // Verified: the number and the answer make a segment longer than 64 characters.
      [400, 'INVALID_DATA'],
      // A space in the answer ends the request target: the server's parser refuses it.
      [400, undefined],
      // Verified: a number never seen.
      [400, 'ORIGIN_NOT_FOUND'],
    ]);
  });

  it('cancel: 200 replays as itself, a refusal is not a request', async () => {
    const init = await send(h, 'POST', '/transaction/init', initBody('R-20'));
    const cancelled = await send(h, 'POST', '/transaction/cancel', {
      transactionNumber: 'R-20',
      transactionToken: init.json.transactionToken,
    });
    expect(cancelled.json.status).toBe('CANCELLED');
    const again = await sendBack('POST', '/transaction/cancel', cancelled, ['R-20']);
    expect([again.status, again.json.status]).toEqual([200, 'CANCELLED']);
    await purchase(h, 'R-21');
    const refused = await send(h, 'POST', '/transaction/cancel', { transactionNumber: 'R-21' });
    expect(refused.json.code).toBe('NOT_ALLOW_CANCEL');
    await sendBack('POST', '/transaction/cancel', refused, ['R-20', 'R-21']);
  });

  it('validate, a bad request, and /health', async () => {
    const valid = await send(h, 'POST', '/account/validate', {
      sku: 'DIAMOND50',
      accountId: '123456-12',
      customParam: { serverId: 'MY01' },
      userCountryCode: 'MY',
    });
    expect(valid.status).toBe(200);
    await sendBack('POST', '/account/validate', valid, []);
    const bad = await send(h, 'POST', '/transaction/topup', { transactionNumber: 'R-30' });
    expect(bad.json.code).toBe('INVALID_DATA');
    await sendBack('POST', '/transaction/topup', bad, ['R-30']);
    const health = await send(h, 'GET', '/health');
    await sendBack('GET', '/health', health, []);
    expect(await h.count('transactions')).toBe(0);
  });
});

describe('what is signed is what is routed: a target with a dot segment is refused before verification', () => {
  it('body mode: supplier text "/../V-1?" in a query answer cannot reroute its replay to another transaction', async () => {
    const victim = await send(h, 'POST', '/transaction/init', initBody('V-1'));
    expect(victim.status).toBe(200);
    // The supplier's reason becomes the 400 message, with no space in it.
    h.fulfilment.outcome = { kind: 'fail', code: 'FAILED', reason: '/../V-1?' };
    await purchase(h, 'R-40');
    const answer = await send(h, 'GET', '/transaction/R-40');
    expect(answer.text).toBe('{"code":"FAILED","message":"/../V-1?"}');
    const before = await everything();
    // Routed, the target is /transaction/V-1 (a query would expire it); it is refused unsigned.
    const replay = await rawGet(`/transaction/R-40${answer.text}`, answer.signature ?? '');
    expect([replay.status, replay.json.code, replay.signature]).toEqual([400, 'INVALID_DATA', null]);
    expect(await everything()).toBe(before);
    expect((await h.row('V-1'))?.state).toBe('INITIATED');
  });

  it('uri mode: an init answer echoing accountId "/../cancel?" cannot reach cancel', async () => {
    await h.close();
    h = await startRazer({ mode: 'uri' });
    await send(h, 'POST', '/transaction/init', initBody('V-3'), { mode: 'uri' });
    const init = await send(
      h,
      'POST',
      '/transaction/init',
      initBody('X-3', { sku: 'STEAMV50', accountId: '/../cancel?', userCountryCode: 'MY' }),
      { mode: 'uri' },
    );
    expect(init.status).toBe(200);
    const replay = await raw(
      'POST',
      `/transaction/init${init.text}`,
      JSON.stringify({ transactionNumber: 'V-3' }),
      init.signature,
    );
    expect([replay.status, replay.signature]).toEqual([400, null]);
    expect((await h.row('V-3'))?.state).toBe('INITIATED');
  });

  it.each([
    '/transaction/./init',
    '/x/../transaction/init',
    '/transaction/%2e%2e/transaction/init',
    '/transaction/%2E/init',
  ])('%s: 400 unsigned, nothing recorded, even correctly signed', async (target) => {
    const before = await everything();
    const body = JSON.stringify(initBody('DOT-1'));
    const r = await raw(
      'POST',
      target,
      body,
      signRequest({ apiId: API_ID, key: API_KEY }, 'body', 'POST', target, body),
    );
    expect([r.status, r.json.code, r.signature]).toEqual([400, 'INVALID_DATA', null]);
    expect(await everything()).toBe(before);
  });

  it('a transaction number . or .. is refused at init', async () => {
    for (const n of ['.', '..']) {
      const r = await send(h, 'POST', '/transaction/init', initBody(n));
      expect([r.status, r.json.code]).toEqual([400, 'INVALID_DATA']);
    }
  });
});
