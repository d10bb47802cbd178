/**
 * Whether the webhooks our orders caused are read as naming them, and where in their bodies our
 * references stand when they are not: the run records with webhookReading, the judge proposes
 * with webhookFix.
 */
import { readWebhook } from '../../mitra/webhook-payload.js';
import type { Readings } from '../../readings/settings.js';
import { makeFix, withAdded } from '../fix.js';
import type { Finding, Fix, Json, Observations, OrderRecord, WebhookRecord } from '../report.js';
import { isSettingPath, placesOf } from '../search.js';
import { finding } from './findings.js';

export function judgeWebhook(obs: Observations, readings: Readings): Finding {
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
