import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { NewInitiated } from '../src/db/types.js';
import type { State } from '../src/fulfilment/states.js';
import { textCell } from '../src/reports/csv.js';
import {
  type ReportLine,
  reportCsv,
  reportQuerySchema,
  type SalesReport,
  salesReport,
  TRANSACTION_CSV_HEADER,
  transactionCsvLines,
} from '../src/reports/sales.js';
import { parseCsv } from './helpers/csv-parse.js';
import { type E2E, startE2E } from './helpers/e2e.js';
import { transactionRow } from './helpers/fixtures.js';
import { EXAMPLE_MAPPING } from './helpers/mapping.js';
import { type TempDir, type TempStore, tempDir, tempStore } from './helpers/storage.js';

// Issue 24 §2: the sales report per day and per SKU, and the transactions CSV, read from
// storage. Days are at an offset; every state counts where it should; the report's totals are
// the sums of the CSV's rows; money is exact integers; text cells cannot run as formulas.

const WIB = 7 * 60;
const RANGE = { from: '2026-03-01', to: '2026-03-03' };

const USD = {
  revenueMinor: 105,
  revenueCurrency: 'USD',
  revenueRateE6: 16_250_500_000,
  revenueRateSet: '2026-02-01',
  revenueIdr: 17063,
};
const IDR = { revenueMinor: 5_500_000, revenueCurrency: 'IDR', revenueRateE6: 1_000_000, revenueIdr: 55000 };
const STEAM = { sku: 'STEAMV50', brandKey: 'STEAM', variationKey: 'STEAMV50', maxPrice: 60000 };

/** The moves that lead to each state, as the engine makes them. */
function path(state: State, trx: boolean): State[] {
  switch (state) {
    case 'INITIATED':
      return [];
    case 'QUEUED':
      return ['QUEUED'];
    case 'ORDERING':
      return ['QUEUED', 'ORDERING'];
    case 'PROCESSING':
      return ['QUEUED', 'ORDERING', 'PROCESSING'];
    case 'UNKNOWN':
      return ['QUEUED', 'ORDERING', 'UNKNOWN'];
    case 'SUCCESS':
      return ['QUEUED', 'ORDERING', 'PROCESSING', 'SUCCESS'];
    case 'FAILED':
      return trx ? ['QUEUED', 'ORDERING', 'PROCESSING', 'FAILED'] : ['QUEUED', 'FAILED'];
    case 'CANCELLED':
      return ['CANCELLED'];
    case 'EXPIRED':
      return ['EXPIRED'];
  }
}

const STEP_MS = 60_000;

interface Seed {
  n: string;
  state: State;
  created: string;
  columns?: Partial<NewInitiated>;
  /** Topped up, then cancelled by Razer before anything was sent. */
  cancelledAfterTopUp?: boolean;
  /** Written by a version that did not record topped_up_at. */
  legacy?: boolean;
}

/** A transaction through the Store, as init writes it and each move moves it: events included. */
async function seed(store: TempStore, s: Seed): Promise<{ createdAt: number; finalAt: number | null }> {
  const createdAt = Date.parse(s.created);
  await store.insertTransaction(
    transactionRow(s.n, 'INITIATED', {
      createdAt,
      updatedAt: createdAt,
      expiresAt: createdAt + 3_600_000,
      ...s.columns,
    }),
  );
  const steps: State[] = s.cancelledAfterTopUp
    ? ['QUEUED', 'CANCELLED']
    : path(s.state, Boolean(s.columns?.trxCode));
  let from: State = 'INITIATED';
  let at = createdAt;
  for (const to of steps) {
    at += STEP_MS;
    const moved = await store.moveTransaction({
      transactionNumber: s.n,
      from,
      to,
      cause: to === 'QUEUED' || to === 'CANCELLED' || to === 'EXPIRED' ? 'razer' : 'supplier',
      at,
      patch: to === 'QUEUED' && !s.legacy ? { toppedUpAt: at } : undefined,
    });
    expect(moved.ok).toBe(true);
    from = to;
  }
  return { createdAt, finalAt: ['SUCCESS', 'FAILED', 'CANCELLED', 'EXPIRED'].includes(s.state) ? at : null };
}

