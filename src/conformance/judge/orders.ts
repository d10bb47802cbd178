/**
 * An order record as the judges read it: the numbers it went through, how it ended, and the
 * words that name it in the evidence. Shared, so that every finding tells an order the same way.
 */
import { refundPattern } from '../../readings/mitra.js';
import type { Readings } from '../../readings/settings.js';
import type { OrderRecord } from '../report.js';

export const label = (o: OrderRecord) =>
  `${o.variationKey} (${o.scenario}, ref_id ${JSON.stringify(o.refId)})`;

/** The numbers an order went through, each run of equal numbers once. */
export function statusRuns(o: Pick<OrderRecord, 'polls'>): number[] {
  const runs: number[] = [];
  for (const p of o.polls) if (p.status !== null && runs.at(-1) !== p.status) runs.push(p.status);
  return runs;
}

export const lastStatus = (o: OrderRecord): number | null => statusRuns(o).at(-1) ?? null;
export const refundNamed = (o: Pick<OrderRecord, 'polls'>, readings: Readings) =>
  o.polls.some((p) => p.historyNames.some((n) => refundPattern(n, readings) !== null));
/** Mitra took it: create-order accepted, or asked by ref_id after an unclear answer, Mitra has it. */
export const placed = (o: OrderRecord) =>
  o.create.trxCode !== null &&
  (o.create.outcome === 'accepted' || (o.createLookup?.trxCode ?? null) !== null);
/** The create-order answer left open whether Mitra took (and charged) it, and no lookup found it. */
export const mayBePlaced = (o: OrderRecord) => !placed(o) && o.createLookup !== null;
export const own = (o: OrderRecord) =>
  [o.refId, ...(o.create.trxCode ? [o.create.trxCode] : [])].filter(Boolean);

/** Why an order gave nothing to judge its end by. */
export function noEnd(o: OrderRecord): string {
  if (mayBePlaced(o)) {
    const l = o.createLookup;
    return `${label(o)} may have been placed (and charged): create-order ${createText(o)} (${o.create.outcome}); asked by ref_id: ${l?.note ?? `${l?.outcome}${l?.rc ? ` rc ${l.rc}` : ''} (HTTP ${l?.httpStatus ?? 'none'})`}: check it with Mitra`;
  }
  if (!placed(o))
    return `${label(o)} was not placed: create-order ${o.create.outcome}${o.create.rc ? ` rc ${o.create.rc}` : ''}${o.create.httpStatus ? ` (HTTP ${o.create.httpStatus})` : ''}${o.create.message ? `: ${o.create.message}` : ''}`;
  return `${label(o)} did not end: ${o.endedWhy}`;
}

export const createText = (o: OrderRecord) =>
  `rc ${o.create.rc ?? 'none'}${o.create.status ? ` ${o.create.status}` : ''}, HTTP ${o.create.httpStatus ?? 'none'}${o.create.message ? `: ${o.create.message}` : ''}`;

export const historyText = (o: OrderRecord) => {
  const names = [...new Set(o.polls.flatMap((p) => p.historyNames))];
  return names.length ? names.map((n) => JSON.stringify(n)).join(', ') : 'empty';
};
