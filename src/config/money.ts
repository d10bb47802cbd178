// Money in whole numbers only. An amount is an integer count of its currency's minor units
// (cents for USD, sen for MYR, whole yen for JPY); an exchange rate is IDR per unit of a
// currency, as an integer scaled by 1,000,000; IDR figures are whole rupiah. Arithmetic on them
// is BigInt: no float rounding ever changes a figure or a total.

/** An ISO 4217 currency code: three upper-case letters. */
export const CURRENCY_PATTERN = /^[A-Z]{3}$/;

/** The currency every cost, revenue and profit is counted in. */
export const IDR = 'IDR';

/** A rate's scale: `rateE6` is IDR per unit times this. */
export const RATE_SCALE = 1_000_000;
/** Decimals a rate may have: what RATE_SCALE keeps exactly. */
export const RATE_DECIMALS = 6;
/** The largest rate accepted (IDR per unit): far above any currency's, so a typo stands out. */
export const MAX_RATE_IDR = 1_000_000;
/** The largest amount accepted, in units of its currency. */
export const MAX_AMOUNT_UNITS = 1_000_000_000;

/**
 * ISO 4217 minor units of the currencies that do not have two (every other code has two).
 * IDR has two in ISO 4217: an IDR revenue may say sen, and is rounded to whole rupiah.
 */
const MINOR_DIGITS: Readonly<Record<string, number>> = {
  BIF: 0,
  CLP: 0,
  DJF: 0,
  GNF: 0,
  ISK: 0,
  JPY: 0,
  KMF: 0,
  KRW: 0,
  PYG: 0,
  RWF: 0,
  UGX: 0,
  UYI: 0,
  VND: 0,
  VUV: 0,
  XAF: 0,
  XOF: 0,
  XPF: 0,
  BHD: 3,
  IQD: 3,
  JOD: 3,
  KWD: 3,
  LYD: 3,
  OMR: 3,
  TND: 3,
  CLF: 4,
  UYW: 4,
};

/** How many decimals an amount of `currency` has (ISO 4217 minor units). */
export const minorDigits = (currency: string): number => MINOR_DIGITS[currency] ?? 2;

export type Decimal = { ok: true; scaled: bigint } | { ok: false; reason: string };

/**
 * A positive decimal written as text ("0.99") or as a YAML number (0.99), as an integer scaled
 * by 10^decimals: exact, or refused with the reason. A number is read as JavaScript writes it
 * back, which is the shortest text of the same value: 16250.5 stays 16250.5.
 */
export function parseDecimal(value: unknown, decimals: number, max: number): Decimal {
  let text: string;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return { ok: false, reason: `must be a decimal number, got ${value}` };
    text = String(value);
  } else if (typeof value === 'string') text = value.trim();
  else return { ok: false, reason: `must be a decimal number such as "0.99", got ${describe(value)}` };
  const match = /^(\d+)(?:\.(\d+))?$/.exec(text);
  if (!match) return { ok: false, reason: `must be a decimal number such as "0.99", got ${describe(value)}` };
  const whole = match[1] ?? '0';
  // Trailing zeros say nothing: "0.990" is 0.99.
  const fraction = (match[2] ?? '').replace(/0+$/, '');
  if (fraction.length > decimals)
    return {
      ok: false,
      reason:
        decimals === 0
          ? `must be a whole number, got ${text}`
          : `has at most ${decimals} decimal${decimals === 1 ? '' : 's'}, got ${text}`,
    };
  const scaled = BigInt(whole + fraction.padEnd(decimals, '0'));
  if (scaled <= 0n) return { ok: false, reason: `must be greater than 0, got ${text}` };
  if (scaled > BigInt(max) * 10n ** BigInt(decimals))
    return { ok: false, reason: `must be at most ${max.toLocaleString('en-US')}, got ${text}` };
  return { ok: true, scaled };
}

/**
 * An amount of a currency in IDR at a rate (IDR per unit, times RATE_SCALE), rounded half up
 * to a whole rupiah: amountMinor × rateE6 / (10^digits × RATE_SCALE), in integers.
 */
export function toIdr(amountMinor: number, currency: string, rateE6: number): number {
  if (!Number.isSafeInteger(amountMinor) || !Number.isSafeInteger(rateE6) || amountMinor < 0 || rateE6 <= 0)
    throw new RangeError(`an amount and a rate are positive whole numbers, got ${amountMinor} at ${rateE6}`);
  const numerator = BigInt(amountMinor) * BigInt(rateE6);
  const denominator = 10n ** BigInt(minorDigits(currency)) * BigInt(RATE_SCALE);
  const quotient = numerator / denominator;
  const rest = numerator % denominator;
  const idr = 2n * rest >= denominator ? quotient + 1n : quotient;
  if (idr > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`${idr} IDR is past what is counted`);
  return Number(idr);
}

/** An integer scaled by 10^decimals as a decimal text without trailing zeros: 1625050000 (6) -> 1625.05. */
export function formatScaled(scaled: number | bigint, decimals: number): string {
  const value = BigInt(scaled);
  const sign = value < 0n ? '-' : '';
  const digits = (value < 0n ? -value : value).toString().padStart(decimals + 1, '0');
  const whole = digits.slice(0, digits.length - decimals);
  const fraction = digits.slice(digits.length - decimals).replace(/0+$/, '');
  return `${sign}${whole}${fraction ? `.${fraction}` : ''}`;
}

/** An amount in minor units as its currency writes it, every minor digit shown: 99 USD -> "0.99". */
export function formatAmount(amountMinor: number, currency: string): string {
  const digits = minorDigits(currency);
  if (digits === 0) return String(amountMinor);
  const text = formatScaled(amountMinor, digits);
  const [whole, fraction = ''] = text.split('.');
  return `${whole}.${fraction.padEnd(digits, '0')}`;
}

/** A rate (times RATE_SCALE) as written in the mapping: 16250500000 -> "16250.5". */
export const formatRate = (rateE6: number): string => formatScaled(rateE6, RATE_DECIMALS);

/** Whole rupiah with thousands separators: 16088 -> "IDR 16,088", -12 -> "IDR -12". */
export const formatIdr = (idr: number): string => `IDR ${idr.toLocaleString('en-US')}`;

/** A calendar date written YYYY-MM-DD that exists (no 2026-02-30). */
export function isCalendarDate(text: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!match) return false;
  const [y, m, d] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const s = JSON.stringify(value) ?? String(value);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}
