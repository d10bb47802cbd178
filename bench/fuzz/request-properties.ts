import fc from 'fast-check';
import { MAX_ADMIN_BODY } from '../../src/admin/routes.js';
import type { TransactionRow } from '../../src/db/types.js';
import { isTerminal } from '../../src/fulfilment/states.js';
import { type EndpointName, endpointOf } from '../../src/http/request-log.js';
import { MAX_WEBHOOK_BYTES } from '../../src/mitra/webhook-route.js';
import { docsAsset } from '../../src/openapi/docs.js';
import { hasDotSegment } from '../../src/razer/routes.js';
import { MAX_BODY_BYTES } from '../../src/readings/razer.js';
import { CREDENTIALS, type FuzzGateway } from './harness.js';
import { type RawRequest, type RawResponse, refusedBeforeApp } from './http.js';
import {
  AnswerLedger,
  bearerAuthorised,
  changed,
  missingReason,
  parseObject,
  REFUSAL_CODES,
  serverError,
  unsigned,
  webhookSource,
} from './oracles.js';
import { adminPlan, buildAdmin } from './plans/admin.js';
import { ACTION_ROUTES, buildConsole, consolePlan } from './plans/console.js';
import { buildOperations, operationsPlan } from './plans/operations.js';
import { buildRazer, INVALID_SIGNATURES, razerPlan, VALID_SIGNATURES } from './plans/razer.js';
import { buildWebhook, webhookPlan } from './plans/webhook.js';
import { first, type Property, requestProperty, tagged } from './runner.js';

// The gateway's HTTP surface, one property per door: what each must answer, what it must not change.

/** The path as the router sees it (percent-decoding aside). */
const pathOf = (target: string): string => new URL(`http://gateway.fuzz${target}`).pathname;

const carries = (req: RawRequest) => req.method !== 'GET' && req.method !== 'HEAD';

// ------------------------------------------------------------------------------------ Razer

/** Razer's endpoints without a valid signature: 401 (or 404, or 400 past the size limit), nothing recorded. */
export const razerUnauthenticated: Property = requestProperty(
  'razer-unauthenticated',
  razerPlan(INVALID_SIGNATURES),
  (p, h) => buildRazer(p, h.fx),
  ({ built, res, before, after }) => {
    const req = built.request;
    // The documented formula over an empty body signs what `body` mode signs: a valid signature.
    if (built.key !== null) return null;
    const oversize = carries(req) && built.bodyBytes > MAX_BODY_BYTES;
    const dotted = hasDotSegment(req.target);
    return first(
      serverError(res),
      missingReason(req, res),
      changed(before, after, true),
      ![400, 401, 404, 200].includes(res.status) && `answered ${res.status} to an unauthenticated request`,
      res.status === 200 && pathOf(req.target) !== '/health' && 'answered 200 without a valid signature',
      res.status === 400 &&
        !oversize &&
        !dotted &&
        'answered 400 (not 401) to an unauthenticated body within the limit',
      res.status === 401 &&
        req.method !== 'HEAD' &&
        parseObject(res.text)?.code !== 'UNAUTHORIZED' &&
        '401 without code UNAUTHORIZED',
      signedUnverified(res),
    );
  },
);

/** An answer to a request that did not verify carries no signature (razer-side §1: no signing oracle). */
const signedUnverified = (res: RawResponse): string | null =>
  res.headers.get('x-razer-signature') === null
    ? null
    : `answer ${res.status} to an unverified request is signed: a signature of text the sender chose`;

/** The paths that verify a signature (the rest answer 404 before verifying). */
const RAZER_DOORS = new Set<EndpointName>(['init', 'topup', 'query', 'cancel', 'validate']);

const ledgers = new WeakMap<FuzzGateway, AnswerLedger>();

/**
 * Invariant 3, answer by answer: 200 only when delivered (a voucher with its code), 400 (about
 * the transaction, not the request) only when certainly not delivered, 408 only while open.
 */
