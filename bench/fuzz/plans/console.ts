import fc from 'fast-check';
import {
  csrfToken,
  issueSession,
  readSession,
  SESSION_TTL_MS,
  sessionKey,
} from '../../../src/console/session.js';
import {
  contentType,
  extraHeaders,
  headerValue,
  method,
  oneIn,
  pathVariant,
  query,
  type Ref,
  Resolver,
  ref,
  segment,
} from '../arbitraries.js';
import { CREDENTIALS, type Fixtures } from '../harness.js';
import type { RawRequest } from '../http.js';

/** The session cookie: a fresh valid one, or one a stranger could hold. */
export const SESSION_FORMS = ['valid', 'none', 'expired', 'forged', 'tampered', 'garbage'] as const;
/** The form token: the session's, another's, none, or twice. */
export const CSRF_FORMS = ['right', 'wrong', 'missing', 'twice', 'other-session'] as const;
/** Where the browser says the form came from. */
export const SITE_FORMS = [
  'unsaid',
  'same-origin',
  'cross-site',
  'same-site',
  'origin-same',
  'origin-other',
  'origin-null',
  'origin-garbage',
] as const;

const ROUTES = [
  { method: 'GET', path: '/console' },
  { method: 'GET', path: '/console/sign-in' },
  { method: 'POST', path: '/console/sign-in' },
  { method: 'POST', path: '/console/sign-out' },
  { method: 'GET', path: '/console/transactions' },
  { method: 'GET', path: '/console/transactions/{n}' },
  { method: 'POST', path: '/console/transactions/{n}/recheck' },
  { method: 'POST', path: '/console/transactions/{n}/resolve' },
  { method: 'POST', path: '/console/transactions/{n}/acknowledge' },
  { method: 'POST', path: '/console/webhooks/{id}/replay' },
  { method: 'GET', path: '/console/supplier' },
] as const;

/** What changes state: an action confirmed (`confirm=yes`). */
export const ACTION_ROUTES = new Set([6, 7, 8, 9]);

export interface ConsolePlan {
  route: number;
  method: string;
  path: string;
  number: Ref | string;
  webhookId: string;
  query: string;
  session: (typeof SESSION_FORMS)[number];
  csrf: (typeof CSRF_FORMS)[number];
  site: (typeof SITE_FORMS)[number];
  fields: [string, string][];
  /** Pads the form to about this many bytes (the console takes 16 KiB). */
  padTo: number | null;
  contentType: string | null;
  headers: [string, string][];
  other: string;
}

const formValue = fc.oneof(
  fc.constantFrom(
    'yes',
    'no',
    'delivered',
    'failed',
    'fuzz: checked with VCGamers',
    'PROCESSING',
    'SUCCESS',
    'CODE-1',
    '',
    ' ',
    'a\u200bb',
  ),
  fc.string({ maxLength: 30 }),
);
const formName = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom(
      'confirm',
      'outcome',
      'reason',
      'voucherCode',
      'trxCode',
      'seenState',
      'seenFlag',
      'token',
      'actor',
    ),
  },
  { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'csrf', 'confirm[]') },
  { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
);

export function consolePlan(): fc.Arbitrary<ConsolePlan> {
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
        { weight: 1, arbitrary: fc.array(segment, { maxLength: 3 }).map((s) => `/console/${s.join('/')}`) },
      ),
      number: fc.oneof(
        { weight: 6, arbitrary: ref('number') },
        { weight: 1, arbitrary: fc.string({ maxLength: 10 }) },
      ),
      webhookId: fc.oneof(fc.nat({ max: 50 }).map(String), fc.constantFrom('0', '-1', 'x', '1e3')),
      query,
      session: fc.oneof(
        { weight: 6, arbitrary: fc.constant('valid' as const) },
        { weight: 4, arbitrary: fc.constantFrom(...SESSION_FORMS) },
      ),
      csrf: fc.oneof(
        { weight: 6, arbitrary: fc.constant('right' as const) },
        { weight: 3, arbitrary: fc.constantFrom(...CSRF_FORMS) },
      ),
      site: fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom('unsaid' as const, 'same-origin' as const) },
        { weight: 3, arbitrary: fc.constantFrom(...SITE_FORMS) },
      ),
      fields: fc.oneof(
        // An action's whole form, confirmed or not, with something else now and then.
        fc
          .tuple(
            fc.constantFrom<[string, string][]>(
              [
                ['outcome', 'failed'],
                ['reason', 'fuzz: checked with VCGamers'],
              ],
              [
                ['outcome', 'delivered'],
                ['reason', 'fuzz: checked with VCGamers'],
                ['voucherCode', 'CODE-1'],
              ],
              [['reason', 'fuzz: flag dealt with']],
              [
                ['token', CREDENTIALS.adminToken],
                ['actor', 'fuzzer'],
              ],
              [],
            ),
            fc.constantFrom<[string, string][]>([['confirm', 'yes']], [], [['confirm', 'no']]),
            fc.array(fc.tuple(formName, formValue), { maxLength: 2 }),
          )
          .map(([action, confirm, extra]) => [...action, ...confirm, ...extra]),
        fc.array(fc.tuple(formName, formValue), { maxLength: 6 }),
      ),
      padTo: oneIn(
        8,
        fc.oneof(
          fc.integer({ min: 16 * 1024 - 2, max: 16 * 1024 + 2 }),
          fc.constantFrom(32 * 1024, 200 * 1024),
        ),
      ),
      contentType: contentType('application/x-www-form-urlencoded'),
      headers: extraHeaders,
      other: headerValue(1, 30),
    });
  });
}

