import { Hono } from 'hono';
import type { GatewayEnv } from '../http/env.js';

/** GET /openapi.json and the /docs page rendered from it, with its assets served from here. */
export function openapiRoutes(): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  return app;
}
