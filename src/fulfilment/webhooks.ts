import { createHash } from 'node:crypto';
import type { Db } from '../db/connection.js';
import { getWebhook, listUnprocessedWebhooks, markWebhook, storeWebhook } from '../db/webhooks.js';
import type { Logger } from '../log.js';
import { ORDER_STATUS_SUCCESS } from '../mitra/readings.js';
import { readWebhook } from '../mitra/webhook-payload.js';
import type { CrashPoint } from './crash-points.js';
import type { FulfilmentEngine } from './engine.js';

export interface WebhookDeps {
  db: Db;
  engine: Pick<FulfilmentEngine, 'advance' | 'findByReference'>;
  refreshBrand: (brandKey: string) => Promise<string>;
  now: () => number;
  logger: Logger;
  crash?: (point: CrashPoint) => void;
}

export interface ReceivedWebhook {
  sourceIp: string;
  headers: Record<string, string>;
  body: string;
}

/**
 * Mitra webhooks: stored as received, then read as a trigger. A transaction reference makes
 * the engine fetch the signed order status; a product event refreshes that brand's prices.
 */
export class WebhookProcessor {
  readonly #d: WebhookDeps;
  readonly #tracked = new Set<Promise<void>>();

  constructor(deps: WebhookDeps) {
    this.#d = deps;
  }

  /** Stores the raw webhook; throws if it cannot (the caller answers 500 so Mitra retries). */
  receive(webhook: ReceivedWebhook): number {
    return storeWebhook(this.#d.db, {
      receivedAt: this.#d.now(),
      sourceIp: webhook.sourceIp,
      headers: webhook.headers,
      body: webhook.body,
      bodySha256: createHash('sha256').update(webhook.body).digest('hex'),
    });
  }

  /** Processes a stored webhook in the background; `idle()` waits for all of them. */
  dispatch(id: number): void {
    const run = this.process(id).catch((err: unknown) =>
      this.#d.logger.error(
        { err, webhook: id },
        'webhook processing failed; it stays unprocessed for the next start',
      ),
    );
    this.#tracked.add(run);
    void run.finally(() => this.#tracked.delete(run));
  }

  /** Webhooks stored before a stop but never processed. */
  processBacklog(): number {
    const backlog = listUnprocessedWebhooks(this.#d.db);
    for (const w of backlog) this.dispatch(w.id);
    return backlog.length;
  }

  async idle(): Promise<void> {
    while (this.#tracked.size > 0) await Promise.allSettled([...this.#tracked]);
  }

  async process(id: number): Promise<void> {
    const webhook = getWebhook(this.#d.db, id);
    if (!webhook || webhook.processedAt !== null) return;
    this.#d.crash?.('during-webhook');
    const mark = (kind: string, transactionRef: string | null, result: string) => {
      markWebhook(this.#d.db, id, { kind, transactionRef, result }, this.#d.now());
      this.#d.logger.info({ webhook: id, kind, transactionRef, result }, 'webhook processed');
    };
    const meaning = readWebhook(webhook.body);

    if (meaning.kind === 'product') {
      const result = await this.#d.refreshBrand(meaning.brandKey);
      return mark('product', null, `refreshed ${meaning.brandKey}: ${result}`);
    }
    if (meaning.kind === 'unrecognised') return mark('unrecognised', null, `stored only: ${meaning.why}`);

    const row = meaning.refs.map((r) => this.#d.engine.findByReference(r)).find((r) => r !== undefined);
    if (!row) return mark('transaction', meaning.refs[0] ?? null, 'ignored: names no transaction of ours');
    const n = row.transactionNumber;

    if (row.state === 'SUCCESS' || row.state === 'FAILED') {
      // Only a webhook that contradicts the record is worth a status call (an anomaly check).
      const reported = meaning.reportedStatus;
      const contradicts =
        reported !== null &&
        (row.state === 'SUCCESS' ? reported !== ORDER_STATUS_SUCCESS : reported === ORDER_STATUS_SUCCESS);
      if (!contradicts) return mark('transaction', n, `no-op: already ${row.state}`);
      await this.#d.engine.advance(n, 'webhook', {
        trxCode: meaning.trxCode ?? row.trxCode,
        verifyFinal: true,
      });
      return mark('transaction', n, `checked a contradiction of ${row.state}`);
    }
    if (row.state === 'CANCELLED' || row.state === 'EXPIRED' || row.state === 'INITIATED') {
      return mark('transaction', n, `ignored: the transaction is ${row.state} and was never sent`);
    }
    await this.#d.engine.advance(n, 'webhook', { trxCode: meaning.trxCode });
    return mark('transaction', n, 'status checked');
  }
}
