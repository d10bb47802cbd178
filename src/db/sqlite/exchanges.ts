import { and, asc, eq, sql } from 'drizzle-orm';
import type {
  ExchangeRow,
  InitEvent,
  InitInsert,
  LimitAccount,
  NewExchange,
  NewInitiated,
  PurchaseLimits,
} from '../types.js';
import type { Db } from './connection.js';
import { insertRow, prepared } from './prepared.js';
import { razerExchanges, transactionEvents, transactions } from './schema.js';
import { countRecentPurchases } from './transactions.js';

export function recordExchange(db: Db, exchange: NewExchange): void {
  insertRow(db, razerExchanges, exchange);
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
 * repeat can always replay exactly what was sent. `exists` when the number is taken; over a
 * limit when, counted in the same transaction, the purchases of the window already reach it.
 */
const NUMBER_TAKEN = Symbol('transaction number taken');

export function insertInitiated(
  db: Db,
  row: NewInitiated,
  exchange: NewExchange,
  limits?: PurchaseLimits,
  initEvent?: InitEvent & { instanceId: string },
): InitInsert {
  // The statements run on `db`, the transaction's one connection: prepared once for it.
  return db.transaction(
    (): InitInsert => {
      const taken = prepared(db, NUMBER_TAKEN, (d) =>
        d
          .select({ n: transactions.transactionNumber })
          .from(transactions)
          .where(eq(transactions.transactionNumber, sql.placeholder('n')))
          .prepare(),
      ).get({ n: row.transactionNumber });
      if (taken) return 'exists';
      const recent = (account: LimitAccount | null) =>
        countRecentPurchases(db, { sku: row.sku, account, since: limits?.since ?? 0 });
      const account = { limitKey: row.limitKey, accountId: row.accountId };
      if (limits?.perAccount != null && recent(account) >= limits.perAccount) return 'over-account-limit';
      if (limits?.perSku != null && recent(null) >= limits.perSku) return 'over-sku-limit';
      insertRow(db, transactions, row);
      insertRow(db, razerExchanges, exchange);
      if (initEvent)
        insertRow(db, transactionEvents, {
          transactionNumber: row.transactionNumber,
          fromState: 'INITIATED',
          toState: 'INITIATED',
          cause: 'razer',
          detail: initEvent.detail,
          at: row.createdAt,
          instanceId: initEvent.instanceId,
        });
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
