import { createHash } from 'node:crypto';
import type { FormField } from '../config/form-data.js';
import type { CatalogueForm } from '../db/types.js';

/**
 * What a per-account daily limit counts purchases by: the game account the supplier is sent,
 * not Razer's accountId text, which spells one account many ways ("0123456-12", "123456-012" and
 * "123456-12" reach the same player).
 *
 * Each form value is trimmed and lowercased; a value of a field the supplier's form types
 * `numeric` also loses its leading zeros ("007" -> "7", "000" -> "0"). With no forms known
 * (a brand missing from the catalogue) every field is text. The fields are sorted by key, then
 * value, so their order does not matter. The key is the SHA-256 (hex) of the JSON of the sorted
 * [key, value] pairs: JSON keeps every two different sets apart ({a: "1|b"} is not
 * {a: "1", b: ""}), the hash keeps the indexed column short (PostgreSQL refuses b-tree entries
 * over about 2.7 kB, and a value can carry customParam text of 256 characters).
 */
export function limitKey(data: readonly FormField[], forms: readonly CatalogueForm[]): string {
  const numeric = new Set(forms.filter((f) => f.type === 'numeric').map((f) => f.key));
  const pairs = data.map((f): [string, string] => [f.key, normalise(f.value, numeric.has(f.key))]);
  pairs.sort(([ka, va], [kb, vb]) => compare(ka, kb) || compare(va, vb));
  return createHash('sha256').update(JSON.stringify(pairs)).digest('hex');
}

function normalise(value: string, numeric: boolean): string {
  const text = value.trim().toLowerCase();
  // Not digits: the form checks refuse the purchase; the key must still be defined.
  return numeric && /^\d+$/.test(text) ? text.replace(/^0+(?=\d)/, '') : text;
}

// Code-unit order: the same in every locale and runtime.
const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
