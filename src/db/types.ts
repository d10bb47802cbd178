import type {
  catalogueBrands,
  catalogueVariations,
  razerExchanges,
  supplierCalls,
  transactionEvents,
  transactions,
  webhookInbox,
} from './sqlite/schema.js';
import type { StoredCause, StoredState } from './vocabulary.js';

// The rows every adapter reads and writes. Taken from the SQLite schema; the PostgreSQL
// schema is checked against them at compile time (src/db/postgres/schema.ts).

export type TransactionRow = typeof transactions.$inferSelect;
export type NewTransaction = typeof transactions.$inferInsert;
export type TransactionEventRow = typeof transactionEvents.$inferSelect;
export type ExchangeRow = typeof razerExchanges.$inferSelect;
export type NewExchange = typeof razerExchanges.$inferInsert;
export type SupplierCallRow = typeof supplierCalls.$inferSelect;
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
