import { randomUUID } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { Logger } from '../log.js';
import { secretRedactor } from '../secrets.js';
import type { Tracer } from '../tracing/tracer.js';
import { type GatewayEnv, headerOf } from './env.js';

/** What a request is, for logs and metric labels: a short fixed list, never a value from the path. */
export const ENDPOINT_NAMES = [
  'init',
  'topup',
  'query',
  'cancel',
  'validate',
  'health',
  'webhook',
  'admin',
  'console',
  'other',
] as const;
export type EndpointName = (typeof ENDPOINT_NAMES)[number];

export function endpointOf(method: string, path: string): EndpointName {
  if (method === 'POST') {
    if (path === '/transaction/init') return 'init';
    if (path === '/transaction/topup') return 'topup';
    if (path === '/transaction/cancel') return 'cancel';
    if (path === '/account/validate') return 'validate';
    if (path.startsWith('/mitra/webhook/')) return 'webhook';
  }
  if (method === 'GET') {
    if (path === '/health') return 'health';
    if (/^\/transaction\/[^/]+$/.test(path)) return 'query';
  }
  if (path === '/admin' || path.startsWith('/admin/')) return 'admin';
  if (path === '/console' || path.startsWith('/console/')) return 'console';
  return 'other';
}

/** Longest path logged; cut after redaction, so that no part of a secret survives the cut. */
const MAX_LOGGED_PATH = 200;
const cut = (path: string) => path.slice(0, MAX_LOGGED_PATH);
/** The webhook's path under any spelling: doubled slashes, any case. */
const WEBHOOK_PREFIX = /^(\/+mitra\/+webhook\/+)/i;

export type PathRedactor = (path: string) => string;

/**
 * A request path as it may be logged or kept: whatever follows the webhook's path (under any
 * spelling) and every configured secret wherever it stands (any case, percent-escaped or not)
 * become `[token]`. A sender who mistypes the webhook URL (`//mitra/webhook/<token>`) gets a
 * 404 whose line would otherwise carry the token.
 */
export function pathRedactor(secrets: readonly string[]): PathRedactor {
  const withoutSecrets = secretRedactor(secrets);
  return (path) => {
    const shown = withoutSecrets(path);
    const webhook = WEBHOOK_PREFIX.exec(decodeLoosely(shown));
    return webhook ? `${webhook[1]}[token]` : shown;
  };
}

/** Percent-escapes of the webhook's path undone, so that `/mitra/%77ebhook/...` is seen for what it is. */
const decodeLoosely = (path: string) =>
  path.includes('%')
    ? path.replace(/%([0-9a-f]{2})/gi, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)))
    : path;

/** Without a configured secret (tests, tools): the webhook's segment is still hidden. */
const noSecret: PathRedactor = pathRedactor([]);

/** Each request's redactor, set by the request log: every app's handlers find it, whatever their Env. */
const redactors = new WeakMap<Request, PathRedactor>();
type WithRequest = { req: { path: string; raw: Request } };

/** A path (or target) of this request as it may be kept: redacted as the request log redacts it. */
export const keptPath = (c: WithRequest, path: string): string =>
  (redactors.get(c.req.raw) ?? noSecret)(path);

/** This request's path as it may be logged: redacted, then cut. */
export const loggedPath = (c: WithRequest): string => cut(keptPath(c, c.req.path));

/** A request id a caller may choose (a proxy's), within reason; anything else gets ours. */
const CALLER_ID = /^[A-Za-z0-9._:-]{1,64}$/;

export interface RequestLogDeps {
  logger: Logger;
  /** Secrets that must never reach a logged path (the webhook token). */
  secrets?: readonly string[] | undefined;
  onRequest?: (endpoint: EndpointName, status: number, seconds: number) => void;
  /** One trace per Razer request and webhook, its id in the line (tracing on); unset: none. */
  tracer?: Tracer | undefined;
}

/** Each Razer endpoint's path as Razer's documents name it (its route). */
export const RAZER_ROUTES = {
  init: '/transaction/init',
  topup: '/transaction/topup',
  query: '/transaction/{transactionNumber}',
  cancel: '/transaction/cancel',
  validate: '/account/validate',
  health: '/health',
} as const satisfies Partial<Record<EndpointName, string>>;

/** The traced endpoints and their route, as a span names it: never the path itself (the webhook's holds its token). */
const TRACED_ROUTES: Partial<Record<EndpointName, string>> = {
  ...RAZER_ROUTES,
  webhook: '/mitra/webhook/{token}',
};

