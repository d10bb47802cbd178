import type { TransactionView } from '../../admin/story.js';
import { TRANSACTION_STATES } from '../../db/vocabulary.js';
import { openAge, stateClass, when } from '../format.js';
import { type Chrome, Layout, Notice } from '../layout.js';

/** The listing's filters as typed: the admin API's query parameters. */
export const FILTERS = ['state', 'attention', 'sku', 'since', 'until', 'q', 'limit'] as const;
export type Filters = Partial<Record<(typeof FILTERS)[number], string>>;

export const listHref = (filters: Filters, cursor?: string): string => {
  const params = new URLSearchParams();
  for (const name of FILTERS) {
    const value = filters[name];
    if (value) params.set(name, value);
  }
  if (cursor) params.set('cursor', cursor);
  const query = params.toString();
  return `/console/transactions${query ? `?${query}` : ''}`;
};

export function TransactionsPage(props: {
  chrome: Chrome;
  filters: Filters;
  items: TransactionView[];
  next: string | null;
  error?: string | undefined;
  now: number;
}) {
  const f = props.filters;
  return (
    <Layout title="Transactions" chrome={props.chrome}>
      <h1>Transactions</h1>
      <form class="filters" method="get" action="/console/transactions">
        <label>
          State
          <select name="state">
            <option value="">any</option>
            {TRANSACTION_STATES.map((s) => (
              <option value={s} selected={f.state === s}>
                {s}
              </option>
            ))}
            <option
              value="QUEUED,ORDERING,PROCESSING,UNKNOWN"
              selected={f.state === 'QUEUED,ORDERING,PROCESSING,UNKNOWN'}
            >
              open (any)
            </option>
          </select>
        </label>
        <label>
          Flagged
          <select name="attention">
            <option value="">either</option>
            <option value="true" selected={f.attention === 'true'}>
              flagged only
            </option>
            <option value="false" selected={f.attention === 'false'}>
              not flagged
            </option>
          </select>
        </label>
        <label>
          SKU
          <input name="sku" value={f.sku ?? ''} size={14} />
        </label>
        <label>
          Since (ISO or ms)
          <input name="since" value={f.since ?? ''} size={20} placeholder="2026-11-22T00:00:00Z" />
        </label>
        <label>
          Until
          <input name="until" value={f.until ?? ''} size={20} />
        </label>
        <label>
          Number, ref_id or trx code
          <input name="q" value={f.q ?? ''} size={22} />
        </label>
        <label>
          Per page
          <input name="limit" value={f.limit ?? ''} size={4} placeholder="50" />
        </label>
        <button type="submit">Filter</button>
        <a href="/console/transactions">clear</a>
      </form>
      {props.error && <Notice kind="error">{props.error}</Notice>}
      <p class="muted">Flagged first, then open ones oldest first, then final ones newest first.</p>
      <table id="transactions">
        <thead>
          <tr>
            <th>Transaction</th>
            <th>State</th>
            <th>Open for</th>
            <th>SKU</th>
            <th>Account</th>
            <th>Created (UTC)</th>
            <th>Trx code</th>
            <th>Flag</th>
          </tr>
        </thead>
        <tbody>
          {props.items.map((t) => (
            <tr class={t.attention ? 'flagged' : ''} data-number={t.transactionNumber}>
              <td>
                <a href={`/console/transactions/${encodeURIComponent(t.transactionNumber)}`}>
                  {t.transactionNumber}
                </a>
              </td>
              <td>
                <span class={stateClass(t.state)}>{t.state}</span>
              </td>
              <td>{openAge(t, props.now)}</td>
              <td>{t.sku}</td>
              <td>{t.accountId}</td>
              <td>{when(t.createdAt)}</td>
              <td>{t.trxCode ?? ''}</td>
              <td class="flag">{t.attention ? `⚑ ${t.attentionReason ?? ''}` : ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {props.items.length === 0 && !props.error && <p>No transaction matches.</p>}
      {props.next && (
        <p>
          <a id="next-page" href={listHref(f, props.next)}>
            Next page →
          </a>
        </p>
      )}
    </Layout>
  );
}
