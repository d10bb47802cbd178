import { z } from 'zod';

/**
 * Simulator dialects (issue 23 §5): a real Mitra that answers differently from one of the
 * gateway's readings, one reading at a time. The names are fixed: tests and tools refer to them.
 */
export const dialectNameSchema = z.enum([
  'failed-status-4',
  'processing-status-0',
  'voucher-key',
  'reason-key',
  'refund-name',
  'webhook-keys',
  'no-balance',
  'balance-path',
  'tid-refuses-ref-id',
  'rc23-http409',
  'ref-exists-rc',
]);
export type DialectName = z.infer<typeof dialectNameSchema>;

/** `--dialect` / admin values: a dialect name, or none (the default supplier). */
export const dialectSettingSchema = dialectNameSchema.nullable();

/**
 * How the simulated supplier writes what it does on the wire. The sim keeps its own state in its
 * own terms (SIM_STATUS, sn, voucherCode, "Refund"); only replies and webhooks go through this.
 */
export interface SupplierWire {
  /** `status` of an order still processing. */
  processingStatus: number;
  /** `status` of a failed order that was not refunded. */
  failedStatus: number;
  /**
   * The `detail` key of the delivered code. With `code`, a success carries its code (or serial)
   * only there: `sn` is null, and webhooks carry it as `detail.code`.
   */
  codeKey: 'voucher_code' | 'code';
  /** Where a failed or refunded order's reason goes: `sn`, or `detail.note` with `sn` null. */
  reasonKey: 'sn' | 'detail.note';
  /** The `history_status` name (and webhook `status_name`) of a refund. */
  refundName: string;
  /**
   * Transaction webhooks: `{type, data:{trx_code, ref_id, status, …}}`, or
   * `{event, transaction:{invoice, reference, status, …}}`.
   */
  webhookShape: 'type-data' | 'event-transaction';
  /** The balance endpoint and the word it signs; null: no such endpoint (404). */
  balance: { path: string; word: string } | null;
  /** Whether order-status finds an order by its ref_id given as `tid`. */
  tidAcceptsRefId: boolean;
  /** The reply to create-order with a ref_id that already exists. */
  duplicateRef: { http: 400 | 409; status: string; rc: string };
}

/**
 * What the default simulated supplier does. The sim's own literals, on purpose: the sim is the
 * supplier and must not follow the gateway's readings when those change.
 */
export const DEFAULT_WIRE: Readonly<SupplierWire> = {
  processingStatus: 1,
  failedStatus: 3,
  codeKey: 'voucher_code',
  reasonKey: 'sn',
  refundName: 'Refund',
  webhookShape: 'type-data',
  balance: { path: '/v2/public/balance', word: 'balance' },
  tidAcceptsRefId: true,
  duplicateRef: { http: 400, status: 'CLIENT_ERROR', rc: '23' },
};

/** Exactly one field of SupplierWire: a dialect deviates from one reading, never two. */
export type Deviation = {
  [K in keyof SupplierWire]: { [P in K]: SupplierWire[P] } & {
    [P in Exclude<keyof SupplierWire, K>]?: never;
  };
}[keyof SupplierWire];

export interface Dialect {
  describe: string;
  deviation: Deviation;
}

export const DIALECTS: { readonly [N in DialectName]: Dialect } = {
  'failed-status-4': {
    describe: 'a failed order has status 4, not 3 (3 is never used)',
    deviation: { failedStatus: 4 },
  },
  'processing-status-0': {
    describe: 'a processing order has status 0, not 1',
    deviation: { processingStatus: 0 },
  },
  'voucher-key': {
    describe: 'the delivered code is at data.detail.code (no detail.voucher_code; sn null on success)',
    deviation: { codeKey: 'code' },
  },
  'reason-key': {
    describe: "a failed order's reason is at data.detail.note (sn null)",
    deviation: { reasonKey: 'detail.note' },
  },
  'refund-name': {
    describe: 'a refund is named "Dana Dikembalikan" in history_status, not "Refund"',
    deviation: { refundName: 'Dana Dikembalikan' },
  },
  'webhook-keys': {
    describe:
      'webhooks are {event, transaction:{invoice, reference, status, …}}, not {type, data:{trx_code, ref_id, …}}',
    deviation: { webhookShape: 'event-transaction' },
  },
  'no-balance': {
    describe: 'there is no balance endpoint (404, as for any unknown path)',
    deviation: { balance: null },
  },
  'balance-path': {
    describe: 'the balance is at /v2/public/saldo, signed with "saldo" (/v2/public/balance is 404)',
    deviation: { balance: { path: '/v2/public/saldo', word: 'saldo' } },
  },
  'tid-refuses-ref-id': {
    describe: 'order-status does not find an order by ref_id (rc 44, HTTP 404); by trx code it does',
    deviation: { tidAcceptsRefId: false },
  },
  'rc23-http409': {
    describe: 'a duplicate ref_id answers HTTP 409 (rc 23), not 400',
    deviation: { duplicateRef: { http: 409, status: 'CLIENT_ERROR', rc: '23' } },
  },
  'ref-exists-rc': {
    describe: 'a duplicate ref_id answers rc 27 with status DUPLICATE (HTTP 400), not rc 23',
    deviation: { duplicateRef: { http: 400, status: 'DUPLICATE', rc: '27' } },
  },
};

/** The wire of a dialect: the default with that dialect's one deviation; null is the default. */
export function wireOf(dialect: DialectName | null | undefined): SupplierWire {
  return dialect ? { ...DEFAULT_WIRE, ...DIALECTS[dialect].deviation } : { ...DEFAULT_WIRE };
}
