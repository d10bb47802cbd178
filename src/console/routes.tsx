import { Hono } from 'hono';
import type { AdminDeps } from '../admin/routes.js';

export interface ConsoleDeps extends AdminDeps {
  now: () => number;
}

/** The operator's console under /console: server-rendered pages behind a session cookie. */
export function consoleRoutes(_deps: ConsoleDeps): Hono {
  const app = new Hono();
  return app;
}
