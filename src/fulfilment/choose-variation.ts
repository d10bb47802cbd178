import type { FormField } from '../config/form-data.js';
import type { SaleRevenue, SkuMapping } from '../config/mapping.js';
import type { CachedBrand, CachedVariation, CatalogueForm } from '../db/types.js';
import type { BalanceVerdict } from './balance-guard.js';
import type { RefusalCode, RefusalReason } from './refusal.js';

// Which supplier product a sale goes through: the SKU's main variation, or, when that one cannot
// sell now, the first of its backups that can. Pure: the caller reads the catalogue and the
// balance; init, `gateway check --online`, the supplier page and the metrics all choose here.

/** How an option is named in labels: the main, or backup n (counted from 1, in mapping order). */
export type Choice = 'main' | `backup${number}`;

/** One supplier product a SKU may sell through, with what a sale through it records. */
export interface VariationOption {
  choice: Choice;
  /** 0 for the main, n for backup n. */
  rank: number;
  brand: string;
  variation: string;
  maxPrice: number;
  /** What a sale through it earns (a backup's own, else the SKU's). */
  revenue: SaleRevenue | null;
}

/** The SKU's options in the order they are tried: the main, then each backup as listed. */
export function optionsOf(
  entry: Pick<SkuMapping, 'brand' | 'variation' | 'maxPrice' | 'revenue' | 'backups'>,
): VariationOption[] {
  const main: VariationOption = {
    choice: 'main',
    rank: 0,
    brand: entry.brand,
    variation: entry.variation,
    maxPrice: entry.maxPrice,
    revenue: entry.revenue,
  };
  return [
    main,
    ...entry.backups.map(
      (b, i): VariationOption => ({
        choice: `backup${i + 1}`,
        rank: i + 1,
        brand: b.brand,
        variation: b.variation,
        maxPrice: b.maxPrice,
        revenue: b.revenue,
      }),
    ),
  ];
}

/** "main MLBB/MLBB112", "backup 1 MLBB/MLBB86". */
export const optionName = (o: Pick<VariationOption, 'rank' | 'brand' | 'variation'>): string =>
  `${o.rank === 0 ? 'main' : `backup ${o.rank}`} ${o.brand}/${o.variation}`;

/** An option with what the last fetched catalogue says of it (undefined: not in it). */
export interface OptionState {
  option: VariationOption;
  brand: Pick<CachedBrand, 'isActive' | 'isVoucher' | 'forms'> | undefined;
  variation: Pick<CachedVariation, 'price' | 'isActive'> | undefined;
}

/** Why an option cannot sell now, in the order they are judged. */
export type PassReason =
  | { kind: 'no-brand' }
  | { kind: 'no-variation' }
  | { kind: 'brand-inactive' }
  | { kind: 'variation-inactive' }
  | { kind: 'above-ceiling'; price: number }
  /** The main: neither the catalogue nor the mapping says whether it is a voucher. */
  | { kind: 'kind-unknown' }
  /** A backup, while what the SKU sells (voucher or top-up) cannot be decided; `why` says why. */
  | { kind: 'sku-kind-unknown'; why: string }
  /** A backup whose own catalogue entry does not say whether it is a voucher. */
  | { kind: 'backup-kind-unknown'; skuIsVoucher: boolean }
  /** A backup that is a voucher where the SKU is a top-up, or the reverse; `said`: who says the SKU's. */
  | { kind: 'other-kind'; isVoucher: boolean; said: string }
  /** A backup of another brand whose forms do not take the order data. */
  | { kind: 'form'; problem: string }
  | { kind: 'balance'; price: number; available: number };

export interface PassedOver {
  option: VariationOption;
  reason: PassReason;
}

export type VariationChoice =
  | {
      ok: true;
      option: VariationOption;
      /** The supplier's price of the chosen option now. */
      price: number;
      isVoucher: boolean;
      /** The options before it, each with why it was passed over. */
      passedOver: PassedOver[];
    }
  /** Every option, each with why it cannot sell. */
  | { ok: false; passedOver: PassedOver[] };

export interface ChoiceInput {
  /** The options with their catalogue state, main first (optionsOf's order). */
  states: readonly OptionState[];
  /** The mapping's `voucher` flag (null: it does not say). */
  voucher: boolean | null;
  /**
   * Why a brand's forms do not take the order, or null. Asked only of a backup whose brand is not
   * the main's: the main brand's forms judge the account itself before any choice (INVALID_ACCT).
   */
  formProblem: (option: VariationOption, forms: readonly CatalogueForm[]) => string | null;
  /** The balance guard's verdict on a price; asked last, only of an option that passed the rest. */
  balance: (price: number) => BalanceVerdict;
}

/** What a SKU sells, a voucher or a top-up (null: it cannot be decided), and who says so. */
export interface SkuKind {
  isVoucher: boolean | null;
  /** "as voucher: true in the mapping says"; when undecided, why not. */
  said: string;
}

