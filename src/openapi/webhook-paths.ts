import { envVarsSchema, MITRA_WEBHOOK_IPS } from '../config/env.js';
import { webhookPayloadSchema } from '../mitra/webhook-payload.js';
import { MAX_WEBHOOK_BYTES } from '../mitra/webhook-route.js';
import { errorExamples, jsonResponse } from './build.js';
import { requestDocs, requestSchema, schemaOf } from './json-schema.js';
import { errorBody, webhookReceived } from './responses.js';
import type { PathsPart } from './types.js';

requestDocs.add(webhookPayloadSchema, {
  id: 'MitraWebhook',
  description:
    'VCGamers does not publish its webhook payloads: these are the fields the gateway looks for (a transaction reference, at the top level or under `data`; else a brand_key). Anything else is kept. A body that is not JSON, or names nothing, is stored and answered 200 too.',
});

export function webhookPaths(): PathsPart {
  return {
    paths: {
      '/mitra/webhook/{token}': {
        post: {
          operationId: 'mitraWebhook',
          summary: 'A VCGamers Mitra webhook',
          description: [
            "Top Up, New Transaction, Status Update and Product Status events. A webhook is a trigger, never a source of truth: it is stored as received and answered at once, then the transaction it names is moved only by a signed order-status call (a product event refreshes the brand's prices). Duplicates and late deliveries change nothing the order status does not confirm.",
            '',
            `Accepted only from MITRA_WEBHOOK_ALLOW_IPS (by default VCGamers' published ${MITRA_WEBHOOK_IPS.join(' and ')}; behind proxies, see TRUST_PROXY), on the secret path.`,
            '',
            'Each source address may have at most MITRA_WEBHOOK_CAP webhooks and MITRA_WEBHOOK_CAP_BYTES bytes stored per window (each instance counts its own); past either it is answered 429 until the window ends. A body the gateway does not recognise (neither a transaction nor a product) is stored as its SHA-256 and its first KiB only.',
          ].join('\n'),
          tags: ['webhook'],
          // The secret is the path itself, compared in constant time: no header scheme.
          security: [],
          parameters: [
            {
              name: 'token',
              in: 'path',
              required: true,
              description:
                'MITRA_WEBHOOK_TOKEN: a secret path segment. A wrong one is answered like any unknown path (404) before the body is read.',
              // The token as configured (after its checks), which is what the path must equal.
              schema: schemaOf(envVarsSchema.shape.MITRA_WEBHOOK_TOKEN, 'output'),
            },
          ],
          requestBody: {
            required: false,
            description: `Up to ${MAX_WEBHOOK_BYTES / 1024 / 1024} MiB, stored as raw text whatever its type (one the gateway does not recognise: its first KiB and its SHA-256).`,
            content: {
              'application/json': {
                schema: requestSchema(webhookPayloadSchema),
                examples: {
                  topUp: {
                    summary: 'A completed top-up',
                    value: {
                      data: { trx_code: 'VCG26112200001', ref_id: 'RG-121VKD1KFHP8B6ECD7862', status: 2 },
                    },
                  },
                  product: {
                    summary: 'A price or active flag changed',
                    value: { brand_key: 'MLBB', variation_key: 'MLBB112' },
                  },
                },
              },
            },
          },
          responses: {
            '200': jsonResponse('Stored.', webhookReceived, {
              stored: { summary: 'Stored', value: { received: true, id: 42 } },
            }),
            '403': jsonResponse(
              'The source address is not allowed. The body was not read.',
              errorBody(['FORBIDDEN']),
              errorExamples([['FORBIDDEN', 'source address not allowed', 'Not from VCGamers']]),
            ),
            '404': jsonResponse(
              'Wrong token: answered as any unknown path is.',
              errorBody(['NOT_FOUND']),
              errorExamples([['NOT_FOUND', 'no endpoint POST /mitra/webhook/[token]', 'Wrong token']]),
            ),
            '413': jsonResponse(
              `Larger than ${MAX_WEBHOOK_BYTES / 1024 / 1024} MiB; reading stopped there.`,
              errorBody(['TOO_LARGE']),
              errorExamples([['TOO_LARGE', `webhook larger than ${MAX_WEBHOOK_BYTES} bytes`, 'Too large']]),
            ),
            '429': jsonResponse(
              'The source address is over its cap of webhooks or bytes stored per window: nothing was stored, and until the window ends nothing more is (the body is then not read). Retry-After says when it ends.',
              errorBody(['TOO_MANY']),
              errorExamples([
                [
                  'TOO_MANY',
                  'webhook cap reached: more than 1200 webhooks per 60 s from this address',
                  'Too many',
                ],
              ]),
              {
                'Retry-After': {
                  description: 'Seconds until the source address may store webhooks again.',
                  required: true,
                  schema: { type: 'integer', minimum: 1 },
                },
              },
            ),
            '500': jsonResponse(
              'Could not be stored: VCGamers should send it again.',
              errorBody(['FAILED']),
              errorExamples([['FAILED', 'not stored; send again', 'Storage failed']]),
            ),
          },
        },
      },
    },
  };
}
