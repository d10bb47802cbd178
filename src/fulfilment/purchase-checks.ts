import { buildFormData, type FormField } from '../config/form-data.js';
import type { SkuMapping } from '../config/mapping.js';
import type { CachedBrand, CachedVariation, CatalogueForm } from '../db/types.js';
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
  /** Looked up only once the SKU is known. */
  catalogue: (entry: SkuMapping) => Promise<{
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
  | { ok: true; entry: SkuMapping; data: FormField[]; limitKey: string; isVoucher: boolean; price: number }
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
  const { brand, variation } = await inputs.catalogue(entry);
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

  // Never sell what cannot be priced: no catalogue means out of stock.
  if (!brand || !variation) return refuse('OOS', `${entry.sku} has no current supplier price`);
  if (!brand.isActive || !variation.isActive)
    return refuse('OOS', `${entry.sku} is not available from the supplier`);
  if (variation.price > entry.maxPrice)
    return refuse('OOS', `${entry.sku} costs more than its price ceiling`);
  const isVoucher = isVoucherProduct(entry.voucher, brand.isVoucher);
  if (isVoucher === null) {
    return refuse(
      'OOS',
      `${entry.sku} cannot be sold: neither the supplier's catalogue nor the mapping says whether it is a voucher (set voucher: true or false in the mapping)`,
    );
  }
  return { ok: true, entry, data: form.data, limitKey: key, isVoucher, price: variation.price };
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
