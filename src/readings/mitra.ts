/**
 * Every choice about Mitra that no public page settles (the **[reading]** marks of
 * shared/spec/mitra-side.md), in one place: when the sandbox or the onboarding pack
 * answers otherwise, this is the one file to edit.
 */
import type { OrderStatusData } from './schemas.js';

/** Balance call: path and signed word are not published. */
export const BALANCE_PATH = '/v2/public/balance';

/** Order timestamps are Unix seconds sent as a string. */
export const orderTimestamp = (nowMs: number): string => String(Math.floor(nowMs / 1000));

/**
 * RC codes after which Mitra certainly did not act on the call. Anything not listed here
 * and not 00/23/45/50 is treated as ambiguous, never as a refusal: a wrong "refused" on
 * create-order would tell Razer "not delivered" about an order that may exist.
 */
export const DEFINITIVE_REFUSAL_RC = new Set([
  '21',
  '22',
  '24',
  '25',
  '40',
  '41',
  '42',
  '43',
  '44',
  '46',
  '47',
]);

/**
 * Create-order rc codes that say an order for this ref_id may already exist: 23 "ref id
 * exists", and 26 "payment unavailable / already paid" (the "already paid" half means the
 * order was taken). Neither is a refusal: the order is looked for before anything is decided.
 */
export const ORDER_MAY_EXIST_RC = new Set(['23', '26']);

/**
 * Order-status codes: 1 processing and 2 success are seen in public integrations; 3 failed is
 * the one failure number an integration shows. Any other number is unclear, never a failure: a
 * wrong "failed" answers 400 for goods that may be delivered.
 */
export const ORDER_STATUS_PROCESSING = 1;
export const ORDER_STATUS_SUCCESS = 2;
export const ORDER_STATUS_FAILED = 3;

export type OrderState =
  | { kind: 'processing' }
  | { kind: 'success'; voucherCode: string | null; serial: string | null }
  | { kind: 'failed'; refunded: boolean; reason: string | null }
  /**
   * The reply says nothing certain (no numeric status, or a number the readings do not know:
   * `unknownStatus`): ask again later, never guess.
   */
  | { kind: 'unclear'; why: string; unknownStatus?: number };

/** An empty or blank string is no value. */
const value = (s: string | null | undefined): string | null => (s && s.trim() !== '' ? s.trim() : null);

/**
 * The order's status as a number: an integer, or a string of digits. Anything else (missing,
 * null, "", false, [], "abc") is null: a failure must never be read into a reply that says nothing.
 */
export function statusNumber(raw: unknown): number | null {
  if (typeof raw === 'number' && Number.isInteger(raw)) return raw;
  if (typeof raw === 'string' && /^\s*\d+\s*$/.test(raw)) return Number(raw);
  return null;
}

/**
 * A history entry that says a refund happened, whole: "Refund", "Refunded", "Refund success",
 * "Refund processed", "Refunded to balance", "Cancelled and refunded". Only these: a wrong "yes"
 * answers 400 for goods delivered, and the names that say it has not happened are many and in two
 * languages ("Refund rejected", "Refund cancelled", "Refund pending", "Refund Ditolak", "Proses
 * Refund", "Menunggu Refund", "Non-refundable"...). Any other name is not a refund: the status
 * number decides.
 */
const COMPLETED_REFUND =
  /^(refund(ed)?( (success(ful)?|succeeded|processed|completed?|done|berhasil|sukses))?|refunded to .+|cancell?ed and refunded)$/i;

export function namesRefund(statusName: string): boolean {
  return COMPLETED_REFUND.test(statusName.trim().replace(/\s+/g, ' '));
}

/**
 * Reads an order-status reply. 1 processing, 2 success, 3 failed; any other number, or no
 * number at all, is unclear. A history entry naming a refund (see namesRefund) means refunded, even
 * after a success. The reason is in `sn` (top level, then `detail.sn`); the voucher in
 * `detail.voucher_code`, else `sn` (an empty string is no value).
 */
export function interpretOrderStatus(data: OrderStatusData): OrderState {
  const refunded = (data.history_status ?? []).some((h) => namesRefund(h.status_name));
  const sn = value(data.sn) ?? value(data.detail?.sn);
  if (refunded) return { kind: 'failed', refunded: true, reason: sn };
  const status = statusNumber(data.status);
  if (status === null)
    return { kind: 'unclear', why: `no numeric status (${JSON.stringify(data.status) ?? 'missing'})` };
  if (status === ORDER_STATUS_PROCESSING) return { kind: 'processing' };
  if (status === ORDER_STATUS_SUCCESS) {
    return { kind: 'success', voucherCode: value(data.detail?.voucher_code) ?? sn, serial: sn };
  }
  if (status === ORDER_STATUS_FAILED) return { kind: 'failed', refunded: false, reason: sn };
  return {
    kind: 'unclear',
    why: `status ${status} is none the gateway reads (${ORDER_STATUS_PROCESSING} processing, ${ORDER_STATUS_SUCCESS} success, ${ORDER_STATUS_FAILED} failed)`,
    unknownStatus: status,
  };
}

/** Keys under which a webhook may name a transaction, at the top level or under `data`. */
export const WEBHOOK_REFERENCE_KEYS = ['trx_code', 'tid', 'ref_id', 'code'] as const;
