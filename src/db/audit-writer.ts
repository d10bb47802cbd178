import type { Logger } from '../log.js';
import type { SupplierCallRecord } from '../mitra/client.js';
import type { Db } from './connection.js';
import type { NewExchange } from './exchanges.js';
import { razerExchanges, supplierCalls } from './schema.js';

/**
 * Writes audit rows (Razer queries, supplier call records) in small batches, one commit per
 * batch instead of one per row. Only rows that record and change nothing go through here:
 * state moves, and the answers to init, top-up and cancel, are committed before the answer
 * is sent. A crash can lose at most the last `flushMs` of these rows, never a state. A batch
 * that cannot be written (disk full, busy) is kept and tried again, up to `maxPending` rows.
 */
export class AuditWriter {
  readonly #db: Db;
  readonly #logger: Logger;
  readonly #flushMs: number;
  readonly #maxPending: number;
  #exchanges: NewExchange[] = [];
  #calls: SupplierCallRecord[] = [];
  #timer: NodeJS.Timeout | null = null;
  #failing = false;
  #closed = false;

  constructor(db: Db, logger: Logger, flushMs = 10, maxPending = 50_000) {
    this.#db = db;
    this.#logger = logger;
    this.#flushMs = flushMs;
    this.#maxPending = maxPending;
  }

  exchange(row: NewExchange): void {
    this.#exchanges.push(row);
    this.#schedule();
  }

  supplierCall(row: SupplierCallRecord): void {
    this.#calls.push(row);
    this.#schedule();
  }

  /** A last write before the database closes; no retry is left behind. */
  close(): void {
    this.flush();
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  /** Rows waiting to be written. */
  pending(): number {
    return this.#exchanges.length + this.#calls.length;
  }

  /** Writes what is pending now (also before the database closes); false if it could not. */
  flush(): boolean {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const exchanges = this.#exchanges;
    const calls = this.#calls;
    if (exchanges.length === 0 && calls.length === 0) return true;
    this.#exchanges = [];
    this.#calls = [];
    try {
      this.#db.transaction((tx) => {
        if (exchanges.length > 0) tx.insert(razerExchanges).values(exchanges).run();
        if (calls.length > 0) tx.insert(supplierCalls).values(calls).run();
      });
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
        this.#timer = setTimeout(() => this.flush(), 1000);
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
    if (this.pending() >= 200) this.flush();
    else this.#timer ??= setTimeout(() => this.flush(), this.#flushMs);
  }
}
