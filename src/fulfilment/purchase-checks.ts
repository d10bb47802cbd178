import { buildFormData, type FormField } from '../config/form-data.js';
import type { SkuMapping } from '../config/mapping.js';
import type { CachedBrand, CachedVariation } from '../db/types.js';
import type { BalanceVerdict } from './balance-guard.js';
import {
  chooseVariation,
  formProblem,
  type OptionState,
  optionsOf,
  refusalOf,
  type VariationChoice,
  type VariationOption,
} from './choose-variation.js';
import { limitKey } from './limit-key.js';
import type { RefusalCode } from './refusal.js';

export interface PurchaseRequest {
  sku: string;
  accountId: string;
  customParam?: Readonly<Record<string, string>> | undefined;
  userCountryCode?: string | undefined;
}

export interface CheckInputs {
  entry: SkuMapping | undefined;
  /** Looked up only once the SKU is known: its main variation, then (if needed) its backups. */
  catalogue: (
    brandKey: string,
    variationKey: string,
  ) => Promise<{
    brand: CachedBrand | undefined;
    variation: CachedVariation | undefined;
  }>;
  /**
   * Live purchases in the limit window: of the account whose limit key (see limitKey) this is,
   * or, null, of the SKU. Counted only when needed.
   */
  recentPurchases: (entry: SkuMapping, limitKey: string | null) => Promise<number>;
}

export type CheckResult =
  | {
      ok: true;
      entry: SkuMapping;
      data: FormField[];
      limitKey: string;
      /** The option the catalogue allows now (the balance not judged yet), its kind and price. */
      choice: Extract<VariationChoice, { ok: true }>;
      isVoucher: boolean;
      price: number;
      /**
       * The same choice again, with the balance guard's verdict on each price (init's last check);
       * the backups are looked up then if they were not yet and the main cannot sell.
       */
      choose: (balance: (price: number) => BalanceVerdict) => Promise<VariationChoice>;
    }
  | { ok: false; code: RefusalCode; message: string };

const refuse = (code: RefusalCode, message: string): CheckResult => ({ ok: false, code, message });

/** The refusal of a daily limit, whether the checks or the insert (atomically) found it reached. */
export function limitRefusal(
  entry: SkuMapping,
  which: 'account' | 'sku',
): Extract<CheckResult, { ok: false }> {
  return which === 'account'
    ? {
        ok: false,
        code: 'EXCEED_LIMIT',
        message: `at most ${entry.limits.perAccountPerDay} purchases of ${entry.sku} per account per day`,
      }
    : {
        ok: false,
        code: 'EXCEED_LIMIT',
        message: `at most ${entry.limits.perSkuPerDay} purchases of ${entry.sku} per day`,
      };
}

/**
 * The init checks of razer-side §3, in their order: SKU, country, account, limits, catalogue.
 * No I/O of its own: the caller passes the lookups of what the database holds.
 */
export async function checkPurchase(req: PurchaseRequest, inputs: CheckInputs): Promise<CheckResult> {
  const { entry } = inputs;
  if (!entry?.enabled) return refuse('INAVLID_SKU', `SKU ${req.sku} is not sold here`);

  const country = (req.userCountryCode ?? '').trim().toUpperCase();
  if (entry.countries && !entry.countries.includes(country)) {
    return refuse(
      'UNSUPPORTED_COUNTRY',
      `SKU ${entry.sku} is not sold in ${country || 'an unknown country'}`,
    );
  }

  const form = buildFormData(entry, req);
  if (!form.ok) return refuse('INVALID_ACCT', form.reason);
  const main = await inputs.catalogue(entry.brand, entry.variation);
  const { brand } = main;
  if (brand) {
    const problem = formProblem(form.data, brand.forms);
    if (problem) return refuse('INVALID_ACCT', problem);
  }

  const key = limitKey(form.data, brand?.forms ?? []);
  const { perAccountPerDay, perSkuPerDay } = entry.limits;
  if (perAccountPerDay !== null && (await inputs.recentPurchases(entry, key)) >= perAccountPerDay) {
    return limitRefusal(entry, 'account');
  }
  if (perSkuPerDay !== null && (await inputs.recentPurchases(entry, null)) >= perSkuPerDay) {
    return limitRefusal(entry, 'sku');
  }

  // Never sell what cannot be priced: no catalogue means out of stock. The main first, as
  // choose-variation.ts judges it; its backups are looked up (once) only when it cannot sell.
  const [first, ...backups] = optionsOf(entry);
  const mainState: OptionState = { option: first as VariationOption, ...main };
  let backupStates: Promise<OptionState[]> | undefined;
  const lookUpBackups = () => {
    backupStates ??= Promise.all(
      backups.map(async (option) => ({
        option,
        ...(await inputs.catalogue(option.brand, option.variation)),
      })),
    );
    return backupStates;
  };
  const data = form.data;
  const judge = (states: readonly OptionState[], balance: (price: number) => BalanceVerdict) =>
    chooseVariation({
      states,
      voucher: entry.voucher,
      formProblem: (_option, forms) => formProblem(data, forms),
      balance,
    });
  // The main judged alone decides as every option would: the options after the chosen one are
  // never judged, and the main's judgement does not depend on them.
  const choose = async (balance: (price: number) => BalanceVerdict): Promise<VariationChoice> => {
    const alone = judge([mainState], balance);
    if (alone.ok || backups.length === 0) return alone;
    return judge([mainState, ...(await lookUpBackups())], balance);
  };
  const choice = await choose(() => ({ kind: 'unknown' }));
  if (!choice.ok) {
    // Every option passed over: refused for the main's reason, as a SKU without backups always was.
    const refusal = refusalOf(entry.sku, choice.passedOver);
    return refuse(refusal.code, refusal.message);
  }
  return {
    ok: true,
    entry,
    data,
    limitKey: key,
    choice,
    isVoucher: choice.isVoucher,
    price: choice.price,
    choose,
  };
}

// Moved to choose-variation.ts, where every option is judged; kept here for their callers.
export { formProblem, isVoucherProduct } from './choose-variation.js';