/** Three days at +07:00 (a day begins at 17:00Z the day before), and one row each side. */
const SALES: Seed[] = [
  // 2026-02-28 23:59:59 at +07:00: before the range.
  {
    n: 'R-BEFORE',
    state: 'SUCCESS',
    created: '2026-02-28T16:59:59Z',
    columns: { pricePaid: 15000, trxCode: 'T-B', ...USD },
  },
  // 2026-03-01: delivered at a profit of 2063; delivered with no cost recorded (unpriced).
  {
    n: 'R-01',
    state: 'SUCCESS',
    created: '2026-02-28T17:00:00Z',
    columns: { pricePaid: 15000, trxCode: 'T-01', ...USD },
  },
  { n: 'R-15', state: 'SUCCESS', created: '2026-03-01T10:00:00Z', columns: { trxCode: 'T-15', ...USD } },
  // 23:30 UTC on 2026-03-01 is 06:30 on 2026-03-02 at +07:00. Cost: the order price (the
  // supplier said nothing), profit 5000.
  {
    n: 'R-02',
    state: 'SUCCESS',
    created: '2026-03-01T23:30:00Z',
    columns: { ...STEAM, priceOffered: 50000, trxCode: 'T-02', ...IDR },
  },
  // 2026-03-02: failed before the supplier took an order; refunded after it did.
  { n: 'R-03', state: 'FAILED', created: '2026-03-02T01:00:00Z', columns: { priceOffered: 15000, ...USD } },
  {
    n: 'R-04',
    state: 'FAILED',
    created: '2026-03-02T02:00:00Z',
    columns: { pricePaid: 15000, trxCode: 'T-04', ...USD },
  },
  // 2026-03-03: four open, one delivered without revenue (unpriced), one at a loss of 2937 from
  // before topped_up_at was kept, and four never sold.
  { n: 'R-05', state: 'QUEUED', created: '2026-03-03T00:05:00Z', columns: USD },
  { n: 'R-06', state: 'ORDERING', created: '2026-03-03T00:06:00Z', columns: { priceOffered: 15000, ...USD } },
  {
    n: 'R-07',
    state: 'PROCESSING',
    created: '2026-03-03T00:07:00Z',
    columns: { priceOffered: 15000, trxCode: 'T-07', ...USD },
  },
  { n: 'R-08', state: 'UNKNOWN', created: '2026-03-03T00:08:00Z', columns: { priceOffered: 15000, ...USD } },
  {
    n: 'R-09',
    state: 'SUCCESS',
    created: '2026-03-03T03:00:00Z',
    columns: { sku: 'GENSHIN60', pricePaid: 10000, trxCode: 'T-09' },
  },
  {
    n: 'R-10',
    state: 'SUCCESS',
    created: '2026-03-03T04:00:00Z',
    legacy: true,
    columns: { pricePaid: 20000, trxCode: 'T-10', ...USD },
  },
  { n: 'R-11', state: 'INITIATED', created: '2026-03-03T05:00:00Z', columns: USD },
  { n: 'R-12', state: 'CANCELLED', created: '2026-03-03T05:01:00Z', columns: USD },
  { n: 'R-13', state: 'CANCELLED', created: '2026-03-03T05:02:00Z', cancelledAfterTopUp: true, columns: USD },
  { n: 'R-14', state: 'EXPIRED', created: '2026-03-03T05:03:00Z', columns: USD },
  // 2026-03-04 00:00 at +07:00: after the range.
  {
    n: 'R-AFTER',
    state: 'SUCCESS',
    created: '2026-03-03T17:00:00Z',
    columns: { pricePaid: 15000, trxCode: 'T-A', ...USD },
  },
];

const zero = {
  sold: 0,
  delivered: 0,
  failed: 0,
  refunded: 0,
  open: 0,
  revenueIdr: 0,
  costIdr: 0,
  profitIdr: 0,
  unpriced: 0,
};
const line = (key: string, l: Partial<ReportLine>): ReportLine => ({ ...zero, key, ...l });

