import type { Mapping, SkuMapping } from '../config/mapping.js';
import type { TemplatePart } from '../config/template.js';
import type { CachedBrand, CachedVariation } from '../db/types.js';
import { formProblem, isVoucherProduct } from './purchase-checks.js';

/** The catalogue as last fetched; full cached rows fit too. */
export interface CatalogueSnapshot {
  brands: ReadonlyMap<string, Pick<CachedBrand, 'isActive' | 'isVoucher' | 'forms'>>;
  /**
   * By brand key, then variation key. A brand absent here had its variations never fetched
   * (only the brands in use are); an empty map means fetched, and it has none.
   */
  variations: ReadonlyMap<string, ReadonlyMap<string, Pick<CachedVariation, 'name' | 'price' | 'isActive'>>>;
}

export type MappingCheckRow = Pick<SkuMapping, 'sku' | 'enabled' | 'brand' | 'variation' | 'maxPrice'> & {
  price: CachedVariation['price'] | null;
  /** maxPrice - price: what the ceiling leaves above the supplier's price. */
  margin: number | null;
  /** margin / maxPrice * 100, one decimal. */
  marginPercent: number | null;
  /** Brand and variation both known and active: what the init checks need to sell it. */
  active: boolean;
  /** Every problem of the SKU, one line each naming it; "(disabled)" on a disabled SKU. */
  problems: string[];
};

export interface MappingCheck {
  /** One per mapped SKU, in mapping order, enabled or not. */
  rows: MappingCheckRow[];
  /**
   * The enabled SKUs' problems only: a disabled SKU is not sold, so its problems (still in its
   * row) block nothing.
   */
  problems: string[];
}

/** Compares the mapping with the last fetched catalogue: what would keep each SKU from selling. */
export function checkMapping(mapping: Mapping, catalogue: CatalogueSnapshot): MappingCheck {
  const rows = [...mapping.skus.values()].map((entry) => checkSku(entry, catalogue));
  return { rows, problems: rows.filter((r) => r.enabled).flatMap((r) => r.problems) };
}

function checkSku(entry: SkuMapping, catalogue: CatalogueSnapshot): MappingCheckRow {
  const { sku, enabled, brand: brandKey, variation: variationKey, maxPrice } = entry;
  const problems: string[] = [];
  const problem = (text: string) => problems.push(`SKU ${sku}${enabled ? '' : ' (disabled)'}: ${text}`);

  const brand = catalogue.brands.get(brandKey);
  const variations = catalogue.variations.get(brandKey);
  const variation = variations?.get(variationKey);
  // Nothing is said of the variation, forms or voucher flag of a brand the catalogue lacks:
  // they are unknown, not wrong.
  if (!brand) problem(`brand ${brandKey} not found in the catalogue`);
  else {
    if (!brand.isActive) problem(`brand ${brandKey} is inactive`);
    if (!variations) problem(`variations of brand ${brandKey} not fetched yet: ${variationKey} unknown`);
    else if (!variation) problem(`variation ${variationKey} not found in brand ${brandKey}`);
    else if (!variation.isActive) problem(`variation ${variationKey} of brand ${brandKey} is inactive`);
    for (const text of formProblems(entry, brand.forms, brandKey)) problem(text);
    if (isVoucherProduct(entry.voucher, brand.isVoucher) === null) {
      problem(
        'neither the catalogue nor the mapping says whether it is a voucher (set voucher: true or false)',
      );
    }
  }

  const price = variation?.price ?? null;
  const margin = price === null ? null : maxPrice - price;
  if (margin !== null && margin < 0) {
    problem(`price ${price} is above max_price ${maxPrice} (margin ${margin})`);
  }
  return {
    sku,
    enabled,
    brand: brandKey,
    variation: variationKey,
    price,
    maxPrice,
    margin,
    marginPercent: margin === null ? null : oneDecimal((margin / maxPrice) * 100),
    active: Boolean(brand?.isActive && variation?.isActive),
    problems,
  };
}

function formProblems(entry: SkuMapping, forms: CachedBrand['forms'], brandKey: string): string[] {
  const filled = new Map(entry.form.map((f) => [f.key, f.parts]));
  const out: string[] = [];
  for (const form of forms) {
    const parts = filled.get(form.key);
    if (!parts) {
      const alias = form.alias && form.alias !== form.key ? ` (${form.alias})` : '';
      out.push(`form ${form.key}${alias} of brand ${brandKey} is never filled by the mapping`);
      continue;
    }
    // A value templated from the request is only known per purchase, where the init checks judge it.
    const value = fixedValue(parts);
    const wrong = value === null ? null : formProblem([{ key: form.key, value }], [form]);
    if (wrong) out.push(`form ${form.key} is fixed to "${value}": ${wrong}`);
  }
  const known = new Set(forms.map((f) => f.key));
  for (const key of filled.keys()) {
    if (!known.has(key)) out.push(`the mapping fills form ${key}, which brand ${brandKey} does not have`);
  }
  return out;
}

function fixedValue(parts: readonly TemplatePart[]): string | null {
  let value = '';
  for (const part of parts) {
    if (part.kind !== 'literal') return null;
    value += part.text;
  }
  return value;
}

/** Rounds half away from zero, so that a margin and its opposite show the same digits; never -0. */
function oneDecimal(n: number): number {
  return (Math.sign(n) * Math.round(Math.abs(n) * 10)) / 10 + 0;
}
