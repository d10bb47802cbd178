import type { ReportLine, SalesReport } from '../../reports/sales.js';
import { idr } from '../format.js';
import { type Chrome, Layout, Notice } from '../layout.js';
import { chartDays, type DayFigures, moneyScale, offsetText, type SalesForm } from '../sales.js';

const W = 900;
const H = 320;
const LEFT = 104;
const RIGHT = 12;
const TOP = 34;
const BOTTOM = 44;

/** The three figures of a day, in the order they are drawn, with their colours. */
const SERIES = [
  { key: 'revenueIdr', label: 'revenue', fill: '#0969da' },
  { key: 'costIdr', label: 'cost', fill: '#bf8700' },
  { key: 'profitIdr', label: 'profit', fill: '#1a7f37' },
] as const;
const LOSS_FILL = '#cf222e';

/** Export links and the form keep the range as asked. */
const query = (params: Record<string, string>) => new URLSearchParams(params).toString();

export const reportCsvHref = (f: { from: string; to: string; by: string }) =>
  `/console/sales/report.csv?${query({ from: f.from, to: f.to, by: f.by })}`;
export const transactionsCsvHref = (f: { from: string; to: string }) =>
  `/console/sales/transactions.csv?${query({ from: f.from, to: f.to })}`;

/**
 * Revenue, cost and profit per day, side by side: an SVG drawn here, so no script runs in the
 * browser. A day that lost money has its profit bar below the zero line, in red.
 */
export function SalesChart(props: { days: DayFigures[]; offset: string }) {
  const { days } = props;
  const scale = moneyScale(days);
  const plotW = W - LEFT - RIGHT;
  const plotH = H - TOP - BOTTOM;
  const y = (v: number) => TOP + ((scale.max - v) / (scale.max - scale.min)) * plotH;
  const slot = plotW / days.length;
  const bar = Math.max((slot * 0.8) / SERIES.length, 0.5);
  // About a dozen day labels, whatever the range.
  const every = Math.ceil(days.length / 12);
  const zero = y(0);
  return (
    <svg
      class="chart"
      id="sales-chart"
      viewBox={`0 0 ${W} ${H}`}
      width={W}
      height={H}
      role="img"
      aria-label={`Revenue, cost and profit per day, ${days[0]?.day} to ${days.at(-1)?.day}, in IDR`}
    >
      {scale.ticks.map((t) => (
        <g class="tick">
          <line x1={LEFT} y1={y(t)} x2={W - RIGHT} y2={y(t)} stroke={t === 0 ? '#57606a' : '#eaeef2'} />
          <text x={LEFT - 6} y={y(t) + 4} text-anchor="end" font-size="11">
            {idr(t)}
          </text>
        </g>
      ))}
      <text
        x={12}
        y={TOP + plotH / 2}
        text-anchor="middle"
        font-size="11"
        transform={`rotate(-90 12 ${TOP + plotH / 2})`}
      >
        IDR
      </text>
      <text x={LEFT + plotW / 2} y={H - 6} text-anchor="middle" font-size="11">
        {`Day (${props.offset})`}
      </text>
      {days.map((d, i) => {
        const x0 = LEFT + i * slot + slot * 0.1;
        return (
          <g
            class="day"
            data-day={d.day}
            data-revenue={d.revenueIdr}
            data-cost={d.costIdr}
            data-profit={d.profitIdr}
          >
            <title>{`${d.day}: ${d.sold} sold; revenue ${idr(d.revenueIdr)}, cost ${idr(d.costIdr)}, profit ${idr(d.profitIdr)}`}</title>
            {SERIES.map((s, k) => {
              const v = d[s.key];
              const top = Math.min(y(v), zero);
              return (
                <rect
                  class={s.key === 'profitIdr' && v < 0 ? 'loss' : s.label}
                  x={x0 + k * bar}
                  y={top}
                  width={bar}
                  height={Math.abs(y(v) - zero)}
                  fill={s.key === 'profitIdr' && v < 0 ? LOSS_FILL : s.fill}
                />
              );
            })}
            {i % every === 0 && (
              <text x={LEFT + i * slot + slot / 2} y={TOP + plotH + 16} text-anchor="middle" font-size="11">
                {d.day.slice(5)}
              </text>
            )}
          </g>
        );
      })}
      <g class="legend" id="sales-legend">
        {[...SERIES.map((s) => ({ label: s.label, fill: s.fill })), { label: 'loss', fill: LOSS_FILL }].map(
          (s, i) => (
            <g data-series={s.label}>
              <rect x={LEFT + i * 90} y={10} width={12} height={12} fill={s.fill} />
              <text x={LEFT + i * 90 + 17} y={20} font-size="12">
                {s.label}
              </text>
            </g>
          ),
        )}
      </g>
    </svg>
  );
}

