import { z } from 'zod';
import { responseDocs } from './json-schema.js';

// The answers of the Razer boundary, the webhook and the probes, as zod schemas: the document
// is generated from them, and the tests hold real answers against what it says.

/**
 * Metadata belongs to a schema object, so one object reused with two descriptions would keep the
 * last: describing an object twice is refused, fresh ones are made instead.
 */
function document<T extends z.ZodType>(schema: T, docs: { id?: string; description: string }): T {
  if (responseDocs.has(schema)) throw new Error(`already described: ${docs.description}`);
  responseDocs.add(schema, docs);
  return schema;
}

export const described = <T extends z.ZodType>(schema: T, description: string): T =>
  document(schema, { description });

/** A component of the document, under `#/components/schemas/<id>`. */
export const named = <T extends z.ZodType>(schema: T, id: string, description: string): T =>
  document(schema, { id, description });

/** The `{code, message}` every refusal of every surface has, with the codes one answer may carry. */
export const errorBody = (codes: readonly [string, ...string[]]) =>
  z.object({ code: z.enum(codes), message: z.string() });

export const razerInitiated = named(
  z.object({
    transactionNumber: z.string(),
    transactionToken: described(
      z.string(),
      'Opaque, at least 128 random bits: the top-up (and, optionally, the cancel) must carry it.',
    ),
    status: z.literal('INITIATED'),
    sku: z.string(),
    accountId: z.string(),
  }),
  'RazerInitiated',
  'The transaction is recorded. The same init again (same body) is answered with these bytes again.',
);

export const razerDelivered = named(
  z.object({
    transactionNumber: z.string(),
    status: z.literal('SUCCESS'),
    referenceId: described(z.string(), "The supplier's trx_code of the order."),
    voucher: described(
      z.object({ code: z.string() }),
      'Voucher products only: the code (serial) to hand to the buyer. Never 200 without it.',
    ).optional(),
  }),
  'RazerDelivered',
  'Delivered: final, every later answer about the transaction is this one.',
);

export const razerPending = named(
  z.object({ transactionNumber: z.string(), status: z.literal('PENDING') }),
  'RazerPending',
  'The outcome is not final yet; fulfilment goes on. Query again later.',
);

export const razerCancelled = named(
  z.object({
    transactionNumber: z.string(),
    // The states a cancel may leave or find (cancelTransaction): closed, never sent to the supplier.
    status: z.enum(['CANCELLED', 'FAILED', 'EXPIRED']),
  }),
  'RazerCancelled',
  'Closed without delivery: cancelled now, or already cancelled, failed or expired (idempotent).',
);

export const razerValid = named(
  z.object({ valid: z.literal(true), sku: z.string(), accountId: z.string() }),
  'RazerValid',
  "init's checks pass for this request; nothing was recorded.",
);

/** Razer's /health and the Prometheus scrape: text, not JSON. */
export const plainText = z.string();

export const webhookReceived = named(
  z.object({
    received: z.literal(true),
    id: described(z.int(), 'The stored webhook (see /admin/webhooks).'),
  }),
  'WebhookReceived',
  'Stored; what it names is checked with a signed order-status call afterwards.',
);

export const liveness = named(z.object({ status: z.literal('live') }), 'Liveness', 'The process serves.');

export const readiness = named(
  z.object({
    status: z.enum(['ready', 'not ready']),
    checks: z.object({
      storage: described(z.string(), '`ok`, or `not writable`.'),
      migrations: described(z.string(), '`ok`, or `not applied`.'),
      catalogue: described(
        z.string(),
        '`ok`, `never fetched` (every init would be refused OOS) or `unreadable`.',
      ),
    }),
  }),
  'Readiness',
  'Whether this instance can take purchases, and which check says not.',
);

/** The document as served at /openapi.json: an object; what it holds, it describes itself. */
export const openapiJson = named(
  z.object({ openapi: z.literal('3.1.0') }).catchall(z.unknown()),
  'OpenApiDocument',
  'An OpenAPI 3.1 document.',
);
