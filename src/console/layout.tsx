import { raw } from 'hono/html';
import type { Child } from 'hono/jsx';
import { CSS } from './style.js';

export type Section = 'overview' | 'transactions' | 'sales' | 'supplier' | 'go-live' | 'none';

export interface Chrome {
  /** Null on the sign-in page: no navigation for a visitor without a session. */
  actor: string | null;
  csrf: string;
  section: Section;
}

const NAV: { section: Section; href: string; label: string }[] = [
  { section: 'overview', href: '/console', label: 'Overview' },
  { section: 'transactions', href: '/console/transactions', label: 'Transactions' },
  { section: 'sales', href: '/console/sales', label: 'Sales' },
  { section: 'supplier', href: '/console/supplier', label: 'Supplier' },
  { section: 'go-live', href: '/console/go-live', label: 'Go live' },
];

export function Layout(props: { title: string; chrome: Chrome; children?: Child }) {
  const { chrome } = props;
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${props.title} · gateway console`}</title>
        <style>{raw(CSS)}</style>
      </head>
      <body>
        <header>
          <strong>Gateway console</strong>
          {chrome.actor !== null &&
            NAV.map((n) => (
              <a href={n.href} class={n.section === chrome.section ? 'here' : ''}>
                {n.label}
              </a>
            ))}
          {chrome.actor !== null && (
            <span class="who">
              signed in as {chrome.actor}
              <form method="post" action="/console/sign-out">
                <input type="hidden" name="csrf" value={chrome.csrf} />
                <button type="submit">Sign out</button>
              </form>
            </span>
          )}
        </header>
        <main>{props.children}</main>
      </body>
    </html>
  );
}

/** The hidden field every action form carries. */
export const CsrfField = (props: { chrome: Chrome }) => (
  <input type="hidden" name="csrf" value={props.chrome.csrf} />
);

export function Notice(props: { kind: 'error' | 'ok' | 'warn'; children?: Child }) {
  return (
    <div class={`notice ${props.kind}`} role={props.kind === 'error' ? 'alert' : 'status'}>
      {props.children}
    </div>
  );
}
