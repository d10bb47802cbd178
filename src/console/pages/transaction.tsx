import type { Story } from '../../admin/story.js';
import { figuresText } from '../../fulfilment/profit.js';
import { isTerminal } from '../../fulfilment/states.js';
import { idr, openAge, stateClass, when } from '../format.js';
import { type Chrome, CsrfField, Layout, Notice } from '../layout.js';
import type { TimelineEntry } from '../timeline.js';

export interface ActionsAvailable {
  recheck: boolean;
  resolve: boolean;
  acknowledge: boolean;
}

const base = (n: string) => `/console/transactions/${encodeURIComponent(n)}`;

function Actions(props: { chrome: Chrome; story: Story; can: ActionsAvailable }) {
  const t = props.story.transaction;
  const n = t.transactionNumber;
  if (!props.can.recheck && !props.can.resolve && !props.can.acknowledge)
    return <p class="muted">No action applies to a {t.state} transaction.</p>;
  return (
    <div class="actions">
      {props.can.recheck && (
        <form method="post" action={`${base(n)}/recheck`} id="recheck">
          <strong>{t.state === 'QUEUED' ? 'Order now' : 'Recheck'}</strong>
          <span class="muted">
            {t.state === 'QUEUED'
              ? 'Not ordered yet: sends the order to the supplier now (buys it).'
              : 'Ask the supplier about it now.'}
          </span>
          <CsrfField chrome={props.chrome} />
          <button type="submit">{t.state === 'QUEUED' ? 'Order now…' : 'Recheck…'}</button>
        </form>
      )}
      {props.can.resolve && (
        <form method="post" action={`${base(n)}/resolve`} id="resolve">
          <strong>Resolve by hand</strong>
          <span class="muted">Only once you know the outcome from VCGamers.</span>
          <CsrfField chrome={props.chrome} />
          <input type="hidden" name="seenState" value={t.state} />
          <label>
            Outcome
            <select name="outcome" required>
              <option value="">choose…</option>
              <option value="delivered">delivered</option>
              <option value="failed">failed</option>
            </select>
          </label>
          <label>
            Reason (kept on the event)
            <input name="reason" required minlength={3} maxlength={500} size={40} />
          </label>
          {t.isVoucher && (
            <label>
              Voucher code (needed to deliver a voucher)
              <input name="voucherCode" maxlength={500} />
            </label>
          )}
          {!t.trxCode && (
            <label>
              Supplier trx code (needed to deliver)
              <input name="trxCode" maxlength={100} />
            </label>
          )}
          <button type="submit">Resolve…</button>
        </form>
      )}
      {props.can.acknowledge && (
        <form method="post" action={`${base(n)}/acknowledge`} id="acknowledge">
          <strong>Acknowledge the flag</strong>
          <span class="muted">The contradiction was settled outside the gateway.</span>
          <CsrfField chrome={props.chrome} />
          <input type="hidden" name="seenFlag" value={t.attentionReason ?? ''} />
          <label>
            Reason
            <input name="reason" required minlength={3} maxlength={500} size={40} />
          </label>
          <button type="submit">Acknowledge…</button>
        </form>
      )}
    </div>
  );
}

function Timeline(props: { chrome: Chrome; entries: TimelineEntry[] }) {
  return (
    <ol class="timeline" id="timeline">
      {props.entries.map((e) => (
        <li class={e.kind} data-kind={e.kind}>
          <span class="muted">{when(e.at)}</span> <strong>{e.title}</strong>
          {e.facts.length > 0 && <div class="facts">{e.facts.join(' · ')}</div>}
          {e.bodies.map((b) => (
            <details>
              <summary>{b.label}</summary>
              <pre>{b.text}</pre>
            </details>
          ))}
          {e.webhookId !== undefined && (
            <form method="post" action={`/console/webhooks/${e.webhookId}/replay`}>
              <CsrfField chrome={props.chrome} />
              <button type="submit">Replay webhook #{e.webhookId}…</button>
            </form>
          )}
        </li>
      ))}
    </ol>
  );
}

export function TransactionPage(props: {
  chrome: Chrome;
  story: Story;
  entries: TimelineEntry[];
  can: ActionsAvailable;
  now: number;
}) {
  const t = props.story.transaction;
  const age = openAge(t, props.now);
  const money = figuresText(props.story.money);
  return (
    <Layout title={t.transactionNumber} chrome={props.chrome}>
      <p>
        <a href="/console/transactions">← transactions</a>
      </p>
      <h1>
        {t.transactionNumber}{' '}
        <span class={stateClass(t.state)} id="state">
          {t.state}
        </span>
      </h1>
      {t.attention && (
        <Notice kind="warn">⚑ Flagged for an operator: {t.attentionReason ?? 'no reason recorded'}</Notice>
      )}
      <dl>
        <dt>SKU</dt>
        <dd>
          {t.sku} → {t.brandKey} / {t.variationKey}
          {t.isVoucher ? ' (voucher)' : ''}
        </dd>
        <dt>Account</dt>
        <dd>{t.accountId}</dd>
        <dt>Created (UTC)</dt>
        <dd>
          {when(t.createdAt)}
          {age && ` · open for ${age}`}
          {!isTerminal(t.state) && t.deadlineAt ? ` · deadline ${when(t.deadlineAt)}` : ''}
        </dd>
        <dt>Price ceiling / offered / paid</dt>
        <dd>
          {idr(t.maxPrice)} / {idr(t.priceOffered)} / {idr(t.pricePaid)}
        </dd>
        <dt>Cost / revenue / profit</dt>
        <dd id="money">
          {money.cost} / {money.revenue} / <strong>{money.profit}</strong>
        </dd>
        <dt>ref_id / trx code</dt>
        <dd>
          {t.refId} / {t.trxCode ?? '–'}
        </dd>
        {t.voucherCode && (
          <>
            <dt>Voucher code</dt>
            <dd>{t.voucherCode}</dd>
          </>
        )}
        {t.failureCode && (
          <>
            <dt>Failure</dt>
            <dd>
              {t.failureCode}: {t.failureReason}
            </dd>
          </>
        )}
        <dt>Orders / resends / checks</dt>
        <dd>
          {t.orderAttempts} / {t.resends} / {t.checks}
        </dd>
      </dl>
      <h2>Actions</h2>
      <Actions chrome={props.chrome} story={props.story} can={props.can} />
      <h2>Timeline</h2>
      <Timeline chrome={props.chrome} entries={props.entries} />
    </Layout>
  );
}
