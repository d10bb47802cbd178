import Database from 'better-sqlite3';
import { asc } from 'drizzle-orm';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/run.js';
import { describeStore } from '../src/db/open.js';
import * as pgSchema from '../src/db/postgres/schema.js';
import { PostgresStore } from '../src/db/postgres/store.js';
import { DAY_MS, pruneAuditRecords, retentionCutoff } from '../src/db/retention.js';
import * as liteSchema from '../src/db/sqlite/schema.js';
import type { SqliteStore } from '../src/db/sqlite/store.js';
import type { NewExchange, PruneCounts } from '../src/db/types.js';
import { FINAL_STATES } from '../src/db/vocabulary.js';
import { isTerminal, STATES, type State } from '../src/fulfilment/states.js';
import { T0, transactionRow } from './helpers/fixtures.js';
import { countRows, type TempDir, type TempStore, tempDir, tempStore } from './helpers/storage.js';

const OPEN_STATES = STATES.filter((s) => !isTerminal(s));

/** A transaction in `state`, last updated at `updatedAt`, with one event. */
async function addTransaction(
  store: TempStore,
  number: string,
  state: State,
  updatedAt: number,
): Promise<void> {
  await store.insertTransaction(transactionRow(number, 'INITIATED', { createdAt: updatedAt, updatedAt }));
  // The store moves without asking the rules: any state, INITIATED itself too, in one move.
  const moved = await store.moveTransaction({
    transactionNumber: number,
    from: 'INITIATED',
    to: state,
    cause: 'razer',
    at: updatedAt,
  });
  if (!moved.ok) throw new Error(`could not put ${number} in ${state}: ${moved.reason}`);
}

async function addExchange(
  store: TempStore,
  number: string | null,
  endpoint: string,
  status: number,
  at: number,
): Promise<number> {
  const row: NewExchange = {
    transactionNumber: number,
    endpoint,
    apiId: 'publisherA',
    method: 'POST',
    path: `/transaction/${endpoint}`,
    requestHash: `hash-${endpoint}`,
    requestBody: '{}',
    responseStatus: status,
    responseHeaders: { 'content-type': 'application/json' },
    responseBody: `{"endpoint":"${endpoint}","status":${status},"n":"${number}"}`,
    receivedAt: at,
    respondedAt: at + 5,
  };
  await store.recordExchange(row);
  const added = (await all(store)).exchanges.at(-1);
  if (!added) throw new Error('the exchange was not recorded');
  return added.id;
}

async function addCall(
  store: TempStore,
  number: string | null,
  operation: string,
  at: number,
): Promise<void> {
  await store.recordSupplierCall({
    transactionNumber: number,
    operation,
    method: 'POST',
    url: 'https://mitra.example/order',
    outcome: 'success',
    startedAt: at,
    durationMs: 12,
  });
}

async function addWebhook(
  store: TempStore,
  ref: string | null,
  at: number,
  processedAt: number | null,
): Promise<void> {
  await store.storeWebhook({
    receivedAt: at,
    sourceIp: '172.236.143.138',
    headers: {},
    body: `{"ref":"${ref}"}`,
    bodySha256: `sha-${ref}-${at}`,
    kind: processedAt === null ? null : 'transaction',
    transactionRef: ref,
    processedAt,
    result: processedAt === null ? null : 'status checked',
  });
}

/** The usual audit trail of a purchase: a refused init, then init, a replay, top-up, query. */
async function addPurchaseTrail(store: TempStore, number: string, at: number): Promise<void> {
  await addExchange(store, number, 'init', 400, at);
  await addExchange(store, number, 'init', 200, at + 1);
  await addExchange(store, number, 'init', 200, at + 2);
  await addExchange(store, number, 'topup', 200, at + 3);
  await addExchange(store, number, 'query', 200, at + 4);
  await addCall(store, number, 'create-order', at + 3);
  await addCall(store, number, 'order-status', at + 4);
  await addWebhook(store, number, at + 5, at + 6);
}

const exchangesOf = (store: TempStore, number: string) => store.listExchanges(number);
const callsOf = (store: TempStore, number: string) => store.listSupplierCalls(number);
const webhooksOf = async (store: TempStore, ref: string) =>
  (await store.listWebhooks()).filter((w) => w.transactionRef === ref);

