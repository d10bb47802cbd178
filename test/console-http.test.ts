import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { issueSession, sessionKey } from '../src/console/session.js';
import { decode, type Fields, formOf, textOf } from './helpers/console-html.js';
import { type E2E, startE2E } from './helpers/e2e.js';
import { transactionRow } from './helpers/fixtures.js';
import { exampleMapping } from './helpers/mapping.js';
import { waitFor } from './helpers/wait.js';

// The operator console at /console, through HTTP against a whole gateway: what a browser
// would do, without one. A tiny cookie jar is kept by hand; redirects are never followed.

const ADMIN_TOKEN = 'admin-token-for-tests-0123456789';
const COOKIE = 'gateway_console';

let e: E2E | undefined;
afterEach(async () => {
  await e?.close();
  e = undefined;
});

// The reconciler checks an open transaction a minute after each move, not within the test: its
// steps would hold the row (a resolve then answers BUSY) and touch it while a test compares it.
const start = (env: Record<string, string> = {}, options: Parameters<typeof startE2E>[0] = {}) =>
  startE2E({
    ...options,
    env: { ADMIN_TOKEN, TOPUP_WAIT_MS: '300', RECONCILE_SCHEDULE_MS: '60000', ...env },
  });

const gateway = (): E2E => {
  if (!e) throw new Error('no gateway');
  return e;
};

interface Reply {
  status: number;
  text: string;
  headers: Headers;
  location: string | null;
  setCookies: string[];
}

interface RequestOptions {
  /** A form body (urlencoded), or a raw body with its own content type in `headers`. */
  form?: Fields;
  raw?: string;
  headers?: Record<string, string>;
  /** Leave the csrf field out of a form (it is added from the last page read otherwise). */
  noCsrf?: boolean;
}

/** What a browser keeps between requests: the console cookie and the last form token seen. */
class Browser {
  readonly cookies = new Map<string, string>();
  csrf: string | undefined;

  constructor(readonly base: string) {}

  get session(): string | undefined {
    return this.cookies.get(COOKIE);
  }

  async request(method: 'GET' | 'POST', path: string, options: RequestOptions = {}): Promise<Reply> {
    const headers: Record<string, string> = { ...options.headers };
    if (this.cookies.size > 0)
      headers.cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    let body: string | undefined = options.raw;
    if (options.form) {
      const fields = { ...options.form };
      if (!options.noCsrf && fields.csrf === undefined && this.csrf !== undefined) fields.csrf = this.csrf;
      body = new URLSearchParams(fields).toString();
      headers['content-type'] ??= 'application/x-www-form-urlencoded';
    }
    const res = await fetch(`${this.base}${path}`, { method, headers, body, redirect: 'manual' });
    const text = await res.text();
    const setCookies = res.headers.getSetCookie();
    for (const line of setCookies) {
      const [pair = ''] = line.split(';');
      const at = pair.indexOf('=');
      const name = pair.slice(0, at).trim();
      const value = pair.slice(at + 1).trim();
      const gone = value === '' || /;\s*max-age=0\b/i.test(line) || /expires=Thu, 01 Jan 1970/i.test(line);
      if (gone) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const token = csrfIn(text);
    if (token !== undefined) this.csrf = token;
    return {
      status: res.status,
      text,
      headers: res.headers,
      location: res.headers.get('location'),
      setCookies,
    };
  }

  get(path: string, headers?: Record<string, string>) {
    return this.request('GET', path, headers ? { headers } : {});
  }

  post(path: string, form: Fields, options: Omit<RequestOptions, 'form'> = {}) {
    return this.request('POST', path, { ...options, form });
  }

  async signIn(actor = 'alice', headers: Record<string, string> = {}): Promise<Reply> {
    const r = await this.post('/console/sign-in', { token: ADMIN_TOKEN, actor }, { headers, noCsrf: true });
    expect(r.status).toBe(303);
    expect(r.location).toBe('/console');
    expect(this.session).toBeDefined();
    // The first page read gives the form token every post carries.
    const overview = await this.get('/console');
    expect(overview.status).toBe(200);
    expect(this.csrf).toBeDefined();
    return r;
  }
}

const browser = () => new Browser(gateway().url);

function csrfIn(html: string): string | undefined {
  const m = /name="csrf" value="([^"]*)"/.exec(html);
  return m?.[1] === undefined || m[1] === '' ? undefined : decode(m[1]);
}

/** The transaction numbers of a listing, in order. */
const rowsOf = (html: string) =>
  [...html.matchAll(/<tr[^>]*data-number="([^"]*)"/g)].map((m) => decode(m[1] ?? ''));

/** The text of a notice or a list of the page, tags dropped. */

/** A purchase whose order the simulator keeps PROCESSING: top-up answers 408. */
async function stuck(n: string, over?: Record<string, unknown>) {
  const g = gateway();
  g.sim.nextEnding({ kind: 'stay' });
  const { topup } = await g.purchase(n, over);
  expect(topup.status).toBe(408);
  await waitFor(async () => (await g.state(n)) === 'PROCESSING', 5000, `${n} PROCESSING`);
}

async function settled(n: string) {
  const g = gateway();
  await g.purchase(n);
  await g.settle(n);
}

/** The row and its history: compared before and after a refused request. */
async function snapshot(n: string) {
  const g = gateway();
  const row = await g.gw.store.getTransaction(n);
  return {
    state: row?.state,
    attention: row?.attention,
    updatedAt: row?.updatedAt,
    events: (await g.gw.store.listEvents(n)).map((x) => `${x.fromState}>${x.toState}:${x.actor ?? ''}`),
  };
}

const resolveFailed: Fields = { outcome: 'failed', reason: 'refunded by Mitra support', confirm: 'yes' };

describe('console: off without ADMIN_TOKEN', () => {
  it('answers 404 on /console and /console/sign-in (not the console) and issues no cookie', async () => {
    e = await startE2E();
    const b = browser();
    for (const path of ['/console', '/console/sign-in', '/console/transactions', '/console/supplier']) {
      const r = await b.get(path);
      expect(r.status, path).toBe(404);
      expect(r.headers.get('content-type') ?? '', path).not.toMatch(/text\/html/);
      expect(r.text, path).not.toMatch(/Sign in|gateway console/);
    }
    const post = await b.post('/console/sign-in', { token: ADMIN_TOKEN, actor: 'alice' });
    expect(post.status).toBe(404);
    expect(post.setCookies).toEqual([]);
  });
});

