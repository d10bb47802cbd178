import type { Store } from '../db/store.js';
import type {
  ExchangeRow,
  SupplierCallRow,
  TransactionEventRow,
  TransactionRow,
  WebhookRow,
} from '../db/types.js';
import { type SaleFigures, saleFigures } from '../fulfilment/profit.js';

/** A transaction as operators see it: the Razer transactionToken (a credential of top-ups) stays inside. */
export type TransactionView = Omit<TransactionRow, 'token'>;

export const transactionView = ({ token: _token, ...view }: TransactionRow): TransactionView => view;

/** Exchanges as operators see them: the transaction's token cut out of init, top-up and cancel bodies. */
const exchangeView =
  (token: string) =>
  (x: ExchangeRow): ExchangeRow => ({
    ...x,
    requestBody: x.requestBody.replaceAll(token, '[token]'),
    responseBody: x.responseBody.replaceAll(token, '[token]'),
  });

/** Headers shown as received; any other may carry a credential (a Referer holds the webhook URL). */
const SHOWN_HEADERS = new Set([
  'content-type',
  'content-length',
  'user-agent',
  'x-forwarded-for',
  'x-real-ip',
  'x-request-id',
]);

/** A webhook's headers as operators see them (the admin API, a conformance report): only harmless ones keep their values. */
export const shownHeaders = (headers: Record<string, string>): Record<string, string> =>
  Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [
      name,
      SHOWN_HEADERS.has(name.toLowerCase()) ? value : '[redacted]',
    ]),
  );

/** A stored webhook as operators see it: only harmless headers keep their values. */
export const webhookView = (w: WebhookRow): WebhookRow => ({ ...w, headers: shownHeaders(w.headers) });

/** Everything recorded about one transaction, each list oldest first. */
export interface Story {
  transaction: TransactionView;
  /** What the sale cost, earned and made (src/fulfilment/profit.ts), from what its row recorded. */
  money: SaleFigures;
  events: TransactionEventRow[];
  exchanges: ExchangeRow[];
  supplierCalls: SupplierCallRow[];
  webhooks: WebhookRow[];
}

/** Most webhooks about one transaction a story shows (Mitra sends a handful). */
const STORY_WEBHOOKS = 200;

/** The one reading of a transaction's story: the admin API, `gateway story` and `gateway tx show`. */
export async function readStory(store: Store, transactionNumber: string): Promise<Story | null> {
  const row = await store.getTransaction(transactionNumber);
  if (!row) return null;
  const [events, exchanges, supplierCalls, webhooks] = await Promise.all([
    store.listEvents(transactionNumber),
    store.listExchanges(transactionNumber),
    store.listSupplierCalls(transactionNumber),
    store.pageWebhooks({ transactionRef: transactionNumber, limit: STORY_WEBHOOKS }),
  ]);
  return {
    transaction: transactionView(row),
    money: saleFigures(row),
    events,
    exchanges: exchanges.map(exchangeView(row.token)),
    supplierCalls,
    webhooks: webhooks.items.reverse().map(webhookView),
  };
}
