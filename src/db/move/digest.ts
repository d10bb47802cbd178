import { createHash } from 'node:crypto';

/**
 * How a copied row is compared, the same on both sides: its fields as JSON with sorted keys,
 * every string and key with NUL as U+FFFD (what PostgreSQL keeps of a NUL SQLite holds, see
 * src/db/postgres/connection.ts), hashed with SHA-256.
 */
export function canonical(value: unknown): string {
  if (typeof value === 'string')
    return JSON.stringify(value.includes('\u0000') ? value.replaceAll('\u0000', '\ufffd') : value);
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + canonical(value[i]);
    return `${out}]`;
  }
  if (typeof value === 'object') {
    const record = value as Record<string, unknown>;
    let out = '{';
    let first = true;
    for (const [key, label] of sortedKeys(Object.keys(record))) {
      const v = record[key];
      if (v === undefined) continue;
      out += (first ? '' : ',') + label + canonical(v);
      first = false;
    }
    return `${out}}`;
  }
  return JSON.stringify(value);
}

// Rows of a table share their keys: sorted and quoted once per shape, not once per row (the
// verification digests every row twice; sorting was most of its time).
const shapes = new Map<string, readonly (readonly [string, string])[]>();

function sortedKeys(keys: string[]): readonly (readonly [string, string])[] {
  const shape = JSON.stringify(keys);
  let sorted = shapes.get(shape);
  if (!sorted) {
    // Keys as PostgreSQL keeps them too (NUL as U+FFFD), ordered as such.
    sorted = keys
      .map((k) => [k, k.includes('\u0000') ? k.replaceAll('\u0000', '\ufffd') : k] as const)
      .sort(([, a], [, b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, kept]) => [k, `${JSON.stringify(kept)}:`] as const);
    if (shapes.size > 1000) shapes.clear();
    shapes.set(shape, sorted);
  }
  return sorted;
}

export const rowDigest = (row: unknown): Buffer => createHash('sha256').update(canonical(row)).digest();

/**
 * An order-free digest of a set of rows: the XOR of their digests. Each row carries its own key
 * (id, transaction number), so a row moved, changed, lost or doubled changes it.
 */
export class SetDigest {
  readonly #acc = Buffer.alloc(32);
  count = 0;

  add(digest: Buffer): void {
    for (let i = 0; i < 32; i++) this.#acc[i] = (this.#acc[i] ?? 0) ^ (digest[i] ?? 0);
    this.count++;
  }

  get hex(): string {
    return this.#acc.toString('hex');
  }
}
