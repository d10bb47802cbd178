/**
 * The scenario products are variation keys whose brands are unknown: found here by reading as
 * few brands' variations as it can, each read recorded in the catalogue observation.
 */
import type { MitraOutcome } from '../../mitra/outcome.js';
import type { MitraBrand, MitraVariation } from '../../mitra/schemas.js';
import { brandSearchOrder, MAX_BRAND_SEARCH, type Product } from '../plan.js';
import type { CatalogueObservation } from '../report.js';

/** Finds scenario products in the catalogue, reading as few brands' variations as it can. */
export class ProductFinder {
  readonly #variations = new Map<string, MitraVariation[] | null>();
  constructor(
    private readonly brands: readonly MitraBrand[],
    private readonly catalogue: CatalogueObservation,
    private readonly read: (brandKey: string) => Promise<MitraOutcome<MitraVariation[]>>,
  ) {}

  async #of(brandKey: string): Promise<MitraVariation[] | null> {
    if (this.#variations.has(brandKey)) return this.#variations.get(brandKey) ?? null;
    const r = await this.read(brandKey);
    const list = r.kind === 'accepted' ? r.data : null;
    this.#variations.set(brandKey, list);
    this.catalogue.searched.push({ brand: brandKey, outcome: r.kind, variations: list?.length ?? 0 });
    return list;
  }

  #product(b: MitraBrand, v: MitraVariation): Product {
    return { brandKey: b.key, variationKey: v.key, price: v.price, forms: b.forms, isVoucher: b.is_voucher };
  }

  async find(variationKey: string): Promise<Product | null> {
    for (const b of brandSearchOrder(this.brands, variationKey)) {
      if (!this.#variations.has(b.key) && this.#variations.size >= MAX_BRAND_SEARCH) {
        this.catalogue.missing.push({
          key: variationKey,
          why: `not in the variations of the ${this.#variations.size} brands read (at most ${MAX_BRAND_SEARCH})`,
        });
        return null;
      }
      const v = (await this.#of(b.key))?.find((x) => x.key === variationKey);
      if (v) return this.#product(b, v);
    }
    this.catalogue.missing.push({ key: variationKey, why: 'in no brand of the catalogue' });
    return null;
  }

  async named(ref: { brandKey: string; variationKey: string }, flag: string): Promise<Product | null> {
    const b = this.brands.find((x) => x.key === ref.brandKey);
    const key = `${ref.brandKey}/${ref.variationKey}`;
    if (!b) {
      this.catalogue.missing.push({ key, why: `${flag}: no brand ${ref.brandKey} in the catalogue` });
      return null;
    }
    const list = await this.#of(b.key);
    const v = list?.find((x) => x.key === ref.variationKey);
    if (!v) {
      this.catalogue.missing.push({
        key,
        why: list
          ? `${flag}: ${ref.brandKey} has no variation ${ref.variationKey}`
          : `${flag}: the variations of ${ref.brandKey} could not be read`,
      });
      return null;
    }
    return this.#product(b, v);
  }
}