const BY_DAY = [
  line('2026-03-01', {
    sold: 2,
    delivered: 2,
    unpriced: 1,
    revenueIdr: 17063,
    costIdr: 15000,
    profitIdr: 2063,
  }),
  line('2026-03-02', {
    sold: 3,
    delivered: 1,
    failed: 1,
    refunded: 1,
    revenueIdr: 55000,
    costIdr: 50000,
    profitIdr: 5000,
  }),
  line('2026-03-03', {
    sold: 6,
    delivered: 2,
    open: 4,
    unpriced: 1,
    revenueIdr: 17063,
    costIdr: 20000,
    profitIdr: -2937,
  }),
];
const BY_SKU = [
  line('DIAMOND50', {
    sold: 9,
    delivered: 3,
    failed: 1,
    refunded: 1,
    open: 4,
    unpriced: 1,
    revenueIdr: 34126,
    costIdr: 35000,
    profitIdr: -874,
  }),
  line('GENSHIN60', { sold: 1, delivered: 1, unpriced: 1 }),
  line('STEAMV50', { sold: 1, delivered: 1, revenueIdr: 55000, costIdr: 50000, profitIdr: 5000 }),
];
const TOTAL = line('total', {
  sold: 11,
  delivered: 5,
  failed: 1,
  refunded: 1,
  open: 4,
  unpriced: 2,
  revenueIdr: 89126,
  costIdr: 85000,
  profitIdr: 4126,
});

async function csvOf(
  store: TempStore,
  query: { from: string; to: string; utcOffsetMinutes: number },
  pageSize?: number,
) {
  let text = '';
  for await (const l of transactionCsvLines(store, query, pageSize === undefined ? {} : { pageSize })) {
    expect(l.endsWith('\r\n')).toBe(true);
    text += l;
  }
  return text;
}

/** The CSV's rows as objects by header. */
function csvRecords(text: string): Record<string, string>[] {
  const [header, ...rows] = parseCsv(text);
  expect(header).toEqual([...TRANSACTION_CSV_HEADER]);
  return rows.map((r) => {
    expect(r).toHaveLength(TRANSACTION_CSV_HEADER.length);
    return Object.fromEntries(TRANSACTION_CSV_HEADER.map((h, i) => [h, r[i] ?? '']));
  });
}

const sumOf = (rows: Record<string, string>[], column: string) =>
  rows.reduce((sum, r) => sum + (r[column] === '' ? 0 : Number(r[column])), 0);

/** What the report counts, from the CSV's rows alone. */
function totalFromCsv(rows: Record<string, string>[]): ReportLine {
  const sold = rows.filter((r) => !['INITIATED', 'CANCELLED', 'EXPIRED'].includes(r.state ?? ''));
  const failed = sold.filter((r) => r.state === 'FAILED');
  return {
    key: 'total',
    sold: sold.length,
    delivered: sold.filter((r) => r.state === 'SUCCESS').length,
    failed: failed.filter((r) => r.trx_code === '').length,
    refunded: failed.filter((r) => r.trx_code !== '').length,
    open: sold.filter((r) => r.final_at === '').length,
    revenueIdr: sumOf(rows, 'revenue_idr'),
    costIdr: sumOf(rows, 'cost_idr'),
    profitIdr: sumOf(rows, 'profit_idr'),
    unpriced: sold.filter((r) => r.state === 'SUCCESS' && r.profit_idr === '').length,
  };
}

