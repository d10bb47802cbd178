import fc from 'fast-check';
import { MAX_ADMIN_BODY } from '../../../src/admin/routes.js';
import { TRANSACTION_STATES } from '../../../src/db/vocabulary.js';
import {
  body,
  bodyBytes,
  contentType,
  type Encoded,
  entries,
  extraHeaders,
  field,
  headerValue,
  method,
  oneIn,
  pathVariant,
  peer,
  query,
  type Ref,
  Resolver,
  ref,
  segment,
  text,
  type ValuePlan,
} from '../arbitraries.js';
import { CREDENTIALS, type Fixtures } from '../harness.js';
import type { RawRequest } from '../http.js';

/** The Authorization header: right, or wrong as a stranger or a typo would have it. */
export const AUTH_FORMS = [
  'right',
  'right-lower-scheme',
  'none',
  'wrong',
  'prefix',
  'basic',
  'two-spaces',
  'repeated',
  'no-scheme',
] as const;
export type AuthForm = (typeof AUTH_FORMS)[number];

export function authorization(form: AuthForm, other: string): [string, string][] {
  const t = CREDENTIALS.adminToken;
  const h = (v: string): [string, string][] => [['authorization', v]];
  switch (form) {
    case 'right':
      return h(`Bearer ${t}`);
    case 'right-lower-scheme':
      return h(`bearer ${t}`);
    case 'none':
      return [];
    case 'wrong':
      return h(`Bearer ${other === t ? `${t}x` : other}`);
    case 'prefix':
      return h(`Bearer ${t.slice(0, -1)}`);
    case 'basic':
      return h(`Basic ${Buffer.from(`admin:${t}`).toString('base64')}`);
    case 'two-spaces':
      return h(`Bearer  ${t}`);
    case 'repeated':
      return [...h(`Bearer ${t}`), ...h(`Bearer ${t}`)];
    case 'no-scheme':
      return h(t);
  }
}

const ROUTES = [
  { method: 'GET', path: '/admin/transactions' },
  { method: 'GET', path: '/admin/transactions/{n}' },
  { method: 'POST', path: '/admin/transactions/{n}/recheck' },
  { method: 'POST', path: '/admin/transactions/{n}/resolve' },
  { method: 'POST', path: '/admin/transactions/{n}/acknowledge' },
  { method: 'GET', path: '/admin/webhooks' },
  { method: 'POST', path: '/admin/webhooks/{id}/replay' },
  { method: 'GET', path: '/admin/supplier' },
  { method: 'POST', path: '/admin/supplier/catalogue' },
  { method: 'GET', path: '/admin' },
] as const;

export interface AdminPlan {
  route: number;
  method: string;
  path: string;
  number: ValuePlan;
  webhookId: string;
  query: [string, string][];
  rawQuery: string;
  body: Encoded;
  contentType: string | null;
  auth: AuthForm;
  other: string;
  operator: string | null;
  headers: [string, string][];
  chunked: boolean;
  peer: string;
}

const STATES = TRANSACTION_STATES;
const filterValue = fc.oneof(
  fc.constantFrom(
    ...STATES,
    'PROCESSING,SUCCESS',
    'true',
    'false',
    '1',
    '200',
    '201',
    '0',
    '-1',
    '2026-11-22',
    '2026-11-22T10:00:00Z',
    '1750000000000',
    'DIAMOND50',
    'RG-x',
    '',
  ),
  fc.string({ maxLength: 20 }),
);
const filterName = fc.oneof(
  fc.constantFrom(
    'state',
    'attention',
    'sku',
    'since',
    'until',
    'q',
    'limit',
    'cursor',
    'processed',
    'kind',
    'transaction',
  ),
  fc.constantFrom('__proto__', 'constructor', 'State', 'limit[]'),
  fc.string({ maxLength: 8 }),
);

