import type { OpenCommitment } from '../db/types.js';
import { committedIdr } from './balance-guard.js';

/** What both init guards judge by, read together from the open purchases. */
export interface SupplyFigures {
  /** What open purchases will still be charged by Mitra (IDR): the balance guard's figure. */
  committedIdr: number;
  /** Purchases topped up and not sent yet (QUEUED), every instance's: the queue guard's figure. */
  queuedOrders: number;
  /** When the read began (epoch ms, the gateway's clock): the figures are at least this recent. */
  readAt: number;
}

/** Both figures from one read of the open purchases grouped (store.openCommitments). */
export function supplyFigures(groups: readonly OpenCommitment[]): Omit<SupplyFigures, 'readAt'> {
  let queuedOrders = 0;
  for (const g of groups) if (g.state === 'QUEUED') queuedOrders += g.count;
  return { committedIdr: committedIdr(groups), queuedOrders };
}

export interface SupplySnapshotOptions {
  read: () => Promise<OpenCommitment[]>;
  now: () => number;
  /** How long one read answers (default 1000 ms); 0: every ask reads (concurrent asks still share one). */
  maxAgeMs?: number;
}

/**
 * The figures both init guards read (and the metrics, the supplier report and /readyz show), from
 * one grouped query of the open purchases, read at most once per `maxAgeMs` (1 s): asks meanwhile
 * get the last figures, and asks while a read is under way share that read. Purchase throughput
 * was lost to one such query per init; now it is one per second, however many inits.
 *
 * The consequence, a known limit of both guards: within a second, concurrent inits are not
 * reserved against each other (as before, an init reserves nothing until its top-up), and a
 * purchase topped up in the last second may not be counted yet. Both guards are a judgement of
 * what can be delivered, not a reservation: a burst within one second can overshoot the balance
 * or the queue by what that second sells. A clock that stepped back (the last read "in the
 * future") reads again. A failed read is not kept: its askers get the error, the next ask reads.
 */
export class SupplySnapshot {
  readonly #read: () => Promise<OpenCommitment[]>;
  readonly #now: () => number;
  readonly #maxAgeMs: number;
  #last: Promise<SupplyFigures> | null = null;
  #lastAt = 0;
  #reading: Promise<SupplyFigures> | null = null;

  constructor(options: SupplySnapshotOptions) {
    this.#read = options.read;
    this.#now = options.now;
    this.#maxAgeMs = options.maxAgeMs ?? 1000;
  }

  current(): Promise<SupplyFigures> {
    const now = this.#now();
    const age = now - this.#lastAt;
    if (this.#last && age >= 0 && age < this.#maxAgeMs) return this.#last;
    if (this.#reading) return this.#reading;
    const reading = (async () => ({ ...supplyFigures(await this.#read()), readAt: now }))();
    this.#reading = reading;
    reading.then(
      () => {
        this.#last = reading;
        this.#lastAt = now;
        this.#reading = null;
      },
      () => {
        this.#reading = null;
      },
    );
    return reading;
  }
}
