import type { SaleRow, SalesGroup, SalesGroupQuery, SalesPageQuery } from './sales.js';
import type {
  AuditTable,
  BrandInput,
  CachedBrand,
  CachedVariation,
  DailySummaryRow,
  ExchangeRow,
  FlagCondition,
  HourlyCount,
  InitEvent,
  InitInsert,
  LimitAccount,
  Move,
  MovePatch,
  MoveResult,
  NewExchange,
  NewInitiated,
  NewSupplierCall,
  NewTransaction,
  NewWebhook,
  OldestOpen,
  OpenByTopUpQuery,
  OpenCommitment,
  OpenPurchasePage,
  PruneBatch,
  PurchaseLimits,
  RateSlot,
  RepeatedQueries,
  SharedBudget,
  SupplierBalanceRow,
  SupplierCallRow,
  TransactionCounts,
  TransactionEventRow,
  TransactionPage,
  TransactionQuery,
  TransactionRow,
  VariationInput,
  WebhookPage,
  WebhookQuery,
  WebhookRow,
} from './types.js';
import type { StoredState } from './vocabulary.js';

export type Dialect = 'sqlite' | 'postgres';

/**
 * The storage port: every database access of the gateway goes through here, whichever
 * database runs. Times passed in are the caller's clock (epoch ms); leases, job locks and the
 * shared rate budget are timed by the database itself, so that instances whose clocks differ
 * agree on them.
 */
export interface Store {
  readonly dialect: Dialect;
  /** Recorded on the events and supplier calls this process writes. */
  readonly instanceId: string;

  // -- transactions
  getTransaction(transactionNumber: string): Promise<TransactionRow | undefined>;
  insertTransaction(row: NewTransaction): Promise<TransactionRow>;
  listEvents(transactionNumber: string): Promise<TransactionEventRow[]>;
  /**
   * One state move and its event in one database transaction: a compare-and-set on `from`
   * (and on the lease, when the move names one). Whoever moved first wins; the loser writes
   * nothing. Every successful move into a final state is announced to `onFinal` listeners of
   * every instance.
   */
  moveTransaction(move: Move): Promise<MoveResult>;
  /** Updates columns of a transaction still in `state` (and under `lease`, if given), without a move. */
  patchTransaction(
    transactionNumber: string,
    state: StoredState,
    patch: MovePatch,
    at: number,
    lease?: string,
  ): Promise<boolean>;
  /** Purchases of `sku` after `since` that were not refused, cancelled or expired; of `account`, unless null. */
  countRecentPurchases(query: { sku: string; account: LimitAccount | null; since: number }): Promise<number>;
  /** The transaction a supplier reference names: our ref_id, or Mitra's trx_code. */
  findBySupplierRef(ref: string): Promise<TransactionRow | undefined>;
  /** One page of the transactions in `state`, by transaction number after `after`. */
  listInState(state: StoredState, limit?: number, after?: string): Promise<TransactionRow[]>;
  listExpiredInitiated(now: number, limit: number): Promise<TransactionRow[]>;
  /** Open transactions past their deadline that no operator has been told of yet. */
  listOverdue(now: number, limit: number): Promise<TransactionRow[]>;
  /** An operator's listing: filtered, in the cursor's order, one page. */
  pageTransactions(query: TransactionQuery): Promise<TransactionPage>;
  /** How many transactions are in each state, and how many are flagged. */
  countTransactions(): Promise<TransactionCounts>;
  /**
   * When the longest-waiting transaction of each open state started waiting: INITIATED by
   * created_at, QUEUED, ORDERING, PROCESSING and UNKNOWN by topped_up_at. One statement, a few
   * index lookups whatever the number of rows.
   */
  oldestOpen(): Promise<OldestOpen>;
  /**
   * Open topped-up transactions (QUEUED, ORDERING, PROCESSING, UNKNOWN) counted by state,
   * whether they have a trx code, price_offered and max_price: what the balance guard judges.
   */
  openCommitments(): Promise<OpenCommitment[]>;
  /**
   * Open topped-up transactions (QUEUED, ORDERING, PROCESSING, UNKNOWN) after `after` and topped
   * up at or before `through`, oldest top-up first (then by number): one page, and how many more.
   * Reads about `limit` index entries per state, however many match.
   */
  listOpenByTopUp(query: OpenByTopUpQuery): Promise<OpenPurchasePage>;
  /**
   * Gives the open topped-up transactions that have no topped_up_at (topped up by a version that
   * did not record it, during a rolling upgrade or after a roll back) `deadline_at - deadlineMs`,
   * the deadline such a version gave at top-up. Returns how many were filled.
   */
  fillTopUpTimes(deadlineMs: number): Promise<number>;
  /**
   * Transactions created in [since, until), counted per hour of created_at (epoch ms, floored
   * to the hour, UTC) and state: only buckets with a count above 0, ordered by hour, then by
   * state name.
   */
  purchasesByHour(since: number, until: number): Promise<HourlyCount[]>;
  /**
   * The transactions created in the range, per day (at an offset) or per SKU, grouped with rows
   * alike in state, trx code and which figures they recorded, with exact integer sums: what the
   * sales reports apply the profit rule to. One read of the range.
   */
  salesGroups(query: SalesGroupQuery): Promise<SalesGroup[]>;
  /** One page of the transactions created in the range, in (created_at, number) order: the CSV export. */
  salesPage(query: SalesPageQuery): Promise<SaleRow[]>;
  /**
   * Raises the operator flag (any state); `when.clear`: only when not raised yet; `when.inState`:
   * only while the row is still in that state, checked in the same write. True if it was set.
   */
  flagForOperator(
    transactionNumber: string,
    reason: string,
    at: number,
    when?: FlagCondition,
  ): Promise<boolean>;

