import type { z } from 'zod';
import type { RefusalCode } from '../fulfilment/refusal.js';
import { MAX_BODY_DEPTH } from '../razer/routes.js';
import {
  cancelSchema,
  initSchema,
  topupSchema,
  transactionNumberSchema,
  validateSchema,
} from '../razer/schemas.js';
import { signRequest, signResponse } from '../razer/signature.js';
import { MAX_BODY_BYTES } from '../readings/razer.js';
import {
  type Examples,
  errorExample,
  errorExamples,
  jsonBody,
  jsonResponse,
  ref,
  textResponse,
} from './build.js';
import { componentRef, requestDocs } from './json-schema.js';
import {
  errorBody,
  plainText,
  razerCancelled,
  razerDelivered,
  razerInitiated,
  razerPending,
  razerValid,
} from './responses.js';
import type { Operation, Parameter, PathsPart, RequestBody, Response } from './types.js';

// What zod cannot carry (refinements) is said here, on the same schema objects that validate.
requestDocs.add(transactionNumberSchema, {
  id: 'TransactionNumber',
  description:
    "Razer's transaction number: visible ASCII without / ? # or %, so it is also a URL path segment.",
});
requestDocs.add(initSchema.shape.customParam, {
  description:
    'Extra account fields (a server id, say) as string values: at most 32 entries, keys up to 64 and values up to 256 characters.',
});
requestDocs.add(initSchema, { id: 'RazerInitRequest', description: 'A purchase Razer Gold starts.' });
requestDocs.add(topupSchema, { id: 'RazerTopupRequest', description: 'Deliver an initiated purchase.' });
requestDocs.add(cancelSchema, {
  id: 'RazerCancelRequest',
  description: 'Cancel a purchase; the token, when given, must match.',
});
requestDocs.add(validateSchema, {
  id: 'RazerValidateRequest',
  description: "init's checks, nothing recorded.",
});

export const RAZER_SECURITY = 'razerSignature';

const EXAMPLE_NUMBER = '121VKD1KFHP8B6ECD7862';
const EXAMPLE_TOKEN = 'pR3q7V0m2o1cUj0kQzW3d6bEo2bXk9Fh';

/** A message and when it is answered, for each published code. */
const REFUSALS: Record<RefusalCode, { message: string; when: string }> = {
  FAILED: {
    message: 'not topped up',
    when: 'Not delivered: refused by the supplier, cancelled, or expired before its top-up',
  },
  INVALID_DATA: {
    message: "'transactionNumber' is required.",
    when: `A field is missing or ill-typed, or the body is not JSON, larger than ${MAX_BODY_BYTES} bytes (answered before verifying: unsigned) or deeper than ${MAX_BODY_DEPTH} levels`,
  },
  INAVLID_SKU: {
    message: 'SKU DIAMOND50 is not sold here',
    when: 'The SKU is not mapped or is disabled (or the supplier does not know the product)',
  },
  OOS: {
    message: 'DIAMOND50 costs more than its price ceiling',
    when: 'Inactive at the supplier, priced above the ceiling, or never priced',
  },
  INVALID_ACCT: {
    message: 'User ID must be digits only',
    when: "The account does not fit the supplier's form for the product",
  },
  EXCEED_LIMIT: {
    message: 'at most 3 purchases of DIAMOND50 per account per day',
    when: 'A per-account or per-SKU daily limit of the mapping is reached',
  },
  ORIGIN_NOT_FOUND: {
    message: `transaction ${EXAMPLE_NUMBER} is not known`,
    when: 'No transaction has this number',
  },
  NOT_ALLOW_CANCEL: {
    message: 'the order has gone to the supplier, which cannot cancel it',
    when: 'The order was sent to the supplier (pending or delivered)',
  },
  UNSUPPORTED_COUNTRY: {
    message: 'SKU DIAMOND50 is not sold in US',
    when: "userCountryCode is not among the SKU's countries",
  },
  INVALID_TRANS_TOKEN: {
    message: 'transactionToken does not match',
    when: 'The token is not the one init gave',
  },
};

const signatureHeader = { 'X-Razer-Signature': ref('headers', 'XRazerSignature') };

function refusals(codes: readonly [RefusalCode, ...RefusalCode[]]): Response {
  return jsonResponse(
    `Definitively not done (for a purchase: not delivered, and never will be). Codes: ${codes.join(', ')}.`,
    errorBody(codes),
    errorExamples(codes.map((code) => [code, REFUSALS[code].message, REFUSALS[code].when] as const)),
    signatureHeader,
  );
}

