import type { Store } from '../db/store.js';
import type { Move, MovePatch, TransactionRow } from '../db/types.js';
import type { Logger } from '../log.js';
import type { CatalogueView } from '../mitra/catalogue.js';
import type { MitraClient } from '../mitra/client.js';
import { type Limiter, LimiterClosedError, type Permit } from '../mitra/limiter.js';
import type { MitraOutcome } from '../mitra/outcome.js';
import type { CreateOrderData, OrderStatusData } from '../mitra/schemas.js';
import { describeStatuses, interpretOrderStatus } from '../readings/mitra.js';
import { DEFAULT_READINGS, type Readings, readingsVersion } from '../readings/settings.js';
import { inSpan, type Tracer } from '../tracing/tracer.js';
import type { CrashHook } from './crash-points.js';
import { holderName } from './holders.js';
import { commitMove } from './moves.js';
import { needsOperator, nextCheckDelay, refusalCodeFor, resendDelay } from './outcome-mapping.js';
import type { Fulfilment } from './ports.js';
import { type Cause, isTerminal, type State } from './states.js';

/**
 * Create-orders sent again with the same ref_id to resolve one UNKNOWN transaction, at most.
 * Every resend counts, refused or not: it is recorded before it is sent.
 */
export const MAX_RESENDS = 8;

/**
 * A purchase open this long after its top-up is checked only this often (OVERDUE_CHECK_MS): by
 * then its deadline has passed and an operator has been called. Counted from the top-up, not
 * from the deadline, so that a short RESOLVE_DEADLINE (to be told sooner) never slows the checks
 * of a purchase still within a day: those keep the reconcile schedule.
 */
export const SLOW_CHECKS_AFTER_MS = 24 * 60 * 60 * 1000;
export const OVERDUE_CHECK_MS = 60 * 60 * 1000;

/** What a trigger knows: a trx code to ask about, and whether a final state is in question. */
export interface Hint {
  trxCode?: string | null;
  verifyFinal?: boolean;
  /**
   * A webhook's status read against the readings (true: a success), null or absent when it
   * reported none: a final state it contradicts is checked, even if it became final after the
   * webhook was read.
   */
  reportedSuccess?: boolean | null;
}

/** Whether a webhook's reported status (see Hint) contradicts a final state. */
const contradicts = (state: 'SUCCESS' | 'FAILED', reportedSuccess: boolean | null | undefined) =>
  reportedSuccess !== null && reportedSuccess !== undefined && (state === 'SUCCESS') !== reportedSuccess;

/** How often a waiting top-up looks at its row, should a move's notice be lost. */
const WAIT_POLL_MS = 500;

/** How often a step asks again for a row whose lease another step holds. */
const CLAIM_RETRY_MS = 100;

export interface EngineDeps {
  store: Store;
  client: Pick<MitraClient, 'createOrder' | 'orderStatus'>;
  limiter: Pick<Limiter, 'acquire'>;
  catalogue: CatalogueView & { refreshBrand(brandKey: string): Promise<string> };
  now: () => number;
  logger: Logger;
  /** Delays between checks of an open transaction. */
  schedule: readonly number[];
  /**
   * How long an ORDERING row may wait for its create-order reply to be committed (longer than
   * one call). Past it, whoever finds the row takes it as UNKNOWN: a commit that failed, or a
   * process that died, never leaves a transaction without a next check.
   */
  orderingLeaseMs: number;
  /** Test hook: the process dies at these points (crash tests only). */
  crash?: CrashHook | undefined;
  /** A span for the top-up's wait for an outcome (tracing on); unset: none. */
  tracer?: Tracer | undefined;
  /** The readings in force (reloadable): how an order status is read, whether tid takes a ref_id. */
  readings?: () => Readings;
  /** Told of everything an operator must see (metrics, alerting). */
  onAlert?: (alert: {
    kind: string;
    transactionNumber: string | null;
    message: string;
    key?: string;
  }) => void;
}

/**
 * Where a Razer top-up becomes a Mitra order, and where every supplier outcome is applied.
 *
 * Write before you call: ORDERING (with the ref_id) is committed before create-order is
 * sent and the reply is committed after it, so a crash in between leaves ORDERING, which
 * start-up turns into UNKNOWN. UNKNOWN is never guessed: it is resolved by the supplier's
 * order status, or by create-order sent again with the same ref_id (rc 23 if it exists).
 */