  // -- one step at a time per transaction, across instances
  /**
   * Takes the row's lease for `ttlMs` of database time unless someone else holds it unexpired:
   * the row as it is once held (a step starts from it without reading it again), or null.
   */
  claimStep(transactionNumber: string, holder: string, ttlMs: number): Promise<TransactionRow | null>;
  /** Extends a lease still held (before a second supplier call of the same step). */
  renewStep(transactionNumber: string, holder: string, ttlMs: number): Promise<boolean>;
  releaseStep(transactionNumber: string, holder: string): Promise<void>;
  /**
   * Claims up to `limit` open transactions whose next check is due (`now`, caller's clock)
   * and whose lease is free, under `holder`; rows another instance is claiming are skipped.
   */
  claimDue(now: number, limit: number, holder: string, ttlMs: number): Promise<TransactionRow[]>;

  // -- Razer exchanges
  recordExchange(exchange: NewExchange): Promise<void>;
  /** The init exchange that created a transaction: the one every repeat is compared with. */
  findCreatingInit(transactionNumber: string): Promise<ExchangeRow | undefined>;
  /**
   * Creates the transaction and stores its init answer in one database transaction; refuses it,
   * atomically with the insert, when it would pass a daily limit of `limits` (counted as
   * countRecentPurchases does, the account by the row's limitKey and accountId).
   */
  insertInitiated(
    row: NewInitiated,
    exchange: NewExchange,
    limits?: PurchaseLimits,
    /** Written with the row, in the same database transaction (see InitEvent). */
    initEvent?: InitEvent,
  ): Promise<InitInsert>;
  listExchanges(transactionNumber: string): Promise<ExchangeRow[]>;

  // -- supplier calls
  recordSupplierCall(call: NewSupplierCall): Promise<void>;
  listSupplierCalls(transactionNumber: string): Promise<SupplierCallRow[]>;
  /** When each call that ended at or after `since` ended (epoch ms). */
  listCallEndsSince(since: number, longestCallMs: number): Promise<number[]>;
  /**
   * The newest call started at or after `since` by an instance other than `instanceId` (one
   * without an instance id included): whether another process is calling Mitra from here.
   */
  lastCallOfOtherInstance(
    instanceId: string,
    since: number,
  ): Promise<{ instanceId: string | null; startedAt: number } | null>;
  /** Audit rows, and counts of repeated queries added to their transactions, in one commit. */
  writeAudit(
    exchanges: readonly NewExchange[],
    calls: readonly NewSupplierCall[],
    repeats?: readonly RepeatedQueries[],
  ): Promise<void>;

