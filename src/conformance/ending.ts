import type { Readings } from '../readings/settings.js';

/**
 * When the polling takes an order as ended. Not by the readings alone: they are what is under
 * test, and a final number they do not know must still end the polling, or every wrong reading
 * would look like a timeout. Pure.
 */

export interface Sighting {
  /** The status number (null: the reply held none, or there was no reply). */
  status: number | null;
  /** How many history entries the reply held. */
  historyLength: number;
  /** A history name matches a refund pattern of the readings. */
  refundNamed: boolean;
}

/** Polls an unknown number must hold, after a change, before it is taken as final. */
export const SETTLE_POLLS = 2;

export function orderEnded(
  sightings: readonly Sighting[],
  readings: Readings,
): { ended: boolean; why: string } {
  const last = sightings.at(-1);
  if (!last) return { ended: false, why: 'no order-status reply yet' };
  if (last.refundNamed) return { ended: true, why: 'a history name reads as a refund' };
  const n = last.status;
  if (n === null) return { ended: false, why: 'the last reply held no status number' };
  const s = readings.mitra.order_status;
  if (s.success.includes(n)) return { ended: true, why: `status ${n} is in mitra.order_status.success` };
  if (s.failed.includes(n)) return { ended: true, why: `status ${n} is in mitra.order_status.failed` };
  if (s.processing.includes(n)) return { ended: false, why: `status ${n} is processing` };
  // A number the readings do not know: final once something changed before it (the status or
  // the history) and it then held for SETTLE_POLLS more polls.
  // Replies without a number say nothing: neither a change nor a hold.
  const numbered = sightings.filter((x) => x.status !== null);
  const changedAt = lastChange(numbered);
  if (changedAt === null)
    return {
      ended: false,
      why: `status ${n}, unknown to the readings, since the first reply: no change seen`,
    };
  const held = numbered.length - 1 - changedAt;
  if (held >= SETTLE_POLLS)
    return {
      ended: true,
      why: `status ${n}, unknown to the readings, followed a change and held ${held} polls`,
    };
  return { ended: false, why: `status ${n}, unknown to the readings, changed ${held} polls ago` };
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
