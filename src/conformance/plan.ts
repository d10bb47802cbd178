import type { Expectation, Scenario } from './report.js';

/**
 * The probe plan: which products are looked for, which orders are placed, in which order and
 * at what price, and which balance paths are tried. Pure.
 */

/** The published sandbox scenario keys (mitra-side §4): variation keys, their brands unknown. */
export const SCENARIO_KEYS = { topup: 'MLBB112', voucher: 'STEAMV50', notFound: 'VCG' } as const;

/**
 * Balance calls tried when the configured one answers 404 (or its word is refused): a few
 * plausible names only, so that a missing endpoint costs at most four calls more.
 */
export const BALANCE_ALTERNATIVES: readonly { path: string; word: string }[] = [
  { path: '/v2/public/saldo', word: 'saldo' },
  { path: '/v2/public/deposit', word: 'deposit' },
  { path: '/v2/public/balance', word: 'saldo' },
  { path: '/v2/public/balance', word: 'balance' },
];
export const MAX_BALANCE_PROBES = 4;

/** At most this many brands' variations are read to find the scenario keys. */
export const MAX_BRAND_SEARCH = 20;

export interface Form {
  key: string;
  type: string;
  options?: string[] | undefined;
}

/** A product as the catalogue describes it. */
export interface Product {
  brandKey: string;
  variationKey: string;
  price: number;
  forms: Form[];
  isVoucher: boolean | null;
}

export interface PlannedOrder {
  scenario: Scenario;
  expect: Expectation;
  brandKey: string;
  variationKey: string;
  price: number;
  /** Empty for the empty-ref_id scenario; the top-up's for the duplicate. */
  refId: string;
  data: { key: string; value: string }[];
  isVoucher: boolean | null;
}

/** `conf-<run start ms>-<n>`: a new one per order, never reused across or within runs. */
export const conformanceRefId = (runStartMs: number, n: number): string => `conf-${runStartMs}-${n}`;

/** Placeholder values for a brand's forms (numeric → digits, option → its first, text → a word). */
export function formValues(
  forms: readonly Form[],
  overrides: Readonly<Record<string, string>>,
): { key: string; value: string }[] {
  return forms.map((f) => {
    const given = overrides[f.key];
    if (given !== undefined) return { key: f.key, value: given };
    if (f.type === 'numeric') return { key: f.key, value: '12345678' };
    if (f.type === 'option') return { key: f.key, value: f.options?.[0] ?? 'option' };
    return { key: f.key, value: 'conformance' };
  });
}

/**
 * Brands in the order their variations are read to find `variationKey`: those whose key starts
 * it first (MLBB for MLBB112, longest first), then those whose name's first word does, then the
 * rest as the catalogue lists them.
 */
export function brandSearchOrder<B extends { key: string; name: string }>(
  brands: readonly B[],
  variationKey: string,
): B[] {
  const v = variationKey.toUpperCase();
  const rank = (b: B): number => {
    if (v.startsWith(b.key.toUpperCase())) return 0;
    const word = b.name.split(/\W+/)[0]?.toUpperCase() ?? '';
    if (word.length >= 2 && v.startsWith(word)) return 1;
    return 2;
  };
  return brands
    .map((b, i) => ({ b, i, r: rank(b) }))
    .sort((x, y) => x.r - y.r || (x.r === 0 ? y.b.key.length - x.b.key.length : 0) || x.i - y.i)
    .map((x) => x.b);
}

/** `BRAND/VARIATION` of --fail-product and --refund-product. */
export function parseProductRef(text: string): { brandKey: string; variationKey: string } | null {
  const m = /^([^/\s]+)\/([^/\s]+)$/.exec(text.trim());
  return m?.[1] && m[2] ? { brandKey: m[1], variationKey: m[2] } : null;
}

/** `key=value` of --form. */
export function parseFormOverride(text: string): { key: string; value: string } | null {
  const i = text.indexOf('=');
  if (i <= 0) return null;
  return { key: text.slice(0, i).trim(), value: text.slice(i + 1) };
}

export interface PlanInput {
  topup: Product | null;
  voucher: Product | null;
  fail: Product | null;
  refund: Product | null;
  forms: Readonly<Record<string, string>>;
  runStartMs: number;
}

/**
 * The orders, in the order they are placed: the ones that may end (top-up, voucher, failing,
 * refunding) first, so that they process while the refusals are tried; the duplicate after the
 * top-up it repeats. What cannot be placed is said, with why.
 */
export function planOrders(input: PlanInput): {
  orders: PlannedOrder[];
  skipped: { scenario: Scenario; why: string }[];
} {
  const orders: PlannedOrder[] = [];
  const skipped: { scenario: Scenario; why: string }[] = [];
  let n = 0;
  const next = () => conformanceRefId(input.runStartMs, ++n);
  const order = (scenario: Scenario, expect: Expectation, p: Product, over: Partial<PlannedOrder> = {}) =>
    orders.push({
      scenario,
      expect,
      brandKey: p.brandKey,
      variationKey: p.variationKey,
      price: p.price,
      refId: next(),
      data: formValues(p.forms, input.forms),
      isVoucher: p.isVoucher,
      ...over,
    });
  const { topup, voucher, fail, refund } = input;
  if (topup) order('topup', 'success', topup);
  else skipped.push({ scenario: 'topup', why: `${SCENARIO_KEYS.topup} is not in the catalogue` });
  if (voucher) order('voucher', 'success', voucher);
  else skipped.push({ scenario: 'voucher', why: `${SCENARIO_KEYS.voucher} is not in the catalogue` });
  if (fail) order('fail-product', 'failed', fail);
  if (refund) order('refund-product', 'refunded', refund);
  if (topup) {
    // The published scenario names the variation only: sent under the top-up's brand, at its price.
    order('product-not-found', 'refused', topup, { variationKey: SCENARIO_KEYS.notFound });
    order('empty-ref-id', 'refused', topup, { refId: '' });
    if (topup.forms.length > 0) order('empty-data', 'refused', topup, { data: [] });
    else
      skipped.push({
        scenario: 'empty-data',
        why: `${topup.brandKey} has no forms: an empty data is what it always sends`,
      });
    const first = orders.find((o) => o.scenario === 'topup');
    if (first) order('duplicate-ref-id', 'exists', topup, { refId: first.refId });
  } else
    for (const scenario of ['product-not-found', 'empty-ref-id', 'empty-data', 'duplicate-ref-id'] as const)
      skipped.push({
        scenario,
        why: `sent with the ${SCENARIO_KEYS.topup} product, which is not in the catalogue`,
      });
  return { orders, skipped };
}

/**
 * What the orders may cost: `expected` if each ends as published, `atMost` if Mitra accepted
 * every one, refusals included. --confirm-spend must cover `atMost`.
 */
export function spendOf(orders: readonly PlannedOrder[]): { expected: number; atMost: number } {
  const atMost = orders.reduce((sum, o) => sum + o.price, 0);
  const expected = orders
    .filter((o) => o.expect === 'success' || o.expect === 'failed' || o.expect === 'refunded')
    .reduce((sum, o) => sum + o.price, 0);
  return { expected, atMost };
}

/** The balance calls to try after the configured one: at most MAX_BALANCE_PROBES, never the same. */
export function balanceAlternatives(configured: { path: string | null; word: string }): {
  path: string;
  word: string;
}[] {
  return BALANCE_ALTERNATIVES.filter((a) => a.path !== configured.path || a.word !== configured.word).slice(
    0,
    MAX_BALANCE_PROBES,
  );
}
