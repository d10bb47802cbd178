import { z } from 'zod';
import type { TransactionCursor, TransactionQuery } from '../db/types.js';
import { TRANSACTION_STATES } from '../db/vocabulary.js';
import { reportQuerySchema } from '../reports/sales.js';

/** Most items on one page of a listing. */
export const MAX_PAGE = 200;

/** An instant: ISO 8601 (`2026-11-22`, `2026-11-22T10:00:00Z`) or epoch milliseconds. */
const instant = z.string().transform((text, ctx) => {
  const ms = /^\d{1,15}$/.test(text)
    ? Number(text)
    : /^\d{4}-\d\d-\d\d/.test(text)
      ? Date.parse(text)
      : Number.NaN;
  if (Number.isNaN(ms)) {
    ctx.issues.push({
      code: 'custom',
      input: text,
      message: `must be an ISO 8601 time (2026-11-22T10:00:00Z) or epoch milliseconds, got "${text}"`,
    });
    return z.NEVER;
  }
  return ms;
});

const pageSize = z
  .string()
  .regex(/^\d{1,4}$/, { error: `must be a whole number from 1 to ${MAX_PAGE}` })
  .transform(Number)
  .refine((n) => n >= 1 && n <= MAX_PAGE, { error: `must be a whole number from 1 to ${MAX_PAGE}` });

const flag = z.enum(['true', 'false'], { error: 'must be true or false' }).transform((v) => v === 'true');

const cursorTuple = z.tuple([
  z.union([z.literal(0), z.literal(1), z.literal(2)]),
  z.number().int(),
  z.string().max(64),
]);

/** The `next` of a page, opaque to clients. */
export const encodeCursor = (c: TransactionCursor): string =>
  Buffer.from(JSON.stringify([c.rank, c.key, c.transactionNumber])).toString('base64url');

const cursor = z.string().transform((text, ctx): TransactionCursor => {
  try {
    const [rank, key, transactionNumber] = cursorTuple.parse(
      JSON.parse(Buffer.from(text, 'base64url').toString()),
    );
    return { rank, key, transactionNumber };
  } catch {
    ctx.issues.push({
      code: 'custom',
      input: text,
      message: 'is not a cursor this API gave (use the `next` of a page)',
    });
    return z.NEVER;
  }
});

const states = z
  .string()
  .transform((text) => text.split(',').map((s) => s.trim().toUpperCase()))
  .pipe(z.array(z.enum(TRANSACTION_STATES, { error: `must be among ${TRANSACTION_STATES.join(', ')}` })));

const shortText = (max: number) => z.string().trim().min(1, { error: 'must not be empty' }).max(max);

/** GET /admin/transactions: unknown parameters are refused, so a typo never widens a listing. */
export const transactionListQuery = z.strictObject({
  state: states.optional(),
  attention: flag.optional(),
  sku: shortText(64).optional(),
  since: instant.optional(),
  until: instant.optional(),
  q: shortText(128).optional(),
  limit: pageSize.default(50),
  cursor: cursor.optional(),
});
export type TransactionListQuery = z.output<typeof transactionListQuery>;

/** The storage port's query for a parsed listing (admin API and `gateway tx list`). */
export const storeQuery = (q: TransactionListQuery): TransactionQuery => ({
  states: q.state,
  attention: q.attention,
  sku: q.sku,
  since: q.since,
  until: q.until,
  q: q.q,
  limit: q.limit,
  after: q.cursor,
});

/** GET /admin/webhooks */
export const webhookListQuery = z.strictObject({
  processed: flag.optional(),
  kind: shortText(32).optional(),
  transaction: shortText(64).optional(),
  since: instant.optional(),
  until: instant.optional(),
  limit: pageSize.default(50),
  cursor: z
    .string()
    .regex(/^\d{1,15}$/, { error: 'is not a cursor this API gave (use the `next` of a page)' })
    .transform(Number)
    .optional(),
});

export const webhookIdParam = z
  .string()
  .regex(/^\d{1,15}$/, { error: 'must be a webhook id (a whole number)' })
  .transform(Number);

/** POST /admin/supplier/catalogue: the variations to fetch now, as a mapping names them. */
export const catalogueRefreshBody = z.strictObject({
  items: z
    .array(
      z.strictObject({
        brand: z.string().regex(/^[!-~]{1,100}$/, { error: 'must be a brand key' }),
        variation: z.string().regex(/^[!-~]{1,100}$/, { error: 'must be a variation key' }),
      }),
    )
    .max(1000)
    // Each distinct brand is one supplier call: a mapping's worth, not a crawl of the catalogue.
    .refine((items) => new Set(items.map((i) => i.brand)).size <= 100, {
      error: 'may name at most 100 distinct brands',
    }),
});

/**
 * GET /admin/reports/sales and /admin/reports/sales.csv: the days (YYYY-MM-DD at
 * REPORT_UTC_OFFSET, both included) and the grouping. Unknown parameters are refused.
 */
export const salesReportQuery = reportQuerySchema.strict();

/** GET /admin/reports/transactions.csv: the range alone, as the documented parameters. */
export const transactionsCsvParams = z.strictObject({
  from: reportQuerySchema.shape.from,
  to: reportQuerySchema.shape.to,
});

/** The same, with the report's own checks of the range (in order, not longer than allowed). */
export const transactionsCsvQuery = transactionsCsvParams.pipe(reportQuerySchema);

/**
 * The first problem of a report's parameters: the report's own messages are whole sentences
 * naming their parameter (`from must be a day written YYYY-MM-DD, got "x"`), kept as they are.
 */
export function reportIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (issue?.code === 'unrecognized_keys') return firstIssue(error);
  return issue?.message ?? 'invalid request';
}

/** The first problem of a failed parse, as one line naming the field. */
export function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid request';
  if (issue.code === 'unrecognized_keys') return `unknown parameter ${issue.keys.join(', ')}`;
  // The parameter's name: `state`, not `state.0` for the first of a list.
  const where = issue.path.length > 0 ? String(issue.path[0]) : '';
  return where ? `${where} ${issue.message}` : issue.message;
}
