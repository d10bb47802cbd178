import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { adminPaths } from './admin-paths.js';
import { componentSchemas, JSON_SCHEMA_DIALECT } from './json-schema.js';
import { operationsPaths } from './operations-paths.js';
import { razerPaths } from './razer-paths.js';
import type { OpenApiDocument, PathsPart } from './types.js';
import { webhookPaths } from './webhook-paths.js';

const packageSchema = z.object({ name: z.string(), version: z.string(), description: z.string() });
export type About = z.infer<typeof packageSchema>;

/** The same two levels up from src/openapi and dist/openapi. */
const readPackage = (): About =>
  packageSchema.parse(JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')));

const TAGS = [
  {
    name: 'razer',
    description:
      'What Razer Gold calls: signed requests, signed answers (see the razerSignature scheme). 200 only when delivered, 400 only when certainly not delivered, 408 (or 500) while the outcome may still change; once 200 or 400 was said about a transaction, every later answer agrees. Any other path is answered 404 NOT_FOUND (components/responses/RazerNotFound).',
  },
  {
    name: 'webhook',
    description: 'What VCGamers Mitra calls: webhooks, stored and used as triggers only.',
  },
  {
    name: 'admin',
    description:
      "The operator's JSON API, behind ADMIN_TOKEN (404 when it is unset). Errors are `{code, message}`: 400 INVALID, 401 UNAUTHORIZED, 404 NOT_FOUND, 409 CONFLICT or BUSY, 413 TOO_LARGE, 500 FAILED.",
  },
  { name: 'operations', description: 'Probes, metrics and this document.' },
];

/** Parts may share components (a 401): the same name twice must be the same object. */
function merged<T>(parts: readonly (Record<string, T> | undefined)[], what: string): Record<string, T> {
  const out: Record<string, T> = {};
  for (const part of parts) {
    for (const [name, value] of Object.entries(part ?? {})) {
      if (name in out && out[name] !== value) throw new Error(`two ${what} named ${name}`);
      out[name] = value;
    }
  }
  return out;
}

export function buildDocument(about: About): OpenApiDocument {
  const parts: PathsPart[] = [razerPaths(), webhookPaths(), adminPaths(), operationsPaths()];
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: JSON_SCHEMA_DIALECT,
    info: {
      title: about.name,
      version: about.version,
      description: `${about.description}. Every answer carries X-Request-Id (the caller's, when it sent a sane one).`,
      license: { name: 'MIT', identifier: 'MIT' },
    },
    tags: TAGS,
    paths: merged(
      parts.map((p) => p.paths),
      'paths',
    ),
    components: {
      schemas: componentSchemas(),
      securitySchemes: merged(
        parts.map((p) => p.securitySchemes),
        'security schemes',
      ),
      responses: merged(
        parts.map((p) => p.responses),
        'responses',
      ),
      headers: merged(
        parts.map((p) => p.headers),
        'headers',
      ),
      parameters: merged(
        parts.map((p) => p.parameters),
        'parameters',
      ),
    },
  };
}

let served: { document: OpenApiDocument; text: string } | undefined;

/** Built on first use, once per process: it depends on nothing that changes while it runs. */
export function openapiDocument(): { document: OpenApiDocument; text: string } {
  if (!served) {
    const document = buildDocument(readPackage());
    served = { document, text: JSON.stringify(document) };
  }
  return served;
}
