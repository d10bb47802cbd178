import { createHash, timingSafeEqual } from 'node:crypto';
import type { Mapping, SkuMapping } from '../config/mapping.js';
import type { Store } from '../db/store.js';
import type { InitEvent, NewExchange, NewInitiated, NewTransaction, TransactionRow } from '../db/types.js';

export type { NewExchange, TransactionRow };

import type { CatalogueView } from '../mitra/catalogue.js';
import { type BalanceReading, judgeBalance } from './balance-guard.js';
import {
  choiceText,
  type PassedOver,
  passedOverText,
  refusalOf,
  type VariationChoice,
} from './choose-variation.js';
import { commitMove } from './moves.js';
import type { Fulfilment } from './ports.js';
import { type CheckResult, checkPurchase, limitRefusal, type PurchaseRequest } from './purchase-checks.js';
import { guardQueue, type QueueGuardDeps } from './queue-guard.js';
import { Refusal } from './refusal.js';
import type { Cause, State } from './states.js';
import { type SupplyFigures, type SupplyView, supplyFigures } from './supply-snapshot.js';
import { INIT_TTL_MS, LIMIT_WINDOW_MS } from './windows.js';

export interface PurchaseDeps {
  store: Store;
  mapping: () => Mapping;
  catalogue: CatalogueView;
  fulfilment: Fulfilment;
  now: () => number;
  newToken: () => string;
  topupWaitMs: number;
  /**
   * How long after its top-up a purchase may stay open before an operator is called
   * (RESOLVE_DEADLINE). Given to each purchase at its top-up, as its deadline_at: a change
   * applies to purchases topped up after it.
   */
  resolveDeadlineMs: number;
  /**
   * The balance guard at init (absent: off). `reading` is the last polled supplier balance, null
   * when none was read; one older than `maxAgeMs` never refuses: `stale` is told instead, and
   * `fresh` when a reading young enough is judged again.
   */
  balanceGuard?: BalanceGuardDeps | undefined;
  /** The queue guard at init (absent, or MAX_SUPPLIER_WAIT 0: off). */
  queueGuard?: QueueGuardDeps | undefined;
  /**
   * The open purchases' figures both guards judge by, from the shared snapshot (read at most once
   * a second, see SupplySnapshot); absent: read from the store at each init. Without figures (the
   * read failed, and no good one is recent enough) the guards judge nothing: the sale goes through.
   */
  supply?: (() => Promise<SupplyView>) | undefined;
}

export interface BalanceGuardDeps {
  reading: () => BalanceReading | null;
  maxAgeMs: number;
  stale?: (ageMs: number) => void;
  fresh?: () => void;
  /** Told why a sale was refused, with the amounts (for the log: the answer to Razer has none). */
  refused?: (why: string) => void;
}

export interface InitRequest extends PurchaseRequest {
  transactionNumber: string;
  razerId: string;
  userIpAddress: string;
  userCountryCode: string;
}

/** The supplier ref_id of a transaction: unique because transactionNumber is. */
export const refIdFor = (transactionNumber: string): string => `RG-${transactionNumber}`;

/** Runs the init checks; throws a Refusal with the first failing check's code. */
export async function checkRequest(
  deps: Pick<PurchaseDeps, 'store' | 'mapping' | 'catalogue' | 'now'>,
  req: PurchaseRequest,
) {
  const result = await checkPurchase(req, {
    entry: deps.mapping().skus.get(req.sku),
    catalogue: async (brandKey, variationKey) => {
      const [brand, variation] = await Promise.all([
        deps.catalogue.brand(brandKey),
        deps.catalogue.variation(brandKey, variationKey),
      ]);
      return { brand, variation };
    },
    recentPurchases: (entry, limitKey) =>
      deps.store.countRecentPurchases({
        sku: entry.sku,
        account: limitKey === null ? null : { limitKey, accountId: req.accountId },
        since: deps.now() - LIMIT_WINDOW_MS,
      }),
  });
  if (!result.ok) throw new Refusal(result.code, result.message);
  return result;
}

