/**
 * The order-status polling: every placed order asked in turn until it has ended by the rules of
 * ending.ts or the timeout passes, each reply kept on its order as Mitra wrote it.
 */
import type { MitraClient } from '../../mitra/client.js';
import { firstAt, refundPattern, statusNumber } from '../../readings/mitra.js';
import type { Readings } from '../../readings/settings.js';
import { orderEnded, SETTLE_MS, type Sighting } from '../ending.js';
import type { Exchange, OrderRecord } from '../report.js';
import { type ConformanceClock, POLL_INTERVAL_MS } from './clock.js';
import { envelopeOf, outcomeFields } from './outcomes.js';

export interface Polling {
  readings: Readings;
  clock: ConformanceClock;
  timeoutMs: number;
  /** How long an unknown number, or a voucher's success without its code, must hold (SETTLE_MS). */
  settleMs?: number;
  stopped: () => boolean;
  /** Names the step the next calls are recorded under. */
  step: (name: string) => void;
  /** The run's exchanges as they are recorded: the replies as sent. */
  exchanges: readonly Exchange[];
}

/** Every placed order asked in turn until each has ended or the timeout passes. */
export async function pollOrders(client: MitraClient, orders: OrderRecord[], run: Polling): Promise<void> {
  const open = orders.filter((o) => o.create.trxCode !== null);
  const sightings = new Map<OrderRecord, Sighting[]>(open.map((o) => [o, []]));
  const deadline = run.clock.now() + run.timeoutMs;
  const settleMs = run.settleMs ?? SETTLE_MS;
  for (;;) {
    for (const o of open.filter((x) => !x.ended)) {
      if (run.stopped()) return;
      run.step(`status ${o.scenario}`);
      const before = run.exchanges.length;
      const r = await client.orderStatus(o.create.trxCode ?? '');
      const history = r.kind === 'accepted' ? (r.data.history_status ?? []).map((h) => h.status_name) : [];
      const status = r.kind === 'accepted' ? statusNumber(r.data.status) : null;
      o.polls.push({
        at: new Date(run.clock.now()).toISOString(),
        ...outcomeFields(r),
        status,
        historyNames: history,
      });
      if (r.kind === 'accepted') {
        // The data as sent, not as parsed: the search looks at what Mitra wrote.
        o.last = envelopeOf(run.exchanges.slice(before).at(-1)?.replyBody ?? null)?.data ?? r.data;
      }
      const seen = sightings.get(o) ?? [];
      seen.push({
        at: run.clock.now(),
        status,
        historyLength: history.length,
        refundNamed: history.some((n) => refundPattern(n, run.readings) !== null),
        codeRead: r.kind === 'accepted' && firstAt(o.last, run.readings.mitra.voucher_code_at) !== null,
      });
      const end = orderEnded(seen, run.readings, {
        settleMs,
        voucher: o.isVoucher === true || o.scenario === 'voucher',
      });
      o.ended = end.ended;
      o.endedWhy = end.why;
    }
    if (open.every((o) => o.ended) || run.stopped()) return;
    const left = deadline - run.clock.now();
    if (left <= 0) break;
    await run.clock.sleep(Math.min(POLL_INTERVAL_MS, left));
  }
  for (const o of open.filter((x) => !x.ended))
    o.endedWhy = `${o.endedWhy}; still open after ${run.timeoutMs / 1000} s (--timeout)`;
}
