import { stringify } from 'yaml';
import { parseReadings, type Readings, settingsOf } from '../readings/settings.js';
import type { Fix, Json, SettingsPatch } from './report.js';

/**
 * A fix is an exact change of the readings file: the settings to merge, as YAML, and whether the
 * readings with it pass the guard rails. A fix the guard rails refuse is still shown (the
 * evidence stands), marked refused with their reasons: the gateway would not start with it.
 */

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** `patch` over `base`: maps merged key by key, anything else (lists included) replaced. */
export function mergeSettings(base: unknown, patch: unknown): unknown {
  if (!isObject(base) || !isObject(patch)) return patch;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(patch)) out[key] = mergeSettings(base[key], value);
  return out;
}

/** The settings as plain JSON (dropping what YAML and JSON cannot say). */
const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

/** A change of one setting path: `at('mitra.rc.may_exist', [...])` → `{mitra: {rc: {may_exist: [...]}}}`. */
export function at(path: string, value: Json): SettingsPatch {
  const keys = path.split('.');
  let node: Json = value;
  for (const key of keys.slice(1).reverse()) node = { [key]: node };
  return { [keys[0] ?? path]: node };
}

/** Several changes as one. */
export function together(...patches: SettingsPatch[]): SettingsPatch {
  return patches.reduce<SettingsPatch>((acc, p) => mergeSettings(acc, p) as SettingsPatch, {});
}

/** How a fix's refusal starts when it is not the guard rails' but the evidence's: see makeFix. */
export const NOT_CORROBORATED = 'not corroborated: ';

/**
 * The fix of `change`. `uncorroborated`: why the evidence is not enough to apply it (the polling
 * took a number as final, but nothing else says what it means): it is then shown, never accepted.
 */
export function makeFix(
  change: SettingsPatch,
  readings: Readings,
  caution: string | null = null,
  uncorroborated: string | null = null,
): Fix {
  const merged = mergeSettings(plain(settingsOf(readings)), change);
  const parsed = parseReadings(merged);
  return {
    change,
    yaml: stringify(change, { lineWidth: 0 }).trimEnd(),
    accepted: parsed.success && uncorroborated === null,
    refusedBecause: [
      ...(uncorroborated === null ? [] : [`${NOT_CORROBORATED}${uncorroborated}`]),
      ...(parsed.success
        ? []
        : parsed.error.issues.map((i) => `${i.path.map(String).join('.')}: ${i.message}`)),
    ],
    caution,
  };
}

/**
 * Every fix merged in the order given, checked as one (two fixes may be fine apart, not
 * together); never accepted when one of them is not corroborated.
 */
export function combineFixes(fixes: readonly Fix[], readings: Readings): Fix | null {
  if (fixes.length === 0) return null;
  const cautions = fixes.flatMap((f) => (f.caution ? [f.caution] : []));
  const combined = makeFix(
    together(...fixes.map((f) => f.change)),
    readings,
    cautions.length ? cautions.join(' ') : null,
  );
  const uncorroborated = fixes.flatMap((f) => f.refusedBecause.filter((r) => r.startsWith(NOT_CORROBORATED)));
  if (uncorroborated.length === 0) return combined;
  return {
    ...combined,
    accepted: false,
    refusedBecause: [...uncorroborated, ...combined.refusedBecause],
  };
}

/** A list with `items` added at its end, each once. */
export const withAdded = <T>(list: readonly T[], items: readonly T[]): T[] => [
  ...list,
  ...items.filter((x, i) => !list.includes(x) && items.indexOf(x) === i),
];

/** A list with `items` first, then the rest of it, each once. */
export const withFirst = <T>(list: readonly T[], items: readonly T[]): T[] => [
  ...items.filter((x, i) => items.indexOf(x) === i),
  ...list.filter((x) => !items.includes(x)),
];

const STATUS_CLASSES = ['processing', 'success', 'failed'] as const;
export type StatusClass = (typeof STATUS_CLASSES)[number];

/**
 * The change that makes `numbers` mean `cls`: added to its list, taken out of the others (a
 * status has one meaning); only the lists that change are written.
 */
export function statusChange(
  readings: Readings,
  cls: StatusClass,
  numbers: readonly number[],
): SettingsPatch {
  const s = readings.mitra.order_status;
  const lists: Record<string, Json> = { [cls]: withAdded(s[cls], numbers) };
  for (const other of STATUS_CLASSES)
    if (other !== cls && s[other].some((n) => numbers.includes(n)))
      lists[other] = s[other].filter((n) => !numbers.includes(n));
  return { mitra: { order_status: lists } };
}
