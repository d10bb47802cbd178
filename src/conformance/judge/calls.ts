/**
 * The readings judged by single calls rather than by how orders end: the balance call, asking
 * by ref_id, and the rc codes of a repeated ref_id and of the published refusals.
 */
import type { Readings } from '../../readings/settings.js';
import { at, makeFix, together, withAdded } from '../fix.js';
import type { BalanceProbe, Finding, Observations, OrderRecord } from '../report.js';
import { finding } from './findings.js';
import { createText, label, mayBePlaced, placed } from './orders.js';

const probeText = (p: BalanceProbe) =>
  `${p.path} signed with ${JSON.stringify(p.word)}: ${p.outcome}${p.rc ? ` rc ${p.rc}` : ''}${p.status ? ` ${p.status}` : ''} (HTTP ${p.httpStatus ?? 'none'})`;
/** The balance call is not there: 404, or rc 44 / NOT_FOUND. */
export const isBalanceNotFound = (p: BalanceProbe) =>
  p.httpStatus === 404 || p.rc === '44' || p.status === 'NOT_FOUND';

export function judgeBalance(obs: Observations, readings: Readings): Finding {
  const b = readings.mitra.balance;
  const configured = obs.balance.find((p) => p.configured);
  const alternatives = obs.balance.filter((p) => !p.configured);
  const hit = alternatives.find((p) => p.outcome === 'accepted');
  const evidence = obs.balance.map(probeText);
  const found = (p: BalanceProbe) => makeFix(at('mitra.balance', { path: p.path, word: p.word }), readings);
  if (!configured) {
    if (b.path !== null)
      return finding('mitra.balance', readings, 'not-observed', evidence, 'the balance call was not made');
    if (hit) return finding('mitra.balance', readings, 'contradicted', evidence, null, found(hit));
    return finding('mitra.balance', readings, 'confirmed', [
      'the readings say there is no balance call',
      ...(alternatives.length ? ['none of the usual alternatives answered', ...evidence] : []),
    ]);
  }
  if (configured.outcome === 'accepted') return finding('mitra.balance', readings, 'confirmed', evidence);
  const wordRefused = configured.rc === '43';
  if (!isBalanceNotFound(configured) && !wordRefused)
    return finding(
      'mitra.balance',
      readings,
      'not-observed',
      evidence,
      'the balance call got no clear answer',
    );
  if (hit) return finding('mitra.balance', readings, 'contradicted', evidence, null, found(hit));
  return finding(
    'mitra.balance',
    readings,
    'contradicted',
    evidence,
    null,
    makeFix(
      at('mitra.balance.path', null),
      readings,
      wordRefused
        ? 'the path answers but refuses the signature of its word: ask Mitra which word it signs; without a balance call there is no low-balance alert'
        : 'without a balance call there is no low-balance alert: ask Mitra whether one exists',
    ),
  );
}

export function judgeTid(obs: Observations, readings: Readings): Finding {
  const asked = obs.orders.filter((o) => o.byRef !== null && o.polls.some((p) => p.outcome === 'accepted'));
  const evidence: string[] = [];
  let accepts = 0;
  let refuses = 0;
  for (const o of asked) {
    const r = o.byRef;
    if (!r) continue;
    const text = `${label(o)}: tid=<trx code> answered; tid=<ref_id> ${r.outcome}${r.rc ? ` rc ${r.rc}` : ''} (HTTP ${r.httpStatus ?? 'none'})`;
    if (r.outcome === 'accepted' && r.sameOrder) {
      accepts++;
      evidence.push(`${text}, the same order`);
    } else if (r.outcome === 'accepted') {
      refuses++;
      evidence.push(`${text}, but another order`);
    } else if (r.outcome === 'refused') {
      refuses++;
      evidence.push(text);
    } else evidence.push(`${text}: not judged`);
  }
  if (accepts + refuses === 0)
    return finding(
      'mitra.tid_accepts_ref_id',
      readings,
      'not-observed',
      evidence,
      'no order was asked by ref_id with a clear answer (none was placed, or the replies were unclear)',
    );
  const observed = refuses === 0;
  if (observed === readings.mitra.tid_accepts_ref_id)
    return finding('mitra.tid_accepts_ref_id', readings, 'confirmed', evidence);
  return finding(
    'mitra.tid_accepts_ref_id',
    readings,
    'contradicted',
    evidence,
    null,
    makeFix(at('mitra.tid_accepts_ref_id', observed), readings),
  );
}

