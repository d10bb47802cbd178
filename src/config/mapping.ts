import { readFileSync } from 'node:fs';
import { z } from 'zod';
import {
  CURRENCY_PATTERN,
  formatAmount,
  formatRate,
  IDR,
  isCalendarDate,
  MAX_AMOUNT_UNITS,
  MAX_RATE_IDR,
  minorDigits,
  parseDecimal,
  RATE_DECIMALS,
  RATE_SCALE,
  toIdr,
} from './money.js';
import { parseTemplate, type TemplatePart } from './template.js';
import { parseYamlWith } from './yaml-file.js';

/** Razer SKUs as they may appear in the mapping (and in Razer's requests). */
export const SKU_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
const FORM_KEY = /^[A-Za-z0-9_.-]{1,64}$/;

const positiveInt = (what: string, missing?: string) =>
  z
    .number({
      error: (iss) =>
        missing !== undefined && iss.input === undefined
          ? missing
          : `must be a number (${what}), got ${describe(iss.input)}`,
    })
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

const currencySchema = z
  .string({ error: 'must be an ISO 4217 currency code such as USD' })
  .regex(CURRENCY_PATTERN, {
    error: 'must be an ISO 4217 currency code: three upper-case letters such as USD',
  });

const decimalSchema = z.union([z.string(), z.number()], {
  error: (iss) => `must be a decimal number such as "0.99", got ${describe(iss.input)}`,
});

/**
 * What Razer settles to the operator for one sale of the SKU, in its own currency. Its value in
 * IDR is computed with the file's `rates:` (mappingSchema).
 */
const revenueSchema = z
  .strictObject(
    { amount: decimalSchema, currency: currencySchema },
    { error: 'must be a map such as { amount: "0.99", currency: USD }' },
  )
  // The amount's decimals depend on the currency: checked whenever both are there, even when
  // one of them failed, so that every problem is reported at once.
  .superRefine(
    (revenue, ctx) => {
      const raw = (revenue && typeof revenue === 'object' ? revenue : {}) as {
        amount?: unknown;
        currency?: unknown;
      };
      if (raw.amount === undefined || (typeof raw.amount !== 'string' && typeof raw.amount !== 'number'))
        return;
      const currency =
        typeof raw.currency === 'string' && CURRENCY_PATTERN.test(raw.currency) ? raw.currency : null;
      const digits = currency === null ? 2 : minorDigits(currency);
      const parsed = parseDecimal(raw.amount, digits, MAX_AMOUNT_UNITS);
      if (!parsed.ok)
        ctx.addIssue({
          code: 'custom',
          path: ['amount'],
          message:
            currency === null ? parsed.reason : `${parsed.reason} (${currency} has ${digits} minor digits)`,
        });
    },
    { when: () => true },
  )
  .transform((revenue) => {
    const parsed = parseDecimal(revenue.amount, minorDigits(revenue.currency), MAX_AMOUNT_UNITS);
    // Refused above when not ok.
    return { amountMinor: parsed.ok ? Number(parsed.scaled) : 0, currency: revenue.currency };
  });

/** IDR per unit of a currency, and the day it was set. */
const rateSchema = z.strictObject(
  {
    idr: decimalSchema.transform((value, ctx) => {
      const parsed = parseDecimal(value, RATE_DECIMALS, MAX_RATE_IDR);
      if (parsed.ok) return Number(parsed.scaled);
      ctx.addIssue({ code: 'custom', message: `${parsed.reason} (IDR per unit)` });
      return z.NEVER;
    }),
    // A YAML 1.1 file reads an unquoted date as a timestamp: taken back as the day it names.
    set: z.preprocess(
      (value) =>
        value instanceof Date &&
        !Number.isNaN(value.getTime()) &&
        value.toISOString().endsWith('T00:00:00.000Z')
          ? value.toISOString().slice(0, 10)
          : value,
      z
        .string({
          error: (iss) => `must be the date the rate was set, such as 2026-12-01, got ${describe(iss.input)}`,
        })
        .refine(isCalendarDate, {
          error: (iss) => `must be the date the rate was set, such as 2026-12-01, got ${describe(iss.input)}`,
        }),
    ),
  },
  { error: 'must be a map such as { idr: 16250.5, set: 2026-12-01 }' },
);

const ratesSchema = z.record(
  currencySchema.refine((c) => c !== IDR, { error: 'IDR needs no rate: every figure is counted in IDR' }),
  rateSchema,
  {
    error:
      'must be a map of currency -> { idr: rate, set: date }, such as USD: { idr: 16250.5, set: 2026-12-01 }',
  },
);

/** The most backups a SKU may list: each is a catalogue lookup at every init that needs it. */
export const MAX_BACKUPS = 5;

/**
 * A backup variation: another supplier product that sells the same Razer SKU when the main one
 * cannot. Its own ceiling is required (a backup is often dearer); its brand defaults to the
 * main's; its revenue to the SKU's.
 */
