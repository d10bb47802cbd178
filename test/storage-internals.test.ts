import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { integer, sqliteTable } from 'drizzle-orm/sqlite-core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditWriter, repeatSummary, SUMMARY_LISTS } from '../src/db/audit-writer.js';
import { MIGRATIONS_FOLDER, migrateStorage, openStorage } from '../src/db/sqlite/connection.js';
import { assertNoComputedDefaults } from '../src/db/sqlite/prepared.js';
import {
  razerExchanges,
  supplierCalls,
  transactionEvents,
  transactions,
  webhookInbox,
} from '../src/db/sqlite/schema.js';
import { countRecentPurchases } from '../src/db/sqlite/transactions.js';
import { createLogger } from '../src/log.js';
import { T0, transactionRow } from './helpers/fixtures.js';
import { fillDisk, freeDisk, tempDir, tempSqlite } from './helpers/storage.js';
import { waitFor } from './helpers/wait.js';

// The SQLite adapter's own internals (its prepared statements, a file that fills up, its
// migrations): this file runs on the sqlite project only (test/vitest.config.ts).

let storage: ReturnType<typeof tempSqlite>;
beforeEach(() => {
  storage = tempSqlite();
});
afterEach(() => storage.close());

const count = (table: string) =>
  (storage.sqlite.prepare(`select count(*) as n from ${table}`).get() as { n: number }).n;
const call = (i: number) => ({
  transactionNumber: `T${i}`,
  operation: 'order-status' as const,
  method: 'GET' as const,
  url: 'http://x/v2/public/order-status?tid=1&sign=[redacted]',
  requestBody: null,
  httpStatus: 200,
  replyBody: '{}',
  rcCode: '00',
  outcome: 'accepted' as const,
  error: null,
  startedAt: T0 + i,
  durationMs: 3,
});
const exchange = (i: number) => ({
  transactionNumber: `T${i}`,
  endpoint: 'query',
  apiId: 'publisherA',
  method: 'GET',
  path: `/transaction/T${i}`,
  requestHash: 'h',
  requestBody: '',
  responseStatus: 408,
  responseHeaders: {},
  responseBody: '{}',
  receivedAt: T0,
  respondedAt: T0,
});

describe('audit writer', () => {
  it('writes rows in one batch after a short delay, and at once on flush', async () => {
    const audit = new AuditWriter(storage, createLogger('silent'), 20);
    audit.supplierCall(call(1));
    audit.exchange(exchange(1));
    expect(count('supplier_calls')).toBe(0);
    await waitFor(() => count('supplier_calls') === 1 && count('razer_exchanges') === 1, 2000, 'the batch');
    audit.supplierCall(call(2));
    expect(await audit.flush()).toBe(true);
    expect(count('supplier_calls')).toBe(2);
  });

  it('adds repeated queries to their transactions as counts, later than rows, and keeps them when a write fails', async () => {
    await storage.insertTransaction(transactionRow('T1', 'SUCCESS'));
    const repeated = () =>
      storage.sqlite
        .prepare(
          "select queries_repeated as n, last_queried_at as at from transactions where transaction_number = 'T1'",
        )
        .get() as {
        n: number;
        at: number | null;
      };
    const audit = new AuditWriter(storage, createLogger('silent'), 10, 50_000, 60_000);
    audit.repeatedQuery('T1', T0 + 5);
    audit.repeatedQuery('T1', T0 + 3);
    audit.repeatedQuery('T1', T0 + 9);
    // One pending entry for the three, and no 10 ms write for counts alone.
    expect(audit.pending()).toBe(1);
    audit.exchange(exchange(1));
    // A row brings the write forward, counts included.
    await waitFor(() => count('razer_exchanges') === 1, 2000, 'the row');
    expect(repeated()).toEqual({ n: 3, at: T0 + 9 });

    // A write that fails keeps its counts, merged with those that came since.
    let failing = true;
    const flaky = new Proxy(storage, {
      get: (target, key) =>
        key === 'writeAudit'
          ? (...args: Parameters<typeof storage.writeAudit>) =>
              failing ? Promise.reject(new Error('busy')) : target.writeAudit(...args)
          : Reflect.get(target, key),
    });
    const again = new AuditWriter(flaky, createLogger('silent'), 10, 50_000, 60_000);
    again.repeatedQuery('T1', T0 + 20);
    expect(await again.flush()).toBe(false);
    again.repeatedQuery('T1', T0 + 15);
    expect(again.pending()).toBe(1);
    failing = false;
    expect(await again.flush()).toBe(true);
    expect(repeated()).toEqual({ n: 5, at: T0 + 20 });
    await again.close();
  });

  it('writes at once when a batch is full', async () => {
    const audit = new AuditWriter(storage, createLogger('silent'), 60_000);
    for (let i = 0; i < 199; i++) audit.supplierCall(call(i));
    expect(audit.pending()).toBe(199);
    audit.supplierCall(call(199));
    // The write of the full batch began with the 200th row, not on the 60 s timer.
    expect(audit.pending()).toBe(0);
    await waitFor(() => count('supplier_calls') === 200, 2000, 'the full batch');
  });

  it('logs and drops a batch the database refuses, and keeps working', async () => {
    const lines: string[] = [];
    const logger = createLogger('error', { write: (line: string) => lines.push(line) });
    const audit = new AuditWriter(storage, logger, 60_000, 1);
    audit.exchange({ ...exchange(1), endpoint: null as unknown as string }); // NOT NULL violated
    expect(await audit.flush()).toBe(false);
    expect(lines.join('')).toContain('audit rows could not be written');
    // A row that can never be written is dropped only past the bound (1 here), oldest first.
    audit.exchange(exchange(2));
    expect(await audit.flush()).toBe(true);
    expect(count('razer_exchanges')).toBe(1);
  });

  it('keeps a batch the disk refused and writes it once the disk has room (defect 2: trx_code vanished with the dropped audit batch)', async () => {
    const audit = new AuditWriter(storage, createLogger('silent'), 60_000);
    fillDisk(storage.sqlite);
    audit.supplierCall({ ...call(1), replyBody: '{"data":{"trx_code":"VCG-KEPT"}}' });
    expect(await audit.flush()).toBe(false);
    expect(audit.pending()).toBe(1);
    freeDisk(storage.sqlite);
    expect(await audit.flush()).toBe(true);
    expect(audit.pending()).toBe(0);
    const kept = storage.sqlite.prepare('select reply_body as body from supplier_calls').all() as {
      body: string;
    }[];
    expect(kept.map((r) => r.body)).toEqual(['{"data":{"trx_code":"VCG-KEPT"}}']);
  });
});

