import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { healthRoutes } from '../src/http/health.js';
import { createLogger } from '../src/log.js';
import { signRequest } from '../src/razer/signature.js';
import { type E2E, startE2E, WEBHOOK_TOKEN } from './helpers/e2e.js';
import { REQUIRED_ENV } from './helpers/env.js';
import { SIM_KEYS } from './helpers/mitra.js';
import { waitFor } from './helpers/wait.js';

const ADMIN_TOKEN = 'admin-token-for-tests-0123456789';

let e: E2E | undefined;
let receiver: Server | undefined;
afterEach(async () => {
  await e?.close();
  e = undefined;
  await new Promise<void>((resolve) => (receiver ? receiver.close(() => resolve()) : resolve()));
  receiver = undefined;
});

/** Prometheus text format: `name{labels} value` lines, comments skipped. */
function parseMetrics(text: string): { name: string; labels: Record<string, string>; value: number }[] {
  const samples = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (m[2] ?? '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g))
      labels[pair[1] ?? ''] = pair[2] ?? '';
    samples.push({ name: m[1] ?? '', labels, value: Number(m[3]) });
  }
  return samples;
}

const scrape = async (url: string, token: string | null = ADMIN_TOKEN) => {
  const res = await fetch(`${url}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
};

/** A chat webhook stand-in: records every POSTed body. */
async function startReceiver(): Promise<{ url: string; bodies: Record<string, unknown>[] }> {
  const bodies: Record<string, unknown>[] = [];
  receiver = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk) => {
      text += chunk;
    });
    req.on('end', () => {
      bodies.push(JSON.parse(text));
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => receiver?.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`, bodies };
}

describe('metrics', () => {
  it('scrapes the listed metrics with sane values after a few purchases, labels bounded', async () => {
    e = await startE2E({ env: { ADMIN_TOKEN } });
    for (const n of ['M-1', 'M-2']) {
      await e.purchase(n);
      await e.settle(n);
    }
    await e.gw.balance.poll();
    await fetch(`${e.url}/transaction/M-1`); // unsigned: 401
    const r = await scrape(e.url);
    expect(r.status).toBe(200);
    expect(r.type).toMatch(/^text\/plain; version=0\.0\.4/);
    const samples = parseMetrics(r.text);
    const value = (name: string, labels: Record<string, string> = {}) =>
      samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
        ?.value;

    expect(value('gateway_razer_requests_total', { endpoint: 'init', status: '200' })).toBe(2);
    expect(value('gateway_razer_requests_total', { endpoint: 'query', status: '200' })).toBe(2);
    expect(value('gateway_razer_requests_total', { endpoint: 'query', status: '401' })).toBe(1);
    expect(value('gateway_razer_request_duration_seconds_count', { endpoint: 'topup' })).toBe(2);
    expect(value('gateway_razer_request_duration_seconds_sum', { endpoint: 'topup' })).toBeGreaterThan(0);
    expect(value('gateway_supplier_calls_total', { operation: 'order', outcome: 'accepted' })).toBe(2);
    expect(value('gateway_supplier_call_duration_seconds_count', { operation: 'order' })).toBe(2);
    expect(value('gateway_transactions', { state: 'SUCCESS' })).toBe(2);
    expect(value('gateway_transactions', { state: 'UNKNOWN' })).toBe(0);
    expect(value('gateway_transactions_attention')).toBe(0);
    expect(value('gateway_supplier_balance_idr')).toBe(e.sim.balance);
    expect(value('gateway_catalogue_age_seconds')).toBeGreaterThanOrEqual(0);
    expect(value('gateway_catalogue_age_seconds')).toBeLessThan(60);
    expect(value('gateway_rate_limit_waiting', { lane: 'order' })).toBe(0);
    expect(value('gateway_webhooks_total', { result: 'accepted' })).toBeGreaterThanOrEqual(2);
    expect(value('gateway_unauthorized_total')).toBe(1);
    expect(value('process_resident_memory_bytes')).toBeGreaterThan(0);
    // No transaction number (or any other unbounded value) ever becomes a label.
    expect(r.text).not.toMatch(/M-1|M-2/);
  });

  it('needs the token on the main port, and none on METRICS_PORT', async () => {
    e = await startE2E({ env: { ADMIN_TOKEN, METRICS_PORT: '0' } });
    expect((await scrape(e.url, null)).status).toBe(401);
    expect(e.gw.metricsPort).not.toBeNull();
    const open = await scrape(`http://127.0.0.1:${e.gw.metricsPort}`, null);
    expect(open.status).toBe(200);
    expect(open.text).toMatch(/^gateway_transactions_attention 0$/m);
  });
});

