import type {
  catalogueBrands,
  catalogueVariations,
  dailySummaries,
  razerExchanges,
  supplierBalance,
  supplierCalls,
  transactionEvents,
  transactions,
  webhookInbox,
} from './sqlite/schema.js';
import type { OpenState, StoredCause, StoredState } from './vocabulary.js';

// The rows every adapter reads and writes. Taken from the SQLite schema; the PostgreSQL
// schema is checked against them at compile time (src/db/postgres/schema.ts).

export type TransactionRow = typeof transactions.$inferSelect;
export type NewTransaction = typeof transactions.$inferInsert;
/** A transaction as an init creates it: always with the key its per-account limit counts by. */
export type NewInitiated = NewTransaction & { limitKey: string };
export type TransactionEventRow = typeof transactionEvents.$inferSelect;
export type ExchangeRow = typeof razerExchanges.$inferSelect;
export type NewExchange = typeof razerExchanges.$inferInsert;
export type SupplierCallRow = typeof supplierCalls.$inferSelect;
/** The daily summary of one day: who sends it until when, and whether it was sent. */
export type DailySummaryRow = typeof dailySummaries.$inferSelect;
/** The last supplier balance read, by the instance that read it. */
export type SupplierBalanceRow = typeof supplierBalance.$inferSelect;
/**
 * Whose purchases a per-account limit counts: the rows of this limit key (the same supplier
 * account, however Razer spelled it) or of this accountId (as counted before limit keys, rows
 * without one included): the count is never looser than by accountId alone.
 */
export interface LimitAccount {
  limitKey: string;
  accountId: string;
}

/**
 * Daily purchase limits checked again by the insert itself, atomically with it: counted before,
 * in another step, concurrent inits of one account could all pass. Null: no limit.
 */
export interface PurchaseLimits {
  since: number;
  perAccount: number | null;
  perSku: number | null;
}

export interface FlagCondition {
  clear?: boolean;
  inState?: StoredState;
}

/**
 * Open purchases with the same state, charged-or-not and prices, counted together: what the
 * store gives the balance guard (a few groups, however many rows).
 */
export interface OpenCommitment {
  state: StoredState;
  /** Mitra gave the order a trx code: it accepted it, and so charged it. */
  hasTrxCode: boolean;
  priceOffered: number | null;
  maxPrice: number;
  count: number;
}

export type InitInsert = 'created' | 'exists' | 'over-account-limit' | 'over-sku-limit';

/**
 * A note on a purchase's history written with its init, as an INITIATED -> INITIATED event of
 * cause razer: which supplier option a SKU with backups sells through, and why.
 */
export interface InitEvent {
  detail: string;
}

/** Queries of one transaction answered as before, since the last write: a count, not rows. */
export interface RepeatedQueries {
  transactionNumber: string;
  count: number;
  lastAt: number;
}
export type NewSupplierCall = Omit<typeof supplierCalls.$inferInsert, 'id' | 'instanceId'>;
export type WebhookRow = typeof webhookInbox.$inferSelect;
export type NewWebhook = typeof webhookInbox.$inferInsert;
export type CachedBrand = typeof catalogueBrands.$inferSelect;
export type CachedVariation = typeof catalogueVariations.$inferSelect;

export interface CatalogueForm {
  key: string;
  type: string;
  alias?: string | undefined;
  options?: string[] | undefined;
}

export interface BrandInput {
  brandKey: string;
  name: string;
  isVoucher: boolean | null;
  isActive: boolean;
  forms: CatalogueForm[];
}

export interface VariationInput {
  variationKey: string;
  name: string;
  price: number;
  isActive: boolean;
}

/** Columns a move may set besides the state; identity columns are never rewritten. */
export type MovePatch = Partial<
  Omit<TransactionRow, 'transactionNumber' | 'refId' | 'state' | 'createdAt' | 'updatedAt' | 'token'>
>;

export interface Move {
  transactionNumber: string;
  from: StoredState;
  to: StoredState;
  cause: StoredCause;
  detail?: string | undefined;
  at: number;
  patch?: MovePatch | undefined;
  /**
   * Also require that no create-order was ever sent. A state alone is not enough: QUEUED can
   * be left and re-entered (ORDERING -> QUEUED on a rate limit) between a read and a write.
   */
  neverSent?: boolean | undefined;
  /** Also require that this step still holds the row's lease: a step taken over writes nothing. */
  lease?: string | undefined;
  /** Who made an operator's move (the X-Operator header, or `admin`); recorded on its event. */
  actor?: string | undefined;
}