describe('sales report and transactions CSV', () => {
  let store: TempStore;
  const seeded = new Map<string, { createdAt: number; finalAt: number | null }>();
  beforeAll(async () => {
    store = await tempStore();
    for (const s of SALES) seeded.set(s.n, await seed(store, s));
  });
  afterAll(async () => {
    await store?.close();
  });

  it('counts per day at the offset: a sale at 23:30 UTC is on the next day at +07:00', async () => {
    const report = await salesReport(store, { ...RANGE, by: 'day', utcOffsetMinutes: WIB });
    expect(report.lines).toEqual(BY_DAY);
    expect(report.total).toEqual(TOTAL);
    expect(report.query).toEqual({ ...RANGE, by: 'day', utcOffsetMinutes: WIB });
  });

  it('counts per SKU, with the same total', async () => {
    const report = await salesReport(store, { ...RANGE, by: 'sku', utcOffsetMinutes: WIB });
    expect(report.lines).toEqual(BY_SKU);
    expect(report.total).toEqual(TOTAL);
  });

  it('reads days at UTC when the offset is 0, and lists every day of the range', async () => {
    const report = await salesReport(store, {
      from: '2026-02-27',
      to: '2026-03-04',
      by: 'day',
      utcOffsetMinutes: 0,
    });
    expect(report.lines.map((l) => l.key)).toEqual([
      '2026-02-27',
      '2026-02-28',
      '2026-03-01',
      '2026-03-02',
      '2026-03-03',
      '2026-03-04',
    ]);
    const day = (key: string) => report.lines.find((l) => l.key === key);
    expect(day('2026-02-27')).toEqual(line('2026-02-27', {}));
    // R-BEFORE and R-01 at UTC; R-02 (23:30Z) on its UTC day; R-AFTER on 03-03.
    expect(day('2026-02-28')).toMatchObject({ sold: 2, delivered: 2, profitIdr: 4126 });
    expect(day('2026-03-01')).toMatchObject({
      sold: 2,
      delivered: 2,
      unpriced: 1,
      revenueIdr: 55000,
      profitIdr: 5000,
    });
    expect(day('2026-03-03')).toMatchObject({ sold: 7, delivered: 3, open: 4 });
    // A negative offset moves days the other way: 02:00Z on 03-02 is 21:00 on 03-01 at -05:00.
    const west = await salesReport(store, {
      from: '2026-03-01',
      to: '2026-03-01',
      by: 'day',
      utcOffsetMinutes: -300,
    });
    expect(west.lines).toEqual([
      line('2026-03-01', {
        sold: 4,
        delivered: 2,
        failed: 1,
        refunded: 1,
        unpriced: 1,
        revenueIdr: 55000,
        costIdr: 50000,
        profitIdr: 5000,
      }),
    ]);
  });

  it('an empty range is all zeros', async () => {
    const report = await salesReport(store, {
      from: '2025-01-01',
      to: '2025-01-02',
      by: 'sku',
      utcOffsetMinutes: WIB,
    });
    expect(report).toMatchObject({ lines: [], total: line('total', {}) });
  });

  it('lists every transaction of the range, in every state, in creation order, with figures per row', async () => {
    const rows = csvRecords(await csvOf(store, { ...RANGE, utcOffsetMinutes: WIB }));
    const inRange = SALES.filter((s) => s.n !== 'R-BEFORE' && s.n !== 'R-AFTER');
    expect(rows.map((r) => r.transaction_number)).toEqual(
      [...inRange].sort((a, b) => Date.parse(a.created) - Date.parse(b.created)).map((s) => s.n),
    );
    const by = (n: string) => rows.find((r) => r.transaction_number === n);
    const iso = (ms: number | null | undefined) => (ms == null ? '' : new Date(ms).toISOString());
    for (const r of rows) {
      const s = seeded.get(r.transaction_number ?? '');
      expect(r.created_at).toBe(iso(s?.createdAt));
      expect(r.final_at).toBe(iso(s?.finalAt));
    }
    expect(by('R-01')).toEqual({
      transaction_number: 'R-01',
      created_at: '2026-02-28T17:00:00.000Z',
      sku: 'DIAMOND50',
      state: 'SUCCESS',
      trx_code: 'T-01',
      cost_idr: '15000',
      revenue_amount: '1.05',
      revenue_currency: 'USD',
      revenue_idr: '17063',
      profit_idr: '2063',
      final_at: '2026-02-28T17:04:00.000Z',
    });
    expect(by('R-02')).toMatchObject({
      sku: 'STEAMV50',
      cost_idr: '50000',
      revenue_amount: '55000.00',
      revenue_currency: 'IDR',
      revenue_idr: '55000',
      profit_idr: '5000',
    });
    // Failed and refunded: nothing earned, nothing spent; what it would have earned is not shown.
    for (const n of ['R-03', 'R-04', 'R-12', 'R-13', 'R-14'])
      expect(by(n)).toMatchObject({
        cost_idr: '0',
        revenue_idr: '0',
        profit_idr: '0',
        revenue_amount: '',
        revenue_currency: '',
      });
    // Open, or delivered with a figure missing: no money figure (the report's unpriced).
    for (const n of ['R-05', 'R-06', 'R-07', 'R-08', 'R-11', 'R-09'])
      expect(by(n)).toMatchObject({ cost_idr: '', revenue_idr: '', profit_idr: '' });
    expect(by('R-15')).toMatchObject({
      cost_idr: '',
      revenue_idr: '',
      profit_idr: '',
      revenue_amount: '1.05',
    });
    expect(by('R-10')).toMatchObject({ profit_idr: '-2937' });
  });

  it("has the report's totals as the sums of its rows, read back from the CSV", async () => {
    for (const offset of [WIB, 0, -300]) {
      const q = { from: '2026-02-27', to: '2026-03-04', utcOffsetMinutes: offset };
      const rows = csvRecords(await csvOf(store, q));
      const fromCsv = totalFromCsv(rows);
      for (const by of ['day', 'sku'] as const) {
        const report = await salesReport(store, { ...q, by });
        expect(report.total).toEqual(fromCsv);
        // And each line is the sum of its rows.
        for (const l of report.lines) {
          const mine = rows.filter((r) =>
            by === 'sku' ? r.sku === l.key : dayAt(Date.parse(r.created_at ?? ''), offset) === l.key,
          );
          expect({ ...totalFromCsv(mine), key: l.key }).toEqual(l);
        }
      }
    }
    const rows = csvRecords(await csvOf(store, { ...RANGE, utcOffsetMinutes: WIB }));
    expect(totalFromCsv(rows)).toEqual(TOTAL);
  });

  it('pages by creation time, then number: rows created at the same instant are each listed once', async () => {
    const whole = await csvOf(store, { from: '2026-02-01', to: '2026-03-31', utcOffsetMinutes: WIB });
    for (const size of [1, 2, 3, 7]) {
      expect(await csvOf(store, { from: '2026-02-01', to: '2026-03-31', utcOffsetMinutes: WIB }, size)).toBe(
        whole,
      );
    }
    expect(csvRecords(whole)).toHaveLength(SALES.length);
  });

  it('writes the report as CSV: a header, its lines, then the total', async () => {
    const report = await salesReport(store, { ...RANGE, by: 'day', utcOffsetMinutes: WIB });
    const rows = parseCsv(reportCsv(report));
    expect(rows[0]).toEqual([
      'day',
      'sold',
      'delivered',
      'failed',
      'refunded',
      'open',
      'revenue_idr',
      'cost_idr',
      'profit_idr',
      'unpriced',
    ]);
    expect(rows.slice(1)).toEqual(
      [...BY_DAY, TOTAL].map((l) =>
        [
          l.key,
          l.sold,
          l.delivered,
          l.failed,
          l.refunded,
          l.open,
          l.revenueIdr,
          l.costIdr,
          l.profitIdr,
          l.unpriced,
        ].map(String),
      ),
    );
    const sums = rows[0]?.slice(1).map((_, i) => rows.slice(1, -1).reduce((s, r) => s + Number(r[i + 1]), 0));
    expect(sums).toEqual(rows.at(-1)?.slice(1).map(Number));
  });
});

