import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import type { Story } from '../src/admin/story.js';
import { formatStory } from '../src/cli/story.js';
import { TransactionPage } from '../src/console/pages/transaction.js';
import {
  migrate as migratePostgres,
  MIGRATIONS_FOLDER as PG_MIGRATIONS,
} from '../src/db/postgres/connection.js';
import { PostgresStore } from '../src/db/postgres/store.js';
import {
  migrateStorage,
  openStorage,
  MIGRATIONS_FOLDER as SQLITE_MIGRATIONS,
} from '../src/db/sqlite/connection.js';
import { getTransaction } from '../src/db/sqlite/transactions.js';
import type { TransactionRow } from '../src/db/types.js';
import { type SaleFigures, saleFigures } from '../src/fulfilment/profit.js';
import { story as storySchema } from '../src/openapi/admin-responses.js';
import { type E2E, startE2E } from './helpers/e2e.js';
import { T0 } from './helpers/fixtures.js';
import { EXAMPLE_MAPPING } from './helpers/mapping.js';
import { createDatabase } from './helpers/postgres.js';
import { TEST_DIALECT, type TempDir, tempDir } from './helpers/storage.js';

// Issue 24 §1: each sale records what it earns at init and what it cost when the supplier
// charges; its story shows cost, revenue and profit; an edit of the mapping or of the rates
// never rewrites a recorded sale; sales recorded before the revenue columns read "not recorded".

const ADMIN_TOKEN = 'admin-token-for-tests-0123456789';

let e: E2E | undefined;
let dir: TempDir | undefined;
afterEach(async () => {
  await e?.close();
  e = undefined;
  dir?.remove();
  dir = undefined;
});

