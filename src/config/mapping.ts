import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { parseTemplate, type TemplatePart } from './template.js';
import { parseYamlWith } from './yaml-file.js';

/** Razer SKUs as they may appear in the mapping (and in Razer's requests). */
export const SKU_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
const FORM_KEY = /^[A-Za-z0-9_.-]{1,64}$/;

const positiveInt = (what: string) =>
  z
    .number({ error: (iss) => `must be a number (${what}), got ${describe(iss.input)}` })
    .int({ error: (iss) => `must be a whole number (${what}), got ${describe(iss.input)}` })
    .positive({ error: (iss) => `must be greater than 0 (${what}), got ${describe(iss.input)}` });

const nonEmptyText = (what: string) =>
  z
    .string({
      error: (iss) => (iss.input === undefined ? `is required (${what})` : `must be text (${what})`),
    })
    .trim()
    .min(1, { error: `must not be empty (${what})` });

const accountSchema = z.strictObject({
  pattern: z
    .string({ error: 'must be a regular expression with named groups, as text' })
    .min(1, { error: 'must not be empty' }),
});

const limitsSchema = z.strictObject({
  per_account_per_day: positiveInt('purchases per account per day').optional(),
  per_sku_per_day: positiveInt('purchases of this SKU per day').optional(),
});

const entrySchema = z
  .strictObject({
    brand: nonEmptyText('the Mitra brand_key'),
    variation: nonEmptyText('the Mitra variation_key'),
    max_price: positiveInt('IDR'),
    countries: z
      .array(
        z
          .string({ error: 'must be a two-letter country code such as MY' })
          .transform((c) => c.trim().toUpperCase())
          .pipe(z.string().regex(/^[A-Z]{2}$/, { error: 'must be a two-letter country code such as MY' })),
        { error: 'must be a list of two-letter country codes, such as [MY, ID]' },
      )
      .min(1, { error: 'must list at least one country (leave the field out to allow all)' })
      .optional(),
    account: accountSchema.optional(),
    form: z
      .record(
        z.string().regex(FORM_KEY, { error: 'form keys are Mitra form keys such as user_id' }),
        z.string({ error: 'must be a template text such as "{accountId}"' }),
        { error: 'must be a map of Mitra form keys to value templates' },
      )
      .default({}),
    limits: limitsSchema.optional(),
    enabled: z.boolean({ error: 'must be true or false' }).default(true),
    voucher: z.boolean({ error: 'must be true or false' }).optional(),
  })
  // Patterns and templates are checked even when a sibling field failed, so that one run of
  // `gateway check` reports every problem of the file.
  .superRefine(
    (entry, ctx) => {
      // Runs on whatever the file holds: an SKU with nothing under it is null.
      const raw = (entry && typeof entry === 'object' ? entry : {}) as {
        account?: { pattern?: unknown } | null;
        form?: unknown;
      };
      const pattern = typeof raw.account?.pattern === 'string' ? raw.account.pattern : undefined;
      const form = raw.form && typeof raw.form === 'object' ? (raw.form as Record<string, unknown>) : {};
      for (const issue of compileRules(pattern, form).issues) ctx.addIssue({ code: 'custom', ...issue });
    },
    { when: () => true },
  )
  .transform((entry) => {
    const rules = compileRules(entry.account?.pattern, entry.form);
    return {
      brand: entry.brand,
      variation: entry.variation,
      maxPrice: entry.max_price,
      countries: entry.countries ?? null,
      accountPattern: rules.pattern,
      form: rules.form,
      limits: {
        perAccountPerDay: entry.limits?.per_account_per_day ?? null,
        perSkuPerDay: entry.limits?.per_sku_per_day ?? null,
      },
      enabled: entry.enabled,
      // null when the file does not say.
      voucher: entry.voucher ?? null,
    };
  });

interface CompiledRules {
  pattern: RegExp | null;
  form: { key: string; parts: TemplatePart[] }[];
  issues: { path: string[]; message: string }[];
}

function compileRules(patternSource: string | undefined, form: Record<string, unknown>): CompiledRules {
  const issues: CompiledRules['issues'] = [];
  let pattern: RegExp | null = null;
  let groups: string[] = [];
  if (patternSource !== undefined) {
    try {
      // Compiled alone first: a source that compiles cannot close the wrapping group below.
      new RegExp(patternSource, 'u');
      // Anchored as a whole, so that a pattern never takes a part of accountId (another
      // player's account inside a longer string).
      pattern = new RegExp(`^(?:${patternSource})$`, 'u');
      // An empty alternative makes every group (all undefined) appear on a match of ''.
      groups = Object.keys(new RegExp(`(?:${patternSource})|`, 'u').exec('')?.groups ?? {});
      if (groups.length === 0) {
        issues.push({
          path: ['account', 'pattern'],
          message: 'pattern has no named groups such as (?<user_id>\\d+)',
        });
      }
    } catch (err) {
      issues.push({
        path: ['account', 'pattern'],
        message: `pattern does not compile: ${(err as Error).message}`,
      });
    }
  }
  const compiled: CompiledRules['form'] = [];
  // Templates are only judged against a pattern that compiled, or against none at all.
  if (issues.length === 0) {
    for (const [key, template] of Object.entries(form)) {
      if (typeof template !== 'string') continue;
      const parsed = parseTemplate(template, groups);
      if (parsed.ok) compiled.push({ key, parts: parsed.parts });
      else issues.push({ path: ['form', key], message: parsed.reason });
    }
  }
  return { pattern, form: compiled, issues };
}

const mappingSchema = z
  .strictObject(
    {
      skus: z
        .record(
          z.string().regex(SKU_PATTERN, {
            error: 'SKU names are 1-64 letters, digits or . _ : - and start with a letter or digit',
          }),
          entrySchema,
          { error: 'must be a map of Razer SKU -> entry' },
        )
        .refine((skus) => Object.keys(skus).length > 0, { error: 'no SKU is defined' }),
    },
    { error: 'the file must be a YAML map with a top-level "skus:" key' },
  )
  .transform(({ skus }) => ({
    skus: new Map(Object.entries(skus).map(([sku, entry]) => [sku, { sku, ...entry }])),
  }));

export type Mapping = z.output<typeof mappingSchema>;
export type SkuMapping = Mapping['skus'] extends Map<string, infer E> ? E : never;

export type MappingResult = { ok: true; mapping: Mapping } | { ok: false; errors: string[] };

/** Parses the mapping file's text; every error names the file, line, SKU, field and reason. */
export function parseMapping(text: string, file: string): MappingResult {
  const result = parseYamlWith(text, file, mappingSchema, (path, message) => {
    if (path[0] === 'skus' && path.length >= 2) {
      const field = path.slice(2).map(String).join('.');
      return field
        ? `sku ${String(path[1])}, field ${field}: ${message}`
        : `sku ${String(path[1])}: ${message}`;
    }
    return null;
  });
  return result.ok ? { ok: true, mapping: result.value } : result;
}

export function loadMappingFile(file: string): MappingResult {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return { ok: false, errors: [`${file}: cannot read the mapping file: ${(err as Error).message}`] };
  }
  return parseMapping(text, file);
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const s = JSON.stringify(value) ?? String(value);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}
