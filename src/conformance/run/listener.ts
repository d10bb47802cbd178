/**
 * The command's own webhook endpoint (--listen), for when no gateway runs where Mitra's callback
 * URL points: it records what arrives and acts on nothing.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type HttpBindings, serve } from '@hono/node-server';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { shownHeaders } from '../../admin/story.js';
import type { Config } from '../../config/env.js';
import { MAX_WEBHOOK_BYTES, normaliseIp } from '../../mitra/webhook-route.js';
import { sameSecret } from '../../secrets.js';
import type { Received } from './webhooks.js';

export interface Listener {
  close(): Promise<void>;
  received: Received[];
  port: number;
}

/** The command's own webhook listener (--listen): records, answers 200, acts on nothing. */
export async function startListener(
  at: { host: string; port: number },
  config: Config,
  redact: (text: string) => string,
): Promise<Listener> {
  const received: Received[] = [];
  const token = config.mitra.webhookToken;
  const app = new Hono<{ Bindings: HttpBindings }>();
  app.post(
    '/mitra/webhook/:token',
    async (c, next) => {
      // A stranger's body is never read.
      if (!sameSecret(c.req.param('token'), token)) return c.notFound();
      await next();
    },
    bodyLimit({ maxSize: MAX_WEBHOOK_BYTES, onError: (c) => c.json({ code: 'TOO_LARGE' }, 413) }),
    async (c) => {
      const body = await c.req.text();
      received.push({
        at: Date.now(),
        via: 'listener',
        source: normaliseIp(c.env?.incoming?.socket.remoteAddress ?? ''),
        // As the admin API shows them: only harmless headers keep their values.
        headers: Object.fromEntries(
          Object.entries(shownHeaders(c.req.header())).map(([k, v]) => [k, redact(v)]),
        ),
        body,
      });
      return c.json({ received: true }, 200);
    },
  );
  const server = serve({ fetch: app.fetch, port: at.port, hostname: at.host }) as Server;
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;
  return {
    received,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
