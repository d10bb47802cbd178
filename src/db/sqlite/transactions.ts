import { and, asc, count, eq, gt, gte, inArray, lt, lte, notInArray, or, sql } from 'drizzle-orm';
import type { AnySQLiteColumn } from 'drizzle-orm/sqlite-core';
import type {
  FlagCondition,
  HourlyCount,
  LimitAccount,
  Move,
  MovePatch,
  MoveResult,
  NewTransaction,
  OldestOpen,
  OpenByTopUpQuery,
  OpenCommitment,
  OpenPurchase,
  OpenPurchasePage,
  RepeatedQueries,
  TransactionCounts,
  TransactionCursor,
  TransactionEventRow,
  TransactionPage,
  TransactionQuery,
  TransactionRow,
} from '../types.js';
import {
  FINAL_STATES,
  OPEN_STATES,
  type OpenState,
  type StoredState as State,
  TRANSACTION_STATES,
} from '../vocabulary.js';
import type { Db } from './connection.js';
import { assertNoComputedDefaults, placeholders, prepared, shapeOf } from './prepared.js';
import { transactionEvents, transactions } from './schema.js';

export function insertTransaction(db: Db, row: NewTransaction): TransactionRow {
  return db.insert(transactions).values(row).returning().get();
}

const BY_NUMBER = Symbol('transaction by number');
const BY_REF = Symbol('transaction by ref_id');
const BY_TRX = Symbol('transaction by trx_code');
const INSERT_EVENT = Symbol('insert event');

const byColumn = (db: Db, key: symbol, column: AnySQLiteColumn) =>
  prepared(db, key, (d) =>
    d
      .select()
      .from(transactions)
      .where(eq(column, sql.placeholder('value')))
      .prepare(),
  );

const COUNT_REPEATS = Symbol('count repeated queries');

export function countRepeatedQueries(db: Db, r: RepeatedQueries): void {
  prepared(db, COUNT_REPEATS, (d) =>
    d
      .update(transactions)
      .set({
        queriesRepeated: sql`${transactions.queriesRepeated} + ${sql.placeholder('count')}`,
        lastQueriedAt: sql`max(coalesce(${transactions.lastQueriedAt}, 0), ${sql.placeholder('lastAt')})`,
      })
      .where(eq(transactions.transactionNumber, sql.placeholder('n')))
      .prepare(),
  ).run({ count: r.count, lastAt: r.lastAt, n: r.transactionNumber });
}

export function getTransaction(db: Db, transactionNumber: string): TransactionRow | undefined {
  return byColumn(db, BY_NUMBER, transactions.transactionNumber).get({ value: transactionNumber });
}

export function listEvents(db: Db, transactionNumber: string): TransactionEventRow[] {
  return db
    .select()
    .from(transactionEvents)
    .where(eq(transactionEvents.transactionNumber, transactionNumber))
    .orderBy(asc(transactionEvents.id))
    .all();
}

/**
 * Applies one state move and appends its event in a single SQLite transaction. The update is a
 * compare-and-set on `from`: when another writer moved the row first, nothing is written and
 * the current state comes back. Whether the move is legal is the caller's rule.
 */
export function moveTransaction(db: Db, move: Move, instanceId: string | null): MoveResult {
  const patch = move.patch ?? {};
  return db.transaction(
    (tx): MoveResult => {
      const row = moveStatement(db, shapeOf(patch), move.neverSent === true).get({
        ...patch,
        state: move.to,
        updatedAt: move.at,
        [MOVE.number]: move.transactionNumber,
        [MOVE.from]: move.from,
      });
      if (!row) {
        const current = tx
          .select({ state: transactions.state })
          .from(transactions)
          .where(eq(transactions.transactionNumber, move.transactionNumber))
          .get();
        return current
          ? { ok: false, reason: 'stale', current: current.state }
          : { ok: false, reason: 'missing' };
      }
      insertEvent(db).run({
        transactionNumber: move.transactionNumber,
        fromState: move.from,
        toState: move.to,
        cause: move.cause,
        detail: move.detail ?? null,
        at: move.at,
        instanceId,
        actor: move.actor ?? null,
      });
      return { ok: true, row };
    },
    { behavior: 'immediate' },
  );
}

/** Placeholder names of the row a move expects; no column is named so. */
const MOVE = { number: 'move.number', from: 'move.from' } as const;

