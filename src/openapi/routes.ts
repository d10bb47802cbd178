import { Hono } from 'hono';
import type { GatewayEnv } from '../http/env.js';
import { DOCS_CSP, DOCS_PAGE, docsAsset } from './docs.js';
import { openapiDocument } from './document.js';

const NO_SNIFF = { 'x-content-type-options': 'nosniff' };

/** GET /openapi.json and the /docs page rendered from it, with its assets served from here. */
export function openapiRoutes(): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  // Built now: a document that cannot be built stops the start instead of failing each request.
  openapiDocument();

  // Public: the document names no secret, and Razer's and the operator's own tooling read it.
  app.get('/openapi.json', (c) =>
    c.body(openapiDocument().text, 200, {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-cache',
      ...NO_SNIFF,
    }),
  );

  app.get('/docs', (c) =>
    c.body(DOCS_PAGE, 200, {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': DOCS_CSP,
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-cache',
      ...NO_SNIFF,
    }),
  );

  app.get('/docs/assets/:name', (c) => {
    const asset = docsAsset(c.req.param('name'));
    // Answered as any unknown path is, by the app's own 404.
    if (!asset) return c.notFound();
    // Not versioned by name, so kept a day, then revalidated by ETag.
    const headers = { etag: asset.etag, 'cache-control': 'public, max-age=86400', ...NO_SNIFF };
    if (c.req.header('if-none-match') === asset.etag) return c.body(null, 304, headers);
    return c.body(asset.body, 200, { ...headers, 'content-type': asset.type });
  });

  return app;
}
