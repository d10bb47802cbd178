import { isIPv4 } from 'node:net';
import type { Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { WebhookProcessor } from '../fulfilment/webhooks.js';
import type { GatewayEnv } from '../http/env.js';
import type { Logger } from '../log.js';
import { DEFAULT_READINGS, type Readings } from '../readings/settings.js';
import { sameSecret, secretRedactor } from '../secrets.js';
import {
  type CapVerdict,
  capSource,
  OTHER_SOURCES,
  WebhookCap,
  type WebhookCapSettings,
} from './webhook-cap.js';
import { keptBody } from './webhook-payload.js';

export interface WebhookRouteDeps {
  token: string;
  allowIps: '*' | readonly string[];
  /** How many proxies of the operator's own stand in a row in front of the gateway. */
  trustProxy: number;
  processor: Pick<WebhookProcessor, 'receive' | 'dispatch'>;
  logger: Logger;
  /** What one source address may store per window (MITRA_WEBHOOK_CAP, MITRA_WEBHOOK_CAP_BYTES). */
  cap: WebhookCapSettings;
  /** The cap's clock (default Date.now). */
  now?: () => number;
  /** Counts what became of each webhook request (metrics). */
  onResult?: (result: WebhookResult) => void;
  /** A source's first refusal for the cap in a window: an operator alert (raised once per source). */
  onFlood?: (source: string, message: string) => void;
  /** The readings in force (reloadable): what a webhook body names. */
  readings?: () => Readings;
}

export const WEBHOOK_RESULTS = [
  'accepted',
  'forbidden',
  'too_large',
  'over_cap',
  'not_found',
  'error',
] as const;
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

const windowText = (ms: number) => (ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`);

/** POST /mitra/webhook/<MITRA_WEBHOOK_TOKEN>: store first, answer fast, act after. */
export function mountWebhook(app: Hono<Env>, deps: WebhookRouteDeps): void {
  const allowed = deps.allowIps === '*' ? null : new Set(deps.allowIps.map(normaliseIp));
  const withoutToken = secretRedactor([deps.token]);
  const per = windowText(deps.cap.windowMs);
  const cap = new WebhookCap({
    ...deps.cap,
    now: deps.now ?? Date.now,
    // One line per source and window however long the flood, and this one once it is over.
    onWindowEnd: ({ source, rows, bytes, refused }) => {
      if (refused > 0)
        deps.logger.warn(
          { ip: source, refused, stored: rows, storedBytes: bytes, windowMs: deps.cap.windowMs },
          'webhook cap: a window with refusals ended',
        );
    },
  });
  const overCap = (c: Context<Env>, refused: Extract<CapVerdict, { ok: false }>) => {
    const from =
      refused.source === OTHER_SOURCES ? 'from addresses not counted on their own' : 'from this address';
    const reason =
      refused.over === 'rows'
        ? `more than ${deps.cap.rows} webhooks per ${per} ${from}`
        : `more than ${deps.cap.bytes} bytes of webhooks per ${per} ${from}`;
    if (refused.first) {
      deps.logger.warn(
        { ip: refused.source, over: refused.over, retryAfterMs: refused.retryAfterMs },
        'webhook refused: the source is over its cap; more refusals are counted, not logged, until its window ends',
      );
      deps.onFlood?.(
        refused.source,
        `${refused.source} went over the webhook cap (${reason}): its webhooks are refused (429) until the window ends. If it is not Mitra, someone has MITRA_WEBHOOK_TOKEN: change it; if it is, raise MITRA_WEBHOOK_CAP or MITRA_WEBHOOK_CAP_BYTES.`,
      );
    }
    deps.onResult?.('over_cap');
    c.header('Retry-After', String(Math.max(1, Math.ceil(refused.retryAfterMs / 1000))));
    return c.json({ code: 'TOO_MANY', message: `webhook cap reached: ${reason}` }, 429);
  };
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
      // A source whose rows or bytes are used up is refused before its body is read.
      const verdict = cap.check(capSource(ip));
      if (!verdict.ok) return overCap(c, verdict);
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
      let received: Awaited<ReturnType<WebhookProcessor['receive']>>;
      try {
        // A plain copy (Hono's header map has no prototype, which the database layer cannot take),
        // the token taken out of every value: a Referer or a proxy's X-Original-URI carries the URL.
        const headers = Object.fromEntries(
          Object.entries(c.req.header()).map(([name, value]) => [name, withoutToken(value)]),
        );
        const kept = keptBody(body, deps.readings?.() ?? DEFAULT_READINGS);
        // What would be stored: the body as kept (a body nothing reads is cut) and the headers.
        // Counted once taken: a write that then fails counts too (Mitra sends it again either way).
        const bytes = Buffer.byteLength(kept.body) + Buffer.byteLength(JSON.stringify(headers));
        const verdict = cap.take(capSource(ip), bytes);
        if (!verdict.ok) return overCap(c, verdict);
        received = await deps.processor.receive({ sourceIp: ip, headers, body }, kept);
      } catch (err) {
        deps.logger.error({ err }, 'webhook could not be stored: answering 500 so that Mitra sends it again');
        deps.onResult?.('error');
        return c.json({ code: 'FAILED', message: 'not stored; send again' }, 500);
      }
      if (received.pending) deps.processor.dispatch(received.pending);
      deps.onResult?.('accepted');
      return c.json({ received: true, id: received.id }, 200);
    },
  );
}
