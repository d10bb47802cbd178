import fc from 'fast-check';
import { signatureHeader } from '../../../src/razer/signature.js';
import { MAX_BODY_BYTES, requestSignedContent } from '../../../src/readings/razer.js';
import {
  anyPath,
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
  type Ref,
  Resolver,
  ref,
  text,
  type ValuePlan,
} from '../arbitraries.js';
import { CREDENTIALS, type Fixtures } from '../harness.js';
import type { RawRequest } from '../http.js';

export const RAZER_ENDPOINTS = [
  'init',
  'topup',
  'cancel',
  'validate',
  'query',
  'health',
  'elsewhere',
] as const;
export type RazerEndpoint = (typeof RAZER_ENDPOINTS)[number];

const PATHS: Record<Exclude<RazerEndpoint, 'query' | 'elsewhere'>, string> = {
  init: '/transaction/init',
  topup: '/transaction/topup',
  cancel: '/transaction/cancel',
  validate: '/account/validate',
  health: '/health',
};

/** Signatures that verify: with the current key, the previous one (rotation), in upper-case hex, padded. */
export const VALID_SIGNATURES = ['current', 'previous', 'upper-hex', 'padded'] as const;
/** Everything else: none, another key or api-id, over other bytes, path or verb, malformed, repeated. */
export const INVALID_SIGNATURES = [
  'none',
  'wrong-key',
  'unknown-api-id',
  'other-body',
  'other-path',
  'other-method',
  'uri-only',
  'garbage',
  'known-id-garbage',
  'repeated',
  'truncated',
  'empty',
] as const;
export type SignatureKind = (typeof VALID_SIGNATURES)[number] | (typeof INVALID_SIGNATURES)[number];

export interface RazerPlan {
  endpoint: RazerEndpoint;
  method: string;
  /** The path: the endpoint's own (a query's number from `number`) or a variant of it. */
  path: { kind: 'own' } | { kind: 'variant'; variant: string } | { kind: 'any'; path: string };
  number: ValuePlan;
  query: string;
  body: Encoded;
  contentType: string | null;
  signature: SignatureKind;
  /** The other key, api-id or bytes a wrong signature uses. */
  other: string;
  headers: [string, string][];
  chunked: boolean;
  peer: string;
}

const number = fc.oneof(
  { weight: 6, arbitrary: ref('number') },
  { weight: 3, arbitrary: fc.nat({ max: 2000 }).map((k): ValuePlan => ({ json: `FZN-${k}` })) },
  { weight: 1, arbitrary: text(fc.string({ maxLength: 70, unit: 'binary-ascii' })) },
  { weight: 1, arbitrary: text(fc.constantFrom('', 'a/b', 'a?b', 'a#b', 'a%b', 'é', 'x'.repeat(65), ' ')) },
);
const token = fc.oneof(
  { weight: 6, arbitrary: ref('ownToken') },
  { weight: 2, arbitrary: ref('token') },
  { weight: 1, arbitrary: text(fc.string({ maxLength: 300 })) },
);
const sku = fc.oneof(
  { weight: 8, arbitrary: text(fc.constantFrom('DIAMOND50', 'STEAMV50', 'GENSHIN60')) },
  { weight: 1, arbitrary: text(fc.constantFrom('diamond50', 'NOPE', '', 'DIAMOND50 ', 'x'.repeat(65))) },
);
const accountId = fc.oneof(
  {
    weight: 6,
    arbitrary: text(
      fc.tuple(fc.stringMatching(/^\d{1,20}$/), fc.stringMatching(/^\d{1,8}$/)).map(([u, z]) => `${u}-${z}`),
    ),
  },
  {
    weight: 3,
    arbitrary: text(fc.constantFrom('123456-12', '812345678', '8123456789', 'evil-123456-x', '123456-12\n')),
  },
  { weight: 1, arbitrary: text(fc.string({ maxLength: 130 })) },
);
const customParam = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .constantFrom('Asia', 'America', 'Europe', 'TW_HK_MO', 'MY01', 'asia', '')
      .map((s): ValuePlan => ({ object: [['serverId', { json: s }]] })),
  },
  {
    weight: 1,
    arbitrary: fc
      .array(
        fc.tuple(
          fc.oneof(
            fc.constantFrom('__proto__', 'constructor', 'serverId', 'toString'),
            fc.string({ maxLength: 70 }),
          ),
          fc.oneof(text(fc.string({ maxLength: 260 })), {
            weight: 1,
            arbitrary: fc.jsonValue({ maxDepth: 1 }).map((json): ValuePlan => ({ json })),
          }),
        ),
        { maxLength: 40 },
      )
      .map((object): ValuePlan => ({ object })),
  },
);
const country = fc.oneof(
  { weight: 6, arbitrary: text(fc.constantFrom('MY', 'ID', 'SG')) },
  { weight: 2, arbitrary: text(fc.constantFrom('US', 'my', '', 'MYS', 'XXXXXXXXX')) },
);
const anyText = (max: number) => text(fc.string({ maxLength: max }));

