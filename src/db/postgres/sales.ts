import { and, asc, eq, gt, gte, lt, or, sql } from 'drizzle-orm';
import {
  DAY_MS,
  exactInteger,
  FIGURE_FLAGS,
  mergeSalesGroups,
  type RawSalesGroup,
  type SaleRow,
  type SalesGroup,
  type SalesGroupQuery,
  type SalesPageQuery,
} from '../sales.js';
import { FINAL_STATES } from '../vocabulary.js';
import type { Db } from './connection.js';
import { transactionEvents, transactions } from './schema.js';

const t = transactions;

/**
 * One statement for the whole range: PostgreSQL hashes the groups (no sort) and works apart
 * from the gateway's event loop. count(*) is int8 and sum(int8) numeric, both read exactly from
 * their decimal text (sums are cast to text so that none goes through a float).
 */
export async function salesGroups(db: Db, query: SalesGroupQuery): Promise<SalesGroup[]> {
  const offsetMs = Math.trunc(query.utcOffsetMinutes) * 60_000;
  const bucket =
    query.by === 'day'
      ? sql`(${t.createdAt} + ${sql.raw(String(offsetMs))}::int8) / ${sql.raw(String(DAY_MS))}::int8`
      : sql`${t.sku}`;
  const result = await db.execute<RawSalesGroup & Record<string, unknown>>(
    sql`select ${bucket} as k, ${t.state} as state,
      (case when ${t.trxCode} is not null then ${sql.raw(String(FIGURE_FLAGS.trxCode))} else 0 end
       + case when ${t.pricePaid} is not null then ${sql.raw(String(FIGURE_FLAGS.pricePaid))} else 0 end
       + case when ${t.priceOffered} is not null then ${sql.raw(String(FIGURE_FLAGS.priceOffered))} else 0 end
       + case when ${t.revenueMinor} is not null and ${t.revenueCurrency} is not null and ${t.revenueRateE6} is not null and ${t.revenueIdr} is not null then ${sql.raw(String(FIGURE_FLAGS.revenue))} else 0 end) as flags,
      count(*) as n, sum(${t.pricePaid})::text as paid, sum(${t.priceOffered})::text as offered,
      sum(${t.revenueIdr})::text as revenue
      from ${t} where ${t.createdAt} >= ${query.since}::int8 and ${t.createdAt} < ${query.until}::int8
      group by 1, 2, 3`,
  );
  const merged = new Map<string, SalesGroup>();
  mergeSalesGroups(merged, result.rows, query.by);
  return [...merged.values()];
}

/** A column of the outer row, named with its table: drizzle leaves a one-table select's columns bare. */
const outer = (column: string) => sql`${t}.${sql.identifier(column)}`;

/** The move into a final state is a row's last: one per transaction, read by events_by_transaction. */
const finalAt = sql<
  number | null
>`case when ${t.state} in (${sql.raw(FINAL_STATES.map((s) => `'${s}'`).join(', '))})
  then (select max(${transactionEvents.at}) from ${transactionEvents}
    where ${transactionEvents.transactionNumber} = ${outer('transaction_number')} and ${transactionEvents.toState} = ${outer('state')}) end`.mapWith(
  (v: unknown) => exactInteger(v, 'final at'),
);

export async function salesPage(db: Db, query: SalesPageQuery): Promise<SaleRow[]> {
  const { after } = query;
  return db
    .select({
      transactionNumber: t.transactionNumber,
      createdAt: t.createdAt,
      sku: t.sku,
      state: t.state,
      trxCode: t.trxCode,
      priceOffered: t.priceOffered,
      pricePaid: t.pricePaid,
      revenueMinor: t.revenueMinor,
      revenueCurrency: t.revenueCurrency,
      revenueRateE6: t.revenueRateE6,
      revenueRateSet: t.revenueRateSet,
      revenueIdr: t.revenueIdr,
      finalAt,
    })
    .from(t)
    .where(
      and(
        gte(t.createdAt, after ? Math.max(query.since, after.createdAt) : query.since),
        lt(t.createdAt, query.until),
        after
          ? or(
              gt(t.createdAt, after.createdAt),
              and(eq(t.createdAt, after.createdAt), gt(t.transactionNumber, after.transactionNumber)),
            )
          : undefined,
      ),
    )
    .orderBy(asc(t.createdAt), asc(t.transactionNumber))
    .limit(query.limit);
}