/**
 * What Razer sells under a SKU: a voucher or a top-up, fixed by the mapping's `voucher` flag and
 * the catalogue's entry of the main's brand, as isVoucherProduct decides for the main itself.
 * A backup's own entry never changes it. While the main's brand is not in the catalogue, only
 * `voucher: true` decides (the main's is_voucher, unknown then, could make a voucher of a SKU the
 * mapping calls a top-up).
 */
export function skuKind(
  voucher: boolean | null,
  mainBrandKey: string,
  mainBrand: Pick<CachedBrand, 'isVoucher'> | undefined,
): SkuKind {
  if (!mainBrand) {
    if (voucher === true) return { isVoucher: true, said: 'as voucher: true in the mapping says' };
    return {
      isVoucher: null,
      said:
        voucher === false
          ? `brand ${mainBrandKey} of the main is not in the catalogue, and voucher: false in the mapping does not settle it (the brand's is_voucher may make it a voucher)`
          : `brand ${mainBrandKey} of the main is not in the catalogue, and the mapping does not set voucher:`,
    };
  }
  const isVoucher = isVoucherProduct(voucher, mainBrand.isVoucher);
  if (isVoucher === null)
    return {
      isVoucher,
      said: `neither the catalogue (brand ${mainBrandKey}) nor the mapping says whether the main is a voucher`,
    };
  const byMapping = voucher === isVoucher;
  const byCatalogue = mainBrand.isVoucher === isVoucher;
  const said =
    byMapping && byCatalogue
      ? `as the mapping and the catalogue's brand ${mainBrandKey} say`
      : byMapping
        ? `as voucher: ${isVoucher} in the mapping says`
        : `as the catalogue says of brand ${mainBrandKey}`;
  return { isVoucher, said };
}

/**
 * The first option that can sell now: brand and variation known and active, the price within
 * the option's max_price, the kind decidable (a backup: the SKU's kind decided, and its own
 * catalogue entry showing that same kind), a backup of another brand taking the order data, and
 * a price the balance guard accepts. Options after the chosen one are not judged.
 */
export function chooseVariation(input: ChoiceInput): VariationChoice {
  const passedOver: PassedOver[] = [];
  const mainState = input.states[0];
  const kind = mainState
    ? skuKind(input.voucher, mainState.option.brand, mainState.brand)
    : { isVoucher: null, said: 'no main' };
  for (const state of input.states) {
    const judged = judge(state, input, mainState?.option.brand, kind);
    if ('reason' in judged) passedOver.push({ option: state.option, reason: judged.reason });
    else return { ok: true, option: state.option, ...judged, passedOver };
  }
  return { ok: false, passedOver };
}

function judge(
  { option, brand, variation }: OptionState,
  input: ChoiceInput,
  mainBrand: string | undefined,
  sku: SkuKind,
): { reason: PassReason } | { price: number; isVoucher: boolean } {
  // The main's checks in the order init has always made them (and refused with).
  if (!brand) return { reason: { kind: 'no-brand' } };
  if (!variation) return { reason: { kind: 'no-variation' } };
  if (!brand.isActive) return { reason: { kind: 'brand-inactive' } };
  if (!variation.isActive) return { reason: { kind: 'variation-inactive' } };
  if (variation.price > option.maxPrice) return { reason: { kind: 'above-ceiling', price: variation.price } };
  let isVoucher: boolean;
  if (option.rank === 0) {
    const main = isVoucherProduct(input.voucher, brand.isVoucher);
    if (main === null) return { reason: { kind: 'kind-unknown' } };
    isVoucher = main;
  } else {
    // A backup sells what the SKU sells, and only when its own catalogue entry shows it: the
    // mapping's flag is the SKU's, and says nothing of another product's kind.
    if (sku.isVoucher === null) return { reason: { kind: 'sku-kind-unknown', why: sku.said } };
    if (brand.isVoucher === null)
      return { reason: { kind: 'backup-kind-unknown', skuIsVoucher: sku.isVoucher } };
    if (brand.isVoucher !== sku.isVoucher)
      return { reason: { kind: 'other-kind', isVoucher: brand.isVoucher, said: sku.said } };
    isVoucher = sku.isVoucher;
  }
  if (option.rank > 0 && option.brand !== mainBrand) {
    const problem = input.formProblem(option, brand.forms);
    if (problem !== null) return { reason: { kind: 'form', problem } };
  }
  const verdict = input.balance(variation.price);
  if (verdict.kind === 'refuse')
    return { reason: { kind: 'balance', price: variation.price, available: verdict.available } };
  return { price: variation.price, isVoucher };
}

