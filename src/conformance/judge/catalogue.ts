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

/** What rc 42 (unauthenticated) or 43 (signature invalid) on the brand list most often means. */
export const NOT_AUTHORISED =
  "not authorised: check the API key, the secret, and that this machine's egress IP is whitelisted at Mitra";

/**
 * Why nothing could be tested, when the brand list was not accepted: the run is then incomplete
 * (exit 2), whatever the findings say. Null when it was.
 */
export function catalogueBlocked(obs: Observations): string | null {
  const outcome = obs.catalogue.brandsOutcome;
  if (outcome === 'accepted') return null;
  const reply = obs.exchanges.filter((e) => e.operation === 'brands').at(-1);
  const answered = reply
    ? `rc ${reply.rc ?? 'none'}, HTTP ${reply.httpStatus ?? 'none'}${reply.error ? `: ${reply.error}` : ''}`
    : 'no call';
  if (reply && (reply.rc === '42' || reply.rc === '43' || reply.httpStatus === 401))
    return `${NOT_AUTHORISED} (the brand list answered ${answered}): nothing was tested`;
  return `the brand list was not accepted (${outcome}: ${answered}): nothing was tested`;
}

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
      `${NOT_AUTHORISED}; then show these exchanges to Mitra (no readings-file setting)`,
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

/**
 * The exchanges that stand for their call: the last attempt of each. A query call that got an
 * unclear reply is tried again (the client's retry, up to CLIENT_TRIES in all), each attempt
 * recorded; the calls of a run follow each other, so an unclear reply followed by the same
 * request is an attempt the next one replaced. Create-order is never retried.
 */
const CLIENT_TRIES = 4;
export function finalAttempts(exchanges: readonly Exchange[]): Exchange[] {
  const same = (a: Exchange, b: Exchange) =>
    a.operation === b.operation &&
    a.method === b.method &&
    a.path === b.path &&
    a.requestBody === b.requestBody &&
    JSON.stringify(a.query) === JSON.stringify(b.query);
  const out: Exchange[] = [];
  let tries = 0;
  for (const [i, e] of exchanges.entries()) {
    tries++;
    const next = exchanges[i + 1];
    const retried =
      next !== undefined &&
      e.operation !== 'order' &&
      (e.outcome === 'ambiguous' || e.outcome === 'retryable') &&
      tries < CLIENT_TRIES &&
      same(e, next);
    if (retried) continue;
    out.push(e);
    tries = 0;
  }
  return out;
}

/**
 * A reply that is not Mitra's to judge: a page a front end (proxy, load balancer, firewall) wrote
 * in Mitra's place, not JSON and not a success; or a server error without an rc_code.
 */
const frontEndPage = (e: Exchange, json: boolean): boolean =>
  e.httpStatus !== null && (e.httpStatus >= 500 || (!json && (e.httpStatus < 200 || e.httpStatus >= 300)));

export function judgeEnvelope(obs: Observations, readings: Readings): Finding {
  // Balance calls are left out: a path that does not exist may be answered by a front end.
  const all = obs.exchanges.filter(
    (e) => e.replyBody !== null && e.httpStatus !== 429 && e.operation !== 'balance' && !isProbe(e),
  );
  const replies = finalAttempts(all);
  const retried = all.length - replies.length;
  const bad: string[] = [];
  const pages: string[] = [];
  let judged = 0;
  let mismatched = 0;
  for (const e of replies) {
    let json: unknown;
    let parsed = true;
    try {
      json = JSON.parse(e.replyBody ?? '');
    } catch {
      parsed = false;
    }
    const env = parsed ? envelopeSchema.safeParse(json) : null;
    if (!env?.success && frontEndPage(e, parsed)) {
      pages.push(
        `${e.step}: HTTP ${e.httpStatus} reply ${parsed ? 'has no rc_code' : 'is not JSON'}: a front end's page or a server error, not judged`,
      );
      continue;
    }
    judged++;
    if (!parsed) {
      bad.push(`${e.step}: HTTP ${e.httpStatus} reply is not JSON`);
      continue;
    }
    if (!env?.success) {
      bad.push(`${e.step}: HTTP ${e.httpStatus} reply has no rc_code`);
      continue;
    }
    if (env.data.code !== undefined && env.data.code !== e.httpStatus) mismatched++;
    if (e.outcome === 'ambiguous' && e.error?.startsWith('unreadable data'))
      bad.push(`${e.step}: ${e.error}`);
  }
  const notJudged = [
    ...pages,
    ...(retried > 0 ? [`${retried} unclear replies replaced by the client's retry: not judged`] : []),
  ];
  if (bad.length > 0)
    return finding(
      'mitra.envelope',
      readings,
      'contradicted',
      [...bad, ...notJudged],
      'no readings-file setting: the envelope and its data are read by src/mitra/schemas.ts; show these exchanges to the developers',
    );
  if (judged === 0)
    return finding(
      'mitra.envelope',
      readings,
      'not-observed',
      notJudged,
      all.length === 0
        ? 'no reply was received'
        : "no reply was Mitra's own (only front-end pages or server errors)",
    );
  return finding('mitra.envelope', readings, 'confirmed', [
    `${judged} replies, each {code, status, rc_code, message, data}`,
    ...(mismatched > 0
      ? [`${mismatched} with a code other than the HTTP status (the rc decides, not the code)`]
      : []),
    ...notJudged,
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
