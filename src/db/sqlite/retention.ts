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
import type { AuditTable, PruneBatch } from '../types.js';
import { FINAL_STATES } from '../vocabulary.js';
import type { Db } from './connection.js';
import { razerExchanges, supplierCalls, transactions, webhookInbox } from './schema.js';

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

type Table = typeof razerExchanges | typeof supplierCalls | typeof webhookInbox;

const TABLES: Record<AuditTable, [Table, (db: Db, before: number) => SQL | undefined]> = {
  exchanges: [razerExchanges, exchangesPrunable],
  supplierCalls: [supplierCalls, supplierCallsPrunable],
  webhooks: [webhookInbox, webhooksPrunable],
};

/**
 * One batch: the ids are found by a read (which takes no write lock however far it scans),
 * then deleted by id in a short write that checks the condition again.
 */
export function pruneBatch(
  db: Db,
  name: AuditTable,
  before: number,
  afterId: number,
  size: number,
): PruneBatch {
  const [table, condition] = TABLES[name];
  const prunable = condition(db, before);
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
}
