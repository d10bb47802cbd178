import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { getRequestListener, RequestError } from '@hono/node-server';
import type { Logger } from '../log.js';

type Fetch = (request: Request) => Response | Promise<Response>;

/**
 * The answer to a request that failed before the app saw it. @hono/node-server refuses some
 * requests while building them (a backslash in the path, say): by itself with a bare 400, no
 * reason and no log line. Here its reason (node-server's own words, never the request's) goes
 * in the body and the log. Anything else thrown outside the app's own error handling is a 500
 * (504 for a timeout, as node-server answered), logged. The handler itself never throws: node-
 * server awaits it unguarded.
 */
export function unreadableRequest(logger: Logger) {
  return (err: unknown): Response => {
    try {
      if (err instanceof RequestError) {
        logger.warn({ reason: err.message }, 'request refused before routing');
        return Response.json(
          { code: 'BAD_REQUEST', message: `the request could not be read: ${err.message}` },
          { status: 400 },
        );
      }
      logger.error({ err }, 'request failed outside the app');
      const timeout = err instanceof Error && err.name === 'TimeoutError';
      return Response.json(
        { code: timeout ? 'TIMEOUT' : 'INTERNAL', message: timeout ? 'timed out' : 'internal error' },
        { status: timeout ? 504 : 500 },
      );
    } catch {
      return new Response(null, { status: 500 });
    }
  };
}

/** Answers a request itself and says so (true), or leaves it to the app (false). */
export type Shortcut = (incoming: IncomingMessage, outgoing: ServerResponse) => boolean;

/**
 * An HTTP server for `fetch`, listening on host:port; resolves once it listens. The host is also
 * node-server's hostname for a request without a Host header (HTTP/1.0: a load balancer's probe).
 * A `shortcut` sees each request first.
 */
export async function listen(
  fetch: Fetch,
  port: number,
  host: string,
  logger: Logger,
  shortcut?: Shortcut,
): Promise<Server> {
  const hostname = host.includes(':') ? `[${host}]` : host;
  const app = getRequestListener(fetch, { hostname, errorHandler: unreadableRequest(logger) });
  const server = createServer(
    shortcut
      ? (incoming, outgoing) => {
          let answered = false;
          try {
            answered = shortcut(incoming, outgoing);
          } catch (err) {
            // A bug in it must not take the process down from a request handler.
            logger.error({ err }, 'the listener shortcut failed; the app answers');
            answered = outgoing.headersSent;
          }
          if (!answered) void app(incoming, outgoing);
        }
      : app,
  );
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
    server.listen(port, host);
  });
  return server;
}
