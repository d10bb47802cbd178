import type { Logger } from '../log.js';
import { type MitraClient, NO_BALANCE_CALL } from '../mitra/client.js';
import type { Alerter } from './alerts.js';

export interface BalanceReading {
  idr: number;
  /** When it was read (epoch ms, from `now`). */
  at: number;
}

export interface BalanceWatchOptions {
  /** Already limited: each poll is one call of the query lane (more while Mitra retries). */
  client: Pick<MitraClient, 'balance'>;
  alerter: Pick<Alerter, 'raise' | 'clear' | 'release'>;
  logger: Logger;
  /** A balance below this raises `low-balance`; null: never. */
  threshold: number | null;
  now?: () => number;
  /**
   * Where the reading is kept for every instance (the database): the polling instance saves each
   * reading, and the others follow it, so that each judges inits by the same balance.
   */
  shared?: SharedBalance;
  /** Told of each reading taken (polled here, or followed from the shared one). */
  onReading?: (reading: BalanceReading) => void;
}

export interface SharedBalance {
  save(reading: BalanceReading): Promise<void>;
  /** The last reading saved, with the instance that read it (`at` is on that instance's clock). */
  load(): Promise<(BalanceReading & { by: string | null }) | null>;
}

const idr = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** Reads the Mitra balance now and then, and alerts once while it is below the threshold. */
export class BalanceWatch {
  readonly #o: BalanceWatchOptions;
  readonly #now: () => number;
  #last: BalanceReading | null = null;
  #noCallSaid = false;
  #polling: Promise<BalanceReading | null> | null = null;
  #ticking: Promise<void> | null = null;
  #timer: NodeJS.Timeout | null = null;
  #following: Promise<void> | null = null;
  #followTimer: NodeJS.Timeout | null = null;
  // The shared row last taken, as written (its time on the reader's clock, and the reader).
  #seen: { at: number; by: string | null } | null = null;
  // Bumped by start and stop: a tick of an earlier start schedules nothing more.
  #generation = 0;

  constructor(options: BalanceWatchOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  last(): BalanceReading | null {
    return this.#last;
  }

  /** One read; a poll already under way is joined, not doubled. Resolves to the last known value. */
  poll(): Promise<BalanceReading | null> {
    this.#polling ??= this.#read().finally(() => {
      this.#polling = null;
    });
    return this.#polling;
  }

  /**
   * Polls now and then every `intervalMs`, when `turn` says this instance is the one polling
   * (several gateways share one Mitra account and one rate limit); and, with a shared reading,
   * takes every `followMs` the newer reading another instance (or this one before a restart) saved.
   */
  start(
    intervalMs: number,
    turn: (job: string, ttlMs: number) => Promise<boolean> = async () => true,
    followMs = Math.min(intervalMs, 30_000),
  ): void {
    this.stop();
    const generation = this.#generation;
    const shared = this.#o.shared;
    if (shared) {
      const follow = () => {
        this.#following = this.#follow(shared).finally(() => {
          this.#following = null;
          if (generation === this.#generation) {
            this.#followTimer = setTimeout(follow, followMs);
            this.#followTimer.unref();
          }
        });
      };
      follow();
    }
    const tick = async () => {
      try {
        // The turn outlasts one interval a little, so that its holder keeps it while alive.
        if (await turn('balance-poll', intervalMs + intervalMs / 2)) await this.poll();
        // Another instance polls now: a low balance raised here is no longer this one's to show.
        else this.#o.alerter.release('low-balance', 'balance');
      } catch (err) {
        this.#o.logger.warn({ err }, 'balance poll could not start');
      }
    };
    const run = () => {
      this.#ticking = tick().finally(() => {
        this.#ticking = null;
        // The next poll is timed from the end of this one: two never overlap.
        if (generation === this.#generation) {
          this.#timer = setTimeout(run, intervalMs);
          this.#timer.unref();
        }
      });
    };
    run();
  }

  stop(): void {
    this.#generation++;
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#followTimer) clearTimeout(this.#followTimer);
    this.#timer = this.#followTimer = null;
  }

  /** Resolves when no poll, and no read of the shared reading, is under way. */
  async idle(): Promise<void> {
    while (this.#ticking || this.#polling || this.#following)
      await Promise.allSettled([this.#ticking, this.#polling, this.#following]);
  }

  /**
   * Takes the shared reading each time it changes: one poller writes at a time, so a changed row
   * is the newest reading, whatever the clock it was dated by. Never raised here: the low-balance
   * alert is the polling instance's; but a balance seen recovered ends it here too, so that this
   * instance tells of the next low balance if it polls then.
   */
  async #follow(shared: SharedBalance): Promise<void> {
    let row: Awaited<ReturnType<SharedBalance['load']>>;
    try {
      row = await shared.load();
    } catch (err) {
      this.#o.logger.warn({ err }, 'shared supplier balance not read; the last known value stays');
      return;
    }
    if (!row || (this.#seen && row.at === this.#seen.at && row.by === this.#seen.by)) return;
    this.#seen = { at: row.at, by: row.by };
    // Dated on the reader's clock, once: one ahead of ours must not make the reading look like
    // one from the future (which the guard takes as stale), nor stay fresh while the row is
    // unchanged; one behind ours must not hide a newer reading.
    this.#last = { idr: row.idr, at: Math.min(row.at, this.#now()) };
    this.#o.onReading?.(this.#last);
    const { threshold } = this.#o;
    if (threshold !== null && row.idr >= threshold) this.#o.alerter.clear('low-balance', 'balance');
  }

  async #read(): Promise<BalanceReading | null> {
    const { logger } = this.#o;
    let outcome: Awaited<ReturnType<MitraClient['balance']>>;
    try {
      outcome = await this.#o.client.balance();
    } catch (err) {
      logger.warn({ err }, 'supplier balance not read; the last known value stays');
      return this.#last;
    }
    if (outcome.kind === 'refused' && outcome.status === NO_BALANCE_CALL) {
      // Said once: the readings file says Mitra has no balance call, so there is nothing to watch.
      if (!this.#noCallSaid) logger.info(outcome.message);
      this.#noCallSaid = true;
      return null;
    }
    this.#noCallSaid = false;
    if (outcome.kind !== 'accepted') {
      const reason =
        outcome.kind === 'refused'
          ? `refused (rc ${outcome.rc}: ${outcome.message})`
          : outcome.kind === 'exists'
            ? `unexpected reply (rc ${outcome.rc})`
            : outcome.reason;
      logger.warn({ outcome: outcome.kind, reason }, 'supplier balance not read; the last known value stays');
      return this.#last;
    }
    const reading = { idr: outcome.data.balance, at: this.#now() };
    this.#last = reading;
    this.#o.onReading?.(reading);
    this.#judge(reading.idr);
    try {
      await this.#o.shared?.save(reading);
    } catch (err) {
      logger.warn(
        { err },
        'supplier balance not shared with the other instances; they keep the last one shared',
      );
    }
    return reading;
  }

  #judge(balance: number): void {
    const { threshold, alerter } = this.#o;
    if (threshold === null || balance >= threshold) {
      alerter.clear('low-balance', 'balance');
      return;
    }
    alerter.raise({
      kind: 'low-balance',
      key: 'balance',
      message: `supplier balance ${idr.format(balance)} IDR is below the threshold of ${idr.format(threshold)} IDR`,
    });
  }
}