describe('health for orchestrators', () => {
  it('/livez and /readyz answer 200 on a started gateway; /health stays Razer’s', async () => {
    e = await startE2E();
    const live = await fetch(`${e.url}/livez`);
    expect([live.status, await live.json()]).toEqual([200, { status: 'live' }]);
    const ready = await fetch(`${e.url}/readyz`);
    expect([ready.status, await ready.json()]).toEqual([
      200,
      { status: 'ready', checks: { storage: 'ok', migrations: 'ok', catalogue: 'ok' } },
    ]);
    const health = await fetch(`${e.url}/health`);
    expect([health.status, await health.text()]).toEqual([200, 'OK']);
  });

  it('/readyz answers 503 naming each check that fails', async () => {
    const app = healthRoutes({
      storageWritable: async () => {
        throw new Error('disk full');
      },
      migrated: () => true,
      cataloguePresent: async () => false,
    });
    const res = await app.request('/readyz');
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({
      status: 'not ready',
      checks: { storage: 'not writable', migrations: 'ok', catalogue: 'never fetched' },
    });
  });
});

describe('request logs and secrets', () => {
  it('logs one line per request with its id (echoed) and transaction, and never a secret', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(...String(chunk).split('\n').filter(Boolean));
        done();
      },
    });
    e = await startE2E({ env: { ADMIN_TOKEN, METRICS_PORT: '0' }, logger: createLogger('debug', sink) });
    const { init, topup } = await e.purchase('LOG-1');
    await e.settle('LOG-1');
    const given = await fetch(`${e.url}/transaction/LOG-1`, { headers: { 'x-request-id': 'proxy-id-42' } });
    expect(given.headers.get('x-request-id')).toBe('proxy-id-42');
    const mine = await fetch(`${e.url}/livez`, { headers: { 'x-request-id': 'not ok; spaces' } });
    expect(mine.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    // Secrets offered on purpose: wrong tokens, a webhook to a guessed path, admin calls.
    await fetch(`${e.url}/admin/transactions`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    await fetch(`${e.url}/admin/transactions/LOG-1`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    await fetch(`${e.url}/admin/transactions`, { headers: { authorization: 'Bearer a-guessed-token-0000' } });
    // A Referer and a proxy's X-Original-URI repeat the webhook URL: stored without the token.
    await fetch(`${e.url}/mitra/webhook/${WEBHOOK_TOKEN}`, {
      method: 'POST',
      headers: {
        referer: `${e.url}/mitra/webhook/${WEBHOOK_TOKEN}`,
        'x-original-uri': `/mitra/webhook/${WEBHOOK_TOKEN.toUpperCase()}`,
      },
      body: '{"nonsense":true}',
    });
    // The webhook URL mistyped (404s), the token in other places, in another case, escaped.
    const escaped = [...WEBHOOK_TOKEN].map((ch) => `%${ch.charCodeAt(0).toString(16)}`).join('');
    for (const path of [
      `//mitra/webhook/${WEBHOOK_TOKEN}`,
      `/mitra//webhook/${WEBHOOK_TOKEN}`,
      `/MITRA/webhook/${WEBHOOK_TOKEN}`,
      `/mitra/webhooks/${WEBHOOK_TOKEN}`,
      `/mitra/webhook/${escaped}`,
      `/elsewhere/${WEBHOOK_TOKEN.toUpperCase()}/x`,
      `/admin/${WEBHOOK_TOKEN}`,
      `/console/${WEBHOOK_TOKEN}`,
    ]) {
      // The escaped one is the token itself (the router decodes it): accepted.
      const r = await fetch(`${e.url}${path}`, { method: 'POST', body: '{}' });
      expect(r.status, path).toBe(path.includes('%') ? 200 : /^\/(admin|console)\//.test(path) ? 401 : 404);
    }
    const refused = await fetch(`${e.url}/admin/${WEBHOOK_TOKEN}`, {
      headers: { authorization: 'Bearer nope' },
    });
    expect(refused.status).toBe(401);
    await e.gw.audit.flush();

    // The start says where this gateway talks and writes, and which instance it is.
    expect(lines.map((l) => JSON.parse(l)).find((l) => String(l.msg).startsWith('starting: '))).toMatchObject(
      {
        mitra: e.sim.url,
        mitraHost: 'other host',
        storage: expect.any(String),
        instance: expect.any(String),
        msg: expect.stringMatching(
          /^starting: Mitra http:\/\/127\.0\.0\.1:\d+ \(other host\), storage .+, instance \S+$/,
        ),
      },
    );
    const requestLines = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'request');
    const topupLine = requestLines.find((l) => l.endpoint === 'topup');
    expect(topupLine).toMatchObject({
      method: 'POST',
      path: '/transaction/topup',
      status: topup.status,
      transactionNumber: 'LOG-1',
    });
    expect(typeof topupLine.reqId).toBe('string');
    expect(requestLines.find((l) => l.reqId === 'proxy-id-42')).toMatchObject({
      endpoint: 'query',
      transactionNumber: 'LOG-1',
    });
    expect(requestLines.some((l) => l.path === '/mitra/webhook/[token]')).toBe(true);

    const secrets = [
      REQUIRED_ENV.RAZER_API_KEY,
      SIM_KEYS.apiKey,
      SIM_KEYS.secretKey,
      WEBHOOK_TOKEN,
      ADMIN_TOKEN,
      String(init.signature ?? 'no-signature-seen'),
    ];
    expect(init.signature).toBeTruthy();
    const stored = JSON.stringify(
      await Promise.all([
        e.gw.store.listExchanges('LOG-1'),
        e.gw.store.listSupplierCalls('LOG-1'),
        e.gw.store.listSupplierCalls(null as unknown as string),
        e.gw.store.listWebhooks(100),
        e.gw.store.listEvents('LOG-1'),
      ]),
    );
    const metrics = (await scrape(`http://127.0.0.1:${e.gw.metricsPort}`, null)).text;
    for (const secret of secrets) {
      expect(secret.length).toBeGreaterThan(8);
      for (const [where, text] of [
        ['logs', lines.join('\n')],
        ['stored records', stored],
        ['metrics', metrics],
      ] as const)
        expect(text.includes(secret), `${where} hold ${secret.slice(0, 6)}…`).toBe(false);
    }
    // Under any case either.
    expect(lines.join('\n').toLowerCase()).not.toContain(WEBHOOK_TOKEN.toLowerCase());
    expect(stored.toLowerCase()).not.toContain(WEBHOOK_TOKEN.toLowerCase());
    expect(requestLines.map((l) => l.path)).toEqual(
      expect.arrayContaining([
        '//mitra/webhook/[token]',
        '/mitra//webhook/[token]',
        '/MITRA/webhook/[token]',
        '/mitra/webhooks/[token]',
        '/elsewhere/[token]/x',
        '/admin/[token]',
        '/console/[token]',
      ]),
    );
    // The request signature of every exchange: Razer signs its requests, none is kept.
    expect(stored).not.toMatch(/x-razer-signature":"(?!\[signed\])/);
  });

  it('logs a query answered as already recorded at debug level, and counts it in a summary line', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
        done();
      },
    });
    e = await startE2E({ logger: createLogger('info', sink) });
    await e.purchase('LOG-2');
    const final = await e.settle('LOG-2');
    expect(final.json).toMatchObject({ status: 'SUCCESS' });
    // The polls of settle() are written; from here on, only what follows.
    await e.gw.audit.flush();
    lines.length = 0;
    for (let i = 0; i < 3; i++) expect((await e.query('LOG-2')).json).toEqual(final.json);
    const unknown = await e.query('LOG-NONE');
    expect(unknown.status).toBe(400);
    // A HEAD repeats the answer too (counted), but has no body to repeat: its line stays at info.
    const path = '/transaction/LOG-2';
    const credential = { apiId: REQUIRED_ENV.RAZER_API_ID, key: REQUIRED_ENV.RAZER_API_KEY };
    const head = await fetch(`${e.url}${path}`, {
      method: 'HEAD',
      headers: { 'x-razer-signature': signRequest(credential, 'body', 'HEAD', path, '') },
    });
    expect(head.status).toBe(200);
    await e.gw.audit.flush();

    // Only the unknown transaction's query and the HEAD have info lines; the repeats are counted.
    expect(lines.filter((l) => l.msg === 'request')).toEqual([
      expect.objectContaining({ level: 30, endpoint: 'query', status: 400, path: '/transaction/LOG-NONE' }),
      expect.objectContaining({ level: 30, method: 'HEAD', status: 200, path }),
    ]);
    expect(lines.filter((l) => l.msg === 'repeated queries counted')).toEqual([
      expect.objectContaining({
        level: 30,
        transactions: 1,
        queries: 4,
        listed: [{ transactionNumber: 'LOG-2', count: 4 }],
      }),
    ]);
  });
});

