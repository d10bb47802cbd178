import type { SalesGroup } from '../db/sales.js';
import type { Store } from '../db/store.js';
import type { StoredState } from '../db/vocabulary.js';
import { type FiguresRow, saleFigures } from '../fulfilment/profit.js';
import { csvLine, numberCell, textCell } from './csv.js';
import { dayNumber, dayText, type ReportQuery, reportRange } from './query.js';

export type { ReportBy, ReportQuery } from './query.js';
export { MAX_REPORT_DAYS, reportQuerySchema, reportRange } from './query.js';

/** One line of a report: a day or a SKU, or the total. */
export interface ReportLine {
  /** The day (YYYY-MM-DD at the offset) or the SKU; 'total' on the total line. */
  key: string;
  /** Purchases topped up (the buyer paid) and not cancelled: delivered + failed + refunded + open. */
  sold: number;
  /** SUCCESS. */
  delivered: number;
  /** FAILED with no supplier order taken (trx_code null): answered failed, Razer refunds the buyer. */
  failed: number;
  /** FAILED after the supplier took the order (trx_code set): failed or refunded at the supplier. */
  refunded: number;
  /** Topped up, not final yet (QUEUED, ORDERING, PROCESSING, UNKNOWN). */
  open: number;
  /** Whole IDR: what the priced delivered sales earned (failed and refunded ones earn 0). */
  revenueIdr: number;
  /** Whole IDR: what they cost. */
  costIdr: number;
  /** revenueIdr - costIdr. */
  profitIdr: number;
  /** Delivered sales whose revenue or cost was not recorded: left out of the money figures. */
  unpriced: number;
}

export interface SalesReport {
  query: ReportQuery;
  /** by day: every day of the range, in order (days without sales too); by sku: the SKUs with sales, by name. */
  lines: ReportLine[];
  total: ReportLine;
}

/**
 * What the reports count as sold: a purchase Razer topped up (the buyer paid) that was not
 * cancelled. The state decides it: the only way out of INITIATED into these is the top-up
 * (INITIATED -> QUEUED), so topped_up_at, null on rows from before it was kept, adds nothing.
 * INITIATED (not paid), EXPIRED (never paid) and CANCELLED (cancelled by Razer before anything
 * was sent to the supplier, paid or not: Razer settles nothing) are in no count.
 */
const SOLD: ReadonlySet<StoredState> = new Set<StoredState>([
  'QUEUED',
  'ORDERING',
  'PROCESSING',
  'UNKNOWN',
  'SUCCESS',
  'FAILED',
]);

const emptyLine = (key: string): ReportLine => ({
  key,
  sold: 0,
  delivered: 0,
  failed: 0,
  refunded: 0,
  open: 0,
  revenueIdr: 0,
  costIdr: 0,
  profitIdr: 0,
  unpriced: 0,
});

/** a + b, refused rather than rounded beyond 2^53. */
function plus(a: number, b: number): number {
  const sum = a + b;
  if (!Number.isSafeInteger(sum))
    throw new Error(`a report figure passes 2^53 (${a} + ${b}): not counted exactly`);
  return sum;
}

/**
 * A group of rows as one row for the profit rule. The rule is linear: for rows alike in state
 * and in which figures they recorded, it takes the same branch for each (cost from price_paid,
 * else price_offered; revenue when recorded), so revenue, cost and profit of the group are those
 * of one row holding the group's sums. The rule stays in one place (saleFigures), not in SQL.
 */
function groupAsRow(g: SalesGroup): FiguresRow {
  return {
    state: g.state,
    pricePaid: g.hasPricePaid ? g.pricePaid : null,
    priceOffered: g.hasPriceOffered ? g.priceOffered : null,
    revenueMinor: g.hasRevenue ? 0 : null,
    revenueCurrency: g.hasRevenue ? 'IDR' : null,
    revenueRateE6: g.hasRevenue ? 1_000_000 : null,
    revenueRateSet: null,
    revenueIdr: g.hasRevenue ? g.revenueIdr : null,
  };
}

function addGroup(line: ReportLine, g: SalesGroup): void {
  const n = g.count;
  line.sold = plus(line.sold, n);
  if (g.state === 'SUCCESS') line.delivered = plus(line.delivered, n);
  else if (g.state === 'FAILED') {
    if (g.hasTrxCode) line.refunded = plus(line.refunded, n);
    else line.failed = plus(line.failed, n);
  } else line.open = plus(line.open, n);
  const f = saleFigures(groupAsRow(g));
  if (f.outcome === 'open') return;
  if (f.revenueIdr === null || f.costIdr === null || f.profitIdr === null) {
    line.unpriced = plus(line.unpriced, n);
    return;
  }
  line.revenueIdr = plus(line.revenueIdr, f.revenueIdr);
  line.costIdr = plus(line.costIdr, f.costIdr);
  line.profitIdr = plus(line.profitIdr, f.profitIdr);
}

