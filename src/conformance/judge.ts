import { envelopeSchema } from '../mitra/schemas.js';
import { readWebhook } from '../mitra/webhook-payload.js';
import { firstAt, refundPattern } from '../readings/mitra.js';
import { NOT_REFUND_NAMES, type Readings, settingsOf } from '../readings/settings.js';
import { at, makeFix, statusChange, together, withAdded, withFirst } from './fix.js';
import type {
  BalanceProbe,
  Exchange,
  Finding,
  Fix,
  Json,
  Observations,
  OrderRecord,
  ReadingId,
  WebhookRecord,
} from './report.js';
import { READING_IDS } from './report.js';
import { codeCandidates, isSettingPath, placesOf, reasonCandidates } from './search.js';

/**
 * The judgement: each reading, from what the run observed, is confirmed, contradicted (with the
 * evidence, and the fix when one can be written) or not observed (with why). Pure: the same
 * observations and readings always give the same findings.
 */
export function judge(obs: Observations, readings: Readings): Finding[] {
  const findings: Finding[] = [
    judgeSignature(obs, readings),
    judgeEnvelope(obs, readings),
    judgeForms(obs, readings),
    judgeProcessing(obs, readings),
    judgeSuccess(obs, readings),
    judgeFailed(obs, readings),
    judgeVoucher(obs, readings),
    judgeReason(obs, readings),
    judgeRefund(obs, readings),
    judgeWebhook(obs, readings),
    judgeBalance(obs, readings),
    judgeTid(obs, readings),
    judgeMayExist(obs, readings),
    judgeRefused(obs, readings),
    {
      id: 'razer.signed_content',
      verdict: 'not-observed',
      reading: readingText('razer.signed_content', readings),
      evidence: [],
      why: "Razer side, see the Go live page's diagnostics",
      fix: null,
    },
  ];
  return READING_IDS.flatMap((id) => findings.filter((f) => f.id === id));
}

// ------------------------------------------------------------------ helpers

type Verdict = Finding['verdict'];

/** The setting's value in force as text; the three unsettable readings say what they are. */
function readingText(id: ReadingId, readings: Readings): string {
  if (id === 'mitra.signature')
    return 'sign = base64(hex(HMAC-SHA512(secret, secret + word + params))) (mitra-side §1)';
  if (id === 'mitra.envelope') return '{code, status, rc_code, message, data} (mitra-side §2)';
  if (id === 'mitra.forms')
    return 'forms: [{key, type: text|numeric|option, alias, options?}] (mitra-side §3)';
  let node: unknown = settingsOf(readings);
  for (const key of id.split('.')) node = (node as Record<string, unknown> | undefined)?.[key];
  return JSON.stringify(node);
}

function finding(
  id: ReadingId,
  readings: Readings,
  verdict: Verdict,
  evidence: string[],
  why: string | null = null,
  fix: Fix | null = null,
): Finding {
  return { id, verdict, reading: readingText(id, readings), evidence, why, fix };
}

const label = (o: OrderRecord) => `${o.variationKey} (${o.scenario}, ref_id ${JSON.stringify(o.refId)})`;

/** The numbers an order went through, each run of equal numbers once. */
export function statusRuns(o: Pick<OrderRecord, 'polls'>): number[] {
  const runs: number[] = [];
  for (const p of o.polls) if (p.status !== null && runs.at(-1) !== p.status) runs.push(p.status);
  return runs;
}

const lastStatus = (o: OrderRecord): number | null => statusRuns(o).at(-1) ?? null;
const refundNamed = (o: Pick<OrderRecord, 'polls'>, readings: Readings) =>
  o.polls.some((p) => p.historyNames.some((n) => refundPattern(n, readings) !== null));
const placed = (o: OrderRecord) => o.create.outcome === 'accepted' && o.create.trxCode !== null;
const own = (o: OrderRecord) => [o.refId, ...(o.create.trxCode ? [o.create.trxCode] : [])].filter(Boolean);

/** Why an order gave nothing to judge its end by. */
function noEnd(o: OrderRecord): string {
  if (!placed(o))
    return `${label(o)} was not placed: create-order ${o.create.outcome}${o.create.rc ? ` rc ${o.create.rc}` : ''}${o.create.httpStatus ? ` (HTTP ${o.create.httpStatus})` : ''}${o.create.message ? `: ${o.create.message}` : ''}`;
  return `${label(o)} did not end: ${o.endedWhy}`;
}

const createText = (o: OrderRecord) =>
  `rc ${o.create.rc ?? 'none'}${o.create.status ? ` ${o.create.status}` : ''}, HTTP ${o.create.httpStatus ?? 'none'}${o.create.message ? `: ${o.create.message}` : ''}`;

