import { LaneQueue } from './lane-queue.js';
import { type Lane, type Limiter, LimiterClosedError, Permit } from './limiter.js';

/** One slot of a budget kept elsewhere (the database), shared by every instance. */
export interface SlotBudget {
  take(): Promise<{ granted: true; id: number } | { granted: false; retryInMs: number }>;
  end(id: number): Promise<void>;
}

/** Longest pause between two asks of a full budget: another instance may free a slot early. */
const MAX_WAIT_MS = 1000;
/** Pause after the budget could not be asked (database unreachable): nothing is sent meanwhile. */
const FAULT_WAIT_MS = 250;

/**
 * The limiter of `MITRA_RATE_LIMIT_SCOPE=shared`: every call takes a slot of one budget in the
 * database, counted in database time across all instances, before it is sent; the slot counts
 * one window more after the call ends. Waiting calls queue here, create-orders first. When the
 * budget cannot be asked, nothing is sent: a call waits rather than risk the limit.
 */
export class SharedRateLimiter implements Limiter {
  readonly #budget: SlotBudget;
  readonly #onFault: (err: unknown) => void;
  readonly #waiting = new LaneQueue();
  #held = 0;
  #pausedUntil = 0;
  #pumping = false;
  #wake: (() => void) | null = null;
  #closed = false;

  constructor(budget: SlotBudget, onFault: (err: unknown) => void = () => undefined) {
    this.#budget = budget;
    this.#onFault = onFault;
  }

  acquire(lane: Lane, signal?: AbortSignal): Promise<Permit> {
    if (this.#closed) return Promise.reject(new LimiterClosedError('rate limiter closed'));
    if (signal?.aborted) return Promise.reject(signal.reason);
    return this.#waiting.wait(lane, signal, () => void this.#pump());
  }

  backoff(ms: number): void {
    this.#pausedUntil = Math.max(this.#pausedUntil, performance.now() + ms);
  }

  /** `inWindow` counts this instance's calls under way only: the window's total is in the database. */
  stats(): { inWindow: number; waiting: Record<Lane, number>; pausedForMs: number } {
    return {
      inWindow: this.#held,
      waiting: this.#waiting.counts(),
      pausedForMs: Math.max(0, this.#pausedUntil - performance.now()),
    };
  }

  close(): void {
    this.#closed = true;
    this.#wake?.();
    this.#waiting.rejectAll();
  }

  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (!this.#closed && this.#waiting.next() !== null) {
        const paused = this.#pausedUntil - performance.now();
        if (paused > 0) {
          await this.#sleep(paused);
          continue;
        }
        let slot: Awaited<ReturnType<SlotBudget['take']>>;
        try {
          slot = await this.#budget.take();
        } catch (err) {
          this.#onFault(err);
          await this.#sleep(FAULT_WAIT_MS);
          continue;
        }
        if (!slot.granted) {
          await this.#sleep(Math.min(Math.max(1, slot.retryInMs), MAX_WAIT_MS));
          continue;
        }
        const granted =
          !this.#closed &&
          this.#waiting.grant((lane) => {
            this.#held++;
            return new Permit(lane, performance.now(), () => {
              this.#held--;
              this.#end(slot.id);
            });
          });
        // No one waits any more (aborted, closed): the slot is given back as a call that ended now.
        if (!granted) this.#end(slot.id);
      }
    } finally {
      this.#pumping = false;
    }
  }

  #end(id: number): void {
    // A slot that cannot be ended counts until its longest call is over, then a window more.
    this.#budget.end(id).catch((err: unknown) => this.#onFault(err));
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    });
  }
}
