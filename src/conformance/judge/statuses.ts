/**
 * The order status numbers: which came before an order's end (processing) and which it ended on
 * (success, failed). A refund is left to refund.ts: its number says nothing of these.
 *
 * An order may have ended on a number the readings do not know only because it held (ending.ts):
 * that says the number is not processing, never what it means. A number is proposed as success
 * or failed only when something else says so (a code, a history name, a reason); without it the
 * contradiction stands, and its fix is shown but not accepted: ask Mitra.
 */
import { firstAt, textAt } from '../../readings/mitra.js';
import type { Readings } from '../../readings/settings.js';
import { makeFix, statusChange } from '../fix.js';
import type { Finding, Observations, OrderRecord } from '../report.js';
import { codeCandidates, looksLikeCode, reasonCandidates } from '../search.js';
import { finding } from './findings.js';
import { historyText, label, lastStatus, noEnd, own, refundNamed, statusRuns } from './orders.js';
import { namesFailure, namesSuccess } from './words.js';

/** Every history name an order's replies held, each once. */
const namesOf = (o: OrderRecord) => [...new Set(o.polls.flatMap((p) => p.historyNames))];
const quoted = (names: readonly string[]) => names.map((n) => JSON.stringify(n)).join(', ');

/** How long the order's last number held, from its first reply with it to the last reply (s). */
export function heldSeconds(o: OrderRecord): number {
  const numbered = o.polls.filter((p) => p.status !== null);
  const last = numbered.at(-1);
  if (!last) return 0;
  let i = numbered.length - 1;
  while (i > 0 && numbered[i - 1]?.status === last.status) i--;
  const since = Date.parse(numbered[i]?.at ?? '');
  const until = Date.parse(last.at);
  return Number.isFinite(since) && Number.isFinite(until) ? Math.round((until - since) / 1000) : 0;
}

/** What, beyond the polling, says whether an order was delivered or failed. */
export interface Corroboration {
  ok: boolean;
  /** What said so, or what was missing or against it. */
  why: string;
}

/** Our own references, and the keys a code must never be. */
const ownValues = (o: OrderRecord) => [...own(o), o.brandKey, o.variationKey];
const isVoucherOrder = (o: OrderRecord) => o.isVoucher === true || o.scenario === 'voucher';

/**
 * The order was delivered: a voucher that carries a code, or a history name that says so
 * (success, sukses, berhasil, selesai, completed, done, delivered); never when a history name says
 * failed, cancelled or refunded.
 */
export function deliveredCorroboration(o: OrderRecord, readings: Readings): Corroboration {
  const names = namesOf(o);
  const against = names.filter(namesFailure);
  if (against.length > 0)
    return { ok: false, why: `its history holds ${quoted(against)}, which says failed or refunded` };
  if (isVoucherOrder(o)) {
    const read = firstAt(o.last, readings.mitra.voucher_code_at);
    if (read && looksLikeCode(read.text, ownValues(o))) return { ok: true, why: `a code at ${read.path}` };
    const found = codeCandidates(o.last, ownValues(o))[0];
    if (found) return { ok: true, why: `a code-like field at ${found}` };
  }
  const said = names.filter(namesSuccess);
  if (said.length > 0) return { ok: true, why: `history ${quoted(said)}` };
  return {
    ok: false,
    why: `no history name says delivered${isVoucherOrder(o) ? ' and the reply carries no code' : ''}`,
  };
}

/**
 * The order failed: a history name that says so (failed, gagal, dibatalkan, ditolak, refund…), or a
 * reason (words, not a code) in the reply; never when a history name says delivered.
 */
export function failedCorroboration(o: OrderRecord, readings: Readings): Corroboration {
  const names = namesOf(o);
  const against = names.filter(namesSuccess);
  if (against.length > 0)
    return { ok: false, why: `its history holds ${quoted(against)}, which says delivered` };
  const said = names.filter(namesFailure);
  if (said.length > 0) return { ok: true, why: `history ${quoted(said)}` };
  const paths = [
    ...readings.mitra.reason_at,
    ...reasonCandidates(o.last, ownValues(o)).filter((p) => !readings.mitra.reason_at.includes(p)),
  ];
  for (const path of paths) {
    const text = textAt(o.last, path);
    if (text !== null && !looksLikeCode(text, ownValues(o)) && !namesSuccess(text))
      return { ok: true, why: `a reason at ${path}` };
  }
  return { ok: false, why: 'no history name says failed and the reply carries no reason' };
}