async function storyOf(n: string): Promise<Story> {
  if (!e) throw new Error('no gateway');
  const res = await fetch(`${e.url}/admin/transactions/${n}`, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  expect(res.status).toBe(200);
  // The answer is the documented schema, its figures included.
  return storySchema.parse(await res.json()) as Story;
}

/** The example mapping and a SKU of the simulator's product that is always refunded. */
const REFUNDED_SKU = `
  REFUND10:
    brand: SIMTEST
    variation: REFUND10
    max_price: 10000
    form: { user_id: '{accountId}' }
    revenue: { amount: '0.70', currency: USD }
`;

/** What a sale recorded of its money. */
const recorded = ({ transaction: t }: Story) => ({
  revenueMinor: t.revenueMinor,
  revenueCurrency: t.revenueCurrency,
  revenueRateE6: t.revenueRateE6,
  revenueRateSet: t.revenueRateSet,
  revenueIdr: t.revenueIdr,
  priceOffered: t.priceOffered,
  pricePaid: t.pricePaid,
  state: t.state,
});

const DELIVERED: SaleFigures = {
  outcome: 'delivered',
  // 1.05 × 16250.5 = 17063.025
  revenue: { amount: '1.05', currency: 'USD', rate: '16250.5', rateSet: '2026-12-01', idr: 17063 },
  revenueIdr: 17063,
  // The simulator's selling_total for MLBB112.
  costIdr: 15000,
  costFrom: 'supplier',
  profitIdr: 2063,
};

describe('sale figures end to end', () => {
  it('records revenue at init and cost when charged, shows them in the story, and no later edit of the mapping or rates rewrites them', async () => {
    dir = tempDir();
    const file = dir.file('mapping.yaml');
    const text = readFileSync(EXAMPLE_MAPPING, 'utf8') + REFUNDED_SKU;
    writeFileSync(file, text);
    e = await startE2E({ env: { ADMIN_TOKEN, MAPPING_FILE: file } });
    expect(e.gw.mapping.reload()).toEqual({ ok: true, skus: 4 });
    expect(await e.gw.catalogue.refreshBrand('SIMTEST')).toBe('ok');

    // Delivered: what init recorded, the supplier's charge, the difference.
    await e.purchase('FIG-1');
    expect((await e.settle('FIG-1')).status).toBe(200);
    const delivered = await storyOf('FIG-1');
    expect(delivered.transaction).toMatchObject({
      revenueMinor: 105,
      revenueCurrency: 'USD',
      revenueRateE6: 16_250_500_000,
      revenueRateSet: '2026-12-01',
      revenueIdr: 17063,
      pricePaid: 15000,
    });
    expect(delivered.money).toEqual(DELIVERED);
    expect(formatStory(delivered)).toContain(
      '  cost IDR 15,000 (charged by the supplier); revenue 1.05 USD at 16250.5 IDR (rate set 2026-12-01) = IDR 17,063; profit IDR 2,063',
    );
    const page = String(
      await TransactionPage({
        chrome: { actor: 'alice', csrf: 'x', section: 'transactions' },
        story: delivered,
        entries: [],
        can: { recheck: false, resolve: false, acknowledge: false },
        now: T0,
      }),
    );
    expect(page).toContain('<dt>Cost / revenue / profit</dt>');
    expect(page).toMatch(
      /IDR 15,000 \(charged by the supplier\) \/ 1.05 USD at 16250.5 IDR.*IDR 17,063 \/ <strong>IDR 2,063<\/strong>/,
    );

    // Refunded by the supplier after it charged: nothing earned, nothing spent.
    await e.purchase('FIG-2', { sku: 'REFUND10', accountId: '123456' });
    expect((await e.settle('FIG-2')).status).toBe(400);
    const refunded = await storyOf('FIG-2');
    expect(refunded.transaction).toMatchObject({ state: 'FAILED', pricePaid: 10000, revenueIdr: 11375 });
    expect(refunded.money).toMatchObject({
      outcome: 'not-delivered',
      revenueIdr: 0,
      costIdr: 0,
      profitIdr: 0,
    });

    // Initiated before the edit, topped up after it: the sale earns what its init recorded.
    const before = await e.init('FIG-3');
    expect(before.status).toBe(200);

    // The rate and the revenue change; every recorded sale stays as it was.
    const edited = text
      .replace('USD: { idr: 16250.5, set: 2026-12-01 }', 'USD: { idr: 17000, set: 2026-12-07 }')
      .replace("revenue: { amount: '1.05', currency: USD }", "revenue: { amount: '2.00', currency: USD }");
    expect(edited).not.toBe(text);
    writeFileSync(file, edited);
    expect(e.gw.mapping.reload()).toEqual({ ok: true, skus: 4 });
    expect(e.gw.mapping.sku('DIAMOND50')?.revenue).toMatchObject({ idr: 34000 });

    for (const was of [delivered, refunded]) {
      const now = await storyOf(was.transaction.transactionNumber);
      expect(now.money).toEqual(was.money);
      expect(recorded(now)).toEqual(recorded(was));
    }

    await e.topup('FIG-3', before.json.transactionToken);
    expect((await e.settle('FIG-3')).status).toBe(200);
    expect((await storyOf('FIG-3')).money).toEqual(DELIVERED);

    // A sale initiated after the edit earns at the new rate: 2.00 × 17000.
    await e.purchase('FIG-4');
    await e.settle('FIG-4');
    expect((await storyOf('FIG-4')).money).toEqual({
      ...DELIVERED,
      revenue: { amount: '2.00', currency: 'USD', rate: '17000', rateSet: '2026-12-07', idr: 34000 },
      revenueIdr: 34000,
      profitIdr: 19000,
    });

    // A rate removed while a SKU still earns in its currency: the edit is refused whole.
    writeFileSync(file, edited.replace('  USD: { idr: 17000, set: 2026-12-07 }\n', ''));
    const refused = e.gw.mapping.reload();
    expect(refused.ok).toBe(false);
    expect(!refused.ok && refused.errors.join('\n')).toMatch(
      /sku DIAMOND50, field revenue\.currency: no rate for USD/,
    );
    expect(e.gw.mapping.sku('DIAMOND50')?.revenue).toMatchObject({ idr: 34000 });
  });
});

describe('migration: sales recorded before the revenue columns', () => {
  const OLD_ROW = (n: string, state: string, pricePaid: number | null) =>
    `insert into transactions (transaction_number, api_id, sku, brand_key, variation_key, max_price, account_id, supplier_data, state, token, ref_id, expires_at, created_at, updated_at, price_offered, price_paid)
     values ('${n}', 'publisherA', 'DIAMOND50', 'MLBB', 'MLBB112', 16000, '123456-12', '[]', '${state}', 't', 'RG-${n}', ${T0}, ${T0}, ${T0}, 15000, ${pricePaid ?? 'null'})`;
  const rows = [OLD_ROW('OLD-S', 'SUCCESS', 15000), OLD_ROW('OLD-F', 'FAILED', 15000)];

  /** The migrations of the previous release (before `tag`), copied from `folder`. */
  function previousRelease(folder: string, into: TempDir, tag: string) {
    const old = into.file('migrations');
    mkdirSync(join(old, 'meta'), { recursive: true });
    const journal = JSON.parse(readFileSync(join(folder, 'meta/_journal.json'), 'utf8'));
    const before = journal.entries.filter((x: { tag: string }) => x.tag < tag);
    for (const x of before) copyFileSync(join(folder, `${x.tag}.sql`), join(old, `${x.tag}.sql`));
    writeFileSync(join(old, 'meta/_journal.json'), JSON.stringify({ ...journal, entries: before }));
    return old;
  }

  const expectNotRecorded = (success: TransactionRow | undefined, failed: TransactionRow | undefined) => {
    if (!success || !failed) throw new Error('rows lost in the upgrade');
    expect(success).toMatchObject({
      revenueMinor: null,
      revenueCurrency: null,
      revenueRateE6: null,
      revenueRateSet: null,
      revenueIdr: null,
    });
    expect(saleFigures(success)).toEqual({
      outcome: 'delivered',
      revenue: null,
      revenueIdr: null,
      costIdr: 15000,
      costFrom: 'supplier',
      profitIdr: null,
    });
    expect(saleFigures(failed)).toMatchObject({ revenue: null, revenueIdr: 0, costIdr: 0, profitIdr: 0 });
  };

  // Each dialect's upgrade runs in its own project only: defined there, not skipped elsewhere.
  if (TEST_DIALECT === 'sqlite')
    it('SQLite: old rows keep null revenue, read as not recorded; their cost stays', () => {
      dir = tempDir();
      const db = openStorage(dir.file('old.db'));
      try {
        migrateStorage(db, previousRelease(SQLITE_MIGRATIONS, dir, '0008'));
        for (const sql of rows) db.sqlite.exec(sql);
        migrateStorage(db);
        expectNotRecorded(getTransaction(db.db, 'OLD-S'), getTransaction(db.db, 'OLD-F'));
      } finally {
        db.close();
      }
    });

  if (TEST_DIALECT === 'sqlite')
    it('SQLite: fractional amounts an older version stored as sent are rounded half up to whole IDR', () => {
      dir = tempDir();
      const db = openStorage(dir.file('old.db'));
      try {
        migrateStorage(db, previousRelease(SQLITE_MIGRATIONS, dir, '0011'));
        db.sqlite.exec(OLD_ROW('OLD-HALF', 'SUCCESS', 15000.5));
        db.sqlite.exec(OLD_ROW('OLD-LOW', 'SUCCESS', 15000.49));
        db.sqlite.exec(OLD_ROW('OLD-WHOLE', 'SUCCESS', 15000));
        db.sqlite.exec(
          "update transactions set price_offered = 14999.5 where transaction_number = 'OLD-LOW'",
        );
        migrateStorage(db);
        expect(getTransaction(db.db, 'OLD-HALF')).toMatchObject({ pricePaid: 15001, priceOffered: 15000 });
        expect(getTransaction(db.db, 'OLD-LOW')).toMatchObject({ pricePaid: 15000, priceOffered: 15000 });
        expect(getTransaction(db.db, 'OLD-WHOLE')).toMatchObject({ pricePaid: 15000, priceOffered: 15000 });
        const types = db.sqlite
          .prepare('select distinct typeof(price_paid) as t from transactions')
          .all() as { t: string }[];
        expect(types).toEqual([{ t: 'integer' }]);
      } finally {
        db.close();
      }
    });

  if (TEST_DIALECT === 'postgres')
    it('PostgreSQL: old rows keep null revenue, read as not recorded; their cost stays', async () => {
      dir = tempDir();
      const database = await createDatabase(inject('postgresUrl'));
      const store = await PostgresStore.open(database.url, { poolSize: 2, instanceId: 'upgrade' });
      try {
        await migratePostgres(store.connection.pool, previousRelease(PG_MIGRATIONS, dir, '0006'));
        for (const sql of rows) await store.connection.pool.query(sql);
        expect(await store.migrate()).toBeGreaterThan(0);
        expectNotRecorded(await store.getTransaction('OLD-S'), await store.getTransaction('OLD-F'));
      } finally {
        await store.close();
        await database.drop();
      }
    });
});
