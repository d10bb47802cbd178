import { afterEach, describe, expect, it } from 'vitest';
import { Reconciler } from '../src/fulfilment/reconciler.js';
import { createLogger } from '../src/log.js';
import { signRequest } from '../src/razer/signature.js';
import { type E2E, startE2E } from './helpers/e2e.js';
import { T0, transactionRow } from './helpers/fixtures.js';
import { API_ID, API_KEY, initBody } from './helpers/razer.js';
import { tempStore } from './helpers/storage.js';

/** Found by the adversarial review of the speed work (group commit, counted repeats, kept final answers). */

const sign = (method: string, path: string) =>
  signRequest({ apiId: API_ID, key: API_KEY }, 'body', method, path, '');

let e: E2E | undefined;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await e?.close();
  e = undefined;
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function started(env: Record<string, string> = {}): Promise<E2E> {
  e = await startE2E({ env: { RECONCILE_SCHEDULE_MS: '60000', TOPUP_WAIT_MS: '2000', ...env } });
  return e;
}

async function raw(gw: E2E, method: string, path: string, header: string) {
  const res = await fetch(gw.url + path, { method, headers: { 'x-razer-signature': header } });
  return { status: res.status, text: await res.text(), signature: res.headers.get('x-razer-signature') };
}

describe('kept final answers: the signature covers the verb', () => {
  it('refuses a HEAD carrying the signature of a GET (no kept answer served)', async () => {
    const gw = await started();
    const { topup } = await gw.purchase('RVW-HEAD-1');
    expect(topup.status).toBe(200);
    // A GET verified and answered: its answer is kept.
    expect((await gw.query('RVW-HEAD-1')).status).toBe(200);
    // The same header on a HEAD: signed over "GET…", so it does not verify for "HEAD…".
    const head = await raw(gw, 'HEAD', '/transaction/RVW-HEAD-1', sign('GET', '/transaction/RVW-HEAD-1'));
    expect(head.status).toBe(401);
  });

  it('refuses a GET carrying the signature of a HEAD (the HEAD answer is not kept for GETs)', async () => {
    const gw = await started();
    const { topup } = await gw.purchase('RVW-HEAD-2');
    expect(topup.status).toBe(200);
    // Never verified as a GET before the cache: without it this GET is a 401.
    const headHeader = sign('HEAD', '/transaction/RVW-HEAD-2');
    const before = await raw(gw, 'GET', '/transaction/RVW-HEAD-2', headHeader);
    expect(before.status).toBe(401);
    const head = await raw(gw, 'HEAD', '/transaction/RVW-HEAD-2', headHeader);
    expect(head.status).toBe(200);
    // Now the HEAD's header opens the GET, body and all.
    const after = await raw(gw, 'GET', '/transaction/RVW-HEAD-2', headHeader);
    expect(after.status).toBe(401);
  });
});

describe('group commit: a check and the write it guards are no longer one turn', () => {
  it('keeps per_account_per_day (DIAMOND50: 20) when inits of one account arrive together', async () => {
    const gw = await started();
    // Open connections first (as Razer's client keeps them), so the inits arrive together.
    await Promise.all(Array.from({ length: 30 }, () => fetch(`${gw.url}/health`).then((r) => r.text())));
    const replies = await Promise.all(
      Array.from({ length: 30 }, (_, i) => gw.init(`RVW-LIM-${i}`, initBody(`RVW-LIM-${i}`))),
    );
    const accepted = replies.filter((r) => r.status === 200).length;
    const refused = replies.filter((r) => r.status === 400 && r.json.code === 'EXCEED_LIMIT').length;
    expect({ accepted, refused }).toEqual({ accepted: 20, refused: 10 });
  });
});

describe('the overdue flag checks the state in its own write', () => {
  it('does not flag as overdue a transaction whose delivery was written in the same turn as the check', async () => {
    const store = await tempStore();
    cleanups.push(() => store.close());
    await store.insertTransaction(
      transactionRow('RVW-OVD-1', 'PROCESSING', { deadlineAt: T0, trxCode: 'MTR-1' }),
    );
    const overdue: string[] = [];
    const reconciler = new Reconciler({
      store,
      leaseMs: 5000,
      engine: { advance: async () => true, isBusy: () => false },
      now: () => T0 + 1,
      logger: createLogger('silent'),
      onOverdue: (n) => overdue.push(n),
    });
    // The step's delivery is written (asked for, in this turn), then the reconciler ticks.
    const delivered = store.moveTransaction({
      transactionNumber: 'RVW-OVD-1',
      from: 'PROCESSING',
      to: 'SUCCESS',
      cause: 'supplier',
      at: T0 + 1,
      patch: { nextCheckAt: null },
    });
    await reconciler.tick();
    expect((await delivered).ok).toBe(true);
    const row = await store.getTransaction('RVW-OVD-1');
    expect(row?.state).toBe('SUCCESS');
    // A delivered transaction is not "still PROCESSING past its deadline".
    expect({ attention: row?.attention, reason: row?.attentionReason, overdue }).toEqual({
      attention: false,
      reason: null,
      overdue: [],
    });
  });
});