/**
 * The fix that gives `wrong` the meaning `cls`, accepted only when every order that ended on one
 * of them is corroborated; else shown with why not and what to ask Mitra.
 */
function meaningFix(
  readings: Readings,
  cls: 'success' | 'failed',
  wrong: readonly number[],
  ended: readonly OrderRecord[],
  corroborate: (o: OrderRecord, readings: Readings) => Corroboration,
  caution: string | null,
) {
  const meaning = cls === 'success' ? 'delivered' : 'failed';
  const missing = ended
    .filter((o) => wrong.includes(lastStatus(o) ?? -1))
    .map((o) => ({ o, c: corroborate(o, readings) }))
    .filter((x) => !x.c.ok);
  const numbers = [...new Set(missing.map((x) => lastStatus(x.o)))];
  const uncorroborated = missing.length
    ? `nothing but the polling says status ${numbers.join(', ')} means ${meaning}: ${missing.map((x) => `${label(x.o)}: ${x.c.why}`).join('; ')}`
    : null;
  const ask = missing.map(
    (x) =>
      `status ${lastStatus(x.o)} held for ${heldSeconds(x.o)} s on ${label(x.o)} with history ${historyText(x.o)}: ask Mitra what ${lastStatus(x.o)} means before adding it`,
  );
  const cautions = [...(caution ? [caution] : []), ...ask];
  return makeFix(
    statusChange(readings, cls, wrong),
    readings,
    cautions.length ? cautions.join('; ') : null,
    uncorroborated,
  );
}

/** Evidence of an ended order: its numbers and history, and for a number in question what says how it ended. */
const endedText = (o: OrderRecord, c: Corroboration | null) =>
  `${label(o)} ended with status ${lastStatus(o)} (${statusRuns(o).join(' → ')}; history ${historyText(o)})${c ? `: ${o.endedWhy}; ${c.ok ? `corroborated by ${c.why}` : `not corroborated: ${c.why}`}` : ''}`;

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
  const wrong = [
    ...new Set(ended.map(lastStatus).filter((n): n is number => n !== null && !s.success.includes(n))),
  ];
  const evidence = [
    ...ended.map((o) =>
      endedText(o, wrong.includes(lastStatus(o) ?? -1) ? deliveredCorroboration(o, readings) : null),
    ),
    ...orders.filter((o) => !ended.includes(o)).map(noEnd),
  ];
  if (wrong.length === 0) return finding('mitra.order_status.success', readings, 'confirmed', evidence);
  const failedToday = wrong.filter((n) => s.failed.includes(n) || s.processing.includes(n));
  return finding(
    'mitra.order_status.success',
    readings,
    'contradicted',
    evidence,
    null,
    meaningFix(
      readings,
      'success',
      wrong,
      ended,
      deliveredCorroboration,
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
  const wrong = [
    ...new Set(ended.map(lastStatus).filter((n): n is number => n !== null && !s.failed.includes(n))),
  ];
  const evidence = ended.map((o) =>
    endedText(o, wrong.includes(lastStatus(o) ?? -1) ? failedCorroboration(o, readings) : null),
  );
  if (wrong.length === 0) return finding('mitra.order_status.failed', readings, 'confirmed', evidence);
  const deliveredToday = wrong.filter((n) => s.success.includes(n));
  return finding(
    'mitra.order_status.failed',
    readings,
    'contradicted',
    evidence,
    null,
    meaningFix(
      readings,
      'failed',
      wrong,
      ended,
      failedCorroboration,
      deliveredToday.length
        ? `status ${deliveredToday.join(', ')} is read as delivered today: is the product really failing?`
        : null,
    ),
  );
}