describe('console: signed out', () => {
  it('redirects every page to sign-in without showing any transaction', async () => {
    e = await start();
    await stuck('SO-1');
    await e.gw.store.flagForOperator('SO-1', 'looks odd', Date.now());
    const b = browser();
    for (const path of [
      '/console',
      '/console/transactions',
      '/console/transactions?attention=true',
      '/console/transactions/SO-1',
      '/console/transactions/NOPE',
      '/console/supplier',
      '/console/nothing-here',
    ]) {
      const r = await b.get(path);
      expect(r.status, path).toBe(303);
      expect(r.location, path).toBe('/console/sign-in');
      expect(r.text, path).not.toContain('SO-1');
      expect(r.text, path).not.toContain('looks odd');
      expect(r.setCookies, path).toEqual([]);
    }
    // A cookie that is not a session changes nothing.
    b.cookies.set(COOKIE, 'v1.x.9999999999999.YWxpY2U.bm90LWEtbWFj');
    const junk = await b.get('/console/transactions/SO-1');
    expect([junk.status, junk.location]).toEqual([303, '/console/sign-in']);
    expect(junk.text).not.toContain('SO-1');
  });

  it('refuses every action with 401, changes nothing, and serves only the sign-in page', async () => {
    e = await start();
    await stuck('SO-2');
    await e.gw.store.flagForOperator('SO-2', 'looks odd', Date.now());
    await settled('SO-3');
    await e.gw.store.flagForOperator('SO-3', 'refund after delivery', Date.now());
    const hook = await e.gw.store.storeWebhook({
      receivedAt: Date.now(),
      sourceIp: '127.0.0.1',
      headers: {},
      body: JSON.stringify({ ref_id: 'RG-SO-2', status: 1 }),
      bodySha256: 'x',
      kind: 'transaction',
      transactionRef: 'SO-2',
      processedAt: Date.now(),
      result: 'status checked',
    });
    const before = [await snapshot('SO-2'), await snapshot('SO-3')];
    const b = browser();
    for (const [path, form] of [
      ['/console/transactions/SO-2/resolve', resolveFailed],
      ['/console/transactions/SO-2/recheck', { confirm: 'yes' }],
      ['/console/transactions/SO-3/acknowledge', { reason: 'settled by email', confirm: 'yes' }],
      [`/console/webhooks/${hook}/replay`, { confirm: 'yes' }],
      ['/console/sign-out', {}],
    ] as const) {
      const r = await b.post(path, { ...form, csrf: 'anything' });
      expect(r.status, path).toBe(401);
      expect(r.text, path).toContain('Your session has ended: sign in again.');
      expect(r.text, path).not.toContain('SO-2');
      expect(r.setCookies, path).toEqual([]);
    }
    expect([await snapshot('SO-2'), await snapshot('SO-3')]).toEqual(before);
    expect((await e.gw.store.getWebhook(hook))?.result).toBe('status checked');

    const signIn = await b.get('/console/sign-in');
    expect(signIn.status).toBe(200);
    expect(signIn.headers.get('content-type')).toMatch(/^text\/html/);
    expect(signIn.text).toMatch(/^<!DOCTYPE html>/);
    expect(signIn.text).toContain('<form class="signin" method="post" action="/console/sign-in">');
    expect(signIn.text).toContain('name="token"');
    // No navigation, no form token for a visitor without a session.
    expect(signIn.text).not.toContain('href="/console/transactions"');
    expect(signIn.text).not.toContain('/console/sign-out');
    expect(csrfIn(signIn.text)).toBeUndefined();
  });
});

