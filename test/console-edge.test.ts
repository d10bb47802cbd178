import { afterEach, describe, expect, it } from 'vitest';
import { decode, type Fields, formOf, textOf } from './helpers/console-html.js';
import { type E2E, startE2E } from './helpers/e2e.js';
import { transactionRow } from './helpers/fixtures.js';

// Edge cases of the console and the operator rules: odd flags, invisible characters, held rows, hostile codes.

const ADMIN_TOKEN = 'admin-token-for-tests-0123456789';
const HOUR = 3_600_000;
let e: E2E | undefined;
afterEach(async () => {
  await e?.close();
  e = undefined;
});
const start = async () => {
  e = await startE2E({ env: { ADMIN_TOKEN, TOPUP_WAIT_MS: '300', RECONCILE_SCHEDULE_MS: '60000' } });
  return e;
};

async function insert(
  env: E2E,
  n: string,
  state: Parameters<typeof transactionRow>[1],
  over: Record<string, unknown>,
) {
  const now = Date.now();
  await env.gw.store.insertTransaction(
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

async function signIn(base: string) {
  const r = await fetch(`${base}/console/sign-in`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: ADMIN_TOKEN, actor: 'rev' }).toString(),
    redirect: 'manual',
  });
  const cookie = (r.headers.getSetCookie()[0] ?? '').split(';')[0] ?? '';
  const page = await (await fetch(`${base}/console`, { headers: { cookie } })).text();
  const csrf = decode(/name="csrf" value="([^"]*)"/.exec(page)?.[1] ?? '');
  const get = async (path: string) => (await fetch(`${base}${path}`, { headers: { cookie } })).text();
  const post = async (path: string, form: Fields) => {
    const r2 = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf, ...form }).toString(),
      redirect: 'manual',
    });
    return { status: r2.status, text: await r2.text() };
  };
  return { get, post };
}

describe('acknowledge holds the row as a step would', () => {
  it('a step holding the row (a verifyFinal check that may raise a flag) makes it 409 BUSY; the flag stays', async () => {
    const env = await start();
    await insert(env, 'R3-ACK', 'SUCCESS', {
      trxCode: 'VCG-1',
      attention: true,
      attentionReason: 'A: overdue (resolved late)',
    });
    const store = env.gw.store;
    expect(await store.claimStep('R3-ACK', 'engine-step', 30_000)).not.toBeNull();
    const op = await signIn(env.url);
    const done = await op.post('/console/transactions/R3-ACK/acknowledge', {
      reason: 'was late, fine now',
      seenFlag: 'A: overdue (resolved late)',
      confirm: 'yes',
    });
    expect(done.status).toBe(409);
    expect(textOf(done.text)).toContain('a step is under way');
    expect((await store.getTransaction('R3-ACK'))?.attention).toBe(true);
    await store.releaseStep('R3-ACK', 'engine-step');
    const again = await op.post('/console/transactions/R3-ACK/acknowledge', {
      reason: 'was late, fine now',
      seenFlag: 'A: overdue (resolved late)',
      confirm: 'yes',
    });
    expect(again.status).toBe(200);
    expect((await store.getTransaction('R3-ACK'))?.attention).toBe(false);
  });
});

describe('the console acknowledges any flag the gateway raises', () => {
  it('a flag longer than 1000 characters (the supplier sn is in the message) can be acknowledged', async () => {
    const env = await start();
    const long = `the supplier reports order VCG-2 refunded after it was delivered: ${'x'.repeat(1000)}`;
    await insert(env, 'R3-LONG', 'SUCCESS', { trxCode: 'VCG-2', attention: true, attentionReason: long });
    const op = await signIn(env.url);
    const page = await op.get('/console/transactions/R3-LONG');
    const seenFlag = decode(/name="seenFlag" value="([^"]*)"/.exec(page)?.[1] ?? '');
    expect(seenFlag).toBe(long);
    const ask = await op.post('/console/transactions/R3-LONG/acknowledge', {
      reason: 'settled with Razer',
      seenFlag,
    });
    expect({ status: ask.status, text: ask.status === 200 ? '' : textOf(ask.text).slice(0, 300) }).toEqual({
      status: 200,
      text: '',
    });
  });

  it('a flag with a newline, posted back as a browser posts a hidden field (CRLF), matches', async () => {
    const env = await start();
    const flag = 'the supplier reports order VCG-3 refunded after it was delivered: line one\nline two';
    await insert(env, 'R3-NL', 'SUCCESS', { trxCode: 'VCG-3', attention: true, attentionReason: flag });
    const op = await signIn(env.url);
    const page = await op.get('/console/transactions/R3-NL');
    // HTML form submission normalizes every LF / lone CR in a value to CRLF.
    const crlf = (s: string) => s.replace(/\r\n|\r|\n/g, '\r\n');
    const seenFlag = crlf(decode(/name="seenFlag" value="([^"]*)"/.exec(page)?.[1] ?? ''));
    const ask = await op.post('/console/transactions/R3-NL/acknowledge', {
      reason: 'settled with Razer',
      seenFlag,
    });
    expect({ status: ask.status, text: ask.status === 200 ? '' : textOf(ask.text).slice(0, 300) }).toEqual({
      status: 200,
      text: '',
    });
  });
});

