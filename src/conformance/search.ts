import { isNotACodePath } from '../readings/settings.js';

/**
 * Looking through a reply for where something is, when the readings did not find it there: the
 * fields that look like a voucher code or a reason, and the places a webhook carries our
 * references. Pure; objects only are entered (a reading's path cannot go through an array).
 */

/** A path the readings file can hold: up to four keys of letters, digits, _ or -. */
const SETTING_PATH = /^[A-Za-z0-9_-]{1,64}(\.[A-Za-z0-9_-]{1,64}){0,3}$/;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every non-blank text (or number) leaf of `root`'s objects, with its dot path, depth first. */
export function textLeaves(root: unknown, maxDepth = 4): { path: string; text: string }[] {
  const out: { path: string; text: string }[] = [];
  const walk = (node: unknown, path: string[]) => {
    if (!isObject(node) || path.length >= maxDepth) return;
    for (const [key, value] of Object.entries(node)) {
      const here = [...path, key];
      if (typeof value === 'string' && value.trim() !== '')
        out.push({ path: here.join('.'), text: value.trim() });
      else if (typeof value === 'number' && Number.isFinite(value))
        out.push({ path: here.join('.'), text: String(value) });
      else walk(value, here);
    }
  };
  walk(root, []);
  return out;
}

/** The words of a key: `voucher_code` → voucher, code; `serialNumber` → serial, number. */
const wordsOf = (key: string): string[] =>
  key
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .split(/[_\-\s]+/)
    .filter(Boolean);

const CODE_WORDS = ['code', 'voucher', 'serial', 'pin', 'sn', 'kode'];
const REASON_WORDS = ['reason', 'note', 'notes', 'message', 'keterangan', 'remark'];

/**
 * Parts of a key that say its value is not a delivered code, whatever else the key says:
 * currency_code, error_code, pin_status, sn_type, voucher_expired_at, promo_code, product_code,
 * variation_code, price_code, date, time… Any key of the path counts (product.code too).
 */
const NOT_A_CODE_KEY_PARTS = [
  'currency',
  'error',
  'status',
  'type',
  'expire',
  'promo',
  'product',
  'variation',
  'price',
  'date',
  'time',
  'name',
  'desc',
];

/** Money words a short code-like field may hold (currency_code: "IDR"). */
const CURRENCY_WORDS = ['idr', 'rp', 'rupiah', 'usd', 'sgd', 'myr', 'php', 'thb', 'vnd', 'eur', 'dollar'];

const looksLike = (path: string, words: readonly string[]) => {
  const key = path.split('.').at(-1) ?? '';
  return (
    wordsOf(key).some((w) => words.includes(w)) ||
    words.some((w) => w.length > 3 && key.toLowerCase().includes(w))
  );
};

const keyMayHoldACode = (path: string) =>
  looksLike(path, CODE_WORDS) &&
  !path
    .toLowerCase()
    .split('.')
    .some((key) => NOT_A_CODE_KEY_PARTS.some((part) => key.includes(part)));

/**
 * Whether a value looks like a delivered code: at least 6 characters; not a number under 8
 * digits (a price, an id, a count), a date or a currency; not one of `own` (our ref_id, the trx
 * code, the brand and variation keys); and not a sentence ("invalid user id", "OUT OF STOCK"):
 * words apart are codes only as groups of capitals and digits with a digit among them.
 */
export function looksLikeCode(text: string, own: readonly string[]): boolean {
  const t = text.trim();
  if (t.length < 6) return false;
  const lower = t.toLowerCase();
  if (own.some((x) => x !== '' && x.toLowerCase() === lower)) return false;
  if (CURRENCY_WORDS.includes(lower)) return false;
  if (/^[\d\s.,:+-]+$/.test(t) && t.replace(/\D/g, '').length < 8) return false;
  if (/^\d{4}-\d{2}-\d{2}/.test(t) || /^\d{1,2}[/-]\d{1,2}[/-]\d{2,4}/.test(t)) return false;
  const groups = t.split(/\s+/);
  if (groups.length > 1 && !(groups.every((g) => /^[A-Z0-9-]+$/.test(g)) && /\d/.test(t))) return false;
  return true;
}

/**
 * Fields of an order-status `data` that look like a delivered code: a key naming a code,
 * voucher, serial, pin or sn (and nothing that says otherwise: currency, error, status, type,
 * expiry, promo, product, variation, price, date, time, name), holding a value that looks like
 * a code (looksLikeCode), at a path the readings file can hold and the guard rails allow (never
 * one isNotACodePath refuses). `own`: our ref_id, the trx code, the brand and variation keys.
 */
export function codeCandidates(data: unknown, own: readonly string[]): string[] {
  return textLeaves(data)
    .filter(
      (l) =>
        SETTING_PATH.test(l.path) &&
        !isNotACodePath(l.path) &&
        keyMayHoldACode(l.path) &&
        looksLikeCode(l.text, own),
    )
    .map((l) => l.path);
}

/** Fields that look like a failure's reason: reason, note, message, keterangan, remark. */
export function reasonCandidates(data: unknown, own: readonly string[]): string[] {
  return textLeaves(data)
    .filter((l) => SETTING_PATH.test(l.path) && !own.includes(l.text) && looksLike(l.path, REASON_WORDS))
    .map((l) => l.path);
}

/**
 * Where `value` stands as a text leaf of `root`: each place as its keys, with `inArray` when an
 * array lies on the way (a reading cannot name such a place).
 */
export function placesOf(root: unknown, value: string): { keys: string[]; inArray: boolean }[] {
  const out: { keys: string[]; inArray: boolean }[] = [];
  const walk = (node: unknown, keys: string[], inArray: boolean, depth: number) => {
    if (depth > 8) return;
    if (Array.isArray(node)) {
      for (const item of node) walk(item, keys, true, depth + 1);
      return;
    }
    if (!isObject(node)) return;
    for (const [key, v] of Object.entries(node)) {
      if (typeof v === 'string' && v.trim() === value) out.push({ keys: [...keys, key], inArray });
      else walk(v, [...keys, key], inArray, depth + 1);
    }
  };
  walk(root, [], false, 0);
  return out;
}

/** Whether `path` is one the readings file can hold. */
export const isSettingPath = (path: string): boolean => SETTING_PATH.test(path);
