import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

// The /docs page: Swagger UI from the installed swagger-ui-dist, served by the gateway itself so
// that the page loads nothing from elsewhere and its CSP can say so.

/** Paths are relative to /docs, so the page works behind a proxy that adds a path prefix. */
const ASSETS_PATH = 'docs/assets';

/**
 * Ours, served as a file: the page then needs no inline script. The document is fetched from
 * here (relative again); the online validator badge would call swagger.io, so it is off.
 */
const INIT_SCRIPT = `'use strict';
window.ui = SwaggerUIBundle({
  url: 'openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
  layout: 'BaseLayout',
});
`;

export const DOCS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Gateway API</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${ASSETS_PATH}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="${ASSETS_PATH}/swagger-ui-bundle.js"></script>
<script src="${ASSETS_PATH}/init.js"></script>
</body>
</html>
`;

/** Swagger UI styles elements inline and draws icons as data: images; nothing else is let in. */
export const DOCS_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export interface Asset {
  /** A plain copy of the file's bytes: what a Response body takes. */
  body: Uint8Array<ArrayBuffer>;
  type: string;
  etag: string;
}

const swaggerFile = (name: string) => (): Buffer => {
  const root = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  return readFileSync(join(root, name));
};

const JS = 'text/javascript; charset=utf-8';

/** The allowlist: a name not here is not served, whatever it resolves to on disk. */
const SOURCES = new Map<string, { type: string; read: () => Buffer }>([
  ['swagger-ui.css', { type: 'text/css; charset=utf-8', read: swaggerFile('swagger-ui.css') }],
  ['swagger-ui-bundle.js', { type: JS, read: swaggerFile('swagger-ui-bundle.js') }],
  ['init.js', { type: JS, read: () => Buffer.from(INIT_SCRIPT, 'utf8') }],
]);

const loaded = new Map<string, Asset>();

/** An allowed asset, read on first use and kept (the bundle is over a megabyte); else null. */
export function docsAsset(name: string): Asset | null {
  const source = SOURCES.get(name);
  if (!source) return null;
  let asset = loaded.get(name);
  if (!asset) {
    const body = source.read();
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
    asset = { body: new Uint8Array(body), type: source.type, etag };
    loaded.set(name, asset);
  }
  return asset;
}