export type MoveResult =
  | { ok: true; row: TransactionRow }
  | { ok: false; reason: 'stale'; current: StoredState }
  | { ok: false; reason: 'lost-lease' }
  | { ok: false; reason: 'missing' };

export interface PruneCounts {
  exchanges: number;
  supplierCalls: number;
  webhooks: number;
}

export type AuditTable = keyof PruneCounts;

/** One batch of a prune: how many ids were looked at, how many went, the last id looked at. */
export interface PruneBatch {
  found: number;
  deleted: number;
  lastId: number;
}

/** A slot of the shared supplier budget, or how long to wait before asking again. */
export type RateSlot = { granted: true; id: number } | { granted: false; retryInMs: number };

export interface SharedBudget {
  limit: number;
  /** Window plus margin, in ms: a call holds its slot this long after it ends. */
  windowMs: number;
  /** A call never lasts longer: an unfinished slot of a dead instance ends here. */
  longestCallMs: number;
}

/**
 * Where an operator's list of transactions resumes: after this row in the listing order
 * (flagged first, then the other open ones, oldest first; then final ones, newest first).
 */
export interface TransactionCursor {
  /** 0 flagged (any state), 1 not final, 2 final. */
  rank: 0 | 1 | 2;
  /** created_at for ranks 0 and 1, -created_at for rank 2: ascending in every rank. */
  key: number;
  transactionNumber: string;
}

export interface TransactionQuery {
  states?: readonly StoredState[] | undefined;
  /** true: flagged only; false: not flagged only. */
  attention?: boolean | undefined;
  sku?: string | undefined;
  /** created_at >= since (epoch ms). */
  since?: number | undefined;
  /** created_at < until (epoch ms). */
  until?: number | undefined;
  /** Exactly a transaction number, a ref_id or a trx_code. */
  q?: string | undefined;
  limit: number;
  after?: TransactionCursor | undefined;
}

export interface TransactionPage {
  items: TransactionRow[];
  /** Where the next page starts; null when this one is the last. */
  next: TransactionCursor | null;
}

export interface TransactionCounts {
  byState: Record<StoredState, number>;
  /** Flagged for an operator, any state. */
  attention: number;
}

/**
 * When the longest-waiting transaction of each open state started waiting (epoch ms), null when
 * none is in it: INITIATED since its init (created_at), the others since their top-up.
 */
export type OldestOpen = Record<'INITIATED' | OpenState, number | null>;

/** A place in the open purchases ordered by top-up time, then transaction number. */
export interface TopUpCursor {
  toppedUpAt: number;
  transactionNumber: string;
}

export interface OpenByTopUpQuery {
  /** Only purchases after this one in (topped_up_at, transaction_number) order. */
  after: TopUpCursor;
  /** Only purchases topped up at or before this time (epoch ms). */
  through: number;
  limit: number;
  /** Those past the page are counted up to this many, no further. */
  countUpTo: number;
}

/** An open, topped-up purchase: no more than a listing of them needs. */
export interface OpenPurchase {
  transactionNumber: string;
  state: OpenState;
  toppedUpAt: number;
  attention: boolean;
}

export interface OpenPurchasePage {
  items: OpenPurchase[];
  /** How many more match past this page, counted up to the query's countUpTo. */
  more: number;
}

/** How many transactions in `state` were created in the hour starting at `hour`. */
export interface HourlyCount {
  /** The hour's start, epoch ms (UTC: a multiple of 3,600,000). */
  hour: number;
  state: StoredState;
  /** Always above 0: empty buckets are not listed. */
  count: number;
}

export interface WebhookQuery {
  /** true: processed only; false: not processed yet only. */
  processed?: boolean | undefined;
  kind?: string | undefined;
  /** The transaction number a webhook was matched to. */
  transactionRef?: string | undefined;
  since?: number | undefined;
  until?: number | undefined;
  limit: number;
  /** Newest first: ids below this one. */
  beforeId?: number | undefined;
}

export interface WebhookPage {
  items: WebhookRow[];
  next: number | null;
}
