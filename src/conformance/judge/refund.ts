/**
 * How a refund is named in an order's history: the one reading judged by names, not numbers,
 * and the one where a wrong pattern can make a delivered order read as refunded.
 */
import { refundPattern } from '../../readings/mitra.js';
import { NOT_REFUND_NAMES, type Readings } from '../../readings/settings.js';
import { at, makeFix, withAdded } from '../fix.js';
import type { Finding, Observations } from '../report.js';
import { finding } from './findings.js';
import { historyText, label, lastStatus, noEnd, refundNamed, statusRuns } from './orders.js';
import { hasRefundWord, hasSuccessWord, negated } from './words.js';

const NOT_REFUND = new Set(NOT_REFUND_NAMES.map((n) => n.toLowerCase()));
const folded = (name: string) => name.trim().replace(/\s+/g, ' ');

export function judgeRefund(obs: Observations, readings: Readings): Finding {
  const m = readings.mitra;
  const refunds = obs.orders.filter((o) => o.scenario === 'refund-product');
  // A delivered order read as refunded would be answered 400: the worse contradiction.
  const misread = obs.orders.filter(
    (o) =>
      o.expect === 'success' &&
      o.ended &&
      refundNamed(o, readings) &&
      m.order_status.success.includes(lastStatus(o) ?? -1),
  );
  const misreadEvidence = misread.map(
    (o) =>
      `${label(o)} ended with status ${lastStatus(o)} but its history (${historyText(o)}) matches a refund pattern`,
  );
  if (refunds.length === 0 && misread.length === 0)
    return finding(
      'mitra.refund_names',
      readings,
      'not-observed',
      [],
      obs.options.refundProduct
        ? `--refund-product ${obs.options.refundProduct} was not ordered (see the catalogue)`
        : 'no --refund-product given: the published scenarios include no refund; name a product that ends refunded on this sandbox',
    );
  const evidence: string[] = [...misreadEvidence];
  const proposed: string[] = [];
  let matched = 0;
  let unjudged = 0;
  let delivered = 0;
  const othersNames = new Set(
    obs.orders
      .filter((o) => o.scenario !== 'refund-product')
      .flatMap((o) => o.polls.flatMap((p) => p.historyNames.map((n) => folded(n).toLowerCase()))),
  );
  for (const o of refunds) {
    const names = [...new Set(o.polls.flatMap((p) => p.historyNames))];
    const hit = names.map((n) => ({ n, i: refundPattern(n, readings) })).find((x) => x.i !== null);
    const numbers = statusRuns(o);
    if (hit) {
      matched++;
      evidence.push(
        `${label(o)}: history ${JSON.stringify(hit.n)} matches mitra.refund_names[${hit.i}] (status ${numbers.join(' → ') || 'none'})`,
      );
      continue;
    }
    if (!o.ended) {
      unjudged++;
      evidence.push(`${noEnd(o)}; history ${historyText(o)}`);
      continue;
    }
    const last = lastStatus(o);
    if (last !== null && m.order_status.success.includes(last)) {
      // A delivered order's names never become a refund (the gateway would not let an added
      // name overrule a success anyway): the product did not refund this time.
      delivered++;
      evidence.push(
        `${label(o)} ended with status ${last}, which reads as delivered (history ${historyText(o)}): no name of it is proposed as a refund`,
      );
      continue;
    }
    const fresh = names.filter((n) => {
      const f = folded(n).toLowerCase();
      return f !== '' && !othersNames.has(f) && !NOT_REFUND.has(f);
    });
    // Only a name that says refunded in words, and nothing that says delivered or denies it.
    const candidates = fresh.filter((n) => hasRefundWord(n) && !hasSuccessWord(n) && !negated(n));
    const left = fresh.filter((n) => !candidates.includes(n));
    evidence.push(
      `${label(o)} ended (${o.endedWhy}) with history ${historyText(o)}: no name matches a refund pattern${candidates.length ? `; a refund in words, not seen on other orders: ${candidates.map((c) => JSON.stringify(c)).join(', ')}` : ''}${left.length ? `; not seen on other orders but not a refund in words (refund, dikembalikan, kembali, return, reversal, reimburse, with no word of success or denial): ${left.map((c) => JSON.stringify(c)).join(', ')}` : ''}`,
    );
    const proposal = candidates.at(-1);
    if (proposal && !proposed.includes(proposal)) proposed.push(proposal);
  }
  if (misread.length > 0)
    return finding(
      'mitra.refund_names',
      readings,
      'contradicted',
      evidence,
      'a pattern matches the history of a delivered order: narrow it in the readings file (no fix can be proposed from one order)',
    );
  if (proposed.length > 0)
    return finding(
      'mitra.refund_names',
      readings,
      'contradicted',
      evidence,
      null,
      makeFix(at('mitra.refund_names', withAdded(m.refund_names, proposed.map(folded))), readings),
    );
  if (matched > 0) return finding('mitra.refund_names', readings, 'confirmed', evidence);
  if (unjudged + delivered === refunds.length)
    return finding(
      'mitra.refund_names',
      readings,
      'not-observed',
      evidence,
      delivered > 0
        ? 'the refunding product ended delivered, not refunded: name a product that ends refunded on this sandbox'
        : 'the refunding product did not end',
    );
  return finding(
    'mitra.refund_names',
    readings,
    'contradicted',
    evidence,
    'the order ended with no history name that matches a refund pattern, and none new to it that says refunded in words: ask Mitra how a refund is named',
  );
}