export class FulfilmentEngine implements Fulfilment {
  readonly #d: EngineDeps;
  /** Status numbers already alerted: one alert per number for the life of the process. */
  readonly #unknownStatuses = new Set<number>();
  readonly #waiters = new Map<string, Set<() => void>>();
  readonly #busy = new Map<string, Promise<boolean>>();
  readonly #again = new Map<string, { cause: Cause; hint: Hint }>();
  readonly #tracked = new Set<Promise<unknown>>();
  /** trx codes of accepted orders whose commit failed: the first thing UNKNOWN asks about. */
  readonly #learnt = new Map<string, string>();
  /** Transactions whose last step threw (a storage fault): left alone until then. */
  readonly #resting = new Map<string, { until: number; failures: number }>();
  readonly #unsubscribe: () => void;
  #claims = 0;

  constructor(deps: EngineDeps) {
    this.#d = deps;
    // Final moves made anywhere (another instance too) end the top-ups waiting on them.
    this.#unsubscribe = deps.store.onFinal((n) => {
      for (const listener of this.#waiters.get(n) ?? []) listener();
    });
  }

  /** Top-up: send the order (once), then wait up to `waitMs` for a final state. */
  async fulfil(transactionNumber: string, waitMs: number): Promise<void> {
    this.#d.crash?.('after-queued', transactionNumber);
    void this.advance(transactionNumber, 'razer');
    const tracer = this.#d.tracer;
    if (!tracer) return this.waitForFinal(transactionNumber, waitMs);
    await inSpan(
      tracer,
      'wait for outcome',
      { 'gateway.transaction_number': transactionNumber, 'gateway.wait_ms': waitMs },
      () => this.waitForFinal(transactionNumber, waitMs),
    );
  }

  /**
   * Moves a transaction one step on from whatever state it is in: QUEUED is sent,
   * PROCESSING asks the order status, UNKNOWN is resolved. One step at a time per
   * transaction, across instances: the step holds the row's lease, and every write it makes
   * names that lease, so a step taken over writes nothing. A trigger that comes while one runs
   * here makes it run once more after. `claimed`: the lease the reconciler already took.
   */
  advance(transactionNumber: string, cause: Cause, hint: Hint = {}, claimed?: string): Promise<boolean> {
    const running = this.#busy.get(transactionNumber);
    if (running) {
      if (claimed) void this.#release(transactionNumber, claimed);
      const pending = this.#again.get(transactionNumber)?.hint;
      this.#again.set(transactionNumber, {
        cause,
        hint: {
          trxCode: hint.trxCode ?? pending?.trxCode ?? null,
          verifyFinal: Boolean(hint.verifyFinal || pending?.verifyFinal),
          reportedSuccess: hint.reportedSuccess ?? pending?.reportedSuccess ?? null,
        },
      });
      return running;
    }
    const run = (async (): Promise<boolean> => {
      let completed = false;
      let lease: string | null = claimed ?? null;
      try {
        // A claim of ours returns the row it holds: the step starts from it.
        let held: TransactionRow | undefined;
        let missing = false;
        if (lease === null) {
          const claim = await this.#claim(transactionNumber);
          missing = claim === 'missing';
          if (claim && claim !== 'missing') ({ lease, row: held } = claim);
        }
        if (missing) completed = true;
        else if (lease !== null) {
          const heartbeat = this.#keep(transactionNumber, lease);
          try {
            await this.#step(transactionNumber, cause, hint, lease, held);
          } finally {
            clearInterval(heartbeat);
          }
          this.#resting.delete(transactionNumber);
          completed = true;
        }
      } catch (err) {
        if (err instanceof LimiterClosedError) {
          this.#d.logger.debug({ transactionNumber }, 'stopping: the step resumes after the restart');
        } else {
          const ms = this.#rest(transactionNumber);
          this.#d.logger.error(
            { err, transactionNumber, retryInMs: ms },
            'fulfilment step failed; the reconciler will try again',
          );
        }
      } finally {
        if (lease !== null) await this.#release(transactionNumber, lease);
        this.#busy.delete(transactionNumber);
      }
      const again = this.#again.get(transactionNumber);
      if (again) {
        this.#again.delete(transactionNumber);
        return (await this.advance(transactionNumber, again.cause, again.hint)) && completed;
      }
      return completed;
    })();
    this.#busy.set(transactionNumber, run);
    this.#track(run);
    return run;
  }

  /** A step is under way, or the last one failed and its pause is not over. */
  isBusy(transactionNumber: string): boolean {
    if (this.#busy.has(transactionNumber)) return true;
    const resting = this.#resting.get(transactionNumber);
    return resting !== undefined && resting.until > this.#d.now();
  }

  /**
   * Start-up after a crash: an ORDERING row whose step no one holds had its reply never
   * committed, so it is UNKNOWN. A row another live instance is sending keeps its lease and
   * is left alone; one whose holder died is taken over once its lease runs out.
   */
  async recoverInterrupted(): Promise<number> {
    let recovered = 0;
    let after = '';
    for (;;) {
      const page = await this.#d.store.listInState('ORDERING', 500, after);
      for (const row of page) {
        const lease = this.#holder();
        if (!(await this.#d.store.claimStep(row.transactionNumber, lease, this.#d.orderingLeaseMs))) continue;
        try {
          const moved = await this.#move({
            transactionNumber: row.transactionNumber,
            from: 'ORDERING',
            to: 'UNKNOWN',
            cause: 'reconciler',
            detail: 'recovered at start: the create-order reply was never committed',
            patch: { nextCheckAt: this.#d.now() },
            lease,
          });
          if (moved) recovered++;
        } finally {
          await this.#release(row.transactionNumber, lease);
        }
      }
      const last = page.at(-1);
      if (!last) break;
      after = last.transactionNumber;
    }
    if (recovered > 0)
      this.#d.logger.warn({ recovered }, 'interrupted orders marked UNKNOWN for reconciliation');
    return recovered;
  }

  /**
   * Resolves when the transaction is final or `ms` have passed: at the notice of its final move
   * (from any instance), or at a slow poll's read in case a notice is lost.
   */
  waitForFinal(transactionNumber: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const listeners = this.#waiters.get(transactionNumber) ?? new Set<() => void>();
      this.#waiters.set(transactionNumber, listeners);
      let finished = false;
      const done = () => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        clearInterval(poll);
        listeners.delete(done);
        if (listeners.size === 0) this.#waiters.delete(transactionNumber);
        resolve();
      };
      const check = () => {
        this.#d.store.getTransaction(transactionNumber).then(
          (row) => {
            if (!row || isTerminal(row.state)) done();
          },
          // A failed read is not an answer: the wait goes on, and the caller answers from its own read.
          () => undefined,
        );
      };
      const timer = setTimeout(done, ms);
      const poll = setInterval(check, WAIT_POLL_MS);
      listeners.add(done);
      check();
    });
  }

  /** Waits for every step under way (graceful stop). */
  async idle(): Promise<void> {
    while (this.#tracked.size > 0) await Promise.allSettled([...this.#tracked]);
  }

  /** Stops listening to moves (the store is about to close). */
  close(): void {
    this.#unsubscribe();
  }

  /** A supplier reference from a webhook: the transaction it names, if ours. */
  findByReference(ref: string): Promise<TransactionRow | undefined> {
    return this.#d.store.findBySupplierRef(ref);
  }

  // ------------------------------------------------------------------ steps

  async #step(
    transactionNumber: string,
    cause: Cause,
    hint: Hint,
    lease: string,
    held?: TransactionRow,
  ): Promise<void> {
    const row = held ?? (await this.#d.store.getTransaction(transactionNumber));
    if (!row) return;
    const trxHint = hint.trxCode ?? this.#learnt.get(transactionNumber) ?? null;
    if (row.trxCode || isTerminal(row.state)) this.#learnt.delete(transactionNumber);
    if (isTerminal(row.state)) this.#resting.delete(transactionNumber);
    switch (row.state) {
      case 'QUEUED':
        return this.#send(row, cause, lease);
      case 'PROCESSING':
        return this.#checkStatus(row, row.trxCode ?? trxHint, cause, lease);
      case 'UNKNOWN':
        return this.#resolveUnknown(row, cause, trxHint, lease);
      case 'ORDERING': {
        // No step of ours is under way (advance runs one at a time): the reply is on its way
        // elsewhere, or its commit failed. A webhook's trx code can settle it sooner.
        if (trxHint) return this.#checkStatus(row, trxHint, cause, lease);
        if (row.nextCheckAt === null || row.nextCheckAt > this.#d.now()) return;
        const unknown = await this.#move({
          transactionNumber,
          from: 'ORDERING',
          to: 'UNKNOWN',
          cause: 'reconciler',
          detail: 'the create-order reply was not committed within its lease',
          patch: { nextCheckAt: this.#d.now() },
          lease,
        });
        if (unknown) return this.#resolveUnknown(unknown, cause, null, lease);
        return;
      }
      case 'SUCCESS':
      case 'FAILED':
        // Only when a webhook contradicts the record: the status decides if it is an anomaly.
        if (hint.verifyFinal || contradicts(row.state, hint.reportedSuccess))
          return this.#checkStatus(row, row.trxCode ?? trxHint, cause, lease);
        // A webhook read while the row was open, and an operator settled it meanwhile: the
        // supplier's word is checked against the operator's, never lost.
        if (cause === 'webhook' && (await this.#settledByOperator(transactionNumber)))
          return this.#checkStatus(row, row.trxCode ?? trxHint ?? row.refId, cause, lease);
        return;
      default:
        return;
    }
  }

  async #send(row: TransactionRow, cause: Cause, lease: string): Promise<void> {
    const n = row.transactionNumber;
    const variation = await this.#d.catalogue.variation(row.brandKey, row.variationKey);
    if (!variation?.isActive || variation.price > row.maxPrice) {
      // Nothing was sent: refusing now is certain.
      await this.#move({
        transactionNumber: n,
        from: 'QUEUED',
        to: 'FAILED',
        cause,
        detail: variation
          ? `supplier price ${variation.price} above max_price or inactive`
          : 'no supplier price',
        patch: { failureCode: 'OOS', failureReason: 'out of stock at the supplier' },
        lease,
      });
      return;
    }
    const permit = await this.#permit();
    if (!permit) return; // stopping: it stays QUEUED and is sent after the restart
    let sending: TransactionRow | null = null;
    try {
      // The wait for a permit may have outlived the lease: the send is covered afresh.
      if (await this.#d.store.renewStep(n, lease, this.#d.orderingLeaseMs))
        sending = await this.#move({
          transactionNumber: n,
          from: 'QUEUED',
          to: 'ORDERING',
          cause,
          detail: `create-order ${row.refId} at ${variation.price}`,
          patch: {
            orderAttempts: row.orderAttempts + 1,
            priceOffered: variation.price,
            nextCheckAt: this.#leaseEnd(),
          },
          lease,
        });
    } finally {
      // Cancelled or sent by someone else meanwhile, or the write failed: no call is made.
      if (!sending) permit.release();
    }
    if (!sending) return;
    this.#d.crash?.('after-ordering', n);
    const outcome = await this.#createOrder(sending, variation.price, permit);
    this.#d.crash?.('after-order-reply', n);
    await this.#applyCreate(sending, outcome, variation.price, true, lease);
  }

  #createOrder(row: TransactionRow, price: number, permit: Permit): Promise<MitraOutcome<CreateOrderData>> {
    return this.#d.client.createOrder(
      {
        brand_key: row.brandKey,
        variation_key: row.variationKey,
        price,
        ref_id: row.refId,
        data: row.supplierData,
      },
      permit,
      row.transactionNumber,
    );
  }

  /**
   * Commits the reply to a create-order sent from ORDERING. An accepted order's trx code is
   * kept in memory until it is committed, so a failed commit costs one status call, not a
   * resend (and, should the process die too, the ref_id still finds the order).
   */
  async #applyCreate(
    row: TransactionRow,
    outcome: MitraOutcome<CreateOrderData>,
    price: number,
    mayRetryPrice: boolean,
    lease: string,
  ): Promise<void> {
    if (outcome.kind === 'accepted') this.#learnt.set(row.transactionNumber, outcome.data.trx_code);
    await this.#commitCreate(row, outcome, price, mayRetryPrice, lease);
    if (outcome.kind === 'accepted') this.#learnt.delete(row.transactionNumber);
  }

  async #commitCreate(
    row: TransactionRow,
    outcome: MitraOutcome<CreateOrderData>,
    price: number,
    mayRetryPrice: boolean,
    lease: string,
  ): Promise<void> {
    const n = row.transactionNumber;
    const base = { transactionNumber: n, from: 'ORDERING' as const, cause: 'supplier' as const, lease };
    const now = this.#d.now();
    switch (outcome.kind) {
      case 'accepted':
        await this.#move({
          ...base,
          to: 'PROCESSING',
          detail: `accepted as ${outcome.data.trx_code}`,
          patch: {
            trxCode: outcome.data.trx_code,
            pricePaid: outcome.data.selling_total ?? price,
            checks: 0,
            nextCheckAt: now + nextCheckDelay(this.#d.schedule, 0),
          },
        });
        return;
      case 'exists':
        await this.#move({
          ...base,
          to: 'UNKNOWN',
          detail: `an order for the ref_id may exist (rc ${outcome.rc}): ${outcome.message}`,
          patch: { nextCheckAt: now },
        });
        return;
      case 'retryable':
        await this.#move({
          ...base,
          to: 'QUEUED',
          detail: `not taken: ${outcome.reason}`,
          patch: { nextCheckAt: now + resendDelay(row.orderAttempts, outcome.retryAfterMs) },
        });
        return;
      case 'ambiguous':
        await this.#move({
          ...base,
          to: 'UNKNOWN',
          detail: `no clear answer: ${outcome.reason}`,
          patch: { checks: 0, nextCheckAt: now + Math.min(1000, nextCheckDelay(this.#d.schedule, 0)) },
        });
        return;
      case 'refused': {
        if (outcome.rc === '24' && mayRetryPrice) {
          const retried = await this.#retryAtNewPrice(row, lease);
          if (retried) return;
        }
        const operator = needsOperator(outcome.rc);
        if (operator)
          this.#alert('supplier-refusal', n, `${operator} (rc ${outcome.rc}: ${outcome.message})`);
        await this.#move({
          ...base,
          to: 'FAILED',
          detail: `refused: rc ${outcome.rc} ${outcome.status}`,
          patch: {
            failureCode: refusalCodeFor(outcome.rc),
            failureReason: outcome.message || outcome.status,
          },
        });
        return;
      }
    }
  }

  /** rc 24: the price moved. Refresh it; within max_price, send once more with the same ref_id. */
  async #retryAtNewPrice(row: TransactionRow, lease: string): Promise<boolean> {
    await this.#d.catalogue.refreshBrand(row.brandKey);
    const variation = await this.#d.catalogue.variation(row.brandKey, row.variationKey);
    if (!variation?.isActive || variation.price > row.maxPrice) return false;
    const permit = await this.#permit();
    if (!permit) return false;
    const recorded = await this.#recordSend(permit, row.transactionNumber, 'ORDERING', lease, {
      orderAttempts: row.orderAttempts + 1,
      priceOffered: variation.price,
      nextCheckAt: this.#leaseEnd(),
    });
    if (!recorded) return true;
    const outcome = await this.#createOrder(row, variation.price, permit);
    await this.#applyCreate(row, outcome, variation.price, false, lease);
    return true;
  }

  async #resolveUnknown(
    row: TransactionRow,
    cause: Cause,
    trxHint: string | null,
    lease: string,
  ): Promise<void> {
    const trxCode = row.trxCode ?? trxHint;
    if (trxCode) return this.#checkStatus(row, trxCode, cause, lease);
    // Resends are capped: past the cap only the order status by ref_id is asked, never an order.
    if (row.resends >= MAX_RESENDS) return this.#checkStatus(row, row.refId, cause, lease);

    // No trx code: ask again with the same ref_id. The supplier refuses a second order for it.
    const permit = await this.#permit();
    if (!permit) return;
    const price = row.priceOffered ?? row.maxPrice;
    const counts = { orderAttempts: row.orderAttempts + 1, resends: row.resends + 1 };
    if (!(await this.#recordSend(permit, row.transactionNumber, 'UNKNOWN', lease, counts))) return;
    const outcome = await this.#createOrder(row, price, permit);
    if (outcome.kind === 'accepted') this.#learnt.set(row.transactionNumber, outcome.data.trx_code);
    if (outcome.kind === 'accepted') {
      await this.#move({
        transactionNumber: row.transactionNumber,
        from: 'UNKNOWN',
        to: 'PROCESSING',
        cause,
        detail: `sent again with the same ref_id: accepted as ${outcome.data.trx_code}`,
        patch: {
          trxCode: outcome.data.trx_code,
          pricePaid: outcome.data.selling_total ?? price,
          checks: 0,
          nextCheckAt: this.#d.now() + nextCheckDelay(this.#d.schedule, 0),
        },
        lease,
      });
      this.#learnt.delete(row.transactionNumber);
      return;
    }
    if (outcome.kind === 'exists') {
      // The order exists and only its trx code finds it: another resend would learn nothing,
      // and each is one more create-order sent for a ref_id Mitra already holds.
      if (!this.#readings().mitra.tid_accepts_ref_id)
        return this.#reschedule(
          row,
          `an order for the ref_id exists (rc ${outcome.rc}) and tid takes only trx codes: a webhook or an operator names it`,
          lease,
          { resends: MAX_RESENDS },
        );
      return this.#checkStatus(row, row.refId, cause, lease);
    }
    // Refused, retryable or ambiguous: nothing is learnt. Never guess; look again later.
    await this.#reschedule(
      row,
      `sent again: ${outcome.kind === 'refused' ? `rc ${outcome.rc}` : outcome.kind}`,
      lease,
    );
  }

  async #checkStatus(row: TransactionRow, tid: string | null, cause: Cause, lease: string): Promise<void> {
    if (!tid) return this.#reschedule(row, 'no reference to ask about', lease);
    // Asking by ref_id finds nothing where tid takes only trx codes: a webhook or an operator
    // must name the order. Open until then, flagged at its deadline; never guessed.
    if (tid === row.refId && tid !== row.trxCode && !this.#readings().mitra.tid_accepts_ref_id)
      return this.#reschedule(
        row,
        'no trx code, and tid takes none but trx codes (mitra.tid_accepts_ref_id: false)',
        lease,
      );
    const outcome = await this.#d.client.orderStatus(tid, row.transactionNumber);
    if (outcome.kind !== 'accepted') {
      // A final state is checked only when a webhook contradicts it, and nothing checks it again.
      if (isTerminal(row.state))
        return this.#anomaly(
          row,
          `a webhook contradicts ${row.state} and the order status could not be had (${outcome.kind}): check by hand`,
        );
      return this.#reschedule(row, `order status: ${outcome.kind}`, lease);
    }
    // A key from a webhook is only a hint: the order it finds must name our ref_id. The trx
    // code of our own accepted order, kept in memory after its commit failed, is ours.
    const ours = tid === row.trxCode || tid === row.refId || tid === this.#learnt.get(row.transactionNumber);
    await this.applyStatus(row.transactionNumber, outcome.data, cause, !ours, lease);
  }

  /**
   * The one function that applies a supplier order status, whoever asked (top-up,
   * webhook, reconciler). Only forward moves; a contradiction of a final state is an
   * anomaly for an operator and changes nothing. `lease`: the step it belongs to, if any.
   */
  async applyStatus(
    transactionNumber: string,
    data: OrderStatusData,
    cause: Cause,
    mustNameUs = false,
    lease?: string,
  ): Promise<void> {
    const row = await this.#d.store.getTransaction(transactionNumber);
    if (!row) return;
    if ((data.ref_id || mustNameUs) && data.ref_id !== row.refId) {
      this.#alert(
        'reference-mismatch',
        transactionNumber,
        `order ${data.code} belongs to ${data.ref_id ?? 'an unnamed ref_id'}, not ${row.refId}: not applied`,
      );
      await this.#reschedule(row, 'a status of another order', lease);
      return;
    }
    const readings = this.#readings();
    const status = interpretOrderStatus(data, readings);
    // Which readings decided: a story that says why, and by which version of the file.
    const version = readingsVersion(readings);
    const why = `${status.decidedBy}${version === 'default' ? '' : `; readings ${version}`}`;
    const voucherWithoutCode = status.kind === 'success' && row.isVoucher && status.voucherCode === null;
    let current = row;
    if (status.kind !== 'failed' && (current.state === 'ORDERING' || current.state === 'UNKNOWN')) {
      // The order exists: what a create-order reply would have said.
      const moved = await this.#move({
        transactionNumber,
        from: current.state,
        to: 'PROCESSING',
        cause,
        detail: `order ${data.code} found`,
        patch: { trxCode: data.code },
        lease,
      });
      if (!moved) return;
      current = moved;
    }

    if (status.kind === 'processing') {
      await this.#reschedule(current, 'still processing', lease);
      return;
    }
    if (status.kind === 'unclear') {
      this.#d.logger.warn({ transactionNumber, why: status.why }, 'order status says nothing certain');
      // A final state is checked only when something contradicts it, and nothing checks it again.
      if (isTerminal(current.state))
        return this.#anomaly(
          current,
          `a webhook contradicts ${current.state} and the order status is unclear (${status.why}): check by hand`,
        );
      if (status.unknownStatus !== undefined)
        this.#unknownStatus(status.unknownStatus, transactionNumber, readings);
      await this.#reschedule(current, `order status unclear: ${status.why}`, lease);
      return;
    }

    if (status.kind === 'success') {
      if (voucherWithoutCode && current.state === 'PROCESSING') {
        // Delivered to us is not delivered to the buyer: Razer must never get 200 without the code.
        this.#d.logger.warn(
          { transactionNumber, trxCode: data.code },
          'voucher reported delivered without a code: kept open and checked again',
        );
        await this.#reschedule(current, 'voucher delivered without a code', lease);
        return;
      }
      if (current.state === 'PROCESSING') {
        await this.#move({
          transactionNumber,
          from: 'PROCESSING',
          to: 'SUCCESS',
          cause,
          detail: `delivered (${data.code}): ${why}`,
          patch: {
            voucherCode: status.voucherCode,
            pricePaid: data.grand_total ?? current.pricePaid,
            nextCheckAt: null,
          },
          lease,
        });
      } else if (current.state === 'FAILED') {
        await this.#anomaly(
          current,
          `the supplier reports order ${data.code} delivered after it was recorded FAILED`,
        );
      }
      return;
    }

    // Failed or refunded.
    const reason = status.reason ?? (status.refunded ? 'refunded by the supplier' : 'failed at the supplier');
    if (current.state === 'PROCESSING' || current.state === 'UNKNOWN' || current.state === 'ORDERING') {
      await this.#move({
        transactionNumber,
        from: current.state,
        to: 'FAILED',
        cause,
        detail: `${status.refunded ? 'refunded' : 'failed'} (${data.code}): ${why}`,
        patch: {
          trxCode: current.trxCode ?? data.code,
          failureCode: 'FAILED',
          failureReason: reason,
          nextCheckAt: null,
        },
        lease,
      });
    } else if (current.state === 'SUCCESS') {
      await this.#anomaly(
        current,
        `the supplier reports order ${data.code} ${status.refunded ? 'refunded' : 'failed'} after it was delivered: ${reason}`,
      );
    }
  }

  // ------------------------------------------------------------------ helpers

  async #settledByOperator(transactionNumber: string): Promise<boolean> {
    // A resolution names its actor; an operator's recheck makes the engine's own moves, without one.
    const last = (await this.#d.store.listEvents(transactionNumber)).at(-1);
    return last?.cause === 'operator' && Boolean(last.actor);
  }

  /**
   * Records a send on a row still in `state`, under the step's lease (renewed to cover the
   * call), before the call; the permit goes back if it cannot.
   */
  async #recordSend(
    permit: Permit,
    transactionNumber: string,
    state: State,
    lease: string,
    patch: MovePatch,
  ): Promise<boolean> {
    let recorded = false;
    try {
      recorded =
        (await this.#d.store.renewStep(transactionNumber, lease, this.#d.orderingLeaseMs)) &&
        (await this.#d.store.patchTransaction(transactionNumber, state, patch, this.#d.now(), lease));
    } finally {
      if (!recorded) permit.release();
    }
    return recorded;
  }

  #leaseEnd(): number {
    return this.#d.now() + this.#d.orderingLeaseMs;
  }

  /** Pauses a transaction whose step threw, doubling up to a minute; returns the pause. */
  #rest(transactionNumber: string): number {
    const failures = (this.#resting.get(transactionNumber)?.failures ?? 0) + 1;
    const ms = Math.min(60_000, 250 * 2 ** (failures - 1));
    this.#resting.set(transactionNumber, { until: this.#d.now() + ms, failures });
    return ms;
  }

  /** A create-order permit, or null when the limiter was closed (the gateway is stopping). */
  async #permit(): Promise<Permit | null> {
    try {
      return await this.#d.limiter.acquire('order');
    } catch (err) {
      if (err instanceof LimiterClosedError) return null;
      throw err;
    }
  }

  async #move(move: Omit<Move, 'at'>): Promise<TransactionRow | null> {
    const result = await commitMove(this.#d.store, { ...move, at: this.#d.now() });
    if (!result.ok) {
      this.#d.logger.debug({ move, result }, 'move not applied: the transaction moved first');
      return null;
    }
    this.#d.logger.info(
      {
        transactionNumber: move.transactionNumber,
        from: move.from,
        to: move.to,
        cause: move.cause,
        detail: move.detail,
      },
      'transaction moved',
    );
    return result.row;
  }

  /**
   * Sets the next check of a still-open transaction, one step further along the schedule; a day
   * after its top-up (flagged for an operator by then) at the slow cadence.
   */
  async #reschedule(
    row: TransactionRow,
    why: string,
    lease: string | undefined,
    extra: MovePatch = {},
  ): Promise<void> {
    const fresh = await this.#d.store.getTransaction(row.transactionNumber);
    if (!fresh || isTerminal(fresh.state)) return;
    const now = this.#d.now();
    const overdue = fresh.deadlineAt !== null && fresh.deadlineAt <= now;
    // A row topped up before topped_up_at was recorded had a 24 h deadline: overdue is the same.
    const slow = overdue && (fresh.toppedUpAt === null || now - fresh.toppedUpAt >= SLOW_CHECKS_AFTER_MS);
    const delay = nextCheckDelay(this.#d.schedule, fresh.checks);
    const patch: MovePatch = {
      ...extra,
      checks: fresh.checks + 1,
      nextCheckAt: now + (slow ? Math.max(delay, OVERDUE_CHECK_MS) : delay),
    };
    await this.#d.store.patchTransaction(fresh.transactionNumber, fresh.state, patch, this.#d.now(), lease);
    this.#d.logger.debug(
      { transactionNumber: fresh.transactionNumber, why, nextCheckAt: patch.nextCheckAt },
      'check again later',
    );
  }

  async #anomaly(row: TransactionRow, message: string): Promise<void> {
    if (row.attention && row.attentionReason === message) return;
    await this.#d.store.flagForOperator(row.transactionNumber, message, this.#d.now());
    this.#alert('anomaly', row.transactionNumber, message);
  }

  /** The first sighting of a status number the readings do not know: one alert per number. */
  #unknownStatus(status: number, transactionNumber: string, readings: Readings): void {
    if (this.#unknownStatuses.has(status)) return;
    this.#unknownStatuses.add(status);
    this.#alert(
      'unknown-status',
      transactionNumber,
      `Mitra answered order status ${status}, which the gateway does not read (${describeStatuses(readings)}), for ${transactionNumber}: it stays open and is checked again on its schedule, flagged at its deadline; never answered 400 for it. Ask Mitra what ${status} means, then add it to mitra.order_status.processing, .success or .failed in the readings file (or run gateway conformance).`,
      String(status),
    );
  }

  #readings(): Readings {
    return this.#d.readings?.() ?? DEFAULT_READINGS;
  }

  #alert(kind: string, transactionNumber: string | null, message: string, key?: string): void {
    this.#d.logger.error({ kind, transactionNumber }, `OPERATOR: ${message}`);
    this.#d.onAlert?.({ kind, transactionNumber, message, ...(key === undefined ? {} : { key }) });
  }

  /** A lease holder unique to one step: the instance, and a count. */
  #holder(): string {
    this.#claims = (this.#claims + 1) % Number.MAX_SAFE_INTEGER;
    return holderName(this.#d.store.instanceId, `#${this.#claims}`);
  }

  /**
   * The row's lease for a step, and the row as held; while another step (here or on another
   * instance) holds it, asked again until it is released or runs out (then null). `missing`: no
   * such row, nothing to step.
   */
  async #claim(
    transactionNumber: string,
  ): Promise<{ lease: string; row: TransactionRow } | 'missing' | null> {
    const lease = this.#holder();
    const giveUpAt = performance.now() + this.#d.orderingLeaseMs + 2 * CLAIM_RETRY_MS;
    for (;;) {
      const row = await this.#d.store.claimStep(transactionNumber, lease, this.#d.orderingLeaseMs);
      if (row) return { lease, row };
      // Refused: held by another step, or no such row (a step has nothing to do).
      if (!(await this.#d.store.getTransaction(transactionNumber))) return 'missing';
      if (performance.now() > giveUpAt) {
        this.#d.logger.warn(
          { transactionNumber },
          'another step kept this transaction; left to the reconciler',
        );
        return null;
      }
      await new Promise((resolve) => setTimeout(resolve, CLAIM_RETRY_MS));
    }
  }

  /**
   * Renews the lease while the step runs (a wait for a permit may be long): it runs out only
   * when this process is gone. A renewal that fails leaves the lease to run out; a step whose
   * lease was taken over meanwhile writes nothing.
   */
  #keep(transactionNumber: string, lease: string): NodeJS.Timeout {
    const timer = setInterval(
      () => {
        this.#d.store.renewStep(transactionNumber, lease, this.#d.orderingLeaseMs).then(
          (held) => {
            if (!held) clearInterval(timer);
          },
          (err: unknown) => this.#d.logger.warn({ err, transactionNumber }, 'could not renew a step lease'),
        );
      },
      Math.max(50, Math.floor(this.#d.orderingLeaseMs / 3)),
    );
    timer.unref();
    return timer;
  }

  async #release(transactionNumber: string, lease: string): Promise<void> {
    try {
      await this.#d.store.releaseStep(transactionNumber, lease);
    } catch (err) {
      // The lease runs out by itself.
      this.#d.logger.warn({ err, transactionNumber }, 'could not release a step lease');
    }
  }

  #track<T>(p: Promise<T>): void {
    this.#tracked.add(p);
    void p.finally(() => this.#tracked.delete(p));
  }
}