/** What an answer was, for a trace: a class from its status. */
export function outcomeClass(status: number): string {
  if (status >= 500) return 'error';
  return (
    {
      200: 'ok',
      400: 'refused',
      401: 'unauthorized',
      403: 'forbidden',
      404: 'not-found',
      408: 'pending',
      409: 'conflict',
      413: 'too-large',
      429: 'over-cap',
    }[status] ?? `http-${status}`
  );
}

/** The request's id: the caller's `X-Request-Id` when it is reasonable, else a new UUID. */
export const requestId = (given: string | undefined): string =>
  given && CALLER_ID.test(given) ? given : randomUUID();

export interface RequestLine {
  reqId: string;
  method: string;
  path: string;
  endpoint: EndpointName;
  status: number;
  seconds: number;
  transactionNumber: string | null;
  /** A query answered exactly as already recorded: its line is at debug level. */
  answeredAsBefore: boolean;
  /** The request's trace (tracing on). */
  traceId?: string | undefined;
}

/**
 * Counts a finished request (metrics) and writes its line. No header, body or query is logged:
 * they carry signatures and tokens. A query answered exactly as already recorded (a poll
 * repeating itself) is logged at debug level: it is counted on its transaction and in the audit
 * writer's summary lines, and a poller's every repeat at info level cost a fifth of the answer
 * and flooded the log.
 */
export function requestRecorder(deps: RequestLogDeps): (line: RequestLine) => void {
  // The line's fields are fixed and hold no secret: redaction's walk, half the cost of a line
  // on a poll, is skipped for it alone.
  const logger = deps.logger.child({}, { redact: { paths: [] } });
  const redact = pathRedactor(deps.secrets ?? []);
  return (line) => {
    deps.onRequest?.(line.endpoint, line.status, line.seconds);
    const level = line.answeredAsBefore ? 'debug' : 'info';
    if (!logger.isLevelEnabled(level)) return;
    logger[level](
      {
        reqId: line.reqId,
        method: line.method,
        path: cut(redact(line.path)),
        endpoint: line.endpoint,
        status: line.status,
        ms: Math.round(line.seconds * 10_000) / 10,
        transactionNumber: line.transactionNumber ?? undefined,
        traceId: line.traceId,
      },
      'request',
    );
  };
}

/** One line per request (see requestRecorder) with its id, echoed as X-Request-Id. */
export function requestLog(deps: RequestLogDeps): MiddlewareHandler<GatewayEnv> {
  const record = requestRecorder(deps);
  const redact = pathRedactor(deps.secrets ?? []);
  return async (c, next) => {
    // For the handlers' own lines (loggedPath).
    redactors.set(c.req.raw, redact);
    const started = performance.now();
    const id = requestId(headerOf(c, 'x-request-id'));
    // On Node's response the header is merged into whatever answer is written; setting it on
    // `c.res` instead would rebuild the answer's headers as a Headers object, a cost on every poll.
    const outgoing = c.env?.outgoing;
    outgoing?.setHeader('X-Request-Id', id);
    c.set('transactionNumber', null);
    const endpoint = endpointOf(c.req.method, c.req.path);
    const serve = async (traceId?: string) => {
      try {
        await next();
      } finally {
        if (!outgoing) c.res.headers.set('X-Request-Id', id);
        record({
          reqId: id,
          method: c.req.method,
          path: c.req.path,
          endpoint,
          status: c.res.status,
          seconds: (performance.now() - started) / 1000,
          transactionNumber: c.get('transactionNumber'),
          // Unset (undefined) unless a handler said so.
          answeredAsBefore: c.get('answeredAsBefore') === true,
          traceId,
        });
      }
    };
    const route = deps.tracer ? TRACED_ROUTES[endpoint] : undefined;
    if (!deps.tracer || route === undefined) return serve();
    await deps.tracer.request(
      `${c.req.method} ${route}`,
      {
        'http.request.method': c.req.method,
        'http.route': route,
        'gateway.endpoint': endpoint,
        'gateway.request_id': id,
      },
      async (span, traceId) => {
        await serve(traceId);
        const n = c.get('transactionNumber');
        if (c.res.status >= 500) span.failed(`answered ${c.res.status}`);
        span.set({
          'http.response.status_code': c.res.status,
          'gateway.outcome': outcomeClass(c.res.status),
          ...(n ? { 'gateway.transaction_number': n } : {}),
          ...(c.get('answeredAsBefore') === true ? { 'gateway.answered_as_before': true } : {}),
        });
      },
    );
  };
}
