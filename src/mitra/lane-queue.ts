import { type Lane, LimiterClosedError, type Permit } from './limiter.js';

interface Waiter {
  lane: Lane;
  resolve(p: Permit): void;
  reject(e: unknown): void;
  cleanup(): void;
}

/** Calls waiting for a permit, create-orders served ahead of queries; one per limiter. */
export class LaneQueue {
  readonly #waiting: Record<Lane, Waiter[]> = { order: [], query: [] };

  /** A promise of a permit for `lane`, queued until `grant`; rejected when `signal` aborts first. */
  wait(lane: Lane, signal: AbortSignal | undefined, onQueued: () => void): Promise<Permit> {
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
      onQueued();
    });
  }

  /** The lane served next, or null when no one waits. */
  next(): Lane | null {
    return this.#waiting.order.length > 0 ? 'order' : this.#waiting.query.length > 0 ? 'query' : null;
  }

  /** Hands a permit (made for the next waiter's lane) to that waiter; false when none waits. */
  grant(make: (lane: Lane) => Permit): boolean {
    const lane = this.next();
    const waiter = lane ? this.#waiting[lane].shift() : undefined;
    if (!waiter) return false;
    waiter.cleanup();
    waiter.resolve(make(waiter.lane));
    return true;
  }

  counts(): Record<Lane, number> {
    return { order: this.#waiting.order.length, query: this.#waiting.query.length };
  }

  /** Every waiter is refused: the limiter closed. */
  rejectAll(): void {
    for (const lane of ['order', 'query'] as const) {
      for (const w of this.#waiting[lane].splice(0)) {
        w.cleanup();
        w.reject(new LimiterClosedError('rate limiter closed'));
      }
    }
  }
}
