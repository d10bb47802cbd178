import type { HttpBindings } from '@hono/node-server';
import type { Context } from 'hono';

/**
 * The Hono environment of every app of the gateway: the Node request (for the raw URL and the
 * socket's address), and what a handler tells the request log.
 */
export type GatewayEnv = {
  Bindings: Partial<HttpBindings>;
  Variables: {
    transactionNumber: string | null;
    /** A query answered exactly as already recorded: counted on its transaction, not stored. */
    answeredAsBefore: boolean;
  };
};

/**
 * A request header as Node parsed it, when there is a Node request: Hono's `c.req.header`
 * builds a whole Headers object first, a cost on every poll. Only for headers Node joins with
 * ", " when repeated, as Headers does (not Content-Type, say, of which Node keeps the first).
 */
export function headerOf(c: Context<GatewayEnv>, name: string): string | undefined {
  const incoming = c.env?.incoming;
  if (!incoming) return c.req.header(name);
  const value = incoming.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}
