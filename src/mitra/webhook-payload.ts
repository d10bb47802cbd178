import { z } from 'zod';
import { statusNumber, WEBHOOK_REFERENCE_KEYS } from './readings.js';

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

export function readWebhook(body: string): WebhookMeaning {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { kind: 'unrecognised', why: 'not JSON' };
  }
  if (!isObject(parsed)) return { kind: 'unrecognised', why: 'not a JSON object' };
  const layers = [parsed, ...(isObject(parsed.data) ? [parsed.data] : [])];

  const refs: string[] = [];
  let trxCode: string | null = null;
  for (const layer of layers) {
    for (const key of WEBHOOK_REFERENCE_KEYS) {
      const value = text(layer[key]);
      if (!value || refs.includes(value)) continue;
      refs.push(value);
      if (key !== 'ref_id') trxCode ??= value;
    }
  }
  if (refs.length > 0) {
    // Read as an order status is: a number, or a string of digits.
    const status = layers.map((l) => statusNumber(l.status)).find((s) => s !== null) ?? null;
    return { kind: 'transaction', refs, trxCode, reportedStatus: status };
  }
  const brandKey = layers.map((l) => text(l.brand_key)).find((b) => b !== null);
  if (brandKey) return { kind: 'product', brandKey };
  return { kind: 'unrecognised', why: 'names no transaction and no product' };
}

/**
 * What `readWebhook` looks for, as a schema for the API document. Nothing is validated with it:
 * the payloads are not published, so every body is stored and answered 200 whatever it holds.
 */
const webhookLayer = {
  ...Object.fromEntries(WEBHOOK_REFERENCE_KEYS.map((key) => [key, z.string().optional()])),
  status: z.union([z.int(), z.string().regex(/^\s*\d+\s*$/)]).optional(),
  brand_key: z.string().optional(),
};
export const webhookPayloadSchema = z.looseObject({
  ...webhookLayer,
  data: z.looseObject(webhookLayer).optional(),
});