const backupSchema = z.strictObject(
  {
    brand: nonEmptyText("the Mitra brand_key; leave it out for the main one's").optional(),
    variation: nonEmptyText('the Mitra variation_key'),
    max_price: positiveInt('IDR', 'is required: each backup has its own price ceiling (IDR)'),
    revenue: revenueSchema.optional(),
  },
  {
    error: 'must be a map such as { variation: MLBB86, max_price: 21000 }',
  },
);

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
    revenue: revenueSchema.optional(),
    backups: z
      .array(backupSchema, {
        error: 'must be a list of backup variations, such as [{ variation: MLBB86, max_price: 21000 }]',
      })
      .max(MAX_BACKUPS, { error: `lists at most ${MAX_BACKUPS} backups` })
      .optional(),
  })
  // Patterns and templates are checked even when a sibling field failed, so that one run of
  // `gateway check` reports every problem of the file.
  .superRefine(
    (entry, ctx) => {
      // Runs on whatever the file holds: an SKU with nothing under it is null.
      const raw = (entry && typeof entry === 'object' ? entry : {}) as {
        account?: { pattern?: unknown } | null;
        form?: unknown;
        brand?: unknown;
        variation?: unknown;
        backups?: unknown;
      };
      const pattern = typeof raw.account?.pattern === 'string' ? raw.account.pattern : undefined;
      const form = raw.form && typeof raw.form === 'object' ? (raw.form as Record<string, unknown>) : {};
      for (const issue of compileRules(pattern, form).issues) ctx.addIssue({ code: 'custom', ...issue });
      for (const issue of backupRepeats(raw)) ctx.addIssue({ code: 'custom', ...issue });
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
      revenue: entry.revenue ?? null,
      backups: (entry.backups ?? []).map((b) => ({
        brand: b.brand ?? entry.brand,
        variation: b.variation,
        maxPrice: b.max_price,
        /** Its own, if it differs from the SKU's. */
        revenue: b.revenue ?? null,
      })),
    };
  });

const text = (value: unknown) => (typeof value === 'string' ? value.trim() : undefined);

/**
 * A backup that names the main variation, or one listed before it: each is another product
 * (brand + variation), or it would only repeat a choice already made.
 */
function backupRepeats(raw: { brand?: unknown; variation?: unknown; backups?: unknown }): {
  path: (string | number)[];
  message: string;
}[] {
  if (!Array.isArray(raw.backups)) return [];
  const mainBrand = text(raw.brand);
  const mainVariation = text(raw.variation);
  const seen = new Map<string, number>();
  if (mainBrand && mainVariation) seen.set(`${mainBrand}/${mainVariation}`, 0);
  const issues: { path: (string | number)[]; message: string }[] = [];
  raw.backups.forEach((backup: unknown, i) => {
    const b = (backup && typeof backup === 'object' ? backup : {}) as {
      brand?: unknown;
      variation?: unknown;
    };
    const brand = b.brand === undefined ? mainBrand : text(b.brand);
    const variation = text(b.variation);
    if (!brand || !variation) return;
    const key = `${brand}/${variation}`;
    const first = seen.get(key);
    if (first === 0)
      issues.push({
        path: ['backups', i, 'variation'],
        message: `${key} is the main variation: a backup is another supplier product`,
      });
    else if (first !== undefined)
      issues.push({
        path: ['backups', i, 'variation'],
        message: `${key} is already backup ${first}: list each backup once`,
      });
    else seen.set(key, i + 1);
  });
  return issues;
}

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