describe('console: sign-in', () => {
  it('refuses a wrong token with 401, counts it, and sets no cookie', async () => {
    e = await start();
    const b = browser();
    const before = e.gw.counters.unauthorized;
    for (const token of [
      '',
      'wrong-token',
      `${ADMIN_TOKEN}x`,
      ADMIN_TOKEN.slice(0, -1),
      ADMIN_TOKEN.toUpperCase(),
    ]) {
      const r = await b.post('/console/sign-in', { token, actor: 'alice' });
      expect(r.status, token).toBe(401);
      expect(r.text).toContain('That is not the admin token.');
      expect(r.setCookies).toEqual([]);
    }
    // No token field at all.
    expect((await b.post('/console/sign-in', { actor: 'alice' })).status).toBe(401);
    expect(e.gw.counters.unauthorized - before).toBe(6);
    const metrics = await fetch(`${e.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(await metrics.text()).toMatch(/^gateway_unauthorized_total 6$/m);
    expect(b.session).toBeUndefined();
    expect((await b.get('/console')).status).toBe(303);
  });

  it('refuses an invalid name with 400 and says why', async () => {
    e = await start();
    const b = browser();
    for (const actor of ['bob<script>', 'x'.repeat(65), 'émile', 'a;b']) {
      const r = await b.post('/console/sign-in', { token: ADMIN_TOKEN, actor });
      expect(r.status, actor).toBe(400);
      expect(r.text).toContain('Your name must be 1-64 ASCII letters, digits, spaces or . _ @ + -');
      expect(r.setCookies).toEqual([]);
    }
    expect(b.session).toBeUndefined();
  });

  it('signs in with the right token: 303 and an HttpOnly, SameSite=Strict cookie on /console, not Secure over http', async () => {
    e = await start();
    const b = browser();
    const r = await b.signIn('alice');
    expect(r.setCookies).toHaveLength(1);
    const cookie = r.setCookies[0] ?? '';
    expect(cookie).toMatch(new RegExp(`^${COOKIE}=v1\\.`));
    const attributes = cookie.split(';').map((a) => a.trim().toLowerCase());
    expect(attributes).toContain('httponly');
    expect(attributes).toContain('samesite=strict');
    expect(attributes).toContain('path=/console');
    expect(attributes).toContain('max-age=28800');
    expect(attributes).not.toContain('secure');
    const overview = await b.get('/console');
    expect(overview.status).toBe(200);
    expect(overview.text).toContain('signed in as alice');
    // Signed in, the sign-in page sends to the overview.
    const again = await b.get('/console/sign-in');
    expect([again.status, again.location]).toEqual([303, '/console']);
  });

  it('marks the cookie Secure behind TLS (X-Forwarded-Proto: https); a blank name signs in as console', async () => {
    e = await start();
    const b = browser();
    const r = await b.post(
      '/console/sign-in',
      { token: ADMIN_TOKEN, actor: '  ' },
      { headers: { 'x-forwarded-proto': 'https' } },
    );
    expect(r.status).toBe(303);
    const attributes = (r.setCookies[0] ?? '').split(';').map((a) => a.trim().toLowerCase());
    expect(attributes).toContain('secure');
    expect(attributes).toContain('httponly');
    expect(attributes).toContain('samesite=strict');
    expect((await b.get('/console')).text).toContain('signed in as console');
  });
});

describe('console: security headers', () => {
  it('sends a script-free CSP, DENY framing and no-store on every page, redirect and error', async () => {
    e = await start();
    await stuck('HDR-1');
    const signedOut = browser();
    const b = browser();
    await b.signIn('alice');
    const replies: [string, Reply][] = [
      ['sign-in', await signedOut.get('/console/sign-in')],
      ['redirect', await signedOut.get('/console')],
      ['401', await signedOut.post('/console/transactions/HDR-1/resolve', resolveFailed)],
      ['wrong token', await signedOut.post('/console/sign-in', { token: 'nope' })],
      ['sign-in 303', await browser().post('/console/sign-in', { token: ADMIN_TOKEN, actor: 'x' })],
      ['overview', await b.get('/console')],
      ['list', await b.get('/console/transactions')],
      ['bad filter', await b.get('/console/transactions?since=yesterday')],
      ['transaction', await b.get('/console/transactions/HDR-1')],
      ['404', await b.get('/console/transactions/NOPE')],
      ['unknown page', await b.get('/console/nothing')],
      ['supplier', await b.get('/console/supplier')],
      ['confirm', await b.post('/console/transactions/HDR-1/resolve', { outcome: 'failed', reason: 'lost' })],
      ['403', await b.post('/console/transactions/HDR-1/resolve', resolveFailed, { noCsrf: true })],
      ['413', await b.post('/console/transactions/HDR-1/resolve', { reason: 'x'.repeat(20_000) })],
    ];
    expect(replies.map(([, r]) => r.status)).toEqual([
      200, 303, 401, 401, 303, 200, 200, 400, 200, 404, 404, 200, 200, 403, 413,
    ]);
    for (const [what, r] of replies) {
      const csp = r.headers.get('content-security-policy') ?? '';
      const directives = csp.split(';').map((d) => d.trim());
      expect(directives, what).toContain("default-src 'none'");
      expect(directives, what).toContain("frame-ancestors 'none'");
      expect(directives, what).toContain("form-action 'self'");
      expect(csp, what).not.toMatch(/script-src/);
      expect(csp, what).not.toMatch(/unsafe-inline|unsafe-eval/);
      expect(r.headers.get('x-frame-options'), what).toBe('DENY');
      expect(r.headers.get('cache-control'), what).toBe('no-store');
      expect(r.headers.get('x-content-type-options'), what).toBe('nosniff');
      expect(r.text, what).not.toMatch(/<script/i);
      // The one inline stylesheet is the one the CSP's hash allows; no style attribute needs more.
      if (r.status === 303) continue;
      const style = /<style>([\s\S]*?)<\/style>/.exec(r.text)?.[1] ?? '';
      expect(style.length, what).toBeGreaterThan(100);
      const hash = `'sha256-${createHash('sha256').update(style).digest('base64')}'`;
      expect(directives, what).toContain(`style-src ${hash}`);
      expect(r.text.match(/<style/g), what).toHaveLength(1);
      expect(r.text, what).not.toMatch(/\sstyle="/);
      for (const action of r.text.matchAll(/<form[^>]*action="([^"]*)"/g))
        expect(action[1], what).toMatch(/^\/console(\/|$)/);
    }
  });
});

describe('console: forms from elsewhere (CSRF)', () => {
  it('refuses a post without its session token, from another site, or with another session token: 403, nothing changes', async () => {
    e = await start();
    await stuck('CS-1');
    await e.gw.store.flagForOperator('CS-1', 'overdue', Date.now());
    const before = await snapshot('CS-1');
    const b = browser();
    await b.signIn('alice');
    const mine = b.csrf ?? '';
    const other = browser();
    await other.signIn('bob');
    const theirs = other.csrf ?? '';
    expect(theirs).not.toBe(mine);
    const host = new URL(e.url).host;

    const path = '/console/transactions/CS-1/resolve';
    const attempts: [string, Fields, Record<string, string>][] = [
      ['no csrf field', resolveFailed, {}],
      ['empty csrf', { ...resolveFailed, csrf: '' }, {}],
      ['wrong csrf', { ...resolveFailed, csrf: `${mine.slice(0, -2)}xx` }, {}],
      ['csrf of another session', { ...resolveFailed, csrf: theirs }, {}],
      ['cross-site fetch', { ...resolveFailed, csrf: mine }, { 'sec-fetch-site': 'cross-site' }],
      ['same-site fetch', { ...resolveFailed, csrf: mine }, { 'sec-fetch-site': 'same-site' }],
      ['evil origin', { ...resolveFailed, csrf: mine }, { origin: 'https://evil.example' }],
      ['null origin', { ...resolveFailed, csrf: mine }, { origin: 'null' }],
      ['look-alike origin', { ...resolveFailed, csrf: mine }, { origin: `http://${host}.evil.example` }],
    ];
    for (const [what, form, headers] of attempts) {
      const r = await b.request('POST', path, { form, headers, noCsrf: true });
      expect(r.status, what).toBe(403);
      expect(textOf(r.text), what).toMatch(/not sent from the console/);
      expect(await snapshot('CS-1'), what).toEqual(before);
    }
    // Sign-out needs the token too: the session lives on.
    expect((await b.post('/console/sign-out', {}, { noCsrf: true })).status).toBe(403);
    expect((await b.get('/console')).status).toBe(200);
    // A sign-in from another site is refused before the token is looked at.
    const signIn = await browser().post(
      '/console/sign-in',
      { token: ADMIN_TOKEN, actor: 'mallory' },
      { headers: { 'sec-fetch-site': 'cross-site' } },
    );
    expect(signIn.status).toBe(403);
    expect(signIn.setCookies).toEqual([]);

    // The same post, as the console's own page sends it, goes through.
    const ok = await b.post(path, resolveFailed, {
      headers: { 'sec-fetch-site': 'same-origin', origin: `http://${host}` },
    });
    expect(ok.status).toBe(200);
    expect(await e.state('CS-1')).toBe('FAILED');
  });

  it('accepts a post whose Origin is this host when the browser sends no Sec-Fetch-Site', async () => {
    e = await start();
    await stuck('CS-2');
    const b = browser();
    await b.signIn('alice');
    const ok = await b.post('/console/transactions/CS-2/resolve', resolveFailed, {
      headers: { origin: `http://${new URL(e.url).host}` },
    });
    expect(ok.status).toBe(200);
    expect(await e.state('CS-2')).toBe('FAILED');
  });
});

