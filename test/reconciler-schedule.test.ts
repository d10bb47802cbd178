import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Store } from '../src/db/store.js';
import { Reconciler } from '../src/fulfilment/reconciler.js';
import { createLogger } from '../src/log.js';

/** A store with nothing due, counting the reconciler's passes (each lists expired inits first). */
function emptyStore() {
  const passes = { count: 0 };
  const store = {
    instanceId: 'test',
    listExpiredInitiated: async () => {
      passes.count++;
      return [];
    },
    listOverdue: async () => [],
    claimDue: async () => [],
  };
  return { store: store as unknown as Store, passes };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('reconciler schedule', () => {
  it('ticks every 500 ms by default, also when tickMs is passed as undefined', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    for (const tickMs of [undefined, 500]) {
      const { store, passes } = emptyStore();
      const reconciler = new Reconciler({
        store,
        engine: { advance: async () => true, isBusy: () => false },
        leaseMs: 30_000,
        now: () => 0,
        logger: createLogger('silent'),
        tickMs,
      });
      reconciler.start();
      await vi.advanceTimersByTimeAsync(2_000);
      await reconciler.stop();
      // At 0, 500, 1000, 1500 and 2000 ms: not once a millisecond.
      expect(passes.count).toBe(5);
    }
  });
});
