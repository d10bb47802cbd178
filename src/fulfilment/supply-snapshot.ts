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

/** Why the open purchases are not read now. */
export interface SupplyUnread {
  /** The last failed read's error message (a statement timeout, a dropped connection). */
  reason: string;
  /** When the first of the reads failing since the last good one began (epoch ms). */
  since: number;
}

/** What the guards judge by now. */
export interface SupplyView {
  /**
   * The figures to judge by: the last read's. While reads fail, the last good ones when they were
   * read at most `keepMs` ago; null when none is that recent: the guards judge nothing, and every
   * sale goes through (a reading that cannot be had must not stop all sales).
   */
  figures: SupplyFigures | null;
  /** Null when the last read succeeded; else why the figures are not the last read's. */
  unread: SupplyUnread | null;
}

/** What the snapshot tells of failing reads, for the log and an alert. */
export interface SupplyUnreadReport extends SupplyUnread {
  /** The last read's error. */
  err: unknown;
  /** Reads failed since the last good one. */
  failures: number;
  /** The figures the guards judge by meanwhile (the last good ones), or null: they judge nothing. */
  kept: SupplyFigures | null;
}

export interface SupplySnapshotOptions {
  read: () => Promise<OpenCommitment[]>;
  now: () => number;
  /** How long one read answers (default 1000 ms); 0: every ask reads (concurrent asks still share one). */
  maxAgeMs?: number;
  /** How old the last good figures may be to be judged by while reads fail (default 60 s). */
  keepMs?: number;
  /**
   * Told of failing reads: at the first failure, when the figures kept become too old to judge by,
   * and otherwise at most once per `reportEveryMs` while they go on failing. Not once per read.
   */
  unread?: (report: SupplyUnreadReport) => void;
  /** Told once when a read succeeds after failures (how many, since when). */
  readAgain?: (after: SupplyUnread & { failures: number }) => void;
  /** The least time between two `unread` reports of the same situation (default 60 s). */
  reportEveryMs?: number;
}

/**
 * How long the last good figures answer for a failed read: one minute. The queue it counts drains
 * at most one rate budget a minute (200 orders, about a minute of expected wait, against a
 * MAX_SUPPLIER_WAIT of 10 by default), and what open purchases will still be charged moves by what
 * a minute sells, well within what a balance polled every 5 minutes may have moved meanwhile. Older
 * than that, a refusal judged on them could be wrong: the guards judge nothing instead.
 */
export const SUPPLY_KEEP_MS = 60_000;

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
 * future") reads again.
 *
 * It never fails: the guards fail open. A read that fails (a statement timeout, a dropped
 * connection) answers the last good figures while they are at most `keepMs` (a minute) old, else
 * none (`figures: null`: the guards judge nothing), with the reason in `unread`. A failed read
 * answers for `maxAgeMs` too, so that a sick database is asked once a second, not once per init.
 */
export class SupplySnapshot {
  readonly #read: () => Promise<OpenCommitment[]>;
  readonly #now: () => number;
  readonly #maxAgeMs: number;
  readonly #keepMs: number;
  readonly #reportEveryMs: number;
  readonly #unread: SupplySnapshotOptions['unread'];
  readonly #readAgain: SupplySnapshotOptions['readAgain'];
  /** The last good figures. */
  #good: SupplyFigures | null = null;
  /** Set while reads fail. */
  #failing: (SupplyUnread & { failures: number }) | null = null;
  /** When the last read, good or failed, began: it answers until `maxAgeMs` after. */
  #lastAt: number | null = null;
  #reading: Promise<SupplyView> | null = null;
  /** The last `unread` report: when, and whether figures were kept then. */
  #reported: { at: number; kept: boolean } | null = null;

  constructor(options: SupplySnapshotOptions) {
    this.#read = options.read;
    this.#now = options.now;
    this.#maxAgeMs = options.maxAgeMs ?? 1000;
    this.#keepMs = options.keepMs ?? SUPPLY_KEEP_MS;
    this.#reportEveryMs = options.reportEveryMs ?? 60_000;
    this.#unread = options.unread;
    this.#readAgain = options.readAgain;
  }

  current(): Promise<SupplyView> {
    const now = this.#now();
    if (this.#lastAt !== null) {
      const age = now - this.#lastAt;
      if (age >= 0 && age < this.#maxAgeMs) return Promise.resolve(this.#view(now));
    }
    if (this.#reading) return this.#reading;
    const reading = this.#readAt(now);
    this.#reading = reading;
    return reading;
  }

  async #readAt(now: number): Promise<SupplyView> {
    let read: { ok: true; groups: OpenCommitment[] } | { ok: false; err: unknown };
    try {
      read = { ok: true, groups: await this.#read() };
    } catch (err) {
      read = { ok: false, err };
    }
    this.#lastAt = now;
    this.#reading = null;
    if (read.ok) {
      this.#good = { ...supplyFigures(read.groups), readAt: now };
      const was = this.#failing;
      this.#failing = null;
      this.#reported = null;
      if (was) tell(() => this.#readAgain?.(was));
    } else {
      const failures = (this.#failing?.failures ?? 0) + 1;
      this.#failing = { reason: messageOf(read.err), since: this.#failing?.since ?? now, failures };
      this.#report(read.err, now);
    }
    return this.#view(now);
  }

  /** What an ask at `now` is answered. */
  #view(now: number): SupplyView {
    if (!this.#failing) return { figures: this.#good, unread: null };
    const { reason, since } = this.#failing;
    return { figures: this.#kept(now), unread: { reason, since } };
  }

  /** The last good figures, while young enough to judge by (one from the future is not). */
  #kept(now: number): SupplyFigures | null {
    const good = this.#good;
    if (!good) return null;
    const age = now - good.readAt;
    return age >= 0 && age <= this.#keepMs ? good : null;
  }

  #report(err: unknown, now: number): void {
    const failing = this.#failing;
    if (!failing || !this.#unread) return;
    const kept = this.#kept(now);
    const last = this.#reported;
    const due =
      last === null || last.kept !== (kept !== null) || now - last.at >= this.#reportEveryMs || now < last.at;
    if (!due) return;
    this.#reported = { at: now, kept: kept !== null };
    const report = { ...failing, err, kept };
    tell(() => this.#unread?.(report));
  }
}

/** A report that fails (a logger, an alerter) must not fail the guards' figures. */
function tell(report: () => void): void {
  try {
    report();
  } catch {
    // Nothing to tell it to: the figures are answered all the same.
  }
}

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));