/** The row an accepted init creates (what was validated is kept with it), and its mapping. */
async function planPurchase(
  deps: PurchaseDeps,
  req: InitRequest,
  apiId: string,
): Promise<{ row: NewInitiated; entry: SkuMapping; initEvent: InitEvent | undefined }> {
  const checked = await checkRequest(deps, req);
  // The queue is the same for every SKU and variation: judged once, before the balance.
  if (deps.queueGuard) await guardQueue(deps.queueGuard, () => supplyNow(deps), checked.entry.sku);
  // The balance guard may pass over the option the catalogue allows, for a cheaper backup.
  const choice =
    (deps.balanceGuard && (await guardBalance(deps, deps.balanceGuard, checked))) || checked.choice;
  const { option } = choice;
  const now = deps.now();
  const row: NewInitiated = {
    transactionNumber: req.transactionNumber,
    apiId,
    sku: req.sku,
    // The option chosen now: the top-up and the order use these, whatever changes after init.
    brandKey: option.brand,
    variationKey: option.variation,
    maxPrice: option.maxPrice,
    isVoucher: choice.isVoucher,
    accountId: req.accountId,
    supplierData: checked.data,
    limitKey: checked.limitKey,
    razerId: req.razerId,
    userIp: req.userIpAddress,
    countryCode: req.userCountryCode,
    customParam: req.customParam ?? null,
    state: 'INITIATED',
    token: deps.newToken(),
    refId: refIdFor(req.transactionNumber),
    expiresAt: now + INIT_TTL_MS,
    createdAt: now,
    updatedAt: now,
    ...revenueColumns(option.revenue),
  };
  // A SKU with backups says in its story which option it sells through, and why not the earlier.
  const initEvent = checked.entry.backups.length > 0 ? { detail: `init: ${choiceText(choice)}` } : undefined;
  return { row, entry: checked.entry, initEvent };
}

const idr = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/**
 * The guards' figures: the shared snapshot's, else read now; null when there are none to judge by.
 * The guards fail open: a read that fails (a statement timeout, a dropped connection) must not
 * stop all sales. The snapshot answers such a failure itself (the last good figures while recent,
 * else none), and tells the log and an alert; a failure that reaches here is taken the same way.
 */
async function supplyNow(
  deps: Pick<PurchaseDeps, 'store' | 'now' | 'supply'>,
): Promise<SupplyFigures | null> {
  try {
    if (deps.supply) return (await deps.supply()).figures;
    const readAt = deps.now();
    return { ...supplyFigures(await deps.store.openCommitments()), readAt };
  } catch {
    return null;
  }
}

/**
 * The balance guard, the last init check: refuses OOS when the last balance read, minus what
 * open purchases will still be charged, cannot pay this SKU's price. Never at top-up. For a SKU
 * with backups, the choice is made again with the guard's verdict on each option's price: the
 * first option it can pay (null: the catalogue's choice stands, the guard judging nothing).
 */
async function guardBalance(
  deps: Pick<PurchaseDeps, 'store' | 'now' | 'supply'>,
  guard: BalanceGuardDeps,
  checked: Extract<CheckResult, { ok: true }>,
): Promise<Extract<VariationChoice, { ok: true }> | null> {
  const { sku } = checked.entry;
  const reading = guard.reading();
  if (!reading) return null;
  const now = deps.now();
  // Counted only when there is a reading to judge by.
  let committed = 0;
  if (now - reading.at <= guard.maxAgeMs) {
    const figures = await supplyNow(deps);
    // What open purchases will still be charged is not known: nothing to judge by, it sells.
    if (!figures) return null;
    committed = figures.committedIdr;
  }
  const judge = (price: number) => judgeBalance({ reading, committed, price, now, maxAgeMs: guard.maxAgeMs });
  const verdict = judge(checked.price);
  if (verdict.kind === 'stale') {
    guard.stale?.(verdict.ageMs);
    return null;
  }
  guard.fresh?.();
  const choice = await checked.choose(judge);
  if (choice.ok) return choice;
  const main = (choice.passedOver[0] as PassedOver).reason;
  // The amounts are ours, not Razer's to read: they go to the log, not into the answer.
  guard.refused?.(
    checked.entry.backups.length === 0 && main.kind === 'balance'
      ? `init of ${sku} refused: the supplier balance left after open purchases (${idr.format(main.available)} IDR of ${idr.format(reading.idr)} IDR read at ${new Date(reading.at).toISOString()}) is below its price (${idr.format(main.price)} IDR)`
      : `init of ${sku} refused: no option can sell now (balance ${idr.format(reading.idr)} IDR read at ${new Date(reading.at).toISOString()}): ${passedOverText(choice.passedOver).join('; ')}`,
  );
  // As the main alone would be refused, or as the balance guard refuses when the balance stopped
  // every option that could otherwise sell (a backup's reasons are in the log above).
  const refusal = refusalOf(sku, choice.passedOver);
  throw new Refusal(refusal.code, refusal.message, refusal.reason);
}