function LineRow(props: { line: ReportLine; total?: boolean }) {
  const l = props.line;
  const Cell = props.total ? 'th' : 'td';
  return (
    <tr data-key={l.key} id={props.total ? 'total' : undefined}>
      <Cell>{props.total ? 'Total' : l.key}</Cell>
      <Cell class="num">{l.sold}</Cell>
      <Cell class="num">{l.delivered}</Cell>
      <Cell class="num">{l.failed}</Cell>
      <Cell class="num">{l.refunded}</Cell>
      <Cell class="num">{l.open}</Cell>
      <Cell class="num">{idr(l.revenueIdr)}</Cell>
      <Cell class="num">{idr(l.costIdr)}</Cell>
      <Cell class={l.profitIdr < 0 ? 'num negative' : 'num'}>{idr(l.profitIdr)}</Cell>
      <Cell class="num">{l.unpriced}</Cell>
    </tr>
  );
}

export function SalesPage(props: {
  chrome: Chrome;
  form: SalesForm;
  utcOffsetMinutes: number;
  /** Why the range cannot be shown; no report then. */
  error?: string | undefined;
  /** The range per day (the chart), and per the form's grouping (the table). */
  report?: { days: SalesReport; table: SalesReport } | undefined;
}) {
  const f = props.form;
  const offset = offsetText(props.utcOffsetMinutes);
  const report = props.report;
  const total = report?.table.total;
  const byDay = report?.table.query.by === 'day';
  return (
    <Layout title="Sales" chrome={props.chrome}>
      <h1>Sales</h1>
      <form class="filters" method="get" action="/console/sales" id="range">
        <label>
          From
          <input type="date" name="from" value={f.from} required />
        </label>
        <label>
          To (included)
          <input type="date" name="to" value={f.to} required />
        </label>
        <label>
          Table per
          <select name="by">
            <option value="sku" selected={f.by === 'sku'}>
              SKU
            </option>
            <option value="day" selected={f.by === 'day'}>
              day
            </option>
          </select>
        </label>
        <button type="submit">Show</button>
        <a href="/console/sales">last 30 days</a>
      </form>
      {props.error && <Notice kind="error">{props.error}</Notice>}
      <p class="muted">
        Days run midnight to midnight at {offset} (REPORT_UTC_OFFSET); each purchase counts on the day it was
        created. Money is whole IDR, as each sale recorded it when it happened. Sold: topped up by Razer and
        not cancelled; refunded: failed after the supplier took the order.
      </p>
      {report && total && (
        <p id="exports" class="actions">
          <a id="export-report" href={reportCsvHref(f)} download>
            Export this report (CSV)
          </a>
          <a id="export-transactions" href={transactionsCsvHref(f)} download>
            Export every transaction of the range (CSV)
          </a>
        </p>
      )}
      {report && total && total.sold === 0 && (
        <p id="empty">
          <strong>
            No sales from {report.table.query.from} to {report.table.query.to}
          </strong>{' '}
          ({offset}): nothing was topped up in this range.
        </p>
      )}
      {report && total && total.sold > 0 && (
        <>
          {total.unpriced > 0 && (
            <Notice kind="warn">
              {total.unpriced} delivered sale{total.unpriced === 1 ? '' : 's'} recorded no revenue or cost (a
              SKU without <code>revenue</code> in the mapping, or sold before revenue was kept): counted, but
              left out of revenue, cost and profit.
            </Notice>
          )}
          <div class="cards" id="totals">
            <div class="card">
              sold<b>{total.sold}</b>
            </div>
            <div class="card">
              revenue<b>{idr(total.revenueIdr)}</b>
            </div>
            <div class="card">
              cost<b>{idr(total.costIdr)}</b>
            </div>
            <div class={total.profitIdr < 0 ? 'card negative' : 'card'} id="total-profit">
              profit<b>{idr(total.profitIdr)}</b>
            </div>
          </div>
          <h2>
            Revenue, cost and profit per day ({report.days.query.from} to {report.days.query.to}, {offset})
          </h2>
          <SalesChart days={chartDays(report.days)} offset={offset} />
          <h2>{byDay ? 'Per day' : 'Per SKU'}</h2>
          <table id="report">
            <thead>
              <tr>
                <th>{byDay ? 'Day' : 'SKU'}</th>
                <th class="num">Sold</th>
                <th class="num">Delivered</th>
                <th class="num">Failed</th>
                <th class="num">Refunded</th>
                <th class="num">Open</th>
                <th class="num">Revenue</th>
                <th class="num">Cost</th>
                <th class="num">Profit</th>
                <th class="num">Unpriced</th>
              </tr>
            </thead>
            <tbody>
              {report.table.lines.map((line) => (
                <LineRow line={line} />
              ))}
            </tbody>
            <tfoot>
              <LineRow line={total} total />
            </tfoot>
          </table>
        </>
      )}
    </Layout>
  );
}
