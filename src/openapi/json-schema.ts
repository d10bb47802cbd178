import { type core, z } from 'zod';
import type { Parameter, Reference, Schema } from './types.js';

/** What the document says about a zod schema besides its shape: a component name, a description. */
export interface SchemaDocs {
  id?: string;
  description?: string;
}

/**
 * Two registries because one zod schema reads differently on each side: a request is described
 * as a client writes it (before transforms and defaults), an answer as the gateway writes it.
 */
export const requestDocs = z.registry<SchemaDocs>();
export const responseDocs = z.registry<SchemaDocs>();

export const JSON_SCHEMA_DIALECT = 'https://json-schema.org/draft/2020-12/schema';

type Side = 'input' | 'output';
const registryOf = (io: Side) => (io === 'input' ? requestDocs : responseDocs);

/** Refinements and transforms have no JSON Schema: they become `{}` and are described in words. */
const options = (io: Side) =>
  ({ io, target: 'draft-2020-12', unrepresentable: 'any', metadata: registryOf(io) }) as const;

export const componentRef = (id: string): Reference => ({ $ref: `#/components/schemas/${id}` });

/**
 * A standalone JSON Schema made fit to sit inside the document: the dialect is the document's,
 * and zod's `$id` (the component's fragment) is no valid `$id` there.
 */
function embedded(schema: Schema, what: string): Schema {
  const { $schema: _dialect, $id: _id, ...rest } = schema;
  // Definitions inside a schema would be a second, hidden set of components.
  if ('$defs' in rest) throw new Error(`${what}: nested named schemas must be components`);
  return rest;
}

/** A schema where the document needs one: a reference to its component when it is named. */
export function schemaOf(schema: core.$ZodType, io: Side): Schema {
  const id = registryOf(io).get(schema)?.id;
  if (id) return componentRef(id);
  return embedded(z.toJSONSchema(schema, options(io)), 'an unnamed schema');
}

export const requestSchema = (schema: core.$ZodType): Schema => schemaOf(schema, 'input');
export const responseSchema = (schema: core.$ZodType): Schema => schemaOf(schema, 'output');

/** `components.schemas`: every named request and answer schema, references between them kept. */
export function componentSchemas(): Record<string, Schema> {
  const out: Record<string, Schema> = {};
  for (const io of ['input', 'output'] as const) {
    const { schemas } = z.toJSONSchema(registryOf(io), {
      ...options(io),
      uri: (id) => componentRef(id).$ref,
    });
    for (const [id, schema] of Object.entries(schemas)) {
      if (id in out) throw new Error(`schema ${id} is named on both sides`);
      out[id] = embedded(schema, id);
    }
  }
  return out;
}

/**
 * The query parameters of a listing, one per field of its zod object, so that a field added to
 * the schema is documented (its description is required by type) and a removed one goes away.
 */
export function queryParameters<S extends z.ZodObject>(
  schema: S,
  descriptions: { [K in keyof S['shape']]: string },
): Parameter[] {
  const whole = z.toJSONSchema(schema, options('input'));
  const required = new Set(whole.required ?? []);
  return Object.entries(schema.shape).map(([name, field]) => {
    // A transformed field's default is no JSON Schema `default` (zod drops it): said in words.
    const fallback = field instanceof z.ZodDefault ? ` Default: ${String(field.def.defaultValue)}.` : '';
    return {
      name,
      in: 'query',
      required: required.has(name),
      description: `${descriptions[name as keyof S['shape']]}${fallback}`,
      schema: requestSchema(field),
    };
  });
}
