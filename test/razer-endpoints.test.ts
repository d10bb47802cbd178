import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseMapping } from '../src/config/mapping.js';
import { commitMove } from '../src/fulfilment/moves.js';
import { signatureHeader, verifyRequest } from '../src/razer/signature.js';
import { requestSignedContent, responseSignedContent } from '../src/readings/razer.js';
import { API_ID, API_KEY, initBody, purchase, type RazerHarness, send, startRazer } from './helpers/razer.js';

let h: RazerHarness;
beforeEach(async () => {
  h = await startRazer();
});
afterEach(() => h.close());

/** The response signature verifies over verb + URI + response body with the given key. */
function expectSignedReply(
  reply: { text: string; signature: string | null },
  method: string,
  uri: string,
  key = API_KEY,
) {
  expect(reply.signature).toBe(signatureHeader(API_ID, key, responseSignedContent(method, uri, reply.text)));
}

/** A move as the engine makes it (checked against the rules first); it must take. */
async function moved(move: Parameters<typeof commitMove>[1]) {
  expect(await commitMove(h.store, move)).toMatchObject({ ok: true });
}

const topup = (n: string, token: unknown) =>
  send(h, 'POST', '/transaction/topup', { transactionNumber: n, transactionToken: token });
const query = (n: string) => send(h, 'GET', `/transaction/${n}`);
const cancel = (n: string, token?: unknown) =>
  send(
    h,
    'POST',
    '/transaction/cancel',
    token === undefined ? { transactionNumber: n } : { transactionNumber: n, transactionToken: token },
  );

