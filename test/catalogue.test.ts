import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../src/log.js';
import { CatalogueService } from '../src/mitra/catalogue.js';
import { mitraSign } from '../src/mitra/signature.js';
import type { MitraSimulator } from '../src/sim/mitra-sim.js';
import { clientFor, SIM_KEYS, startSim } from './helpers/mitra.js';
import { countRows, type TempStore, tempStore } from './helpers/storage.js';

let sim: MitraSimulator;
let store: TempStore;
let now = 1_000_000;
/** The supplier call records being written: awaited before they are read. */
let recording: Promise<void>[] = [];

const service = (s: { url: string }, brands = ['MLBB', 'STEAM']) =>
  new CatalogueService({
    client: clientFor(s, {
      retry: { tries: 1 },
      record: (c) => {
        recording.push(store.recordSupplierCall(c));
      },
    }).client,
    store,
    brandsInUse: () => brands,
    now: () => now,
    logger: createLogger('silent'),
  });

beforeEach(async () => {
  sim = await startSim();
  store = await tempStore();
  recording = [];
});
afterEach(async () => {
  await sim.close();
  await Promise.allSettled(recording);
  await store.close();
});

describe('catalogue cache', () => {
  it('fetches all brands with their forms, and the variations of the mapped brands only', async () => {
    const catalogue = service(sim);
    expect(await catalogue.refreshAll()).toEqual({ brands: 'ok', variations: { MLBB: 'ok', STEAM: 'ok' } });
    expect(await catalogue.brand('MLBB')).toMatchObject({
      isVoucher: false,
      isActive: true,
      forms: [
        expect.objectContaining({ key: 'user_id', type: 'numeric' }),
        expect.objectContaining({ key: 'zone_id' }),
      ],
      fetchedAt: now,
    });
    expect((await catalogue.brand('GENSHIN'))?.forms[1]).toMatchObject({
      key: 'server',
      options: ['Asia', 'America', 'Europe', 'TW_HK_MO'],
    });
    expect(await catalogue.variation('MLBB', 'MLBB112')).toMatchObject({ price: 15000, isActive: true });
    expect(await catalogue.variation('MLBB', 'MLBB5000')).toMatchObject({ isActive: false });
    expect(await catalogue.variation('GENSHIN', 'GI60')).toBeUndefined();
    expect(sim.stats.calls).toMatchObject({ brands: 1, variations: 2 });
    await Promise.all(recording);
    expect(await countRows(store, 'supplier_calls')).toBe(3);
    const realSign = encodeURIComponent(mitraSign(SIM_KEYS.secretKey, 'brand'));
    // Every logged url ends with the redacted sign, and none holds the real one (it holds %:
    // not a LIKE pattern, so replace() finds it, on both dialects).
    expect(await countRows(store, 'supplier_calls', "url like '%sign=[redacted]'")).toBe(3);
    expect(await countRows(store, 'supplier_calls', `replace(url, '${realSign}', '') <> url`)).toBe(0);
    expect(await countRows(store, 'supplier_calls', "replace(url, 'sign=[redacted]', '') <> url")).toBe(3);
  });

  it('refreshes one brand on demand, replacing its variations whole', async () => {
    const catalogue = service(sim);
    await catalogue.refreshAll();
    sim.setVariation('MLBB', 'MLBB112', { price: 15500 });
    now += 5000;
    expect(await catalogue.refreshBrand('MLBB')).toBe('ok');
    expect(await catalogue.variation('MLBB', 'MLBB112')).toMatchObject({ price: 15500, fetchedAt: now });
  });

  it('shares one call between concurrent refreshes of the same brand', async () => {
    const catalogue = service(sim);
    sim.setFaults({ latencyMs: 50 });
    const [a, b] = await Promise.all([catalogue.refreshBrand('MLBB'), catalogue.refreshBrand('MLBB')]);
    expect([a, b]).toEqual(['ok', 'ok']);
    expect(sim.stats.calls.variations).toBe(1);
  });

  it('keeps serving the last cache when Mitra cannot be reached, and reports its age', async () => {
    const catalogue = service(sim);
    await catalogue.refreshAll();
    await sim.close();
    now += 3_600_000;
    const report = await catalogue.refreshAll();
    expect(report.brands).toMatch(/^kept last cache: (could not connect|connection lost)/);
    expect(report.variations.MLBB).toMatch(/^kept last cache/);
    expect(await catalogue.variation('MLBB', 'MLBB112')).toMatchObject({ price: 15000 });
    expect(await catalogue.age()).toEqual({ brandsMs: 3_600_000, oldestVariationsMs: 3_600_000 });
  });

  it('reports no age before the first fetch', async () => {
    expect(await service(sim).age()).toEqual({ brandsMs: null, oldestVariationsMs: null });
  });
});