/** Whole tables, by id, read by the adapter under test's own schema (the port reads by transaction). */
async function all(store: TempStore) {
  if (store instanceof PostgresStore) {
    const db = store.connection.db;
    const { razerExchanges, supplierCalls } = pgSchema;
    return {
      exchanges: await db.select().from(razerExchanges).orderBy(asc(razerExchanges.id)),
      calls: await db.select().from(supplierCalls).orderBy(asc(supplierCalls.id)),
      webhooks: await store.listWebhooks(),
    };
  }
  const db = (store as unknown as SqliteStore).storage.db;
  const { razerExchanges, supplierCalls } = liteSchema;
  return {
    exchanges: db.select().from(razerExchanges).orderBy(asc(razerExchanges.id)).all(),
    calls: db.select().from(supplierCalls).orderBy(asc(supplierCalls.id)).all(),
    webhooks: await store.listWebhooks(),
  };
}

async function history(store: TempStore) {
  if (store instanceof PostgresStore) {
    const db = store.connection.db;
    const { transactions, transactionEvents } = pgSchema;
    return {
      transactions: await db.select().from(transactions).orderBy(asc(transactions.transactionNumber)),
      events: await db.select().from(transactionEvents).orderBy(asc(transactionEvents.id)),
    };
  }
  const db = (store as unknown as SqliteStore).storage.db;
  const { transactions, transactionEvents } = liteSchema;
  return {
    transactions: db.select().from(transactions).orderBy(asc(transactions.transactionNumber)).all(),
    events: db.select().from(transactionEvents).orderBy(asc(transactionEvents.id)).all(),
  };
}

/**
 * A second connection to the store's database that never waits for a lock (as another
 * process would be): SQL of both dialects only.
 */
interface Beside {
  run(sql: string): Promise<void>;
  count(table: string): Promise<number>;
  close(): Promise<void>;
}

async function beside(store: TempStore): Promise<Beside> {
  const { settings } = store.database;
  if (settings.databaseUrl) {
    const client = new pg.Client({ connectionString: settings.databaseUrl });
    await client.connect();
    await client.query("set lock_timeout = '1ms'");
    return {
      run: async (sql) => {
        await client.query(sql);
      },
      count: async (table) =>
        Number((await client.query<{ n: string }>(`select count(*) as n from ${table}`)).rows[0]?.n),
      close: () => client.end(),
    };
  }
  const other = new Database(settings.databasePath);
  other.pragma('busy_timeout = 0');
  return {
    run: async (sql) => {
      other.prepare(sql).run();
    },
    count: async (table) => (other.prepare(`select count(*) as n from ${table}`).get() as { n: number }).n,
    close: async () => {
      other.close();
    },
  };
}

const OLD = T0;
const BEFORE = T0 + 30 * DAY_MS;