describe('POST /transaction/init', () => {
  it('creates the transaction and answers 200 INITIATED with a token, signed', async () => {
    const r = await send(h, 'POST', '/transaction/init', initBody('TX-1'));
    expect(r.status).toBe(200);
    expect(r.json).toEqual({
      transactionNumber: 'TX-1',
      transactionToken: expect.any(String),
      status: 'INITIATED',
      sku: 'DIAMOND50',
      accountId: '123456-12',
    });
    expectSignedReply(r, 'POST', '/transaction/init');
    expect(await h.row('TX-1')).toMatchObject({
      state: 'INITIATED',
      refId: 'RG-TX-1',
      brandKey: 'MLBB',
      variationKey: 'MLBB112',
      maxPrice: 16000,
      isVoucher: false,
      supplierData: [
        { key: 'user_id', value: '123456' },
        { key: 'zone_id', value: '12' },
      ],
      countryCode: 'MY',
      customParam: { serverId: 'MY01' },
    });
    expect(await h.store.listExchanges('TX-1')).toEqual([
      expect.objectContaining({ endpoint: 'init', responseStatus: 200, responseBody: r.text, apiId: API_ID }),
    ]);
  });

  it.each([
    ['an unknown SKU', { sku: 'NOPE' }, 'INAVLID_SKU'],
    ['a country the SKU is not sold in', { userCountryCode: 'US' }, 'UNSUPPORTED_COUNTRY'],
    ['an accountId that does not fit the pattern', { accountId: '123456' }, 'INVALID_ACCT'],
    [
      'an option value the supplier form does not list',
      { sku: 'GENSHIN60', accountId: '812345678', customParam: { serverId: 'Mars' } },
      'INVALID_ACCT',
    ],
    [
      'a missing customParam the form needs',
      { sku: 'GENSHIN60', accountId: '812345678', customParam: {} },
      'INVALID_ACCT',
    ],
  ])('refuses %s with 400 %s and records nothing', async (_name, over, code) => {
    const r = await send(h, 'POST', '/transaction/init', initBody('TX-R', over));
    expect(r.status).toBe(400);
    expect(r.json.code).toBe(code);
    expect(typeof r.json.message).toBe('string');
    expectSignedReply(r, 'POST', '/transaction/init');
    expect(await h.row('TX-R')).toBeUndefined();
  });

  it('refuses a disabled SKU as INAVLID_SKU', async () => {
    await h.close();
    const parsed = parseMapping(
      'skus:\n  OFF:\n    brand: MLBB\n    variation: MLBB112\n    max_price: 16000\n    enabled: false\n',
      'm.yaml',
    );
    if (!parsed.ok) throw new Error(parsed.errors.join());
    h = await startRazer({ mapping: parsed.mapping });
    expect((await send(h, 'POST', '/transaction/init', initBody('TX-D', { sku: 'OFF' }))).json.code).toBe(
      'INAVLID_SKU',
    );
  });

  it('refuses as OOS when the supplier price is above max_price, the variation is inactive, or no catalogue exists', async () => {
    await h.store.replaceVariations(
      'MLBB',
      [{ variationKey: 'MLBB112', name: 'x', price: 16001, isActive: true }],
      0,
    );
    expect((await send(h, 'POST', '/transaction/init', initBody('TX-O1'))).json).toMatchObject({
      code: 'OOS',
    });
    await h.store.replaceVariations(
      'MLBB',
      [{ variationKey: 'MLBB112', name: 'x', price: 15000, isActive: false }],
      0,
    );
    expect((await send(h, 'POST', '/transaction/init', initBody('TX-O2'))).json).toMatchObject({
      code: 'OOS',
    });
    await h.store.replaceVariations('MLBB', [], 0);
    expect((await send(h, 'POST', '/transaction/init', initBody('TX-O3'))).json).toMatchObject({
      code: 'OOS',
    });
    await h.close();
    h = await startRazer({ seedCatalogue: false });
    expect((await send(h, 'POST', '/transaction/init', initBody('TX-O4'))).json).toMatchObject({
      code: 'OOS',
    });
    expect(await h.count('transactions')).toBe(0);
  });

  /** DIAMOND50 at most twice a day per account, three times a day in all. */
  async function restartWithLimits() {
    await h.close();
    const parsed = parseMapping(
      "skus:\n  DIAMOND50:\n    brand: MLBB\n    variation: MLBB112\n    max_price: 16000\n    account: { pattern: '^(?<u>\\d+)-(?<z>\\d+)$' }\n    form: { user_id: '{u}', zone_id: '{z}' }\n    limits: { per_account_per_day: 2, per_sku_per_day: 3 }\n",
      'm.yaml',
    );
    if (!parsed.ok) throw new Error(parsed.errors.join());
    h = await startRazer({ mapping: parsed.mapping });
  }

  it('refuses beyond the per-account daily limit with EXCEED_LIMIT, counting only live purchases', async () => {
    await restartWithLimits();
    expect((await send(h, 'POST', '/transaction/init', initBody('L1'))).status).toBe(200);
    expect((await send(h, 'POST', '/transaction/init', initBody('L2'))).status).toBe(200);
    expect((await send(h, 'POST', '/transaction/init', initBody('L3'))).json).toMatchObject({
      code: 'EXCEED_LIMIT',
    });
    await cancel('L1'); // a cancelled purchase no longer counts
    expect((await send(h, 'POST', '/transaction/init', initBody('L4'))).status).toBe(200);
    expect((await send(h, 'POST', '/transaction/init', initBody('L5', { accountId: '999-1' }))).status).toBe(
      200,
    );
    expect(
      (await send(h, 'POST', '/transaction/init', initBody('L6', { accountId: '888-1' }))).json,
    ).toMatchObject({
      code: 'EXCEED_LIMIT',
      message: 'at most 3 purchases of DIAMOND50 per day',
    });
    h.clock.now += 24 * 3_600_000;
    expect((await send(h, 'POST', '/transaction/init', initBody('L7'))).status).toBe(200);
  });

  it.each(['0123456-12', '123456-012', '00123456-0012'])(
    'review: counts the per-account limit by the game account the supplier gets, so %s is refused once 123456-12 reached it',
    async (spelling) => {
      await restartWithLimits();
      expect((await send(h, 'POST', '/transaction/init', initBody('Z1'))).status).toBe(200);
      expect((await send(h, 'POST', '/transaction/init', initBody('Z2'))).status).toBe(200);
      const r = await send(h, 'POST', '/transaction/init', initBody('Z3', { accountId: spelling }));
      expect(r.status).toBe(400);
      expect(r.json).toEqual({
        code: 'EXCEED_LIMIT',
        message: 'at most 2 purchases of DIAMOND50 per account per day',
      });
      expect(await h.row('Z3')).toBeUndefined();
      // Another game account whose digits read alike is not the same account.
      expect(
        (await send(h, 'POST', '/transaction/init', initBody('Z4', { accountId: '1234561-2' }))).status,
      ).toBe(200);
    },
  );

  it.each([
    [
      'a missing transactionNumber',
      JSON.stringify({ ...initBody('X'), transactionNumber: undefined }),
      "'transactionNumber' is required.",
    ],
    ['a number as sku', JSON.stringify(initBody('X', { sku: 42 })), "'sku' must be a string."],
    ['an empty accountId', JSON.stringify(initBody('X', { accountId: '' })), "'accountId' is required."],
    [
      'a too long transactionNumber',
      JSON.stringify(initBody('X'.repeat(65))),
      "'transactionNumber' is longer than 64 characters.",
    ],
    [
      'a transactionNumber with a slash',
      JSON.stringify(initBody('A/B')),
      "'transactionNumber' must not contain / ? # or %.",
    ],
    [
      'customParam values that are not strings',
      JSON.stringify(initBody('X', { customParam: { a: 1 } })),
      "'customParam' values must be strings.",
    ],
    ['a body that is not JSON', '{"transactionNumber":', 'the body is not valid JSON.'],
    ['a JSON array', '[]', 'the body must be a JSON object.'],
    ['a JSON null', 'null', 'the body must be a JSON object.'],
  ])('answers 400 INVALID_DATA for %s, naming the problem', async (_name, body, message) => {
    const r = await send(h, 'POST', '/transaction/init', body);
    expect(r.status).toBe(400);
    expect(r.json).toEqual({ code: 'INVALID_DATA', message });
    expect(await h.count('transactions')).toBe(0);
  });

  it('answers 400 INVALID_DATA for a wrong content type and for a body over 64 KiB', async () => {
    const wrongType = await send(h, 'POST', '/transaction/init', initBody('X'), {
      contentType: 'text/plain',
    });
    expect(wrongType.json).toEqual({
      code: 'INVALID_DATA',
      message: 'Content-Type must be application/json.',
    });
    const huge = await send(h, 'POST', '/transaction/init', initBody('X', { razerId: 'r'.repeat(70_000) }));
    expect(huge.status).toBe(400);
    expect(huge.json).toEqual({ code: 'INVALID_DATA', message: 'the body is larger than 65536 bytes.' });
    expect(await h.count('transactions')).toBe(0);
  });

  it('replays the stored first answer byte for byte for an identical repeat', async () => {
    const first = await send(h, 'POST', '/transaction/init', initBody('TX-2'));
    h.clock.now += 1000;
    const again = await send(h, 'POST', '/transaction/init', initBody('TX-2'));
    expect(again.status).toBe(200);
    expect(again.text).toBe(first.text);
    expectSignedReply(again, 'POST', '/transaction/init');
    // Same content, other key order and spacing: still the same request.
    const reordered = `{ "customParam": {"serverId":"MY01"}, ${JSON.stringify(initBody('TX-2'))
      .slice(1, -1)
      .replace(/,"customParam":\{"serverId":"MY01"\}/, '')} }`;
    expect((await send(h, 'POST', '/transaction/init', reordered)).text).toBe(first.text);
    expect(await h.count('transactions')).toBe(1);
  });

  it('answers 409 for the same number with a different body, and changes nothing', async () => {
    const first = await send(h, 'POST', '/transaction/init', initBody('TX-3'));
    const other = await send(h, 'POST', '/transaction/init', initBody('TX-3', { accountId: '654321-1' }));
    expect(other.status).toBe(409);
    expect(other.json).toEqual({ code: 'FAILED', message: 'duplicated transaction' });
    expectSignedReply(other, 'POST', '/transaction/init');
    expect((await h.row('TX-3'))?.accountId).toBe('123456-12');
    expect((await send(h, 'POST', '/transaction/init', initBody('TX-3'))).text).toBe(first.text);
  });

  it('creates one transaction when two identical inits race', async () => {
    const replies = await Promise.all(
      Array.from({ length: 8 }, () => send(h, 'POST', '/transaction/init', initBody('TX-RACE'))),
    );
    expect(new Set(replies.map((r) => r.status))).toEqual(new Set([200]));
    expect(new Set(replies.map((r) => r.text)).size).toBe(1);
    expect(await h.count('transactions')).toBe(1);
  });
});

