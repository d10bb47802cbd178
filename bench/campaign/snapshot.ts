import { openStore, type StoreSettings } from '../../src/db/open.js';
import { TRANSACTION_STATES } from '../../src/db/vocabulary.js';
import type { StoredTransaction } from './history.js';

/** Every stored transaction with its state events, read through the storage port once the instances have stopped. */
export async function readStored(settings: StoreSettings): Promise<StoredTransaction[]> {
  const store = await openStore({ ...settings, instanceId: 'campaign-reader' });
  try {
    const out: StoredTransaction[] = [];
    for (const state of TRANSACTION_STATES) {
      for (let after = ''; ; ) {
        const page = await store.listInState(state, 500, after);
        for (const row of page) {
          const events = await store.listEvents(row.transactionNumber);
          out.push({
            transactionNumber: row.transactionNumber,
            refId: row.refId,
            state: row.state,
            token: row.token,
            isVoucher: row.isVoucher,
            trxCode: row.trxCode,
            voucherCode: row.voucherCode,
            attention: row.attention,
            orderAttempts: row.orderAttempts,
            resends: row.resends,
            events: events.map((e) => ({
              from: e.fromState,
              to: e.toState,
              cause: e.cause,
              at: e.at,
              detail: e.detail,
            })),
          });
        }
        const last = page.at(-1);
        if (!last) break;
        after = last.transactionNumber;
      }
    }
    return out;
  } finally {
    await store.close();
  }
}