describe('codes the player is given are visible characters', () => {
  it('a voucher code with a zero-width space is refused (400), confirmed or not', async () => {
    const env = await start();
    await insert(env, 'R3-VC', 'PROCESSING', { trxCode: 'VCG-4', isVoucher: true, sku: 'STEAMV50' });
    const op = await signIn(env.url);
    const code = 'ABCD-\u200bEFGH-1234';
    const ask = await op.post('/console/transactions/R3-VC/resolve', {
      outcome: 'delivered',
      reason: 'code pasted from the Mitra dashboard',
      voucherCode: code,
      seenState: 'PROCESSING',
    });
    expect(ask.status, textOf(ask.text).slice(0, 400)).toBe(400);
    expect(textOf(ask.text)).toContain('voucherCode holds an invisible character (U+200B)');
    const confirmed = await op.post('/console/transactions/R3-VC/resolve', {
      outcome: 'delivered',
      reason: 'code pasted from the Mitra dashboard',
      voucherCode: code,
      confirm: 'yes',
    });
    expect(confirmed.status).toBe(400);
    expect((await env.gw.store.getTransaction('R3-VC'))?.state).toBe('PROCESSING');
  });
});

describe('hostile voucher and trx codes are shown and kept verbatim', () => {
  it('markup, quotes and entities in the codes: text on the confirm page, exact in the hidden fields and in storage', async () => {
    const env = await start();
    await insert(env, 'R3-ESC', 'UNKNOWN', { trxCode: null, isVoucher: true, sku: 'STEAMV50' });
    const op = await signIn(env.url);
    const voucherCode = `"><script>alert(1)</script>&amp;'x`;
    const trxCode = `<b>T"1'&lt;</b>`;
    const ask = await op.post('/console/transactions/R3-ESC/resolve', {
      outcome: 'delivered',
      reason: 'read from dashboard',
      voucherCode,
      trxCode,
      seenState: 'UNKNOWN',
    });
    expect(ask.status).toBe(200);
    expect(ask.text).not.toContain('<script>alert');
    expect(ask.text).not.toContain('<b>T');
    expect(textOf(ask.text)).toContain(`voucher code “${voucherCode}”`);
    expect(textOf(ask.text)).toContain(`referenceId “${trxCode}”`);
    const confirm = formOf(ask.text, 'confirm');
    expect(confirm.fields).toMatchObject({ voucherCode, trxCode, seenState: 'UNKNOWN' });
    const done = await op.post(confirm.action, confirm.fields);
    expect(done.status).toBe(200);
    expect(await env.gw.store.getTransaction('R3-ESC')).toMatchObject({
      state: 'SUCCESS',
      voucherCode,
      trxCode,
    });
  });
});

describe('ORDERING is resolved through UNKNOWN with the pin', () => {
  it('seenState ORDERING: confirm, act, ORDERING -> UNKNOWN -> FAILED; a pin of UNKNOWN on it is refused', async () => {
    const env = await start();
    await insert(env, 'R3-ORD', 'ORDERING', { refId: 'R3-ORD-ref' });
    const op = await signIn(env.url);
    const page = await op.get('/console/transactions/R3-ORD');
    expect(/name="seenState" value="ORDERING"/.test(page)).toBe(true);
    const wrong = await op.post('/console/transactions/R3-ORD/resolve', {
      outcome: 'failed',
      reason: 'lost order',
      seenState: 'UNKNOWN',
    });
    expect(wrong.status).toBe(409);
    const ask = await op.post('/console/transactions/R3-ORD/resolve', {
      outcome: 'failed',
      reason: 'lost order',
      seenState: 'ORDERING',
    });
    expect(ask.status).toBe(200);
    const confirm = formOf(ask.text, 'confirm');
    const done = await op.post(confirm.action, confirm.fields);
    expect(done.status, textOf(done.text).slice(-300)).toBe(200);
    const moves = (await env.gw.store.listEvents('R3-ORD')).map(
      (ev: { fromState?: unknown; toState?: unknown }) => `${ev.fromState}->${ev.toState}`,
    );
    expect(moves.slice(-2)).toEqual(['ORDERING->UNKNOWN', 'UNKNOWN->FAILED']);
  });
});
