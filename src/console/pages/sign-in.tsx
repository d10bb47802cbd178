import { type Chrome, Layout, Notice } from '../layout.js';

const SIGNED_OUT: Chrome = { actor: null, csrf: '', section: 'none' };

/** The only page a visitor without a session is served. */
export function SignInPage(props: { error?: string | undefined; signedOut?: boolean }) {
  return (
    <Layout title="Sign in" chrome={SIGNED_OUT}>
      <form class="signin" method="post" action="/console/sign-in">
        <h1>Sign in</h1>
        {props.error && <Notice kind="error">{props.error}</Notice>}
        {props.signedOut && <Notice kind="ok">Signed out.</Notice>}
        <label>
          Admin token
          <input type="password" name="token" autocomplete="current-password" required />
        </label>
        <label>
          Your name (recorded on your actions)
          <input type="text" name="actor" maxlength={64} placeholder="console" />
        </label>
        <button class="primary" type="submit">
          Sign in
        </button>
      </form>
    </Layout>
  );
}