describe('audit writer: what its log lines say', () => {
  const failingStore = () =>
    new Proxy(storage, {
      get: (target, key) =>
        key === 'writeAudit' ? () => Promise.reject(new Error('busy')) : Reflect.get(target, key),
    });
  const logged = () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = createLogger('info', { write: (line: string) => lines.push(JSON.parse(line)) });
    return { lines, logger };
  };

  it('lists the most queried transactions in a summary line, at most 20, most first', () => {
    const repeats = new Map<string, { transactionNumber: string; count: number; lastAt: number }>();
    for (let i = 1; i <= 30; i++)
      repeats.set(`T${i}`, { transactionNumber: `T${i}`, count: (i * 7) % 31, lastAt: T0 });
    const summary = repeatSummary(repeats);
    const all = [...repeats.values()].sort((a, b) => b.count - a.count);
    expect(summary.transactions).toBe(30);
    expect(summary.queries).toBe(all.reduce((sum, r) => sum + r.count, 0));
    expect(summary.listed.map((l) => l.count)).toEqual(all.slice(0, SUMMARY_LISTS).map((r) => r.count));
    expect(summary.listed).toHaveLength(SUMMARY_LISTS);
  });

  it('says how many queries it could not write, at close too, and how many rows it dropped past its bound', async () => {
    const { lines, logger } = logged();
    const audit = new AuditWriter(failingStore(), logger, 60_000, 3, 60_000);
    audit.repeatedQuery('A', T0);
    audit.repeatedQuery('A', T0 + 1);
    expect(await audit.flush()).toBe(false);
    expect(lines.at(-1)).toMatchObject({
      repeatedQueries: 2,
      dropped: 0,
      msg: expect.stringMatching(/could not be written/),
    });
    // Past the bound of 3 rows while failing: the oldest two go, and the next line says so.
    for (const n of ['B', 'C', 'D', 'E']) audit.repeatedQuery(n, T0);
    expect(audit.pending()).toBe(3);
    expect(await audit.flush()).toBe(false);
    expect(lines.at(-1)).toMatchObject({ repeatedQueries: 3, dropped: 2 });
    await audit.close();
    expect(lines.at(-1)).toMatchObject({ repeatedQueries: 3, msg: expect.stringMatching(/lost at close/) });
  });
});

describe('statement cache', () => {
  it('hands back a reused statement in object mode after drizzle used it for arrays', async () => {
    await storage.insertTransaction(transactionRow('S1'));
    // drizzle reads selected rows as arrays (raw mode) on a cached statement...
    expect((await storage.getTransaction('S1'))?.transactionNumber).toBe('S1');
    const text = 'select transaction_number from transactions where transaction_number = ?';
    storage.sqlite.prepare(text).raw(true);
    // ...and the next user of the same text gets objects again.
    expect(storage.sqlite.prepare(text).get('S1')).toEqual({ transaction_number: 'S1' });
    expect(storage.sqlite.prepare(text)).toBe(storage.sqlite.prepare(text));
  });
});

