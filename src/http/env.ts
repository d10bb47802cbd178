import type { HttpBindings } from '@hono/node-server';

/**
 * The Hono environment of every app of the gateway: the Node request (for the raw URL and the
 * socket's address), and what a handler tells the request log.
 */
export type GatewayEnv = {
  Bindings: Partial<HttpBindings>;
  Variables: { transactionNumber: string | null };
};