describe('POST /transaction/topup', () => {
  it('answers 200 SUCCESS with the supplier reference once delivered (no voucher for a top-up)', async () => {
    const { topup: r } = await purchase(h, 'TX-10');
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ transactionNumber: 'TX-10', status: 'SUCCESS', referenceId: 'VCG-TX-10' });
    expectSignedReply(r, 'POST', '/transaction/topup');
    expect(h.fulfilment.calls).toEqual(['TX-10']);
    expect((await h.store.listEvents('TX-10'))[0]).toMatchObject({
      fromState: 'INITIATED',
      toState: 'QUEUED',
      cause: 'razer',
    });
  });

  it('hands back the voucher code for a voucher SKU', async () => {
    h.fulfilment.outcome = { kind: 'success', voucher: 'STEAM-ABC' };
    const { topup: r } = await purchase(h, 'TX-11', { sku: 'STEAMV50', accountId: 'player@example' });
    expect(r.json).toEqual({
      transactionNumber: 'TX-11',
      status: 'SUCCESS',
      referenceId: 'VCG-TX-11',
      voucher: { code: 'STEAM-ABC' },
    });
  });

  it.each(['OOS', 'INVALID_ACCT', 'INAVLID_SKU', 'FAILED'] as const)(
    'answers 400 %s when the supplier definitively refused',
    async (code) => {
      h.fulfilment.outcome = { kind: 'fail', code, reason: `supplier says ${code}` };
      const { topup: r } = await purchase(h, `TX-F-${code}`);
      expect(r.status).toBe(400);
      expect(r.json).toEqual({ code, message: `supplier says ${code}` });
    },
  );

  it('answers 408 PENDING while the outcome is open, queued or sent', async () => {
    h.fulfilment.outcome = { kind: 'pending' };
    expect((await purchase(h, 'TX-12')).topup).toMatchObject({
      status: 408,
      json: { transactionNumber: 'TX-12', status: 'PENDING' },
    });
    h.fulfilment.outcome = { kind: 'sent' };
    expect((await purchase(h, 'TX-13')).topup).toMatchObject({ status: 408, json: { status: 'PENDING' } });
  });

  it('never orders twice: a repeated top-up answers from the state', async () => {
    h.fulfilment.outcome = { kind: 'sent' };
    const { init, topup: first } = await purchase(h, 'TX-14');
    expect(first.status).toBe(408);
    const again = await topup('TX-14', init.json.transactionToken);
    expect(again.status).toBe(408);
    await moved({
      transactionNumber: 'TX-14',
      from: 'PROCESSING',
      to: 'SUCCESS',
      cause: 'supplier',
      at: 1,
      patch: { voucherCode: 'S' },
    });
    const third = await topup('TX-14', init.json.transactionToken);
    expect(third.text).toBe((await query('TX-14')).text);
    expect(third.status).toBe(200);
    expect(h.fulfilment.calls).toEqual(['TX-14']);
  });

  it('refuses an unknown number, a wrong token, and a cancelled or expired transaction', async () => {
    expect((await topup('NOPE', 'x')).json).toMatchObject({ code: 'ORIGIN_NOT_FOUND' });
    const init = await send(h, 'POST', '/transaction/init', initBody('TX-15'));
    expect((await topup('TX-15', 'wrong')).json).toMatchObject({ code: 'INVALID_TRANS_TOKEN' });
    expect((await h.row('TX-15'))?.state).toBe('INITIATED');
    await cancel('TX-15');
    expect(await topup('TX-15', init.json.transactionToken)).toMatchObject({
      status: 400,
      json: { code: 'FAILED' },
    });

    const late = await send(h, 'POST', '/transaction/init', initBody('TX-16'));
    h.clock.now += 24 * 3_600_000;
    expect(await topup('TX-16', late.json.transactionToken)).toMatchObject({
      status: 400,
      json: { code: 'FAILED', message: 'not topped up' },
    });
    expect((await h.row('TX-16'))?.state).toBe('EXPIRED');
    expect(h.fulfilment.calls).toEqual([]);
  });

  it('answers 400 INVALID_DATA for a missing token', async () => {
    expect((await send(h, 'POST', '/transaction/topup', { transactionNumber: 'X' })).json).toEqual({
      code: 'INVALID_DATA',
      message: "'transactionToken' is required.",
    });
  });
});

