import type { RefusalCode } from './refusal.js';

/**
 * The Razer code of a definitive create-order refusal (razer-side §4). rc 24 is handled
 * before this (one refresh and resend); whatever is left of it is out of stock too.
 */
export function refusalCodeFor(rc: string): RefusalCode {
  switch (rc) {
    case '44':
      return 'INAVLID_SKU';
    case '24':
    case '25':
      return 'OOS';
    case '40':
      return 'INVALID_ACCT';
    default:
      return 'FAILED';
  }
}

/** Refusals an operator must hear about: our credentials, or our money at the supplier. */
export function needsOperator(rc: string): string | null {
  if (rc === '41' || rc === '42' || rc === '43') return 'Mitra refused our credentials or signature';
  if (rc === '25') return 'Mitra balance is too low to pay for orders';
  if (rc === '46') return 'Mitra user limit exceeded: contact VCGamers';
  return null;
}

/** Delay before the check after `checks` earlier ones; the last step repeats. */
export function nextCheckDelay(schedule: readonly number[], checks: number): number {
  return schedule[Math.min(checks, schedule.length - 1)] ?? 900_000;
}

/** Backoff before sending again an order the supplier would not take yet (rate limit, down). */
export function resendDelay(attempts: number, retryAfterMs: number | null): number {
  return Math.max(retryAfterMs ?? 0, Math.min(60_000, 1000 * 2 ** Math.max(0, attempts - 1)));
}
