import { describe, expect, it, vi } from 'vitest';
import { LimiterClosedError, type Permit, RateLimiter, systemClock } from '../src/mitra/limiter.js';
import { FakeClock, flush } from './helpers/fake-clock.js';

const WINDOW = 60_000;

/** The largest number of grants inside any window of `windowMs` (half-open). */
function busiestWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let max = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    while ((sorted[end] ?? 0) - (sorted[start] ?? 0) >= windowMs) start++;
    max = Math.max(max, end - start + 1);
  }
  return max;
}

describe('rate limiter', () => {
  it('never lets a 60 s window hold more than the limit under a burst of 1,000, orders first', async () => {
    const clock = new FakeClock(1_000_000);
    const limiter = new RateLimiter({ limit: 200, windowMs: WINDOW }, clock);
    const grants: { lane: string; at: number; seq: number }[] = [];
    // Each call is instant: it ends (and releases its slot) the moment it is granted.
    const track = (lane: 'order' | 'query', seq: number) =>
      limiter.acquire(lane).then((p: Permit) => {
        p.release();
        grants.push({ lane, at: p.grantedAt, seq });
      });

    const all: Promise<unknown>[] = [];
    for (let i = 0; i < 700; i++) all.push(track('query', i));
    for (let i = 0; i < 300; i++) all.push(track('order', 700 + i));
    await flush();
    expect(grants).toHaveLength(200); // the first 200 queries go at once

    for (let step = 0; step < 10 && grants.length < 1000; step++) await clock.advance(WINDOW);
    await Promise.all(all);

    expect(grants).toHaveLength(1000);
    expect(
      busiestWindow(
        grants.map((g) => g.at),
        WINDOW,
      ),
    ).toBe(200);
    // Every order waiting behind the first window went before every query still waiting.
    const afterFirst = grants.slice(200);
    const lastOrder = afterFirst.map((g) => g.lane).lastIndexOf('order');
    const firstQuery = afterFirst.map((g) => g.lane).indexOf('query');
    expect(lastOrder).toBe(299);
    expect(firstQuery).toBe(300);
    // Within a lane, first come first served.
    const queries = grants.filter((g) => g.lane === 'query').map((g) => g.seq);
    expect(queries).toEqual([...queries].sort((a, b) => a - b));
  });

  it('holds each slot for the window plus a safety margin', async () => {
    const clock = new FakeClock(0);
    const limiter = new RateLimiter({ limit: 2, windowMs: 10_000 }, clock, 500);
    (await limiter.acquire('query')).release();
    (await limiter.acquire('query')).release();
    let third: number | null = null;
    void limiter.acquire('query').then((p) => {
      third = p.grantedAt;
    });
    await clock.advance(10_499);
    expect(third).toBeNull();
    await clock.advance(1);
    expect(third).toBe(10_500);
  });

  it('holds a slot while its call is under way, and for one window after it ended', async () => {
    const clock = new FakeClock(0);
    const limiter = new RateLimiter({ limit: 1, windowMs: 1000 }, clock, 0);
    const slow = await limiter.acquire('order');
    let next: number | null = null;
    void limiter.acquire('query').then((p) => {
      next = p.grantedAt;
    });
    await clock.advance(5000); // the first call is still waiting for its reply
    expect(next).toBeNull();
    slow.release();
    slow.release(); // idempotent
    await clock.advance(999);
    expect(next).toBeNull();
    await clock.advance(1);
    expect(next).toBe(6000);
  });

  it('pauses every lane during a backoff', async () => {
    const clock = new FakeClock(0);
    const limiter = new RateLimiter({ limit: 100, windowMs: 1000 }, clock);
    limiter.backoff(5000);
    let granted = false;
    void limiter.acquire('order').then(() => {
      granted = true;
    });
    await clock.advance(4999);
    expect(granted).toBe(false);
    expect(limiter.stats()).toMatchObject({ waiting: { order: 1, query: 0 }, pausedForMs: 1 });
    await clock.advance(1);
    expect(granted).toBe(true);
  });

  it('drops a waiter whose signal aborts, without spending a slot', async () => {
    const clock = new FakeClock(0);
    const limiter = new RateLimiter({ limit: 1, windowMs: 1000 }, clock, 0);
    (await limiter.acquire('query')).release();
    const controller = new AbortController();
    const waiting = limiter.acquire('query', controller.signal);
    controller.abort(new Error('gave up'));
    await expect(waiting).rejects.toThrow('gave up');
    expect(limiter.stats().waiting.query).toBe(0);
    await clock.advance(1000);
    expect(limiter.stats().inWindow).toBe(0);
  });

  it('rejects waiters when closed', async () => {
    const limiter = new RateLimiter({ limit: 1, windowMs: 1000 }, new FakeClock(0));
    await limiter.acquire('order');
    const waiting = limiter.acquire('order');
    limiter.close();
    await expect(waiting).rejects.toBeInstanceOf(LimiterClosedError);
    await expect(limiter.acquire('query')).rejects.toBeInstanceOf(LimiterClosedError);
  });

  it('makes a permit single-use and lane-bound', async () => {
    const limiter = new RateLimiter({ limit: 5, windowMs: 1000 }, new FakeClock(0));
    const permit = await limiter.acquire('query');
    expect(() => permit.spend('order')).toThrow(
      'a permit of the query lane cannot pay for a call of the order lane',
    );
    permit.spend('query');
    expect(() => permit.spend('query')).toThrow('already spent');
  });

  it('defect 7: a restart counts the calls the previous process made in the window, plus a margin', async () => {
    const clock = new FakeClock(5_000_000);
    const limiter = new RateLimiter({ limit: 5, windowMs: 1000 }, clock, 0);
    // Three calls ended 100-300 ms ago, one long ago; one slot more for what a crash lost.
    limiter.seed([100, 200, 300, 5000], 1);
    expect(limiter.stats().inWindow).toBe(4);
    const granted: number[] = [];
    for (let i = 0; i < 3; i++)
      void limiter.acquire('order').then(() => granted.push(clock.now() - 5_000_000));
    await flush();
    expect(granted).toEqual([0]); // only one slot was free
    await clock.advance(700); // the call that ended 300 ms ago frees its slot
    expect(granted).toEqual([0, 700]);
    await clock.advance(100);
    expect(granted).toEqual([0, 700, 800]);
  });

  it('defect 7: slots are timed on a monotonic clock, not the wall clock', () => {
    const before = systemClock.now();
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.now() + 3_600_000); // an NTP step of an hour
      expect(systemClock.now() - before).toBeLessThan(60_000);
    } finally {
      vi.useRealTimers();
    }
  });
});
