import type { SupplierReport } from '../../admin/supplier.js';
import { duration, idr, when } from '../format.js';
import { type Chrome, Layout, Notice } from '../layout.js';

const age = (seconds: number | null) =>
  seconds === null ? 'never fetched' : `${duration(seconds * 1000)} ago`;

/** "main", "backup 1 (MLBB / MLBB86)", or "none" when no option can sell. */
const through = (s: SupplierReport['skus'][number]) => {
  const t = s.sellsThrough;
  if (!t) return s.enabled ? 'none' : '–';
  return t.choice === 'main'
    ? 'main'
    : `${t.choice.replace('backup', 'backup ')} (${t.brand} / ${t.variation})`;
};

export function SupplierPage(props: { chrome: Chrome; report: SupplierReport }) {
  const r = props.report;
  const g = r.guards;
  const waiting = Object.entries(r.limiter.waiting)
    .map(([lane, n]) => `${lane} ${n}`)
    .join(', ');
  return (
    <Layout title="Supplier" chrome={props.chrome}>
      <h1>Supplier (VCGamers Mitra)</h1>
      {r.problems.length > 0 && (
        <Notice kind="warn">
          {r.problems.length} problem{r.problems.length === 1 ? '' : 's'} keep enabled SKUs from selling:
          <ul>
            {r.problems.map((p) => (
              <li>{p}</li>
            ))}
          </ul>
        </Notice>
      )}
      {r.warnings.length > 0 && (
        <Notice kind="warn">
          Selling through a backup variation; the options passed over:
          <ul id="backup-warnings">
            {r.warnings.map((p) => (
              <li>{p}</li>
            ))}
          </ul>
        </Notice>
      )}
      <dl>
        <dt>Balance</dt>
        <dd id="balance">
          {r.balance ? `${idr(r.balance.idr)} (read ${when(r.balance.at)} UTC)` : 'not read yet'}
          {r.balanceLow && <strong class="flag"> ⚑ below {idr(r.balanceAlertBelowIdr)}</strong>}
        </dd>
        <dt>Catalogue</dt>
        <dd>
          brand list {age(r.catalogue.brandsAgeSeconds)}; oldest variation list{' '}
          {age(r.catalogue.oldestVariationsAgeSeconds)}
        </dd>
        <dt>Committed</dt>
        <dd id="committed">
          {g.committedIdr === null
            ? 'unknown: the open purchases cannot be read (below)'
            : `${idr(g.committedIdr)} still to be charged by open purchases`}
          {g.availableIdr !== null &&
            `; ${idr(g.availableIdr)} left for new sales (a SKU priced above it is refused)`}
        </dd>
        <dt>Supplier queue</dt>
        <dd id="queue">
          {g.queuedOrders === null || g.expectedWaitSeconds === null
            ? 'unknown: the open purchases cannot be read (below)'
            : `${g.queuedOrders} paid order${g.queuedOrders === 1 ? '' : 's'} waiting for the supplier; a new order would wait about ${duration(g.expectedWaitSeconds * 1000)}`}
          {g.maxWaitSeconds === null
            ? ' (queue guard off: MAX_SUPPLIER_WAIT=0)'
            : ` (inits are refused above ${duration(g.maxWaitSeconds * 1000)})`}
          {g.maxWaitSeconds !== null &&
            g.expectedWaitSeconds !== null &&
            g.expectedWaitSeconds > g.maxWaitSeconds && <strong class="flag"> ⚑ refusing new sales</strong>}
        </dd>
        {g.unread && (
          <>
            <dt>Open purchases</dt>
            <dd id="unread">
              <strong class="flag">⚑ not read since {when(g.unread.since)} UTC</strong>: {g.unread.reason}.{' '}
              {g.unread.figuresReadAt === null
                ? 'The guards judge nothing meanwhile: no init is refused for the balance or the queue.'
                : `The figures above were read ${when(g.unread.figuresReadAt)} UTC; the guards judge by them for a minute, then by none.`}
            </dd>
          </>
        )}
        <dt>Rate limit</dt>
        <dd id="limiter">
          {r.limiter.inWindow} calls in the current window; waiting: {waiting || 'none'}
          {r.limiter.pausedForMs > 0 && `; paused for ${duration(r.limiter.pausedForMs)}`}
        </dd>
      </dl>
      <h2>Margin per SKU</h2>
      <p class="muted">
        Margin is max_price minus the supplier's current price: what the ceiling leaves. A row in red cannot
        sell (out of margin, inactive, unknown, disabled, or beyond the balance). A SKU sells through its main
        variation, else through the first backup that can sell now (its rows follow the SKU's), as init
        chooses.
      </p>
      <table id="skus">
        <thead>
          <tr>
            <th>SKU</th>
            <th>Brand / variation</th>
            <th>Price</th>
            <th>max_price</th>
            <th>Margin</th>
            <th>Sells</th>
            <th>Sells through</th>
            <th>Problems</th>
          </tr>
        </thead>
        <tbody>
          {r.skus.map((s) => {
            const sells = s.sellsThrough !== null;
            return (
              <>
                <tr class={sells ? '' : 'bad'} data-sku={s.sku}>
                  <td>{s.sku}</td>
                  <td>
                    {s.brand} / {s.variation}
                  </td>
                  <td>{idr(s.price)}</td>
                  <td>{idr(s.maxPrice)}</td>
                  <td>{s.margin === null ? '–' : `${idr(s.margin)} (${s.marginPercent}%)`}</td>
                  <td>{sells ? 'yes' : 'no'}</td>
                  <td class="through" data-choice={s.sellsThrough?.choice ?? 'none'}>
                    {through(s)}
                    {s.passedOver.length > 0 && (
                      <div class="muted">passed over: {s.passedOver.join('; ')}</div>
                    )}
                  </td>
                  <td>{s.problems.join('; ')}</td>
                </tr>
                {s.backups.map((b) => (
                  <tr class={sells ? 'backup' : 'backup bad'} data-backup-of={s.sku} data-choice={b.choice}>
                    <td class="muted">↳ {b.choice.replace('backup', 'backup ')}</td>
                    <td>
                      {b.brand} / {b.variation}
                    </td>
                    <td>{idr(b.price)}</td>
                    <td>{idr(b.maxPrice)}</td>
                    <td>{b.margin === null ? '–' : `${idr(b.margin)} (${b.marginPercent}%)`}</td>
                    <td />
                    <td>{s.sellsThrough?.choice === b.choice ? 'now' : ''}</td>
                    <td>{b.problems.join('; ')}</td>
                  </tr>
                ))}
              </>
            );
          })}
        </tbody>
      </table>
    </Layout>
  );
}
