import type { z } from 'zod';
import { requestSchema, responseSchema } from './json-schema.js';
import type { Example, Header, MediaType, Reference, RequestBody, Response, Schema } from './types.js';

/** Examples keyed by a short name: several per status where several codes share it. */
export type Examples = Record<string, Example>;

export const ref = (kind: 'responses' | 'headers' | 'parameters', name: string): Reference => ({
  $ref: `#/components/${kind}/${name}`,
});

export function jsonResponse(
  description: string,
  schema: z.ZodType,
  examples: Examples,
  headers?: Record<string, Header | Reference>,
): Response {
  return {
    description,
    ...(headers ? { headers } : {}),
    content: { 'application/json': withExamples(responseSchema(schema), examples) },
  };
}

/** An empty `examples` says nothing: left out. */
const withExamples = (schema: Schema, examples: Examples): MediaType =>
  Object.keys(examples).length > 0 ? { schema, examples } : { schema };

export function textResponse(
  description: string,
  schema: z.ZodType,
  examples: Examples,
  type = 'text/plain',
  headers?: Record<string, Header | Reference>,
): Response {
  return {
    description,
    ...(headers ? { headers } : {}),
    content: { [type]: withExamples(responseSchema(schema), examples) },
  };
}

export function jsonBody(schema: z.ZodType, examples: Examples, description?: string): RequestBody {
  return {
    ...(description ? { description } : {}),
    required: true,
    content: { 'application/json': withExamples(requestSchema(schema), examples) },
  };
}

export const errorExample = (code: string, message: string, summary: string): Example => ({
  summary,
  value: { code, message },
});

/** `{code, message}` examples, one per code, keyed by the code. */
export function errorExamples(
  entries: readonly (readonly [code: string, message: string, summary: string])[],
): Examples {
  return Object.fromEntries(
    entries.map(([code, message, summary]) => [code, errorExample(code, message, summary)]),
  );
}
