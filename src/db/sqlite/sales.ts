import { and, asc, eq, gt, gte, lt, or, type SQL, sql } from 'drizzle-orm';
import {
  DAY_MS,
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

/** The grouping statement's columns: the bucket, the state, the figures recorded (FIGURE_FLAGS), count and sums. */
const groupColumns = (bucket: SQL) => sql`${bucket} as k, ${t.state} as state,
  (case when ${t.trxCode} is not null then ${sql.raw(String(FIGURE_FLAGS.trxCode))} else 0 end
   + case when ${t.pricePaid} is not null then ${sql.raw(String(FIGURE_FLAGS.pricePaid))} else 0 end
   + case when ${t.priceOffered} is not null then ${sql.raw(String(FIGURE_FLAGS.priceOffered))} else 0 end
   + case when ${t.revenueMinor} is not null and ${t.revenueCurrency} is not null and ${t.revenueRateE6} is not null and ${t.revenueIdr} is not null then ${sql.raw(String(FIGURE_FLAGS.revenue))} else 0 end) as flags,
  count(*) as n, cast(sum(${t.pricePaid}) as text) as paid, cast(sum(${t.priceOffered}) as text) as offered,
  cast(sum(${t.revenueIdr}) as text) as revenue`;

/**
 * One statement per day of the range (by created_at, through transactions_created), merged
 * here, with a turn of the event loop between days. better-sqlite3 is synchronous and the
 * admin API runs in the gateway's process: a year in one statement would hold every Razer
 * request for a second or more; and SQLite's GROUP BY sorts its whole input, which is about
 * twice as fast a day at a time (bench/reports.mjs). Each transaction
 * belongs to one day, read in one statement: counted once, as it was when its day was read.
 * Sums are cast to text so that none goes through a float on the way out.
 */
export async function salesGroups(db: Db, query: SalesGroupQuery): Promise<SalesGroup[]> {
  const offsetMs = Math.trunc(query.utcOffsetMinutes) * 60_000;
  const bucket =
    query.by === 'day'
      ? sql`(${t.createdAt} + ${sql.raw(String(offsetMs))}) / ${sql.raw(String(DAY_MS))}`
      : sql`${t.sku}`;
  const merged = new Map<string, SalesGroup>();
  for (let from = query.since; from < query.until; from += DAY_MS) {
    const until = Math.min(from + DAY_MS, query.until);
    const rows = db.all<RawSalesGroup>(
      sql`select ${groupColumns(bucket)} from ${t}
        where ${t.createdAt} >= ${from} and ${t.createdAt} < ${until} group by 1, 2, 3`,
    );
    mergeSalesGroups(merged, rows, query.by);
    if (until < query.until) await new Promise((resolve) => setImmediate(resolve));
  }
  return [...merged.values()];
}

/** A column of the outer row, named with its table: drizzle leaves a one-table select's columns bare. */
const outer = (column: string) => sql`${t}.${sql.identifier(column)}`;

/** The move into a final state is a row's last: one per transaction, read by events_by_transaction. */
const finalAt = sql<
  number | null
>`case when ${t.state} in (${sql.raw(FINAL_STATES.map((s) => `'${s}'`).join(', '))})
  then (select max(${transactionEvents.at}) from ${transactionEvents}
    where ${transactionEvents.transactionNumber} = ${outer('transaction_number')} and ${transactionEvents.toState} = ${outer('state')}) end`;

/**
 * One page, after a turn of the event loop: an export reads page after page, and each read is
 * synchronous, so that the gateway serves its requests between pages.
 */
export async function salesPage(db: Db, query: SalesPageQuery): Promise<SaleRow[]> {
  await new Promise((resolve) => setImmediate(resolve));
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
    .limit(query.limit)
    .all();
}