/** A move's compare-and-set, prepared once for each set of patched columns. */
const moveStatement = (db: Db, shape: readonly string[], neverSent: boolean) =>
  prepared(db, `move ${neverSent ? 'never sent ' : ''}(${shape.join(',')})`, (d) => {
    assertNoComputedDefaults(transactions);
    return d
      .update(transactions)
      .set(placeholders([...shape, 'state', 'updatedAt']))
      .where(
        and(
          eq(transactions.transactionNumber, sql.placeholder(MOVE.number)),
          eq(transactions.state, sql.placeholder(MOVE.from)),
          neverSent ? eq(transactions.orderAttempts, 0) : undefined,
        ),
      )
      .returning()
      .prepare();
  });

/**
 * Purchases after `since` that were not refused, cancelled or expired (they count toward limits):
 * of the SKU, or of `account`: the same supplier account (limit key) or the same Razer accountId.
 */
export function countRecentPurchases(
  db: Db,
  query: { sku: string; account: LimitAccount | null; since: number },
): number {
  const { sku, account, since } = query;
  const byAccount = account !== null;
  return (
    prepared(db, byAccount ? COUNT_RECENT_BY_ACCOUNT : COUNT_RECENT, (d) =>
      d
        .select({ n: count() })
        .from(transactions)
        .where(
          and(
            eq(transactions.sku, sql.placeholder('sku')),
            byAccount
              ? or(
                  eq(transactions.limitKey, sql.placeholder('limitKey')),
                  eq(transactions.accountId, sql.placeholder('accountId')),
                )
              : undefined,
            gt(transactions.createdAt, sql.placeholder('since')),
            notInArray(transactions.state, ['FAILED', 'CANCELLED', 'EXPIRED']),
          ),
        )
        .prepare(),
    ).get({ sku, since, ...account })?.n ?? 0
  );
}

const COUNT_RECENT = Symbol('count recent purchases of a sku');
const COUNT_RECENT_BY_ACCOUNT = Symbol('count recent purchases of a sku by an account');

/** Updates columns of a transaction still in `state`, without a move (and so without an event). */
export function patchTransaction(
  db: Db,
  transactionNumber: string,
  state: State,
  patch: MovePatch,
  at: number,
): boolean {
  const shape = shapeOf(patch);
  const statement = prepared(db, `patch (${shape.join(',')})`, (d) => {
    assertNoComputedDefaults(transactions);
    return d
      .update(transactions)
      .set(placeholders([...shape, 'updatedAt']))
      .where(
        and(
          eq(transactions.transactionNumber, sql.placeholder(MOVE.number)),
          eq(transactions.state, sql.placeholder(MOVE.from)),
        ),
      )
      .prepare();
  });
  const values = { ...patch, updatedAt: at, [MOVE.number]: transactionNumber, [MOVE.from]: state };
  return statement.run(values).changes === 1;
}

/** The transaction a supplier reference names: our ref_id, or Mitra's trx_code. */
export function findBySupplierRef(db: Db, ref: string): TransactionRow | undefined {
  return (
    byColumn(db, BY_REF, transactions.refId).get({ value: ref }) ??
    byColumn(db, BY_TRX, transactions.trxCode).get({
      value: ref,
    })
  );
}

/** The event row of a move; prepared once, it runs inside the move's transaction. */
const insertEvent = (db: Db) =>
  prepared(db, INSERT_EVENT, (d) =>
    d
      .insert(transactionEvents)
      .values({
        transactionNumber: sql.placeholder('transactionNumber'),
        fromState: sql.placeholder('fromState'),
        toState: sql.placeholder('toState'),
        cause: sql.placeholder('cause'),
        detail: sql.placeholder('detail'),
        at: sql.placeholder('at'),
        instanceId: sql.placeholder('instanceId'),
        actor: sql.placeholder('actor'),
      })
      .prepare(),
  );

/** Open transactions whose next check is due, oldest due first. */
export function listDue(db: Db, now: number, limit: number): TransactionRow[] {
  return db
    .select()
    .from(transactions)
    .where(and(inArray(transactions.state, [...OPEN_STATES]), lte(transactions.nextCheckAt, now)))
    .orderBy(asc(transactions.nextCheckAt))
    .limit(limit)
    .all();
}

/** One page of the transactions in `state`, by transaction number after `after`. */
export function listInState(db: Db, state: State, limit = 1000, after = ''): TransactionRow[] {
  return db
    .select()
    .from(transactions)
    .where(and(eq(transactions.state, state), gt(transactions.transactionNumber, after)))
    .orderBy(asc(transactions.transactionNumber))
    .limit(limit)
    .all();
}

