/**
 * How a Mitra reply is read by the readings in force (src/readings/settings.ts): the **[reading]**
 * marks of shared/spec/mitra-side.md. Pure; the readings are passed in, today's by default.
 */
import type { OrderStatusData } from '../mitra/schemas.js';
import { DEFAULT_READINGS, matchesRefundName, type Readings } from './settings.js';

/** Order timestamps are Unix seconds sent as a string. */
export const orderTimestamp = (nowMs: number): string => String(Math.floor(nowMs / 1000));

export type OrderState = (
  | { kind: 'processing' }
  | { kind: 'success'; voucherCode: string | null; serial: string | null }
  | { kind: 'failed'; refunded: boolean; reason: string | null }
  /**
   * The reply says nothing certain (no numeric status, or a number the readings do not know:
   * `unknownStatus`): ask again later, never guess.
   */
  | { kind: 'unclear'; why: string; unknownStatus?: number }
) & {
  /** Which reading decided, as the readings file names it: recorded in the transaction's story. */
  decidedBy: string;
};

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

/** The refund name a history name matches, if any (mitra.refund_names). */
export function refundMatch(
  statusName: string,
  readings: Readings = DEFAULT_READINGS,
): { index: number; added: boolean } | null {
  const index = readings.refundNames.findIndex((n) => matchesRefundName(n, statusName));
  const found = readings.refundNames[index];
  return found ? { index, added: found.added } : null;
}

/** The index of the refund name a history name matches, if any. */
export function refundPattern(statusName: string, readings: Readings = DEFAULT_READINGS): number | null {
  return refundMatch(statusName, readings)?.index ?? null;
}

export function namesRefund(statusName: string, readings: Readings = DEFAULT_READINGS): boolean {
  return refundMatch(statusName, readings) !== null;
}

/** The text at a dot path of a reply (a string, or a number written as one); blank is no value. */
export function textAt(root: unknown, path: string): string | null {
  let node: unknown = root;
  for (const key of path.split('.')) {
    // Own keys only: a path names what the reply holds, never what every object inherits.
    if (typeof node !== 'object' || node === null || Array.isArray(node) || !Object.hasOwn(node, key))
      return null;
    node = (node as Record<string, unknown>)[key];
  }
  if (typeof node === 'number' && Number.isFinite(node)) return String(node);
  return typeof node === 'string' ? value(node) : null;
}

/** The first of `paths` that holds a value, and which one it was. */
export function firstAt(root: unknown, paths: readonly string[]): { text: string; path: string } | null {
  for (const path of paths) {
    const text = textAt(root, path);
    if (text !== null) return { text, path };
  }
  return null;
}

/**
 * The failure reason: the first of mitra.reason_at that holds one, unless it is the voucher code
 * itself (sn holds a voucher's code on success, and a 400's message is shown to the buyer).
 */
function failureReason(data: OrderStatusData, readings: Readings): { text: string; path: string } | null {
  const reason = firstAt(data, readings.mitra.reason_at);
  if (!reason) return null;
  const codePaths = readings.mitra.voucher_code_at.filter((p) => !readings.mitra.reason_at.includes(p));
  return codePaths.some((p) => textAt(data, p) === reason.text) ? null : reason;
}

/**
 * Reads an order-status reply by the readings (mitra.order_status; defaults 1 processing,
 * 2 success, 3 failed). Any other number, or no number at all, is unclear. A history entry that
 * a refund pattern matches means refunded, even after a success. The reason and serial are at the
 * first of mitra.reason_at that holds one; the voucher at the first of mitra.voucher_code_at.
 */
export function interpretOrderStatus(
  data: OrderStatusData,
  readings: Readings = DEFAULT_READINGS,
): OrderState {
  const m = readings.mitra;
  const reason = failureReason(data, readings);
  const sn = reason?.text ?? null;
  const status = statusNumber(data.status);
  const delivered = status !== null && m.order_status.success.includes(status);
  for (const h of data.history_status ?? []) {
    const found = refundMatch(h.status_name, readings);
    if (!found) continue;
    const by = `history name ${JSON.stringify(h.status_name)} matches mitra.refund_names[${found.index}]`;
    // A name the file added is not enough to overrule a status that says delivered: a wrong
    // "refunded" answers 400 for goods the buyer has. Today's names are.
    if (found.added && delivered)
      return {
        kind: 'unclear',
        why: `status ${status} says delivered, and ${by}, a name the readings file added: ask Mitra`,
        decidedBy: `${by} against status ${status} in mitra.order_status.success`,
      };
    return { kind: 'failed', refunded: true, reason: sn, decidedBy: by };
  }
  if (status === null)
    return {
      kind: 'unclear',
      why: `no numeric status (${JSON.stringify(data.status) ?? 'missing'})`,
      decidedBy: 'no status number',
    };
  const s = m.order_status;
  if (s.processing.includes(status))
    return { kind: 'processing', decidedBy: `status ${status} in mitra.order_status.processing` };
  if (s.success.includes(status)) {
    const code = firstAt(data, m.voucher_code_at);
    return {
      kind: 'success',
      voucherCode: code?.text ?? null,
      serial: sn,
      decidedBy: `status ${status} in mitra.order_status.success${code ? `, code at ${code.path}` : ''}`,
    };
  }
  if (s.failed.includes(status))
    return {
      kind: 'failed',
      refunded: false,
      reason: sn,
      decidedBy: `status ${status} in mitra.order_status.failed${reason ? `, reason at ${reason.path}` : ''}`,
    };
  return {
    kind: 'unclear',
    why: `status ${status} is none the gateway reads (${describeStatuses(readings)})`,
    unknownStatus: status,
    decidedBy: `status ${status} in no mitra.order_status list`,
  };
}

/** "1 processing, 2 success, 3 failed", from the readings in force. */
export function describeStatuses(readings: Readings = DEFAULT_READINGS): string {
  const s = readings.mitra.order_status;
  const part = (list: number[], name: string) => (list.length ? [`${list.join('/')} ${name}`] : []);
  return [
    ...part(s.processing, 'processing'),
    ...part(s.success, 'success'),
    ...part(s.failed, 'failed'),
  ].join(', ');
}