/** A reason in words, about the option it is of: "price 17000 IDR is above its max_price 16000". */
export function reasonText(option: VariationOption, reason: PassReason): string {
  switch (reason.kind) {
    case 'no-brand':
      return `brand ${option.brand} is not in the supplier's catalogue`;
    case 'no-variation':
      return `no current supplier price: variation ${option.variation} is not in the cached catalogue of brand ${option.brand}`;
    case 'brand-inactive':
      return `brand ${option.brand} is inactive at the supplier`;
    case 'variation-inactive':
      return 'inactive at the supplier';
    case 'above-ceiling':
      return `price ${reason.price} IDR is above its max_price ${option.maxPrice}`;
    case 'kind-unknown':
      return 'neither the catalogue nor the mapping says whether it is a voucher';
    case 'sku-kind-unknown':
      return `no backup is chosen while the SKU's kind (voucher or top-up) is unknown: ${reason.why}`;
    case 'backup-kind-unknown':
      return `the catalogue does not say whether brand ${option.brand} is a voucher, and a backup sells only when its own catalogue entry shows the SKU's kind (${kindName(reason.skuIsVoucher)})`;
    case 'other-kind':
      return `a ${kindName(reason.isVoucher)} in the catalogue, and the SKU is a ${kindName(!reason.isVoucher)}, ${reason.said}`;
    case 'form':
      return `the forms of brand ${option.brand} do not take the order: ${reason.problem}`;
    case 'balance':
      return `the supplier balance left after open purchases (${reason.available} IDR) cannot pay its price (${reason.price} IDR)`;
  }
}

const kindName = (isVoucher: boolean): string => (isVoucher ? 'voucher' : 'top-up');

/** Each option passed over, in words: "main MLBB/MLBB112: inactive at the supplier". */
export const passedOverText = (passed: readonly PassedOver[]): string[] =>
  passed.map((p) => `${optionName(p.option)}: ${reasonText(p.option, p.reason)}`);

/**
 * The choice as a purchase's story tells it (its init event): "sells through backup 1
 * MLBB/MLBB86 at 20000 IDR (max_price 21000); passed over: main MLBB/MLBB112: inactive at the
 * supplier".
 */
export function choiceText(choice: Extract<VariationChoice, { ok: true }>): string {
  const { option, price, passedOver } = choice;
  const over = passedOver.length > 0 ? `; passed over: ${passedOverText(passedOver).join('; ')}` : '';
  return `sells through ${optionName(option)} at ${price} IDR (max_price ${option.maxPrice})${over}`;
}

/**
 * The refusal of an init no option can sell: the main's, with the codes and messages a SKU
 * without backups has always had. A backup's reasons are the operator's to read (the log, the
 * supplier page), not Razer's.
 */
export function refusalFor(
  sku: string,
  main: PassReason,
): { code: RefusalCode; message: string; reason: RefusalReason } {
  const oos = (message: string, reason: RefusalReason = 'check') => ({
    code: 'OOS' as const,
    message,
    reason,
  });
  switch (main.kind) {
    case 'no-brand':
    case 'no-variation':
      return oos(`${sku} has no current supplier price`);
    case 'above-ceiling':
      return oos(`${sku} costs more than its price ceiling`);
    case 'kind-unknown':
      return oos(
        `${sku} cannot be sold: neither the supplier's catalogue nor the mapping says whether it is a voucher (set voucher: true or false in the mapping)`,
      );
    case 'balance':
      return oos(
        `${sku} cannot be paid for now: the supplier balance is too low for it (the operator must top it up)`,
        'balance',
      );
    default:
      return oos(`${sku} is not available from the supplier`);
  }
}

/**
 * The refusal of an init no option can sell (its options passed over, main first). When the
 * balance is what stopped every option that could otherwise sell (some passed every other check),
 * it is the balance guard's refusal, as a SKU without backups gets it; otherwise the main's.
 */
export function refusalOf(
  sku: string,
  passedOver: readonly PassedOver[],
): { code: RefusalCode; message: string; reason: RefusalReason } {
  const stopped = passedOver.find((p) => p.reason.kind === 'balance') ?? passedOver[0];
  if (!stopped) throw new Error(`no option of ${sku} was judged`);
  return refusalFor(sku, stopped.reason);
}

/**
 * Whether a SKU is a voucher, whose delivery must carry a code: decided here and nowhere else.
 * The catalogue's is_voucher where it speaks, the mapping's `voucher` where it is silent; either
 * saying "voucher" makes it one (a top-up taken for a voucher waits for a code and is flagged; a
 * voucher taken for a top-up would answer 200 without its code). Neither says: null, not sold.
 */
export function isVoucherProduct(mapping: boolean | null, catalogue: boolean | null): boolean | null {
  if (mapping === true || catalogue === true) return true;
  if (mapping === false || catalogue === false) return false;
  return null;
}

/** Checks the order data against the supplier's forms for the brand. */
export function formProblem(data: readonly FormField[], forms: readonly CatalogueForm[]): string | null {
  const values = new Map(data.map((f) => [f.key, f.value]));
  for (const form of forms) {
    const value = values.get(form.key);
    const name = form.alias ?? form.key;
    if (value === undefined || value.trim() === '') return `${name} is required`;
    if (form.type === 'numeric' && !/^\d+$/.test(value)) return `${name} must be digits only`;
    if (form.type === 'option' && !(form.options ?? []).includes(value)) {
      return `${name} must be one of ${(form.options ?? []).join(', ')}`;
    }
  }
  return null;
}
