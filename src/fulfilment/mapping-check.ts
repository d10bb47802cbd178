import type { Mapping, SkuMapping } from '../config/mapping.js';
import type { TemplatePart } from '../config/template.js';
import type { CachedBrand, CachedVariation } from '../db/types.js';
import type { BalanceVerdict } from './balance-guard.js';
import {
  type Choice,
  chooseVariation,
  formProblem,
  isVoucherProduct,
  optionName,
  optionsOf,
  passedOverText,
  reasonText,
  type SkuKind,
  skuKind,
  type VariationOption,
} from './choose-variation.js';

/** The catalogue as last fetched; full cached rows fit too. */
export interface CatalogueSnapshot {
  brands: ReadonlyMap<string, Pick<CachedBrand, 'isActive' | 'isVoucher' | 'forms'>>;
  /**
   * By brand key, then variation key. A brand absent here had its variations never fetched
   * (only the brands in use are); an empty map means fetched, and it has none.
   */
  variations: ReadonlyMap<string, ReadonlyMap<string, Pick<CachedVariation, 'name' | 'price' | 'isActive'>>>;
}

/** One supplier product of a SKU against the catalogue: its price, margin and problems. */
export interface OptionCheck {
  brand: string;
  variation: string;
  maxPrice: number;
  price: CachedVariation['price'] | null;
  /** maxPrice - price: what the ceiling leaves above the supplier's price. */
  margin: number | null;
  /** margin / maxPrice * 100, one decimal. */
  marginPercent: number | null;
  /** Brand and variation both known and active: what the init checks need to sell it. */
  active: boolean;
  /** Every problem of the option, one line each naming its SKU; "(disabled)" on a disabled SKU. */
  problems: string[];
}

/** What a sale of the SKU goes through now. */
export interface SellingOption {
  choice: Choice;
  brand: string;
  variation: string;
  price: number;
  maxPrice: number;
}

export type MappingCheckRow = Pick<SkuMapping, 'sku' | 'enabled'> &
  OptionCheck & {
    /**
     * The option a sale would go through now, chosen as init chooses (the first that can sell);
     * null when the SKU is disabled or none can. The balance counts only where it is given.
     */
    sellsThrough: SellingOption | null;
    /** Why each option before that one (every option, when none can sell) is passed over, one line each. */
    passedOver: string[];
    /** The SKU's backups in order (backup 1 first), each checked as the main is. */
    backups: (OptionCheck & { choice: Choice })[];
  };

export interface MappingCheck {
  /** One per mapped SKU, in mapping order, enabled or not. */
  rows: MappingCheckRow[];
  /**
   * The enabled SKUs' problems only: a disabled SKU is not sold, so its problems (still in its
   * row) block nothing. While a SKU with backups sells through one of its options, the others'
   * passing states (inactive, above the ceiling, a backup's forms) are `warnings`; what the
   * operator must fix still blocks: an option not found in the catalogue (a typo sells through a
   * dearer backup for good), a backup whose kind is not the SKU's, the main's forms.
   */
  problems: string[];
  /** Passing problems of the options of an enabled SKU that sells through another. */
  warnings: string[];
}

/**
 * Compares the mapping with the last fetched catalogue: what would keep each SKU from selling,
 * and which option each sells through now. `balance`: the balance guard's verdict on a price
 * (absent: the balance is not judged).
 */
export function checkMapping(
  mapping: Mapping,
  catalogue: CatalogueSnapshot,
  balance?: (price: number) => BalanceVerdict,
): MappingCheck {
  const checked = [...mapping.skus.values()].map((entry) => checkSku(entry, catalogue, balance));
  const enabled = checked.filter((c) => c.row.enabled);
  return {
    rows: checked.map((c) => c.row),
    problems: enabled.flatMap((c) => c.blocking),
    warnings: enabled.flatMap((c) => c.warnings),
  };
}

