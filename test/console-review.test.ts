import { request as httpRequest } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { commitMove } from '../src/fulfilment/moves.js';
import { decode, type Fields, formOf, textOf } from './helpers/console-html.js';
import { type E2E, startE2E, WEBHOOK_TOKEN } from './helpers/e2e.js';
import { REQUIRED_ENV } from './helpers/env.js';
import { transactionRow } from './helpers/fixtures.js';
import { SIM_KEYS } from './helpers/mitra.js';
import { waitFor } from './helpers/wait.js';

// The console under attack: what an adversarial review tried, each now asserting what must hold.

const ADMIN_TOKEN = 'admin-token-for-tests-0123456789';
const COOKIE = 'gateway_console';
const HOUR = 3_600_000;
const _DAY = 24 * HOUR;

let e: E2E | undefined;
afterEach(async () => {
  await e?.close();
  e = undefined;
});

const start = () => startE2E({ env: { ADMIN_TOKEN, TOPUP_WAIT_MS: '300' } });
const g = (): E2E => {
  if (!e) throw new Error('no gateway');
  return e;
};

/** A signed-in operator: the cookie and the form token of the session. */
class Op {
  cookie = '';
  csrf = '';
  constructor(readonly base: string) {}

  async signIn(actor: string) {
    const r = await fetch(`${this.base}/console/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: ADMIN_TOKEN, actor }).toString(),
      redirect: 'manual',
    });
    expect(r.status).toBe(303);
    this.cookie = (r.headers.getSetCookie()[0] ?? '').split(';')[0] ?? '';
    const page = await this.get('/console');
    this.csrf = decode(/name="csrf" value="([^"]*)"/.exec(page.text)?.[1] ?? '');
    expect(this.csrf).not.toBe('');
    return this;
  }

  async get(path: string) {
    const r = await fetch(`${this.base}${path}`, { headers: { cookie: this.cookie }, redirect: 'manual' });
    return { status: r.status, text: await r.text(), location: r.headers.get('location') };
  }

  async post(path: string, form: Fields | string, headers: Record<string, string> = {}) {
    const body =
      typeof form === 'string' ? form : new URLSearchParams({ csrf: this.csrf, ...form }).toString();
    const r = await fetch(`${this.base}${path}`, {
      method: 'POST',
      headers: { cookie: this.cookie, 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body,
      redirect: 'manual',
    });
    return { status: r.status, text: await r.text(), location: r.headers.get('location') };
  }
}

/** A row put straight into storage, where the reconciler leaves it alone for an hour. */
async function insert(
  n: string,
  state: Parameters<typeof transactionRow>[1],
  over: Record<string, unknown> = {},
) {
  const now = Date.now();
  await g().gw.store.insertTransaction(
    transactionRow(n, state, {
      createdAt: now,
      updatedAt: now,
      expiresAt: now + HOUR,
      nextCheckAt: now + HOUR,
      deadlineAt: now + HOUR,
      ...over,
    }),
  );
}

/** The engine's own moves, as it makes them (the same CAS through commitMove). */
async function engineMoves(n: string, moves: [string, string, Record<string, unknown>][]) {
  for (const [from, to, patch] of moves) {
    const r = await commitMove(g().gw.store, {
      transactionNumber: n,
      from: from as never,
      to: to as never,
      cause: 'supplier',
      at: Date.now(),
      patch,
    });
    expect(r.ok, `${from} -> ${to}`).toBe(true);
  }
}

describe('an action is refused when the transaction moved after it was confirmed', () => {
  it('confirm "fail the QUEUED (never ordered) one", engine orders it meanwhile: the click is refused, the order lives', async () => {
    e = await start();
    await insert('DRIFT-1', 'QUEUED', { attention: true, attentionReason: 'still open past its deadline' });
    const alice = await new Op(e.url).signIn('alice');

    // The operator asks: the confirmation page describes a QUEUED transaction.
    const ask = await alice.post('/console/transactions/DRIFT-1/resolve', {
      outcome: 'failed',
      reason: 'supplier down all day, refund the player',
    });
    expect(ask.status).toBe(200);
    expect(textOf(ask.text)).toContain('DRIFT-1 is QUEUED. It becomes FAILED');
    const confirm = formOf(ask.text, 'confirm');
    // The form pins the state it showed.
    expect(confirm.fields.seenState).toBe('QUEUED');

    // Meanwhile the supplier comes back and the engine sends the order: Mitra accepted it.
    await engineMoves('DRIFT-1', [
      ['QUEUED', 'ORDERING', { orderAttempts: 1 }],
      ['ORDERING', 'PROCESSING', { trxCode: 'VCG-LIVE-ORDER' }],
    ]);

    // The operator clicks Confirm on the page they were shown.
    const done = await alice.post(confirm.action, confirm.fields);
    expect(done.status).toBe(409);
    expect(textOf(done.text)).toContain('DRIFT-1 is PROCESSING now, not QUEUED as when you decided');
    expect(await e.gw.store.getTransaction('DRIFT-1')).toMatchObject({
      state: 'PROCESSING',
      trxCode: 'VCG-LIVE-ORDER',
    });
    expect((await e.query('DRIFT-1')).status).toBe(408);
    expect((await e.gw.store.listEvents('DRIFT-1')).map((x) => `${x.fromState}>${x.toState}`)).toEqual([
      'QUEUED>ORDERING',
      'ORDERING>PROCESSING',
    ]);
  });

  it('same with UNKNOWN: confirmed while the order looked lost, refused once Mitra was found to have it', async () => {
    e = await start();
    await insert('DRIFT-2', 'UNKNOWN', { orderAttempts: 1 });
    const bob = await new Op(e.url).signIn('bob');
    const ask = await bob.post('/console/transactions/DRIFT-2/resolve', {
      outcome: 'failed',
      reason: 'no such order at Mitra',
    });
    expect(textOf(ask.text)).toContain('DRIFT-2 is UNKNOWN');
    await engineMoves('DRIFT-2', [['UNKNOWN', 'PROCESSING', { trxCode: 'VCG-FOUND' }]]);
    const confirm = formOf(ask.text, 'confirm');
    const done = await bob.post(confirm.action, confirm.fields);
    expect(done.status).toBe(409);
    expect(await e.gw.store.getTransaction('DRIFT-2')).toMatchObject({
      state: 'PROCESSING',
      trxCode: 'VCG-FOUND',
    });
  });

  it('a confirmation in the same state still acts after a new flag (the resolution clears it)', async () => {
    e = await start();
    await insert('DRIFT-3', 'PROCESSING', { trxCode: 'VCG-3', attention: true, attentionReason: 'overdue' });
    const op = await new Op(e.url).signIn('carol');
    const ask = await op.post('/console/transactions/DRIFT-3/resolve', {
      outcome: 'failed',
      reason: 'gave up',
    });
    const confirm = formOf(ask.text, 'confirm');
    // A new, different flag arrives (the supplier now says something else).
    await e.gw.store.flagForOperator('DRIFT-3', 'supplier reports SUCCESS for VCG-3', Date.now());
    const done = await op.post(confirm.action, confirm.fields);
    expect(done.status).toBe(200);
    expect((await e.gw.store.getTransaction('DRIFT-3'))?.state).toBe('FAILED');
  });
});

describe('acknowledge clears only the flag the operator saw', () => {
  it('flag A confirmed, flag B raised meanwhile: the click is refused and B stays', async () => {
    e = await start();
    await insert('ACK-1', 'SUCCESS', {
      trxCode: 'VCG-A1',
      attention: true,
      attentionReason: 'overdue (resolved late)',
    });
    const op = await new Op(e.url).signIn('erin');
    const ask = await op.post('/console/transactions/ACK-1/acknowledge', { reason: 'was late, fine now' });
    expect(ask.status).toBe(200);
    // The confirmation page says which flag is cleared, and pins it.
    expect(textOf(ask.text)).toContain('overdue (resolved late)');
    const confirm = formOf(ask.text, 'confirm');
    expect(confirm.fields.seenFlag).toBe('overdue (resolved late)');

    // The engine flags a contradiction that means money: Razer was told SUCCESS, Mitra refunded.
    await e.gw.store.flagForOperator(
      'ACK-1',
      'Mitra reports the order FAILED (refunded) after SUCCESS',
      Date.now(),
    );

    const done = await op.post(confirm.action, confirm.fields);
    expect(done.status).toBe(409);
    expect(textOf(done.text)).toContain('flagged for another reason now');
    expect(await e.gw.store.getTransaction('ACK-1')).toMatchObject({
      attention: true,
      attentionReason: 'Mitra reports the order FAILED (refunded) after SUCCESS',
    });
  });
});

describe('what is confirmed is shown', () => {
  it('"Order now" of a QUEUED transaction says it buys it, and places the purchase order', async () => {
    e = await start();
    await insert('RQ-1', 'QUEUED', { attention: true, attentionReason: 'still open past its deadline' });
    const op = await new Op(e.url).signIn('alice');
    const page = await op.get('/console/transactions/RQ-1');
    expect(page.text).toContain('id="recheck"');
    expect(textOf(page.text)).toContain('sends the order to the supplier now (buys it)');
    const ask = await op.post('/console/transactions/RQ-1/recheck', {});
    expect(textOf(ask.text)).toContain('sends its order to VCGamers now (this buys it)');
    const confirm = formOf(ask.text, 'confirm');
    const done = await op.post(confirm.action, confirm.fields);
    expect(done.status).toBe(200);
    expect((await e.calls('RQ-1')).map((c) => c.operation)).toContain('order');
    expect(textOf(done.text)).toMatch(/Before: QUEUED; now: (PROCESSING|SUCCESS)/);
  });

  it('the voucher code Razer will hand the player is shown on the confirmation page', async () => {
    e = await start();
    await insert('VC-1', 'PROCESSING', { trxCode: 'VCG-V1', isVoucher: true, sku: 'STEAMV50' });
    const op = await new Op(e.url).signIn('alice');
    const ask = await op.post('/console/transactions/VC-1/resolve', {
      outcome: 'delivered',
      reason: 'code read from the Mitra dashboard',
      voucherCode: 'TYPO-0000-1111',
    });
    expect(ask.status).toBe(200);
    expect(textOf(ask.text)).toContain('The player is given the voucher code “TYPO-0000-1111”');
    expect(formOf(ask.text, 'confirm').fields.voucherCode).toBe('TYPO-0000-1111');
  });
});

describe('holds: 7: the chart buckets', () => {
  it('puts each purchase in the hour of its creation, by current outcome, window edges included/excluded', async () => {
    e = await start();
    const now = Date.now();
    const current = now - (now % HOUR);
    const since = current - 23 * HOUR;
    const rows: [string, Parameters<typeof transactionRow>[1], number][] = [
      ['CH-1', 'SUCCESS', since], // first ms of the window
      ['CH-2', 'FAILED', since - 1], // just before: not shown
      ['CH-3', 'PROCESSING', current + 5], // the current hour
      ['CH-4', 'EXPIRED', current - HOUR + HOUR - 1], // last ms of the previous hour
      ['CH-5', 'FAILED', current], // first ms of the current hour
      ['CH-6', 'UNKNOWN', current + 10],
    ];
    for (const [n, state, at] of rows)
      await insert(n, state, { createdAt: at, updatedAt: at, trxCode: `VCG-${n}` });
    const op = await new Op(e.url).signIn('alice');
    const r = await op.get('/console');
    const groups = [...r.text.matchAll(/<g data-hour="(\d\d:00)" data-total="(\d+)">([\s\S]*?)<\/g>/g)];
    expect(groups).toHaveLength(24);
    const titles = (i: number) =>
      [...(groups[i]?.[3] ?? '').matchAll(/<title>([^<]*)<\/title>/g)].map((m) => m[1]);
    expect(groups[0]?.[2]).toBe('1');
    expect(titles(0)).toEqual([expect.stringMatching(/: 1 delivered$/)]);
    expect(groups[22]?.[2]).toBe('1');
    expect(titles(22)).toEqual([expect.stringMatching(/: 1 not bought$/)]);
    expect(groups[23]?.[2]).toBe('3');
    expect(titles(23).map((t) => t?.replace(/^.*: /, ''))).toEqual(['1 failed', '2 open']);
    const card = (id: string) => Number(new RegExp(`id="${id}"[^>]*>[^<]*<b>(\\d+)</b>`).exec(r.text)?.[1]);
    expect(card('count-24h')).toBe(5);
    expect(card('count-open')).toBe(2);
    // Created in the current hour (after midnight) and FAILED.
    expect(card('count-failed-today')).toBe(1);
  });
});

describe('holds: 1: nothing leaks to a visitor without a session', () => {
  it('path tricks and methods: only redirects, 401 sign-in pages, 400/404 without data', async () => {
    e = await start();
    await insert('SECRETTX', 'PROCESSING', { accountId: 'SECRET-ACCOUNT', trxCode: 'T-SECRET' });
    await e.gw.store.flagForOperator('SECRETTX', 'SECRET-FLAG', Date.now());
    const u = new URL(e.url);
    const raw = (method: string, path: string) =>
      new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = httpRequest({ host: u.hostname, port: u.port, method, path }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }),
          );
        });
        req.on('error', reject);
        req.end();
      });
    const paths = [
      '/console',
      '/console/',
      '//console/transactions/SECRETTX',
      '/console//transactions/SECRETTX',
      '/console/transactions/SECRETTX/',
      '/CONSOLE/transactions/SECRETTX',
      '/%63onsole/transactions/SECRETTX',
      '/console%2Ftransactions%2FSECRETTX',
      '/console/transactions%2FSECRETTX',
      '/console/transactions/SECRETTX;x',
      '/console/../admin/transactions/SECRETTX',
      '/console/%2e%2e/admin/transactions/SECRETTX',
      '/console/./transactions/SECRETTX',
      '/console/sign-in/../transactions/SECRETTX',
      '/console/transactions?q=SECRETTX',
      '/console/supplier',
      '/console/sign-in/',
      'http://evil.example/console/transactions/SECRETTX',
      '/console\\transactions\\SECRETTX',
    ];
    const seen = new Set<number>();
    for (const method of ['GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'DELETE', 'PATCH', 'PROPFIND'])
      for (const path of paths) {
        const r = await raw(method, path);
        seen.add(r.status);
        expect(r.text, `${method} ${path}`).not.toMatch(/SECRET-ACCOUNT|T-SECRET|SECRET-FLAG/);
        expect([303, 400, 401, 404], `${method} ${path}`).toContain(r.status);
      }
    expect([...seen].sort()).toEqual([303, 400, 401, 404]);
  });
});

describe('holds: 4: two operators racing on one transaction', () => {
  it('delivered by alice and failed by bob at once: one wins, the other is refused, one final event', async () => {
    e = await start();
    await insert('RACE-1', 'PROCESSING', { trxCode: 'VCG-R1' });
    const alice = await new Op(e.url).signIn('alice');
    const bob = await new Op(e.url).signIn('bob');
    const [a, b] = await Promise.all([
      alice.post('/console/transactions/RACE-1/resolve', {
        outcome: 'delivered',
        reason: 'seen it',
        confirm: 'yes',
      }),
      bob.post('/console/transactions/RACE-1/resolve', {
        outcome: 'failed',
        reason: 'lost it',
        confirm: 'yes',
      }),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    const events = await e.gw.store.listEvents('RACE-1');
    expect(events.filter((x) => x.cause === 'operator')).toHaveLength(1);
    // Double submit of the same confirmation: the second is refused.
    const again = await alice.post('/console/transactions/RACE-1/resolve', {
      outcome: 'delivered',
      reason: 'seen it',
      confirm: 'yes',
    });
    expect(again.status).toBe(409);
  });
});

describe('holds: 6: odd bodies', () => {
  it('duplicates, arrays, prototype names, non-UTF-8, chunked oversize, ids out of range: 4xx, nothing changes', async () => {
    e = await start();
    await insert('ODD-1', 'PROCESSING', { trxCode: 'VCG-O1' });
    const op = await new Op(e.url).signIn('alice');
    const path = '/console/transactions/ODD-1/resolve';
    const q = (pairs: [string, string][]) => new URLSearchParams(pairs).toString();
    const statuses: Record<string, number> = {};
    const attempts: Record<string, string> = {
      // The last of a duplicated field wins: `confirm=yes&confirm=no` asks (no change).
      'confirm twice, last no': q([
        ['csrf', op.csrf],
        ['outcome', 'failed'],
        ['reason', 'dup test'],
        ['confirm', 'yes'],
        ['confirm', 'no'],
      ]),
      'csrf as array': q([
        ['csrf[]', op.csrf],
        ['outcome', 'failed'],
        ['reason', 'dup test'],
        ['confirm', 'yes'],
      ]),
      'csrf right then wrong': q([
        ['csrf', op.csrf],
        ['csrf', 'x'],
        ['outcome', 'failed'],
        ['reason', 'dup test'],
        ['confirm', 'yes'],
      ]),
      'proto names': q([
        ['csrf', op.csrf],
        ['__proto__', 'x'],
        ['constructor', 'x'],
        ['outcome', 'failed'],
        ['reason', 'x'],
        ['confirm', 'yes'],
      ]),
      'outcome as array': q([
        ['csrf', op.csrf],
        ['outcome[]', 'failed'],
        ['reason', 'dup test'],
        ['confirm', 'yes'],
      ]),
      'bad percent': `csrf=${encodeURIComponent(op.csrf)}&outcome=failed&reason=%E0%A4%A&confirm=n%ZZo`,
    };
    for (const [what, body] of Object.entries(attempts)) statuses[what] = (await op.post(path, body)).status;
    expect(statuses).toEqual({
      'confirm twice, last no': 200, // the confirmation page
      'csrf as array': 403,
      'csrf right then wrong': 403,
      'proto names': 400,
      'outcome as array': 400,
      'bad percent': 200, // the confirmation page ("confirm" is not "yes")
    });
    // Non-UTF-8 bytes in the reason: replaced, shown on a confirmation page.
    const bytes = Buffer.concat([
      Buffer.from(`csrf=${encodeURIComponent(op.csrf)}&outcome=failed&reason=ab`),
      Buffer.from([0xff, 0xfe, 0xc3]),
    ]);
    const u = new URL(e.url);
    const chunked = (body: Buffer | string, extra: Record<string, string> = {}) =>
      new Promise<number>((resolve, reject) => {
        const req = httpRequest(
          {
            host: u.hostname,
            port: u.port,
            method: 'POST',
            path,
            headers: {
              cookie: op.cookie,
              'content-type': 'application/x-www-form-urlencoded',
              'transfer-encoding': 'chunked',
              ...extra,
            },
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.on('error', reject);
        const data = Buffer.isBuffer(body) ? body : Buffer.from(body);
        for (let i = 0; i < data.length; i += 1000) req.write(data.subarray(i, i + 1000));
        req.end();
      });
    expect(await chunked(bytes)).toBe(200);
    expect(
      await chunked(`csrf=${encodeURIComponent(op.csrf)}&reason=${'x'.repeat(20_000)}&confirm=yes`),
    ).toBe(413);
    // Charset parameter: read as UTF-8 all the same.
    expect(
      (
        await op.post(
          path,
          { outcome: 'failed', reason: 'charset' },
          {
            'content-type': 'application/x-www-form-urlencoded; charset=iso-8859-1',
          },
        )
      ).status,
    ).toBe(200);
    // Ids and numbers out of range.
    expect((await op.post('/console/webhooks/999999999999999/replay', { confirm: 'yes' })).status).toBe(404);
    expect((await op.post('/console/webhooks/9999999999999999/replay', { confirm: 'yes' })).status).toBe(400);
    expect((await op.post('/console/webhooks/-1/replay', { confirm: 'yes' })).status).toBe(400);
    expect(
      (await op.post(`/console/transactions/${'N'.repeat(200)}/resolve`, { confirm: 'yes' })).status,
    ).toBe(400);
    expect((await op.post('/console/transactions/A%25B/resolve', { confirm: 'yes' })).status).toBe(400);
    expect((await op.post('/console/transactions/A%2FB/resolve', { confirm: 'yes' })).status).toBe(400);
    expect((await op.get('/console/transactions/%E0%A4%A')).status).toBe(400);
    // A junk cookie with bad percent escapes: the sign-in redirect, not a 500.
    const junk = await fetch(`${e.url}/console/transactions`, {
      headers: { cookie: `${COOKIE}=%E0%A4%A.%ZZ; ${COOKIE}=x` },
      redirect: 'manual',
    });
    expect(junk.status).toBe(303);
    expect((await e.gw.store.getTransaction('ODD-1'))?.state).toBe('PROCESSING');
  });
});

describe('holds: 5/8: markup in every field is text; no secret on any page', () => {
  it('a hostile transaction number, account, flag, webhook body and actor render as text; keys never appear', async () => {
    e = await start();
    const n = `X"autofocus"onfocus="alert(1)'<u>`;
    const init = await e.init(n);
    expect(init.status, init.text).toBe(200);
    const token = String(init.json.transactionToken);
    await e.topup(n, token);
    await e.settle(n);
    // Razer's accountId is checked per SKU; put a hostile one in storage directly.
    expect(
      await e.gw.store.patchTransaction(n, 'SUCCESS', { accountId: `"><svg onload=alert(2)>` }, Date.now()),
    ).toBe(true);
    await e.gw.store.flagForOperator(n, `"><a href="javascript:alert(3)">x</a>`, Date.now());
    await e.gw.store.storeWebhook({
      receivedAt: Date.now(),
      sourceIp: '127.0.0.1',
      headers: { referer: `${e.webhookUrl}` },
      body: `{"ref_id":"</pre><script>alert(4)</script>"}`,
      bodySha256: 'x',
      kind: 'transaction',
      transactionRef: n,
      processedAt: Date.now(),
      result: '<img src=x onerror=alert(5)>',
    });
    await waitFor(
      async () => ((await e?.gw.store.pageWebhooks({ transactionRef: n, limit: 5 }))?.items.length ?? 0) > 0,
    );
    await e.gw.audit.flush();
    const op = await new Op(e.url).signIn('o.brien+ops@x');
    const pages = {
      list: await op.get(`/console/transactions?q=${encodeURIComponent(`"><s>${n}`)}`),
      listAll: await op.get('/console/transactions'),
      tx: await op.get(`/console/transactions/${encodeURIComponent(n)}`),
      ask: await op.post(`/console/transactions/${encodeURIComponent(n)}/recheck`, {}),
      overview: await op.get('/console'),
      supplier: await op.get('/console/supplier'),
    };
    expect(pages.tx.status).toBe(200);
    for (const [what, p] of Object.entries(pages)) {
      expect(p.text, what).not.toMatch(
        /<script|<svg onload|<img|<u>|<s>|<a href="javascript|\sonfocus=|\sautofocus/i,
      );
      for (const secret of [
        ADMIN_TOKEN,
        token,
        WEBHOOK_TOKEN,
        SIM_KEYS.apiKey,
        SIM_KEYS.secretKey,
        REQUIRED_ENV.RAZER_API_KEY,
      ])
        expect(p.text, `${what} ${secret}`).not.toContain(secret);
      for (const href of p.text.matchAll(/(?:href|action)="([^"]*)"/g))
        expect(decode(href[1] ?? ''), what).toMatch(/^\/console(\/|\?|$)/);
    }
    // Not vacuous: the hostile values are on the pages, as text.
    expect(pages.tx.text).toContain('X&quot;autofocus&quot;onfocus=&quot;alert(1)&#39;&lt;u&gt;');
    expect(pages.tx.text).toContain('&quot;&gt;&lt;svg onload=alert(2)&gt;');
    expect(pages.tx.text).toContain('&lt;/pre&gt;&lt;script&gt;alert(4)&lt;/script&gt;');
    expect(pages.tx.text).toContain('&lt;img src=x onerror=alert(5)&gt;');
    expect(pages.ask.text).toContain(
      `action="/console/transactions/${encodeURIComponent(n).replaceAll("'", '&#39;')}/recheck"`,
    );
    expect(pages.list.text).toContain('value="&quot;&gt;&lt;s&gt;');
    expect(textOf(pages.tx.text)).toMatch(/sign=\[redacted\]/);
    expect(textOf(pages.tx.text)).toContain('[token]');
  });
});
