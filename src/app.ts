import { Hono } from 'hono';
import type { Storage } from './db/connection.js';
import type { Logger } from './log.js';

export interface AppDeps {
  storage: Storage;
  logger: Logger;
}

export function createApp(deps: AppDeps): Hono {
  const app = new Hono();

  app.get('/health', (c) => {
    try {
      // Taking the write lock proves the database can accept the next transaction.
      deps.storage.sqlite.exec('BEGIN IMMEDIATE; ROLLBACK');
      return c.text('OK');
    } catch (err) {
      deps.logger.error({ err }, 'health check: database not writable');
      return c.text('database not writable', 503);
    }
  });

  app.notFound((c) =>
    c.json({ code: 'NOT_FOUND', message: `no endpoint ${c.req.method} ${c.req.path}` }, 404),
  );
  app.onError((err, c) => {
    deps.logger.error({ err, path: c.req.path }, 'unhandled error');
    return c.json(
      { code: 'FAILED', message: 'internal error; the outcome may still change, query again' },
      500,
    );
  });
  return app;
}