const pending = () =>
  jsonResponse(
    'The outcome is not final yet (the supplier has not said, or said nothing certain): Razer queries again later.',
    razerPending,
    {
      pending: { summary: 'Not final yet', value: { transactionNumber: EXAMPLE_NUMBER, status: 'PENDING' } },
    },
    signatureHeader,
  );

const delivered = () =>
  jsonResponse(
    'Delivered.',
    razerDelivered,
    {
      topUp: {
        summary: 'A top-up',
        value: { transactionNumber: EXAMPLE_NUMBER, status: 'SUCCESS', referenceId: 'VCG26112200001' },
      },
      voucher: {
        summary: 'A voucher, with its code',
        value: {
          transactionNumber: EXAMPLE_NUMBER,
          status: 'SUCCESS',
          referenceId: 'VCG26112200002',
          voucher: { code: 'STEAM-ABCD-1234-EFGH' },
        },
      },
    },
    signatureHeader,
  );

const razerErrors = () =>
  ({
    RazerUnauthorized: jsonResponse(
      'The signature is missing, malformed, of an unknown api-id or wrong. Nothing was read or recorded. Never signed: an answer to a request that did not verify carries no signature.',
      errorBody(['UNAUTHORIZED']),
      {
        wrong: errorExample('UNAUTHORIZED', 'signature does not match', 'Wrong signature'),
        missing: errorExample('UNAUTHORIZED', 'X-Razer-Signature header is missing', 'No signature'),
      },
    ),
    RazerInternalError: jsonResponse(
      'An unexpected error while the outcome may still change: Razer queries again.',
      errorBody(['FAILED']),
      errorExamples([
        ['FAILED', 'internal error; the outcome may still change, query again', 'Unexpected error'],
      ]),
      signatureHeader,
    ),
    // No operation answers it: it is what any path the gateway does not serve gets.
    RazerNotFound: jsonResponse(
      'Any path or method the gateway does not serve. Never signed: it is answered before any signature is verified.',
      errorBody(['NOT_FOUND']),
      errorExamples([['NOT_FOUND', 'no endpoint GET /transaction', 'Unknown endpoint']]),
    ),
  }) satisfies Record<string, Response>;

interface Endpoint {
  operationId: string;
  summary: string;
  description: string;
  parameters?: Parameter[];
  body?: { schema: z.ZodType; examples: Examples };
  ok: Response;
  refusals: readonly [RefusalCode, ...RefusalCode[]];
  /** 408: the outcome can be open. */
  pending?: boolean;
  /** 409: a number reused with different content. */
  duplicate?: boolean;
}

function operation(e: Endpoint): Operation {
  const body: RequestBody | undefined = e.body && jsonBody(e.body.schema, e.body.examples);
  return {
    operationId: e.operationId,
    summary: e.summary,
    description: e.description,
    tags: ['razer'],
    security: [{ [RAZER_SECURITY]: [] }],
    ...(e.parameters ? { parameters: e.parameters } : {}),
    ...(body ? { requestBody: body } : {}),
    responses: {
      '200': e.ok,
      '400': refusals(e.refusals),
      '401': ref('responses', 'RazerUnauthorized'),
      ...(e.pending ? { '408': pending() } : {}),
      ...(e.duplicate
        ? {
            '409': jsonResponse(
              'The transactionNumber was used before with a different body.',
              errorBody(['FAILED']),
              errorExamples([['FAILED', 'duplicated transaction', 'Same number, different request']]),
              signatureHeader,
            ),
          }
        : {}),
      '500': ref('responses', 'RazerInternalError'),
    },
  };
}

const INIT_EXAMPLE = {
  transactionNumber: EXAMPLE_NUMBER,
  sku: 'DIAMOND50',
  razerId: 'RZR_0060d83c4d40bb9f10fb00bc0000',
  accountId: '123456-12',
  userIpAddress: '23.199.128.1',
  userCountryCode: 'MY',
  customParam: { serverId: 'MY01' },
};

