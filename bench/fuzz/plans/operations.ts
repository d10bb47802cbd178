import fc from 'fast-check';
import {
  anyPath,
  extraHeaders,
  headerValue,
  method,
  oneIn,
  pathVariant,
  peer,
  query,
} from '../arbitraries.js';
import type { RawRequest } from '../http.js';
import { AUTH_FORMS, type AuthForm, authorization } from './admin.js';

/** The operations endpoints, the public documents, and everywhere nobody serves. */
const PATHS = [
  '/openapi.json',
  '/docs',
  '/docs/assets/swagger-ui.css',
  '/docs/assets/swagger-ui-bundle.js',
  '/docs/assets/init.js',
  '/docs/assets/{x}',
  '/livez',
  '/readyz',
  '/metrics',
  '/health',
] as const;

export interface OperationsPlan {
  path: { known: string } | { any: string };
  asset: string;
  method: string;
  query: string;
  auth: AuthForm;
  other: string;
  ifNoneMatch: string | null;
  body: Uint8Array | null;
  headers: [string, string][];
  peer: string;
}

export function operationsPlan(): fc.Arbitrary<OperationsPlan> {
  return fc.record({
    path: fc.oneof(
      {
        weight: 6,
        arbitrary: fc
          .constantFrom(...PATHS)
          .chain(pathVariant)
          .map((known) => ({ known })),
      },
      { weight: 3, arbitrary: anyPath.map((p) => ({ any: p })) },
    ),
    asset: fc.oneof(
      fc.constantFrom('..%2F..%2Fpackage.json', '%2e%2e', 'swagger-ui.css.map', 'index.html', ''),
      fc.stringMatching(/^[a-z.-]{1,20}$/),
    ),
    method: fc.oneof({ weight: 6, arbitrary: fc.constant('GET') }, { weight: 3, arbitrary: method }),
    query,
    auth: fc.constantFrom(...AUTH_FORMS),
    other: headerValue(1, 30),
    ifNoneMatch: oneIn(4, fc.oneof(fc.constantFrom('*', '""', 'W/"x"'), headerValue(0, 40))),
    body: oneIn(3, fc.uint8Array({ maxLength: 256 })),
    headers: extraHeaders,
    peer,
  });
}

export function buildOperations(plan: OperationsPlan, etag: (path: string) => string | null): RawRequest {
  const path = 'known' in plan.path ? plan.path.known.replace('{x}', plan.asset) : plan.path.any;
  const headers: [string, string][] = [...authorization(plan.auth, plan.other)];
  // A client revalidating: the asset's own ETag, or anything.
  const match = plan.ifNoneMatch === '*' ? etag(path) : plan.ifNoneMatch;
  if (match !== null) headers.push(['if-none-match', match]);
  return {
    method: plan.method,
    target: `${path}${plan.query}`,
    headers: [
      ...headers,
      ...plan.headers.filter(([n]) => !['authorization', 'if-none-match'].includes(n.toLowerCase())),
    ],
    body: plan.body,
    chunked: false,
    remoteAddress: plan.peer,
  };
}
