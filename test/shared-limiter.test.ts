import { describe, expect, it } from 'vitest';
import { LimiterClosedError } from '../src/mitra/limiter.js';
import { SharedRateLimiter, type SlotBudget } from '../src/mitra/shared-limiter.js';
import { waitFor } from './helpers/wait.js';

/** A budget of `limit` slots held in memory, standing in for the database's. */
function budget(limit: number) {
  let nextId = 1;
  const open = new Set<number>();
  const ended: number[] = [];
  let failing = 0;
  const b: SlotBudget & { open: Set<number>; ended: number[]; fail(n: number): void; takes: number } = {
    open,
    ended,
    takes: 0,
    fail: (n) => {
      failing = n;
    },
    async take() {
      b.takes++;
      if (failing > 0) {
        failing--;
        throw new Error('database unreachable');
      }
      if (open.size >= limit) return { granted: false, retryInMs: 5 };
      const id = nextId++;
      open.add(id);
      return { granted: true, id };
    },
    async end(id) {
      open.delete(id);
      ended.push(id);
    },
  };
  return b;
}

describe('the shared rate limiter', () => {
  it('never holds more slots than the budget, and serves create-orders before queries', async () => {
    const b = budget(1);
    const limiter = new SharedRateLimiter(b);
    const first = await limiter.acquire('query');
    const served: string[] = [];
    const query = limiter.acquire('query').then((p) => {
      served.push('query');
      return p;
    });
    const order = limiter.acquire('order').then((p) => {
      served.push('order');
      return p;
    });
    expect(limiter.stats().waiting).toEqual({ order: 1, query: 1 });
    first.release();
    const p1 = await order;
    expect(served).toEqual(['order']);
    expect(b.open.size).toBe(1);
    p1.release();
    (await query).release();
    expect(served).toEqual(['order', 'query']);
    await waitFor(() => b.open.size === 0, 2000, 'every slot ended');
    limiter.close();
  });

  it('sends nothing while the budget cannot be asked, and goes on once it can', async () => {
    const b = budget(5);
    const faults: unknown[] = [];
    const limiter = new SharedRateLimiter(b, (err) => faults.push(err));
    b.fail(3);
    const permit = await limiter.acquire('order');
    expect(faults).toHaveLength(3);
    expect(b.open.size).toBe(1);
    permit.release();
    limiter.close();
  });

  it('drops a waiter that gave up, refuses every waiter once closed, and ends the slots still held', async () => {
    const b = budget(1);
    const limiter = new SharedRateLimiter(b);
    const held = await limiter.acquire('order');
    const abort = new AbortController();
    const gaveUp = limiter.acquire('query', abort.signal);
    abort.abort(new Error('caller gone'));
    await expect(gaveUp).rejects.toThrow('caller gone');
    const waiting = limiter.acquire('order');
    limiter.close();
    await expect(waiting).rejects.toBeInstanceOf(LimiterClosedError);
    await expect(limiter.acquire('order')).rejects.toBeInstanceOf(LimiterClosedError);
    held.release();
    await waitFor(() => b.open.size === 0, 2000, 'the held slot ended');
    expect(b.ended).toHaveLength(1);
  });
});