/** The day of `at` at the offset (the report's own rule, restated). */
function dayAt(at: number, offsetMinutes: number): string {
  return new Date(at + offsetMinutes * 60_000).toISOString().slice(0, 10);
}

describe('report money is exact', () => {
  let store: TempStore | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });

  it('sums amounts near 2^53 to the unit, and refuses rather than rounds beyond', async () => {
    store = await tempStore();
    // 2,000,000,000,000,001 IDR four times: 8,000,000,000,000,004, beyond a double's 2^53 / 1.1.
    const big = { revenueMinor: 200_000_000_000_000_100, revenueCurrency: 'IDR', revenueRateE6: 1_000_000 };
    for (const n of ['B-1', 'B-2', 'B-3', 'B-4'])
      await seed(store, {
        n,
        state: 'SUCCESS',
        created: '2026-05-01T01:00:00Z',
        columns: {
          ...big,
          revenueMinor: 1,
          revenueIdr: 2_000_000_000_000_001,
          pricePaid: 1_999_999_999_999_998,
          trxCode: n,
        },
      });
    const q = { from: '2026-05-01', to: '2026-05-01', utcOffsetMinutes: 0 };
    const report = await salesReport(store, { ...q, by: 'day' });
    expect(report.total).toMatchObject({
      revenueIdr: 8_000_000_000_000_004,
      costIdr: 7_999_999_999_999_992,
      profitIdr: 12,
    });
    const rows = csvRecords(await csvOf(store, q));
    expect(rows.map((r) => r.revenue_idr)).toEqual(Array(4).fill('2000000000000001'));
    // BigInt sums of the cells: the same, to the unit.
    const big4 = rows.reduce((s, r) => s + BigInt(r.revenue_idr ?? '0'), 0n);
    expect(big4).toBe(8_000_000_000_000_004n);

    // A fifth passes 2^53: the report says so instead of rounding.
    await seed(store, {
      n: 'B-5',
      state: 'SUCCESS',
      created: '2026-05-01T02:00:00Z',
      columns: { ...big, revenueMinor: 1, revenueIdr: 2_000_000_000_000_001, pricePaid: 1, trxCode: 'B-5' },
    });
    await expect(salesReport(store, { ...q, by: 'sku' })).rejects.toThrow(/2\^53/);
  });
});

