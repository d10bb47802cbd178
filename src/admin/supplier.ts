import type { Mapping } from '../config/mapping.js';
import type { Store } from '../db/store.js';
import type { CachedBrand, CachedVariation } from '../db/types.js';
import type { BalanceVerdict } from '../fulfilment/balance-guard.js';
import { optionsOf } from '../fulfilment/choose-variation.js';
import { type CatalogueSnapshot, checkMapping, type SellingOption } from '../fulfilment/mapping-check.js';
import type { SupplierGuardFigures } from '../fulfilment/queue-guard.js';
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
  /**
   * The init guards' figures (the committed balance, the queue and its expected wait); unknown
   * (null), with the reason, while the open purchases cannot be read.
   */
  guards: () => Promise<SupplierGuardFigures>;
  /**
   * What init's balance guard would say of a price now, to tell which variation each SKU sells
   * through (absent, or undefined: the balance is not judged, as at init without a reading).
   */
  balanceJudge?: () => Promise<((price: number) => BalanceVerdict) | undefined>;
  now: () => number;
}

/** Every (brand, variation) a mapping may sell through: each SKU's main, then its backups. */
export const mappedOptions = (mapping: Mapping) => [...mapping.skus.values()].flatMap(optionsOf);

/** Which variation each enabled SKU sells through now (null: none can), as init would choose. */
export async function sellingNow(
  deps: Pick<SupplierReportDeps, 'store' | 'mapping' | 'balanceJudge'>,
): Promise<{ sku: string; sellsThrough: SellingOption | null }[]> {
  const mapping = deps.mapping();
  const catalogue = await cachedCatalogue(deps.store, mappedOptions(mapping));
  const check = checkMapping(mapping, snapshotFromJson(catalogue), await deps.balanceJudge?.());
  return check.rows.filter((r) => r.enabled).map((r) => ({ sku: r.sku, sellsThrough: r.sellsThrough }));
}

/**
 * GET /admin/supplier: the balance, the catalogue's age, the limiter, the init guards' figures,
 * every SKU's margin.
 */
export async function supplierReport(deps: SupplierReportDeps) {
  const mapping = deps.mapping();
  const catalogue = await cachedCatalogue(deps.store, mappedOptions(mapping));
  const check = checkMapping(mapping, snapshotFromJson(catalogue), await deps.balanceJudge?.());
  const age = await deps.catalogueAge();
  const balance = await deps.balance();
  // Never fails: figures the open purchases cannot give are shown unknown, with the reason.
  const guards = await deps.guards();
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
    guards: {
      ...guards,
      // What the balance guard sells against: a SKU whose price is above it is refused at init.
      availableIdr:
        balance === null || guards.committedIdr === null ? null : balance.idr - guards.committedIdr,
    },
    skus: check.rows,
    problems: check.problems,
    warnings: check.warnings,
  };
}

export type SupplierReport = Awaited<ReturnType<typeof supplierReport>>;