function answerDisagrees(
  status: number,
  body: Record<string, unknown> | null,
  row: TransactionRow | undefined,
): string | null {
  if (!row) return null;
  const code = typeof body?.code === 'string' ? body.code : null;
  const voucher = (body?.voucher as { code?: unknown } | undefined)?.code;
  if (status === 200 && body?.status === 'SUCCESS') {
    if (row.state !== 'SUCCESS') return `answered 200 SUCCESS while ${row.transactionNumber} is ${row.state}`;
    if (row.isVoucher && (typeof voucher !== 'string' || voucher === ''))
      return `answered 200 for voucher ${row.transactionNumber} without its code`;
  }
  if (
    status === 400 &&
    code !== null &&
    !REFUSAL_CODES.has(code) &&
    !['FAILED', 'CANCELLED', 'EXPIRED'].includes(row.state)
  )
    return `answered 400 ${code} while ${row.transactionNumber} is ${row.state}`;
  if (status === 408 && isTerminal(row.state))
    return `answered 408 while ${row.transactionNumber} is ${row.state}`;
  return null;
}

/** Signed requests: never a 5xx, answers signed, refusals change nothing, answers never contradict. */
export const razerSigned: Property = requestProperty(
  'razer-signed',
  razerPlan(VALID_SIGNATURES),
  (p, h) => ({ ...buildRazer(p, h.fx), endpoint: p.endpoint }),
  async ({ h, built, res, before, after }) => {
    const req = built.request;
    const body = parseObject(res.text);
    const code = typeof body?.code === 'string' ? body.code : null;
    const tooLarge = res.status === 400 && /larger than/.test(String(body?.message));
    const oversize = carries(req) && built.bodyBytes > MAX_BODY_BYTES;
    const refused =
      res.status === 404 ||
      res.status === 409 ||
      (res.status === 400 && code !== null && REFUSAL_CODES.has(code)) ||
      (built.endpoint === 'init' && res.status !== 200) ||
      built.endpoint === 'validate' ||
      built.endpoint === 'health';
    // 404s, size refusals and targets with a dot segment are answered before any signature is
    // verified: never signed.
    const dotted = hasDotSegment(req.target);
    const beforeVerifying = res.status === 404 || tooLarge || dotted;
    // A purchase this property started is aimed at by its later top-ups, cancels and queries.
    const started = body?.transactionNumber;
    if (built.endpoint === 'init' && res.status === 200 && typeof started === 'string') {
      if (!h.fx.tokens.has(started)) h.fx.numbers.push(started);
      if (typeof body?.transactionToken === 'string') h.fx.tokens.set(started, body.transactionToken);
    }
    let ledger = ledgers.get(h);
    if (!ledger) {
      ledger = new AnswerLedger();
      ledgers.set(h, ledger);
    }
    const about =
      (built.endpoint === 'topup' || built.endpoint === 'query') &&
      req.method === (built.endpoint === 'query' ? 'GET' : 'POST') &&
      built.transactionNumber !== null &&
      res.status !== 404
        ? built.transactionNumber
        : null;
    return first(
      serverError(res),
      missingReason(req, res),
      ![200, 400, 404, 408, 409].includes(res.status) && `answered ${res.status} to a signed request`,
      beforeVerifying && signedUnverified(res),
      req.method !== 'HEAD' &&
        !beforeVerifying &&
        built.key !== null &&
        unsigned(req, res, { apiId: CREDENTIALS.apiId, key: built.key }),
      tooLarge &&
        !oversize &&
        `refused as too large at ${built.bodyBytes} bytes (the limit is ${MAX_BODY_BYTES})`,
      tooLarge && changed(before, after, true),
      dotted && changed(before, after, true),
      refused && changed(before, after, false),
      about !== null && ledger.observe(about, res.status, body),
      about !== null && answerDisagrees(res.status, body, await h.gw.store.getTransaction(about)),
    );
  },
);