type Fields = Record<string, fc.Arbitrary<ValuePlan | null>>;

/** Each endpoint's body fields; `strict`: always well formed (the requests that get far). */
function fieldsOf(endpoint: RazerEndpoint, strict: boolean): Fields {
  const f = (valid: fc.Arbitrary<ValuePlan>) => (strict ? valid : field(valid));
  switch (endpoint) {
    case 'init':
      return {
        transactionNumber: f(number),
        sku: f(sku),
        razerId: f(anyText(20)),
        accountId: f(accountId),
        userIpAddress: f(text(fc.ipV4())),
        userCountryCode: f(country),
        customParam: oneIn(2, customParam),
      };
    case 'topup':
      return { transactionNumber: f(number), transactionToken: f(token) };
    case 'cancel':
      return { transactionNumber: f(number), transactionToken: oneIn(3, token) };
    case 'validate':
      return {
        sku: f(sku),
        accountId: f(accountId),
        customParam: oneIn(2, customParam),
        userCountryCode: fc.option(country, { freq: 4 }),
      };
    case 'elsewhere':
      return { transactionNumber: f(number) };
    default:
      return {};
  }
}

const OWN_METHOD: Record<RazerEndpoint, string> = {
  init: 'POST',
  topup: 'POST',
  cancel: 'POST',
  validate: 'POST',
  query: 'GET',
  health: 'GET',
  elsewhere: 'POST',
};

const VARIANTS = [
  '{p}/',
  '/{p}',
  '{P}',
  '{p}/.',
  '/x/..{p}',
  '{p}%00',
  '{p};x',
  '{p}#f',
  '{p}/extra',
  '{p}//',
];

/** A request as Razer would send it (`strict`), or with anything about it off. */
function planOf(endpoint: RazerEndpoint, signatures: readonly SignatureKind[], strict: boolean) {
  const own = OWN_METHOD[endpoint];
  const fields = entries(fieldsOf(endpoint, strict));
  const loosePath = fc.oneof(
    { weight: 12, arbitrary: fc.constant<RazerPlan['path']>({ kind: 'own' }) },
    {
      weight: 2,
      arbitrary: fc
        .constantFrom(...VARIANTS)
        .map((variant): RazerPlan['path'] => ({ kind: 'variant', variant })),
    },
  );
  return fc.record<RazerPlan>({
    endpoint: fc.constant(endpoint),
    method: strict
      ? fc.constant(own)
      : fc.oneof({ weight: 12, arbitrary: fc.constant(own) }, { weight: 1, arbitrary: method }),
    path:
      endpoint === 'elsewhere'
        ? anyPath.map((path): RazerPlan['path'] => ({ kind: 'any', path }))
        : strict
          ? fc.constant({ kind: 'own' })
          : loosePath,
    number,
    query: strict ? fc.constant('') : query,
    body: strict
      ? fields.map(
          (e): Encoded => ({
            body: { kind: 'object', entries: e },
            bom: false,
            encoding: 'utf8',
            trailer: '',
          }),
        )
      : body(fields, MAX_BODY_BYTES),
    contentType: strict ? fc.constant('application/json') : contentType('application/json'),
    signature: fc.constantFrom(...signatures),
    other: fc.string({ minLength: 1, maxLength: 40 }),
    headers: strict ? fc.constant([]) : extraHeaders,
    chunked: fc.boolean(),
    peer,
  });
}

export function razerPlan(signatures: readonly SignatureKind[]): fc.Arbitrary<RazerPlan> {
  return fc
    .constantFrom(...RAZER_ENDPOINTS)
    .chain((endpoint) =>
      fc.oneof(
        { weight: 1, arbitrary: planOf(endpoint, signatures, true) },
        { weight: 2, arbitrary: planOf(endpoint, signatures, false) },
      ),
    );
}

/** What the oracle needs to know of a built request. */
export interface BuiltRazer {
  request: RawRequest;
  /** The named transaction number (topup, cancel, query), when the body or path gives one. */
  transactionNumber: string | null;
  /** The key the signature verifies with, or null when it does not. */
  key: string | null;
  bodyBytes: number;
}

