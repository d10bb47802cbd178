import { defaultCatalogue } from '../../src/sim/catalogue.js';
import { type MitraSimulator, SIM_STATUS } from '../../src/sim/mitra-sim.js';
import type { RazerTraffic } from './razer.js';

const VOUCHER_BRANDS = new Set(defaultCatalogue().flatMap((b) => (b.isVoucher ? [b.key] : [])));

/** At the end, an order still processing after this long was given an ending that never comes ("stay"). */
const STUCK_AT_THE_END_MS = 1000;

const blank = (s: string | null) => s === null || s.trim() === '';

/**
 * The supplier's back office: orders left processing are finished, and vouchers delivered
 * without a code get one, so that every transaction can reach its answer in the end.
 */
export function finishStuckOrders(sim: MitraSimulator, now: number, stuckAfterMs: number): number {
  let touched = 0;
  for (const order of sim.orders) {
    if (order.status === SIM_STATUS.processing && now - order.createdAt > stuckAfterMs) {
      sim.finish(order.trxCode, { kind: 'success' });
      touched++;
    }
    if (
      order.status === SIM_STATUS.success &&
      VOUCHER_BRANDS.has(order.brandKey) &&
      blank(order.voucherCode) &&
      blank(order.sn)
    ) {
      sim.deliverCode(order.trxCode, `${order.brandKey}-LATE-${order.trxCode.replace(/\D/g, '')}`);
      touched++;
    }
  }
  return touched;
}

export interface DrainResult {
  /** Transactions still answered 408 (or not answered) at the deadline. */
  open: string[];
  /** Orders the back office finished or gave a code. */
  backOffice: number;
  ms: number;
}

/** Queries every transaction until its answer is final (not 408), or the deadline passes. */
export async function drain(o: {
  sim: MitraSimulator;
  razer: RazerTraffic;
  transactions: readonly string[];
  round: number;
  timeoutMs: number;
  concurrency?: number;
}): Promise<DrainResult> {
  const started = Date.now();
  const deadline = started + o.timeoutMs;
  let pending = [...o.transactions];
  let backOffice = 0;
  while (pending.length > 0) {
    backOffice += finishStuckOrders(o.sim, Date.now(), STUCK_AT_THE_END_MS);
    const still: string[] = [];
    const queue = [...pending];
    await Promise.all(
      Array.from({ length: o.concurrency ?? 8 }, async () => {
        for (let n = queue.shift(); n !== undefined; n = queue.shift()) {
          const reply = await o.razer.query(o.round, n);
          if (reply.status === null || reply.status === 408 || reply.status === 500) still.push(n);
        }
      }),
    );
    pending = still;
    if (pending.length === 0 || Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return { open: pending, backOffice, ms: Date.now() - started };
}
