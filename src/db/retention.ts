import type { SQL } from 'drizzle-orm';
import {
  and,
  asc,
  eq,
  exists,
  gt,
  inArray,
  isNotNull,
  isNull,
  lt,
  ne,
  notExists,
  notInArray,
  or,
  sql,
} from 'drizzle-orm';
import type { SQLiteColumn } from 'drizzle-orm/sqlite-core';
import { alias } from 'drizzle-orm/sqlite-core';
import type { Db } from './connection.js';
import { razerExchanges, supplierCalls, transactions, webhookInbox } from './schema.js';

/**
 * The terminal states of the design's state diagram: a transaction in one of them never moves
 * again, so its audit records are history only. Listed here because storage knows no rules
 * (src/fulfilment/states.ts is the rule; a test keeps both lists equal).
 */
export const FINAL_STATES = ['SUCCESS', 'FAILED', 'CANCELLED', 'EXPIRED'] as const;

export const DEFAULT_RETENTION_DAYS = 90;
export const DAY_MS = 86_400_000;
/** Rows per DELETE: each batch is its own short write, so Razer's requests wait little. */
export const DEFAULT_PRUNE_BATCH = 2_000;

/** The `before` of a prune that keeps `days` days of records up to `now` (epoch ms). */
export function retentionCutoff(now: number, days: number): number {
  return now - days * DAY_MS;
}

export interface PruneOptions {
  /** Epoch ms: only records older than this go. */
  before: number;
  batchSize?: number;
}

export interface PruneCounts {
  exchanges: number;
  supplierCalls: number;
  webhooks: number;
}

/** Whether `column` names a transaction in a final state, last updated before `before`. */
function finalBefore(db: Db, column: SQLiteColumn, before: number) {
  return exists(
    db
      .select({ one: sql`1` })
      .from(transactions)
      .where(
        and(
          eq(transactions.transactionNumber, column),
          inArray(transactions.state, [...FINAL_STATES]),
          lt(transactions.updatedAt, before),
        ),
      ),
  );
}

const earlierInit = alias(razerExchanges, 'earlier_init');

function exchangesPrunable(db: Db, before: number): SQL | undefined {
  const x = razerExchanges;
  return and(
    lt(x.receivedAt, before),
    or(
      isNull(x.transactionNumber),
      and(
        finalBefore(db, x.transactionNumber, before),
        // Never the creating init (the first init answered 200): a replayed init is answered
        // from it byte for byte, however old (see findCreatingInit).
        or(
          ne(x.endpoint, 'init'),
          ne(x.responseStatus, 200),
          exists(
            db
              .select({ one: sql`1` })
              .from(earlierInit)
              .where(
                and(
                  eq(earlierInit.transactionNumber, x.transactionNumber),
                  eq(earlierInit.endpoint, 'init'),
                  eq(earlierInit.responseStatus, 200),
                  lt(earlierInit.id, x.id),
                ),
              ),
          ),
        ),
      ),
    ),
  );
}

function supplierCallsPrunable(db: Db, before: number): SQL | undefined {
  const c = supplierCalls;
  return and(
    lt(c.startedAt, before),
    or(isNull(c.transactionNumber), finalBefore(db, c.transactionNumber, before)),
  );
}

function webhooksPrunable(db: Db, before: number): SQL | undefined {
  const w = webhookInbox;
  return and(
    isNotNull(w.processedAt),
    lt(w.receivedAt, before),
    // A matched webhook's transaction_ref is our transactionNumber: keep it while that
    // transaction is open. A ref that names no transaction of ours does not hold it.
    or(
      isNull(w.transactionRef),
      notExists(
        db
          .select({ one: sql`1` })
          .from(transactions)
          .where(
            and(
              eq(transactions.transactionNumber, w.transactionRef),
              notInArray(transactions.state, [...FINAL_STATES]),
            ),
          ),
      ),
    ),
  );
}

type AuditTable = typeof razerExchanges | typeof supplierCalls | typeof webhookInbox;

/**
 * One batch: the ids are found by a read (which takes no write lock however far it scans),
 * then deleted by id in a short write that checks the condition again.
 */
function batchOf(db: Db, table: AuditTable, prunable: SQL | undefined) {
  return (afterId: number, size: number): { found: number; deleted: number; lastId: number } => {
    const ids = db
      .select({ id: table.id })
      .from(table)
      .where(and(gt(table.id, afterId), prunable))
      .orderBy(asc(table.id))
      .limit(size)
      .all()
      .map((r) => r.id);
    const lastId = ids.at(-1);
    if (lastId === undefined) return { found: 0, deleted: 0, lastId: afterId };
    const { changes } = db
      .delete(table)
      .where(and(inArray(table.id, ids), prunable))
      .run();
    return { found: ids.length, deleted: changes, lastId };
  };
}

/**
 * Deletes old audit records one batch at a time, yielding the running counts after each
 * batch (a read, then one DELETE committed on its own). Never touches `transactions`,
 * `transaction_events`, nor any record of a transaction that is not final.
 */
export function* pruneInBatches(db: Db, options: PruneOptions): Generator<PruneCounts, PruneCounts> {
  const { before, batchSize = DEFAULT_PRUNE_BATCH } = options;
  if (!Number.isFinite(before)) throw new RangeError(`before must be a time in epoch ms, got ${before}`);
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`batchSize must be a whole number of at least 1, got ${batchSize}`);
  }
  const counts: PruneCounts = { exchanges: 0, supplierCalls: 0, webhooks: 0 };
  const tables: [keyof PruneCounts, AuditTable, SQL | undefined][] = [
    ['exchanges', razerExchanges, exchangesPrunable(db, before)],
    ['supplierCalls', supplierCalls, supplierCallsPrunable(db, before)],
    ['webhooks', webhookInbox, webhooksPrunable(db, before)],
  ];
  for (const [key, table, prunable] of tables) {
    const batch = batchOf(db, table, prunable);
    // An id cursor: rows kept by one batch are not scanned again by the next.
    let afterId = 0;
    for (;;) {
      const step = batch(afterId, batchSize);
      if (step.found === 0) break;
      counts[key] += step.deleted;
      afterId = step.lastId;
      yield { ...counts };
      if (step.found < batchSize) break;
    }
  }
  return counts;
}

/** Prunes everything due at once; each batch is still its own write. */
export function pruneAuditRecords(db: Db, options: PruneOptions): PruneCounts {
  const steps = pruneInBatches(db, options);
  let step = steps.next();
  while (!step.done) step = steps.next();
  return step.value;
}

/**
 * For a job inside the running gateway: better-sqlite3 is synchronous, so between batches
 * the event loop is given back (`pause`, by default one setImmediate) to serve Razer.
 */
export async function pruneAuditRecordsGradually(
  db: Db,
  options: PruneOptions & { pause?: () => Promise<void> },
): Promise<PruneCounts> {
  const pause = options.pause ?? (() => new Promise<void>((resolve) => setImmediate(resolve)));
  const steps = pruneInBatches(db, options);
  let step = steps.next();
  while (!step.done) {
    await pause();
    step = steps.next();
  }
  return step.value;
}
