import { isCalendarDate } from '../config/money.js';
import { dayAt, dayNumber, dayText } from '../reports/query.js';
import type { ReportBy, ReportLine, SalesReport } from '../reports/sales.js';

// The Sales page's pure parts: the range a visit without one shows, the days of the chart and
// the scale they are drawn on.

/** The range the page shows when none is asked: the last 30 days, today included. */
export const DEFAULT_DAYS = 30;

/** The page's form as typed (YYYY-MM-DD, both ends included); what the report reads. */
export interface SalesForm {
  from: string;
  to: string;
  by: string;
}

/** The grouping of the table when none is asked: the chart is per day already. */
export const DEFAULT_BY: ReportBy = 'sku';

/**
 * The form from the page's query: an empty or absent end is the default (today at the offset,
 * and 30 days back from `to`); `by` defaults to SKU. Anything else is kept as typed, to be
 * checked by the report's own schema and shown back with its reason when wrong.
 */
export function salesForm(query: Record<string, string>, now: number, utcOffsetMinutes: number): SalesForm {
  const given = (name: string) => query[name]?.trim() || undefined;
  const today = dayAt(now, utcOffsetMinutes);
  const to = given('to') ?? today;
  const from = given('from') ?? dayText(dayNumber(isCalendarDate(to) ? to : today) - DEFAULT_DAYS + 1);
  return { from, to, by: given('by') ?? DEFAULT_BY };
}

/** `UTC+07:00`, `UTC-03:30`, or `UTC` itself. */
export function offsetText(minutes: number): string {
  if (minutes === 0) return 'UTC';
  const abs = Math.abs(minutes);
  const hh = String(Math.floor(abs / 60)).padStart(2, '0');
  const mm = String(abs % 60).padStart(2, '0');
  return `UTC${minutes < 0 ? '-' : '+'}${hh}:${mm}`;
}

export interface DayFigures {
  day: string;
  revenueIdr: number;
  costIdr: number;
  profitIdr: number;
  sold: number;
}

/** Every day of the report's range, oldest first: a day without sales is drawn at zero. */
export function chartDays(report: SalesReport): DayFigures[] {
  const byDay = new Map<string, ReportLine>(report.lines.map((l) => [l.key, l]));
  const first = dayNumber(report.query.from);
  const last = dayNumber(report.query.to);
  const days: DayFigures[] = [];
  for (let n = first; n <= last; n++) {
    const day = dayText(n);
    const line = byDay.get(day);
    days.push({
      day,
      revenueIdr: line?.revenueIdr ?? 0,
      costIdr: line?.costIdr ?? 0,
      profitIdr: line?.profitIdr ?? 0,
      sold: line?.sold ?? 0,
    });
  }
  return days;
}

/** A step of 1, 2 or 5 times a power of ten: about `count` steps cover `span`. */
function niceStep(span: number, count: number): number {
  const raw = Math.max(span / count, 1);
  const power = 10 ** Math.floor(Math.log10(raw));
  const m = raw / power;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * power;
}

export interface Scale {
  /** The lowest value drawn (0, or below it when a day lost money) and the highest. */
  min: number;
  max: number;
  /** Where the axis is labelled, lowest first; 0 is always among them. */
  ticks: number[];
}

/** The vertical scale of the chart: whole steps of IDR around every bar, zero included. */
export function moneyScale(days: readonly DayFigures[]): Scale {
  const values = days.flatMap((d) => [d.revenueIdr, d.costIdr, d.profitIdr]);
  const high = Math.max(0, ...values);
  const low = Math.min(0, ...values);
  // Nothing earned or spent: a scale of a thousand rupiah, rather than none.
  const span = high - low || 1000;
  const step = niceStep(span, 5);
  const min = Math.floor(low / step) * step;
  const max = Math.max(Math.ceil(high / step) * step, min === 0 ? step : 0);
  const ticks: number[] = [];
  for (let t = min; t <= max; t += step) ticks.push(t);
  return { min, max, ticks };
}