describe('formula injection', () => {
  let store: TempStore | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });

  it('gives text cells a spreadsheet would run a leading quote, and quotes what RFC 4180 requires', async () => {
    expect(textCell('=1+1')).toBe("'=1+1");
    expect(textCell('plain')).toBe('plain');
    expect(textCell('a,b')).toBe('"a,b"');
    expect(textCell('say "hi"')).toBe('"say ""hi"""');
    expect(textCell('-1')).toBe("'-1");
    expect(textCell(null)).toBe('');

    store = await tempStore();
    const hostile = [
      ['F-1', '=HYPERLINK("http://evil.example","click")', '+1'],
      ['F-2', '@SUM(A1:A9)', '-2+3'],
      ['F-3', '\tTAB', '\rCR'],
      ['F-4, "quoted"', 'line\r\nbreak', '=cmd|" /C calc"!A0'],
    ];
    for (const [n, sku, trx] of hostile)
      await seed(store, {
        n: n ?? '',
        state: 'SUCCESS',
        created: '2026-06-01T01:00:00Z',
        columns: { sku, trxCode: trx, pricePaid: 20000, ...USD },
      });
    const text = await csvOf(store, { from: '2026-06-01', to: '2026-06-01', utcOffsetMinutes: 0 });
    const rows = csvRecords(text);
    expect(rows.map((r) => [r.transaction_number, r.sku, r.trx_code])).toEqual(
      hostile.map(([n, sku, trx]) => [
        /^[=+\-@\t\r]/.test(n ?? '') ? `'${n}` : n,
        /^[=+\-@\t\r]/.test(sku ?? '') ? `'${sku}` : sku,
        `'${trx}`,
      ]),
    );
    // A negative amount is a number: no quote in front.
    expect(rows.map((r) => r.profit_idr)).toEqual(Array(4).fill('-2937'));
    // The SKU as a report key is a text cell too.
    const byKey = parseCsv(
      reportCsv(
        await salesReport(store, { from: '2026-06-01', to: '2026-06-01', by: 'sku', utcOffsetMinutes: 0 }),
      ),
    );
    expect(byKey.slice(1, -1).map((r) => r[0]?.[0])).toEqual(["'", "'", "'", 'l']);
  });
});

