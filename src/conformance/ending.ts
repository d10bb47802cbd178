import type { Readings } from '../readings/settings.js';

/**
 * When the polling takes an order as ended. Not by the readings alone: they are what is under
 * test, and a final number they do not know must still end the polling, or every wrong reading
 * would look like a timeout. Pure: the time is the run's clock, given with each sighting.
 *
 * Ending on a number the readings do not know is only the polling's guess: it lets the run go
 * on, and says nothing of what the number means (the judges need more before they propose one).
 */

export interface Sighting {
  /** When the reply came, on the run's clock (ms). */
  at: number;
  /** The status number (null: the reply held none, or there was no reply). */
  status: number | null;
  /** How many history entries the reply held. */
  historyLength: number;
  /** A history name matches a refund pattern of the readings. */
  refundNamed: boolean;
  /** The readings find a voucher code in the reply (mitra.voucher_code_at). */
  codeRead: boolean;
}

/**
 * How long an unknown number must hold, after a change, before it is taken as final; and how
 * long a voucher's success is asked again for its code. Long enough that a slow in-progress
 * number ("sent to the provider") is not taken for an end.
 */
export const SETTLE_MS = 60_000;

export interface EndingRules {
  /** See SETTLE_MS. */
  settleMs: number;
  /**
   * The order is a voucher: its success ends only with a code, as the gateway keeps such a
   * voucher open, or once it held settleMs without one (then the reply is searched for it).
   */
  voucher: boolean;
}

const seconds = (ms: number) => `${Math.round(ms / 1000)} s`;

export function orderEnded(
  sightings: readonly Sighting[],
  readings: Readings,
  rules: EndingRules = { settleMs: SETTLE_MS, voucher: false },
): { ended: boolean; why: string } {
  const last = sightings.at(-1);
  if (!last) return { ended: false, why: 'no order-status reply yet' };
  if (last.refundNamed) return { ended: true, why: 'a history name reads as a refund' };
  const n = last.status;
  if (n === null) return { ended: false, why: 'the last reply held no status number' };
  const s = readings.mitra.order_status;
  // Replies without a number say nothing: neither a change nor a hold.
  const numbered = sightings.filter((x) => x.status !== null);
  if (s.success.includes(n)) {
    if (!rules.voucher || last.codeRead)
      return { ended: true, why: `status ${n} is in mitra.order_status.success` };
    const since = runStart(numbered);
    const held = last.at - (numbered[since]?.at ?? last.at);
    if (held >= rules.settleMs)
      return {
        ended: true,
        why: `status ${n} is in mitra.order_status.success, and no code at mitra.voucher_code_at after ${seconds(held)}`,
      };
    return {
      ended: false,
      why: `status ${n} is in mitra.order_status.success but no code at mitra.voucher_code_at yet (asked again for ${seconds(rules.settleMs)}, as the gateway keeps such a voucher open; ${seconds(held)} so far)`,
    };
  }
  if (s.failed.includes(n)) return { ended: true, why: `status ${n} is in mitra.order_status.failed` };
  if (s.processing.includes(n)) return { ended: false, why: `status ${n} is processing` };
  // A number the readings do not know: final once something changed before it (the status or
  // the history) and it then held, unchanged, for settleMs and at least one more reply.
  const changedAt = lastChange(numbered);
  if (changedAt === null)
    return {
      ended: false,
      why: `status ${n}, unknown to the readings, since the first reply: no change seen`,
    };
  const held = last.at - (numbered[changedAt]?.at ?? last.at);
  if (held >= rules.settleMs && numbered.length - 1 > changedAt)
    return {
      ended: true,
      why: `status ${n}, unknown to the readings, followed a change and held ${seconds(held)} (taken as final by the polling alone)`,
    };
  return {
    ended: false,
    why: `status ${n}, unknown to the readings, has held ${seconds(held)} since a change (it must hold ${seconds(rules.settleMs)} to be taken as final)`,
  };
}

/** The index of the last sighting that differs from the one before it, or null. */
function lastChange(sightings: readonly Sighting[]): number | null {
  for (let i = sightings.length - 1; i > 0; i--) {
    const a = sightings[i - 1];
    const b = sightings[i];
    if (a && b && (a.status !== b.status || a.historyLength !== b.historyLength)) return i;
  }
  return null;
}

/** The index where the last run of one status number began. */
function runStart(sightings: readonly Sighting[]): number {
  let i = sightings.length - 1;
  while (i > 0 && sightings[i - 1]?.status === sightings[i]?.status) i--;
  return Math.max(0, i);
}
