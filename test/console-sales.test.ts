import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dayAt, dayNumber, dayText } from '../src/reports/query.js';
import { decode, textOf } from './helpers/console-html.js';
import { type E2E, startE2E } from './helpers/e2e.js';
import { BY_DAY, BY_SKU, SALES_OFFSET, SALES_RANGE, seedSales, TOTAL } from './helpers/sales.js';

// Issue 24 §2: the console's Sales page, through HTTP against a whole gateway. Revenue, cost and
// profit per day as a chart drawn on the server, a table per SKU with its total, and the CSV
// exports behind the console session.

const ADMIN_TOKEN = 'admin-token-for-tests-0123456789';
const OFFSET_MINUTES = 420;
const RANGE = `from=${SALES_RANGE.from}&to=${SALES_RANGE.to}`;

let e: E2E;
let cookie = '';
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
  const r = await fetch(`${e.url}/console/sign-in`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: ADMIN_TOKEN, actor: 'alice' }).toString(),
    redirect: 'manual',
  });
  expect(r.status).toBe(303);
  cookie = (r.headers.getSetCookie()[0] ?? '').split(';')[0] ?? '';
});
afterAll(async () => {
  await e?.close();
});

async function get(path: string, signedIn = true) {
  const res = await fetch(`${e.url}${path}`, {
    headers: signedIn ? { cookie } : {},
    redirect: 'manual',
  });
  return {
    status: res.status,
    headers: res.headers,
    text: await res.text(),
    location: res.headers.get('location'),
  };
}

/** The markup of the first element `<tag ... id="id">`, to its matching close (no nesting of the same tag inside). */
function element(html: string, tag: string, id: string): string {
  const m = new RegExp(`<${tag}\\b[^>]*\\bid="${id}"[^>]*>[\\s\\S]*?</${tag}>`).exec(html);
  if (!m) throw new Error(`no <${tag} id="${id}"> in the page`);
  return m[0];
}

/** The cells' text of each row of a table section. */
const rowsOf = (html: string) =>
  [...html.matchAll(/<tr\b[^>]*>([\s\S]*?)<\/tr>/g)].map((row) =>
    [...(row[1] ?? '').matchAll(/<t[hd]\b[^>]*>([\s\S]*?)<\/t[hd]>/g)].map((c) => textOf(c[1] ?? '').trim()),
  );

const money = (n: number) => `IDR ${n.toLocaleString('en-US')}`;
const cells = (l: (typeof BY_SKU)[number], key = l.key) => [
  key,
  ...[l.sold, l.delivered, l.failed, l.refunded, l.open].map(String),
  money(l.revenueIdr),
  money(l.costIdr),
  money(l.profitIdr),
  String(l.unpriced),
];

