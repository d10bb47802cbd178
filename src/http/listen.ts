import { createServer, type Server } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import type { Logger } from '../log.js';

type Fetch = (request: Request) => Response | Promise<Response>;

/**
 * The answer to a request that failed before the app saw it. @hono/node-server refuses some
 * requests while building them (a backslash in the path, say): by itself with a bare 400, no
 * reason and no log line. Here the reason goes in the body and the log. Anything else thrown
 * outside the app's own error handling is a 500, logged.
 */
export function unreadableRequest(logger: Logger) {
  return (err: unknown): Response => {
    const reason = err instanceof Error ? err.message : String(err);
    if (err instanceof Error && err.name === 'RequestError') {
      logger.warn({ reason }, 'request refused before routing');
      return Response.json(
        { code: 'BAD_REQUEST', message: `the request could not be read: ${reason}` },
        { status: 400 },
      );
    }
    logger.error({ err }, 'request failed outside the app');
    return Response.json({ code: 'INTERNAL', message: 'internal error' }, { status: 500 });
  };
}

/** An HTTP server for `fetch`, listening on host:port; resolves once it listens. */
export async function listen(fetch: Fetch, port: number, host: string, logger: Logger): Promise<Server> {
  const server = createServer(getRequestListener(fetch, { errorHandler: unreadableRequest(logger) }));
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
    server.listen(port, host);
  });
  return server;
}
