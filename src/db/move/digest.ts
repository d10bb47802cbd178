import { createHash } from 'node:crypto';

/**
 * How a copied row is compared, the same on both sides: its fields as JSON with sorted keys,
 * every string with NUL as U+FFFD (what PostgreSQL keeps of a NUL SQLite holds, see
 * src/db/postgres/connection.ts), hashed with SHA-256.
 */
export function canonical(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.replaceAll('\u0000', '\ufffd'));
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
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