describe('statements prepared by shape', () => {
  const raw = (n: string) =>
    storage.sqlite.prepare('select * from transactions where transaction_number = ?').get(n) as Record<
      string,
      unknown
    >;

  const initiate = (row: ReturnType<typeof transactionRow>) =>
    storage.insertInitiated(row, {
      ...exchange(0),
      transactionNumber: row.transactionNumber,
      endpoint: 'init',
    });

  it('inserts rows of different shapes each as given: a missing field takes its default, values are encoded', async () => {
    expect(
      await initiate(transactionRow('P1', 'INITIATED', { isVoucher: true, customParam: { a: '1' } })),
    ).toBe('created');
    // The same columns but isVoucher and customParam missing: not the statement above.
    expect(await initiate(transactionRow('P2'))).toBe('created');
    expect(raw('P1')).toMatchObject({ is_voucher: 1, custom_param: '{"a":"1"}', order_attempts: 0 });
    expect(raw('P2')).toMatchObject({ is_voucher: 0, custom_param: null, order_attempts: 0 });
    expect((await storage.getTransaction('P1'))?.customParam).toEqual({ a: '1' });
  });

  it('writes a null as SQL NULL, not through the column encoder (review: a JSON null became the text null)', async () => {
    expect(await initiate(transactionRow('N1', 'INITIATED', { customParam: null }))).toBe('created');
    const typeOf = (n: string) =>
      storage.sqlite
        .prepare('select typeof(custom_param) as t from transactions where transaction_number = ?')
        .get(n);
    expect(typeOf('N1')).toEqual({ t: 'null' });
    // A NOT NULL boolean given null is refused, as drizzle's own insert refuses it, not stored as false.
    const nullVoucher = { ...transactionRow('N2'), isVoucher: null as unknown as boolean };
    await expect(initiate(nullVoucher)).rejects.toThrow(
      /NOT NULL constraint failed: transactions.is_voucher/,
    );
    expect(raw('N2')).toBeUndefined();
    // A move's patch setting a JSON column to null, after one setting it to an object.
    await storage.moveTransaction({
      transactionNumber: 'N1',
      from: 'INITIATED',
      to: 'QUEUED',
      cause: 'razer',
      at: T0 + 1,
      patch: { customParam: { b: '2' } },
    });
    expect(raw('N1')).toMatchObject({ custom_param: '{"b":"2"}' });
    await storage.moveTransaction({
      transactionNumber: 'N1',
      from: 'QUEUED',
      to: 'ORDERING',
      cause: 'supplier',
      at: T0 + 2,
      patch: { customParam: null },
    });
    expect(typeOf('N1')).toEqual({ t: 'null' });
  });

  it('moves and patches with patches of different shapes; an undefined field is left as it was', async () => {
    await storage.insertTransaction(transactionRow('P3', 'QUEUED', { customParam: { k: 'v' } }));
    const first = await storage.moveTransaction({
      transactionNumber: 'P3',
      from: 'QUEUED',
      to: 'ORDERING',
      cause: 'supplier',
      at: T0 + 1,
      patch: { orderAttempts: 1, attention: true, customParam: undefined },
    });
    expect(first.ok).toBe(true);
    expect(raw('P3')).toMatchObject({
      state: 'ORDERING',
      order_attempts: 1,
      attention: 1,
      custom_param: '{"k":"v"}',
      updated_at: T0 + 1,
    });
    // Another shape, then the first again: each statement binds its own columns.
    expect(await storage.patchTransaction('P3', 'ORDERING', { trxCode: 'VCG-1' }, T0 + 2)).toBe(true);
    expect(
      await storage.patchTransaction('P3', 'ORDERING', { orderAttempts: 2, attention: false }, T0 + 3),
    ).toBe(true);
    expect(raw('P3')).toMatchObject({
      trx_code: 'VCG-1',
      order_attempts: 2,
      attention: 0,
      updated_at: T0 + 3,
    });
    // A compare-and-set on the state still refuses a row in another one, whatever the shape.
    expect(await storage.patchTransaction('P3', 'QUEUED', { trxCode: 'VCG-2' }, T0 + 4)).toBe(false);
    const stale = await storage.moveTransaction({
      transactionNumber: 'P3',
      from: 'QUEUED',
      to: 'ORDERING',
      cause: 'supplier',
      at: T0 + 5,
      patch: { orderAttempts: 9, attention: true },
    });
    expect(stale).toEqual({ ok: false, reason: 'stale', current: 'ORDERING' });
    expect(raw('P3')).toMatchObject({ trx_code: 'VCG-1', order_attempts: 2, updated_at: T0 + 3 });
  });

  it('a move that must find no order sent refuses a row with one, and the same shape without that condition moves it', async () => {
    await storage.insertTransaction(transactionRow('P4', 'QUEUED', { orderAttempts: 1 }));
    const move = {
      transactionNumber: 'P4',
      from: 'QUEUED',
      to: 'CANCELLED',
      cause: 'razer',
      at: T0 + 1,
    } as const;
    expect(await storage.moveTransaction({ ...move, neverSent: true })).toEqual({
      ok: false,
      reason: 'stale',
      current: 'QUEUED',
    });
    expect((await storage.moveTransaction(move)).ok).toBe(true);
  });
});

