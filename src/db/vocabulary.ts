/**
 * What the state and cause columns may hold: storage's own list, checked by the database.
 * The rules about moving between states live in src/fulfilment/states.ts, which takes these.
 */
export const TRANSACTION_STATES = [
  'INITIATED',
  'QUEUED',
  'ORDERING',
  'PROCESSING',
  'UNKNOWN',
  'SUCCESS',
  'FAILED',
  'CANCELLED',
  'EXPIRED',
] as const;
export type StoredState = (typeof TRANSACTION_STATES)[number];

export const EVENT_CAUSES = ['razer', 'supplier', 'webhook', 'reconciler', 'operator'] as const;
export type StoredCause = (typeof EVENT_CAUSES)[number];

/** States a transaction never leaves: its audit records are history only (retention). */
export const FINAL_STATES = ['SUCCESS', 'FAILED', 'CANCELLED', 'EXPIRED'] as const;

export function isFinalState(state: StoredState): boolean {
  return (FINAL_STATES as readonly StoredState[]).includes(state);
}

/** States the reconciler wakes on their schedule; ORDERING only once its lease has run out. */
export const OPEN_STATES = ['QUEUED', 'ORDERING', 'PROCESSING', 'UNKNOWN'] as const;
export type OpenState = (typeof OPEN_STATES)[number];

/** The supplier whose balance the supplier_balance row keeps: this gateway has one. */
export const BALANCE_SUPPLIER = 'mitra';