const numberSegment = (n: string) => encodeURIComponent(n);

export function buildRazer(plan: RazerPlan, fx: Fixtures): BuiltRazer {
  const resolver = new Resolver(fx);
  const own =
    plan.endpoint === 'query'
      ? `/transaction/${numberSegment(resolveNumber(plan.number, resolver))}`
      : plan.endpoint === 'elsewhere'
        ? '/transaction/other'
        : PATHS[plan.endpoint];
  const path =
    plan.path.kind === 'own'
      ? own
      : plan.path.kind === 'variant'
        ? plan.path.variant.replace('{p}', own).replace('{P}', own.toUpperCase())
        : plan.path.path;
  const target = path + plan.query;
  const carries = plan.method !== 'GET' && plan.method !== 'HEAD';
  const bytes = carries ? bodyBytes(plan.body, resolver) : Buffer.alloc(0);
  const named = plan.endpoint === 'query' ? resolver.number : bodyNumber(bytes);
  const { headers, key } = signature(plan, plan.method, target, bytes);
  if (plan.contentType !== null) headers.push(['content-type', plan.contentType]);
  return {
    request: {
      method: plan.method,
      target,
      headers: [...headers, ...plan.headers],
      body: carries ? bytes : null,
      chunked: plan.chunked,
      remoteAddress: plan.peer,
    },
    transactionNumber: named,
    key,
    bodyBytes: bytes.length,
  };
}

function resolveNumber(v: ValuePlan, resolver: Resolver): string {
  if ('ref' in v) return resolver.resolve(v as Ref);
  if ('json' in v && typeof v.json === 'string') return v.json;
  return resolver.value(v);
}

function bodyNumber(bytes: Buffer): string | null {
  try {
    const n = (JSON.parse(bytes.toString('utf8')) as { transactionNumber?: unknown })?.transactionNumber;
    return typeof n === 'string' ? n : null;
  } catch {
    return null;
  }
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

/** The X-Razer-Signature header(s) of a plan, and the key that makes them verify. */
function signature(
  plan: RazerPlan,
  method: string,
  target: string,
  bytes: Buffer,
): { headers: [string, string][]; key: string | null } {
  const { apiId, key, previousKey } = CREDENTIALS;
  const sign = (k: string, m = method, t = target, b: Buffer = bytes, id: string = apiId) =>
    signatureHeader(id, k, requestSignedContent('body', m, t, b));
  const one = (value: string, verifiesWith: string | null = null) => ({
    headers: [['x-razer-signature', value]] as [string, string][],
    key: verifiesWith,
  });
  const valid = sign(key);
  switch (plan.signature) {
    case 'current':
      return one(valid, key);
    case 'previous':
      return one(sign(previousKey), previousKey);
    case 'upper-hex': {
      const [id = '', sig = ''] = valid.split(':');
      return one(`${id}:${b64(Buffer.from(sig, 'base64').toString('utf8').toUpperCase())}`, key);
    }
    case 'padded':
      return one(` ${valid.replace(':', ' : ')} `, key);
    case 'none':
      return { headers: [], key: null };
    case 'wrong-key':
      return one(sign(key === plan.other ? `${plan.other}x` : plan.other));
    case 'unknown-api-id':
      return one(sign(key, method, target, bytes, apiId === plan.other ? `${plan.other}x` : plan.other));
    case 'other-body':
      return one(sign(key, method, target, Buffer.concat([bytes, Buffer.from(plan.other)])));
    case 'other-path':
      return one(
        sign(key, method, `${target}${target.includes('?') ? '&' : '?'}${encodeURIComponent(plan.other)}`),
      );
    case 'other-method':
      return one(sign(key, method === 'GET' ? 'POST' : 'GET'));
    case 'uri-only':
      // The documented formula without the body: refused in `body` mode unless the body is empty.
      return one(
        signatureHeader(apiId, key, requestSignedContent('uri', method, target, bytes)),
        bytes.length === 0 ? key : null,
      );
    case 'garbage':
      return one(plan.other);
    case 'known-id-garbage':
      return one(`${b64(apiId)}:${b64(plan.other)}`);
    case 'repeated':
      return {
        headers: [
          ['x-razer-signature', valid],
          ['x-razer-signature', valid],
        ],
        key: null,
      };
    case 'truncated':
      return one(valid.slice(0, -4));
    case 'empty':
      return one('');
  }
}
