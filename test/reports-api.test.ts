import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReportLine, SalesReport } from '../src/reports/sales.js';
import { type E2E, startE2E } from './helpers/e2e.js';
import { transactionRow } from './helpers/fixtures.js';
import {
  BY_DAY,
  BY_SKU,
  SALES_IN_RANGE,
  SALES_OFFSET,
  SALES_RANGE,
  seedSales,
  TOTAL,
} from './helpers/sales.js';

// Issue 24 §2: the sales reports in the admin API. The report per day and per SKU, the same as
// a CSV file, and every transaction of a range as a streamed CSV, behind the admin token; bad
// parameters are a 400 with the reason, never a 500.

const ADMIN_TOKEN = 'admin-token-for-tests-0123456789';
const RANGE = `from=${SALES_RANGE.from}&to=${SALES_RANGE.to}`;

let e: E2E;
beforeAll(async () => {
  e = await startE2E({
    env: {
      ADMIN_TOKEN,
      TOPUP_WAIT_MS: '300',
      RECONCILE_SCHEDULE_MS: '60000',
      REPORT_UTC_OFFSET: SALES_OFFSET,
    },
  });
  await seedSales(e);
});
afterAll(async () => {
  await e?.close();
});

async function get(path: string, token: string | null = ADMIN_TOKEN) {
  const res = await fetch(`${e.url}${path}`, {
    headers: token === null ? {} : { authorization: `Bearer ${token}` },
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

async function report(query: string): Promise<SalesReport> {
  const r = await get(`/admin/reports/sales?${query}`);
  expect(r.status, r.text).toBe(200);
  expect(r.headers.get('content-type')).toMatch(/^application\/json/);
  return JSON.parse(r.text) as SalesReport;
}

/** A CSV of plain cells (none quoted) as rows of cells; the last line ends CRLF too. */
function csvRows(text: string): string[][] {
  expect(text.endsWith('\r\n')).toBe(true);
  expect(text).not.toContain('"');
  return text
    .slice(0, -2)
    .split('\r\n')
    .map((l) => l.split(','));
}

const LINE_FIELDS = [
  'sold',
  'delivered',
  'failed',
  'refunded',
  'open',
  'revenueIdr',
  'costIdr',
  'profitIdr',
  'unpriced',
] as const;
const asCells = (l: ReportLine) => [l.key, ...LINE_FIELDS.map((k) => String(l[k]))];

describe('admin API: sales reports', () => {
  it('needs the admin token on every report', async () => {
    for (const path of [
      `/admin/reports/sales?${RANGE}`,
      `/admin/reports/sales.csv?${RANGE}`,
      `/admin/reports/transactions.csv?${RANGE}`,
    ]) {
      for (const token of [null, 'not-the-admin-token-0123456789']) {
        const r = await get(path, token);
        expect(r.status, path).toBe(401);
        expect(JSON.parse(r.text)).toMatchObject({ code: 'UNAUTHORIZED' });
        expect(r.headers.get('www-authenticate')).toMatch(/^Bearer/);
        expect(r.text).not.toContain('SALE-');
      }
    }
  });

  it('reports per day (the default) and per SKU at REPORT_UTC_OFFSET, the total the sum of the lines', async () => {
    const byDay = await report(RANGE);
    expect(byDay).toEqual({
      query: { ...SALES_RANGE, by: 'day', utcOffsetMinutes: 420 },
      lines: BY_DAY,
      total: TOTAL,
    });
    const bySku = await report(`${RANGE}&by=sku`);
    expect(bySku).toEqual({
      query: { ...SALES_RANGE, by: 'sku', utcOffsetMinutes: 420 },
      lines: BY_SKU,
      total: TOTAL,
    });
    // One day: its midnight is 17:00 UTC the day before.
    expect((await report('from=2026-12-02&to=2026-12-02')).lines).toEqual([BY_DAY[1]]);
    // Nothing sold: every day of the range at zero.
    const empty = await report('from=2027-06-01&to=2027-06-02');
    expect(empty.lines.map((l) => [l.key, l.sold])).toEqual([
      ['2027-06-01', 0],
      ['2027-06-02', 0],
    ]);
    expect(empty.total.sold).toBe(0);
  });

  it('gives the same report as a CSV download: its total line is the JSON total', async () => {
    for (const by of ['day', 'sku'] as const) {
      const json = await report(`${RANGE}&by=${by}`);
      const r = await get(`/admin/reports/sales.csv?${RANGE}&by=${by}`);
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toBe('text/csv; charset=utf-8');
      expect(r.headers.get('content-disposition')).toBe(
        `attachment; filename="sales-by-${by}-2026-12-01-to-2026-12-03.csv"`,
      );
      const rows = csvRows(r.text);
      expect(rows[0]).toEqual([
        by,
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
      expect(rows.slice(1, -1)).toEqual(json.lines.map(asCells));
      expect(rows.at(-1)).toEqual(asCells(json.total));
      expect(rows.at(-1)).toEqual(asCells(TOTAL));
    }
  });

  it('exports every transaction of the range as CSV, whose columns sum to the report total', async () => {
    const r = await get(`/admin/reports/transactions.csv?${RANGE}`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(r.headers.get('content-disposition')).toBe(
      'attachment; filename="transactions-2026-12-01-to-2026-12-03.csv"',
    );
    const [header = [], ...rows] = csvRows(r.text);
    expect(rows.map((row) => row[0])).toEqual(SALES_IN_RANGE);
    const column = (name: string) => {
      const i = header.indexOf(name);
      expect(i, name).toBeGreaterThanOrEqual(0);
      return rows.reduce((sum, row) => sum + Number(row[i] || 0), 0);
    };
    expect({
      revenueIdr: column('revenue_idr'),
      costIdr: column('cost_idr'),
      profitIdr: column('profit_idr'),
    }).toEqual({ revenueIdr: TOTAL.revenueIdr, costIdr: TOTAL.costIdr, profitIdr: TOTAL.profitIdr });
    // A range without transactions: the header alone.
    const empty = await get('/admin/reports/transactions.csv?from=2027-06-01&to=2027-06-01');
    expect(empty.status).toBe(200);
    expect(csvRows(empty.text)).toEqual([header]);
  });

  it('streams a long export in chunks, every row once and in order', async () => {
    // 2,100 sales on 2027-01-10 (+07:00): more than a page (2,000) of storage reads, and many chunks.
    const base = Date.parse('2027-01-09T17:00:00Z');
    const numbers = Array.from({ length: 2100 }, (_, i) => `BULK-${String(i).padStart(5, '0')}`);
    for (let i = 0; i < numbers.length; i += 100)
      await Promise.all(
        numbers.slice(i, i + 100).map((n, k) =>
          e.gw.store.insertTransaction(
            transactionRow(n, 'SUCCESS', {
              createdAt: base + (i + k) * 1000,
              updatedAt: base + (i + k) * 1000,
              expiresAt: base + 3_600_000,
              pricePaid: 15000,
              trxCode: `VCG-${n}`,
              revenueMinor: 105,
              revenueCurrency: 'USD',
              revenueRateE6: 16_250_500_000,
              revenueRateSet: '2026-12-01',
              revenueIdr: 17063,
            }),
          ),
        ),
      );
    const res = await fetch(`${e.url}/admin/reports/transactions.csv?from=2027-01-10&to=2027-01-10`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(res.status).toBe(200);
    // Streamed: no length known in advance.
    expect(res.headers.get('content-length')).toBeNull();
    expect(res.headers.get('transfer-encoding')).toBe('chunked');
    const reader = res.body?.getReader();
    if (!reader) throw new Error('no body');
    const decoder = new TextDecoder();
    let text = '';
    let chunks = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks++;
      text += decoder.decode(value, { stream: true });
    }
    expect(chunks).toBeGreaterThan(1);
    const [, ...rows] = csvRows(text);
    expect(rows.map((row) => row[0])).toEqual(numbers);
    const json = await report('from=2027-01-10&to=2027-01-10');
    expect(json.total).toMatchObject({ sold: 2100, delivered: 2100, revenueIdr: 2100 * 17063 });
  });

  it('refuses bad parameters with a 400 and the reason, on every report', async () => {
    const cases: [string, string | RegExp][] = [
      ['to=2026-12-03', 'from is required'],
      ['from=2026-12-01', 'to is required'],
      ['from=yesterday&to=2026-12-03', 'from must be a day written YYYY-MM-DD, got "yesterday"'],
      ['from=2026-02-30&to=2026-03-01', 'from must be a day written YYYY-MM-DD, got "2026-02-30"'],
      ['from=2026-12-03&to=2026-12-01', 'to (2026-12-01) must not be before from (2026-12-03)'],
      ['from=2025-01-01&to=2026-12-31', /^the range 2025-01-01 to 2026-12-31 spans 730 days; at most \d+$/],
      [`${RANGE}&sku=DIAMOND50`, 'unknown parameter sku'],
      [`${RANGE}&=x`, 'a parameter has no name'],
    ];
    for (const path of [
      '/admin/reports/sales',
      '/admin/reports/sales.csv',
      '/admin/reports/transactions.csv',
    ]) {
      for (const [query, reason] of cases) {
        const r = await get(`${path}?${query}`);
        expect(r.status, `${path}?${query}`).toBe(400);
        expect(r.headers.get('content-type')).toMatch(/^application\/json/);
        const body = JSON.parse(r.text) as { code: string; message: string };
        expect(body.code).toBe('INVALID');
        if (typeof reason === 'string') expect(body.message, `${path}?${query}`).toContain(reason);
        else expect(body.message).toMatch(reason);
      }
    }
    for (const path of ['/admin/reports/sales', '/admin/reports/sales.csv']) {
      const r = await get(`${path}?${RANGE}&by=month`);
      expect([r.status, JSON.parse(r.text).message]).toEqual([400, 'by must be day or sku, got "month"']);
    }
    // The transactions export lists transactions, not lines: it takes no grouping.
    const grouped = await get(`/admin/reports/transactions.csv?${RANGE}&by=day`);
    expect([grouped.status, JSON.parse(grouped.text).message]).toEqual([400, 'unknown parameter by']);
  });
});
