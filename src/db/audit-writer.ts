import type { Logger } from '../log.js';
import type { Store } from './store.js';
import type { NewExchange, NewSupplierCall } from './types.js';

/**
 * Writes audit rows (Razer queries, supplier call records) in small batches, one commit per
 * batch instead of one per row. Only rows that record and change nothing go through here:
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
  #timer: NodeJS.Timeout | null = null;
  #writing: Promise<boolean> | null = null;
  #failing = false;
  #closed = false;

  constructor(store: Store, logger: Logger, flushMs = 10, maxPending = 50_000) {
    this.#store = store;
    this.#logger = logger;
    this.#flushMs = flushMs;
    this.#maxPending = maxPending;
  }

  exchange(row: NewExchange): void {
    this.#exchanges.push(row);
    this.#schedule();
  }

  supplierCall(row: NewSupplierCall): void {
    this.#calls.push(row);
    this.#schedule();
  }

  /** A last write before the database closes; no retry is left behind. */
  async close(): Promise<void> {
    await this.flush();
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  /** Rows waiting to be written. */
  pending(): number {
    return this.#exchanges.length + this.#calls.length;
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
    this.#exchanges = [];
    this.#calls = [];
    try {
      await this.#store.writeAudit(exchanges, calls);
      if (this.#failing)
        this.#logger.warn({ exchanges: exchanges.length, calls: calls.length }, 'audit rows written again');
      this.#failing = false;
      return true;
    } catch (err) {
      // Kept in order, ahead of what came since; the oldest go first only past the bound.
      this.#exchanges = exchanges.concat(this.#exchanges);
      this.#calls = calls.concat(this.#calls);
      const dropped = this.#trim();
      if (!this.#failing || dropped > 0)
        this.#logger.error(
          { err, exchanges: this.#exchanges.length, calls: this.#calls.length, dropped },
          'audit rows could not be written; kept and tried again',
        );
      this.#failing = true;
      if (!this.#closed) {
        this.#timer = setTimeout(() => void this.flush(), 1000);
        this.#timer.unref();
      }
      return false;
    }
  }

  #trim(): number {
    const over = this.pending() - this.#maxPending;
    if (over <= 0) return 0;
    const fromExchanges = Math.min(over, this.#exchanges.length);
    this.#exchanges.splice(0, fromExchanges);
    this.#calls.splice(0, over - fromExchanges);
    return over;
  }

  #schedule(): void {
    if (this.#failing) {
      this.#trim();
      return; // the retry timer is set
    }
    if (this.pending() >= 200 && !this.#writing) void this.flush();
    else this.#timer ??= setTimeout(() => void this.flush(), this.#flushMs);
  }
}
