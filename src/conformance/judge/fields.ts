/**
 * Where an ended order's reply carries the voucher code and the failure reason: the readings'
 * paths, or failing them the fields a search finds, proposed as the fix.
 */
import { firstAt } from '../../readings/mitra.js';
import type { Readings } from '../../readings/settings.js';
import { at, makeFix, withAdded, withFirst } from '../fix.js';
import type { Finding, Observations, OrderRecord } from '../report.js';
import { codeCandidates, reasonCandidates } from '../search.js';
import { finding } from './findings.js';
import { label, lastStatus, noEnd, own, refundNamed, statusRuns } from './orders.js';

/**
 * Where the readings, or failing them a search, find the code (of an order that ended
 * delivered) and the reason (of one that ended failed or refunded) in its last reply.
 */
export function foundIn(o: Omit<OrderRecord, 'found'>, readings: Readings): OrderRecord['found'] {
  const m = readings.mitra;
  const refs = [o.refId, ...(o.create.trxCode ? [o.create.trxCode] : [])].filter(Boolean);
  const notCodes = [...refs, o.brandKey, o.variationKey];
  const last = statusRuns(o).at(-1);
  const refunded = refundNamed(o, readings);
  const failed =
    refunded ||
    (last !== undefined && m.order_status.failed.includes(last)) ||
    (o.ended && (o.expect === 'failed' || o.expect === 'refunded'));
  const delivered =
    !failed &&
    o.ended &&
    last !== undefined &&
    (m.order_status.success.includes(last) || o.expect === 'success');
  const code = delivered ? firstAt(o.last, m.voucher_code_at) : null;
  const reason = failed ? firstAt(o.last, m.reason_at) : null;
  return {
    voucherAt: code?.path ?? (delivered ? (codeCandidates(o.last, notCodes)[0] ?? null) : null),
    voucherRead: code !== null,
    reasonAt: reason?.path ?? (failed ? (reasonCandidates(o.last, refs)[0] ?? null) : null),
    reasonRead: reason !== null,
  };
}

export function judgeVoucher(obs: Observations, readings: Readings): Finding {
  const m = readings.mitra;
  const vouchers = obs.orders.filter(
    (o) => o.expect === 'success' && (o.isVoucher === true || o.scenario === 'voucher'),
  );
  // Only a number the readings read as delivered: a code is looked for where one was delivered.
  const deliveredOrder = (o: OrderRecord) =>
    o.ended && !refundNamed(o, readings) && m.order_status.success.includes(lastStatus(o) ?? -1);
  const delivered = vouchers.filter(deliveredOrder);
  if (delivered.length === 0)
    return finding(
      'mitra.voucher_code_at',
      readings,
      'not-observed',
      vouchers.map((o) =>
        o.ended && lastStatus(o) !== null && !refundNamed(o, readings)
          ? `${label(o)} ended with status ${lastStatus(o)}, not in mitra.order_status.success: its code is not looked for`
          : noEnd(o),
      ),
      vouchers.length === 0 ? 'no voucher product was ordered' : 'no voucher order ended delivered',
    );
  const evidence: string[] = [];
  const proposed: string[] = [];
  let missing = false;
  for (const o of delivered) {
    const code = firstAt(o.last, m.voucher_code_at);
    if (code) {
      evidence.push(`${label(o)}: code at ${code.path}`);
      continue;
    }
    missing = true;
    const candidates = codeCandidates(o.last, [...own(o), o.brandKey, o.variationKey]).filter(
      (p) => !m.voucher_code_at.includes(p),
    );
    evidence.push(
      candidates.length
        ? `${label(o)}: nothing at ${m.voucher_code_at.join(', ')} (${o.endedWhy}); a code-like field at ${candidates.join(', ')}`
        : `${label(o)}: nothing at ${m.voucher_code_at.join(', ')} (${o.endedWhy}), and no field looks like a code`,
    );
    if (candidates[0] && !proposed.includes(candidates[0])) proposed.push(candidates[0]);
  }
  if (!missing) return finding('mitra.voucher_code_at', readings, 'confirmed', evidence);
  if (proposed.length === 0)
    return finding(
      'mitra.voucher_code_at',
      readings,
      'contradicted',
      evidence,
      'no field of the reply looks like a code (a code in a list cannot be named by a path): the gateway keeps such a voucher open (never 200 without its code); ask Mitra where the code is',
    );
  // A path in force that held something on any delivered order stays first: the search's find
  // is a guess by key name and value, and must not take the place of what the readings found.
  const held = m.voucher_code_at.filter((p) =>
    obs.orders.some((o) => deliveredOrder(o) && firstAt(o.last, [p]) !== null),
  );
  const list = held.length ? withAdded(m.voucher_code_at, proposed) : withFirst(m.voucher_code_at, proposed);
  return finding(
    'mitra.voucher_code_at',
    readings,
    'contradicted',
    evidence,
    null,
    makeFix(
      at('mitra.voucher_code_at', list),
      readings,
      `${proposed.join(', ')} was found by a search (a key that names a code, holding a value that looks like one), not by Mitra's word: check with Mitra that it holds the voucher code before applying this; ${
        held.length
          ? `it is added after ${held.join(', ')}, which held a value on a delivered order and stays first`
          : 'it is read first, as no path in force held anything on a delivered order'
      }`,
    ),
  );
}

export function judgeReason(obs: Observations, readings: Readings): Finding {
  const m = readings.mitra;
  const ended = obs.orders.filter(
    (o) =>
      o.ended &&
      (refundNamed(o, readings) ||
        o.expect === 'failed' ||
        o.expect === 'refunded' ||
        m.order_status.failed.some((n) => n === lastStatus(o))),
  );
  if (ended.length === 0)
    return finding(
      'mitra.reason_at',
      readings,
      'not-observed',
      obs.orders.filter((o) => o.expect === 'failed' || o.expect === 'refunded').map(noEnd),
      'no order ended failed or refunded: name products that do with --fail-product and --refund-product',
    );
  const evidence: string[] = [];
  const proposed: string[] = [];
  let read = 0;
  for (const o of ended) {
    const reason = firstAt(o.last, m.reason_at);
    if (reason) {
      read++;
      evidence.push(`${label(o)}: reason at ${reason.path} (${JSON.stringify(reason.text)})`);
      continue;
    }
    const candidates = reasonCandidates(o.last, own(o)).filter((p) => !m.reason_at.includes(p));
    evidence.push(
      candidates.length
        ? `${label(o)}: nothing at ${m.reason_at.join(', ')}; a reason-like field at ${candidates.join(', ')}`
        : `${label(o)}: no reason anywhere in the reply`,
    );
    if (candidates[0] && !proposed.includes(candidates[0])) proposed.push(candidates[0]);
  }
  if (proposed.length > 0)
    return finding(
      'mitra.reason_at',
      readings,
      'contradicted',
      evidence,
      null,
      makeFix(at('mitra.reason_at', withFirst(m.reason_at, proposed)), readings),
    );
  if (read === 0)
    return finding(
      'mitra.reason_at',
      readings,
      'not-observed',
      evidence,
      'the ended orders carried no reason anywhere',
    );
  return finding('mitra.reason_at', readings, 'confirmed', evidence);
}
