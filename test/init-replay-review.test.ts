import { afterEach, describe, expect, it } from 'vitest';
import { parseMapping } from '../src/config/mapping.js';
import type { Store } from '../src/db/store.js';
import { initBody, type RazerHarness, send, startRazer } from './helpers/razer.js';

/** Adversarial review of dd66436, f83c723 and 63ef26b. */

let h: RazerHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const LIMIT = 20; // DIAMOND50: per_account_per_day 20 (config/mapping.example.yaml)

/** A promise with its resolver. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => {
    open = r;
  });
  return { open, opened };
}

describe('daily limits: a repeated init is a replay, never a refusal', () => {
  it('answers a retried init (same number, same body) racing its first, at the limit, with the first answer, not 400 EXCEED_LIMIT', async () => {
    h = await startRazer();
    // 19 purchases of the account today: one left.
    for (let i = 0; i < LIMIT - 1; i++) {
      expect((await send(h, 'POST', '/transaction/init', initBody(`RVF-PRE-${i}`))).status).toBe(200);
    }
    // The interleaving of a Razer retry sent while the first init is still being written
    // (group commit on SQLite, a pool wait on PostgreSQL): the retry's getTransaction runs
    // before the first's insert commits, its limit count right after. Only the order of
    // the store's calls is held, never their results.
    const real = h.deps.store;
    const N = 'RVF-RETRY-1';
    let lookups = 0;
    const retryLooked = gate();
    const firstInserted = gate();
    let inserting = false;
    const proxy = new Proxy(real, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (typeof value !== 'function') return value;
        if (prop === 'getTransaction')
          return async (n: string) => {
            const row = await value.call(target, n);
            if (n === N && ++lookups === 2) retryLooked.open();
            return row;
          };
        if (prop === 'insertInitiated')
          return async (...args: Parameters<Store['insertInitiated']>) => {
            if (args[0].transactionNumber !== N || inserting) return value.apply(target, args);
            inserting = true;
            await retryLooked.opened;
            try {
              return await value.apply(target, args);
            } finally {
              firstInserted.open();
            }
          };
        if (prop === 'countRecentPurchases')
          return async (...args: Parameters<Store['countRecentPurchases']>) => {
            if (inserting) await firstInserted.opened;
            return value.apply(target, args);
          };
        return value.bind(target);
      },
    });
    (h.deps as { store: Store }).store = proxy;

    const first = send(h, 'POST', '/transaction/init', initBody(N));
    // The retry leaves once the first is writing (its limit check passed).
    while (!inserting) await new Promise((r) => setTimeout(r, 5));
    const retry = await send(h, 'POST', '/transaction/init', initBody(N));
    const original = await first;
    expect(original.status).toBe(200);
    // Razer sees the retry's answer: it must agree with the first (a 200 replayed byte for byte).
    expect({ status: retry.status, body: retry.json }).toEqual({
      status: 200,
      body: original.json,
    });
  });
});

describe('mapping loader: shared aliases of a legitimate file', () => {
  it('loads a mapping of 101 SKUs that share one anchor (countries: *sea), as it loads 100', () => {
    const file = (n: number) => {
      let text = 'skus:\n';
      for (let i = 0; i < n; i++) {
        text += `  S${i}:\n    brand: MLBB\n    variation: MLBB112\n    max_price: 16000\n`;
        text += i === 0 ? '    countries: &sea [MY, ID, SG]\n' : '    countries: *sea\n';
      }
      return text;
    };
    const r100 = parseMapping(file(100), 'f.yaml');
    expect(r100.ok).toBe(true);
    const r101 = parseMapping(file(101), 'f.yaml');
    // Today: "YAML error: Excessive alias count indicates a resource exhaustion attack".
    expect(r101.ok ? 'loaded' : r101.errors).toBe('loaded');
  });
});
