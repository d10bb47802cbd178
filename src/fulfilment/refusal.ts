/**
 * Why a purchase is (or was) not delivered, in the codes Razer Gold publishes, spelled as
 * published (INAVLID_SKU included). They are the gateway's vocabulary for "not delivered"
 * and are stored as a transaction's failure code.
 */
export const REFUSAL_CODES = [
  'FAILED',
  'INVALID_DATA',
  'INAVLID_SKU',
  'OOS',
  'INVALID_ACCT',
  'EXCEED_LIMIT',
  'ORIGIN_NOT_FOUND',
  'NOT_ALLOW_CANCEL',
  'UNSUPPORTED_COUNTRY',
  'INVALID_TRANS_TOKEN',
] as const;
export type RefusalCode = (typeof REFUSAL_CODES)[number];

/**
 * Why an init was refused, for counting: a guard of "sell only what can be delivered" (`balance`:
 * the supplier balance cannot pay for it; `queue`: the supplier queue is too long), or one of the
 * request checks (`check`).
 */
export const REFUSAL_REASONS = ['check', 'balance', 'queue'] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

/** A definitive "no" about a request: answered 400 with its code, and nothing changed. */
export class Refusal extends Error {
  override readonly name = 'Refusal';
  constructor(
    readonly code: RefusalCode,
    message: string,
    readonly reason: RefusalReason = 'check',
  ) {
    super(message);
  }
}
