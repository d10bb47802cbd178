import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  check,
  index,
  integer,
  json,
  pgTable,
  primaryKey,
  text,
  timestamp,
} from 'drizzle-orm/pg-core';
import type { FormField } from '../../config/form-data.js';
import type * as lite from '../sqlite/schema.js';
import type { CatalogueForm } from '../types.js';
import { EVENT_CAUSES as CAUSES, OPEN_STATES, TRANSACTION_STATES as STATES } from '../vocabulary.js';

// The SQLite schema (src/db/sqlite/schema.ts) column for column: same names, same meanings.
// Times are Unix epoch milliseconds from the injected clock and money is whole IDR, both
// int8 read as JS numbers. JSON columns are `json`, not `jsonb`, so that text comes back in
// the order it was written (replayed answers are compared byte for byte).

const inList = (values: readonly string[]) => sql.raw(values.map((v) => `'${v}'`).join(', '));
const epochMs = (name: string) => bigint(name, { mode: 'number' });
const serialId = () => bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity();

/** One row per Razer transactionNumber. */
export const transactions = pgTable(
  'transactions',
  {
    transactionNumber: text('transaction_number').primaryKey(),
    apiId: text('api_id').notNull(),
    sku: text('sku').notNull(),
    brandKey: text('brand_key').notNull(),
    variationKey: text('variation_key').notNull(),
    maxPrice: bigint('max_price', { mode: 'number' }).notNull(),
    isVoucher: boolean('is_voucher').notNull().default(false),
    accountId: text('account_id').notNull(),
    supplierData: json('supplier_data').$type<FormField[]>().notNull(),
    razerId: text('razer_id'),
    userIp: text('user_ip'),
    countryCode: text('country_code'),
    customParam: json('custom_param').$type<Record<string, string>>(),
    state: text('state', { enum: STATES }).notNull(),
    token: text('token').notNull(),
    refId: text('ref_id').notNull().unique(),
    trxCode: text('trx_code'),
    orderAttempts: integer('order_attempts').notNull().default(0),
    resends: integer('resends').notNull().default(0),
    priceOffered: bigint('price_offered', { mode: 'number' }),
    pricePaid: bigint('price_paid', { mode: 'number' }),
    voucherCode: text('voucher_code'),
    failureCode: text('failure_code'),
    failureReason: text('failure_reason'),
    expiresAt: epochMs('expires_at').notNull(),
    deadlineAt: epochMs('deadline_at'),
    // When Razer's top-up queued it: how long a paid purchase has waited is counted from here.
    // Null before the top-up, and on rows already final when the column came (migration).
    toppedUpAt: epochMs('topped_up_at'),
    nextCheckAt: epochMs('next_check_at'),
    checks: integer('checks').notNull().default(0),
    attention: boolean('attention').notNull().default(false),
    attentionReason: text('attention_reason'),
    createdAt: epochMs('created_at').notNull(),
    updatedAt: epochMs('updated_at').notNull(),
    queriesRepeated: integer('queries_repeated').notNull().default(0),
    lastQueriedAt: epochMs('last_queried_at'),
    limitKey: text('limit_key'),
    // What the sale earns if delivered, recorded at init (see the SQLite schema).
    revenueMinor: bigint('revenue_minor', { mode: 'number' }),
    revenueCurrency: text('revenue_currency'),
    revenueRateE6: bigint('revenue_rate_e6', { mode: 'number' }),
    revenueRateSet: text('revenue_rate_set'),
    revenueIdr: bigint('revenue_idr', { mode: 'number' }),
    // PostgreSQL only: the step lease, so that instances sharing the database take turns.
    // Timed by the database's clock; never part of TransactionRow.
    leaseHolder: text('lease_holder'),
    leaseUntil: timestamp('lease_until', { withTimezone: true, mode: 'string' }),
  },
  (t) => [
    check('transactions_state_valid', sql`${t.state} in (${inList(STATES)})`),
    index('transactions_due').on(t.state, t.nextCheckAt),
    // The per-account limit counts a purchase of the same supplier account (limit_key) or the
    // same Razer accountId (account_id): one index for each side of the OR.
    index('transactions_limit_day').on(t.sku, t.limitKey, t.createdAt),
    index('transactions_account_day').on(t.sku, t.accountId, t.createdAt),
    index('transactions_sku_day').on(t.sku, t.createdAt),
    index('transactions_trx_code').on(t.trxCode),
    index('transactions_attention').on(t.attention),
    // The console's chart and the listings' since/until read a range of creation times.
    index('transactions_created').on(t.createdAt),
    // Open purchases by top-up time, per state: the oldest of each (metrics) and the stuck
    // watch's pages. Only open rows: a purchase leaves it when it becomes final.
    index('transactions_open_since')
      .on(t.state, t.toppedUpAt, t.transactionNumber)
      .where(sql`${t.state} in (${inList(OPEN_STATES)})`),
  ],
);