describe('GET /transaction/{transactionNumber}', () => {
  it('answers from the recorded state, the same way every time', async () => {
    const { topup: delivered } = await purchase(h, 'TX-20');
    const q = await query('TX-20');
    expect(q.status).toBe(200);
    expect(q.text).toBe(delivered.text);
    expectSignedReply(q, 'GET', '/transaction/TX-20');
    h.fulfilment.outcome = { kind: 'pending' };
    await purchase(h, 'TX-21');
    expect(await query('TX-21')).toMatchObject({ status: 408, json: { status: 'PENDING' } });
  });

  it('closes an initiated, never topped-up transaction as expired, and refuses its top-up afterwards', async () => {
    const init = await send(h, 'POST', '/transaction/init', initBody('TX-22'));
    const q = await query('TX-22');
    expect(q).toMatchObject({ status: 400, json: { code: 'FAILED', message: 'not topped up' } });
    expect((await h.row('TX-22'))?.state).toBe('EXPIRED');
    expect(await topup('TX-22', init.json.transactionToken)).toMatchObject({
      status: 400,
      json: { code: 'FAILED' },
    });
    expect((await query('TX-22')).text).toBe(q.text);
    expect(h.fulfilment.calls).toEqual([]);
  });

  it('answers 400 ORIGIN_NOT_FOUND for a number never seen, and INVALID_DATA for a malformed one', async () => {
    expect(await query('NEVER')).toMatchObject({ status: 400, json: { code: 'ORIGIN_NOT_FOUND' } });
    expect(await query('X'.repeat(65))).toMatchObject({ status: 400, json: { code: 'INVALID_DATA' } });
  });
});