export function listExpiredInitiated(db: Db, now: number, limit: number): TransactionRow[] {
  return db
    .select()
    .from(transactions)
    .where(and(eq(transactions.state, 'INITIATED'), lte(transactions.expiresAt, now)))
    .limit(limit)
    .all();
}

/** Non-final transactions past their deadline that no operator has been told of yet. */
export function listOverdue(db: Db, now: number, limit: number): TransactionRow[] {
  return db
    .select()
    .from(transactions)
    .where(
      and(
        inArray(transactions.state, ['QUEUED', 'ORDERING', 'PROCESSING', 'UNKNOWN']),
        lte(transactions.deadlineAt, now),
        eq(transactions.attention, false),
      ),
    )
    .limit(limit)
    .all();
}

/** Raises the operator flag (any state, terminal included); no event, since no move. */
export function flagForOperator(
  db: Db,
  transactionNumber: string,
  reason: string,
  at: number,
  when: FlagCondition = {},
): boolean {
  const result = db
    .update(transactions)
    .set({ attention: true, attentionReason: reason, updatedAt: at })
    .where(
      and(
        eq(transactions.transactionNumber, transactionNumber),
        when.clear ? eq(transactions.attention, false) : undefined,
        when.inState ? eq(transactions.state, when.inState) : undefined,
      ),
    )
    .run();
  return result.changes === 1;
}

const FINAL: readonly State[] = FINAL_STATES;

// The operator's listing order, (rank, key, transaction number) ascending: see TransactionCursor.
const rank = sql`case when ${transactions.attention} then 0 when ${inArray(transactions.state, [...FINAL_STATES])} then 2 else 1 end`;
const sortKey = sql`case (${rank}) when 2 then -${transactions.createdAt} else ${transactions.createdAt} end`;

/** The cursor of `row`: the same rank and key as the SQL above, computed from the row. */
function cursorOf(row: TransactionRow): TransactionCursor {
  const r = row.attention ? 0 : FINAL.includes(row.state) ? 2 : 1;
  return { rank: r, key: r === 2 ? -row.createdAt : row.createdAt, transactionNumber: row.transactionNumber };
}

/** One page of an operator's listing; one row more than asked tells whether another page follows. */
export function pageTransactions(db: Db, query: TransactionQuery): TransactionPage {
  const { after, q } = query;
  const rows = db
    .select()
    .from(transactions)
    .where(
      and(
        query.states === undefined ? undefined : inArray(transactions.state, [...query.states]),
        query.attention === undefined ? undefined : eq(transactions.attention, query.attention),
        query.sku === undefined ? undefined : eq(transactions.sku, query.sku),
        query.since === undefined ? undefined : gte(transactions.createdAt, query.since),
        query.until === undefined ? undefined : lt(transactions.createdAt, query.until),
        q === undefined
          ? undefined
          : or(eq(transactions.transactionNumber, q), eq(transactions.refId, q), eq(transactions.trxCode, q)),
        after === undefined
          ? undefined
          : sql`(${rank}, ${sortKey}, ${transactions.transactionNumber}) > (${after.rank}, ${after.key}, ${after.transactionNumber})`,
      ),
    )
    .orderBy(rank, sortKey, asc(transactions.transactionNumber))
    .limit(query.limit + 1)
    .all();
  const items = rows.slice(0, query.limit);
  const last = items.at(-1);
  return { items, next: rows.length > query.limit && last ? cursorOf(last) : null };
}

/** How many transactions are in each state (every state, 0 when none), and how many are flagged. */
export function countTransactions(db: Db): TransactionCounts {
  const rows = db
    .select({
      state: transactions.state,
      n: count(),
      flagged: count(sql`case when ${transactions.attention} then 1 end`),
    })
    .from(transactions)
    .groupBy(transactions.state)
    .all();
  const byState = Object.fromEntries(TRANSACTION_STATES.map((s) => [s, 0])) as Record<State, number>;
  let attention = 0;
  for (const r of rows) {
    byState[r.state] = r.n;
    attention += r.flagged;
  }
  return { byState, attention };
}

// The open-since index (state, topped_up_at, transaction_number) holds open rows only: SQLite
// uses a partial index when the query repeats its WHERE term as written, constants included.
const openOnly = sql`${transactions.state} in (${sql.raw(OPEN_STATES.map((s) => `'${s}'`).join(', '))})`;
const inState = (state: OpenState) => sql`${openOnly} and ${transactions.state} = ${sql.raw(`'${state}'`)}`;