describe('console: resolve, confirm then act', () => {
  it('asks first (nothing changes), then resolves as failed with the signed-in name as actor; Razer then gets 400', async () => {
    e = await start();
    await stuck('RS-1');
    await e.gw.store.flagForOperator('RS-1', 'overdue', Date.now());
    expect((await e.query('RS-1')).status).toBe(408);
    const before = await snapshot('RS-1');
    const b = browser();
    await b.signIn('alice');

    const page = await b.get('/console/transactions/RS-1');
    expect(page.text).toContain('id="resolve"');
    const ask = await b.post('/console/transactions/RS-1/resolve', {
      outcome: 'failed',
      reason: 'refunded by Mitra support',
    });
    expect(ask.status).toBe(200);
    expect(ask.text).toContain('Resolve RS-1 as failed?');
    expect(textOf(ask.text)).toContain('RS-1 is PROCESSING. It becomes FAILED, for good');
    expect(textOf(ask.text)).toContain('with you (alice) as the actor');
    expect(await snapshot('RS-1')).toEqual(before);

    // The browser submits the confirmation form as it stands.
    const confirm = formOf(ask.text, 'confirm');
    expect(confirm.action).toBe('/console/transactions/RS-1/resolve');
    expect(confirm.fields).toMatchObject({
      outcome: 'failed',
      reason: 'refunded by Mitra support',
      confirm: 'yes',
      csrf: b.csrf,
    });
    const done = await b.post(confirm.action, confirm.fields);
    expect(done.status).toBe(200);
    expect(done.text).toContain('Resolved RS-1');
    expect(textOf(done.text)).toContain('RS-1 is now FAILED.');
    expect(textOf(done.text)).toContain("Razer's next query is answered 400");
    expect(await e.gw.store.getTransaction('RS-1')).toMatchObject({
      state: 'FAILED',
      attention: false,
      failureCode: 'FAILED',
    });
    const events = await e.gw.store.listEvents('RS-1');
    expect(events).toHaveLength(before.events.length + 1);
    expect(events.at(-1)).toMatchObject({
      fromState: 'PROCESSING',
      toState: 'FAILED',
      cause: 'operator',
      actor: 'alice',
      detail: 'resolved as failed by alice: refunded by Mitra support',
    });
    expect((await e.query('RS-1')).status).toBe(400);

    // The transaction's page now shows the operator's event and no resolve form.
    const after = await b.get('/console/transactions/RS-1');
    expect(after.text).toContain('class="state bad" id="state">FAILED');
    expect(after.text).not.toContain('id="resolve"');
    expect(textOf(after.text)).toContain('cause operator by alice');
  });

  it('resolves as delivered with the trx code; Razer then gets 200 SUCCESS', async () => {
    e = await start();
    await stuck('RS-2');
    const trxCode = (await e.gw.store.getTransaction('RS-2'))?.trxCode ?? '';
    expect(trxCode).not.toBe('');
    const b = browser();
    await b.signIn('bob');
    const ask = await b.post('/console/transactions/RS-2/resolve', {
      outcome: 'delivered',
      reason: 'seen in the Mitra dashboard',
      trxCode: '',
      voucherCode: '',
    });
    expect(ask.status).toBe(200);
    expect(textOf(ask.text)).toContain(`referenceId “${trxCode}”`);
    const confirm = formOf(ask.text, 'confirm');
    // Empty boxes are not carried over; the state the page showed is pinned.
    expect(Object.keys(confirm.fields).sort()).toEqual(['confirm', 'csrf', 'outcome', 'reason', 'seenState']);
    expect(confirm.fields.seenState).toBe('PROCESSING');
    expect(await e.state('RS-2')).toBe('PROCESSING');
    const done = await b.post(confirm.action, confirm.fields);
    expect(done.status).toBe(200);
    expect(textOf(done.text)).toContain('RS-2 is now SUCCESS.');
    expect(textOf(done.text)).toContain("Razer's next query is answered 200 SUCCESS");
    expect((await e.gw.store.listEvents('RS-2')).at(-1)).toMatchObject({ toState: 'SUCCESS', actor: 'bob' });
    const query = await e.query('RS-2');
    expect([query.status, query.json.status]).toEqual([200, 'SUCCESS']);
  });

  it('refuses bad input with a 400 page naming the problem, confirmed or not, and changes nothing', async () => {
    e = await start();
    await stuck('RS-3');
    await stuck('RS-4', { sku: 'STEAMV50', accountId: 'buyer@example.com' });
    const before = [await snapshot('RS-3'), await snapshot('RS-4')];
    const b = browser();
    await b.signIn('alice');
    for (const [n, form, message] of [
      ['RS-3', { outcome: 'failed' }, 'reason is required'],
      ['RS-3', { outcome: 'failed', reason: '   ' }, 'reason is required'],
      ['RS-3', { outcome: 'failed', reason: 'x' }, 'reason must say why, in at least 3 characters'],
      ['RS-3', { reason: 'looked lost' }, 'outcome must be delivered or failed'],
      ['RS-3', { outcome: 'maybe', reason: 'looked lost' }, 'outcome must be delivered or failed'],
      ['RS-3', { outcome: 'delivered', reason: 'fine', trxCode: 'OTHER' }, 'already has trx_code'],
      [
        'RS-4',
        { outcome: 'delivered', reason: 'seen it' },
        'RS-4 is a voucher: resolving it as delivered needs its voucherCode',
      ],
    ] as const) {
      for (const confirm of [{}, { confirm: 'yes' }] as Fields[]) {
        const r = await b.post(`/console/transactions/${n}/resolve`, { ...form, ...confirm });
        const what = `${JSON.stringify(form)} ${JSON.stringify(confirm)}`;
        expect(r.status, what).toBe(message === 'already has trx_code' ? 409 : 400);
        expect(r.text, what).toContain('<h1>Refused</h1>');
        expect(textOf(r.text), what).toContain(message);
        expect(r.text, what).not.toContain('id="confirm"');
      }
    }
    expect([await snapshot('RS-3'), await snapshot('RS-4')]).toEqual(before);
  });

  it('refuses to resolve a final transaction (409) and an unknown one (404)', async () => {
    e = await start();
    await settled('RS-5');
    const before = await snapshot('RS-5');
    const b = browser();
    await b.signIn('alice');
    for (const confirm of [{}, { confirm: 'yes' }] as Fields[]) {
      const r = await b.post('/console/transactions/RS-5/resolve', {
        outcome: 'failed',
        reason: 'changed my mind',
        ...confirm,
      });
      expect(r.status).toBe(409);
      expect(textOf(r.text)).toContain('RS-5 is already SUCCESS; a final state never changes');
      const nope = await b.post('/console/transactions/NOPE/resolve', {
        outcome: 'failed',
        reason: 'changed my mind',
        ...confirm,
      });
      expect(nope.status).toBe(404);
      expect(textOf(nope.text)).toContain('no transaction NOPE');
    }
    expect(await snapshot('RS-5')).toEqual(before);
    expect((await e.query('RS-5')).status).toBe(200);
  });
});

