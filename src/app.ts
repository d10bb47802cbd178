import { Hono } from 'hono';
import { bearerMatches } from './admin/auth.js';
import { type AdminDeps, adminRoutes } from './admin/routes.js';
import { type ConsoleDeps, consoleRoutes } from './console/routes.js';
import type { GatewayEnv } from './http/env.js';
import { healthRoutes, type ReadinessDeps } from './http/health.js';
import { type RequestLogDeps, requestLog } from './http/request-log.js';
import { mountWebhook, type WebhookRouteDeps } from './mitra/webhook-route.js';
import { openapiRoutes } from './openapi/routes.js';
import { type RazerDeps, razerRoutes } from './razer/routes.js';

export interface MetricsSource {
  render(): Promise<{ contentType: string; body: string }>;
}

export interface AppDeps {
  razer: RazerDeps;
  webhook?: WebhookRouteDeps | undefined;
  /** Null when ADMIN_TOKEN is unset: /admin and /metrics then answer 404 here. */
  admin?: AdminDeps | null | undefined;
  /** The browser console; off (404) with the admin API. */
  console?: ConsoleDeps | null | undefined;
  metrics?: MetricsSource | undefined;
  readiness?: ReadinessDeps | undefined;
  requestLog?: RequestLogDeps | undefined;
}

/** GET /metrics: the scrape, in Prometheus' text format. */
export function metricsRoute(metrics: MetricsSource, token: string | null) {
  const app = new Hono<GatewayEnv>();
  app.get('/metrics', async (c) => {
    if (token !== null && !bearerMatches(c.req.header('authorization'), token)) {
      c.header('WWW-Authenticate', 'Bearer realm="gateway metrics"');
      return c.json(
        { code: 'UNAUTHORIZED', message: 'a valid Authorization: Bearer <ADMIN_TOKEN> is required' },
        401,
      );
    }
    const scrape = await metrics.render();
    return c.body(scrape.body, 200, { 'content-type': scrape.contentType });
  });
  return app;
}

/**
 * The gateway's HTTP surface. Razer's routes answer every path nobody else serves, so their 404
 * and error answers (signed, JSON) apply there.
 */
export function createApp(deps: AppDeps) {
  const app = new Hono<GatewayEnv>();
  const razer = razerRoutes(deps.razer);
  if (deps.requestLog) app.use('*', requestLog(deps.requestLog));
  if (deps.readiness) app.route('/', healthRoutes(deps.readiness));
  if (deps.admin) {
    app.route('/admin', adminRoutes(deps.admin));
    if (deps.metrics) app.route('/', metricsRoute(deps.metrics, deps.admin.token));
  }
  if (deps.console) app.route('/console', consoleRoutes(deps.console));
  app.route('/', openapiRoutes());
  if (deps.webhook) mountWebhook(app, deps.webhook);
  app.route('/', razer);
  app.notFound((c) => razer.fetch(c.req.raw, c.env));
  return app;
}