const INIT_CHECKS: readonly [RefusalCode, ...RefusalCode[]] = [
  'INVALID_DATA',
  'INAVLID_SKU',
  'UNSUPPORTED_COUNTRY',
  'INVALID_ACCT',
  'EXCEED_LIMIT',
  'OOS',
];
/** What a failed transaction is answered with: its own failure code. */
const FAILURES: readonly RefusalCode[] = ['FAILED', 'INAVLID_SKU', 'OOS', 'INVALID_ACCT'];

const endpoints = (): Record<string, Partial<Record<'get' | 'post', Endpoint>>> => ({
  '/transaction/init': {
    post: {
      operationId: 'razerInit',
      summary: 'Start a purchase',
      description:
        "Checks, in order: the SKU is mapped and enabled, the country is allowed, the account fits the supplier's form, the daily limits, the supplier's price. On success the transaction is recorded as INITIATED with a token the top-up must carry. The same transactionNumber with the same body is answered with the first answer, byte for byte; with another body, 409.",
      body: { schema: initSchema, examples: { purchase: { summary: 'A top-up', value: INIT_EXAMPLE } } },
      ok: jsonResponse(
        'Initiated.',
        razerInitiated,
        {
          initiated: {
            summary: 'Recorded',
            value: {
              transactionNumber: EXAMPLE_NUMBER,
              transactionToken: EXAMPLE_TOKEN,
              status: 'INITIATED',
              sku: 'DIAMOND50',
              accountId: '123456-12',
            },
          },
        },
        signatureHeader,
      ),
      refusals: INIT_CHECKS,
      duplicate: true,
    },
  },
  '/transaction/topup': {
    post: {
      operationId: 'razerTopup',
      summary: 'Deliver a purchase',
      description:
        'Places exactly one supplier order for the transaction and waits (TOPUP_WAIT_MS) for a final outcome: 200 delivered, 400 not delivered, 408 not final yet (fulfilment goes on; query later). A repeated top-up never orders again: it is answered from the current state, as the query is.',
      body: {
        schema: topupSchema,
        examples: {
          topUp: {
            summary: 'With the token init gave',
            value: { transactionNumber: EXAMPLE_NUMBER, transactionToken: EXAMPLE_TOKEN },
          },
        },
      },
      ok: delivered(),
      refusals: ['INVALID_DATA', 'ORIGIN_NOT_FOUND', 'INVALID_TRANS_TOKEN', ...FAILURES],
      pending: true,
    },
  },
  '/transaction/{transactionNumber}': {
    get: {
      operationId: 'razerQuery',
      summary: "A purchase's outcome",
      description:
        'Answers from the recorded state: 200 delivered, 400 not delivered (with the failure code), 408 not final yet. A transaction initiated but never topped up is closed as expired by the query (400 FAILED "not topped up"), so the answer never changes afterwards.',
      parameters: [
        {
          name: 'transactionNumber',
          in: 'path',
          required: true,
          schema: componentRef('TransactionNumber'),
        },
      ],
      ok: delivered(),
      refusals: ['INVALID_DATA', 'ORIGIN_NOT_FOUND', ...FAILURES],
      pending: true,
    },
  },
  '/transaction/cancel': {
    post: {
      operationId: 'razerCancel',
      summary: 'Cancel a purchase',
      description:
        'Cancels a transaction that was initiated, or queued and not yet sent to the supplier. Already cancelled, failed or expired: 200 with that status (idempotent). Sent to the supplier: 400 NOT_ALLOW_CANCEL, the supplier has no cancel.',
      body: {
        schema: cancelSchema,
        examples: {
          cancel: {
            summary: 'With the token',
            value: { transactionNumber: EXAMPLE_NUMBER, transactionToken: EXAMPLE_TOKEN },
          },
          withoutToken: { summary: 'Without the token', value: { transactionNumber: EXAMPLE_NUMBER } },
        },
      },
      ok: jsonResponse(
        'Closed without delivery.',
        razerCancelled,
        {
          cancelled: {
            summary: 'Cancelled now',
            value: { transactionNumber: EXAMPLE_NUMBER, status: 'CANCELLED' },
          },
          expired: {
            summary: 'Had expired',
            value: { transactionNumber: EXAMPLE_NUMBER, status: 'EXPIRED' },
          },
        },
        signatureHeader,
      ),
      refusals: ['INVALID_DATA', 'ORIGIN_NOT_FOUND', 'INVALID_TRANS_TOKEN', 'NOT_ALLOW_CANCEL'],
    },
  },
  '/account/validate': {
    post: {
      operationId: 'razerValidate',
      summary: 'Check an account before a purchase',
      description: "Runs init's checks without recording anything.",
      body: {
        schema: validateSchema,
        examples: {
          account: {
            summary: 'An account',
            value: {
              sku: 'DIAMOND50',
              accountId: '123456-12',
              customParam: { serverId: 'MY01' },
              userCountryCode: 'MY',
            },
          },
        },
      },
      ok: jsonResponse(
        'The purchase would be accepted now.',
        razerValid,
        {
          valid: { summary: 'Valid', value: { valid: true, sku: 'DIAMOND50', accountId: '123456-12' } },
        },
        signatureHeader,
      ),
      refusals: INIT_CHECKS,
    },
  },
});

