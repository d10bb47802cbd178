import { sql } from 'drizzle-orm';
import { check, index, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import type { FormField } from '../../config/form-data.js';
import type { CatalogueForm } from '../types.js';
import { EVENT_CAUSES as CAUSES, OPEN_STATES, TRANSACTION_STATES as STATES } from '../vocabulary.js';

// Times are Unix epoch milliseconds from the injected clock; money is whole IDR, except a
// revenue's own amount (minor units of its currency) and its rate (IDR per unit, times 1e6).

const inList = (values: readonly string[]) => sql.raw(values.map((v) => `'${v}'`).join(', '));

/** One row per Razer transactionNumber. */
export const transactions = sqliteTable(
  'transactions',
  {
    transactionNumber: text('transaction_number').primaryKey(),
    apiId: text('api_id').notNull(),
    sku: text('sku').notNull(),
    // What init validated, kept so that a mapping edit between init and top-up changes nothing.
    brandKey: text('brand_key').notNull(),
    variationKey: text('variation_key').notNull(),
    maxPrice: integer('max_price').notNull(),
    isVoucher: integer('is_voucher', { mode: 'boolean' }).notNull().default(false),
    accountId: text('account_id').notNull(),
    supplierData: text('supplier_data', { mode: 'json' }).$type<FormField[]>().notNull(),
    razerId: text('razer_id'),
    userIp: text('user_ip'),
    countryCode: text('country_code'),
    customParam: text('custom_param', { mode: 'json' }).$type<Record<string, string>>(),
    state: text('state', { enum: STATES }).notNull(),
    token: text('token').notNull(),
    // The idempotency key toward Mitra: derived from transactionNumber, never reused.
    refId: text('ref_id').notNull().unique(),
    trxCode: text('trx_code'),
    orderAttempts: integer('order_attempts').notNull().default(0),
    // Create-orders sent again to resolve UNKNOWN (capped); sends refused as "not taken" do not count.
    resends: integer('resends').notNull().default(0),
    priceOffered: integer('price_offered'),
    pricePaid: integer('price_paid'),
    voucherCode: text('voucher_code'),
    failureCode: text('failure_code'),
    failureReason: text('failure_reason'),
    expiresAt: integer('expires_at').notNull(),
    deadlineAt: integer('deadline_at'),
    // When Razer's top-up queued it: how long a paid purchase has waited is counted from here.
    // Null before the top-up, and on rows already final when the column came (migration).
    toppedUpAt: integer('topped_up_at'),
    nextCheckAt: integer('next_check_at'),
    checks: integer('checks').notNull().default(0),
    attention: integer('attention', { mode: 'boolean' }).notNull().default(false),
    attentionReason: text('attention_reason'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
    // Queries answered exactly as an answer already recorded: counted here, not stored each time.
    queriesRepeated: integer('queries_repeated').notNull().default(0),
    lastQueriedAt: integer('last_queried_at'),
    // What a per-account daily limit counts by: the supplier account, normalised (the rules'
    // limitKey). Null on rows written before it was; those count by account_id.
    limitKey: text('limit_key'),
    // What the sale earns if delivered, recorded at init from the mapping and its rates then in
    // force, so that a later edit of either changes no recorded sale. All null when the SKU had
    // no revenue, and on rows written before they were kept: "not recorded".
    // The amount in its currency's minor units (ISO 4217: 99 for 0.99 USD), and the currency.
    revenueMinor: integer('revenue_minor'),
    revenueCurrency: text('revenue_currency'),
    // The rate used: IDR per unit of the currency times 1,000,000 (1,000,000 for IDR), and the
    // day it was set (null for IDR).
    revenueRateE6: integer('revenue_rate_e6'),
    revenueRateSet: text('revenue_rate_set'),
    // The amount at that rate in whole IDR, rounded half up, computed in integers.
    revenueIdr: integer('revenue_idr'),
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

/** Append-only history: one row per state move, written in the move's SQLite transaction. */
export const transactionEvents = sqliteTable(
  'transaction_events',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    transactionNumber: text('transaction_number')
      .notNull()
      .references(() => transactions.transactionNumber),
    fromState: text('from_state', { enum: STATES }).notNull(),
    toState: text('to_state', { enum: STATES }).notNull(),
    cause: text('cause', { enum: CAUSES }).notNull(),
    detail: text('detail'),
    at: integer('at').notNull(),
    // Which gateway process made the move (INSTANCE_ID).
    instanceId: text('instance_id'),
    // Who made an operator's move; null for the gateway's own.
    actor: text('actor'),
  },
  (t) => [
    check('events_cause_valid', sql`${t.cause} in (${inList(CAUSES)})`),
    index('events_by_transaction').on(t.transactionNumber, t.id),
  ],
);

/** Every authenticated Razer request and the answer sent: replay source and audit trail. */
export const razerExchanges = sqliteTable(
  'razer_exchanges',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    // No foreign key: a request about an unknown transaction is kept too.
    transactionNumber: text('transaction_number'),
    endpoint: text('endpoint').notNull(),
    apiId: text('api_id').notNull(),
    method: text('method').notNull(),
    path: text('path').notNull(),
    requestHash: text('request_hash').notNull(),
    requestBody: text('request_body').notNull(),
    responseStatus: integer('response_status').notNull(),
    responseHeaders: text('response_headers', { mode: 'json' }).$type<Record<string, string>>().notNull(),
    responseBody: text('response_body').notNull(),
    receivedAt: integer('received_at').notNull(),
    respondedAt: integer('responded_at').notNull(),
  },
  (t) => [index('exchanges_by_transaction').on(t.transactionNumber, t.endpoint, t.id)],
);

/** Every call to Mitra and its reply, with the key and signature redacted. */
export const supplierCalls = sqliteTable(
  'supplier_calls',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
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
    startedAt: integer('started_at').notNull(),
    durationMs: integer('duration_ms').notNull(),
    instanceId: text('instance_id'),
  },
  (t) => [
    index('supplier_calls_by_transaction').on(t.transactionNumber, t.id),
    index('supplier_calls_by_time').on(t.startedAt),
  ],
);

/** Webhooks as received, stored before anything else happens to them. */
export const webhookInbox = sqliteTable(
  'webhook_inbox',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    receivedAt: integer('received_at').notNull(),
    sourceIp: text('source_ip').notNull(),
    headers: text('headers', { mode: 'json' }).$type<Record<string, string>>().notNull(),
    body: text('body').notNull(),
    bodySha256: text('body_sha256').notNull(),
    kind: text('kind'),
    transactionRef: text('transaction_ref'),
    processedAt: integer('processed_at'),
    result: text('result'),
  },
  (t) => [index('webhooks_unprocessed').on(t.processedAt), index('webhooks_by_hash').on(t.bodySha256)],
);