/** A SKU's revenue as a sale records it at init: its amount, and its value in IDR at the rate in force. */
export interface SaleRevenue {
  /** In the currency's minor units (ISO 4217): 99 for 0.99 USD. */
  amountMinor: number;
  currency: string;
  /** IDR per unit of the currency times 1,000,000; 1,000,000 for IDR itself. */
  rateE6: number;
  /** The day the rate was set, YYYY-MM-DD; null for IDR. */
  rateSet: string | null;
  /** amountMinor at rateE6, in whole IDR, rounded half up. */
  idr: number;
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
      rates: ratesSchema.optional(),
    },
    { error: 'the file must be a YAML map with a top-level "skus:" key' },
  )
  // A revenue in a currency without a rate is refused with its SKU and line, even when other
  // fields failed too: one run of `gateway check` reports every problem of the file.
  .superRefine(
    (file, ctx) => {
      const raw = (file && typeof file === 'object' ? file : {}) as { skus?: unknown; rates?: unknown };
      const rates = raw.rates && typeof raw.rates === 'object' ? raw.rates : {};
      const skus = raw.skus && typeof raw.skus === 'object' ? (raw.skus as Record<string, unknown>) : {};
      for (const [sku, entry] of Object.entries(skus)) {
        const backups = (entry as { backups?: unknown } | null)?.backups;
        const revenues: [unknown, (string | number)[]][] = [
          [(entry as { revenue?: unknown } | null)?.revenue, ['skus', sku, 'revenue']],
          ...(Array.isArray(backups) ? backups : []).map((b: unknown, i): [unknown, (string | number)[]] => [
            (b as { revenue?: unknown } | null)?.revenue,
            ['skus', sku, 'backups', i, 'revenue'],
          ]),
        ];
        for (const [revenue, path] of revenues) {
          const currency = (revenue as { currency?: unknown } | null | undefined)?.currency;
          if (typeof currency !== 'string' || !CURRENCY_PATTERN.test(currency) || currency === IDR) continue;
          if (Object.hasOwn(rates, currency)) continue;
          ctx.addIssue({
            code: 'custom',
            path: [...path, 'currency'],
            message: `no rate for ${currency}: add one to the top-level rates:, such as rates: { ${currency}: { idr: <IDR per ${currency}>, set: <YYYY-MM-DD> } }`,
          });
        }
      }
    },
    { when: () => true },
  )
  .transform(({ skus, rates = {} }) => {
    const revenueOf = (revenue: { amountMinor: number; currency: string } | null): SaleRevenue | null => {
      if (!revenue) return null;
      const rate = revenue.currency === IDR ? { idr: RATE_SCALE, set: null } : rates[revenue.currency];
      // Refused above when missing.
      if (!rate) return null;
      return {
        ...revenue,
        rateE6: rate.idr,
        rateSet: rate.set,
        idr: toIdr(revenue.amountMinor, revenue.currency, rate.idr),
      };
    };
    return {
      skus: new Map(
        Object.entries(skus).map(([sku, entry]) => {
          const revenue = revenueOf(entry.revenue);
          // A backup without its own revenue earns the SKU's.
          const backups = entry.backups.map((b) => ({ ...b, revenue: revenueOf(b.revenue) ?? revenue }));
          return [sku, { sku, ...entry, revenue, backups }];
        }),
      ),
      /** Currency -> IDR per unit (times 1,000,000) and the day it was set. */
      rates: new Map(Object.entries(rates).map(([currency, r]) => [currency, { rateE6: r.idr, set: r.set }])),
    };
  });

export type Mapping = z.output<typeof mappingSchema>;
export type SkuMapping = Mapping['skus'] extends Map<string, infer E> ? E : never;

export type MappingResult = { ok: true; mapping: Mapping } | { ok: false; errors: string[] };

/** Parses the mapping file's text; every error names the file, line, SKU, field and reason. */
export function parseMapping(text: string, file: string): MappingResult {
  const result = parseYamlWith(text, file, mappingSchema, (path, message) => {
    if (path[0] === 'skus' && path[2] === 'backups' && typeof path[3] === 'number') {
      // Backups are counted from 1, as the choice at init names them.
      const field = path.slice(4).map(String).join('.');
      const backup = `sku ${String(path[1])}, backup ${path[3] + 1}`;
      return field ? `${backup}, field ${field}: ${message}` : `${backup}: ${message}`;
    }
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

/**
 * What is allowed but looks wrong: a rate set after `today` (YYYY-MM-DD), likely a typo of the
 * year. Said by `gateway check`; the rate is used as written.
 */
export function rateWarnings(mapping: Mapping, today: string): string[] {
  return [...mapping.rates]
    .filter(([, rate]) => rate.set > today)
    .map(([currency, rate]) => `rates.${currency}.set ${rate.set} is after today (${today}): a typo?`);
}

/**
 * What is allowed but may lose money: an option (a SKU's main or a backup) whose max_price is
 * above what a sale through it earns, its revenue in IDR at the rate in force. The gateway pays
 * up to max_price: a sale priced between the two costs more than it earns. Said by `gateway
 * check`, with the figures; an option without revenue is not judged.
 */
export function lossWarnings(mapping: Mapping): string[] {
  const out: string[] = [];
  for (const entry of mapping.skus.values()) {
    const sku = `sku ${entry.sku}${entry.enabled ? '' : ' (disabled)'}`;
    const options = [
      { name: sku, maxPrice: entry.maxPrice, revenue: entry.revenue },
      ...entry.backups.map((b, i) => ({
        name: `${sku}, backup ${i + 1} (${b.brand}/${b.variation})`,
        maxPrice: b.maxPrice,
        revenue: b.revenue,
      })),
    ];
    for (const { name, maxPrice, revenue } of options) {
      if (!revenue || maxPrice <= revenue.idr) continue;
      const converted =
        revenue.currency === IDR
          ? ''
          : ` (${formatAmount(revenue.amountMinor, revenue.currency)} ${revenue.currency} at ${formatRate(revenue.rateE6)} IDR per ${revenue.currency}, set ${revenue.rateSet})`;
      out.push(
        `${name}: max_price ${maxPrice} IDR is above its revenue, ${revenue.idr} IDR${converted}: a sale priced above ${revenue.idr} IDR loses money, up to ${maxPrice - revenue.idr} IDR`,
      );
    }
  }
  return out;
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