describe('console: recheck, webhook replay and acknowledge', () => {
  it('rechecks after confirmation: a delivered order moves to SUCCESS; one never sent is refused', async () => {
    e = await start({}, { sim: { webhookUrl: undefined } });
    e.sim.webhookUrl = null;
    await stuck('RC-1');
    e.sim.finish((await e.gw.store.getTransaction('RC-1'))?.trxCode ?? '', { kind: 'success' });
    const callsBefore = (await e.calls('RC-1')).length;
    const b = browser();
    await b.signIn('carol');
    const page = await b.get('/console/transactions/RC-1');
    expect(page.text).toContain('id="recheck"');
    const ask = await b.post('/console/transactions/RC-1/recheck', {});
    expect(ask.status).toBe(200);
    expect(ask.text).toContain('Recheck RC-1?');
    expect(await e.state('RC-1')).toBe('PROCESSING');
    expect((await e.calls('RC-1')).length).toBe(callsBefore);
    const confirm = formOf(ask.text, 'confirm');
    const done = await b.post(confirm.action, confirm.fields);
    expect(done.status).toBe(200);
    expect(done.text).toContain('Rechecked RC-1');
    expect(textOf(done.text)).toContain('Before: PROCESSING; now: SUCCESS.');
    expect(textOf(done.text)).toContain("Razer's next query is answered 200 SUCCESS");
    expect(await e.state('RC-1')).toBe('SUCCESS');
    expect((await e.calls('RC-1')).length).toBeGreaterThan(callsBefore);

    await e.init('RC-2');
    const initiated = await b.get('/console/transactions/RC-2');
    expect(initiated.text).not.toContain('id="recheck"');
    const never = await b.post('/console/transactions/RC-2/recheck', { confirm: 'yes' });
    expect(never.status).toBe(409);
    expect(textOf(never.text)).toContain('RC-2 is INITIATED: it never went to the supplier');
    expect(await e.state('RC-2')).toBe('INITIATED');
  });

  it('replays a stored webhook after confirmation, with the name as actor', async () => {
    e = await start();
    await settled('WH-1');
    let id = 0;
    await waitFor(async () => {
      const page = await e?.gw.store.pageWebhooks({ transactionRef: 'WH-1', processed: true, limit: 5 });
      id = page?.items[0]?.id ?? 0;
      return id > 0;
    });
    const first = (await e.gw.store.getWebhook(id))?.result;
    const b = browser();
    await b.signIn('dave');
    const page = await b.get('/console/transactions/WH-1');
    expect(page.text).toContain(`action="/console/webhooks/${id}/replay"`);
    expect(page.text).toContain(`Replay webhook #${id}`);
    const ask = await b.post(`/console/webhooks/${id}/replay`, {});
    expect(ask.status).toBe(200);
    expect(ask.text).toContain(`Replay webhook #${id}?`);
    expect(textOf(ask.text)).toContain('(transaction WH-1)');
    expect((await e.gw.store.getWebhook(id))?.result).toBe(first);
    const confirm = formOf(ask.text, 'confirm');
    const done = await b.post(confirm.action, confirm.fields);
    expect(done.status).toBe(200);
    expect(done.text).toContain(`Replayed webhook #${id}`);
    expect(textOf(done.text)).toMatch(/result: replayed by dave: /);
    expect((await e.gw.store.getWebhook(id))?.result).toMatch(/^replayed by dave: /);
    expect(await e.state('WH-1')).toBe('SUCCESS');
  });

  it('answers a replay of an unknown webhook with 404 and a bad id with 400', async () => {
    e = await start();
    const b = browser();
    await b.signIn('dave');
    const unknown = await b.post('/console/webhooks/999999/replay', { confirm: 'yes' });
    expect(unknown.status).toBe(404);
    expect(textOf(unknown.text)).toContain('no webhook 999999');
    const bad = await b.post('/console/webhooks/abc/replay', { confirm: 'yes' });
    expect(bad.status).toBe(400);
    expect(textOf(bad.text)).toContain('must be a webhook id');
  });

  it('acknowledges a flagged final transaction after confirmation: the flag clears, the state stays', async () => {
    e = await start();
    await settled('AK-1');
    await e.gw.store.flagForOperator('AK-1', 'supplier reports a refund after delivery', Date.now());
    const b = browser();
    await b.signIn('erin');
    const page = await b.get('/console/transactions/AK-1');
    expect(page.text).toContain('id="acknowledge"');
    expect(textOf(page.text)).toContain('Flagged for an operator: supplier reports a refund after delivery');
    const noReason = await b.post('/console/transactions/AK-1/acknowledge', { confirm: 'yes' });
    expect(noReason.status).toBe(400);
    expect(textOf(noReason.text)).toContain('reason must say why, in at least 3 characters');
    const ask = await b.post('/console/transactions/AK-1/acknowledge', {
      reason: 'settled with Razer by email',
    });
    expect(ask.status).toBe(200);
    expect(ask.text).toContain('Acknowledge the flag of AK-1?');
    expect((await e.gw.store.getTransaction('AK-1'))?.attention).toBe(true);
    const confirm = formOf(ask.text, 'confirm');
    expect(confirm.fields).toMatchObject({ reason: 'settled with Razer by email', confirm: 'yes' });
    const done = await b.post(confirm.action, confirm.fields);
    expect(done.status).toBe(200);
    expect(textOf(done.text)).toContain('AK-1 stays SUCCESS; its flag is cleared.');
    expect(await e.gw.store.getTransaction('AK-1')).toMatchObject({ state: 'SUCCESS', attention: false });
    const again = await b.post('/console/transactions/AK-1/acknowledge', { reason: 'again', confirm: 'yes' });
    expect(again.status).toBe(409);
    expect(textOf(again.text)).toContain('AK-1 is not flagged');
  });
});

