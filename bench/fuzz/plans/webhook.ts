import fc from 'fast-check';
import { MAX_WEBHOOK_BYTES } from '../../../src/mitra/webhook-route.js';
import {
  anyJson,
  body,
  bodyBytes,
  contentType,
  type Encoded,
  entries,
  extraHeaders,
  field,
  method,
  oneIn,
  peer,
  query,
  Resolver,
  ref,
  text,
  type ValuePlan,
} from '../arbitraries.js';
import { CREDENTIALS, type Fixtures } from '../harness.js';
import type { RawRequest } from '../http.js';

/** How the secret path segment is written: right, or wrong in one of the ways a guess would be. */
export const TOKEN_FORMS = [
  'right',
  'right-encoded',
  'upper',
  'prefix',
  'suffix',
  'other',
  'empty',
  'extra-segment',
  'trailing-slash',
] as const;

export interface WebhookPlan {
  method: string;
  token: (typeof TOKEN_FORMS)[number];
  other: string;
  query: string;
  peer: string;
  /** X-Forwarded-For lines (each may list several entries); none: null. */
  forwardedFor: string[] | null;
  body: Encoded;
  contentType: string | null;
  headers: [string, string][];
  chunked: boolean;
}

const status = fc.oneof(
  fc.constantFrom<ValuePlan>({ json: 1 }, { json: 2 }, { json: 3 }, { json: 4 }, { json: '2' }),
  anyJson,
);
/** Where Mitra names a transaction: the readings' keys, at the top level or under `data`. */
const reference = {
  trx_code: oneIn(2, fc.oneof(ref('trx'), text(fc.string({ maxLength: 20 })))),
  tid: oneIn(6, ref('trx')),
  ref_id: oneIn(3, fc.oneof(ref('refId'), text(fc.string({ maxLength: 20 })))),
  code: oneIn(6, ref('trx')),
  status: oneIn(2, status),
  status_name: oneIn(
    2,
    text(fc.constantFrom('Success', 'Failed', 'Refund', 'Refund rejected', 'Processing')),
  ),
  sn: oneIn(3, text(fc.string({ maxLength: 30 }))),
  brand_key: oneIn(6, text(fc.constantFrom('MLBB', 'STEAM', 'GENSHIN', 'NOPE'))),
  variation_key: oneIn(6, text(fc.constantFrom('MLBB112', 'STEAMV50', 'GI60', 'NOPE'))),
  price: oneIn(6, anyJson),
};
const webhookEntries = fc.oneof(
  entries({
    type: field(
      text(fc.constantFrom('status_update', 'topup', 'product_status', 'new_transaction', 'other')),
    ),
    data: fc.option(
      entries(reference).map((object): ValuePlan => ({ object })),
      { freq: 6 },
    ),
  }),
  entries(reference),
);

export function webhookPlan(): fc.Arbitrary<WebhookPlan> {
  return fc.record({
    method: fc.oneof({ weight: 12, arbitrary: fc.constant('POST') }, { weight: 1, arbitrary: method }),
    token: fc.oneof(
      { weight: 8, arbitrary: fc.constant('right' as const) },
      { weight: 4, arbitrary: fc.constantFrom(...TOKEN_FORMS) },
    ),
    other: fc.stringMatching(/^[A-Za-z0-9_-]{1,40}$/),
    query,
    peer: fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(...CREDENTIALS.allowedIps) },
      { weight: 2, arbitrary: peer },
    ),
    forwardedFor: fc.oneof(
      { weight: 4, arbitrary: fc.constant(null) },
      {
        weight: 2,
        arbitrary: fc.array(
          fc
            .array(fc.oneof(peer, fc.constantFrom(' ', '', 'unknown', '172.236.143.138 ')), {
              minLength: 1,
              maxLength: 3,
            })
            .map((e) => e.join(',')),
          { minLength: 1, maxLength: 2 },
        ),
      },
    ),
    body: body(webhookEntries, MAX_WEBHOOK_BYTES),
    contentType: contentType('application/json'),
    headers: extraHeaders,
    chunked: fc.boolean(),
  });
}

export interface BuiltWebhook {
  request: RawRequest;
  /** Whether the path's secret segment is the token, decoded as a router would. */
  tokenRight: boolean;
  bodyBytes: number;
}

function segmentFor(plan: WebhookPlan): string {
  const t = CREDENTIALS.webhookToken;
  switch (plan.token) {
    case 'right':
      return t;
    case 'right-encoded':
      return t.replace(/[a-z-]/, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
    case 'upper':
      return t.toUpperCase();
    case 'prefix':
      return t.slice(0, -1);
    case 'suffix':
      return `${t}${plan.other}`;
    case 'other':
      return plan.other === t ? `${t}x` : plan.other;
    case 'empty':
      return '';
    case 'extra-segment':
      return `${t}/${plan.other}`;
    case 'trailing-slash':
      return `${t}/`;
  }
}

export function buildWebhook(plan: WebhookPlan, fx: Fixtures): BuiltWebhook {
  const segment = segmentFor(plan);
  const target = `/mitra/webhook/${segment}${plan.query}`;
  const carries = plan.method !== 'GET' && plan.method !== 'HEAD';
  const bytes = carries ? bodyBytes(plan.body, new Resolver(fx)) : Buffer.alloc(0);
  const headers: [string, string][] = [];
  if (plan.contentType !== null) headers.push(['content-type', plan.contentType]);
  for (const line of plan.forwardedFor ?? []) headers.push(['x-forwarded-for', line]);
  let decoded: string | null = null;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    decoded = null;
  }
  return {
    request: {
      method: plan.method,
      target,
      headers: [...headers, ...plan.headers.filter(([name]) => name.toLowerCase() !== 'x-forwarded-for')],
      body: carries ? bytes : null,
      chunked: plan.chunked,
      remoteAddress: plan.peer,
    },
    tokenRight: plan.method === 'POST' && decoded === CREDENTIALS.webhookToken,
    bodyBytes: bytes.length,
  };
}