export function judgeMayExist(obs: Observations, readings: Readings): Finding {
  const rc = readings.mitra.rc;
  const dup = obs.orders.find((o) => o.scenario === 'duplicate-ref-id');
  if (!dup) {
    const skipped = obs.skipped.find((s) => s.scenario === 'duplicate-ref-id');
    return finding(
      'mitra.rc.may_exist',
      readings,
      'not-observed',
      [],
      skipped?.why ?? 'the duplicate was not sent',
    );
  }
  const evidence = [
    `the same ref_id ${JSON.stringify(dup.refId)} sent twice: the second answered ${createText(dup)}`,
  ];
  if (dup.create.outcome === 'exists') return finding('mitra.rc.may_exist', readings, 'confirmed', evidence);
  if (dup.create.outcome === 'accepted')
    return finding(
      'mitra.rc.may_exist',
      readings,
      'contradicted',
      [...evidence, `a second order was created: ${dup.create.trxCode}`],
      'Mitra took a second order for one ref_id: the gateway relies on rc 23 to never pay twice after an unclear create-order; tell Mitra',
    );
  const code = dup.create.rc;
  if (code === null || code === '45' || code === '50')
    return finding(
      'mitra.rc.may_exist',
      readings,
      'not-observed',
      evidence,
      'the duplicate got no clear answer',
    );
  const change = rc.refused.includes(code)
    ? together(
        at('mitra.rc.may_exist', withAdded(rc.may_exist, [code])),
        at(
          'mitra.rc.refused',
          rc.refused.filter((x) => x !== code),
        ),
      )
    : at('mitra.rc.may_exist', withAdded(rc.may_exist, [code]));
  return finding('mitra.rc.may_exist', readings, 'contradicted', evidence, null, makeFix(change, readings));
}

export function judgeRefused(obs: Observations, readings: Readings): Finding {
  const rc = readings.mitra.rc;
  const refusals = obs.orders.filter((o) => o.expect === 'refused');
  if (refusals.length === 0)
    return finding(
      'mitra.rc.refused',
      readings,
      'not-observed',
      obs.skipped.filter((s) => s.scenario !== 'duplicate-ref-id').map((s) => `${s.scenario}: ${s.why}`),
      'no refusal scenario was sent',
    );
  const PUBLISHED: Partial<Record<OrderRecord['scenario'], string>> = {
    'product-not-found': 'product not found',
    'empty-ref-id': 'CLIENT_ERROR',
    'empty-data': 'VALIDATION_ERROR',
  };
  const evidence: string[] = [];
  const add: string[] = [];
  let ok = 0;
  let accepted = false;
  for (const o of refusals) {
    const text = `${o.scenario} (published: ${PUBLISHED[o.scenario] ?? 'refused'}): ${createText(o)}`;
    if (o.create.outcome === 'refused') {
      ok++;
      evidence.push(`${text}: refused`);
    } else if (o.create.outcome === 'accepted') {
      accepted = true;
      evidence.push(`${text}: accepted, order ${o.create.trxCode}`);
    } else if (placed(o)) {
      accepted = true;
      evidence.push(
        `${text}: ${o.create.outcome}, but asked by ref_id Mitra has the order ${o.create.trxCode}: it was accepted`,
      );
    } else if (o.create.rc !== null && o.create.rc !== '45' && o.create.rc !== '50') {
      evidence.push(
        `${text}: read as ${o.create.outcome}, not a refusal${mayBePlaced(o) ? ' (it may have been placed: the lookup by ref_id did not find it)' : ''}`,
      );
      if (!add.includes(o.create.rc)) add.push(o.create.rc);
    } else evidence.push(`${text}: no clear answer, not judged`);
  }
  if (accepted)
    return finding(
      'mitra.rc.refused',
      readings,
      'contradicted',
      evidence,
      'Mitra accepted an order its published scenario refuses: tell Mitra',
    );
  if (add.length > 0)
    return finding(
      'mitra.rc.refused',
      readings,
      'contradicted',
      evidence,
      null,
      makeFix(at('mitra.rc.refused', withAdded(rc.refused, add)), readings),
    );
  if (ok === 0)
    return finding('mitra.rc.refused', readings, 'not-observed', evidence, 'no refusal got a clear answer');
  return finding('mitra.rc.refused', readings, 'confirmed', evidence);
}