describe('computed defaults', () => {
  it('refuses to prepare for a table with a $defaultFn or $onUpdate (prepared once, it would freeze the value)', () => {
    const stamped = sqliteTable('stamped', { at: integer('at').$defaultFn(() => Date.now()) });
    const touched = sqliteTable('touched', { at: integer('at').$onUpdate(() => Date.now()) });
    expect(() => assertNoComputedDefaults(stamped)).toThrow(/stamped.at has a computed default/);
    expect(() => assertNoComputedDefaults(touched)).toThrow(/touched.at has a computed default/);
    for (const table of [transactions, transactionEvents, razerExchanges, supplierCalls, webhookInbox])
      expect(() => assertNoComputedDefaults(table)).not.toThrow();
  });
});

describe('migration 0001', () => {
  it('review: a cached is_voucher false, possibly the old default for a silent catalogue, becomes unknown', () => {
    const dir = tempDir();
    try {
      // Only the first migration, as an older gateway left the database.
      const old = dir.file('migrations');
      mkdirSync(join(old, 'meta'), { recursive: true });
      copyFileSync(join(MIGRATIONS_FOLDER, '0000_init.sql'), join(old, '0000_init.sql'));
      const journal = JSON.parse(readFileSync(join(MIGRATIONS_FOLDER, 'meta/_journal.json'), 'utf8'));
      writeFileSync(
        join(old, 'meta/_journal.json'),
        JSON.stringify({ ...journal, entries: journal.entries.slice(0, 1) }),
      );
      const db = openStorage(dir.file('old.db'));
      try {
        migrateStorage(db, old);
        db.sqlite.exec(
          `insert into catalogue_brands values ('STEAM', 'Steam', 0, 1, '[]', 1), ('GV', 'Gift', 1, 1, '[]', 1)`,
        );
        // 0001 and every migration after it.
        expect(migrateStorage(db)).toBe(journal.entries.length - 1);
        expect(
          db.sqlite.prepare('select brand_key as k, is_voucher as v from catalogue_brands order by k').all(),
        ).toEqual([
          { k: 'GV', v: 1 },
          { k: 'STEAM', v: null },
        ]);
      } finally {
        db.close();
      }
    } finally {
      dir.remove();
    }
  });
});

describe('migration 0006', () => {
  it('keeps counting a purchase made before limit keys by its accountId, so the upgrade loosens no limit', () => {
    const dir = tempDir();
    try {
      // The migrations before 0006, as the previous release left the database.
      const old = dir.file('migrations');
      mkdirSync(join(old, 'meta'), { recursive: true });
      const journal = JSON.parse(readFileSync(join(MIGRATIONS_FOLDER, 'meta/_journal.json'), 'utf8'));
      const before = journal.entries.filter((e: { tag: string }) => e.tag < '0006');
      for (const e of before)
        copyFileSync(join(MIGRATIONS_FOLDER, `${e.tag}.sql`), join(old, `${e.tag}.sql`));
      writeFileSync(join(old, 'meta/_journal.json'), JSON.stringify({ ...journal, entries: before }));
      const db = openStorage(dir.file('old.db'));
      try {
        migrateStorage(db, old);
        db.sqlite.exec(
          `insert into transactions (transaction_number, api_id, sku, brand_key, variation_key, max_price, account_id, supplier_data, state, token, ref_id, expires_at, created_at, updated_at)
           values ('OLD', 'publisherA', 'DIAMOND50', 'MLBB', 'MLBB112', 16000, '123456-12', '[]', 'QUEUED', 't', 'RG-OLD', ${T0}, ${T0}, ${T0})`,
        );
        expect(migrateStorage(db)).toBe(journal.entries.length - before.length);
        const limitKey = transactionRow('NEW').limitKey;
        const recent = (accountId: string) =>
          countRecentPurchases(db.db, { sku: 'DIAMOND50', account: { limitKey, accountId }, since: T0 - 1 });
        expect(recent('123456-12')).toBe(1);
        // As before the upgrade: another spelling was another account for that row.
        expect(recent('0123456-12')).toBe(0);
      } finally {
        db.close();
      }
    } finally {
      dir.remove();
    }
  });
});