/** Append-only history: one row per state move, written in the move's transaction. */
export const transactionEvents = pgTable(
  'transaction_events',
  {
    id: serialId(),
    transactionNumber: text('transaction_number')
      .notNull()
      .references(() => transactions.transactionNumber),
    fromState: text('from_state', { enum: STATES }).notNull(),
    toState: text('to_state', { enum: STATES }).notNull(),
    cause: text('cause', { enum: CAUSES }).notNull(),
    detail: text('detail'),
    at: epochMs('at').notNull(),
    instanceId: text('instance_id'),
    actor: text('actor'),
  },
  (t) => [
    check('events_cause_valid', sql`${t.cause} in (${inList(CAUSES)})`),
    index('events_by_transaction').on(t.transactionNumber, t.id),
  ],
);

/** Every authenticated Razer request and the answer sent: replay source and audit trail. */
export const razerExchanges = pgTable(
  'razer_exchanges',
  {
    id: serialId(),
    transactionNumber: text('transaction_number'),
    endpoint: text('endpoint').notNull(),
    apiId: text('api_id').notNull(),
    method: text('method').notNull(),
    path: text('path').notNull(),
    requestHash: text('request_hash').notNull(),
    requestBody: text('request_body').notNull(),
    responseStatus: integer('response_status').notNull(),
    responseHeaders: json('response_headers').$type<Record<string, string>>().notNull(),
    responseBody: text('response_body').notNull(),
    receivedAt: epochMs('received_at').notNull(),
    respondedAt: epochMs('responded_at').notNull(),
  },
  (t) => [index('exchanges_by_transaction').on(t.transactionNumber, t.endpoint, t.id)],
);

/** Every call to Mitra and its reply, with the key and signature redacted. */
export const supplierCalls = pgTable(
  'supplier_calls',
  {
    id: serialId(),
    transactionNumber: text('transaction_number'),
    operation: text('operation').notNull(),
    method: text('method').notNull(),
    url: text('url').notNull(),
    requestBody: text('request_body'),
    httpStatus: integer('http_status'),
    replyBody: text('reply_body'),
    rcCode: text('rc_code'),
    outcome: text('outcome').notNull(),
    error: text('error'),
    startedAt: epochMs('started_at').notNull(),
    durationMs: bigint('duration_ms', { mode: 'number' }).notNull(),
    instanceId: text('instance_id'),
  },
  (t) => [
    index('supplier_calls_by_transaction').on(t.transactionNumber, t.id),
    index('supplier_calls_by_time').on(t.startedAt),
  ],
);

/** Webhooks as received, stored before anything else happens to them. */
export const webhookInbox = pgTable(
  'webhook_inbox',
  {
    id: serialId(),
    receivedAt: epochMs('received_at').notNull(),
    sourceIp: text('source_ip').notNull(),
    headers: json('headers').$type<Record<string, string>>().notNull(),
    body: text('body').notNull(),
    bodySha256: text('body_sha256').notNull(),
    kind: text('kind'),
    transactionRef: text('transaction_ref'),
    processedAt: epochMs('processed_at'),
    result: text('result'),
  },
  (t) => [index('webhooks_unprocessed').on(t.processedAt), index('webhooks_by_hash').on(t.bodySha256)],
);