/**
 * An answer sent back as a request (razer-side §1): answers are signed in the request's layout,
 * so an answer's signature is also a request signature for VERB + target + answer text, split
 * anywhere between target and body. An unsigned answer gives nothing to replay (401 or 404,
 * nothing recorded); a signed one (it needs the TLS channel broken to be seen) changes no state.
 */
export const razerReplay: Property = requestProperty(
  'razer-replay',
  fc.record({
    razer: razerPlan([...VALID_SIGNATURES, ...INVALID_SIGNATURES]),
    // Where the answer's text is cut between the target and the body: mostly all in the body.
    split: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.nat({ max: 400 }) }),
  }),
  (p, h) => ({ ...buildRazer(p.razer, h.fx), split: p.split }),
  async ({ h, built, res, after }) => {
    const req = built.request;
    const signature = res.headers.get('x-razer-signature');
    const problem = first(serverError(res), built.key === null && signedUnverified(res));
    if (problem || req.method === 'HEAD' || res.text === '') return problem;
    // GET's body is neither read nor signed: its whole answer goes into the target.
    const cut = carries(req) ? Math.min(built.split, res.text.length) : res.text.length;
    const target = req.target + res.text.slice(0, cut);
    // A target with a space or a byte outside visible ASCII never reaches the app (Node refuses it).
    if (!/^[!-~]+$/.test(target)) return null;
    const replay: RawRequest = {
      method: req.method,
      target,
      headers: [
        ...(signature === null
          ? req.headers.filter(([name]) => name.toLowerCase() === 'x-razer-signature')
          : [['x-razer-signature', signature] as const]),
        ['content-type', 'application/json'],
      ],
      body: carries(req) ? Buffer.from(res.text.slice(cut), 'utf8') : null,
      chunked: false,
      remoteAddress: req.remoteAddress,
    };
    if (refusedBeforeApp(replay) !== null) return null;
    const again = await h.send(replay);
    await h.settle();
    const later = await h.snapshot();
    const endpoint = endpointOf(replay.method, pathOf(target));
    return first(
      serverError(again),
      signature === null &&
        again.status !== 401 &&
        !(again.status === 404 && !RAZER_DOORS.has(endpoint)) &&
        // A target with a dot segment is refused before verification.
        !(again.status === 400 && hasDotSegment(target) && again.headers.get('x-razer-signature') === null) &&
        // /health needs no signature: it answers OK to anyone, unsigned.
        !(endpoint === 'health' && again.headers.get('x-razer-signature') === null) &&
        `an unsigned answer ${res.status} sent back as a request to ${endpoint} was answered ${again.status}, not 401`,
      signature === null && changed(after, later, true),
      signature !== null && changed(after, later, false),
    );
  },
);

// ---------------------------------------------------------------------------------- Webhook

const ALLOWED = new Set(CREDENTIALS.allowedIps.map((ip) => ip.toLowerCase()));

/** Mitra's webhook: the token and the source address decide, before the body; only then 1 MiB. */
export const webhook: Property = requestProperty(
  'webhook',
  webhookPlan(),
  (p, h) => buildWebhook(p, h.fx),
  ({ built, res, before, after }) => {
    const req = built.request;
    const source = webhookSource(req, 1);
    const expected = !built.tokenRight
      ? 404
      : !ALLOWED.has(source)
        ? 403
        : built.bodyBytes > MAX_WEBHOOK_BYTES
          ? 413
          : 200;
    return first(
      serverError(res),
      missingReason(req, res),
      res.status !== expected &&
        `answered ${res.status}, expected ${expected} (token ${built.tokenRight ? 'right' : 'wrong'}, source ${source}, ${built.bodyBytes} bytes)`,
      res.status !== 200 && changed(before, after, true),
      // Stored before it is answered: a 200 is a webhook kept.
      res.status === 200 && after.audit === before.audit && 'answered 200 but stored nothing',
    );
  },
);

// ------------------------------------------------------------------------------------ Admin

