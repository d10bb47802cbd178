import type { TransactionRow } from '../fulfilment/purchases.js';

export type RazerStatus = 200 | 400 | 401 | 404 | 408 | 409 | 500;

/** What the gateway says to Razer Gold: a status and a JSON body (a text for /health). */
export interface RazerAnswer {
  status: RazerStatus;
  body: Record<string, unknown> | string;
}

export const pending = (transactionNumber: string): RazerAnswer => ({
  status: 408,
  body: { transactionNumber, status: 'PENDING' },
});

/**
 * The answer about a transaction, from its recorded state alone (razer-side §2, §4): 200 only
 * when delivered, 400 only when certainly not delivered, 408 while the outcome is open.
 */
export function answerFromState(row: TransactionRow): RazerAnswer {
  switch (row.state) {
    case 'SUCCESS':
      return {
        status: 200,
        body: {
          transactionNumber: row.transactionNumber,
          status: 'SUCCESS',
          referenceId: row.trxCode,
          ...(row.isVoucher && row.voucherCode ? { voucher: { code: row.voucherCode } } : {}),
        },
      };
    case 'FAILED':
      return {
        status: 400,
        body: { code: row.failureCode ?? 'FAILED', message: row.failureReason ?? 'not delivered' },
      };
    case 'CANCELLED':
      return { status: 400, body: { code: 'FAILED', message: 'the transaction was cancelled' } };
    case 'EXPIRED':
      return { status: 400, body: { code: 'FAILED', message: 'not topped up' } };
    default:
      // INITIATED is never answered from here (a query expires it first); the rest are open.
      return pending(row.transactionNumber);
  }
}

export function cancelAnswer(row: TransactionRow): RazerAnswer {
  return { status: 200, body: { transactionNumber: row.transactionNumber, status: row.state } };
}
