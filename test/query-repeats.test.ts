import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { signRequest } from '../src/razer/signature.js';
import { type E2E, startE2E } from './helpers/e2e.js';
import { API_ID, API_KEY, send } from './helpers/razer.js';

const querySignature = (path: string) =>
  signRequest({ apiId: API_ID, key: API_KEY }, 'body', 'GET', path, '');

let e: E2E | undefined;
afterEach(async () => {
  await e?.close();
  e = undefined;
});

/**
 * A top-up answers as soon as its order is delivered, within `topupWaitMs`; a loaded machine
 * (CI beside a campaign) once took more than 300 ms, so the tests that need a delivered top-up
 * wait up to 5 s, and only the one whose order never ends waits 300 ms.
 */
async function started(topupWaitMs = 5000): Promise<E2E> {
  e = await startE2E({ env: { RECONCILE_SCHEDULE_MS: '60000', TOPUP_WAIT_MS: String(topupWaitMs) } });
  return e;
}

/** The stored query answers of n, and its count of repeats, once the audit rows are written. */
async function recorded(gw: E2E, n: string) {
  await gw.gw.audit.flush();
  const exchanges = (await gw.gw.store.listExchanges(n)).filter((x) => x.endpoint === 'query');
  const row = await gw.gw.store.getTransaction(n);
  return {
    answers: exchanges.map((x) => `${x.responseStatus} ${x.responseBody}`),
    repeated: row?.queriesRepeated,
    lastQueriedAt: row?.lastQueriedAt,
  };
}

describe('repeated queries: counted on the transaction, the same bytes answered', () => {
  it('stores a final answer once, counts the repeats, and answers them byte for byte, signed', async () => {
    const gw = await started();
    const { topup } = await gw.purchase('REP-1');
    expect(topup.status).toBe(200);
    const first = await gw.query('REP-1');
    const again = [await gw.query('REP-1'), await gw.query('REP-1'), await gw.query('REP-1')];
    for (const r of again) {
      expect(r.status).toBe(first.status);
      expect(r.text).toBe(first.text);
      expect(r.signature).toBe(first.signature);
    }
    const seen = await recorded(gw, 'REP-1');
    expect(seen.answers).toEqual([`200 ${first.text}`]);
    expect(seen.repeated).toBe(3);
    expect(seen.lastQueriedAt).toBeGreaterThan(0);
  });

  it('stores every change of answer (408, then 200) and counts only the repeats of each', async () => {
    const gw = await started(300);
    gw.sim.nextEnding({ kind: 'stay' });
    const { topup } = await gw.purchase('REP-2');
    expect(topup.status).toBe(408);
    await gw.query('REP-2');
    await gw.query('REP-2');
    const trx = (await gw.gw.store.getTransaction('REP-2'))?.trxCode;
    if (!trx) throw new Error('no trx code');
    gw.sim.finish(trx, { kind: 'success' });
    const final = await gw.settle('REP-2');
    expect(final.status).toBe(200);
    await gw.query('REP-2');
    const seen = await recorded(gw, 'REP-2');
    expect(seen.answers.map((a) => a.slice(0, 3))).toEqual(['408', '200']);
    expect(seen.repeated).toBe(2);
  });

  it('never serves a kept answer to a wrong or missing signature', async () => {
    const gw = await started();
    await gw.purchase('REP-3');
    const good = await gw.query('REP-3');
    expect(good.status).toBe(200);
    const forged = await send(gw, 'GET', '/transaction/REP-3', undefined, { key: 'not-the-key-0000' });
    expect(forged.status).toBe(401);
    const unsigned = await send(gw, 'GET', '/transaction/REP-3', undefined, { header: null });
    expect(unsigned.status).toBe(401);
    // The kept header with its last signature character changed, and cut short: compared whole.
    const header = querySignature('/transaction/REP-3');
    const last = header.at(-3) === 'A' ? 'B' : 'A';
    const changed = `${header.slice(0, -3)}${last}${header.slice(-2)}`;
    for (const wrong of [changed, header.slice(0, -4), `${header}A`]) {
      const reply = await send(gw, 'GET', '/transaction/REP-3', undefined, { header: wrong });
      expect(reply.status, wrong).toBe(401);
    }
    const valid = await send(gw, 'GET', '/transaction/REP-3', undefined, { header });
    expect(valid.text).toBe(good.text);
    await gw.gw.audit.flush();
    // Refused queries are neither stored nor counted.
    expect((await recorded(gw, 'REP-3')).repeated).toBe(1);
  });

  it('does not read the body of a query (a GET): a signed GET with a body is answered as without one', async () => {
    const gw = await started();
    await gw.purchase('REP-4');
    const plain = await gw.query('REP-4');
    const url = new URL(`${gw.url}/transaction/REP-4`);
    const withBody = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'GET',
          headers: { 'content-length': '11', 'x-razer-signature': querySignature(url.pathname) },
        },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => {
            text += c.toString();
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        },
      );
      req.on('error', reject);
      req.end('{"x":"yyy"}');
    });
    expect(withBody).toEqual({ status: 200, text: plain.text });
  });
});