const attributes = (tag: string) =>
  Object.fromEntries([...tag.matchAll(/([\w-]+)="([^"]*)"/g)].map((m) => [m[1], decode(m[2] ?? '')]));

describe('console: the Sales page', () => {
  it('is behind the session, the CSV exports too', async () => {
    for (const path of [
      `/console/sales?${RANGE}`,
      `/console/sales/report.csv?${RANGE}&by=sku`,
      `/console/sales/transactions.csv?${RANGE}`,
    ]) {
      const r = await get(path, false);
      expect([r.status, r.location], path).toEqual([303, '/console/sign-in']);
      expect(r.text).not.toContain('SALE-');
      expect(r.text).not.toContain('DIAMOND50');
    }
    // The admin token is no way in: the console takes its own session only.
    const bearer = await fetch(`${e.url}/console/sales/transactions.csv?${RANGE}`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      redirect: 'manual',
    });
    expect(bearer.status).toBe(303);
  });

  it('shows the last 30 days at the offset by default, and says plainly when nothing was sold', async () => {
    const before = dayAt(Date.now(), OFFSET_MINUTES);
    const r = await get('/console/sales');
    const after = dayAt(Date.now(), OFFSET_MINUTES);
    expect(r.status).toBe(200);
    const to = /name="to" value="([^"]*)"/.exec(r.text)?.[1] ?? '';
    const from = /name="from" value="([^"]*)"/.exec(r.text)?.[1] ?? '';
    expect([before, after]).toContain(to);
    expect(dayNumber(to) - dayNumber(from)).toBe(29);
    // Navigation: the Sales link, marked as the page shown.
    expect(r.text).toMatch(/<a href="\/console\/sales" class="here">Sales<\/a>/);
    // Nothing was created in the last 30 days (the seeded sales are in December 2026).
    if (dayNumber(from) > dayNumber('2026-12-03') || dayNumber(to) < dayNumber('2026-11-30')) {
      expect(textOf(element(r.text, 'p', 'empty'))).toContain(`No sales from ${from} to ${to}`);
      expect(r.text).not.toContain('<svg');
      expect(r.text).not.toContain('id="report"');
    }
    // An empty range asked for: the same plain sentence, and the exports still there.
    const empty = await get('/console/sales?from=2027-06-01&to=2027-06-30');
    expect(empty.status).toBe(200);
    expect(textOf(element(empty.text, 'p', 'empty'))).toContain(
      'No sales from 2027-06-01 to 2027-06-30 (UTC+07:00)',
    );
    expect(empty.text).toContain('id="export-transactions"');
  });

  it('charts revenue, cost and profit with one group of bars per day, a loss below zero', async () => {
    const r = await get(`/console/sales?${RANGE}`);
    expect(r.status).toBe(200);
    const svg = element(r.text, 'svg', 'sales-chart');
    const days = [...svg.matchAll(/<g class="day"[^>]*>/g)].map((m) => attributes(m[0]));
    expect(days.map((d) => d['data-day'])).toEqual(BY_DAY.map((l) => l.key));
    expect(days.map((d) => [d['data-revenue'], d['data-cost'], d['data-profit']].map(Number))).toEqual(
      BY_DAY.map((l) => [l.revenueIdr, l.costIdr, l.profitIdr]),
    );
    // Each day: three bars. The loss of 2026-12-03 hangs below the zero line; the profits stand on it.
    const zeroLine = /<g class="tick"><line[^>]*y1="([\d.]+)"[^>]*stroke="#57606a"/.exec(svg);
    const zero = Number(zeroLine?.[1]);
    expect(zero).toBeGreaterThan(0);
    const groups = svg
      .split('<g class="day"')
      .slice(1)
      .map((g) => g.slice(0, g.indexOf('</g>')));
    expect(groups).toHaveLength(3);
    for (const [i, group] of groups.entries()) {
      const bars = [...group.matchAll(/<rect [^>]*>/g)].map((m) => attributes(m[0]));
      expect(bars.map((b) => b.class)).toEqual(['revenue', 'cost', i === 2 ? 'loss' : 'profit']);
      const profit = bars[2] ?? {};
      if (i === 2) expect(Number(profit.y)).toBeCloseTo(zero, 5);
      else expect(Number(profit.y) + Number(profit.height)).toBeCloseTo(zero, 5);
      expect(Number(profit.height)).toBeGreaterThan(0);
    }
    // Axis labels: IDR amounts, zero among them; the days; a legend naming each series.
    const ticks = [...svg.matchAll(/<g class="tick">[\s\S]*?<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
    expect(ticks).toContain('IDR 0');
    expect(ticks.some((t) => /^IDR -\d/.test(t ?? ''))).toBe(true);
    expect(ticks.some((t) => /^IDR [1-9]/.test(t ?? ''))).toBe(true);
    expect(svg).toContain('Day (UTC+07:00)');
    expect(svg).toMatch(/>12-01<\/text>/);
    const legend = svg.slice(svg.indexOf('id="sales-legend"'));
    expect([...legend.matchAll(/data-series="([^"]+)"/g)].map((m) => m[1])).toEqual([
      'revenue',
      'cost',
      'profit',
      'loss',
    ]);
    // Drawn by the server: nothing for the browser to run or fetch.
    expect(r.text).not.toMatch(/<script|<link|<img|https?:\/\//);
    expect(r.headers.get('content-security-policy')).toContain("default-src 'none'");
  });

  it('has one group per day for a long range, days without sales at zero', async () => {
    const r = await get('/console/sales?from=2026-11-15&to=2026-12-14');
    const svg = element(r.text, 'svg', 'sales-chart');
    const days = [...svg.matchAll(/<g class="day" data-day="([^"]+)" data-revenue="(\d+)"/g)];
    expect(days.map((m) => m[1])).toEqual(
      Array.from({ length: 30 }, (_, i) => dayText(dayNumber('2026-11-15') + i)),
    );
    expect(days.filter((m) => m[2] !== '0').map((m) => m[1])).toEqual([
      '2026-11-30',
      '2026-12-01',
      '2026-12-02',
      '2026-12-03',
      '2026-12-04',
    ]);
  });

  it('tables the range per SKU (by default) or per day, with the total line and a warning for unpriced sales', async () => {
    const r = await get(`/console/sales?${RANGE}`);
    const table = element(r.text, 'table', 'report');
    const [head, ...body] = rowsOf(table);
    expect(head).toEqual([
      'SKU',
      'Sold',
      'Delivered',
      'Failed',
      'Refunded',
      'Open',
      'Revenue',
      'Cost',
      'Profit',
      'Unpriced',
    ]);
    expect(body).toEqual([...BY_SKU.map((l) => cells(l)), cells(TOTAL, 'Total')]);
    expect(table).toMatch(/<tr data-key="total" id="total">/);
    // A loss reads as one.
    expect(table).toMatch(/<td class="num negative">IDR -1,811<\/td>/);
    expect(textOf(element(r.text, 'div', 'total-profit'))).toContain('IDR 3,189');
    expect(textOf(r.text)).toContain('1 delivered sale recorded no revenue or cost');

    const byDay = await get(`/console/sales?${RANGE}&by=day`);
    const [dayHead, ...dayRows] = rowsOf(element(byDay.text, 'table', 'report'));
    expect(dayHead?.[0]).toBe('Day');
    expect(dayRows).toEqual([...BY_DAY.map((l) => cells(l)), cells(TOTAL, 'Total')]);
    expect(byDay.text).toMatch(/<option value="day" selected="">day<\/option>/);
  });

  it('explains bad input in the page, with a 400 and the form kept, never a 500', async () => {
    const cases: [string, string][] = [
      ['from=yesterday&to=2026-12-03', 'from must be a day written YYYY-MM-DD, got "yesterday"'],
      ['from=2026-12-03&to=2026-12-01', 'to (2026-12-01) must not be before from (2026-12-03)'],
      ['from=2025-01-01&to=2026-12-31', 'the range 2025-01-01 to 2026-12-31 spans 730 days'],
      [`${RANGE}&by=month`, 'by must be day or sku, got "month"'],
      ['from=2026-13-01', 'from must be a day written YYYY-MM-DD, got "2026-13-01"'],
    ];
    for (const [query, reason] of cases) {
      const r = await get(`/console/sales?${query}`);
      expect(r.status, query).toBe(400);
      const alert = /<div class="notice error" role="alert">([\s\S]*?)<\/div>/.exec(r.text)?.[1] ?? '';
      expect(textOf(alert), query).toContain(reason);
      expect(r.text).toContain('id="range"');
      expect(r.text).not.toContain('id="sales-chart"');
      expect(r.text).not.toContain('id="exports"');
    }
    // What was typed stays in the form, to be corrected.
    expect((await get('/console/sales?from=yesterday&to=2026-12-03')).text).toContain('value="yesterday"');
    for (const path of [
      '/console/sales/report.csv?from=2026-12-03&to=2026-12-01',
      '/console/sales/transactions.csv?from=nope&to=2026-12-01',
    ]) {
      const r = await get(path);
      expect(r.status, path).toBe(400);
      expect(r.headers.get('content-type')).toMatch(/^text\/html/);
      expect(textOf(r.text)).toMatch(/must (not be before|be a day)/);
    }
  });

  it('exports the report and the transactions of the range as CSV from the links of the page', async () => {
    const r = await get(`/console/sales?${RANGE}`);
    const exports = element(r.text, 'p', 'exports');
    const href = (id: string) => decode(new RegExp(`id="${id}" href="([^"]+)"`).exec(exports)?.[1] ?? '');
    const reportHref = href('export-report');
    const transactionsHref = href('export-transactions');
    expect(reportHref).toBe(`/console/sales/report.csv?${RANGE}&by=sku`);
    expect(transactionsHref).toBe(`/console/sales/transactions.csv?${RANGE}`);

    const report = await get(reportHref);
    expect(report.status).toBe(200);
    expect(report.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(report.headers.get('content-disposition')).toBe(
      'attachment; filename="sales-by-sku-2026-12-01-to-2026-12-03.csv"',
    );
    // The very file the admin API gives for the same range.
    const admin = await fetch(`${e.url}/admin/reports/sales.csv?${RANGE}&by=sku`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(report.text).toBe(await admin.text());
    expect(report.text.split('\r\n').at(-2)).toBe(
      [
        'total',
        ...cells(TOTAL).slice(1, 6),
        TOTAL.revenueIdr,
        TOTAL.costIdr,
        TOTAL.profitIdr,
        TOTAL.unpriced,
      ].join(','),
    );

    const transactions = await get(transactionsHref);
    expect(transactions.status).toBe(200);
    expect(transactions.headers.get('content-disposition')).toBe(
      'attachment; filename="transactions-2026-12-01-to-2026-12-03.csv"',
    );
    const lines = transactions.text.split('\r\n').filter((l) => l !== '');
    expect(lines[0]).toMatch(/^transaction_number,/);
    expect(lines.slice(1).map((l) => l.split(',')[0])).toContain('SALE-3C');
    expect(lines).toHaveLength(1 + 10);
  });
});
