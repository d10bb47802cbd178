import type { OpenCommitment } from '../db/types.js';

export type { OpenCommitment };

/**
 * What one open purchase will still be charged by Mitra, on top of the last balance read.
 * - QUEUED without a trx code: certainly not sent, so not charged: the price of its order
 *   (price_offered) once one was priced, else its ceiling (max_price).
 * - ORDERING and UNKNOWN: the order may have been taken and charged already, and so be in the
 *   balance read; counting it again would refuse sales the balance can pay (a Mitra incident
 *   fills UNKNOWN). Nothing: the guard leans towards selling.
 * - PROCESSING, or any with a trx code: Mitra charged it when it accepted the order: nothing.
 * - INITIATED (not paid, may never be), and final states: nothing.
 */
export function stillToCharge(c: Omit<OpenCommitment, 'count'>): number {
  if (c.hasTrxCode || c.state !== 'QUEUED') return 0;
  return c.priceOffered ?? c.maxPrice;
}

/** The sum of what open purchases will still be charged (IDR). */
export function committedIdr(groups: readonly OpenCommitment[]): number {
  let total = 0;
  for (const g of groups) total += stillToCharge(g) * g.count;
  return total;
}

export interface BalanceReading {
  idr: number;
  /** When it was read (epoch ms). */
  at: number;
}

export type BalanceVerdict =
  | { kind: 'sell' }
  /** No reading ever: nothing to judge by; sold. */
  | { kind: 'unknown' }
  /** Too old to judge by: sold, and an operator is told. */
  | { kind: 'stale'; ageMs: number }
  | { kind: 'refuse'; available: number };

/**
 * Whether the supplier balance can pay for a sale of `price`: the last balance read minus what
 * open purchases will still be charged must cover it. Only a reading younger than `maxAgeMs`
 * refuses; a stale or missing one never stops sales.
 */
export function judgeBalance(input: {
  reading: BalanceReading | null;
  committed: number;
  price: number;
  now: number;
  maxAgeMs: number;
}): BalanceVerdict {
  const { reading, committed, price, now, maxAgeMs } = input;
  if (!reading) return { kind: 'unknown' };
  const ageMs = now - reading.at;
  // A reading from the future is a clock that stepped back: its age is unknown, so never fresh.
  if (ageMs > maxAgeMs || ageMs < 0) return { kind: 'stale', ageMs };
  const available = reading.idr - committed;
  return available < price ? { kind: 'refuse', available } : { kind: 'sell' };
}
