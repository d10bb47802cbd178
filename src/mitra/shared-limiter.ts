import { type Lane, type Limiter, LimiterClosedError, Permit } from './limiter.js';

/** One slot of a budget kept elsewhere (the database), shared by every instance. */
export interface SlotBudget {
  take(): Promise<{ granted: true; id: number } | { granted: false; retryInMs: number }>;
  end(id: number): Promise<void>;
}

interface Waiter {
  lane: Lane;
  resolve(p: Permit): void;
  reject(e: unknown): void;
  cleanup(): void;
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
  readonly #waiting: Record<Lane, Waiter[]> = { order: [], query: [] };
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
    return new Promise<Permit>((resolve, reject) => {
      const onAbort = () => {
        const queue = this.#waiting[lane];
        const i = queue.indexOf(waiter);
        if (i >= 0) queue.splice(i, 1);
        reject(signal?.reason);
      };
      const waiter: Waiter = {
        lane,
        resolve,
        reject,
        cleanup: () => signal?.removeEventListener('abort', onAbort),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiting[lane].push(waiter);
      void this.#pump();
    });
  }

  backoff(ms: number): void {
    this.#pausedUntil = Math.max(this.#pausedUntil, performance.now() + ms);
  }

  /** `inWindow` counts this instance's calls under way only: the window's total is in the database. */
  stats(): { inWindow: number; waiting: Record<Lane, number>; pausedForMs: number } {
    return {
      inWindow: this.#held,
      waiting: { order: this.#waiting.order.length, query: this.#waiting.query.length },
      pausedForMs: Math.max(0, this.#pausedUntil - performance.now()),
    };
  }

  close(): void {
    this.#closed = true;
    this.#wake?.();
    for (const lane of ['order', 'query'] as const) {
      for (const w of this.#waiting[lane].splice(0)) {
        w.cleanup();
        w.reject(new LimiterClosedError('rate limiter closed'));
      }
    }
  }

  #next(): Waiter | undefined {
    return this.#waiting.order.shift() ?? this.#waiting.query.shift();
  }

  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (!this.#closed && this.#waiting.order.length + this.#waiting.query.length > 0) {
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
        const waiter = this.#closed ? undefined : this.#next();
        if (!waiter) {
          // Gone meanwhile (aborted, closed): the slot is given back as a call that ended now.
          this.#end(slot.id);
          continue;
        }
        this.#held++;
        waiter.cleanup();
        waiter.resolve(
          new Permit(waiter.lane, performance.now(), () => {
            this.#held--;
            this.#end(slot.id);
          }),
        );
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
