import { and, asc, eq } from 'drizzle-orm';
import type { ExchangeRow, NewExchange, NewTransaction } from '../types.js';
import type { Db } from './connection.js';
import { razerExchanges, transactions } from './schema.js';

export function recordExchange(db: Db, exchange: NewExchange): void {
  db.insert(razerExchanges).values(exchange).run();
}

/** The init exchange that created a transaction: the one every repeat is compared with. */
export function findCreatingInit(db: Db, transactionNumber: string): ExchangeRow | undefined {
  return db
    .select()
    .from(razerExchanges)
    .where(
      and(
        eq(razerExchanges.transactionNumber, transactionNumber),
        eq(razerExchanges.endpoint, 'init'),
        eq(razerExchanges.responseStatus, 200),
      ),
    )
    .orderBy(asc(razerExchanges.id))
    .get();
}

/**
 * Creates the transaction and stores the answer about it in one SQLite transaction, so a
 * repeat can always replay exactly what was sent. `exists` when the number is taken.
 */
export function insertInitiated(db: Db, row: NewTransaction, exchange: NewExchange): 'created' | 'exists' {
  return db.transaction(
    (tx) => {
      const taken = tx
        .select({ n: transactions.transactionNumber })
        .from(transactions)
        .where(eq(transactions.transactionNumber, row.transactionNumber))
        .get();
      if (taken) return 'exists';
      tx.insert(transactions).values(row).run();
      tx.insert(razerExchanges).values(exchange).run();
      return 'created';
    },
    { behavior: 'immediate' },
  );
}

export function listExchanges(db: Db, transactionNumber: string): ExchangeRow[] {
  return db
    .select()
    .from(razerExchanges)
    .where(eq(razerExchanges.transactionNumber, transactionNumber))
    .orderBy(asc(razerExchanges.id))
    .all();
}