describe('POST /transaction/cancel', () => {
  it('cancels an initiated transaction, and says so again when repeated', async () => {
    const init = await send(h, 'POST', '/transaction/init', initBody('TX-30'));
    const r = await cancel('TX-30', init.json.transactionToken);
    expect(r).toMatchObject({ status: 200, json: { transactionNumber: 'TX-30', status: 'CANCELLED' } });
    expectSignedReply(r, 'POST', '/transaction/cancel');
    expect((await cancel('TX-30')).json).toEqual({ transactionNumber: 'TX-30', status: 'CANCELLED' });
    expect(await query('TX-30')).toMatchObject({ status: 400, json: { code: 'FAILED' } });
  });

  it('cancels a queued order that was never sent, and refuses one that was', async () => {
    h.fulfilment.outcome = { kind: 'pending' };
    await purchase(h, 'TX-31');
    expect((await cancel('TX-31')).json).toMatchObject({ status: 'CANCELLED' });

    await purchase(h, 'TX-32');
    // Sent once, refused for the rate limit, and queued again: it has been to the supplier.
    await moved({
      transactionNumber: 'TX-32',
      from: 'QUEUED',
      to: 'ORDERING',
      cause: 'supplier',
      at: 1,
      patch: { orderAttempts: 1 },
    });
    await moved({
      transactionNumber: 'TX-32',
      from: 'ORDERING',
      to: 'QUEUED',
      cause: 'supplier',
      at: 2,
    });
    expect(await cancel('TX-32')).toMatchObject({ status: 400, json: { code: 'NOT_ALLOW_CANCEL' } });
    expect((await h.row('TX-32'))?.state).toBe('QUEUED');
  });

  it.each([
    ['sent and pending', { kind: 'sent' } as const],
    ['delivered', { kind: 'success' } as const],
  ])('refuses to cancel an order %s with NOT_ALLOW_CANCEL', async (_name, outcome) => {
    h.fulfilment.outcome = outcome;
    await purchase(h, 'TX-33');
    const before = (await h.row('TX-33'))?.state;
    expect(await cancel('TX-33')).toMatchObject({ status: 400, json: { code: 'NOT_ALLOW_CANCEL' } });
    expect((await h.row('TX-33'))?.state).toBe(before);
  });

  it('answers 200 with the status of a failed or expired transaction', async () => {
    h.fulfilment.outcome = { kind: 'fail', code: 'OOS', reason: 'no stock' };
    await purchase(h, 'TX-34');
    expect((await cancel('TX-34')).json).toEqual({ transactionNumber: 'TX-34', status: 'FAILED' });
    await send(h, 'POST', '/transaction/init', initBody('TX-35'));
    await query('TX-35');
    expect((await cancel('TX-35')).json).toEqual({ transactionNumber: 'TX-35', status: 'EXPIRED' });
  });

  it('refuses an unknown number and a wrong token', async () => {
    expect((await cancel('NOPE')).json).toMatchObject({ code: 'ORIGIN_NOT_FOUND' });
    await send(h, 'POST', '/transaction/init', initBody('TX-36'));
    expect((await cancel('TX-36', 'wrong')).json).toMatchObject({ code: 'INVALID_TRANS_TOKEN' });
    expect((await h.row('TX-36'))?.state).toBe('INITIATED');
  });
});