/**
 * Where the readings, or failing them a search, find the code (of an order that ended
 * delivered) and the reason (of one that ended failed or refunded) in its last reply.
 */
export function foundIn(o: Omit<OrderRecord, 'found'>, readings: Readings): OrderRecord['found'] {
  const m = readings.mitra;
  const refs = [o.refId, ...(o.create.trxCode ? [o.create.trxCode] : [])].filter(Boolean);
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
    voucherAt: code?.path ?? (delivered ? (codeCandidates(o.last, refs)[0] ?? null) : null),
    voucherRead: code !== null,
    reasonAt: reason?.path ?? (failed ? (reasonCandidates(o.last, refs)[0] ?? null) : null),
    reasonRead: reason !== null,
  };
}

// ------------------------------------------------------------------ signing, envelope, forms

const SIGNED_OPERATIONS = ['brands', 'variations', 'order', 'order-status'];
const isProbe = (e: Exchange) => e.step === 'balance probe';

function judgeSignature(obs: Observations, readings: Readings): Finding {
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

function judgeEnvelope(obs: Observations, readings: Readings): Finding {
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

function judgeForms(obs: Observations, readings: Readings): Finding {
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

// ------------------------------------------------------------------ order status numbers

function judgeProcessing(obs: Observations, readings: Readings): Finding {
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

function judgeSuccess(obs: Observations, readings: Readings): Finding {
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

const historyText = (o: OrderRecord) => {
  const names = [...new Set(o.polls.flatMap((p) => p.historyNames))];
  return names.length ? names.map((n) => JSON.stringify(n)).join(', ') : 'empty';
};

function judgeFailed(obs: Observations, readings: Readings): Finding {
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

// ------------------------------------------------------------------ where the code and the reason are

function judgeVoucher(obs: Observations, readings: Readings): Finding {
  const m = readings.mitra;
  const vouchers = obs.orders.filter(
    (o) => o.expect === 'success' && (o.isVoucher === true || o.scenario === 'voucher'),
  );
  const delivered = vouchers.filter(
    (o) => o.ended && !refundNamed(o, readings) && m.order_status.failed.every((n) => n !== lastStatus(o)),
  );
  if (delivered.length === 0)
    return finding(
      'mitra.voucher_code_at',
      readings,
      'not-observed',
      vouchers.map(noEnd),
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
    const candidates = codeCandidates(o.last, own(o)).filter((p) => !m.voucher_code_at.includes(p));
    evidence.push(
      candidates.length
        ? `${label(o)}: nothing at ${m.voucher_code_at.join(', ')}; a code-like field at ${candidates.join(', ')}`
        : `${label(o)}: nothing at ${m.voucher_code_at.join(', ')}, and no field looks like a code`,
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
      'no field of the reply looks like a code: the gateway keeps such a voucher open (never 200 without its code); ask Mitra where the code is',
    );
  return finding(
    'mitra.voucher_code_at',
    readings,
    'contradicted',
    evidence,
    null,
    makeFix(at('mitra.voucher_code_at', withFirst(m.voucher_code_at, proposed)), readings),
  );
}

function judgeReason(obs: Observations, readings: Readings): Finding {
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

// ------------------------------------------------------------------ refunds

const NOT_REFUND = new Set(NOT_REFUND_NAMES.map((n) => n.toLowerCase()));
const folded = (name: string) => name.trim().replace(/\s+/g, ' ');

function judgeRefund(obs: Observations, readings: Readings): Finding {
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
    const candidates = names.filter((n) => {
      const f = folded(n).toLowerCase();
      return f !== '' && !othersNames.has(f) && !NOT_REFUND.has(f);
    });
    evidence.push(
      `${label(o)} ended (${o.endedWhy}) with history ${historyText(o)}: no name matches a refund pattern${candidates.length ? `; not seen on other orders: ${candidates.map((c) => JSON.stringify(c)).join(', ')}` : ''}`,
    );
    const last = candidates.at(-1);
    if (last && !proposed.includes(last)) proposed.push(last);
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
  if (unjudged === refunds.length)
    return finding(
      'mitra.refund_names',
      readings,
      'not-observed',
      evidence,
      'the refunding product did not end',
    );
  return finding(
    'mitra.refund_names',
    readings,
    'contradicted',
    evidence,
    'the order ended with no history name that names a refund and none new to it: ask Mitra how a refund is named',
  );
}

// ------------------------------------------------------------------ webhooks

function judgeWebhook(obs: Observations, readings: Readings): Finding {
  const w = obs.webhooks;
  const ours = w.items.filter((h) => h.names.length > 0);
  if (ours.length === 0)
    return finding(
      'mitra.webhook',
      readings,
      'not-observed',
      w.items.length ? [`${w.items.length} webhook(s) arrived, none naming our orders`] : [],
      w.via === 'listener'
        ? `no webhook naming our orders reached --listen ${obs.options.listen ?? ''} within ${w.waitedSeconds} s of the orders' end: does the callback URL registered with Mitra lead there?`
        : `no webhook naming our orders was stored on this database within ${w.waitedSeconds} s of the orders' end: is a gateway running on it, with Mitra's callback URL pointing at it? (else use --listen HOST:PORT)`,
    );
  const readsOurs = (h: WebhookRecord) => h.readAs.refs.some((r) => h.names.includes(r));
  const missed = ours.filter((h) => !readsOurs(h));
  const describe = (h: WebhookRecord) =>
    `${h.via} ${h.receivedAt} from ${h.source}: ${h.readAs.kind}${h.readAs.refs.length ? ` ${h.readAs.refs.join(', ')}` : ''}${h.readAs.why ? ` (${h.readAs.why})` : ''}; body ${truncate(h.body, 300)}`;
  if (missed.length === 0) return finding('mitra.webhook', readings, 'confirmed', ours.map(describe));
  const fix = webhookFix(missed, obs.orders, readings);
  return finding(
    'mitra.webhook',
    readings,
    'contradicted',
    missed.map(describe),
    fix ? null : 'our references stand where no layer and key can name them (in a list, or not as text)',
    fix,
  );
}

const truncate = (s: string, n: number) => (s.length > n ? `${s.slice(0, n)}…` : s);

/** The layers and keys where the missed webhooks carry our trx codes and ref_ids. */
function webhookFix(
  missed: readonly WebhookRecord[],
  orders: readonly OrderRecord[],
  readings: Readings,
): Fix | null {
  const w = readings.mitra.webhook;
  const layers: string[] = [];
  const trxKeys: string[] = [];
  const refKeys: string[] = [];
  const KEY = /^[A-Za-z0-9_-]{1,64}$/;
  for (const h of missed) {
    let body: unknown;
    try {
      body = JSON.parse(h.body);
    } catch {
      continue;
    }
    for (const o of orders) {
      for (const [value, keys] of [
        [o.create.trxCode, trxKeys],
        [o.refId, refKeys],
      ] as const) {
        if (!value) continue;
        const place = placesOf(body, value).find((p) => !p.inArray);
        if (!place) continue;
        const key = place.keys.at(-1) ?? '';
        const layer = place.keys.slice(0, -1).join('.');
        if (!KEY.test(key) || (layer !== '' && !isSettingPath(layer))) continue;
        if (!layers.includes(layer)) layers.push(layer);
        if (!keys.includes(key)) keys.push(key);
      }
    }
  }
  if (layers.length === 0) return null;
  const change: Record<string, Json> = {};
  const add = (name: string, list: readonly string[], items: string[]) => {
    const next = withAdded(list, items);
    if (next.length !== list.length) change[name] = next;
  };
  add('layers', w.layers, layers);
  add('trx_code_keys', w.trx_code_keys, trxKeys);
  add('ref_id_keys', w.ref_id_keys, refKeys);
  if (Object.keys(change).length === 0) return null;
  return makeFix({ mitra: { webhook: change } }, readings);
}

/** readWebhook's view of a body, for the record. */
export function webhookReading(body: string, readings: Readings): WebhookRecord['readAs'] {
  const meaning = readWebhook(body, readings);
  if (meaning.kind === 'transaction') return { kind: 'transaction', refs: meaning.refs, why: null };
  if (meaning.kind === 'product') return { kind: 'product', refs: [], why: `brand ${meaning.brandKey}` };
  return { kind: 'unrecognised', refs: [], why: meaning.why };
}

// ------------------------------------------------------------------ balance, ref_id, rc

const probeText = (p: BalanceProbe) =>
  `${p.path} signed with ${JSON.stringify(p.word)}: ${p.outcome}${p.rc ? ` rc ${p.rc}` : ''}${p.status ? ` ${p.status}` : ''} (HTTP ${p.httpStatus ?? 'none'})`;
/** The balance call is not there: 404, or rc 44 / NOT_FOUND. */
export const isBalanceNotFound = (p: BalanceProbe) =>
  p.httpStatus === 404 || p.rc === '44' || p.status === 'NOT_FOUND';

function judgeBalance(obs: Observations, readings: Readings): Finding {
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

function judgeTid(obs: Observations, readings: Readings): Finding {
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

function judgeMayExist(obs: Observations, readings: Readings): Finding {
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

function judgeRefused(obs: Observations, readings: Readings): Finding {
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
    } else if (o.create.rc !== null && o.create.rc !== '45' && o.create.rc !== '50') {
      evidence.push(`${text}: read as ${o.create.outcome}, not a refusal`);
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
