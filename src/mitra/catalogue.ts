import type { Store } from '../db/store.js';
import type { CachedBrand, CachedVariation } from '../db/types.js';
import type { Logger } from '../log.js';
import type { MitraClient } from './client.js';
import type { MitraOutcome } from './outcome.js';

/** What the init checks read: the last fetched catalogue, never a live call. */
export interface CatalogueView {
  brand(brandKey: string): Promise<CachedBrand | undefined>;
  variation(brandKey: string, variationKey: string): Promise<CachedVariation | undefined>;
}

export type RefreshReport = { brands: string; variations: Record<string, string> };

export interface CatalogueServiceDeps {
  client: Pick<MitraClient, 'brands' | 'variations'>;
  store: Pick<
    Store,
    'replaceBrands' | 'replaceVariations' | 'getBrand' | 'getVariation' | 'catalogueFetchedAt'
  >;
  /**
   * Whether this instance takes the periodic refresh (`ttlMs`: until it asks again); one
   * instance at a time refreshes, the others read what it stored. Default: always.
   */
  turn?: (job: string, ttlMs: number) => Promise<boolean>;
  /** Brands the mapping sells: only their variations are fetched, to spare the rate limit. */
  brandsInUse: () => Iterable<string>;
  now: () => number;
  logger: Logger;
  intervalMs?: number;
}

export class CatalogueService implements CatalogueView {
  readonly #d: CatalogueServiceDeps;
  readonly #inFlight = new Map<string, Promise<string>>();
  #timer: NodeJS.Timeout | null = null;

  constructor(deps: CatalogueServiceDeps) {
    this.#d = deps;
  }

  brand(brandKey: string): Promise<CachedBrand | undefined> {
    return this.#d.store.getBrand(brandKey);
  }

  variation(brandKey: string, variationKey: string): Promise<CachedVariation | undefined> {
    return this.#d.store.getVariation(brandKey, variationKey);
  }

  /**
   * Age of the brand list and of the stalest variation list of the brands sold, in ms (null:
   * never fetched). Brands cached but not sold (a product webhook's) are not refreshed, so not counted.
   */
  async age(): Promise<{ brandsMs: number | null; oldestVariationsMs: number | null }> {
    const at = await this.#d.store.catalogueFetchedAt([...new Set(this.#d.brandsInUse())]);
    const now = this.#d.now();
    return {
      brandsMs: at.brands === null ? null : now - at.brands,
      oldestVariationsMs: at.oldestVariations === null ? null : now - at.oldestVariations,
    };
  }

  async refreshAll(): Promise<RefreshReport> {
    const brands = await this.refreshBrandList();
    const variations: Record<string, string> = {};
    for (const brandKey of new Set(this.#d.brandsInUse()))
      variations[brandKey] = await this.refreshBrand(brandKey);
    return { brands, variations };
  }

  /** Fetches the brand list now: 'ok', or why the last cache was kept. */
  refreshBrandList(): Promise<string> {
    return this.#once('*brands*', async () => {
      const outcome = await this.#d.client.brands();
      if (outcome.kind !== 'accepted') return this.#kept('brands', outcome);
      await this.#d.store.replaceBrands(
        outcome.data.map((b) => ({
          brandKey: b.key,
          name: b.name,
          isVoucher: b.is_voucher,
          isActive: b.is_active,
          forms: b.forms.map((f) => ({ key: f.key, type: f.type, alias: f.alias, options: f.options })),
        })),
        this.#d.now(),
      );
      return 'ok';
    });
  }

  /** Fetches one brand's variations now (a price changed, a Product Status webhook came). */
  refreshBrand(brandKey: string): Promise<string> {
    return this.#once(brandKey, async () => {
      const outcome = await this.#d.client.variations(brandKey);
      if (outcome.kind !== 'accepted') return this.#kept(`variations of ${brandKey}`, outcome);
      await this.#d.store.replaceVariations(
        brandKey,
        outcome.data.map((v) => ({
          variationKey: v.key,
          name: v.variation_name,
          price: v.price,
          isActive: v.is_active,
        })),
        this.#d.now(),
      );
      return 'ok';
    });
  }

  /**
   * Refreshes now and then every `intervalMs` (10 minutes by default), when it is this
   * instance's turn; null when another instance refreshes.
   */
  start(): Promise<RefreshReport | null> {
    const every = this.#d.intervalMs ?? 600_000;
    const turn = this.#d.turn ?? (async () => true);
    // The turn outlasts one interval a little, so that its holder keeps it while alive.
    const run = async () => ((await turn('catalogue-refresh', every + every / 2)) ? this.refreshAll() : null);
    const first = run();
    this.#timer = setInterval(() => {
      run().catch((err: unknown) => this.#d.logger.error({ err }, 'catalogue refresh could not start'));
    }, every);
    this.#timer.unref();
    return first;
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await Promise.allSettled(this.#inFlight.values());
  }

  #once(key: string, run: () => Promise<string>): Promise<string> {
    const running = this.#inFlight.get(key);
    if (running) return running;
    const p = run()
      .catch((err: unknown) => `failed: ${err instanceof Error ? err.message : String(err)}`)
      .finally(() => this.#inFlight.delete(key));
    this.#inFlight.set(key, p);
    return p;
  }

  #kept(what: string, outcome: MitraOutcome<unknown>): string {
    const reason =
      outcome.kind === 'refused'
        ? `refused (rc ${outcome.rc}: ${outcome.message})`
        : outcome.kind === 'accepted' || outcome.kind === 'exists'
          ? outcome.kind
          : outcome.reason;
    this.#d.logger.warn({ what, reason }, 'catalogue refresh failed: the last cache keeps serving');
    return `kept last cache: ${reason}`;
  }
}