describe('POST /account/validate', () => {
  it('runs the init checks and records nothing', async () => {
    const ok = await send(h, 'POST', '/account/validate', {
      sku: 'DIAMOND50',
      accountId: '123456-12',
      userCountryCode: 'MY',
    });
    expect(ok).toMatchObject({
      status: 200,
      json: { valid: true, sku: 'DIAMOND50', accountId: '123456-12' },
    });
    expect(
      (
        await send(h, 'POST', '/account/validate', {
          sku: 'DIAMOND50',
          accountId: 'x',
          userCountryCode: 'MY',
        })
      ).json,
    ).toMatchObject({ code: 'INVALID_ACCT' });
    expect(
      (
        await send(h, 'POST', '/account/validate', {
          sku: 'DIAMOND50',
          accountId: '1-1',
          userCountryCode: 'FR',
        })
      ).json,
    ).toMatchObject({ code: 'UNSUPPORTED_COUNTRY' });
    expect(
      (await send(h, 'POST', '/account/validate', { sku: 'NOPE', accountId: '1-1' })).json,
    ).toMatchObject({ code: 'INAVLID_SKU' });
    expect((await send(h, 'POST', '/account/validate', { accountId: '1-1' })).json).toEqual({
      code: 'INVALID_DATA',
      message: "'sku' is required.",
    });
    expect(await h.count('transactions')).toBe(0);
  });
});

describe('GET /health', () => {
  it('answers OK as text, unsigned without a signature and signed with a valid one', async () => {
    const bare = await fetch(`${h.url}/health`);
    expect([bare.status, await bare.text(), bare.headers.get('x-razer-signature')]).toEqual([
      200,
      'OK',
      null,
    ]);
    const signed = await send(h, 'GET', '/health');
    expect(signed.text).toBe('OK');
    expectSignedReply(signed, 'GET', '/health');
  });
});