function healthOperation(): Operation {
  return {
    operationId: 'razerHealth',
    summary: 'Whether the gateway can serve Razer',
    description:
      'The database takes writes. No signature needed; the answer is signed when a valid one was sent.',
    tags: ['razer'],
    // Either way: without a signature, or with one (then the answer is signed).
    security: [{}, { [RAZER_SECURITY]: [] }],
    responses: {
      '200': textResponse(
        'Can serve.',
        plainText,
        { ok: { summary: 'Healthy', value: 'OK' } },
        'text/plain',
        signatureHeader,
      ),
      '500': textResponse(
        'The database does not take writes.',
        plainText,
        { down: { summary: 'Database not writable', value: 'database not writable' } },
        'text/plain',
        signatureHeader,
      ),
    },
  };
}

/** The signature scheme, its description with a worked example computed by the gateway's own code. */
function signatureScheme() {
  const credential = { apiId: 'publisherA', key: 'example-api-key' };
  const uri = '/transaction/topup';
  const body = JSON.stringify({ transactionNumber: 'T1', transactionToken: 'tok' });
  const answer = JSON.stringify({ transactionNumber: 'T1', status: 'PENDING' });
  return {
    type: 'apiKey' as const,
    in: 'header' as const,
    name: 'X-Razer-Signature',
    description: [
      '`X-Razer-Signature: base64(api-id):base64(hex-signature)`, split on the first `:`. The api-id selects the key (during a key rotation, old and new keys both verify). Base64 is applied to the 64-character lowercase **hex text**, not to the raw digest.',
      '',
      '`hex-signature = hex(HMAC-SHA256(key = api-key, message = SIGNED))`, where SIGNED is the upper-case verb, the relative URI with its query exactly as sent (starting with `/`) and the raw body bytes, concatenated without separators (no body for GET). With `RAZER_SIGNED_CONTENT=uri` the body is left out of SIGNED.',
      '',
      '**Every answer is signed too**, in the same format with the same api-id and key, over the verb and URI of the request it answers and the response body: `hex(HMAC-SHA256(key, VERB + URI + RESPONSE_BODY))`. Only answers to requests whose signature verified are signed: a 401, a 404, a body refused for its size (answered before verifying) carry no signature, since a signature over text the sender chose would be a signing oracle. /health is signed only when a valid signature for its own method was sent.',
      '',
      'A missing, malformed, unknown or wrong signature is answered 401 UNAUTHORIZED and nothing is read, recorded or changed: the body is parsed only after its raw bytes were verified.',
      '',
      `Example: api-id \`${credential.apiId}\`, key \`${credential.key}\`, \`POST ${uri}\` with body \`${body}\` is signed \`${signRequest(credential, 'body', 'POST', uri, body)}\`; the answer \`${answer}\` to it is signed \`${signResponse(credential.apiId, credential.key, 'POST', uri, answer)}\`.`,
    ].join('\n'),
  };
}

export function razerPaths(): PathsPart {
  const paths: PathsPart['paths'] = {};
  for (const [path, methods] of Object.entries(endpoints())) {
    paths[path] = Object.fromEntries(
      Object.entries(methods).map(([method, endpoint]) => [method, operation(endpoint)]),
    );
  }
  paths['/health'] = { get: healthOperation() };
  return {
    paths,
    responses: razerErrors(),
    headers: {
      XRazerSignature: {
        description:
          "The answer's signature: `base64(api-id):base64(hex(HMAC-SHA256(key, VERB + URI + RESPONSE_BODY)))` (see the razerSignature scheme). Present only when the request's signature verified.",
        schema: { type: 'string' },
      },
    },
    securitySchemes: { [RAZER_SECURITY]: signatureScheme() },
  };
}