/**
 * What the sale earns if delivered, as the mapping and its rates say now: recorded with the row,
 * so that a later edit of either never rewrites it. Nothing when the SKU has no revenue.
 */
function revenueColumns(
  revenue: SkuMapping['revenue'],
): Pick<
  NewTransaction,
  'revenueMinor' | 'revenueCurrency' | 'revenueRateE6' | 'revenueRateSet' | 'revenueIdr'
> {
  if (!revenue) return {};
  return {
    revenueMinor: revenue.amountMinor,
    revenueCurrency: revenue.currency,
    revenueRateE6: revenue.rateE6,
    revenueRateSet: revenue.rateSet,
    revenueIdr: revenue.idr,
  };
}

async function load(store: Store, transactionNumber: string): Promise<TransactionRow> {
  const row = await store.getTransaction(transactionNumber);
  if (!row) throw new Refusal('ORIGIN_NOT_FOUND', `transaction ${transactionNumber} is not known`);
  return row;
}

function tokensMatch(expected: string, given: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(expected), digest(given));
}

/**
 * Re-reads after a lost compare-and-set; a bounded number of times, since states only move
 * forward. `first`: the row the caller has just read, tried before any re-read.
 */
async function settle(
  store: Store,
  transactionNumber: string,
  attempt: (row: TransactionRow) => Promise<TransactionRow | null>,
  first?: TransactionRow,
): Promise<TransactionRow> {
  for (let i = 0; i < 10; i++) {
    const result = await attempt(i === 0 && first ? first : await load(store, transactionNumber));
    if (result) return result;
  }
  throw new Error(`transaction ${transactionNumber} kept changing under a Razer request`);
}

/** Closes an initiated, never topped-up transaction; null when it moved meanwhile. */
export async function expireInitiated(
  store: Store,
  transactionNumber: string,
  cause: Cause,
  detail: string,
  at: number,
): Promise<TransactionRow | null> {
  const moved = await commitMove(store, {
    transactionNumber,
    from: 'INITIATED',
    to: 'EXPIRED',
    cause,
    detail,
    at,
    patch: { failureCode: 'FAILED', failureReason: 'not topped up' },
  });
  return moved.ok ? moved.row : null;
}

const expire = (deps: Pick<PurchaseDeps, 'store' | 'now'>, row: TransactionRow, detail: string) =>
  expireInitiated(deps.store, row.transactionNumber, 'razer', detail, deps.now());

/**
 * Top-up: checks the token, queues the order (INITIATED -> QUEUED) and hands it to the
 * fulfilment engine, which sends exactly one order and waits up to TOPUP_WAIT_MS. A repeated
 * top-up places nothing: it returns the recorded state, to be answered like a query.
 */
export async function topUp(
  deps: PurchaseDeps,
  transactionNumber: string,
  token: string,
): Promise<TransactionRow> {
  const row = await load(deps.store, transactionNumber);
  if (!tokensMatch(row.token, token))
    throw new Refusal('INVALID_TRANS_TOKEN', 'transactionToken does not match');
  let queued = false;
  const current = await settle(
    deps.store,
    transactionNumber,
    async (r) => {
      if (r.state !== 'INITIATED') return r;
      const now = deps.now();
      if (r.expiresAt <= now) return expire(deps, r, 'top-up after the init expired');
      const moved = await commitMove(deps.store, {
        transactionNumber,
        from: 'INITIATED',
        to: 'QUEUED',
        cause: 'razer',
        detail: 'top-up',
        at: now,
        patch: { toppedUpAt: now, deadlineAt: now + deps.resolveDeadlineMs, nextCheckAt: now },
      });
      queued = moved.ok;
      return moved.ok ? moved.row : null;
    },
    row,
  );
  if (!queued) return current;
  await deps.fulfilment.fulfil(transactionNumber, deps.topupWaitMs);
  return load(deps.store, transactionNumber);
}