describe('console: the transactions list', () => {
  it('lists flagged first, filters, ignores empty boxes, refuses a bad filter and pages with the next link', async () => {
    e = await start();
    await settled('LIST-1');
    await stuck('LIST-2');
    await settled('LIST-3');
    await stuck('LIST-4');
    await e.gw.store.flagForOperator('LIST-4', 'looks odd', Date.now());
    const b = browser();
    await b.signIn('alice');
    const list = async (query: string) => {
      const r = await b.get(`/console/transactions${query}`);
      expect(r.status, query).toBe(200);
      return rowsOf(r.text);
    };

    const all = await b.get('/console/transactions');
    expect(rowsOf(all.text)).toEqual(['LIST-4', 'LIST-2', 'LIST-3', 'LIST-1']);
    expect(all.text).toContain('<tr class="flagged" data-number="LIST-4">');
    expect(all.text).not.toContain('id="next-page"');

    expect(await list('?state=SUCCESS')).toEqual(['LIST-3', 'LIST-1']);
    expect(await list('?state=PROCESSING')).toEqual(['LIST-4', 'LIST-2']);
    expect(await list('?state=PROCESSING,SUCCESS&attention=false')).toEqual(['LIST-2', 'LIST-3', 'LIST-1']);
    expect(await list('?attention=true')).toEqual(['LIST-4']);
    expect(await list('?q=LIST-2')).toEqual(['LIST-2']);
    expect(await list('?q=RG-LIST-3')).toEqual(['LIST-3']);
    expect(await list('?sku=STEAMV50')).toEqual([]);
    // The form's empty boxes filter nothing.
    expect(await list('?state=&attention=&sku=&since=&until=&q=&limit=')).toEqual([
      'LIST-4',
      'LIST-2',
      'LIST-3',
      'LIST-1',
    ]);
    expect(await list('?state=SUCCESS&attention=&q=')).toEqual(['LIST-3', 'LIST-1']);
    const chosen = await b.get('/console/transactions?state=SUCCESS');
    expect(chosen.text).toContain('<option value="SUCCESS" selected="">SUCCESS</option>');

    for (const [query, name] of [
      ['?since=yesterday', /since must be an ISO 8601 time/],
      ['?state=DONE', /state/],
      ['?attention=yes', /attention must be true or false/],
      ['?limit=0', /limit must be a whole number/],
      ['?colour=red', /unknown parameter colour/],
    ] as const) {
      const bad = await b.get(`/console/transactions${query}`);
      expect(bad.status, query).toBe(400);
      expect(bad.text, query).toContain('class="notice error"');
      expect(textOf(bad.text), query).toMatch(name);
      expect(rowsOf(bad.text), query).toEqual([]);
    }
    // The bad value stays in its box to be corrected.
    expect((await b.get('/console/transactions?since=yesterday')).text).toContain(
      'name="since" value="yesterday"',
    );

    const follow = async (query: string) => {
      const seen: string[] = [];
      let path: string | undefined = `/console/transactions${query}`;
      for (let pages = 0; path !== undefined; pages++) {
        expect(pages).toBeLessThan(10);
        const r = await b.get(path);
        expect(r.status, path).toBe(200);
        const rows = rowsOf(r.text);
        expect(rows.length, path).toBeLessThanOrEqual(1);
        seen.push(...rows);
        const next = /<a id="next-page" href="([^"]*)"/.exec(r.text)?.[1];
        path = next === undefined ? undefined : decode(next);
      }
      return seen;
    };
    expect(await follow('?limit=1')).toEqual(['LIST-4', 'LIST-2', 'LIST-3', 'LIST-1']);
    // The next link keeps the filters.
    expect(await follow('?limit=1&state=SUCCESS')).toEqual(['LIST-3', 'LIST-1']);
  });
});

