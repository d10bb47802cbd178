import { createHash, timingSafeEqual } from 'node:crypto';
import type { Mapping } from '../config/mapping.js';
import type { Db } from '../db/connection.js';
import type { NewTransaction, TransactionRow } from '../db/schema.js';
import { countRecentPurchases, getTransaction, moveTransaction } from '../db/transactions.js';
import type { CatalogueView } from '../mitra/catalogue.js';
import { INIT_TTL_MS, LIMIT_WINDOW_MS } from '../razer/readings.js';
import type { Fulfilment } from './ports.js';
import { checkPurchase, type PurchaseRequest } from './purchase-checks.js';
import { Refusal } from './refusal.js';
import type { Cause, State } from './states.js';

export interface PurchaseDeps {
  db: Db;
  mapping: () => Mapping;
  catalogue: CatalogueView;
  fulfilment: Fulfilment;
  now: () => number;
  newToken: () => string;
  topupWaitMs: number;
}

export interface InitRequest extends PurchaseRequest {
  transactionNumber: string;
  razerId: string;
  userIpAddress: string;
  userCountryCode: string;
}

/** The supplier ref_id of a transaction: unique because transactionNumber is. */
export const refIdFor = (transactionNumber: string): string => `RG-${transactionNumber}`;

/** How long after top-up a transaction may stay unresolved before an operator is called. */
export const RESOLVE_DEADLINE_MS = 24 * 60 * 60 * 1000;

/** Runs the init checks; throws a Refusal with the first failing check's code. */
export function checkRequest(
  deps: Pick<PurchaseDeps, 'db' | 'mapping' | 'catalogue' | 'now'>,
  req: PurchaseRequest,
) {
  const result = checkPurchase(req, {
    entry: deps.mapping().skus.get(req.sku),
    catalogue: (entry) => ({
      brand: deps.catalogue.brand(entry.brand),
      variation: deps.catalogue.variation(entry.brand, entry.variation),
    }),
    recentPurchases: (entry, byAccount) =>
      countRecentPurchases(deps.db, {
        sku: entry.sku,
        accountId: byAccount ? req.accountId : null,
        since: deps.now() - LIMIT_WINDOW_MS,
      }),
  });
  if (!result.ok) throw new Refusal(result.code, result.message);
  return result;
}

/** The row an accepted init creates: what was validated is kept with it. */
export function planPurchase(deps: PurchaseDeps, req: InitRequest, apiId: string): NewTransaction {
  const checked = checkRequest(deps, req);
  const now = deps.now();
  return {
    transactionNumber: req.transactionNumber,
    apiId,
    sku: req.sku,
    brandKey: checked.entry.brand,
    variationKey: checked.entry.variation,
    maxPrice: checked.entry.maxPrice,
    isVoucher: checked.isVoucher,
    accountId: req.accountId,
    supplierData: checked.data,
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
  };
}

function load(db: Db, transactionNumber: string): TransactionRow {
  const row = getTransaction(db, transactionNumber);
  if (!row) throw new Refusal('ORIGIN_NOT_FOUND', `transaction ${transactionNumber} is not known`);
  return row;
}

function tokensMatch(expected: string, given: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(expected), digest(given));
}

/** Re-reads after a lost compare-and-set; a bounded number of times, since states only move forward. */
function settle(
  db: Db,
  transactionNumber: string,
  attempt: (row: TransactionRow) => TransactionRow | null,
): TransactionRow {
  for (let i = 0; i < 10; i++) {
    const result = attempt(load(db, transactionNumber));
    if (result) return result;
  }
  throw new Error(`transaction ${transactionNumber} kept changing under a Razer request`);
}

/** Closes an initiated, never topped-up transaction; null when it moved meanwhile. */
export function expireInitiated(
  db: Db,
  transactionNumber: string,
  cause: Cause,
  detail: string,
  at: number,
): TransactionRow | null {
  const moved = moveTransaction(db, {
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

const expire = (deps: Pick<PurchaseDeps, 'db' | 'now'>, row: TransactionRow, detail: string) =>
  expireInitiated(deps.db, row.transactionNumber, 'razer', detail, deps.now());

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
  const row = load(deps.db, transactionNumber);
  if (!tokensMatch(row.token, token))
    throw new Refusal('INVALID_TRANS_TOKEN', 'transactionToken does not match');
  let queued = false;
  const current = settle(deps.db, transactionNumber, (r) => {
    if (r.state !== 'INITIATED') return r;
    const now = deps.now();
    if (r.expiresAt <= now) return expire(deps, r, 'top-up after the init expired');
    const moved = moveTransaction(deps.db, {
      transactionNumber,
      from: 'INITIATED',
      to: 'QUEUED',
      cause: 'razer',
      detail: 'top-up',
      at: now,
      patch: { deadlineAt: now + RESOLVE_DEADLINE_MS, nextCheckAt: now },
    });
    queued = moved.ok;
    return moved.ok ? moved.row : null;
  });
  if (!queued) return current;
  await deps.fulfilment.fulfil(transactionNumber, deps.topupWaitMs);
  return load(deps.db, transactionNumber);
}

/** Query: the recorded state; an initiated, never topped-up transaction is closed as EXPIRED. */
export function queryTransaction(
  deps: Pick<PurchaseDeps, 'db' | 'now'>,
  transactionNumber: string,
): TransactionRow {
  return settle(deps.db, transactionNumber, (r) =>
    r.state === 'INITIATED' ? expire(deps, r, 'queried before top-up') : r,
  );
}

const CANCEL_IDEMPOTENT: readonly State[] = ['CANCELLED', 'FAILED', 'EXPIRED'];

/** Cancel: only before anything was sent to the supplier (the supplier has no cancel). */
export function cancelTransaction(
  deps: Pick<PurchaseDeps, 'db' | 'now'>,
  transactionNumber: string,
  token: string | undefined,
): TransactionRow {
  const row = load(deps.db, transactionNumber);
  if (token !== undefined && !tokensMatch(row.token, token)) {
    throw new Refusal('INVALID_TRANS_TOKEN', 'transactionToken does not match');
  }
  return settle(deps.db, transactionNumber, (r) => {
    if (CANCEL_IDEMPOTENT.includes(r.state)) return r;
    const cancellable = r.state === 'INITIATED' || (r.state === 'QUEUED' && r.orderAttempts === 0);
    if (!cancellable) {
      throw new Refusal('NOT_ALLOW_CANCEL', 'the order has gone to the supplier, which cannot cancel it');
    }
    const moved = moveTransaction(deps.db, {
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