describe('pruneAuditRecords', () => {
  let store: TempStore;
  beforeEach(async () => {
    store = await tempStore();
  });
  afterEach(() => store.close());

  it('lists as final exactly the terminal states of the state machine', () => {
    expect([...FINAL_STATES].sort()).toEqual(STATES.filter(isTerminal).sort());
  });

  it('deletes the old records of final transactions, but keeps the creating init of each', async () => {
    const creating = new Map<string, unknown>();
    for (const state of FINAL_STATES) {
      await addTransaction(store, `OLD-${state}`, state, OLD + 10);
      await addPurchaseTrail(store, `OLD-${state}`, OLD);
      creating.set(state, await store.findCreatingInit(`OLD-${state}`));
    }

    expect(await pruneAuditRecords(store, { before: BEFORE })).toEqual({
      exchanges: 4 * FINAL_STATES.length,
      supplierCalls: 2 * FINAL_STATES.length,
      webhooks: FINAL_STATES.length,
    });
    for (const state of FINAL_STATES) {
      const n = `OLD-${state}`;
      const kept = await exchangesOf(store, n);
      // The first init answered 200, not the refused one before it nor the replay after it.
      expect(kept).toEqual([creating.get(state)]);
      expect(kept[0]).toMatchObject({ endpoint: 'init', responseStatus: 200, receivedAt: OLD + 1 });
      expect(await store.findCreatingInit(n)).toEqual(creating.get(state));
      expect(await callsOf(store, n)).toEqual([]);
      expect(await webhooksOf(store, n)).toEqual([]);
    }
    // A second run finds nothing more: the creating inits stay for good.
    expect(await pruneAuditRecords(store, { before: BEFORE })).toEqual({
      exchanges: 0,
      supplierCalls: 0,
      webhooks: 0,
    });
  });

  it('keeps every record of an open transaction, however old', async () => {
    const ancient = OLD - 1000 * DAY_MS;
    for (const state of OPEN_STATES) {
      await addTransaction(store, `OPEN-${state}`, state, ancient);
      await addPurchaseTrail(store, `OPEN-${state}`, ancient);
    }
    const before = await all(store);
    expect(before.exchanges).toHaveLength(5 * OPEN_STATES.length);

    expect(await pruneAuditRecords(store, { before: BEFORE })).toEqual({
      exchanges: 0,
      supplierCalls: 0,
      webhooks: 0,
    });
    expect(await all(store)).toEqual(before);
  });

  it('keeps recent records, and records of a final transaction updated recently', async () => {
    // Final, but updated at the cut-off itself: not older than it.
    await addTransaction(store, 'DONE-RECENTLY', 'SUCCESS', BEFORE);
    await addPurchaseTrail(store, 'DONE-RECENTLY', OLD);
    // Final long ago, but Razer asked about it again recently.
    await addTransaction(store, 'DONE-LONG-AGO', 'SUCCESS', OLD);
    const lateQuery = await addExchange(store, 'DONE-LONG-AGO', 'query', 200, BEFORE);
    await addCall(store, 'DONE-LONG-AGO', 'order-status', BEFORE + DAY_MS);
    // Records that name no transaction: old ones go, recent ones stay.
    const oldStray = await addExchange(store, null, 'query', 400, OLD);
    const recentStray = await addExchange(store, null, 'query', 400, BEFORE);
    await addCall(store, null, 'balance', OLD);
    await addCall(store, null, 'balance', BEFORE);
    // Webhooks: only processed ones that do not name an open transaction.
    await addTransaction(store, 'STILL-OPEN', 'PROCESSING', OLD);
    await addWebhook(store, null, OLD, OLD + 1); // processed, names nothing: goes
    await addWebhook(store, 'RG-NOT-OURS', OLD, OLD + 1); // processed, names no transaction of ours: goes
    await addWebhook(store, 'STILL-OPEN', OLD, OLD + 1); // kept: its transaction is open
    await addWebhook(store, null, OLD, null); // kept: never processed
    await addWebhook(store, null, BEFORE, BEFORE + 1); // kept: recent

    expect(await pruneAuditRecords(store, { before: BEFORE })).toEqual({
      exchanges: 1,
      supplierCalls: 1,
      webhooks: 3,
    });
    const left = await all(store);
    expect(left.exchanges.map((x) => x.id)).not.toContain(oldStray);
    expect(left.exchanges.map((x) => x.id)).toContain(recentStray);
    expect(await exchangesOf(store, 'DONE-RECENTLY')).toHaveLength(5);
    expect(await callsOf(store, 'DONE-RECENTLY')).toHaveLength(2);
    // A processed webhook goes by its own age once its transaction is final.
    expect(await webhooksOf(store, 'DONE-RECENTLY')).toEqual([]);
    expect((await exchangesOf(store, 'DONE-LONG-AGO')).map((x) => x.id)).toEqual([lateQuery]);
    expect(await callsOf(store, 'DONE-LONG-AGO')).toHaveLength(1);
    expect(left.calls.filter((c) => c.transactionNumber === null).map((c) => c.startedAt)).toEqual([BEFORE]);
    expect(left.webhooks.map((w) => [w.transactionRef, w.receivedAt, w.processedAt])).toEqual([
      ['STILL-OPEN', OLD, OLD + 1],
      [null, OLD, null],
      [null, BEFORE, BEFORE + 1],
    ]);
  });

  it('never touches transactions or their events', async () => {
    for (const state of STATES) {
      await addTransaction(store, `T-${state}`, state, OLD);
      await addPurchaseTrail(store, `T-${state}`, OLD);
    }
    const before = await history(store);
    expect(before.transactions).toHaveLength(STATES.length);
    expect(before.events).toHaveLength(STATES.length);

    const deleted = await pruneAuditRecords(store, { before: BEFORE });
    expect(deleted.exchanges).toBeGreaterThan(0);
    expect(await history(store)).toEqual(before);
  });

  it('works in batches across more rows than one batch, each committed on its own', async () => {
    for (const state of FINAL_STATES) {
      await addTransaction(store, `B-${state}`, state, OLD);
      await addPurchaseTrail(store, `B-${state}`, OLD); // 4 exchanges, 2 calls, 1 webhook go
    }
    for (let i = 0; i < 7; i++) {
      await addExchange(store, null, 'query', 400, OLD + i);
      await addCall(store, null, 'balance', OLD + i);
    }
    const expected: PruneCounts = { exchanges: 16 + 7, supplierCalls: 8 + 7, webhooks: 4 };
    const auditTables = ['razer_exchanges', 'supplier_calls', 'webhook_inbox'];
    const rowsAtStart = (await Promise.all(auditTables.map((t) => countRows(store, t)))).reduce(
      (a, b) => a + b,
    );

    // A second connection that never waits: on SQLite it fails at once if a batch left the
    // write lock held; on both it sees a batch's deletes only once they are committed.
    const other = await beside(store);
    const steps: PruneCounts[] = [];
    let previous: PruneCounts = { exchanges: 0, supplierCalls: 0, webhooks: 0 };
    let written = 0;
    try {
      await pruneAuditRecords(store, {
        before: BEFORE,
        batchSize: 3,
        progress: (counts) => {
          const grown =
            counts.exchanges -
            previous.exchanges +
            (counts.supplierCalls - previous.supplierCalls) +
            (counts.webhooks - previous.webhooks);
          expect(grown).toBeGreaterThan(0);
          expect(grown).toBeLessThanOrEqual(3);
          steps.push(counts);
          previous = counts;
        },
        // Before every batch, so between any two of them.
        pause: async () => {
          const gone = previous.exchanges + previous.supplierCalls + previous.webhooks;
          let seen = 0;
          for (const table of auditTables) seen += await other.count(table);
          expect(seen).toBe(rowsAtStart + written - gone);
          await other.run(
            `insert into supplier_calls (operation, method, url, outcome, started_at, duration_ms) values ('balance', 'GET', 'https://mitra.example/balance', 'success', ${BEFORE + written}, 1)`,
          );
          written += 1;
        },
      });
    } finally {
      await other.close();
    }
    expect(steps.at(-1)).toEqual(expected);
    expect(steps.length).toBeGreaterThanOrEqual(Math.ceil(23 / 3) + Math.ceil(15 / 3) + Math.ceil(4 / 3));
    expect(written).toBeGreaterThanOrEqual(steps.length);
    // The rows written between batches were recent and stayed; only the creating inits remain.
    const left = await all(store);
    expect(left.exchanges.map((x) => [x.transactionNumber, x.receivedAt])).toEqual(
      FINAL_STATES.map((s) => [`B-${s}`, OLD + 1]),
    );
    expect(left.calls.map((c) => c.startedAt)).toEqual(Array.from({ length: written }, (_, i) => BEFORE + i));
  });

  it('gives the event loop back between batches', async () => {
    await addTransaction(store, 'G-1', 'SUCCESS', OLD);
    for (let i = 0; i < 10; i++) await addExchange(store, 'G-1', 'query', 200, OLD + i);
    const seen: string[] = [];
    const counts = await pruneAuditRecords(store, {
      before: BEFORE,
      batchSize: 3,
      pause: async () => {
        seen.push('pause');
      },
      progress: (c) => {
        seen.push(`batch ${c.exchanges}`);
      },
    });
    expect(counts).toEqual({ exchanges: 10, supplierCalls: 0, webhooks: 0 });
    // Batches of 3, 3, 3 and 1 exchanges, a pause before each; then one look (and its pause)
    // at each of the two tables with nothing to delete.
    expect(seen).toEqual([
      'pause',
      'batch 3',
      'pause',
      'batch 6',
      'pause',
      'batch 9',
      'pause',
      'batch 10',
      'pause',
      'pause',
    ]);
    expect(await exchangesOf(store, 'G-1')).toEqual([]);
  });

  it('refuses a batch size below 1 and a cut-off that is not a time', async () => {
    await expect(pruneAuditRecords(store, { before: BEFORE, batchSize: 0 })).rejects.toThrow(/batchSize/);
    await expect(pruneAuditRecords(store, { before: Number.NaN })).rejects.toThrow(/before/);
  });

  it('computes the cut-off from a number of days', () => {
    expect(retentionCutoff(T0, 90)).toBe(T0 - 90 * 86_400_000);
  });
});

