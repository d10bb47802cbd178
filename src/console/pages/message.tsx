import type { Child } from 'hono/jsx';
import { type Chrome, Layout, Notice } from '../layout.js';

/** An error or a plain message in the console's frame (404, a refused action, a bad filter). */
export function MessagePage(props: {
  chrome: Chrome;
  title: string;
  kind: 'error' | 'ok' | 'warn';
  message: string;
  children?: Child;
}) {
  return (
    <Layout title={props.title} chrome={props.chrome}>
      <h1>{props.title}</h1>
      <Notice kind={props.kind}>{props.message}</Notice>
      {props.children}
    </Layout>
  );
}
