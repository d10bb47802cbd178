import type { Store } from '../db/store.js';
import type { Logger } from '../log.js';
import { type KeptBody, keptBody, readWebhook, type WebhookMeaning } from '../mitra/webhook-payload.js';
import { DEFAULT_READINGS, type Readings } from '../readings/settings.js';
import type { CrashHook } from './crash-points.js';
import type { FulfilmentEngine, Hint } from './engine.js';

export interface WebhookDeps {
  store: Store;
  engine: Pick<FulfilmentEngine, 'advance' | 'findByReference'>;
  refreshBrand: (brandKey: string) => Promise<string>;
  now: () => number;
  logger: Logger;
  crash?: CrashHook | undefined;
  /** The readings in force (reloadable): where a webhook names its transaction. */
  readings?: () => Readings;
}

export interface ReceivedWebhook {
  sourceIp: string;
  headers: Record<string, string>;
  body: string;
}

/** The step a webhook asked for did not complete (a storage fault, a step another holds). */
class StepIncomplete extends Error {
  constructor(transactionNumber: string) {
    super(`the step of ${transactionNumber} did not complete`);
  }
}

export type WebhookOutcome = { kind: string; transactionRef: string | null; result: string };

/** What a webhook calls for: nothing more, a price refresh, or a step of a transaction. */
type Decision =
  | { done: WebhookOutcome }
  | { refresh: string }
  | { advance: string; hint: Hint; verifyFinal: boolean; state: string };

/** A webhook stored for work, and the work decided when it came: hand it to `dispatch`. */
export interface PendingWebhook {
  readonly id: number;
  readonly decision: Exclude<Decision, { done: WebhookOutcome }>;
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