describe('console: a transaction', () => {
  it('shows its timeline (events, Razer exchanges, supplier calls, webhooks) and never its transactionToken', async () => {
    e = await start();
    const { init } = await e.purchase('TX-1');
    await e.settle('TX-1');
    const token = String(init.json.transactionToken);
    expect(token.length).toBeGreaterThan(10);
    await waitFor(
      async () =>
        ((await e?.gw.store.pageWebhooks({ transactionRef: 'TX-1', limit: 5 }))?.items.length ?? 0) > 0,
    );
    await e.gw.audit.flush();
    const b = browser();
    await b.signIn('alice');
    const r = await b.get('/console/transactions/TX-1');
    expect(r.status).toBe(200);
    const kinds = [...r.text.matchAll(/<li class="[a-z]+" data-kind="([a-z]+)"/g)].map((m) => m[1]);
    expect(new Set(kinds)).toEqual(new Set(['event', 'razer', 'supplier', 'webhook']));
    const text = textOf(r.text);
    for (const title of [
      'INITIATED → QUEUED',
      'QUEUED → ORDERING',
      'ORDERING → PROCESSING',
      'PROCESSING → SUCCESS',
      'Razer init: POST /transaction/init → 200',
      'Razer topup: POST /transaction/topup → 200',
      'Mitra order:',
    ])
      expect(text, title).toContain(title);
    expect(text).toMatch(/Webhook #\d+ \(transaction\)/);
    // Events in order, oldest first.
    const order = [
      'INITIATED → QUEUED',
      'QUEUED → ORDERING',
      'ORDERING → PROCESSING',
      'PROCESSING → SUCCESS',
    ];
    const at = order.map((t) => text.indexOf(t));
    expect([...at].sort((x, y) => x - y)).toEqual(at);
    expect(r.text).not.toContain(token);
    expect(text).toContain('[token]');
    expect(r.text).toContain('class="state ok" id="state">SUCCESS');
    // A final, unflagged transaction offers only a recheck.
    expect(r.text).toContain('id="recheck"');
    expect(r.text).not.toContain('id="resolve"');
    expect(r.text).not.toContain('id="acknowledge"');

    const missing = await b.get('/console/transactions/NOPE');
    expect(missing.status).toBe(404);
    expect(missing.text).toContain('<h1>Not found</h1>');
    expect(textOf(missing.text)).toContain('no transaction NOPE');
  });
});

describe('console: overview and supplier', () => {
  it('counts flagged and open ones and draws 24 hourly groups', async () => {
    e = await start();
    await stuck('OV-1');
    await stuck('OV-2');
    await e.gw.store.flagForOperator('OV-2', 'overdue', Date.now());
    await settled('OV-3');
    await e.init('OV-4');
    const b = browser();
    await b.signIn('alice');
    const r = await b.get('/console');
    expect(r.status).toBe(200);
    const card = (id: string) => new RegExp(`id="${id}"[^>]*>[^<]*<b>(\\d+)</b>`).exec(r.text)?.[1];
    expect(card('count-open')).toBe('2');
    expect(card('count-flagged')).toBe('1');
    expect(card('count-failed-today')).toBe('0');
    expect(card('count-24h')).toBe('4');
    expect(r.text).toContain('<svg');
    const groups = [...r.text.matchAll(/<g data-hour="(\d\d:00)" data-total="(\d+)"/g)];
    expect(groups).toHaveLength(24);
    expect(new Set(groups.map((g) => g[1])).size).toBe(24);
    expect(groups.reduce((n, g) => n + Number(g[2]), 0)).toBe(4);
    // The current hour is the last group.
    const hours = groups.map((g) => Number(g[1]?.slice(0, 2)));
    for (let i = 1; i < 24; i++) expect(hours[i]).toBe(((hours[i - 1] ?? 0) + 1) % 24);
  });

  it('counts a failure of today', async () => {
    e = await start();
    const day = () => Math.floor(Date.now() / 86_400_000);
    const created = day();
    await stuck('OV-5');
    const b = browser();
    await b.signIn('alice');
    await b.post('/console/transactions/OV-5/resolve', resolveFailed);
    expect(await e.state('OV-5')).toBe('FAILED');
    const r = await b.get('/console');
    // Counted by the hour it was bought: unless midnight UTC fell during this test.
    if (day() === created)
      expect(/id="count-failed-today"[^>]*>[^<]*<b>(\d+)<\/b>/.exec(r.text)?.[1]).toBe('1');
  });

  it('lists every mapped SKU with its margin on the supplier page', async () => {
    e = await start();
    const b = browser();
    await b.signIn('alice');
    const r = await b.get('/console/supplier');
    expect(r.status).toBe(200);
    const skus = [...exampleMapping().skus.keys()];
    expect(skus.length).toBeGreaterThan(1);
    const listed = [...r.text.matchAll(/<tr class="[^"]*" data-sku="([^"]+)">([\s\S]*?)<\/tr>/g)];
    expect(listed.map((m) => m[1]).sort()).toEqual([...skus].sort());
    for (const [, sku, row] of listed) {
      const cells = [...(row ?? '').matchAll(/<td>([\s\S]*?)<\/td>/g)].map((m) => textOf(m[1] ?? '').trim());
      const maxPrice = exampleMapping().skus.get(sku ?? '')?.maxPrice;
      expect(cells[3], sku).toBe(`IDR ${maxPrice?.toLocaleString('en-US')}`);
      expect(cells[4], sku).toMatch(/^IDR -?[\d,]+ \(-?[\d.]+%\)$/);
    }
  });
});

describe('console: sign-out and forged cookies', () => {
  it('ends the session on this instance: the same cookie is refused afterwards', async () => {
    e = await start();
    await stuck('OUT-1');
    const b = browser();
    await b.signIn('alice');
    const other = browser();
    await other.signIn('bob');
    const cookie = b.session ?? '';
    const csrf = b.csrf ?? '';
    const out = await b.post('/console/sign-out', {});
    expect([out.status, out.location]).toEqual([303, '/console/sign-in?out=1']);
    expect(out.setCookies.join('\n')).toMatch(new RegExp(`^${COOKIE}=;.*Path=/console`, 'm'));
    expect(b.session).toBeUndefined();
    const signedOut = await b.get('/console/sign-in?out=1');
    expect(signedOut.status).toBe(200);
    expect(signedOut.text).toContain('Signed out.');

    // The old cookie, kept by someone: refused.
    const kept = browser();
    kept.cookies.set(COOKIE, cookie);
    kept.csrf = csrf;
    for (const path of [
      '/console',
      '/console/transactions',
      '/console/transactions/OUT-1',
      '/console/supplier',
    ]) {
      const r = await kept.get(path);
      expect([r.status, r.location], path).toEqual([303, '/console/sign-in']);
    }
    const before = await snapshot('OUT-1');
    const act = await kept.post('/console/transactions/OUT-1/resolve', resolveFailed);
    expect(act.status).toBe(401);
    expect(await snapshot('OUT-1')).toEqual(before);
    // Another session is not affected.
    expect((await other.get('/console')).status).toBe(200);
  });

  it('serves the sign-in page to a signed-out cookie instead of a redirect loop', async () => {
    e = await start();
    const b = browser();
    await b.signIn('alice');
    const cookie = b.session ?? '';
    expect((await b.post('/console/sign-out', {})).status).toBe(303);
    const kept = browser();
    kept.cookies.set(COOKIE, cookie);
    expect((await kept.get('/console')).location).toBe('/console/sign-in');
    // /console sends it to the sign-in page; the sign-in page must not send it back to /console.
    const signIn = await kept.get('/console/sign-in');
    expect([signIn.status, signIn.location]).toEqual([200, null]);
  });

  it('refuses a forged cookie: altered actor, altered mac, another key; accepts one signed with this token', async () => {
    e = await start();
    const b = browser();
    await b.signIn('alice');
    const cookie = b.session ?? '';
    const parts = cookie.split('.');
    const forge = (index: number, value: string) => parts.map((p, i) => (i === index ? value : p)).join('.');
    const now = Date.now();
    const forged = {
      actor: forge(3, Buffer.from('mallory').toString('base64url')),
      expiry: forge(2, String(Number(parts[2]) + 1000)),
      mac: forge(4, `${(parts[4] ?? '').slice(0, -2)}AA`),
      otherKey: issueSession(sessionKey('another-admin-token-0123456789'), 'mallory', now),
      unsigned: `v1.x.${now + 60_000}.${Buffer.from('mallory').toString('base64url')}`,
    };
    for (const [what, value] of Object.entries(forged)) {
      expect(value, what).not.toBe(cookie);
      const f = browser();
      f.cookies.set(COOKIE, value);
      const r = await f.get('/console');
      expect([r.status, r.location], what).toEqual([303, '/console/sign-in']);
      expect(r.text).not.toContain('mallory');
    }
    // The control: a cookie signed with this gateway's token is a session (the key comes from ADMIN_TOKEN).
    const real = browser();
    real.cookies.set(COOKIE, issueSession(sessionKey(ADMIN_TOKEN), 'mallory', now));
    const r = await real.get('/console');
    expect(r.status).toBe(200);
    expect(r.text).toContain('signed in as mallory');
  });
});

describe('console: request bodies', () => {
  it('refuses a form over 16 KiB with 413 and a JSON or multipart post with 400; nothing changes', async () => {
    e = await start();
    await stuck('BODY-1');
    const before = await snapshot('BODY-1');
    const b = browser();
    await b.signIn('alice');
    const path = '/console/transactions/BODY-1/resolve';
    const big = await b.post(path, { ...resolveFailed, padding: 'x'.repeat(16 * 1024) });
    expect(big.status).toBe(413);
    expect(textOf(big.text)).toContain('the form is larger than 16384 bytes');
    const bigSignIn = await browser().post('/console/sign-in', {
      token: ADMIN_TOKEN,
      actor: 'x'.repeat(17_000),
    });
    expect(bigSignIn.status).toBe(413);
    expect(bigSignIn.setCookies).toEqual([]);

    const json = await b.request('POST', path, {
      raw: JSON.stringify({ ...resolveFailed, csrf: b.csrf }),
      headers: { 'content-type': 'application/json' },
    });
    expect(json.status).toBe(400);
    expect(textOf(json.text)).toContain('the console takes HTML forms (application/x-www-form-urlencoded)');
    const multipart = new FormData();
    for (const [k, v] of Object.entries({ ...resolveFailed, csrf: b.csrf ?? '' })) multipart.set(k, v);
    const m = await fetch(`${e.url}${path}`, {
      method: 'POST',
      body: multipart,
      headers: { cookie: `${COOKIE}=${b.session}` },
      redirect: 'manual',
    });
    expect(m.status).toBe(400);
    await m.text();
    const signInJson = await browser().request('POST', '/console/sign-in', {
      raw: JSON.stringify({ token: ADMIN_TOKEN }),
      headers: { 'content-type': 'application/json' },
    });
    expect(signInJson.status).toBe(400);
    expect(signInJson.setCookies).toEqual([]);
    expect(await snapshot('BODY-1')).toEqual(before);

    // A form just under the limit is read.
    const fits = await b.post(path, { ...resolveFailed, padding: 'x'.repeat(12 * 1024) });
    expect(fits.status).not.toBe(413);
  });
});

describe('console: HTML escaping', () => {
  it('shows an accountId, a flag reason, a webhook body and a transaction number with markup as text', async () => {
    e = await start();
    const now = Date.now();
    const n = 'XSS<i>1';
    await e.gw.store.insertTransaction(
      transactionRow(n, 'INITIATED', {
        accountId: '<script>alert(1)</script>',
        refId: 'RG-XSS-1',
        createdAt: now,
        updatedAt: now,
        expiresAt: now + 3_600_000,
      }),
    );
    await e.gw.store.flagForOperator(n, '<img src=x onerror=alert(3)>', now);
    await e.gw.store.storeWebhook({
      receivedAt: now,
      sourceIp: '127.0.0.1',
      headers: {},
      body: '{"note":"<script>alert(2)</script>"}',
      bodySha256: 'x',
      kind: 'transaction',
      transactionRef: n,
      processedAt: null,
      result: null,
    });
    const b = browser();
    await b.signIn('alice');
    const list = await b.get('/console/transactions?q=RG-XSS-1');
    expect(list.status).toBe(200);
    expect(rowsOf(list.text)).toEqual([n]);
    expect(list.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(list.text).toContain('XSS&lt;i&gt;1');
    expect(list.text).toContain(`href="/console/transactions/${encodeURIComponent(n)}"`);
    expect(list.text).toContain('&lt;img src=x onerror=alert(3)&gt;');

    const page = await b.get(`/console/transactions/${encodeURIComponent(n)}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page.text).toContain('&lt;script&gt;alert(2)&lt;/script&gt;');
    expect(page.text).toContain('&lt;img src=x onerror=alert(3)&gt;');
    expect(page.text).toContain('XSS&lt;i&gt;1');
    for (const text of [list.text, page.text]) {
      expect(text).not.toMatch(/<script/i);
      expect(text).not.toContain('<img');
      expect(text).not.toContain('<i>1');
    }
  });
});
