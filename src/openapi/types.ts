import type { core } from 'zod';

/** The part of OpenAPI 3.1 the gateway's document uses: enough to keep it well-formed by type. */

export type Schema = core.JSONSchema.BaseSchema;

export interface Example {
  summary: string;
  value: unknown;
}

export interface MediaType {
  schema: Schema;
  examples?: Record<string, Example>;
}

export interface Header {
  description: string;
  required?: boolean;
  schema: Schema;
}

// A type, not an interface: it must fit where a JSON Schema (an index signature) is expected.
export type Reference = { $ref: string };

export interface Response {
  description: string;
  headers?: Record<string, Header | Reference>;
  content?: Record<string, MediaType>;
}

export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required: boolean;
  description?: string;
  schema: Schema;
}

export interface RequestBody {
  description?: string;
  required: boolean;
  content: Record<string, MediaType>;
}

/** Each entry is one way to be let in; `{}` means without credentials. */
export type Security = Record<string, string[]>[];

export interface Operation {
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  security?: Security;
  parameters?: (Parameter | Reference)[];
  requestBody?: RequestBody;
  responses: Record<string, Response | Reference>;
}

export type Method = 'get' | 'post';
export type PathItem = Partial<Record<Method, Operation>>;
export type Paths = Record<string, PathItem>;

export interface SecurityScheme {
  type: 'apiKey' | 'http';
  description: string;
  name?: string;
  in?: 'header';
  scheme?: 'bearer';
}

export interface OpenApiDocument {
  openapi: '3.1.0';
  jsonSchemaDialect: string;
  info: {
    title: string;
    version: string;
    description: string;
    license: { name: string; identifier: string };
  };
  tags: { name: string; description: string }[];
  paths: Paths;
  components: {
    schemas: Record<string, Schema>;
    securitySchemes: Record<string, SecurityScheme>;
    responses: Record<string, Response>;
    headers: Record<string, Header>;
    parameters: Record<string, Parameter>;
  };
}

/** What one module of paths gives the document. */
export interface PathsPart {
  paths: Paths;
  responses?: Record<string, Response>;
  headers?: Record<string, Header>;
  parameters?: Record<string, Parameter>;
  securitySchemes?: Record<string, SecurityScheme>;
}
