import type { Mapping } from '../config/mapping.js';
import type { Store } from '../db/store.js';
import type { CachedBrand, CachedVariation } from '../db/types.js';
import { type CatalogueSnapshot, checkMapping } from '../fulfilment/mapping-check.js';
import type { Limiter } from '../mitra/limiter.js';

type BrandView = Pick<CachedBrand, 'isActive' | 'isVoucher' | 'forms'>;
type VariationView = Pick<CachedVariation, 'name' | 'price' | 'isActive'>;

/** A catalogue snapshot as JSON: brands by key; variations by brand, then key. */
export interface CatalogueJson {
  brands: Record<string, BrandView>;
  /** A brand absent here: its variations could not be fetched. */
  variations: Record<string, Record<string, VariationView>>;
}

export const snapshotFromJson = (json: CatalogueJson): CatalogueSnapshot => ({
  brands: new Map(Object.entries(json.brands)),
  variations: new Map(
    Object.entries(json.variations).map(([brand, v]) => [brand, new Map(Object.entries(v))]),
  ),
});

/**
 * What the cache holds about these (brand, variation) pairs. `fetched(brand)` says whether the
 * brand's variations were fetched at all; a pair missing from a fetched brand does not exist.
 */
export async function cachedCatalogue(
  store: Pick<Store, 'getBrand' | 'getVariation'>,
  pairs: Iterable<{ brand: string; variation: string }>,
  fetched: (brand: string) => boolean = () => true,
): Promise<CatalogueJson> {
  const json: CatalogueJson = { brands: {}, variations: {} };
  for (const { brand, variation } of pairs) {
    if (!(brand in json.brands)) {
      const row = await store.getBrand(brand);
      if (row) json.brands[brand] = { isActive: row.isActive, isVoucher: row.isVoucher, forms: row.forms };
    }
    if (!fetched(brand)) continue;
    json.variations[brand] ??= {};
    const found = await store.getVariation(brand, variation);
    if (found)
      json.variations[brand][variation] = { name: found.name, price: found.price, isActive: found.isActive };
  }
  return json;
}

export interface SupplierReportDeps {
  store: Pick<Store, 'getBrand' | 'getVariation'>;
  mapping: () => Mapping;
  catalogueAge: () => Promise<{ brandsMs: number | null; oldestVariationsMs: number | null }>;
  limiter: Pick<Limiter, 'stats'>;
  balance: () => Promise<{ idr: number; at: number } | null>;
  balanceAlertBelowIdr: number | null;
  now: () => number;
}

/** GET /admin/supplier: the balance, the catalogue's age, the limiter, every SKU's margin. */
export async function supplierReport(deps: SupplierReportDeps) {
  const mapping = deps.mapping();
  const catalogue = await cachedCatalogue(deps.store, mapping.skus.values());
  const check = checkMapping(mapping, snapshotFromJson(catalogue));
  const age = await deps.catalogueAge();
  const balance = await deps.balance();
  return {
    balance,
    balanceAlertBelowIdr: deps.balanceAlertBelowIdr,
    balanceLow:
      balance !== null && deps.balanceAlertBelowIdr !== null && balance.idr < deps.balanceAlertBelowIdr,
    catalogue: {
      brandsAgeSeconds: age.brandsMs === null ? null : Math.round(age.brandsMs / 1000),
      oldestVariationsAgeSeconds:
        age.oldestVariationsMs === null ? null : Math.round(age.oldestVariationsMs / 1000),
    },
    limiter: deps.limiter.stats(),
    skus: check.rows,
    problems: check.problems,
  };
}

export type SupplierReport = Awaited<ReturnType<typeof supplierReport>>;