function addLine(total: ReportLine, line: ReportLine): void {
  for (const k of [
    'sold',
    'delivered',
    'failed',
    'refunded',
    'open',
    'revenueIdr',
    'costIdr',
    'profitIdr',
    'unpriced',
  ] as const)
    total[k] = plus(total[k], line[k]);
}

/** Sold, delivered, failed, refunded, open, revenue, cost and profit per day or per SKU: one read of the range. */
export async function salesReport(store: Store, query: ReportQuery): Promise<SalesReport> {
  const { since, until } = reportRange(query);
  const groups = await store.salesGroups({
    since,
    until,
    by: query.by,
    utcOffsetMinutes: query.utcOffsetMinutes,
  });
  const lines = new Map<string, ReportLine>();
  if (query.by === 'day')
    for (let d = dayNumber(query.from); d <= dayNumber(query.to); d++)
      lines.set(dayText(d), emptyLine(dayText(d)));
  for (const g of groups) {
    if (!SOLD.has(g.state)) continue;
    let line = lines.get(g.key);
    if (!line) {
      line = emptyLine(g.key);
      lines.set(g.key, line);
    }
    addGroup(line, g);
  }
  const sorted = [...lines.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const total = emptyLine('total');
  for (const line of sorted) addLine(total, line);
  return { query, lines: sorted, total };
}

const REPORT_COLUMNS = [
  'sold',
  'delivered',
  'failed',
  'refunded',
  'open',
  'revenue_idr',
  'cost_idr',
  'profit_idr',
  'unpriced',
] as const;

/** A line's figures in the order of REPORT_COLUMNS: what the CSV and the CLI's table show. */
export const lineFigures = (l: ReportLine): number[] => [
  l.sold,
  l.delivered,
  l.failed,
  l.refunded,
  l.open,
  l.revenueIdr,
  l.costIdr,
  l.profitIdr,
  l.unpriced,
];

/** The report as CSV: a header (day or sku first), a line per day or SKU, then the total line. */
export function reportCsv(report: SalesReport): string {
  const row = (l: ReportLine) => csvLine([textCell(l.key), ...lineFigures(l).map(numberCell)]);
  return [csvLine([report.query.by, ...REPORT_COLUMNS]), ...report.lines.map(row), row(report.total)].join(
    '',
  );
}

/** The columns of the transactions CSV, in order. */
export const TRANSACTION_CSV_HEADER: readonly string[] = [
  'transaction_number',
  'created_at',
  'sku',
  'state',
  'trx_code',
  'cost_idr',
  'revenue_amount',
  'revenue_currency',
  'revenue_idr',
  'profit_idr',
  'final_at',
];

/** Rows read per page: a year of data never sits in memory. */
const PAGE = 2000;

const iso = (ms: number | null) => (ms === null ? '' : new Date(ms).toISOString());

/**
 * One line per transaction created in the range, in every state, by creation time (then
 * number): the header line first, every line ending CRLF. Money cells come from saleFigures
 * row by row, and are exactly what the report counts: revenue, cost and profit of a delivered
 * sale with both recorded; 0 for a failed, refunded, cancelled or expired one; empty for an
 * open one and for a delivered one missing a figure (the report's `unpriced`). So each report
 * figure is the sum of its column over the rows of the range. revenue_amount and
 * revenue_currency: a delivered sale's recorded revenue in its own currency (what Razer
 * settles), empty otherwise. final_at: when it moved into its final state; empty while open.
 */
export async function* transactionCsvLines(
  store: Store,
  query: Omit<ReportQuery, 'by'>,
  options: { pageSize?: number } = {},
): AsyncGenerator<string> {
  const limit = options.pageSize ?? PAGE;
  const { since, until } = reportRange(query);
  yield csvLine(TRANSACTION_CSV_HEADER.map(textCell));
  let after: { createdAt: number; transactionNumber: string } | undefined;
  for (;;) {
    const rows = await store.salesPage({ since, until, after, limit });
    for (const r of rows) {
      const f = saleFigures(r);
      const priced = f.revenueIdr !== null && f.costIdr !== null && f.profitIdr !== null;
      const delivered = f.outcome === 'delivered' && f.revenue !== null;
      yield csvLine([
        textCell(r.transactionNumber),
        iso(r.createdAt),
        textCell(r.sku),
        textCell(r.state),
        textCell(r.trxCode),
        numberCell(priced ? f.costIdr : null),
        textCell(delivered ? (f.revenue?.amount ?? null) : null),
        textCell(delivered ? (f.revenue?.currency ?? null) : null),
        numberCell(priced ? f.revenueIdr : null),
        numberCell(priced ? f.profitIdr : null),
        iso(r.finalAt),
      ]);
    }
    const last = rows.at(-1);
    if (rows.length < limit || !last) return;
    after = { createdAt: last.createdAt, transactionNumber: last.transactionNumber };
  }
}
