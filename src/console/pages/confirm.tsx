import { type Chrome, CsrfField, Layout, Notice } from '../layout.js';

/** Asks before an action runs: the same form posted again with `confirm=yes`. */
export function ConfirmPage(props: {
  chrome: Chrome;
  title: string;
  /** What will happen, one line each. */
  lines: string[];
  action: string;
  fields: Record<string, string>;
  cancelHref: string;
  danger?: boolean;
}) {
  return (
    <Layout title={props.title} chrome={props.chrome}>
      <h1>{props.title}</h1>
      <Notice kind="warn">
        <ul class="lines">
          {props.lines.map((l) => (
            <li>{l}</li>
          ))}
        </ul>
      </Notice>
      <form method="post" action={props.action} id="confirm">
        <CsrfField chrome={props.chrome} />
        {Object.entries(props.fields).map(([name, value]) => (
          <input type="hidden" name={name} value={value} />
        ))}
        <input type="hidden" name="confirm" value="yes" />
        <button type="submit" class={props.danger ? 'danger' : 'primary'}>
          Confirm
        </button>{' '}
        <a href={props.cancelHref}>Cancel</a>
      </form>
    </Layout>
  );
}

/** What an action did, with the way back. */
export function ResultPage(props: {
  chrome: Chrome;
  title: string;
  ok: boolean;
  lines: string[];
  backHref: string;
  backLabel: string;
}) {
  return (
    <Layout title={props.title} chrome={props.chrome}>
      <h1>{props.title}</h1>
      <Notice kind={props.ok ? 'ok' : 'error'}>
        <ul id="result">
          {props.lines.map((l) => (
            <li>{l}</li>
          ))}
        </ul>
      </Notice>
      <p>
        <a href={props.backHref} id="back">
          {props.backLabel}
        </a>
      </p>
    </Layout>
  );
}