/** Query: the recorded state; an initiated, never topped-up transaction is closed as EXPIRED. */
export function queryTransaction(
  deps: Pick<PurchaseDeps, 'store' | 'now'>,
  transactionNumber: string,
): Promise<TransactionRow> {
  return settle(deps.store, transactionNumber, async (r) =>
    r.state === 'INITIATED' ? expire(deps, r, 'queried before top-up') : r,
  );
}

const CANCEL_IDEMPOTENT: readonly State[] = ['CANCELLED', 'FAILED', 'EXPIRED'];

/** Cancel: only before anything was sent to the supplier (the supplier has no cancel). */
export async function cancelTransaction(
  deps: Pick<PurchaseDeps, 'store' | 'now'>,
  transactionNumber: string,
  token: string | undefined,
): Promise<TransactionRow> {
  const row = await load(deps.store, transactionNumber);
  if (token !== undefined && !tokensMatch(row.token, token)) {
    throw new Refusal('INVALID_TRANS_TOKEN', 'transactionToken does not match');
  }
  return settle(deps.store, transactionNumber, async (r) => {
    if (CANCEL_IDEMPOTENT.includes(r.state)) return r;
    const cancellable = r.state === 'INITIATED' || (r.state === 'QUEUED' && r.orderAttempts === 0);
    if (!cancellable) {
      throw new Refusal('NOT_ALLOW_CANCEL', 'the order has gone to the supplier, which cannot cancel it');
    }
    const moved = await commitMove(deps.store, {
      transactionNumber,
      from: r.state,
      to: 'CANCELLED',
      cause: 'razer',
      detail: 'cancel',
      at: deps.now(),
      neverSent: true,
      patch: { failureCode: 'FAILED', failureReason: 'cancelled' },
    });
    return moved.ok ? moved.row : null;
  });
}

/** An init's outcome: a new transaction, the first answer to replay, or a different request under a taken number. */
export type InitOutcome = { created: true } | { replay: string } | { conflict: true };

/**
 * Init: checks the request, then creates the transaction and stores the answer about it
 * (`record` builds that exchange from the row) in one write, so that a repeat, on any
 * instance, is answered with the stored first answer byte for byte.
 */
export async function startPurchase(
  deps: PurchaseDeps,
  req: InitRequest,
  apiId: string,
  requestHash: string,
  record: (row: NewTransaction) => NewExchange,
): Promise<InitOutcome> {
  const n = req.transactionNumber;
  const replay = async (): Promise<InitOutcome> => {
    const first = await deps.store.findCreatingInit(n);
    return first && first.requestHash === requestHash ? { replay: first.responseBody } : { conflict: true };
  };
  if (await deps.store.getTransaction(n)) return replay();
  let planned: Awaited<ReturnType<typeof planPurchase>>;
  try {
    planned = await planPurchase(deps, req, apiId);
  } catch (err) {
    // A repeat racing its first: the first's row, committed since, may be what the checks
    // counted. A number that exists now is answered as before, never refused.
    if (err instanceof Refusal && (await deps.store.getTransaction(n))) return replay();
    throw err;
  }
  const { row, entry, initEvent } = planned;
  const limits = {
    since: deps.now() - LIMIT_WINDOW_MS,
    perAccount: entry.limits.perAccountPerDay,
    perSku: entry.limits.perSkuPerDay,
  };
  const inserted = await deps.store.insertInitiated(row, record(row), limits, initEvent);
  if (inserted === 'exists') return replay();
  if (inserted !== 'created') {
    const refusal = limitRefusal(entry, inserted === 'over-account-limit' ? 'account' : 'sku');
    throw new Refusal(refusal.code, refusal.message);
  }
  return { created: true };
}

/** Stores a Razer request and the answer sent (those that change nothing go through the audit batch). */
export function recordAnswer(deps: Pick<PurchaseDeps, 'store'>, exchange: NewExchange): Promise<void> {
  return deps.store.recordExchange(exchange);
}

/** Razer's /health: whether the database accepts writes now. */
export function storageWritable(deps: Pick<PurchaseDeps, 'store'>): Promise<void> {
  return deps.store.checkWritable();
}
