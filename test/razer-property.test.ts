import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresStore } from '../src/db/postgres/store.js';
import { SqliteStore } from '../src/db/sqlite/store.js';
import type { Store } from '../src/db/store.js';
import { API_ID, initBody, type RazerHarness, send, startRazer } from './helpers/razer.js';

let h: RazerHarness;
let token = '';
beforeAll(async () => {
  h = await startRazer();
  h.fulfilment.outcome = { kind: 'pending' };
  // A live transaction the random requests can aim at.
  token = String((await send(h, 'POST', '/transaction/init', initBody('LIVE-1'))).json.transactionToken);
});
afterAll(() => h.close());

/** Rows of a query that reads the same on both adapters, straight from the database. */
async function select(store: Store, sql: string): Promise<Record<string, unknown>[]> {
  if (store instanceof PostgresStore) return (await store.connection.pool.query(sql)).rows;
  if (store instanceof SqliteStore)
    return store.storage.sqlite.prepare(sql).all() as Record<string, unknown>[];
  throw new Error(`no raw reads for the ${store.dialect} store`);
}

/**
 * Everything a request could change, as one comparable value. Without PostgreSQL's step lease
 * columns: the lease is the adapter's coordination, not the transaction's state (SQLite keeps
 * it in memory).
 */
const snapshot = async () =>
  JSON.stringify([
    (await select(h.store, 'select * from transactions order by transaction_number')).map(
      ({ lease_holder: _holder, lease_until: _until, ...row }) => row,
    ),
    await select(h.store, 'select * from transaction_events order by id'),
  ]);

const PATHS = [
  '/transaction/init',
  '/transaction/topup',
  '/transaction/cancel',
  '/account/validate',
  '/health',
  '/transaction/LIVE-1',
];
const segment = fc.string({ maxLength: 12 }).map((s) => encodeURIComponent(s));
const path = fc.oneof(
  fc.constantFrom(...PATHS),
  fc.tuple(fc.constantFrom(...PATHS), segment).map(([p, s]) => `${p}?${s}=${s}`),
  fc.array(segment, { minLength: 1, maxLength: 3 }).map((parts) => `/${parts.join('/')}`),
);
const numbers = fc.oneof(fc.constantFrom('LIVE-1', 'NOPE', ''), fc.string({ maxLength: 70 }), fc.integer());
const fieldValue = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 1 })),
);
const plausibleBody = fc.record(
  {
    transactionNumber: numbers,
    transactionToken: fc.oneof(fc.constant(token), fieldValue),
    sku: fc.oneof(fc.constantFrom('DIAMOND50', 'STEAMV50', 'GENSHIN60', 'NOPE'), fieldValue),
    accountId: fc.oneof(fc.constantFrom('123456-12', '812345678', ''), fieldValue),
    userCountryCode: fc.oneof(fc.constantFrom('MY', 'US'), fieldValue),
    customParam: fieldValue,
    razerId: fieldValue,
    userIpAddress: fieldValue,
  },
  { requiredKeys: [] },
);
const body = fc.oneof(
  plausibleBody.map((b) => JSON.stringify(b)),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 200 }),
  fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a).toString('latin1')),
);
const header = fc.oneof(
  fc.constant(null),
  fc.string({ maxLength: 80 }),
  fc
    .tuple(fc.base64String({ maxLength: 24 }), fc.base64String({ maxLength: 96 }))
    .map(([a, b]) => `${a}:${b}`),
  fc.base64String({ maxLength: 96 }).map((b) => `${Buffer.from(API_ID).toString('base64')}:${b}`),
);

describe('random requests at every endpoint (property)', () => {
  it('without a valid signature: never a 500, and nothing changes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'POST', 'PUT', 'DELETE'),
        path,
        header,
        body,
        async (method, p, hdr, b) => {
          const before = await snapshot();
          const headers: Record<string, string> = { 'content-type': 'application/json' };
          if (hdr !== null) headers['x-razer-signature'] = hdr;
          const res = await fetch(h.url + p, { method, headers, body: method === 'GET' ? undefined : b });
          await res.arrayBuffer();
          expect(res.status).not.toBe(500);
          if (p.split('?')[0] === '/health') expect([200, 404]).toContain(res.status);
          else expect([400, 401, 404]).toContain(res.status);
          expect(await snapshot()).toBe(before);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('with a valid signature: never a 500, and an invalid body changes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...PATHS), body, async (p, b) => {
        const before = await snapshot();
        const method = p.startsWith('/transaction/LIVE') || p === '/health' ? 'GET' : 'POST';
        const r = await send(h, method, p, method === 'GET' ? undefined : b);
        expect(r.status).not.toBe(500);
        expect([200, 400, 404, 408, 409]).toContain(r.status);
        if (r.json.code === 'INVALID_DATA') expect(await snapshot()).toBe(before);
        if (r.status >= 400 && p !== '/transaction/LIVE-1') expect(await snapshot()).toBe(before);
      }),
      { numRuns: 300 },
    );
  });
});
