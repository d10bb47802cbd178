import type { Store } from './store.js';
import type { AuditTable, PruneCounts } from './types.js';

export const DEFAULT_RETENTION_DAYS = 90;
export const DAY_MS = 86_400_000;
/** Rows per DELETE: each batch is its own short write, so Razer's requests wait little. */
export const DEFAULT_PRUNE_BATCH = 2_000;

/** The `before` of a prune that keeps `days` days of records up to `now` (epoch ms). */
export function retentionCutoff(now: number, days: number): number {
  return now - days * DAY_MS;
}

export interface PruneOptions {
  /** Epoch ms: only records older than this go. */
  before: number;
  batchSize?: number;
  /** Between batches (the running gateway gives the event loop back); a rejection ends the run. */
  pause?: () => Promise<void>;
  /** Told the running counts after each batch. */
  progress?: (counts: PruneCounts) => void;
}

/**
 * Deletes old audit records one batch at a time (a read, then one DELETE committed on its
 * own). Never touches `transactions`, `transaction_events`, nor any record of a transaction
 * that is not final, nor the init a replay is answered from.
 */
export async function pruneAuditRecords(store: Store, options: PruneOptions): Promise<PruneCounts> {
  const { before, batchSize = DEFAULT_PRUNE_BATCH } = options;
  if (!Number.isFinite(before)) throw new RangeError(`before must be a time in epoch ms, got ${before}`);
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`batchSize must be a whole number of at least 1, got ${batchSize}`);
  }
  const counts: PruneCounts = { exchanges: 0, supplierCalls: 0, webhooks: 0 };
  const tables: AuditTable[] = ['exchanges', 'supplierCalls', 'webhooks'];
  for (const table of tables) {
    // An id cursor: rows kept by one batch are not scanned again by the next.
    let afterId = 0;
    for (;;) {
      if (options.pause) await options.pause();
      const step = await store.pruneBatch(table, before, afterId, batchSize);
      if (step.found === 0) break;
      counts[table] += step.deleted;
      afterId = step.lastId;
      options.progress?.({ ...counts });
      if (step.found < batchSize) break;
    }
  }
  return counts;
}