const resolution = entries({
  outcome: field(
    fc.oneof(
      { weight: 6, arbitrary: text(fc.constantFrom('delivered', 'failed')) },
      { weight: 1, arbitrary: text(fc.constantFrom('DELIVERED', '', 'refunded')) },
    ),
  ),
  reason: field(
    fc.oneof(
      { weight: 6, arbitrary: text(fc.constant('fuzz: checked with VCGamers')) },
      { weight: 2, arbitrary: text(fc.constantFrom('ok', '   ', 'x'.repeat(501))) },
      { weight: 2, arbitrary: text(fc.string({ maxLength: 40 })) },
    ),
  ),
  voucherCode: fc.option(
    text(
      fc.oneof(
        fc.constantFrom('CODE-1', 'a\u200bb', 'a\u0007b', '\ue000', 'x'.repeat(501)),
        fc.string({ maxLength: 20 }),
      ),
    ),
    { freq: 2 },
  ),
  trxCode: fc.option(fc.oneof(ref('trx'), text(fc.string({ maxLength: 20 }))), { freq: 2 }),
  seenState: fc.option(text(fc.constantFrom(...STATES, 'nope')), { freq: 2 }),
  seenFlag: oneIn(4, text(fc.string({ maxLength: 40 }))),
});
const catalogueItems = entries({
  items: field(
    fc
      .array(
        entries({
          brand: field(text(fc.constantFrom('MLBB', 'STEAM', 'GENSHIN', 'NOPE'))),
          variation: field(text(fc.constantFrom('MLBB112', 'STEAMV50', 'GI60', 'X'))),
        }),
        { maxLength: 4 },
      )
      .map(
        (items): ValuePlan => ({
          json: items.map((e) =>
            Object.fromEntries(e.map(([k, v]) => [k, 'json' in v ? v.json : null])),
          ) as fc.JsonValue,
        }),
      ),
  ),
});

export function adminPlan(): fc.Arbitrary<AdminPlan> {
  return fc.nat({ max: ROUTES.length - 1 }).chain((route) => {
    const r = ROUTES[route] ?? ROUTES[0];
    return fc.record({
      route: fc.constant(route),
      method: fc.oneof(
        { weight: 10, arbitrary: fc.constant<string>(r.method) },
        { weight: 1, arbitrary: method },
      ),
      path: fc.oneof(
        { weight: 10, arbitrary: pathVariant(r.path) },
        { weight: 1, arbitrary: fc.array(segment, { maxLength: 3 }).map((s) => `/admin/${s.join('/')}`) },
      ),
      number: fc.oneof(
        { weight: 6, arbitrary: ref('number') },
        {
          weight: 1,
          arbitrary: text(
            fc.oneof(
              fc.constantFrom('NOPE', '', 'a%2Fb', '..', 'x'.repeat(65)),
              fc.string({ maxLength: 10 }),
            ),
          ),
        },
      ),
      webhookId: fc.oneof(
        fc.nat({ max: 50 }).map(String),
        fc.constantFrom('0', '-1', '1.5', '1e3', '99999999999999999999', 'x'),
      ),
      query: fc.oneof(
        { weight: 3, arbitrary: fc.constant([] as [string, string][]) },
        { weight: 2, arbitrary: fc.array(fc.tuple(filterName, filterValue), { maxLength: 4 }) },
      ),
      rawQuery: query,
      body: body(route === 8 ? catalogueItems : resolution, MAX_ADMIN_BODY),
      contentType: contentType('application/json'),
      auth: fc.oneof(
        { weight: 6, arbitrary: fc.constant<AuthForm>('right') },
        { weight: 4, arbitrary: fc.constantFrom(...AUTH_FORMS) },
      ),
      other: headerValue(1, 40),
      operator: oneIn(
        3,
        fc.oneof(
          { weight: 3, arbitrary: fc.constantFrom('alice', 'Ops Team', 'ops@example.com') },
          { weight: 1, arbitrary: fc.oneof(fc.constantFrom('a'.repeat(65), 'é', ''), headerValue(0, 20)) },
        ),
      ),
      headers: extraHeaders,
      chunked: fc.boolean(),
      peer,
    });
  });
}

export interface BuiltAdmin {
  request: RawRequest;
  route: (typeof ROUTES)[number] | null;
  bodyBytes: number;
}

export function buildAdmin(plan: AdminPlan, fx: Fixtures): BuiltAdmin {
  const resolver = new Resolver(fx);
  const n =
    'ref' in plan.number
      ? resolver.resolve(plan.number as Ref)
      : 'json' in plan.number
        ? String(plan.number.json)
        : '';
  const path = plan.path.replace('{n}', encodeURIComponent(n)).replace('{id}', plan.webhookId);
  const params = plan.query.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
  const target = `${path}${params ? `?${params}` : plan.rawQuery}`;
  const carries = plan.method !== 'GET' && plan.method !== 'HEAD';
  const bytes = carries ? bodyBytes(plan.body, resolver) : Buffer.alloc(0);
  const headers: [string, string][] = [...authorization(plan.auth, plan.other)];
  if (plan.contentType !== null) headers.push(['content-type', plan.contentType]);
  if (plan.operator !== null) headers.push(['x-operator', plan.operator]);
  return {
    request: {
      method: plan.method,
      target,
      headers: [...headers, ...plan.headers.filter(([name]) => name.toLowerCase() !== 'authorization')],
      body: carries ? bytes : null,
      chunked: plan.chunked,
      remoteAddress: plan.peer,
    },
    route: ROUTES[plan.route] ?? null,
    bodyBytes: bytes.length,
  };
}