export const catalogueBrands = sqliteTable('catalogue_brands', {
  brandKey: text('brand_key').primaryKey(),
  name: text('name').notNull(),
  // Null when the catalogue does not say.
  isVoucher: integer('is_voucher', { mode: 'boolean' }),
  isActive: integer('is_active', { mode: 'boolean' }).notNull(),
  forms: text('forms', { mode: 'json' }).$type<CatalogueForm[]>().notNull(),
  fetchedAt: integer('fetched_at').notNull(),
});

export const catalogueVariations = sqliteTable(
  'catalogue_variations',
  {
    brandKey: text('brand_key').notNull(),
    variationKey: text('variation_key').notNull(),
    name: text('name').notNull(),
    price: integer('price').notNull(),
    isActive: integer('is_active', { mode: 'boolean' }).notNull(),
    fetchedAt: integer('fetched_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.brandKey, t.variationKey] })],
);

/**
 * The last supplier balance read, shared by every instance: only the one holding the polling turn
 * asks Mitra, and the others judge inits by what it read. One row per supplier.
 */
export const supplierBalance = sqliteTable('supplier_balance', {
  supplier: text('supplier').primaryKey(),
  balanceIdr: integer('balance_idr').notNull(),
  // When it was read (epoch ms, the reader's clock), and by which instance.
  readAt: integer('read_at').notNull(),
  readBy: text('read_by'),
});

/**
 * The daily summary (src/admin/daily-summary.ts), one row per day summarised: who is sending it
 * until when, and whether it went. Sent once per day whatever the number of gateways.
 */
export const dailySummaries = sqliteTable('daily_summaries', {
  // YYYY-MM-DD at REPORT_UTC_OFFSET: the day summarised.
  day: text('day').primaryKey(),
  // Who took it last, and until when (epoch ms, the database's clock): a sender that died is
  // replaced once this has passed. A failed send gives it up at once.
  claimedBy: text('claimed_by').notNull(),
  claimedUntil: integer('claimed_until').notNull(),
  // Sends tried, the last failure's reason, and when it was delivered (epoch ms, the gateway's
  // clock) and by whom; null until it was.
  attempts: integer('attempts').notNull().default(0),
  lastError: text('last_error'),
  sentAt: integer('sent_at'),
  sentBy: text('sent_by'),
});