  #readings(): Readings {
    return this.#d.readings?.() ?? DEFAULT_READINGS;
  }

  /**
   * Stores the raw webhook; throws if it cannot (the caller answers 500 so Mitra retries).
   * One that certainly calls for nothing (a duplicate about a final transaction, a stranger's
   * reference) is stored already marked, in the same write. `pending`: the work to dispatch.
   * `kept`: what to store of the body, when the caller has read it already (to count its size).
   */
  async receive(
    webhook: ReceivedWebhook,
    given?: KeptBody,
  ): Promise<{ id: number; pending: PendingWebhook | null }> {
    const kept = given ?? keptBody(webhook.body, this.#readings());
    const decision = await this.#decide(kept.meaning);
    const at = this.#d.now();
    // Only a body nothing reads is ever cut, and such a one is always done at once.
    const cut = kept.cut
      ? `; only the first ${kept.cut.kept} of ${kept.cut.of} bytes kept (bodySha256 is of the whole body)`
      : '';
    const done = 'done' in decision ? { ...decision.done, result: decision.done.result + cut } : null;
    const id = await this.#d.store.storeWebhook({
      receivedAt: at,
      sourceIp: webhook.sourceIp,
      headers: webhook.headers,
      body: kept.body,
      bodySha256: kept.bodySha256,
      ...(done ? { ...done, processedAt: at } : {}),
    });
    if (done || 'done' in decision) {
      if (done) this.#logged(id, done);
      return { id, pending: null };
    }
    return { id, pending: { id, decision } };
  }

  /**
   * Does a webhook's work in the background, as decided when it came (a moment ago: no second
   * read of the webhook or its transaction; the step reads the row itself). `idle()` waits for it.
   */
  dispatch(pending: PendingWebhook): void {
    const { id } = pending;
    const run = this.#logFailure(
      id,
      this.#act(id, pending.decision).then(() => undefined),
    );
    this.#tracked.add(run);
    void run.finally(() => this.#tracked.delete(run));
  }

  #logFailure(id: number, processing: Promise<void>): Promise<void> {
    return processing.catch((err: unknown) =>
      this.#d.logger.error(
        { err, webhook: id },
        'webhook processing failed; it stays unprocessed for the next start',
      ),
    );
  }

  /**
   * Webhooks stored before a stop but never processed, all of them, a page at a time: each
   * page is processed before the next is read, so a large backlog never floods memory.
   * Resolves with how many there were; `idle()` waits for it too.
   */
  processBacklog(pageSize = 200): Promise<number> {
    const run = (async () => {
      let total = 0;
      let after = 0;
      for (;;) {
        const page = await this.#d.store.listUnprocessedWebhooks(pageSize, after);
        const last = page.at(-1);
        if (!last) return total;
        total += page.length;
        after = last.id;
        await Promise.allSettled(page.map((w) => this.#logFailure(w.id, this.process(w.id))));
      }
    })();
    const tracked = run.then(
      () => undefined,
      (err: unknown) =>
        this.#d.logger.error({ err }, 'webhook backlog could not be read; the next start tries again'),
    );
    this.#tracked.add(tracked);
    void tracked.finally(() => this.#tracked.delete(tracked));
    return run.catch(() => 0);
  }

  async idle(): Promise<void> {
    while (this.#tracked.size > 0) await Promise.allSettled([...this.#tracked]);
  }

  async process(id: number): Promise<void> {
    const webhook = await this.#d.store.getWebhook(id);
    if (!webhook || webhook.processedAt !== null) return;
    await this.#apply(id, webhook.body);
  }

  /**
   * An operator's replay: the stored webhook read again against today's state and acted on as if
   * it had just come. Safe to repeat: only forward moves are applied, a final state is at most
   * checked. Null when there is no such webhook.
   */
  async replay(id: number, actor: string): Promise<WebhookOutcome | 'busy' | null> {
    const webhook = await this.#d.store.getWebhook(id);
    if (!webhook) return null;
    // The first result is kept once, however often it is replayed.
    const earlier = webhook.result ?? '';
    const was = earlier.startsWith('replayed by ')
      ? earlier.slice(Math.max(0, earlier.indexOf(' (was: ')))
      : earlier && ` (was: ${earlier})`;
    try {
      return await this.#apply(id, webhook.body, `replayed by ${actor}: `, was);
    } catch (err) {
      if (err instanceof StepIncomplete) return 'busy';
      throw err;
    }
  }

  async #apply(id: number, body: string, note = '', was = ''): Promise<WebhookOutcome> {
    return this.#act(id, await this.#decide(readWebhook(body, this.#readings())), note, was);
  }

  async #act(id: number, decision: Decision, note = '', was = ''): Promise<WebhookOutcome> {
    let outcome: WebhookOutcome;
    if ('done' in decision) {
      outcome = decision.done;
    } else if ('refresh' in decision) {
      const result = await this.#d.refreshBrand(decision.refresh);
      outcome = { kind: 'product', transactionRef: null, result: `refreshed ${decision.refresh}: ${result}` };
    } else {
      this.#d.crash?.('during-webhook', decision.advance);
      // A step that did not complete (a storage fault) leaves the webhook for the next start.
      if (!(await this.#d.engine.advance(decision.advance, 'webhook', decision.hint)))
        throw new StepIncomplete(decision.advance);
      outcome = {
        kind: 'transaction',
        transactionRef: decision.advance,
        result: decision.verifyFinal ? `checked a contradiction of ${decision.state}` : 'status checked',
      };
    }
    outcome = { ...outcome, result: note + outcome.result + was };
    await this.#d.store.markWebhook(id, outcome, this.#d.now());
    this.#logged(id, outcome);
    return outcome;
  }

  /** Reads a webhook against the current state: reads only, no call, no write. */
  async #decide(meaning: WebhookMeaning): Promise<Decision> {
    if (meaning.kind === 'product') return { refresh: meaning.brandKey };
    if (meaning.kind === 'unrecognised') {
      return { done: { kind: 'unrecognised', transactionRef: null, result: `stored only: ${meaning.why}` } };
    }
    let row: Awaited<ReturnType<WebhookDeps['engine']['findByReference']>>;
    for (const ref of meaning.refs) {
      row = await this.#d.engine.findByReference(ref);
      if (row) break;
    }
    if (!row) {
      return {
        done: {
          kind: 'transaction',
          transactionRef: meaning.refs[0] ?? null,
          result: 'ignored: names no transaction of ours',
        },
      };
    }
    const n = row.transactionNumber;
    const reported = meaning.reportedStatus;
    const reportedSuccess =
      reported === null ? null : this.#readings().mitra.order_status.success.includes(reported);
    if (row.state === 'SUCCESS' || row.state === 'FAILED') {
      // Only a webhook that contradicts the record is worth a status call (an anomaly check).
      const contradicts = reportedSuccess !== null && (row.state === 'SUCCESS') !== reportedSuccess;
      if (!contradicts)
        return { done: { kind: 'transaction', transactionRef: n, result: `no-op: already ${row.state}` } };
      return {
        advance: n,
        hint: { trxCode: meaning.trxCode ?? row.trxCode, verifyFinal: true },
        verifyFinal: true,
        state: row.state,
      };
    }
    if (row.state === 'CANCELLED' || row.state === 'EXPIRED' || row.state === 'INITIATED') {
      return {
        done: {
          kind: 'transaction',
          transactionRef: n,
          result: `ignored: the transaction is ${row.state} and was never sent`,
        },
      };
    }
    // Read while open: should it be final by the time its step runs, what it reported is checked then.
    return {
      advance: n,
      hint: { trxCode: meaning.trxCode, reportedSuccess },
      verifyFinal: false,
      state: row.state,
    };
  }

  #logged(id: number, outcome: WebhookOutcome): void {
    this.#d.logger.info({ webhook: id, ...outcome }, 'webhook processed');
  }
}
