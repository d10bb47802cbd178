import { and, eq, inArray, min, sql } from 'drizzle-orm';
import type { BrandInput, CachedBrand, CachedVariation, VariationInput } from '../types.js';
import type { Db } from './connection.js';
import { prepared } from './prepared.js';
import { catalogueBrands, catalogueVariations } from './schema.js';

/** The brand list replaces the cached one whole: a brand Mitra no longer lists is gone. */
export function replaceBrands(db: Db, brands: readonly BrandInput[], at: number): void {
  db.transaction((tx) => {
    tx.delete(catalogueBrands).run();
    for (const b of brands)
      tx.insert(catalogueBrands)
        .values({ ...b, fetchedAt: at })
        .run();
  });
}

/** One brand's variations, replaced whole. */
export function replaceVariations(
  db: Db,
  brandKey: string,
  variations: readonly VariationInput[],
  at: number,
): void {
  db.transaction((tx) => {
    tx.delete(catalogueVariations).where(eq(catalogueVariations.brandKey, brandKey)).run();
    for (const v of variations)
      tx.insert(catalogueVariations)
        .values({ ...v, brandKey, fetchedAt: at })
        .run();
  });
}

const BRAND = Symbol('brand by key');
const VARIATION = Symbol('variation by keys');

export function getBrand(db: Db, brandKey: string): CachedBrand | undefined {
  return prepared(db, BRAND, (d) =>
    d
      .select()
      .from(catalogueBrands)
      .where(eq(catalogueBrands.brandKey, sql.placeholder('brandKey')))
      .prepare(),
  ).get({ brandKey });
}

export function getVariation(db: Db, brandKey: string, variationKey: string): CachedVariation | undefined {
  return prepared(db, VARIATION, (d) =>
    d
      .select()
      .from(catalogueVariations)
      .where(
        and(
          eq(catalogueVariations.brandKey, sql.placeholder('brandKey')),
          eq(catalogueVariations.variationKey, sql.placeholder('variationKey')),
        ),
      )
      .prepare(),
  ).get({ brandKey, variationKey });
}

/** When the brand list and the stalest variation list were fetched (null: never). */
export function catalogueFetchedAt(
  db: Db,
  brandKeys?: readonly string[],
): { brands: number | null; oldestVariations: number | null } {
  const brands =
    db
      .select({ at: min(catalogueBrands.fetchedAt) })
      .from(catalogueBrands)
      .get()?.at ?? null;
  const variations =
    db
      .select({ at: min(catalogueVariations.fetchedAt) })
      .from(catalogueVariations)
      .where(brandKeys ? inArray(catalogueVariations.brandKey, [...brandKeys]) : undefined)
      .get()?.at ?? null;
  return { brands, oldestVariations: variations };
}
