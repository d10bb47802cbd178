import { isIPv4 } from 'node:net';
import type { Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { WebhookProcessor } from '../fulfilment/webhooks.js';
import type { GatewayEnv } from '../http/env.js';
import type { Logger } from '../log.js';
import { sameSecret } from '../secrets.js';

export interface WebhookRouteDeps {
  token: string;
  allowIps: '*' | readonly string[];
  /** How many proxies of the operator's own stand in a row in front of the gateway. */
  trustProxy: number;
  processor: Pick<WebhookProcessor, 'receive' | 'dispatch'>;
  logger: Logger;
  /** Counts what became of each webhook request (metrics). */
  onResult?: (result: WebhookResult) => void;
}

export const WEBHOOK_RESULTS = ['accepted', 'forbidden', 'too_large', 'not_found', 'error'] as const;
export type WebhookResult = (typeof WEBHOOK_RESULTS)[number];

export const MAX_WEBHOOK_BYTES = 1024 * 1024;
type Env = GatewayEnv;

/** `::ffff:1.2.3.4` is the IPv4 address 1.2.3.4 seen through an IPv6 socket. */
export function normaliseIp(ip: string): string {
  const mapped = /^::ffff:(.+)$/i.exec(ip)?.[1];
  return mapped && isIPv4(mapped) ? mapped : ip.toLowerCase();
}

/**
 * The address to check. Each proxy appends the address it was called from to X-Forwarded-For,
 * so with `trustProxy` proxies the entry that many from the right is the one the outermost of
 * them wrote; everything to its left is the sender's own writing. Too few entries (or none):
 * the socket's address, a proxy's own, which fails closed.
 */
function sourceIp(c: Context<Env>, trustProxy: number): string {
  if (trustProxy > 0) {
    const entries = c.req.header('x-forwarded-for')?.split(',') ?? [];
    const forwarded = entries[entries.length - trustProxy]?.trim();
    if (forwarded) return normaliseIp(forwarded);
  }
  return normaliseIp(c.env?.incoming?.socket.remoteAddress ?? '');
}

/** POST /mitra/webhook/<MITRA_WEBHOOK_TOKEN>: store first, answer fast, act after. */
export function mountWebhook(app: Hono<Env>, deps: WebhookRouteDeps): void {
  const allowed = deps.allowIps === '*' ? null : new Set(deps.allowIps.map(normaliseIp));
  app.post(
    '/mitra/webhook/:token',
    // Token and source address first: a stranger's body is never read.
    async (c, next) => {
      if (!sameSecret(c.req.param('token'), deps.token)) {
        deps.onResult?.('not_found');
        return c.notFound();
      }
      const ip = sourceIp(c, deps.trustProxy);
      if (allowed && !allowed.has(ip)) {
        deps.logger.warn({ ip }, 'webhook refused: source address not allowed');
        deps.onResult?.('forbidden');
        return c.json({ code: 'FORBIDDEN', message: 'source address not allowed' }, 403);
      }
      await next();
    },
    // Counted as the bytes stream in, chunked bodies too; reading stops past the limit.
    bodyLimit({
      maxSize: MAX_WEBHOOK_BYTES,
      onError: (c) => {
        deps.onResult?.('too_large');
        return c.json({ code: 'TOO_LARGE', message: `webhook larger than ${MAX_WEBHOOK_BYTES} bytes` }, 413);
      },
    }),
    async (c) => {
      const ip = sourceIp(c, deps.trustProxy);
      const body = await c.req.text();
      let received: { id: number; pending: boolean };
      try {
        // A plain copy: Hono's header map has no prototype, which the database layer cannot take.
        received = await deps.processor.receive({ sourceIp: ip, headers: { ...c.req.header() }, body });
      } catch (err) {
        deps.logger.error({ err }, 'webhook could not be stored: answering 500 so that Mitra sends it again');
        deps.onResult?.('error');
        return c.json({ code: 'FAILED', message: 'not stored; send again' }, 500);
      }
      if (received.pending) deps.processor.dispatch(received.id);
      deps.onResult?.('accepted');
      return c.json({ received: true, id: received.id }, 200);
    },
  );
}
