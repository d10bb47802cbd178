import type { CallFault, MitraSimulator, OrderEnding, SimFaults } from '../../src/sim/mitra-sim.js';
import type { Rng } from './rng.js';

/** The simulator's faults for one round: probabilities, one-shot call faults, and order endings. */
export interface RoundFaults {
  settings: SimFaults;
  calls: { op: 'order' | 'order-status'; fault: CallFault }[];
  endings: OrderEnding[];
  /** One name per fault switched on, for the tally. */
  names: string[];
}

export const NO_FAULTS: SimFaults = {
  latencyMs: 0,
  hangProbability: 0,
  http500Probability: 0,
  dropReplyAfterCreateProbability: 0,
  failAfterProcessingProbability: 0,
  refundAfterProcessingProbability: 0,
  webhookDropProbability: 0,
  webhookDuplicateProbability: 0,
  webhookDelayMs: 0,
  webhookReorderWindowMs: 0,
};

const between = (rng: Rng, min: number, max: number) => min + rng.next() * (max - min);

/** A random mix, about one round in five calm. */
export function planFaults(rng: Rng): RoundFaults {
  const settings: SimFaults = { ...NO_FAULTS };
  const names: string[] = [];
  const calls: RoundFaults['calls'] = [];
  const endings: OrderEnding[] = [];
  if (rng.chance(0.2)) return { settings, calls, endings, names };

  const maybe = (p: number, name: string, set: () => void) => {
    if (!rng.chance(p)) return;
    set();
    names.push(name);
  };
  maybe(0.15, 'hangs', () => (settings.hangProbability = between(rng, 0.02, 0.08)));
  maybe(0.3, '500s', () => (settings.http500Probability = between(rng, 0.05, 0.3)));
  maybe(0.3, 'dropped replies', () => (settings.dropReplyAfterCreateProbability = between(rng, 0.1, 0.5)));
  maybe(0.3, 'failures', () => (settings.failAfterProcessingProbability = between(rng, 0.1, 0.4)));
  maybe(0.25, 'refunds', () => (settings.refundAfterProcessingProbability = between(rng, 0.1, 0.3)));
  maybe(0.4, 'dropped webhooks', () => (settings.webhookDropProbability = between(rng, 0.2, 1)));
  maybe(0.3, 'duplicated webhooks', () => (settings.webhookDuplicateProbability = between(rng, 0.2, 0.8)));
  maybe(0.2, 'delayed webhooks', () => (settings.webhookDelayMs = rng.int(20, 300)));
  maybe(0.2, 'reordered webhooks', () => (settings.webhookReorderWindowMs = rng.int(20, 150)));
  maybe(0.15, 'latency', () => (settings.latencyMs = rng.int(5, 80)));

  for (let i = rng.int(0, 2); i > 0; i--) {
    const call = rng.pick(ONE_SHOTS);
    calls.push({ op: call.op, fault: call.fault });
    names.push(call.name);
  }
  for (let i = rng.int(0, 2); i > 0; i--) {
    const ending = rng.pick(ENDINGS);
    endings.push(ending.ending);
    names.push(ending.name);
  }
  return { settings, calls, endings, names };
}

/** Switches the round's faults on (queued ones from earlier rounds are dropped first). */
export function applyFaults(sim: MitraSimulator, faults: RoundFaults): void {
  sim.clearQueued();
  sim.setFaults(faults.settings);
  for (const c of faults.calls) sim.nextFault(c.op, c.fault);
  for (const e of faults.endings) sim.nextEnding(e);
}

export function clearFaults(sim: MitraSimulator): void {
  sim.clearQueued();
  sim.setFaults(NO_FAULTS);
}

const ONE_SHOTS: { name: string; op: 'order' | 'order-status'; fault: CallFault }[] = [
  { name: 'order created then reply hangs', op: 'order', fault: { kind: 'createThenHang' } },
  { name: 'order created then reply dropped', op: 'order', fault: { kind: 'dropReplyAfterCreate' } },
  { name: 'order rate limited', op: 'order', fault: { kind: 'rateLimit' } },
  { name: 'order garbage reply', op: 'order', fault: { kind: 'garbage' } },
  { name: 'order 500', op: 'order', fault: { kind: 'http500' } },
  { name: 'order hangs', op: 'order', fault: { kind: 'hang' } },
  {
    name: 'order refused (not found)',
    op: 'order',
    fault: { kind: 'refuse', rc: '44', status: 'NOT_FOUND', http: 404 },
  },
  {
    name: 'order refused (ref id exists)',
    op: 'order',
    fault: { kind: 'refuse', rc: '23', status: 'CLIENT_ERROR', http: 400 },
  },
  { name: 'status null', op: 'order-status', fault: { kind: 'unclearStatus', value: null } },
  { name: 'status empty', op: 'order-status', fault: { kind: 'unclearStatus', value: '' } },
  { name: 'status false', op: 'order-status', fault: { kind: 'unclearStatus', value: false } },
  { name: 'status []', op: 'order-status', fault: { kind: 'unclearStatus', value: [] } },
  { name: 'status 500', op: 'order-status', fault: { kind: 'http500' } },
  { name: 'status garbage', op: 'order-status', fault: { kind: 'garbage' } },
  { name: 'status hangs', op: 'order-status', fault: { kind: 'hang' } },
];

const ENDINGS: { name: string; ending: OrderEnding }[] = [
  { name: 'code only in sn', ending: { kind: 'success', code: 'snOnly' } },
  { name: 'code empty', ending: { kind: 'success', code: 'empty' } },
  { name: 'code missing', ending: { kind: 'success', code: 'none' } },
  { name: 'order never ends', ending: { kind: 'stay' } },
  { name: 'order fails', ending: { kind: 'fail', sn: 'Simulated failure: invalid player' } },
  { name: 'order refunded', ending: { kind: 'refund', sn: 'Simulated refund: provider error' } },
];
