/**
 * Money as Mitra sends it, read into whole IDR: the one rule for every amount a Mitra reply
 * carries into an integer column (a charge, a catalogue price, the balance).
 *
 * Amounts are whole IDR: the gateway stores and reports them as integers (a report sums them
 * exactly; PostgreSQL keeps them in bigint columns). A reply's amount that is not a safe whole
 * number must not turn a delivery into a write that fails (PostgreSQL refuses 15000.5 for a bigint)
 * nor into a stored figure every report then refuses (SQLite keeps it as a float), and must not
 * make the whole reply unreadable: the order it reports was still taken.
 *
 * - A safe whole number is read as it is.
 * - Another finite number within the safe-integer range (±2^53) is rounded half up (towards
 *   +infinity on a tie: 15000.5 is 15001) to whole IDR: `rounded`. A price the gateway offers
 *   back (a catalogue price, sent as an order's `price`) is rounded up instead (`round: 'up'`):
 *   Mitra refuses an order offered below its price, so 15000.4 offered as 15000 would fail every
 *   paid sale of it.
 * - A decimal numeral in a string ("15000", "15000.50") is read as that number, by the same rule.
 * - Anything else (a number beyond the safe range, an infinity, a negative amount where none can
 *   be, a boolean, an object, other text) is `unreadable`: treated as absent, so what depends on it
 *   falls back as when Mitra says nothing (a charge: the order's price).
 * - Absent (undefined or null) is `absent`: Mitra said nothing.
 */
export type IdrAmount =
  | { kind: 'whole'; idr: number }
  | { kind: 'rounded'; idr: number }
  | { kind: 'absent' }
  | { kind: 'unreadable'; why: string };

const DECIMAL = /^[+-]?\d+(\.\d+)?$/;

export interface ReadIdrOptions {
  /** The balance may be negative; no other amount can. */
  negative?: boolean;
  /** `up` for a price offered back to Mitra; half up (the default) for a charge or the balance. */
  round?: 'half-up' | 'up';
}

export function readIdr(value: unknown, options: ReadIdrOptions = {}): IdrAmount {
  if (value === undefined || value === null) return { kind: 'absent' };
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string' && DECIMAL.test(value.trim())) n = Number(value.trim());
  else return { kind: 'unreadable', why: `not an amount (${typeof value})` };
  if (!Number.isFinite(n)) return { kind: 'unreadable', why: 'not a finite number' };
  if (Math.abs(n) > Number.MAX_SAFE_INTEGER) return { kind: 'unreadable', why: 'beyond 2^53' };
  if (n < 0 && !options.negative) return { kind: 'unreadable', why: 'negative' };
  if (typeof value === 'number' && Number.isSafeInteger(n)) return { kind: 'whole', idr: n };
  // Math.round is half up (towards +infinity on a tie); `+ 0` turns -0 into 0.
  const idr = (options.round === 'up' ? Math.ceil(n) : Math.round(n)) + 0;
  return idr === n ? { kind: 'whole', idr } : { kind: 'rounded', idr };
}

/** An amount read otherwise than as sent (rounded, or unreadable and so absent): for the log. */
export interface AmountNote {
  /** The reply field, as `selling_total` or `data[3].price` (with the variation's key). */
  field: string;
  /** What Mitra sent. */
  value: unknown;
  /** What the gateway took: whole IDR, or null (treated as absent). */
  idr: number | null;
  /** Why (unreadable amounts only). */
  why?: string;
  /** Rounded up (a price offered back), not half up. */
  up?: boolean;
}

/** Told of each amount read otherwise than as sent. */
export type AmountNoted = (note: AmountNote) => void;

/** Where `noteAmount` puts its notes: set by `collectAmountNotes` for one synchronous run. */
let collecting: AmountNote[] | null = null;

/**
 * Told of an amount a reply schema read otherwise than as sent: kept for the `collectAmountNotes`
 * under way, if any (the schemas are built once, for speed: a schema made per call costs a
 * hundred times its parse; zod parses synchronously, so no other parse runs meanwhile).
 */
export const noteAmount: AmountNoted = (note) => {
  collecting?.push(note);
};

/** Runs `parse` (synchronous), and gives what it returned with the amount notes made meanwhile. */
export function collectAmountNotes<T>(parse: () => T): { value: T; notes: AmountNote[] } {
  const outer = collecting;
  const notes: AmountNote[] = [];
  collecting = notes;
  try {
    return { value: parse(), notes };
  } finally {
    collecting = outer;
  }
}

/**
 * The amount `value` of `field` as whole IDR, or null when absent or unreadable; `noted` is told
 * of an amount rounded or treated as absent.
 */
export function idrOf(
  field: string,
  value: unknown,
  noted: AmountNoted,
  options: ReadIdrOptions = {},
): number | null {
  const read = readIdr(value, options);
  switch (read.kind) {
    case 'whole':
      return read.idr;
    case 'absent':
      return null;
    case 'rounded':
      noted({ field, value, idr: read.idr, ...(options.round === 'up' ? { up: true } : {}) });
      return read.idr;
    case 'unreadable':
      noted({ field, value, idr: null, why: read.why });
      return null;
  }
}

/** A note as one log line says it. */
export function noteText(note: AmountNote): string {
  const sent = typeof note.value === 'string' ? JSON.stringify(note.value) : String(note.value);
  return note.idr === null
    ? `Mitra sent ${note.field} ${sent}: ${note.why ?? 'unreadable'}, so taken as absent`
    : `Mitra sent ${note.field} ${sent}: rounded ${note.up ? 'up' : 'half up'} to ${note.idr} IDR (amounts are whole IDR${note.up ? '; a price offered below it would be refused' : ''})`;
}