export const catalogueBrands = pgTable('catalogue_brands', {
  brandKey: text('brand_key').primaryKey(),
  name: text('name').notNull(),
  // Null when the catalogue does not say.
  isVoucher: boolean('is_voucher'),
  isActive: boolean('is_active').notNull(),
  forms: json('forms').$type<CatalogueForm[]>().notNull(),
  fetchedAt: epochMs('fetched_at').notNull(),
});

export const catalogueVariations = pgTable(
  'catalogue_variations',
  {
    brandKey: text('brand_key').notNull(),
    variationKey: text('variation_key').notNull(),
    name: text('name').notNull(),
    price: bigint('price', { mode: 'number' }).notNull(),
    isActive: boolean('is_active').notNull(),
    fetchedAt: epochMs('fetched_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.brandKey, t.variationKey] })],
);

/** The last supplier balance read, shared by every instance (see the SQLite schema). */
export const supplierBalance = pgTable('supplier_balance', {
  supplier: text('supplier').primaryKey(),
  balanceIdr: bigint('balance_idr', { mode: 'number' }).notNull(),
  readAt: epochMs('read_at').notNull(),
  readBy: text('read_by'),
});

/** The daily summary: one row per day summarised (see the SQLite schema). */
export const dailySummaries = pgTable('daily_summaries', {
  day: text('day').primaryKey(),
  claimedBy: text('claimed_by').notNull(),
  // Epoch ms of the database's clock, as SQLite's: the claim is a compare-and-set against now().
  claimedUntil: epochMs('claimed_until').notNull(),
  attempts: integer('attempts').notNull().default(0),
  lastError: text('last_error'),
  sentAt: epochMs('sent_at'),
  sentBy: text('sent_by'),
});

// -- PostgreSQL only: coordination between instances, timed by the database's clock.

/** Which instance runs a periodic job until when. */
export const jobLeases = pgTable('job_leases', {
  name: text('name').primaryKey(),
  holder: text('holder').notNull(),
  until: timestamp('until', { withTimezone: true, mode: 'string' }).notNull(),
});

/** The shared supplier budget: one row per call, counted while it runs and a window after. */
export const rateSlots = pgTable(
  'rate_slots',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    startedAt: timestamp('started_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
    endedAt: timestamp('ended_at', { withTimezone: true, mode: 'string' }),
  },
  (t) => [index('rate_slots_ended').on(t.endedAt)],
);

/**
 * A move from SQLite (`gateway move-store`): a row `copying` is written before the first row is
 * copied and becomes `done` only once every table and every transaction was verified. A gateway
 * refuses to start on a database with a move still `copying`: a move killed midway leaves it so.
 */
export const storeMoves = pgTable('store_moves', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
  source: text('source').notNull(),
  state: text('state', { enum: ['copying', 'done'] }).notNull(),
  startedAt: epochMs('started_at').notNull(),
  finishedAt: epochMs('finished_at'),
  /** Rows per table and transactions verified, as the move printed them. */
  summary: json('summary').$type<Record<string, number>>(),
});

// -- Compile-time proof that rows read here have exactly the shapes of src/db/types.ts, which
// come from the SQLite schema: each adapter returns the same rows to the same callers.

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Assert<T extends true> = T;
type Row<T extends { $inferSelect: unknown }> = T['$inferSelect'];

export type SchemaMatchesSqlite = [
  Assert<Same<Omit<Row<typeof transactions>, 'leaseHolder' | 'leaseUntil'>, Row<typeof lite.transactions>>>,
  Assert<Same<Row<typeof transactionEvents>, Row<typeof lite.transactionEvents>>>,
  Assert<Same<Row<typeof razerExchanges>, Row<typeof lite.razerExchanges>>>,
  Assert<Same<Row<typeof supplierCalls>, Row<typeof lite.supplierCalls>>>,
  Assert<Same<Row<typeof webhookInbox>, Row<typeof lite.webhookInbox>>>,
  Assert<Same<Row<typeof catalogueBrands>, Row<typeof lite.catalogueBrands>>>,
  Assert<Same<Row<typeof catalogueVariations>, Row<typeof lite.catalogueVariations>>>,
  Assert<Same<Row<typeof dailySummaries>, Row<typeof lite.dailySummaries>>>,
  Assert<Same<Row<typeof supplierBalance>, Row<typeof lite.supplierBalance>>>,
];
