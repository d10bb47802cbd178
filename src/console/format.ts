import { isTerminal, type State } from '../fulfilment/states.js';

/** 2026-11-22 10:04:05 UTC: one zone for every operator reading the same page. */
export const when = (ms: number | null | undefined): string =>
  ms === null || ms === undefined ? '' : `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')}`;

/** How long ago, coarsely: 45 s, 12 min, 3 h 05 min, 2 d 4 h. */
export function duration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${String(m % 60).padStart(2, '0')} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** The age of an open transaction; final ones have none. */
export const openAge = (row: { state: State; createdAt: number }, now: number): string =>
  isTerminal(row.state) || row.state === 'INITIATED' ? '' : duration(now - row.createdAt);

export const idr = (n: number | null | undefined): string =>
  n === null || n === undefined ? '–' : `IDR ${n.toLocaleString('en-US')}`;

/** The CSS class of a state's badge: green delivered, red failed, amber open, grey not bought. */
export const stateClass = (state: State): string => {
  switch (state) {
    case 'SUCCESS':
      return 'state ok';
    case 'FAILED':
      return 'state bad';
    case 'CANCELLED':
    case 'EXPIRED':
    case 'INITIATED':
      return 'state idle';
    default:
      return 'state open';
  }
};