describe('alerts', () => {
  it('sends a low balance, a supplier auth failure and a flagged transaction once each', async () => {
    const chat = await startReceiver();
    let shift = 0;
    e = await startE2E({
      env: {
        ADMIN_TOKEN,
        ALERT_WEBHOOK_URL: chat.url,
        SUPPLIER_BALANCE_ALERT_IDR: '999999999999',
        TOPUP_WAIT_MS: '200',
      },
      gateway: {
        balancePollMs: 30,
        now: () => Date.now() + shift,
        alertDelivery: { minDelayMs: 10, maxDelayMs: 20 },
      },
    });
    await waitFor(() => chat.bodies.some((b) => b.kind === 'low-balance'), 5000, 'a low-balance alert');
    // Many polls later, still one.
    const polls = e.sim.stats.calls.balance;
    await waitFor(() => e !== undefined && e.sim.stats.calls.balance >= polls + 3, 5000, 'three more polls');
    expect(chat.bodies.filter((b) => b.kind === 'low-balance')).toHaveLength(1);
    const low = chat.bodies.find((b) => b.kind === 'low-balance');
    expect(low?.text).toBe(low?.content);
    expect(String(low?.text)).toMatch(/balance/);
    // The condition shows as a gauge while it holds, beside readiness (both for the shipped rules).
    const scraped = (await e.gw.metrics.render()).body;
    expect(scraped).toMatch(/^gateway_alert_active\{kind="low-balance"\} 1$/m);
    expect(scraped).toMatch(/^gateway_alert_active\{kind="supplier-auth"\} 0$/m);
    expect(scraped).toMatch(/^gateway_ready 1$/m);

    e.sim.nextFault('balance', { kind: 'refuse', rc: '41', status: 'Unauthorized', http: 401 });
    await waitFor(() => chat.bodies.some((b) => b.kind === 'supplier-auth'), 5000, 'an auth alert');

    e.sim.nextEnding({ kind: 'stay' });
    await e.purchase('AL-1');
    shift = 25 * 60 * 60 * 1000; // past the 24 h deadline
    await waitFor(() => chat.bodies.some((b) => b.kind === 'flagged'), 5000, 'a flagged alert');
    const flagged = chat.bodies.filter((b) => b.kind === 'flagged');
    expect(flagged).toHaveLength(1);
    expect(flagged[0]?.transactionNumber).toBe('AL-1');
    expect((await e.gw.store.getTransaction('AL-1'))?.attention).toBe(true);
    await e.gw.alerter.idle();
    expect(chat.bodies.filter((b) => b.kind === 'supplier-auth')).toHaveLength(1);
    expect(JSON.stringify(chat.bodies)).not.toContain(SIM_KEYS.secretKey);
  });
});
