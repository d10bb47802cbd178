import type { SupplierReport } from '../../admin/supplier.js';
import { duration, idr, when } from '../format.js';
import { type Chrome, Layout, Notice } from '../layout.js';

const age = (seconds: number | null) =>
  seconds === null ? 'never fetched' : `${duration(seconds * 1000)} ago`;

export function SupplierPage(props: { chrome: Chrome; report: SupplierReport }) {
  const r = props.report;
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
        <dt>Rate limit</dt>
        <dd id="limiter">
          {r.limiter.inWindow} calls in the current window; waiting: {waiting || 'none'}
          {r.limiter.pausedForMs > 0 && `; paused for ${duration(r.limiter.pausedForMs)}`}
        </dd>
      </dl>
      <h2>Margin per SKU</h2>
      <p class="muted">
        Margin is max_price minus the supplier's current price: what the ceiling leaves. A row in red cannot
        sell (out of margin, inactive, unknown or disabled).
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
            <th>Problems</th>
          </tr>
        </thead>
        <tbody>
          {r.skus.map((s) => {
            const sells = s.enabled && s.active && s.margin !== null && s.margin >= 0;
            return (
              <tr class={sells ? '' : 'bad'} data-sku={s.sku}>
                <td>{s.sku}</td>
                <td>
                  {s.brand} / {s.variation}
                </td>
                <td>{idr(s.price)}</td>
                <td>{idr(s.maxPrice)}</td>
                <td>{s.margin === null ? '–' : `${idr(s.margin)} (${s.marginPercent}%)`}</td>
                <td>{sells ? 'yes' : 'no'}</td>
                <td>{s.problems.join('; ')}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </Layout>
  );
}