  // -- webhooks
  storeWebhook(webhook: NewWebhook): Promise<number>;
  getWebhook(id: number): Promise<WebhookRow | undefined>;
  markWebhook(
    id: number,
    outcome: { kind: string; transactionRef: string | null; result: string },
    at: number,
  ): Promise<void>;
  listUnprocessedWebhooks(limit?: number, afterId?: number): Promise<WebhookRow[]>;
  listWebhooks(limit?: number): Promise<WebhookRow[]>;
  /** An operator's listing of webhooks, newest first, filtered, one page. */
  pageWebhooks(query: WebhookQuery): Promise<WebhookPage>;

  // -- catalogue cache
  replaceBrands(brands: readonly BrandInput[], at: number): Promise<void>;
  replaceVariations(brandKey: string, variations: readonly VariationInput[], at: number): Promise<void>;
  getBrand(brandKey: string): Promise<CachedBrand | undefined>;
  getVariation(brandKey: string, variationKey: string): Promise<CachedVariation | undefined>;
  /** When the brand list, and the stalest variation list of `brandKeys` (all when absent), were fetched. */
  catalogueFetchedAt(
    brandKeys?: readonly string[],
  ): Promise<{ brands: number | null; oldestVariations: number | null }>;

  // -- retention
  /**
   * Deletes one batch of prunable audit rows of `table` with ids after `afterId` (older than
   * `before`, of final transactions; never a creating init): a read, then one short delete.
   */
  pruneBatch(table: AuditTable, before: number, afterId: number, size: number): Promise<PruneBatch>;

  // -- coordination between instances
  /** A periodic job's turn: true when this holder may run `name` for the next `ttlMs`. */
  tryJobLease(name: string, holder: string, ttlMs: number): Promise<boolean>;
  /** The supplier budget shared by every instance, or null where there is one instance only. */
  rateBudget(budget: SharedBudget): SharedRateBudget | null;
  /**
   * Keeps the supplier balance this instance read (`at`, its clock) for every instance: only the
   * one holding the polling turn asks Mitra, the others judge inits by this. The last write wins.
   */
  saveBalance(idr: number, at: number): Promise<void>;
  /** The last supplier balance any instance read (see saveBalance), or undefined. */
  lastBalance(): Promise<SupplierBalanceRow | undefined>;
  /**
   * Called with the transaction number of every move into a final state, made by this instance
   * or another (top-ups wait for nothing else). At most once per move; a notice can be lost
   * (a dropped listening connection), so waiters also poll.
   */
  onFinal(listener: (transactionNumber: string) => void): () => void;

  // -- the daily summary: sent once per day, whatever the number of instances
  /**
   * Takes the sending of `day`'s summary for `ttlMs` of database time: true unless it was sent
   * already or another claim on it has not run out. One compare-and-set; counts the attempt.
   */
  claimDailySummary(day: string, holder: string, ttlMs: number): Promise<boolean>;
  /**
   * Records `day`'s summary as delivered (`at`, caller's clock) unless it was recorded already:
   * true when this call recorded it. Recorded whoever holds the claim now: it was delivered.
   */
  markDailySummarySent(day: string, holder: string, at: number): Promise<boolean>;
  /** A send of `holder` failed: its claim ends now, so any instance may try again, and `reason` is kept. */
  releaseDailySummary(day: string, holder: string, reason: string): Promise<void>;
  /** `day`'s row: who claimed it, the attempts, whether it was sent. */
  getDailySummary(day: string): Promise<DailySummaryRow | undefined>;

  // -- life
  /** Proves the database accepts writes now. */
  checkWritable(): Promise<void>;
  /** Applies pending migrations (once, whoever else starts at the same time); how many ran. */
  migrate(): Promise<number>;
  close(): Promise<void>;
}

export interface SharedRateBudget {
  /** A slot now, or how long to wait. The slot's call counts from now, in database time. */
  take(): Promise<RateSlot>;
  /** The call is over: its slot counts one window more from now. */
  end(id: number): Promise<void>;
}
