import type { Logger } from '../log.js';
import type { Store } from './store.js';
import type { NewExchange, NewSupplierCall, RepeatedQueries } from './types.js';

/**
 * Writes audit rows (Razer queries, supplier call records) in small batches, one commit per
 * batch instead of one per row; a query answered as before is only counted on its transaction. Only rows that record and change nothing go through here:
 * state moves, and the answers to init, top-up and cancel, are committed before the answer
 * is sent. A crash can lose at most the last `flushMs` of these rows, never a state. A batch
 * that cannot be written (disk full, busy) is kept and tried again, up to `maxPending` rows.
 */
export class AuditWriter {
  readonly #store: Store;
  readonly #logger: Logger;
  readonly #flushMs: number;
  readonly #maxPending: number;
  #exchanges: NewExchange[] = [];
  #calls: NewSupplierCall[] = [];
  #repeats = new Map<string, RepeatedQueries>();
  #timer: NodeJS.Timeout | null = null;
  #timerDelay = 0;
  #writing: Promise<boolean> | null = null;
  #failing = false;
  #closed = false;
  /** Rows dropped past the bound since the last error line said so. */
  #dropped = 0;

  readonly #countFlushMs: number;

  /**
   * Rows are written `flushMs` after the first is pending; counts of repeated queries alone
   * wait `countFlushMs`, as a commit (an fsync) every few milliseconds to add 1 to a counter
   * would cost a busy poll more than answering it.
   */
  constructor(store: Store, logger: Logger, flushMs = 10, maxPending = 50_000, countFlushMs = 1000) {
    this.#store = store;
    this.#logger = logger;
    this.#flushMs = flushMs;
    this.#maxPending = maxPending;
    this.#countFlushMs = countFlushMs;
  }

  exchange(row: NewExchange): void {
    this.#exchanges.push(row);
    this.#schedule();
  }

  /** A query answered exactly as an answer already recorded: added to its transaction's count. */
  repeatedQuery(transactionNumber: string, at: number): void {
    const known = this.#repeats.get(transactionNumber);
    if (known) {
      known.count += 1;
      known.lastAt = Math.max(known.lastAt, at);
      return;
    }
    this.#repeats.set(transactionNumber, { transactionNumber, count: 1, lastAt: at });
    this.#schedule(this.#countFlushMs);
  }

  supplierCall(row: NewSupplierCall): void {
    this.#calls.push(row);
    this.#schedule();
  }

  /** A last write before the database closes; no retry is left behind. */
  async close(): Promise<void> {
    if (!(await this.flush()))
      this.#logger.error(this.#pendingCounts(), 'audit rows lost at close: the database would not take them');
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  /** Rows waiting to be written. */
  pending(): number {
    return this.#exchanges.length + this.#calls.length + this.#repeats.size;
  }

  /** Writes what is pending now (after any write under way); false if it could not. */
  async flush(): Promise<boolean> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    // One write at a time keeps the rows in order.
    while (this.#writing) await this.#writing;
    if (this.pending() === 0) return true;
    this.#writing = this.#write();
    try {
      return await this.#writing;
    } finally {
      this.#writing = null;
    }
  }

  async #write(): Promise<boolean> {
    const exchanges = this.#exchanges;
    const calls = this.#calls;
    const repeats = this.#repeats;
    this.#exchanges = [];
    this.#calls = [];
    this.#repeats = new Map();
    try {
      await this.#store.writeAudit(exchanges, calls, [...repeats.values()]);
      // The request lines of these queries are at debug level: this line says they came.
      if (repeats.size > 0) this.#logger.info(repeatSummary(repeats), 'repeated queries counted');
      if (this.#failing)
        this.#logger.warn({ exchanges: exchanges.length, calls: calls.length }, 'audit rows written again');
      this.#failing = false;
      return true;
    } catch (err) {
      // Kept in order, ahead of what came since; the oldest go first only past the bound.
      this.#exchanges = exchanges.concat(this.#exchanges);
      this.#calls = calls.concat(this.#calls);
      for (const [n, r] of this.#repeats) {
        const earlier = repeats.get(n);
        if (earlier) {
          earlier.count += r.count;
          earlier.lastAt = Math.max(earlier.lastAt, r.lastAt);
        } else repeats.set(n, r);
      }
      this.#repeats = repeats;
      this.#trim();
      if (!this.#failing || this.#dropped > 0)
        this.#logger.error(
          { err, ...this.#pendingCounts(), dropped: this.#dropped },
          'audit rows could not be written; kept and tried again',
        );
      this.#dropped = 0;
      this.#failing = true;
      if (!this.#closed) {
        this.#timer = setTimeout(() => void this.flush(), 1000);
        this.#timer.unref();
      }
      return false;
    }
  }

  /** What is waiting, for the log: a count entry holds many queries. */
  #pendingCounts() {
    let repeatedQueries = 0;
    for (const r of this.#repeats.values()) repeatedQueries += r.count;
    return { exchanges: this.#exchanges.length, calls: this.#calls.length, repeatedQueries };
  }

  /** Drops the oldest rows past the bound; the next error line reports them. */
  #trim(): void {
    const over = this.pending() - this.#maxPending;
    if (over <= 0) return;
    this.#dropped += over;
    const fromExchanges = Math.min(over, this.#exchanges.length);
    this.#exchanges.splice(0, fromExchanges);
    const fromCalls = Math.min(over - fromExchanges, this.#calls.length);
    this.#calls.splice(0, fromCalls);
    let fromRepeats = over - fromExchanges - fromCalls;
    for (const n of this.#repeats.keys()) {
      if (fromRepeats-- <= 0) break;
      this.#repeats.delete(n);
    }
  }

  #schedule(delayMs = this.#flushMs): void {
    if (this.#failing) {
      this.#trim();
      return; // the retry timer is set
    }
    if (this.pending() >= 200 && !this.#writing) void this.flush();
    else if (this.#timer === null || delayMs < this.#timerDelay) {
      // A row arriving while only counts wait brings the write forward.
      if (this.#timer) clearTimeout(this.#timer);
      this.#timer = setTimeout(() => void this.flush(), delayMs);
      this.#timerDelay = delayMs;
    }
  }
}

/** Transactions listed by name in a summary line, the most queried; the rest are only counted. */
export const SUMMARY_LISTS = 20;

/** What a summary line of counted repeated queries says: how many, and the most queried transactions. */
export function repeatSummary(repeats: ReadonlyMap<string, RepeatedQueries>) {
  let queries = 0;
  // Kept sorted, most first, at most SUMMARY_LISTS: one pass, no sort of the whole map.
  const listed: { transactionNumber: string; count: number }[] = [];
  for (const { transactionNumber, count } of repeats.values()) {
    queries += count;
    if (listed.length === SUMMARY_LISTS && (listed.at(-1)?.count ?? 0) >= count) continue;
    let at = listed.findIndex((l) => l.count < count);
    if (at === -1) at = listed.length;
    listed.splice(at, 0, { transactionNumber, count });
    if (listed.length > SUMMARY_LISTS) listed.pop();
  }
  return { transactions: repeats.size, queries, listed };
}
