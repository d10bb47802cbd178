/**
 * The order status numbers: which came before an order's end (processing) and which it ended on
 * (success, failed). A refund is left to refund.ts: its number says nothing of these.
 */
import type { Readings } from '../../readings/settings.js';
import { makeFix, statusChange } from '../fix.js';
import type { Finding, Observations, OrderRecord } from '../report.js';
import { finding } from './findings.js';
import { historyText, label, lastStatus, noEnd, refundNamed, statusRuns } from './orders.js';

export function judgeProcessing(obs: Observations, readings: Readings): Finding {
  const processing = readings.mitra.order_status.processing;
  const seen: string[] = [];
  const unknown: number[] = [];
  for (const o of obs.orders.filter((x) => x.ended)) {
    const runs = statusRuns(o);
    const before = runs.slice(0, -1);
    if (before.length === 0) continue;
    seen.push(`${label(o)}: ${runs.join(' → ')}`);
    for (const n of before) if (!processing.includes(n) && !unknown.includes(n)) unknown.push(n);
  }
  if (seen.length === 0)
    return finding(
      'mitra.order_status.processing',
      readings,
      'not-observed',
      [],
      'no order was seen before its end (each had ended at its first order-status reply, or none ended)',
    );
  if (unknown.length === 0) return finding('mitra.order_status.processing', readings, 'confirmed', seen);
  const s = readings.mitra.order_status;
  const moved = unknown.filter((n) => s.success.includes(n) || s.failed.includes(n));
  return finding(
    'mitra.order_status.processing',
    readings,
    'contradicted',
    [`status ${unknown.join(', ')} came before an order's end but is not processing`, ...seen],
    null,
    makeFix(
      statusChange(readings, 'processing', unknown),
      readings,
      moved.length ? `status ${moved.join(', ')} is read as an end today: ask Mitra before moving it` : null,
    ),
  );
}

/** The orders of `scenarios`, and those of them that ended on a number (a refund aside). */
function endedOn(obs: Observations, readings: Readings, scenarios: readonly OrderRecord['scenario'][]) {
  const orders = obs.orders.filter((o) => scenarios.includes(o.scenario));
  const ended = orders.filter((o) => o.ended && !refundNamed(o, readings) && lastStatus(o) !== null);
  return { orders, ended };
}

export function judgeSuccess(obs: Observations, readings: Readings): Finding {
  const s = readings.mitra.order_status;
  const { orders, ended } = endedOn(obs, readings, ['topup', 'voucher']);
  if (ended.length === 0)
    return finding(
      'mitra.order_status.success',
      readings,
      'not-observed',
      orders.map(noEnd),
      orders.length === 0
        ? 'no scenario expected to succeed was placed'
        : 'no order expected to succeed ended',
    );
  const evidence = ended.map(
    (o) =>
      `${label(o)} ended with status ${lastStatus(o)} (${statusRuns(o).join(' → ')}; history ${historyText(o)})`,
  );
  const wrong = [
    ...new Set(ended.map(lastStatus).filter((n): n is number => n !== null && !s.success.includes(n))),
  ];
  if (wrong.length === 0) return finding('mitra.order_status.success', readings, 'confirmed', evidence);
  const failedToday = wrong.filter((n) => s.failed.includes(n) || s.processing.includes(n));
  return finding(
    'mitra.order_status.success',
    readings,
    'contradicted',
    evidence,
    null,
    makeFix(
      statusChange(readings, 'success', wrong),
      readings,
      failedToday.length
        ? `status ${failedToday.join(', ')} is read otherwise today: the sandbox may have failed the order (see its history); ask Mitra before reading it as delivered`
        : null,
    ),
  );
}

export function judgeFailed(obs: Observations, readings: Readings): Finding {
  const s = readings.mitra.order_status;
  const orders = obs.orders.filter((o) => o.scenario === 'fail-product');
  if (orders.length === 0)
    return finding(
      'mitra.order_status.failed',
      readings,
      'not-observed',
      [],
      obs.options.failProduct
        ? `--fail-product ${obs.options.failProduct} was not ordered (see the catalogue)`
        : 'no --fail-product given: the published scenarios include no failure; name a product that ends failed on this sandbox',
    );
  const refunded = orders.filter((o) => refundNamed(o, readings));
  const ended = orders.filter((o) => o.ended && !refundNamed(o, readings) && lastStatus(o) !== null);
  if (ended.length === 0)
    return finding(
      'mitra.order_status.failed',
      readings,
      'not-observed',
      [
        ...orders.filter((o) => !refunded.includes(o)).map(noEnd),
        ...refunded.map(
          (o) => `${label(o)} ended refunded (history ${historyText(o)}): its number is not judged`,
        ),
      ],
      'the failing product did not end failed',
    );
  const evidence = ended.map(
    (o) =>
      `${label(o)} ended with status ${lastStatus(o)} (${statusRuns(o).join(' → ')}; history ${historyText(o)})`,
  );
  const wrong = [
    ...new Set(ended.map(lastStatus).filter((n): n is number => n !== null && !s.failed.includes(n))),
  ];
  if (wrong.length === 0) return finding('mitra.order_status.failed', readings, 'confirmed', evidence);
  const deliveredToday = wrong.filter((n) => s.success.includes(n));
  return finding(
    'mitra.order_status.failed',
    readings,
    'contradicted',
    evidence,
    null,
    makeFix(
      statusChange(readings, 'failed', wrong),
      readings,
      deliveredToday.length
        ? `status ${deliveredToday.join(', ')} is read as delivered today: is the product really failing?`
        : null,
    ),
  );
}
