import { createHash } from 'node:crypto';
import { z } from 'zod';
import { statusNumber } from '../readings/mitra.js';
import { DEFAULT_READINGS, type Readings } from '../readings/settings.js';

/**
 * What a webhook body says, read leniently: the payloads are not published. A webhook is
 * a trigger, never a source of truth: whatever it says is checked with a signed call.
 */
export type WebhookMeaning =
  | { kind: 'transaction'; refs: string[]; trxCode: string | null; reportedStatus: number | null }
  | { kind: 'product'; brandKey: string }
  | { kind: 'unrecognised'; why: string };

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const text = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : null);

const NOT_JSON = 'not JSON';

/**
 * Reads a webhook by the readings (mitra.webhook): the layers to look in ('' is the top level),
 * the keys that carry a trx code, a ref_id, a status number, a brand.
 */
export function readWebhook(body: string, readings: Readings = DEFAULT_READINGS): WebhookMeaning {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { kind: 'unrecognised', why: NOT_JSON };
  }
  if (!isObject(parsed)) return { kind: 'unrecognised', why: 'not a JSON object' };
  const w = readings.mitra.webhook;
  const layers = w.layers.map((path) => layerAt(parsed, path)).filter((l): l is Json => l !== null);

  const refs: string[] = [];
  let trxCode: string | null = null;
  for (const layer of layers) {
    for (const [key, isTrx] of [
      ...w.trx_code_keys.map((k) => [k, true] as const),
      ...w.ref_id_keys.map((k) => [k, false] as const),
    ]) {
      const value = text(own(layer, key));
      if (!value || refs.includes(value)) continue;
      refs.push(value);
      if (isTrx) trxCode ??= value;
    }
  }
  if (refs.length > 0) {
    // Read as an order status is: a number, or a string of digits.
    const status =
      layers.flatMap((l) => w.status_keys.map((k) => statusNumber(own(l, k)))).find((s) => s !== null) ??
      null;
    return { kind: 'transaction', refs, trxCode, reportedStatus: status };
  }
  const brandKey = layers.flatMap((l) => w.brand_keys.map((k) => text(own(l, k)))).find((b) => b !== null);
  if (brandKey) return { kind: 'product', brandKey };
  return { kind: 'unrecognised', why: 'names no transaction and no product' };
}

/** Own keys only: a key names what the body holds, never what every object inherits. */
const own = (layer: Json, key: string): unknown => (Object.hasOwn(layer, key) ? layer[key] : undefined);

/** The object at a dot path ('' is the root), or null. */
function layerAt(root: Json, path: string): Json | null {
  let node: unknown = root;
  for (const key of path === '' ? [] : path.split('.')) node = isObject(node) ? own(node, key) : undefined;
  return isObject(node) ? node : null;
}

/** Bytes of UTF-8 kept of a body nothing reads: enough for an operator to see what it was. */
export const UNRECOGNISED_KEPT_BYTES = 1024;

/** What is stored of a webhook body, with what it means (read once, for both). */
export interface KeptBody {
  meaning: WebhookMeaning;
  /** The body as stored: whole, or cut (see `cut`). */
  body: string;
  /** Always of the whole body as received, cut or not: duplicates still match. */
  bodySha256: string;
  /** Set when only the first bytes were kept: how many, of how many. */
  cut: { kept: number; of: number } | null;
}

/**
 * What Mitra may have sent is stored whole: a transaction or product webhook, and any JSON body,
 * since the payloads are not published and a JSON shape the readings do not know yet (a `data`
 * array, numeric references) is exactly what the operator must read to correct them. A body that
 * is not JSON at all is kept as its hash and its first UTF-8 kilobyte only: nobody reads more of
 * it. What the token's holder can store in all is bounded by the webhook cap, not by this.
 */
export function keptBody(body: string, readings: Readings = DEFAULT_READINGS): KeptBody {
  const meaning = readWebhook(body, readings);
  const bodySha256 = createHash('sha256').update(body).digest('hex');
  if (meaning.kind !== 'unrecognised' || meaning.why !== NOT_JSON)
    return { meaning, body, bodySha256, cut: null };
  const of = Buffer.byteLength(body);
  if (of <= UNRECOGNISED_KEPT_BYTES) return { meaning, body, bodySha256, cut: null };
  const start = utf8Start(body, UNRECOGNISED_KEPT_BYTES);
  return { meaning, body: start.text, bodySha256, cut: { kept: start.bytes, of } };
}

const encoder = new TextEncoder();

/** The longest start of `text` that fits in `maxBytes` of UTF-8: never half a character. */
export function utf8Start(text: string, maxBytes: number): { text: string; bytes: number } {
  // encodeInto writes whole characters only (a surrogate pair is one): `read` ends on a boundary.
  const { read, written } = encoder.encodeInto(text, new Uint8Array(maxBytes));
  return { text: text.slice(0, read), bytes: written };
}

/**
 * What `readWebhook` looks for, as a schema for the API document. Nothing is validated with it:
 * the payloads are not published, so every body is stored and answered 200 whatever it holds.
 */
const defaults = DEFAULT_READINGS.mitra.webhook;
const webhookLayer = {
  ...Object.fromEntries(
    [...defaults.trx_code_keys, ...defaults.ref_id_keys].map((key) => [key, z.string().optional()]),
  ),
  status: z.union([z.int(), z.string().regex(/^\s*\d+\s*$/)]).optional(),
  brand_key: z.string().optional(),
};
export const webhookPayloadSchema = z.looseObject({
  ...webhookLayer,
  data: z.looseObject(webhookLayer).optional(),
});
