import { createHash, timingSafeEqual } from 'node:crypto';
import { isIPv4 } from 'node:net';
import type { HttpBindings } from '@hono/node-server';
import type { Context, Hono } from 'hono';
import type { WebhookProcessor } from '../fulfilment/webhooks.js';
import type { Logger } from '../log.js';

export interface WebhookRouteDeps {
  token: string;
  allowIps: '*' | readonly string[];
  trustProxy: boolean;
  processor: Pick<WebhookProcessor, 'receive' | 'dispatch'>;
  logger: Logger;
}

const MAX_WEBHOOK_BYTES = 1024 * 1024;
type Env = { Bindings: Partial<HttpBindings> };

/** `::ffff:1.2.3.4` is the IPv4 address 1.2.3.4 seen through an IPv6 socket. */
export function normaliseIp(ip: string): string {
  const mapped = /^::ffff:(.+)$/i.exec(ip)?.[1];
  return mapped && isIPv4(mapped) ? mapped : ip.toLowerCase();
}

function sourceIp(c: Context<Env>, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = c.req.header('x-forwarded-for')?.split(',')[0]?.trim();
    if (forwarded) return normaliseIp(forwarded);
  }
  return normaliseIp(c.env?.incoming?.socket.remoteAddress ?? '');
}

const sameSecret = (a: string, b: string) =>
  timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());

/** POST /mitra/webhook/<MITRA_WEBHOOK_TOKEN>: store first, answer fast, act after. */
export function mountWebhook(app: Hono<Env>, deps: WebhookRouteDeps): void {
  const allowed = deps.allowIps === '*' ? null : new Set(deps.allowIps.map(normaliseIp));
  app.post('/mitra/webhook/:token', async (c) => {
    if (!sameSecret(c.req.param('token'), deps.token)) return c.notFound();
    const ip = sourceIp(c, deps.trustProxy);
    if (allowed && !allowed.has(ip)) {
      deps.logger.warn({ ip }, 'webhook refused: source address not allowed');
      return c.json({ code: 'FORBIDDEN', message: 'source address not allowed' }, 403);
    }
    const body = await c.req.text();
    if (Buffer.byteLength(body) > MAX_WEBHOOK_BYTES) {
      return c.json({ code: 'TOO_LARGE', message: `webhook larger than ${MAX_WEBHOOK_BYTES} bytes` }, 413);
    }
    let received: { id: number; pending: boolean };
    try {
      // A plain copy: Hono's header map has no prototype, which the database layer cannot take.
      received = deps.processor.receive({ sourceIp: ip, headers: { ...c.req.header() }, body });
    } catch (err) {
      deps.logger.error({ err }, 'webhook could not be stored: answering 500 so that Mitra sends it again');
      return c.json({ code: 'FAILED', message: 'not stored; send again' }, 500);
    }
    if (received.pending) deps.processor.dispatch(received.id);
    return c.json({ received: true, id: received.id }, 200);
  });
}
