import type { TransactionCounts } from '../../db/types.js';
import { OPEN_STATES } from '../../db/vocabulary.js';
import { type Chrome, Layout } from '../layout.js';
import { type HourBar, OUTCOMES, type Outcome } from '../overview.js';

const outcomeClass = (o: Outcome) => o.replace(' ', '-');

const W = 760;
const H = 240;
const LEFT = 40;
const BOTTOM = 28;
const TOP = 12;

/** Purchases per hour, stacked by outcome: an SVG drawn here, so no script runs in the browser. */
export function HourlyChart(props: { bars: HourBar[] }) {
  const max = Math.max(1, ...props.bars.map((b) => b.total));
  const plotH = H - TOP - BOTTOM;
  const slot = (W - LEFT - 8) / props.bars.length;
  const y = (n: number) => TOP + plotH - (n / max) * plotH;
  return (
    <svg
      class="chart"
      viewBox={`0 0 ${W} ${H}`}
      width={W}
      height={H}
      role="img"
      aria-label="Purchases per hour, last 24 hours, by outcome"
    >
      <line x1={LEFT} y1={TOP + plotH} x2={W - 4} y2={TOP + plotH} stroke="#8c959f" />
      <text x={LEFT - 6} y={TOP + 4} text-anchor="end" font-size="11">
        {max}
      </text>
      <text x={LEFT - 6} y={TOP + plotH} text-anchor="end" font-size="11">
        0
      </text>
      {props.bars.map((bar, i) => {
        const x = LEFT + i * slot + 2;
        let base = 0;
        const label = new Date(bar.hour).toISOString().slice(11, 16);
        return (
          <g data-hour={label} data-total={bar.total}>
            {OUTCOMES.filter((o) => bar.counts[o] > 0).map((o) => {
              const top = y(base + bar.counts[o]);
              const bottom = y(base);
              base += bar.counts[o];
              return (
                <rect class={outcomeClass(o)} x={x} y={top} width={slot - 4} height={bottom - top}>
                  <title>{`${label} UTC: ${bar.counts[o]} ${o}`}</title>
                </rect>
              );
            })}
            {i % 3 === 0 && (
              <text x={x + (slot - 4) / 2} y={H - 10} text-anchor="middle" font-size="11">
                {label}
              </text>
            )}
          </g>
        );
      })}
    </svg>
  );
}

export function OverviewPage(props: {
  chrome: Chrome;
  counts: TransactionCounts;
  failedToday: number;
  bars: HourBar[];
}) {
  const open = OPEN_STATES.reduce((n, s) => n + props.counts.byState[s], 0);
  const last24 = props.bars.reduce((n, b) => n + b.total, 0);
  return (
    <Layout title="Overview" chrome={props.chrome}>
      <h1>Overview</h1>
      <div class="cards">
        <a class="card" href="/console/transactions?state=QUEUED,ORDERING,PROCESSING,UNKNOWN" id="count-open">
          open<b>{open}</b>
        </a>
        <a class="card" href="/console/transactions?attention=true" id="count-flagged">
          flagged<b>{props.counts.attention}</b>
        </a>
        <div class="card" id="count-failed-today">
          of today’s (UTC), failed<b>{props.failedToday}</b>
        </div>
        <div class="card" id="count-24h">
          created, last 24 h<b>{last24}</b>
        </div>
      </div>
      <h2>Purchases per hour, last 24 hours (UTC)</h2>
      <HourlyChart bars={props.bars} />
      <p class="legend">
        {OUTCOMES.map((o) => (
          <span>
            <i class={`swatch ${outcomeClass(o)}`} />
            {o}
          </span>
        ))}
      </p>
      <h2>All transactions by state</h2>
      <table>
        <tbody>
          {Object.entries(props.counts.byState).map(([state, n]) => (
            <tr>
              <td>
                <a href={`/console/transactions?state=${state}`}>{state}</a>
              </td>
              <td>{n}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Layout>
  );
}