export interface BuiltConsole {
  request: RawRequest;
  /** A signed-in operator's own form: session, form token, same origin, a form body. */
  operatorsForm: boolean;
  route: number;
  bodyBytes: number;
}

export function buildConsole(plan: ConsolePlan, fx: Fixtures): BuiltConsole {
  const resolver = new Resolver(fx);
  const key = sessionKey(CREDENTIALS.adminToken);
  const now = Date.now();
  const cookie = (() => {
    switch (plan.session) {
      case 'valid':
        return issueSession(key, 'fuzzer', now);
      case 'none':
        return null;
      case 'expired':
        return issueSession(key, 'fuzzer', now - SESSION_TTL_MS - 1000);
      case 'forged':
        return issueSession(sessionKey(`${CREDENTIALS.adminToken}x`), 'fuzzer', now);
      case 'tampered':
        return issueSession(key, 'fuzzer', now).replace(/\.([^.]*)\.([^.]*)$/, '.$1x.$2');
      case 'garbage':
        return plan.other;
    }
  })();
  const session = cookie === null ? null : readSession(key, cookie, now);
  const right = session ? csrfToken(key, session) : 'no-session';
  const otherSession = readSession(key, issueSession(key, 'other', now), now);
  const csrf: string[] = (() => {
    switch (plan.csrf) {
      case 'right':
        return [right];
      case 'wrong':
        return [`${right}x`];
      case 'missing':
        return [];
      case 'twice':
        return [right, right];
      case 'other-session':
        return otherSession ? [csrfToken(key, otherSession)] : [];
    }
  })();
  const n = typeof plan.number === 'string' ? plan.number : resolver.resolve(plan.number);
  const path = plan.path.replace('{n}', encodeURIComponent(n)).replace('{id}', plan.webhookId);
  const fields: [string, string][] = [...plan.fields, ...csrf.map((c): [string, string] => ['csrf', c])];
  let form = new URLSearchParams(fields).toString();
  if (plan.padTo !== null && form.length < plan.padTo)
    form += `&pad=${'p'.repeat(plan.padTo - form.length - 5)}`;
  const carries = plan.method !== 'GET' && plan.method !== 'HEAD';
  const bytes = carries ? Buffer.from(form) : Buffer.alloc(0);
  const headers: [string, string][] = [];
  if (cookie !== null) headers.push(['cookie', `gateway_console=${cookie}`]);
  if (plan.contentType !== null) headers.push(['content-type', plan.contentType]);
  const site: Record<(typeof SITE_FORMS)[number], [string, string] | null> = {
    unsaid: null,
    'same-origin': ['sec-fetch-site', 'same-origin'],
    'cross-site': ['sec-fetch-site', 'cross-site'],
    'same-site': ['sec-fetch-site', 'same-site'],
    'origin-same': ['origin', 'http://gateway.fuzz'],
    'origin-other': ['origin', 'https://evil.example'],
    'origin-null': ['origin', 'null'],
    'origin-garbage': ['origin', plan.other],
  };
  const siteHeader = site[plan.site];
  if (siteHeader) headers.push(siteHeader);
  const sameOrigin = ['unsaid', 'same-origin', 'origin-same'].includes(plan.site);
  const formType = /^application\/x-www-form-urlencoded\s*(;|$)/i.test(plan.contentType ?? '');
  return {
    request: {
      method: plan.method,
      target: `${path}${plan.query}`,
      headers: [
        ...headers,
        ...plan.headers.filter(
          ([name]) =>
            !['cookie', 'origin', 'sec-fetch-site', 'host', 'x-forwarded-host'].includes(name.toLowerCase()),
        ),
      ],
      body: carries ? bytes : null,
      chunked: false,
      remoteAddress: '10.0.0.5',
    },
    operatorsForm:
      session !== null &&
      (plan.csrf === 'right' || plan.csrf === 'twice') &&
      sameOrigin &&
      formType &&
      plan.method === 'POST',
    route: plan.route,
    bodyBytes: bytes.length,
  };
}