/** The listings' parameters: "an unknown parameter is a 400, so a typo never widens a listing". */
const LISTING_PARAMS: Record<string, readonly string[]> = {
  '/admin/transactions': ['state', 'attention', 'sku', 'since', 'until', 'q', 'limit', 'cursor'],
  '/admin/webhooks': ['processed', 'kind', 'transaction', 'since', 'until', 'limit', 'cursor'],
};

/** The admin API: nothing without the bearer token; refusals and reads change nothing; 128 KiB. */
export const admin: Property = requestProperty(
  'admin',
  adminPlan(),
  (p, h) => buildAdmin(p, h.fx),
  ({ built, res, before, after }) => {
    const req = built.request;
    const authorised = bearerAuthorised(req, CREDENTIALS.adminToken);
    const path = pathOf(req.target);
    const underAdmin = path === '/admin' || path.startsWith('/admin/');
    const listing = LISTING_PARAMS[path];
    const unknown =
      listing && req.method === 'GET'
        ? [...new URL(`http://x${req.target}`).searchParams.keys()].find((k) => !listing.includes(k))
        : undefined;
    return first(
      serverError(res),
      missingReason(req, res),
      !authorised && ![401, 404].includes(res.status) && `answered ${res.status} without the admin token`,
      !authorised &&
        underAdmin &&
        res.status !== 401 &&
        `answered ${res.status}, not 401, without the admin token`,
      !authorised && changed(before, after, true),
      authorised &&
        underAdmin &&
        carries(req) &&
        built.bodyBytes > MAX_ADMIN_BODY &&
        res.status !== 413 &&
        `answered ${res.status} to a ${built.bodyBytes}-byte body (the limit is ${MAX_ADMIN_BODY})`,
      (res.status >= 400 || !carries(req)) && changed(before, after, false),
      authorised &&
        unknown !== undefined &&
        res.status !== 400 &&
        tagged(
          unknown === '' ? 'admin-empty-parameter' : 'admin-unknown-parameter',
          `a listing with the unknown parameter ${JSON.stringify(unknown)} answered ${res.status}, not 400`,
        ),
    );
  },
);

// ---------------------------------------------------------------------------------- Console

const MAX_FORM_BYTES = 16 * 1024;

/** The console: only a signed-in operator's own confirmed form acts; the rest is refused or read. */
export const consoleProperty: Property = requestProperty(
  'console',
  consolePlan(),
  (p, h) => buildConsole(p, h.fx),
  ({ built, res, before, after }) => {
    const req = built.request;
    const path = pathOf(req.target);
    const underConsole = path === '/console' || path.startsWith('/console/');
    const acts = built.operatorsForm && ACTION_ROUTES.has(built.route);
    return first(
      serverError(res),
      missingReason(req, res),
      !acts && changed(before, after, true),
      (res.status >= 400 || !carries(req)) && changed(before, after, false),
      underConsole &&
        carries(req) &&
        built.bodyBytes > MAX_FORM_BYTES &&
        res.status !== 413 &&
        `answered ${res.status} to a ${built.bodyBytes}-byte form (the limit is ${MAX_FORM_BYTES})`,
    );
  },
);

// ------------------------------------------------------------------------------- Operations

const etag = (path: string) =>
  path.startsWith('/docs/assets/') ? (docsAsset(path.slice('/docs/assets/'.length))?.etag ?? null) : null;

/** /openapi.json, /docs, /livez, /readyz, /metrics, /health, and every unknown path and method. */
export const operations: Property = requestProperty(
  'operations',
  operationsPlan(),
  (p) => ({ request: buildOperations(p, etag) }),
  ({ built, res, before, after }) => {
    const req = built.request;
    const path = pathOf(req.target);
    return first(
      serverError(res, path === '/readyz'),
      missingReason(req, res),
      changed(before, after, true),
      path === '/metrics' &&
        req.method === 'GET' &&
        !bearerAuthorised(req, CREDENTIALS.adminToken) &&
        res.status !== 401 &&
        `/metrics answered ${res.status} without the token`,
      path === '/livez' && req.method === 'GET' && res.status !== 200 && `/livez answered ${res.status}`,
    );
  },
);