function checkSku(
  entry: SkuMapping,
  catalogue: CatalogueSnapshot,
  balance: ((price: number) => BalanceVerdict) | undefined,
): { row: MappingCheckRow; blocking: string[]; warnings: string[] } {
  const { sku, enabled } = entry;
  const options = optionsOf(entry);
  const withBackups = options.length > 1;
  // What the SKU sells (voucher or top-up), as init decides it: a backup must show the same.
  const kind = skuKind(entry.voucher, entry.brand, catalogue.brands.get(entry.brand));
  // A SKU without backups says its problems as it always has; with backups, each names its option.
  const checks = options.map((option) =>
    checkOption(entry, option, catalogue, withBackups ? `${optionName(option)}: ` : '', kind),
  );
  const [main, ...backups] = checks as [OptionChecked, ...OptionChecked[]];
  const states = options.map((option) => ({
    option,
    brand: catalogue.brands.get(option.brand),
    variation: catalogue.variations.get(option.brand)?.get(option.variation),
  }));
  const choose = (judge: (price: number) => BalanceVerdict) =>
    chooseVariation({
      states,
      voucher: entry.voucher,
      formProblem: (option, forms) => formProblems(entry, forms, option.brand)[0] ?? null,
      balance: judge,
    });
  const unjudged = (): BalanceVerdict => ({ kind: 'unknown' });
  const choice = choose(balance ?? unjudged);
  const problems = checks.flatMap((c) => c.check.problems);
  // Whether the catalogue lets it sell through some option (the balance is not a mapping problem).
  const sells = !withBackups || (balance ? choose(unjudged) : choice).ok;
  // While some option sells, only what the operator must fix blocks (see MappingCheck.problems).
  const blocking = withBackups && sells ? checks.flatMap((c) => c.blocking) : problems;
  return {
    row: {
      sku,
      enabled,
      ...main.check,
      sellsThrough:
        enabled && choice.ok
          ? {
              choice: choice.option.choice,
              brand: choice.option.brand,
              variation: choice.option.variation,
              price: choice.price,
              maxPrice: choice.option.maxPrice,
            }
          : null,
      passedOver: enabled ? passedOverText(choice.passedOver) : [],
      backups: backups.map((b, i) => ({ choice: (options[i + 1] as VariationOption).choice, ...b.check })),
    },
    blocking,
    warnings: withBackups && sells ? problems.filter((p) => !blocking.includes(p)) : [],
  };
}

interface OptionChecked {
  check: OptionCheck;
  /**
   * Those of its problems that block even while another option sells: not found in the
   * catalogue, a backup of another kind than the SKU's (or of none known), the main's forms
   * (they judge every request: INVALID_ACCT whatever option would sell).
   */
  blocking: string[];
}

function checkOption(
  entry: SkuMapping,
  option: VariationOption,
  catalogue: CatalogueSnapshot,
  prefix: string,
  kind: SkuKind,
): OptionChecked {
  const { sku, enabled } = entry;
  const { brand: brandKey, variation: variationKey, maxPrice } = option;
  const problems: string[] = [];
  const blocking: string[] = [];
  const line = (text: string) => `SKU ${sku}${enabled ? '' : ' (disabled)'}: ${prefix}${text}`;
  const problem = (text: string) => problems.push(line(text));
  const blocker = (text: string) => {
    problem(text);
    blocking.push(line(text));
  };

  const brand = catalogue.brands.get(brandKey);
  const variations = catalogue.variations.get(brandKey);
  const variation = variations?.get(variationKey);
  // Nothing is said of the variation, forms or voucher flag of a brand the catalogue lacks:
  // they are unknown, not wrong.
  if (!brand) blocker(`brand ${brandKey} not found in the catalogue`);
  else {
    if (!brand.isActive) problem(`brand ${brandKey} is inactive`);
    if (!variations) problem(`variations of brand ${brandKey} not fetched yet: ${variationKey} unknown`);
    else if (!variation) blocker(`variation ${variationKey} not found in brand ${brandKey}`);
    else if (!variation.isActive) problem(`variation ${variationKey} of brand ${brandKey} is inactive`);
    // A backup of the main's brand has the main's forms: said once, of the main.
    // The main's forms judge every request (INVALID_ACCT whatever option would sell): they block.
    if (option.rank === 0 || brandKey !== entry.brand) {
      const say = option.rank === 0 ? blocker : problem;
      for (const text of formProblems(entry, brand.forms, brandKey)) say(text);
    }
    if (option.rank === 0) {
      if (isVoucherProduct(entry.voucher, brand.isVoucher) === null)
        problem(
          'neither the catalogue nor the mapping says whether it is a voucher (set voucher: true or false)',
        );
    } else {
      // As chooseVariation judges a backup: the SKU's kind decided, and its own entry showing it.
      const text =
        kind.isVoucher === null
          ? reasonText(option, { kind: 'sku-kind-unknown', why: kind.said })
          : brand.isVoucher === null
            ? `never chosen: ${reasonText(option, { kind: 'backup-kind-unknown', skuIsVoucher: kind.isVoucher })}`
            : brand.isVoucher !== kind.isVoucher
              ? `never chosen: ${reasonText(option, { kind: 'other-kind', isVoucher: brand.isVoucher, said: kind.said })}`
              : null;
      if (text !== null) blocker(text);
    }
  }

  const price = variation?.price ?? null;
  const margin = price === null ? null : maxPrice - price;
  if (margin !== null && margin < 0) {
    problem(`price ${price} is above max_price ${maxPrice} (margin ${margin})`);
  }
  return {
    check: {
      brand: brandKey,
      variation: variationKey,
      price,
      maxPrice,
      margin,
      marginPercent: margin === null ? null : oneDecimal((margin / maxPrice) * 100),
      active: Boolean(brand?.isActive && variation?.isActive),
      problems,
    },
    blocking,
  };
}

function formProblems(entry: SkuMapping, forms: Readonly<CachedBrand['forms']>, brandKey: string): string[] {
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
