import { errorExamples, jsonResponse, ref, textResponse } from './build.js';
import { errorBody, liveness, openapiJson, plainText, readiness } from './responses.js';
import type { PathsPart } from './types.js';

export const ADMIN_SECURITY = 'adminToken';

/** The 401 of /metrics and of the whole admin API: one shape for one token. */
const adminUnauthorized = () =>
  jsonResponse(
    'No valid `Authorization: Bearer <ADMIN_TOKEN>`. Answered with `WWW-Authenticate: Bearer`.',
    errorBody(['UNAUTHORIZED']),
    errorExamples([
      ['UNAUTHORIZED', 'a valid Authorization: Bearer <ADMIN_TOKEN> is required', 'Missing or wrong token'],
    ]),
  );

export function operationsPaths(): PathsPart {
  return {
    paths: {
      '/livez': {
        get: {
          operationId: 'livez',
          summary: 'Liveness',
          description: 'Answers while the process serves at all. For orchestrators.',
          tags: ['operations'],
          responses: {
            '200': jsonResponse('Live.', liveness, { live: { summary: 'Live', value: { status: 'live' } } }),
          },
        },
      },
      '/readyz': {
        get: {
          operationId: 'readyz',
          summary: 'Readiness',
          description:
            'Answers 200 only when this instance can take purchases: the database takes writes, the migrations are applied and a supplier catalogue was fetched.',
          tags: ['operations'],
          responses: {
            '200': jsonResponse('Ready.', readiness, {
              ready: {
                summary: 'Ready',
                value: { status: 'ready', checks: { storage: 'ok', migrations: 'ok', catalogue: 'ok' } },
              },
            }),
            '503': jsonResponse('Not ready; the failing checks say why.', readiness, {
              noCatalogue: {
                summary: 'No catalogue yet',
                value: {
                  status: 'not ready',
                  checks: { storage: 'ok', migrations: 'ok', catalogue: 'never fetched' },
                },
              },
            }),
          },
        },
      },
      '/metrics': {
        get: {
          operationId: 'metrics',
          summary: 'Prometheus metrics',
          description:
            'The scrape in Prometheus text format. Behind ADMIN_TOKEN here (404 when it is unset); METRICS_PORT serves it without a token on a port of its own.',
          tags: ['operations'],
          security: [{ [ADMIN_SECURITY]: [] }],
          responses: {
            '200': textResponse('The scrape.', plainText, {
              scrape: {
                summary: 'A few lines',
                value:
                  '# HELP gateway_unauthorized_total Refused signatures and tokens.\n# TYPE gateway_unauthorized_total counter\ngateway_unauthorized_total 0\n',
              },
            }),
            '401': ref('responses', 'AdminUnauthorized'),
          },
        },
      },
      '/openapi.json': {
        get: {
          operationId: 'openapi',
          summary: 'This document',
          description: 'OpenAPI 3.1, generated from the schemas that validate the requests.',
          tags: ['operations'],
          responses: {
            '200': jsonResponse('The document.', openapiJson, {}),
          },
        },
      },
      '/docs': {
        get: {
          operationId: 'docs',
          summary: 'This document, readable',
          description: 'Swagger UI over /openapi.json, its scripts and styles served by the gateway itself.',
          tags: ['operations'],
          responses: {
            '200': textResponse('The page.', plainText, {}, 'text/html'),
          },
        },
      },
    },
    responses: { AdminUnauthorized: adminUnauthorized() },
    securitySchemes: {
      [ADMIN_SECURITY]: {
        type: 'http',
        scheme: 'bearer',
        description:
          '`Authorization: Bearer <ADMIN_TOKEN>`: the operator token (at least 16 characters). Without ADMIN_TOKEN the admin API and /metrics answer 404.',
      },
    },
  };
}