describe('authentication', () => {
  const unsigned = async (
    o: Parameters<typeof send>[4],
    path = '/transaction/init',
    body: unknown = initBody('TX-A'),
  ) => {
    const r = await send(h, 'POST', path, body, o);
    expect(r.status).toBe(401);
    expect(r.json.code).toBe('UNAUTHORIZED');
    expect(await h.count('transactions')).toBe(0);
    expect(await h.count('razer_exchanges')).toBe(0);
    return r;
  };

  it('refuses a tampered body, unsigned though the api-id is known', async () => {
    const r = await unsigned({ signBody: JSON.stringify(initBody('TX-B')) });
    expect(r.json.message).toBe('signature does not match');
    expect(r.signature).toBeNull();
  });

  it('refuses a tampered query string', async () => {
    await unsigned({ signPath: '/transaction/init?a=1' }, '/transaction/init?a=2');
  });

  it('refuses a wrong key, an unknown api-id (unsigned), a malformed and a missing header', async () => {
    await unsigned({ key: 'wrong-key' });
    const stranger = await unsigned({ apiId: 'stranger' });
    expect(stranger.signature).toBeNull();
    expect((await unsigned({ header: 'not-a-signature' })).json.message).toBe(
      'X-Razer-Signature must be base64(api-id):base64(signature)',
    );
    expect((await unsigned({ header: null })).json.message).toBe('X-Razer-Signature header is missing');
    expect(h.unauthorized).toHaveLength(4);
  });

  it('refuses before reading anything: a 401 for a stranger on every endpoint, query included', async () => {
    const r = await send(h, 'GET', '/transaction/ANY', undefined, { key: 'wrong' });
    expect(r.status).toBe(401);
    for (const path of ['/transaction/topup', '/transaction/cancel', '/account/validate']) {
      expect((await send(h, 'POST', path, {}, { header: null })).status).toBe(401);
    }
  });

  it('signs over the path and query exactly as received', async () => {
    const r = await send(h, 'POST', '/transaction/init?a=1&b=%7E', initBody('TX-Q'));
    expect(r.status).toBe(200);
    expectSignedReply(r, 'POST', '/transaction/init?a=1&b=%7E');
  });

  it('in uri mode, accepts a signature over verb and URI only, and refuses a body-mode one', async () => {
    await h.close();
    h = await startRazer({ mode: 'uri' });
    expect((await send(h, 'POST', '/transaction/init', initBody('TX-U'), { mode: 'uri' })).status).toBe(200);
    expect((await send(h, 'POST', '/transaction/init', initBody('TX-V'), { mode: 'body' })).status).toBe(401);
  });

  it('accepts the previous key during a rotation and signs the answer with the key that verified', async () => {
    await h.close();
    h = await startRazer({ keys: ['new-key', API_KEY] });
    const old = await send(h, 'POST', '/transaction/init', initBody('TX-K1'), { key: API_KEY });
    expectSignedReply(old, 'POST', '/transaction/init', API_KEY);
    const fresh = await send(h, 'POST', '/transaction/init', initBody('TX-K2'), { key: 'new-key' });
    expectSignedReply(fresh, 'POST', '/transaction/init', 'new-key');
  });

  it('verifies the published vector end to end', () => {
    const content = requestSignedContent(
      'body',
      'GET',
      '/transaction/121VKD1KFHP8B6ECD7862',
      Buffer.alloc(0),
    );
    expect(
      verifyRequest(
        signatureHeader(API_ID, API_KEY, content),
        [{ apiId: API_ID, keys: [API_KEY] }],
        'body',
        'GET',
        '/transaction/121VKD1KFHP8B6ECD7862',
        Buffer.alloc(0),
      ).ok,
    ).toBe(true);
  });
});

describe('unknown paths and the audit trail', () => {
  it('answers 404 for an endpoint that does not exist, unsigned even with a valid signature', async () => {
    const r = await send(h, 'POST', '/transaction/refund', { transactionNumber: 'X' });
    expect(r.status).toBe(404);
    expect(r.signature).toBeNull();
  });

  it('keeps every authenticated exchange with its transaction, so its story can be read', async () => {
    h.fulfilment.outcome = { kind: 'pending' };
    const { init } = await purchase(h, 'TX-40');
    await query('TX-40');
    await topup('TX-40', 'wrong');
    await cancel('TX-40');
    expect((await h.store.listExchanges('TX-40')).map((e) => [e.endpoint, e.responseStatus])).toEqual([
      ['init', 200],
      ['topup', 408],
      ['query', 408],
      ['topup', 400],
      ['cancel', 200],
    ]);
    expect(init.status).toBe(200);
  });
});
