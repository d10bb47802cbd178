import Database from 'better-sqlite3';
import { asc, eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/run.js';
import type { Db, Storage } from '../src/db/connection.js';
import { findCreatingInit, type NewExchange } from '../src/db/exchanges.js';
import {
  DAY_MS,
  FINAL_STATES,
  type PruneCounts,
  pruneAuditRecords,
  pruneAuditRecordsGradually,
  pruneInBatches,
  retentionCutoff,
} from '../src/db/retention.js';
import {
  razerExchanges,
  supplierCalls,
  transactionEvents,
  transactions,
  webhookInbox,
} from '../src/db/schema.js';
import { isTerminal, STATES, type State } from '../src/fulfilment/states.js';
import { T0, transactionRow } from './helpers/fixtures.js';
import { type TempDir, tempDir, tempStorage } from './helpers/storage.js';

const OPEN_STATES = STATES.filter((s) => !isTerminal(s));

/** A transaction in `state`, last updated at `updatedAt`, with one event. */
function addTransaction(db: Db, number: string, state: State, updatedAt: number): void {
  db.insert(transactions)
    .values(transactionRow(number, state, { createdAt: updatedAt, updatedAt }))
    .run();
  db.insert(transactionEvents)
    .values({
      transactionNumber: number,
      fromState: 'INITIATED',
      toState: state,
      cause: 'razer',
      at: updatedAt,
    })
    .run();
}

function addExchange(db: Db, number: string | null, endpoint: string, status: number, at: number): number {
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
  return db.insert(razerExchanges).values(row).returning({ id: razerExchanges.id }).get().id;
}

function addCall(db: Db, number: string | null, operation: string, at: number): void {
  db.insert(supplierCalls)
    .values({
      transactionNumber: number,
      operation,
      method: 'POST',
      url: 'https://mitra.example/order',
      outcome: 'success',
      startedAt: at,
      durationMs: 12,
    })
    .run();
}

function addWebhook(db: Db, ref: string | null, at: number, processedAt: number | null): void {
  db.insert(webhookInbox)
    .values({
      receivedAt: at,
      sourceIp: '172.236.143.138',
      headers: {},
      body: `{"ref":"${ref}"}`,
      bodySha256: `sha-${ref}-${at}`,
      kind: processedAt === null ? null : 'transaction',
      transactionRef: ref,
      processedAt,
      result: processedAt === null ? null : 'status checked',
    })
    .run();
}

/** The usual audit trail of a purchase: a refused init, then init, a replay, top-up, query. */
function addPurchaseTrail(db: Db, number: string, at: number): void {
  addExchange(db, number, 'init', 400, at);
  addExchange(db, number, 'init', 200, at + 1);
  addExchange(db, number, 'init', 200, at + 2);
  addExchange(db, number, 'topup', 200, at + 3);
  addExchange(db, number, 'query', 200, at + 4);
  addCall(db, number, 'create-order', at + 3);
  addCall(db, number, 'order-status', at + 4);
  addWebhook(db, number, at + 5, at + 6);
}

const exchangesOf = (db: Db, number: string) =>
  db
    .select()
    .from(razerExchanges)
    .where(eq(razerExchanges.transactionNumber, number))
    .orderBy(asc(razerExchanges.id))
    .all();
const callsOf = (db: Db, number: string) =>
  db.select().from(supplierCalls).where(eq(supplierCalls.transactionNumber, number)).all();
const webhooksOf = (db: Db, ref: string) =>
  db.select().from(webhookInbox).where(eq(webhookInbox.transactionRef, ref)).all();
const all = (db: Db) => ({
  exchanges: db.select().from(razerExchanges).orderBy(asc(razerExchanges.id)).all(),
  calls: db.select().from(supplierCalls).orderBy(asc(supplierCalls.id)).all(),
  webhooks: db.select().from(webhookInbox).orderBy(asc(webhookInbox.id)).all(),
});
const history = (db: Db) => ({
  transactions: db.select().from(transactions).orderBy(asc(transactions.transactionNumber)).all(),
  events: db.select().from(transactionEvents).orderBy(asc(transactionEvents.id)).all(),
});

const OLD = T0;
const BEFORE = T0 + 30 * DAY_MS;

describe('pruneAuditRecords', () => {
  let storage: Storage & { path: string };
  let db: Db;
  beforeEach(() => {
    storage = tempStorage();
    db = storage.db;
  });
  afterEach(() => storage.close());

  it('lists as final exactly the terminal states of the state machine', () => {
    expect([...FINAL_STATES].sort()).toEqual(STATES.filter(isTerminal).sort());
  });

  it('deletes the old records of final transactions, but keeps the creating init of each', () => {
    const creating = new Map<string, unknown>();
    for (const state of FINAL_STATES) {
      addTransaction(db, `OLD-${state}`, state, OLD + 10);
      addPurchaseTrail(db, `OLD-${state}`, OLD);
      creating.set(state, findCreatingInit(db, `OLD-${state}`));
    }

    expect(pruneAuditRecords(db, { before: BEFORE })).toEqual({
      exchanges: 4 * FINAL_STATES.length,
      supplierCalls: 2 * FINAL_STATES.length,
      webhooks: FINAL_STATES.length,
    });
    for (const state of FINAL_STATES) {
      const n = `OLD-${state}`;
      const kept = exchangesOf(db, n);
      // The first init answered 200, not the refused one before it nor the replay after it.
      expect(kept).toEqual([creating.get(state)]);
      expect(kept[0]).toMatchObject({ endpoint: 'init', responseStatus: 200, receivedAt: OLD + 1 });
      expect(findCreatingInit(db, n)).toEqual(creating.get(state));
      expect(callsOf(db, n)).toEqual([]);
      expect(webhooksOf(db, n)).toEqual([]);
    }
    // A second run finds nothing more: the creating inits stay for good.
    expect(pruneAuditRecords(db, { before: BEFORE })).toEqual({
      exchanges: 0,
      supplierCalls: 0,
      webhooks: 0,
    });
  });

  it('keeps every record of an open transaction, however old', () => {
    const ancient = OLD - 1000 * DAY_MS;
    for (const state of OPEN_STATES) {
      addTransaction(db, `OPEN-${state}`, state, ancient);
      addPurchaseTrail(db, `OPEN-${state}`, ancient);
    }
    const before = all(db);
    expect(before.exchanges).toHaveLength(5 * OPEN_STATES.length);

    expect(pruneAuditRecords(db, { before: BEFORE })).toEqual({
      exchanges: 0,
      supplierCalls: 0,
      webhooks: 0,
    });
    expect(all(db)).toEqual(before);
  });

  it('keeps recent records, and records of a final transaction updated recently', () => {
    // Final, but updated at the cut-off itself: not older than it.
    addTransaction(db, 'DONE-RECENTLY', 'SUCCESS', BEFORE);
    addPurchaseTrail(db, 'DONE-RECENTLY', OLD);
    // Final long ago, but Razer asked about it again recently.
    addTransaction(db, 'DONE-LONG-AGO', 'SUCCESS', OLD);
    const lateQuery = addExchange(db, 'DONE-LONG-AGO', 'query', 200, BEFORE);
    addCall(db, 'DONE-LONG-AGO', 'order-status', BEFORE + DAY_MS);
    // Records that name no transaction: old ones go, recent ones stay.
    const oldStray = addExchange(db, null, 'query', 400, OLD);
    const recentStray = addExchange(db, null, 'query', 400, BEFORE);
    addCall(db, null, 'balance', OLD);
    addCall(db, null, 'balance', BEFORE);
    // Webhooks: only processed ones that do not name an open transaction.
    addTransaction(db, 'STILL-OPEN', 'PROCESSING', OLD);
    addWebhook(db, null, OLD, OLD + 1); // processed, names nothing: goes
    addWebhook(db, 'RG-NOT-OURS', OLD, OLD + 1); // processed, names no transaction of ours: goes
    addWebhook(db, 'STILL-OPEN', OLD, OLD + 1); // kept: its transaction is open
    addWebhook(db, null, OLD, null); // kept: never processed
    addWebhook(db, null, BEFORE, BEFORE + 1); // kept: recent

    expect(pruneAuditRecords(db, { before: BEFORE })).toEqual({
      exchanges: 1,
      supplierCalls: 1,
      webhooks: 3,
    });
    const left = all(db);
    expect(left.exchanges.map((x) => x.id)).not.toContain(oldStray);
    expect(left.exchanges.map((x) => x.id)).toContain(recentStray);
    expect(exchangesOf(db, 'DONE-RECENTLY')).toHaveLength(5);
    expect(callsOf(db, 'DONE-RECENTLY')).toHaveLength(2);
    // A processed webhook goes by its own age once its transaction is final.
    expect(webhooksOf(db, 'DONE-RECENTLY')).toEqual([]);
    expect(exchangesOf(db, 'DONE-LONG-AGO').map((x) => x.id)).toEqual([lateQuery]);
    expect(callsOf(db, 'DONE-LONG-AGO')).toHaveLength(1);
    expect(left.calls.filter((c) => c.transactionNumber === null).map((c) => c.startedAt)).toEqual([BEFORE]);
    expect(left.webhooks.map((w) => [w.transactionRef, w.receivedAt, w.processedAt])).toEqual([
      ['STILL-OPEN', OLD, OLD + 1],
      [null, OLD, null],
      [null, BEFORE, BEFORE + 1],
    ]);
  });

  it('never touches transactions or their events', () => {
    for (const state of STATES) {
      addTransaction(db, `T-${state}`, state, OLD);
      addPurchaseTrail(db, `T-${state}`, OLD);
    }
    const before = history(db);
    expect(before.transactions).toHaveLength(STATES.length);

    const deleted = pruneAuditRecords(db, { before: BEFORE });
    expect(deleted.exchanges).toBeGreaterThan(0);
    expect(history(db)).toEqual(before);
  });

  it('works in batches across more rows than one batch, each committed on its own', () => {
    for (const state of FINAL_STATES) {
      addTransaction(db, `B-${state}`, state, OLD);
      addPurchaseTrail(db, `B-${state}`, OLD); // 4 exchanges, 2 calls, 1 webhook go
    }
    for (let i = 0; i < 7; i++) {
      addExchange(db, null, 'query', 400, OLD + i);
      addCall(db, null, 'balance', OLD + i);
    }
    const expected: PruneCounts = { exchanges: 16 + 7, supplierCalls: 8 + 7, webhooks: 4 };

    // A second connection that never waits: it fails at once if a batch left the write lock held.
    const other = new Database(storage.path);
    other.pragma('busy_timeout = 0');
    const steps: PruneCounts[] = [];
    let previous: PruneCounts = { exchanges: 0, supplierCalls: 0, webhooks: 0 };
    try {
      for (const counts of pruneInBatches(db, { before: BEFORE, batchSize: 3 })) {
        const grown =
          counts.exchanges -
          previous.exchanges +
          (counts.supplierCalls - previous.supplierCalls) +
          (counts.webhooks - previous.webhooks);
        expect(grown).toBeGreaterThan(0);
        expect(grown).toBeLessThanOrEqual(3);
        other
          .prepare(
            'insert into supplier_calls (operation, method, url, outcome, started_at, duration_ms) values (?, ?, ?, ?, ?, ?)',
          )
          .run('balance', 'GET', 'https://mitra.example/balance', 'success', BEFORE + steps.length, 1);
        steps.push(counts);
        previous = counts;
      }
    } finally {
      other.close();
    }
    expect(steps.at(-1)).toEqual(expected);
    expect(steps.length).toBeGreaterThanOrEqual(Math.ceil(23 / 3) + Math.ceil(15 / 3) + Math.ceil(4 / 3));
    // The rows written between batches were recent and stayed; only the creating inits remain.
    expect(all(db).exchanges.map((x) => [x.transactionNumber, x.receivedAt])).toEqual(
      FINAL_STATES.map((s) => [`B-${s}`, OLD + 1]),
    );
    expect(all(db).calls.map((c) => c.startedAt)).toEqual(steps.map((_, i) => BEFORE + i));
  });

  it('gives the event loop back between batches when run gradually', async () => {
    addTransaction(db, 'G-1', 'SUCCESS', OLD);
    for (let i = 0; i < 10; i++) addExchange(db, 'G-1', 'query', 200, OLD + i);
    let pauses = 0;
    const counts = await pruneAuditRecordsGradually(db, {
      before: BEFORE,
      batchSize: 3,
      pause: async () => {
        pauses += 1;
      },
    });
    expect(counts).toEqual({ exchanges: 10, supplierCalls: 0, webhooks: 0 });
    expect(pauses).toBe(4); // batches of 3, 3, 3 and 1
    expect(exchangesOf(db, 'G-1')).toEqual([]);
  });

  it('refuses a batch size below 1 and a cut-off that is not a time', () => {
    expect(() => pruneAuditRecords(db, { before: BEFORE, batchSize: 0 })).toThrow(/batchSize/);
    expect(() => pruneAuditRecords(db, { before: Number.NaN })).toThrow(/before/);
  });

  it('computes the cut-off from a number of days', () => {
    expect(retentionCutoff(T0, 90)).toBe(T0 - 90 * 86_400_000);
  });
});

describe('gateway prune', () => {
  let dir: TempDir;
  let storage: Storage & { path: string };
  let now: number;
  beforeEach(() => {
    dir = tempDir();
    storage = tempStorage();
    now = Date.now();
    // Far enough from every cut-off used below that the seconds a test takes do not matter.
    addTransaction(storage.db, 'AGED', 'SUCCESS', now - 200 * DAY_MS);
    addPurchaseTrail(storage.db, 'AGED', now - 200 * DAY_MS);
    addTransaction(storage.db, 'FRESH', 'SUCCESS', now - DAY_MS);
    addPurchaseTrail(storage.db, 'FRESH', now - DAY_MS);
    addTransaction(storage.db, 'OPEN', 'UNKNOWN', now - 200 * DAY_MS);
    addPurchaseTrail(storage.db, 'OPEN', now - 200 * DAY_MS);
  });
  afterEach(() => {
    storage.close();
    dir.remove();
  });

  async function run(argv: string[], env: Record<string, string> = {}) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(argv, { env, cwd: dir.path, out: (l) => out.push(l), err: (l) => err.push(l) });
    return { code, out, err };
  }

  it('deletes the records older than 90 days by default and says what it deleted', async () => {
    const r = await run(['prune', '--database', storage.path]);
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.out).toEqual([
      expect.stringMatching(
        /^prune: deleted 4 Razer exchanges, 2 supplier calls and 1 webhook older than 90 days \(before \d{4}-\d\d-\d\dT[\d:.]+Z\) from /,
      ),
    ]);
    expect(r.out[0]?.endsWith(storage.path)).toBe(true);
    expect(exchangesOf(storage.db, 'AGED')).toHaveLength(1);
    expect(exchangesOf(storage.db, 'FRESH')).toHaveLength(5);
    expect(exchangesOf(storage.db, 'OPEN')).toHaveLength(5);
    expect(history(storage.db).transactions).toHaveLength(3);
  });

  it('takes --days, else RETENTION_DAYS (also from DATABASE_PATH), and prints JSON with --json', async () => {
    const env = { DATABASE_PATH: storage.path, RETENTION_DAYS: '365' };
    expect((await run(['prune'], env)).out[0]).toMatch(
      /^prune: deleted 0 Razer exchanges, 0 supplier calls and 0 webhooks older than 365 days/,
    );
    expect(exchangesOf(storage.db, 'AGED')).toHaveLength(5);

    const r = await run(['prune', '--days', '180', '--json'], env);
    expect(r.code).toBe(0);
    const report: unknown = JSON.parse(r.out[0] ?? '');
    expect(report).toEqual({
      database: storage.path,
      days: 180,
      before: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      deleted: { exchanges: 4, supplierCalls: 2, webhooks: 1 },
    });
    const cutoff = Date.parse((report as { before: string }).before);
    expect(Math.abs(cutoff - (now - 180 * DAY_MS))).toBeLessThan(60_000);
  });

  it('refuses a --days that is not a whole number of at least 1, in one line', async () => {
    for (const days of ['0', '1.5', 'ten', '', '-3']) {
      const r = await run(['prune', `--days=${days}`, '--database', storage.path]);
      expect(r).toEqual({
        code: 2,
        out: [],
        err: [`gateway prune: --days must be a whole number of at least 1, got "${days}"`],
      });
    }
    expect(exchangesOf(storage.db, 'AGED')).toHaveLength(5);
  });

  it('refuses a bad RETENTION_DAYS, and a database that does not exist', async () => {
    expect(await run(['prune', '--database', storage.path], { RETENTION_DAYS: '0' })).toEqual({
      code: 1,
      out: [],
      err: ['environment: RETENTION_DAYS must be a whole number from 1 to 36500'],
    });
    expect(await run(['prune', '--database', 'missing/gw.db'])).toEqual({
      code: 1,
      out: [],
      err: [`gateway prune: no database at ${dir.file('missing/gw.db')}`],
    });
    expect(exchangesOf(storage.db, 'AGED')).toHaveLength(5);
  });
});
