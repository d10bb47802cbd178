/**
 * The readings of the catalogue calls that have no setting: the signature, the envelope and the
 * brands' forms. A contradiction here is for the developers or Mitra, never a readings-file fix.
 */
import { envelopeSchema } from '../../mitra/schemas.js';
import type { Readings } from '../../readings/settings.js';
import type { Exchange, Finding, Observations } from '../report.js';
import { finding } from './findings.js';
import { createText, label, placed } from './orders.js';

const SIGNED_OPERATIONS = ['brands', 'variations', 'order', 'order-status'];
const isProbe = (e: Exchange) => e.step === 'balance probe';

export function judgeSignature(obs: Observations, readings: Readings): Finding {
  const signed = obs.exchanges.filter((e) => SIGNED_OPERATIONS.includes(e.operation));
  const refused = signed.filter((e) => e.rc === '43' || e.rc === '42' || e.httpStatus === 401);
  const accepted = signed.filter((e) => e.outcome === 'accepted');
  if (refused.length > 0)
    return finding(
      'mitra.signature',
      readings,
      'contradicted',
      refused.map(
        (e) => `${e.step}: ${e.method} ${e.path} answered rc ${e.rc ?? 'none'} (HTTP ${e.httpStatus})`,
      ),
      'no readings-file setting: check MITRA_API_KEY and MITRA_SECRET_KEY first, then show these exchanges to Mitra',
    );
  if (accepted.length === 0)
    return finding(
      'mitra.signature',
      readings,
      'not-observed',
      [],
      'no signed call was answered (see the exchanges)',
    );
  const counts = SIGNED_OPERATIONS.map(
    (op) => [op, accepted.filter((e) => e.operation === op).length] as const,
  )
    .filter(([, n]) => n > 0)
    .map(([op, n]) => `${op} ×${n}`);
  return finding('mitra.signature', readings, 'confirmed', [`signatures accepted: ${counts.join(', ')}`]);
}

export function judgeEnvelope(obs: Observations, readings: Readings): Finding {
  // Balance calls are left out: a path that does not exist may be answered by a front end.
  const replies = obs.exchanges.filter(
    (e) => e.replyBody !== null && e.httpStatus !== 429 && e.operation !== 'balance' && !isProbe(e),
  );
  const bad: string[] = [];
  let mismatched = 0;
  for (const e of replies) {
    let json: unknown;
    try {
      json = JSON.parse(e.replyBody ?? '');
    } catch {
      bad.push(`${e.step}: HTTP ${e.httpStatus} reply is not JSON`);
      continue;
    }
    const env = envelopeSchema.safeParse(json);
    if (!env.success) {
      bad.push(`${e.step}: HTTP ${e.httpStatus} reply has no rc_code`);
      continue;
    }
    if (env.data.code !== undefined && env.data.code !== e.httpStatus) mismatched++;
    if (e.outcome === 'ambiguous' && e.error?.startsWith('unreadable data'))
      bad.push(`${e.step}: ${e.error}`);
  }
  if (bad.length > 0)
    return finding(
      'mitra.envelope',
      readings,
      'contradicted',
      bad,
      'no readings-file setting: the envelope and its data are read by src/mitra/schemas.ts; show these exchanges to the developers',
    );
  if (replies.length === 0)
    return finding('mitra.envelope', readings, 'not-observed', [], 'no reply was received');
  return finding('mitra.envelope', readings, 'confirmed', [
    `${replies.length} replies, each {code, status, rc_code, message, data}`,
    ...(mismatched > 0
      ? [`${mismatched} with a code other than the HTTP status (the rc decides, not the code)`]
      : []),
  ]);
}

const FORM_TYPES = ['text', 'numeric', 'option'];

export function judgeForms(obs: Observations, readings: Readings): Finding {
  const c = obs.catalogue;
  if (c.brandsOutcome !== 'accepted')
    return finding(
      'mitra.forms',
      readings,
      'not-observed',
      [],
      `the brand list was not read (${c.brandsOutcome})`,
    );
  const odd = c.forms.filter(
    (f) => !FORM_TYPES.includes(f.type) || (f.type === 'option' && (f.options ?? []).length === 0),
  );
  const built = obs.orders.filter((o) => o.scenario === 'topup' || o.scenario === 'voucher');
  const refusedData = built.filter((o) => o.create.outcome === 'refused' && o.create.rc === '40');
  const evidence = [
    ...odd.map((f) =>
      f.type === 'option'
        ? `${f.brand}.${f.key}: an option form without options`
        : `${f.brand}.${f.key}: type ${JSON.stringify(f.type)}, none of text, numeric, option`,
    ),
    ...refusedData.map(
      (o) =>
        `${label(o)}: data built from the brand's forms (${o.data.map((d) => `${d.key}=${d.value}`).join(', ') || 'none'}) refused: ${createText(o)}`,
    ),
  ];
  if (evidence.length > 0)
    return finding(
      'mitra.forms',
      readings,
      'contradicted',
      evidence,
      'no readings-file setting: the gateway fills forms of types text, numeric and option from the mapping; show this to the developers (placeholder values can be given with --form key=value)',
    );
  const accepted = built.filter(placed);
  return finding('mitra.forms', readings, 'confirmed', [
    `${c.forms.length} forms in ${c.brandCount} brands, all text, numeric or option`,
    ...accepted.map((o) => `${label(o)}: an order with data built from its forms was accepted`),
  ]);
}
