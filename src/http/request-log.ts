import { randomUUID } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { Logger } from '../log.js';
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

/** The path as logged: the webhook's secret path segment never leaves the process. */
export const loggablePath = (path: string): string =>
  path.startsWith('/mitra/webhook/') ? '/mitra/webhook/[token]' : path.slice(0, 200);

/** A request id a caller may choose (a proxy's), within reason; anything else gets ours. */
const CALLER_ID = /^[A-Za-z0-9._:-]{1,64}$/;

export interface RequestLogDeps {
  logger: Logger;
  onRequest?: (endpoint: EndpointName, status: number, seconds: number) => void;
}

/**
 * One line per request with its id (echoed as X-Request-Id), status, duration and the
 * transaction it was about. No header, body or query is logged: they carry signatures and tokens.
 * A query answered exactly as already recorded (a poll repeating itself) is logged at debug level:
 * it is counted on its transaction and in the audit writer's summary lines, and a poller's every
 * repeat at info level cost a fifth of the answer and flooded the log.
 */
export function requestLog(deps: RequestLogDeps): MiddlewareHandler<GatewayEnv> {
  // The line's fields are fixed and hold no secret: redaction's walk, half the cost of a line
  // on a poll, is skipped for it alone.
  const logger = deps.logger.child({}, { redact: { paths: [] } });
  return async (c, next) => {
    const started = performance.now();
    const given = headerOf(c, 'x-request-id');
    const id = given && CALLER_ID.test(given) ? given : randomUUID();
    // On Node's response the header is merged into whatever answer is written; setting it on
    // `c.res` instead would rebuild the answer's headers as a Headers object, a cost on every poll.
    const outgoing = c.env?.outgoing;
    outgoing?.setHeader('X-Request-Id', id);
    c.set('transactionNumber', null);
    try {
      await next();
    } finally {
      const seconds = (performance.now() - started) / 1000;
      const status = c.res.status;
      const endpoint = endpointOf(c.req.method, c.req.path);
      if (!outgoing) c.res.headers.set('X-Request-Id', id);
      deps.onRequest?.(endpoint, status, seconds);
      // Unset (undefined) unless a handler said so.
      const level = c.get('answeredAsBefore') === true ? 'debug' : 'info';
      if (logger.isLevelEnabled(level))
        logger[level](
          {
            reqId: id,
            method: c.req.method,
            path: loggablePath(c.req.path),
            endpoint,
            status,
            ms: Math.round(seconds * 10_000) / 10,
            transactionNumber: c.get('transactionNumber') ?? undefined,
          },
          'request',
        );
    }
  };
}