describe('report query', () => {
  const issue = (input: unknown) => {
    const r = reportQuerySchema.safeParse(input);
    return r.success ? null : r.error.issues[0]?.message;
  };

  it('takes two days, in order, at most 400 days apart, and day or sku', () => {
    expect(reportQuerySchema.parse({ from: '2026-01-01', to: '2026-01-01' })).toEqual({
      from: '2026-01-01',
      to: '2026-01-01',
      by: 'day',
    });
    expect(reportQuerySchema.parse({ from: '2025-01-01', to: '2026-02-04', by: 'sku' })).toMatchObject({
      by: 'sku',
    });
    expect(issue({ to: '2026-01-01' })).toBe('from is required, a day written YYYY-MM-DD');
    expect(issue({ from: '2026-02-30', to: '2026-03-01' })).toBe(
      'from must be a day written YYYY-MM-DD, got "2026-02-30"',
    );
    expect(issue({ from: '2026-01-01', to: '1/2/2026' })).toBe(
      'to must be a day written YYYY-MM-DD, got "1/2/2026"',
    );
    expect(issue({ from: '2026-01-02', to: '2026-01-01' })).toBe(
      'to (2026-01-01) must not be before from (2026-01-02)',
    );
    expect(issue({ from: '2025-01-01', to: '2026-02-05' })).toBe(
      'the range 2025-01-01 to 2026-02-05 spans 401 days; at most 400',
    );
    expect(issue({ from: '2026-01-01', to: '2026-01-01', by: 'week' })).toBe(
      'by must be day or sku, got "week"',
    );
  });
});

describe('a mapping or rates edit leaves the report of past sales unchanged', () => {
  let e: E2E | undefined;
  let dir: TempDir | undefined;
  afterEach(async () => {
    await e?.close();
    e = undefined;
    dir?.remove();
  });

  it('reports what each sale recorded at init, before and after the edit', async () => {
    dir = tempDir();
    const file = dir.file('mapping.yaml');
    const text = readFileSync(EXAMPLE_MAPPING, 'utf8');
    writeFileSync(file, text);
    e = await startE2E({ env: { MAPPING_FILE: file } });
    const today = new Date().toISOString().slice(0, 10);
    const dayAfter = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    const q = { from: today, to: dayAfter, by: 'sku' as const, utcOffsetMinutes: 0 };
    const store = e.gw.store as TempStore;

    await e.purchase('EDIT-1');
    expect((await e.settle('EDIT-1')).status).toBe(200);
    // Initiated before the edit, topped up after it.
    const before = await e.init('EDIT-2');
    expect(before.status).toBe(200);
    const first: SalesReport = await salesReport(store, q);
    // 1.05 USD at 16250.5 = 17063; the simulator charges 15000.
    expect(first.total).toMatchObject({
      sold: 1,
      delivered: 1,
      revenueIdr: 17063,
      costIdr: 15000,
      profitIdr: 2063,
    });

    const edited = text
      .replace('USD: { idr: 16250.5, set: 2026-12-01 }', 'USD: { idr: 17000, set: 2026-12-07 }')
      .replace("revenue: { amount: '1.05', currency: USD }", "revenue: { amount: '2.00', currency: USD }");
    expect(edited).not.toBe(text);
    writeFileSync(file, edited);
    expect(e.gw.mapping.reload()).toMatchObject({ ok: true });
    expect(await salesReport(store, q)).toEqual(first);

    await e.topup('EDIT-2', before.json.transactionToken);
    expect((await e.settle('EDIT-2')).status).toBe(200);
    // After the edit: EDIT-2 earns what its init recorded; EDIT-3 earns 2.00 × 17000.
    await e.purchase('EDIT-3');
    expect((await e.settle('EDIT-3')).status).toBe(200);
    const after = await salesReport(store, q);
    expect(after.total).toMatchObject({
      sold: 3,
      delivered: 3,
      revenueIdr: 17063 * 2 + 34000,
      costIdr: 45000,
      profitIdr: 17063 * 2 + 34000 - 45000,
    });
    const rows = csvRecords(await csvOf(store, q));
    expect(rows.map((r) => [r.transaction_number, r.revenue_amount, r.revenue_idr])).toEqual([
      ['EDIT-1', '1.05', '17063'],
      ['EDIT-2', '1.05', '17063'],
      ['EDIT-3', '2.00', '34000'],
    ]);
    expect(totalFromCsv(rows)).toEqual(after.total);
  });
});