describe('gateway prune', () => {
  let dir: TempDir;
  let store: TempStore;
  let now: number;
  /** Where the command finds the store under test: --database for a file, else DATABASE_URL. */
  let target: { args: string[]; env: Record<string, string>; where: string };
  beforeEach(async () => {
    dir = tempDir();
    store = await tempStore();
    const { settings } = store.database;
    target = settings.databaseUrl
      ? { args: [], env: { DATABASE_URL: settings.databaseUrl }, where: describeStore(settings) }
      : { args: ['--database', settings.databasePath], env: {}, where: settings.databasePath };
    now = Date.now();
    // Far enough from every cut-off used below that the seconds a test takes do not matter.
    await addTransaction(store, 'AGED', 'SUCCESS', now - 200 * DAY_MS);
    await addPurchaseTrail(store, 'AGED', now - 200 * DAY_MS);
    await addTransaction(store, 'FRESH', 'SUCCESS', now - DAY_MS);
    await addPurchaseTrail(store, 'FRESH', now - DAY_MS);
    await addTransaction(store, 'OPEN', 'UNKNOWN', now - 200 * DAY_MS);
    await addPurchaseTrail(store, 'OPEN', now - 200 * DAY_MS);
  });
  afterEach(async () => {
    await store.close();
    dir.remove();
  });

  async function run(argv: string[], env: Record<string, string> = {}) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(argv, { env, cwd: dir.path, out: (l) => out.push(l), err: (l) => err.push(l) });
    return { code, out, err };
  }

  it('deletes the records older than 90 days by default and says what it deleted', async () => {
    const r = await run(['prune', ...target.args], target.env);
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.out).toEqual([
      expect.stringMatching(
        /^prune: deleted 4 Razer exchanges, 2 supplier calls and 1 webhook older than 90 days \(before \d{4}-\d\d-\d\dT[\d:.]+Z\) from /,
      ),
    ]);
    expect(r.out[0]?.endsWith(` from ${target.where}`)).toBe(true);
    expect(await exchangesOf(store, 'AGED')).toHaveLength(1);
    expect(await exchangesOf(store, 'FRESH')).toHaveLength(5);
    expect(await exchangesOf(store, 'OPEN')).toHaveLength(5);
    expect(await countRows(store, 'transactions')).toBe(3);
  });

  it('takes --days, else RETENTION_DAYS (the database from DATABASE_PATH or DATABASE_URL too), and prints JSON with --json', async () => {
    const env = { ...store.database.env, RETENTION_DAYS: '365' };
    expect((await run(['prune'], env)).out[0]).toMatch(
      /^prune: deleted 0 Razer exchanges, 0 supplier calls and 0 webhooks older than 365 days/,
    );
    expect(await exchangesOf(store, 'AGED')).toHaveLength(5);

    const r = await run(['prune', '--days', '180', '--json'], env);
    expect(r.code).toBe(0);
    const report: unknown = JSON.parse(r.out[0] ?? '');
    expect(report).toEqual({
      database: target.where,
      days: 180,
      before: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      deleted: { exchanges: 4, supplierCalls: 2, webhooks: 1 },
    });
    const cutoff = Date.parse((report as { before: string }).before);
    expect(Math.abs(cutoff - (now - 180 * DAY_MS))).toBeLessThan(60_000);
  });

  it('refuses a --days that is not a whole number of at least 1, in one line', async () => {
    for (const days of ['0', '1.5', 'ten', '', '-3']) {
      const r = await run(['prune', `--days=${days}`, ...target.args], target.env);
      expect(r).toEqual({
        code: 2,
        out: [],
        err: [`gateway prune: --days must be a whole number of at least 1, got "${days}"`],
      });
    }
    expect(await exchangesOf(store, 'AGED')).toHaveLength(5);
  });

  it('refuses a bad RETENTION_DAYS, and a database that does not exist', async () => {
    expect(await run(['prune', ...target.args], { ...target.env, RETENTION_DAYS: '0' })).toEqual({
      code: 1,
      out: [],
      err: ['environment: RETENTION_DAYS must be a whole number from 1 to 36500'],
    });
    expect(await run(['prune', '--database', 'missing/gw.db'])).toEqual({
      code: 1,
      out: [],
      err: [`gateway prune: no database at ${dir.file('missing/gw.db')}`],
    });
    expect(await exchangesOf(store, 'AGED')).toHaveLength(5);
  });
});
