import type { RateLimit } from '../config/env.js';
import { LaneQueue } from './lane-queue.js';

export type Lane = 'order' | 'query';

/** What the client, the engine and the gateway need of a limiter, whichever its scope. */
export interface Limiter {
  acquire(lane: Lane, signal?: AbortSignal): Promise<Permit>;
  backoff(ms: number): void;
  stats(): { inWindow: number; waiting: Record<Lane, number>; pausedForMs: number };
  close(): void;
}

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Slots are timed on a monotonic clock: a wall-clock step (NTP, an operator) cannot free them early. */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/**
 * Proof that one call to Mitra was admitted by the limiter; spent by the call that uses it,
 * released when that call is over (or will not be made).
 */
export class Permit {
  #spent = false;
  #released = false;
  constructor(
    readonly lane: Lane,
    readonly grantedAt: number,
    private readonly onRelease: () => void,
  ) {}
  spend(lane: Lane): void {
    if (this.#spent) throw new Error('rate-limit permit already spent');
    if (this.lane !== lane)
      throw new Error(`a permit of the ${this.lane} lane cannot pay for a call of the ${lane} lane`);
    this.#spent = true;
  }
  /** The call is over: from now on its slot counts down one window. Idempotent. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.onRelease();
  }
}

/**
 * The margin a slot is held beyond the window, for clock and network skew between us and Mitra:
 * a fifth of the window, at most 1 s. The shared budget adds the same.
 */
export const skewMarginMs = (windowMs: number): number => Math.min(1000, Math.ceil(windowMs / 5));

/** One admitted call: held while under way, then for one window after it ended. */
interface Slot {
  endedAt: number | null;
}

export class LimiterClosedError extends Error {
  override readonly name = 'LimiterClosedError';
}

/**
 * One limiter for every call to Mitra. Each admitted call holds its slot for one window
 * (plus a margin for clock and network skew between us and Mitra: a fifth of the window,
 * at most 1 s), so no window of that
 * length ever holds more than `limit` calls: a token bucket whose tokens come back
 * exactly one window after use. Create-order calls are served ahead of queued queries.
 */
export class RateLimiter implements Limiter {
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #clock: Clock;
  readonly #slots = new Set<Slot>();
  readonly #waiting = new LaneQueue();
  #pausedUntil = 0;
  #timer: unknown = null;
  #timerAt = Number.POSITIVE_INFINITY;
  #closed = false;

  constructor(rate: RateLimit, clock: Clock = systemClock, marginMs = skewMarginMs(rate.windowMs)) {
    this.#limit = rate.limit;
    this.#windowMs = rate.windowMs + marginMs;
    this.#clock = clock;
  }

  /** Resolves when a call of this lane may be sent; rejects when `signal` aborts first. */
  acquire(lane: Lane, signal?: AbortSignal): Promise<Permit> {
    if (this.#closed) return Promise.reject(new LimiterClosedError('rate limiter closed'));
    if (signal?.aborted) return Promise.reject(signal.reason);
    const ahead = this.#waiting.counts();
    if (ahead.order === 0 && (lane === 'order' || ahead.query === 0)) {
      const permit = this.#tryGrant(lane);
      if (permit) return Promise.resolve(permit);
    }
    return this.#waiting.wait(lane, signal, () => this.#schedule());
  }

  /**
   * Counts calls a previous process made (a restart must not double a window): each is held
   * as a slot that ended `endedAgoMs` ago, plus `margin` calls that ended just now for what a
   * crash could have sent without recording it. Calls older than a window change nothing.
   */
  seed(endedAgoMs: readonly number[], margin: number): void {
    const now = this.#clock.now();
    for (const ago of endedAgoMs) this.#slots.add({ endedAt: now - Math.max(0, ago) });
    for (let i = 0; i < margin; i++) this.#slots.add({ endedAt: now });
    this.#expire(now);
    this.#schedule();
  }

  /** Mitra said "too many": nothing is sent before `ms` have passed. */
  backoff(ms: number): void {
    this.#pausedUntil = Math.max(this.#pausedUntil, this.#clock.now() + ms);
    this.#schedule();
  }

  stats(): { inWindow: number; waiting: Record<Lane, number>; pausedForMs: number } {
    const now = this.#clock.now();
    this.#expire(now);
    return {
      inWindow: this.#slots.size,
      waiting: this.#waiting.counts(),
      pausedForMs: Math.max(0, this.#pausedUntil - now),
    };
  }

  close(): void {
    this.#closed = true;
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
    this.#waiting.rejectAll();
  }

  #expire(now: number): void {
    for (const slot of this.#slots) {
      if (slot.endedAt !== null && slot.endedAt + this.#windowMs <= now) this.#slots.delete(slot);
    }
  }

  #tryGrant(lane: Lane): Permit | null {
    const now = this.#clock.now();
    this.#expire(now);
    if (now < this.#pausedUntil || this.#slots.size >= this.#limit) return null;
    const slot: Slot = { endedAt: null };
    this.#slots.add(slot);
    return new Permit(lane, now, () => {
      slot.endedAt = this.#clock.now();
      this.#schedule();
    });
  }

  #drain(): void {
    for (let lane = this.#waiting.next(); lane !== null; lane = this.#waiting.next()) {
      const permit = this.#tryGrant(lane);
      if (!permit) return;
      this.#waiting.grant(() => permit);
    }
  }

  #schedule(): void {
    if (this.#closed || this.#waiting.next() === null) return;
    const now = this.#clock.now();
    this.#expire(now);
    let slotFreeAt = now;
    if (this.#slots.size >= this.#limit) {
      slotFreeAt = Number.POSITIVE_INFINITY;
      for (const slot of this.#slots) {
        if (slot.endedAt !== null) slotFreeAt = Math.min(slotFreeAt, slot.endedAt + this.#windowMs);
      }
      // Every slot is held by a call under way: the first release schedules again.
      if (slotFreeAt === Number.POSITIVE_INFINITY) return;
    }
    const at = Math.max(slotFreeAt, this.#pausedUntil, now);
    if (this.#timer !== null && this.#timerAt <= at) return;
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = null;
      this.#timerAt = Number.POSITIVE_INFINITY;
      this.#drain();
      this.#schedule();
    }, at - now);
  }
}