/** One scalar subquery per state: each is one seek into an index. */
export function oldestOpen(db: Db): OldestOpen {
  const columns = OPEN_STATES.map(
    (state) =>
      sql`(select min(${transactions.toppedUpAt}) from ${transactions} where ${inState(state)}) as ${sql.raw(state)}`,
  );
  // INITIATED rows are read through transactions_due (state, next_check_at): they are few, being
  // closed 24 h after their init.
  const row = db.get<OldestOpen>(
    sql`select (select min(${transactions.createdAt}) from ${transactions} where ${transactions.state} = 'INITIATED') as INITIATED, ${sql.join(columns, sql`, `)}`,
  );
  return row;
}

/** Open topped-up rows, grouped by what the balance guard needs (see stillToCharge). */
export function openCommitments(db: Db): OpenCommitment[] {
  const rows = db.all<Omit<OpenCommitment, 'hasTrxCode'> & { hasTrxCode: number }>(
    sql`select ${transactions.state} as state, (${transactions.trxCode} is not null) as hasTrxCode,
      ${transactions.priceOffered} as priceOffered, ${transactions.maxPrice} as maxPrice, count(*) as count
      from ${transactions} where ${openOnly}
      group by ${transactions.state}, (${transactions.trxCode} is not null), ${transactions.priceOffered}, ${transactions.maxPrice}`,
  );
  return rows.map((r) => ({ ...r, hasTrxCode: r.hasTrxCode === 1 }));
}

/** Per state, the first `limit` rows after the cursor in index order; then the first `limit` of those. */
export function listOpenByTopUp(db: Db, query: OpenByTopUpQuery): OpenPurchasePage {
  const { after, through, limit } = query;
  const afterCursor = (at: number, n: string) =>
    sql`(${transactions.toppedUpAt}, ${transactions.transactionNumber}) > (${at}, ${n})`;
  const byState = OPEN_STATES.map(
    (
      state,
    ) => sql`select * from (select ${transactions.transactionNumber} as transactionNumber, ${transactions.state} as state, ${transactions.toppedUpAt} as toppedUpAt, ${transactions.attention} as attention
      from ${transactions}
      where ${inState(state)} and ${transactions.toppedUpAt} <= ${through} and ${afterCursor(after.toppedUpAt, after.transactionNumber)}
      order by ${transactions.toppedUpAt}, ${transactions.transactionNumber} limit ${limit + 1})`,
  );
  const rows = db
    .all<Omit<OpenPurchase, 'attention'> & { attention: number }>(
      sql`${sql.join(byState, sql` union all `)} order by toppedUpAt, transactionNumber limit ${limit + 1}`,
    )
    .map((r) => ({ ...r, attention: r.attention === 1 }));
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  if (rows.length <= limit || !last) return { items, more: 0 };
  const counted = db.get<{ n: number }>(
    sql`select count(*) as n from (select 1 from ${transactions}
      where ${openOnly} and ${transactions.toppedUpAt} <= ${through} and ${afterCursor(last.toppedUpAt, last.transactionNumber)}
      limit ${query.countUpTo})`,
  );
  return { items, more: counted?.n ?? 0 };
}

/** See Store.fillTopUpTimes. */
export function fillTopUpTimes(db: Db, deadlineMs: number): number {
  return db.run(
    sql`update ${transactions} set ${sql.identifier('topped_up_at')} = ${transactions.deadlineAt} - ${deadlineMs}
      where ${openOnly} and ${transactions.toppedUpAt} is null and ${transactions.deadlineAt} is not null`,
  ).changes;
}

const HOUR_MS = 3_600_000;
/** created_at floored to its hour (UTC: epoch ms are UTC), in integer arithmetic. */
const createdHour = sql<number>`${transactions.createdAt} - ${transactions.createdAt} % ${sql.raw(String(HOUR_MS))}`;

/** Transactions created in [since, until), per hour of created_at and state; empty buckets absent. */
export function purchasesByHour(db: Db, since: number, until: number): HourlyCount[] {
  return db
    .select({ hour: createdHour, state: transactions.state, count: count() })
    .from(transactions)
    .where(and(gte(transactions.createdAt, since), lt(transactions.createdAt, until)))
    .groupBy(createdHour, transactions.state)
    .orderBy(createdHour, asc(transactions.state))
    .all();
}
