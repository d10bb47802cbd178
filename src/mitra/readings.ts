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
  '26',
  '40',
  '41',
  '42',
  '43',
  '44',
  '46',
  '47',
]);

/** Order-status codes: 1 processing and 2 success are seen in public integrations. */
export const ORDER_STATUS_PROCESSING = 1;
export const ORDER_STATUS_SUCCESS = 2;

export type OrderState =
  | { kind: 'processing' }
  | { kind: 'success'; voucherCode: string | null; serial: string | null }
  | { kind: 'failed'; refunded: boolean; reason: string | null };

/**
 * Reads an order-status reply. Any status other than 1 or 2 is a failure; a history
 * entry naming "refund" (any case) means refunded, even after a success. The reason is
 * in `sn` (top level, then `detail.sn`); the voucher in `detail.voucher_code`, else `sn`.
 */
export function interpretOrderStatus(data: OrderStatusData): OrderState {
  const refunded = (data.history_status ?? []).some((h) => /refund/i.test(h.status_name));
  const sn = data.sn ?? data.detail?.sn ?? null;
  if (refunded) return { kind: 'failed', refunded: true, reason: sn };
  if (data.status === ORDER_STATUS_PROCESSING) return { kind: 'processing' };
  if (data.status === ORDER_STATUS_SUCCESS) {
    return { kind: 'success', voucherCode: data.detail?.voucher_code ?? sn, serial: sn };
  }
  return { kind: 'failed', refunded: false, reason: sn };
}

/** Keys under which a webhook may name a transaction, at the top level or under `data`. */
export const WEBHOOK_REFERENCE_KEYS = ['trx_code', 'tid', 'ref_id', 'code'] as const;
