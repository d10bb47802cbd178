import type { Logger } from '../log.js';
import type { SupplierCallRecord } from '../mitra/client.js';
import type { Db } from './connection.js';
import type { NewExchange } from './exchanges.js';
import { razerExchanges, supplierCalls } from './schema.js';

/**
 * Writes audit rows (Razer queries, supplier call records) in small batches, one commit per
 * batch instead of one per row. Only rows that record and change nothing go through here:
 * state moves, and the answers to init, top-up and cancel, are committed before the answer
 * is sent. A crash can lose at most the last `flushMs` of these rows, never a state.
 */
export class AuditWriter {
  readonly #db: Db;
  readonly #logger: Logger;
  readonly #flushMs: number;
  #exchanges: NewExchange[] = [];
  #calls: SupplierCallRecord[] = [];
  #timer: NodeJS.Timeout | null = null;

  constructor(db: Db, logger: Logger, flushMs = 10) {
    this.#db = db;
    this.#logger = logger;
    this.#flushMs = flushMs;
  }

  exchange(row: NewExchange): void {
    this.#exchanges.push(row);
    this.#schedule();
  }

  supplierCall(row: SupplierCallRecord): void {
    this.#calls.push(row);
    this.#schedule();
  }

  /** Writes what is pending now (also before the database closes). */
  flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const exchanges = this.#exchanges;
    const calls = this.#calls;
    if (exchanges.length === 0 && calls.length === 0) return;
    this.#exchanges = [];
    this.#calls = [];
    try {
      this.#db.transaction((tx) => {
        if (exchanges.length > 0) tx.insert(razerExchanges).values(exchanges).run();
        if (calls.length > 0) tx.insert(supplierCalls).values(calls).run();
      });
    } catch (err) {
      this.#logger.error(
        { err, exchanges: exchanges.length, calls: calls.length },
        'audit rows could not be written',
      );
    }
  }

  #schedule(): void {
    if (this.#exchanges.length + this.#calls.length >= 200) this.flush();
    else this.#timer ??= setTimeout(() => this.flush(), this.#flushMs);
  }
}
