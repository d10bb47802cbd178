import { z } from 'zod';
import { isCalendarDate } from '../config/money.js';

/** What a report's lines are per: a day (at the report's UTC offset) or a SKU. */
export type ReportBy = 'day' | 'sku';

/** The longest range a report covers, in days (both ends counted). */
export const MAX_REPORT_DAYS = 400;

const DAY_MS = 86_400_000;

const day = (name: string) =>
  z
    .string({
      error: (iss) =>
        iss.input === undefined
          ? `${name} is required, a day written YYYY-MM-DD`
          : `${name} must be a day written YYYY-MM-DD`,
    })
    .refine(isCalendarDate, {
      error: (iss) => `${name} must be a day written YYYY-MM-DD, got "${iss.input}"`,
    });

/** A day's number since 1970-01-01 (UTC calendar): 0 for 1970-01-01. */
export const dayNumber = (date: string): number => Date.parse(`${date}T00:00:00Z`) / DAY_MS;

/** The day `n` days after 1970-01-01, written YYYY-MM-DD. */
export const dayText = (n: number): string => new Date(n * DAY_MS).toISOString().slice(0, 10);

/** A report's range and grouping, as the CLI, the admin API and the console take it. */
export const reportQuerySchema = z
  .object({
    from: day('from'),
    to: day('to'),
    by: z
      .enum(['day', 'sku'], { error: (iss) => `by must be day or sku, got "${String(iss.input)}"` })
      .default('day'),
  })
  .superRefine((q, ctx) => {
    if (!isCalendarDate(q.from) || !isCalendarDate(q.to)) return;
    const span = dayNumber(q.to) - dayNumber(q.from) + 1;
    if (span < 1)
      ctx.addIssue({
        code: 'custom',
        path: ['to'],
        message: `to (${q.to}) must not be before from (${q.from})`,
      });
    else if (span > MAX_REPORT_DAYS)
      ctx.addIssue({
        code: 'custom',
        path: ['to'],
        message: `the range ${q.from} to ${q.to} spans ${span} days; at most ${MAX_REPORT_DAYS}`,
      });
  });

export interface ReportQuery {
  /** The first day, YYYY-MM-DD at the offset, included. */
  from: string;
  /** The last day, YYYY-MM-DD at the offset, included. */
  to: string;
  by: ReportBy;
  /** Where days begin: minutes east of UTC (+07:00 is 420). */
  utcOffsetMinutes: number;
}

/** The creation times a query covers, epoch ms: [since, until). */
export function reportRange(query: Pick<ReportQuery, 'from' | 'to' | 'utcOffsetMinutes'>): {
  since: number;
  until: number;
} {
  const shift = query.utcOffsetMinutes * 60_000;
  return { since: dayNumber(query.from) * DAY_MS - shift, until: (dayNumber(query.to) + 1) * DAY_MS - shift };
}

/** The day (YYYY-MM-DD at the offset) of an epoch ms time. */
export const dayAt = (at: number, utcOffsetMinutes: number): string =>
  dayText(Math.floor((at + utcOffsetMinutes * 60_000) / DAY_MS));
