import SwaggerParser from '@apidevtools/swagger-parser';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type E2E, startE2E } from './helpers/e2e.js';
import { initBody, send } from './helpers/razer.js';
import { seedSales } from './helpers/sales.js';
import { waitFor } from './helpers/wait.js';

// The answers the documented operations give to requests test/openapi.test.ts does not
// send, each held against /openapi.json (status listed, media type listed, body fits, and a
// 400's code among those the document lists for that operation). Every mismatch is collected
// and reported together.

const ADMIN_TOKEN = 'admin-token-for-tests-0123456789';
const ajv = new Ajv2020({ strict: false, allowUnionTypes: true, allErrors: true });

let e: E2E;
let doc: Record<string, unknown>;
const mismatches: string[] = [];

beforeAll(async () => {
  e = await startE2E({ env: { ADMIN_TOKEN, TOPUP_WAIT_MS: '300' } });
  const served = await (await fetch(`${e.url}/openapi.json`)).json();
  doc = (await SwaggerParser.dereference(served as never)) as unknown as Record<string, unknown>;
});
afterAll(async () => {
  await e?.close();
});

const get = (v: unknown, ...keys: string[]): unknown =>
  keys.reduce<unknown>(
    (x, k) => (x && typeof x === 'object' ? (x as Record<string, unknown>)[k] : undefined),
    v,
  );

interface Answer {
  status: number;
  type: string;
  text: string;
}

function check(what: string, method: string, template: string, a: Answer) {
  const response = get(doc, 'paths', template, method, 'responses', String(a.status));
  if (!response) {
    mismatches.push(
      `${what}: ${method.toUpperCase()} ${template} answered ${a.status}, not documented (${a.text.slice(0, 120)})`,
    );
    return;
  }
  const content = (get(response, 'content') ?? {}) as Record<string, unknown>;
  const media = Object.keys(content).find((t) => a.type.startsWith(t));
  if (!media) {
    mismatches.push(
      `${what}: ${a.status} ${a.type} not among ${Object.keys(content).join(', ')} (${a.text.slice(0, 120)})`,
    );
    return;
  }
  let body: unknown = a.text;
  if (media === 'application/json') body = JSON.parse(a.text);
  const validate = ajv.compile(get(content, media, 'schema') as object);
  if (!validate(body))
    mismatches.push(
      `${what}: ${a.status} body ${a.text.slice(0, 160)} does not fit: ${ajv.errorsText(validate.errors)}`,
    );
}

async function razer(
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  options: Parameters<typeof send>[4] = {},
): Promise<Answer> {
  const r = await send(e, method, path, body, options);
  return { status: r.status, type: 'application/json', text: r.text };
}

async function http(
  method: string,
  path: string,
  init: { headers?: Record<string, string>; body?: string; admin?: boolean } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.admin !== false) headers.authorization = `Bearer ${ADMIN_TOKEN}`;
  const res = await fetch(`${e.url}${path}`, { method, headers, body: init.body });
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
}

describe('answers not exercised by test/openapi.test.ts, against the document', () => {
  it('Razer endpoints', async () => {
    const q = '/transaction/{transactionNumber}';
    check('query, % in the number', 'get', q, await razer('GET', '/transaction/A%25B'));
    check('query, 65 characters', 'get', q, await razer('GET', `/transaction/${'N'.repeat(65)}`));
    check('init, not JSON', 'post', '/transaction/init', await razer('POST', '/transaction/init', '{'));
    check(
      'init, text/plain',
      'post',
      '/transaction/init',
      await razer('POST', '/transaction/init', initBody('C-1'), { contentType: 'text/plain' }),
    );
    check(
      'init, OOS-free SKU disabled or unknown',
      'post',
      '/transaction/init',
      await razer('POST', '/transaction/init', initBody('C-2', { sku: 'NOPE' })),
    );
    check(
      'init, account not digits',
      'post',
      '/transaction/init',
      await razer('POST', '/transaction/init', initBody('C-3', { accountId: 'abc' })),
    );
    check(
      'init, country',
      'post',
      '/transaction/init',
      await razer('POST', '/transaction/init', initBody('C-4', { userCountryCode: 'US' })),
    );
    check(
      'topup, unknown',
      'post',
      '/transaction/topup',
      await razer('POST', '/transaction/topup', { transactionNumber: 'C-NONE', transactionToken: 'x' }),
    );
    const init = await send(e, 'POST', '/transaction/init', initBody('C-5'));
    check(
      'topup, wrong token',
      'post',
      '/transaction/topup',
      await razer('POST', '/transaction/topup', { transactionNumber: 'C-5', transactionToken: 'wrong' }),
    );
    check(
      'cancel, wrong token',
      'post',
      '/transaction/cancel',
      await razer('POST', '/transaction/cancel', { transactionNumber: 'C-5', transactionToken: 'wrong' }),
    );
    check(
      'cancel',
      'post',
      '/transaction/cancel',
      await razer('POST', '/transaction/cancel', {
        transactionNumber: 'C-5',
        transactionToken: init.json.transactionToken,
      }),
    );
    check(
      'cancel again',
      'post',
      '/transaction/cancel',
      await razer('POST', '/transaction/cancel', { transactionNumber: 'C-5' }),
    );
    check(
      'topup after cancel',
      'post',
      '/transaction/topup',
      await razer('POST', '/transaction/topup', {
        transactionNumber: 'C-5',
        transactionToken: init.json.transactionToken,
      }),
    );
    check('query after cancel', 'get', q, await razer('GET', '/transaction/C-5'));
    await send(e, 'POST', '/transaction/init', initBody('C-6'));
    check('query of an initiated one (expires it)', 'get', q, await razer('GET', '/transaction/C-6'));
    check(
      'cancel of an expired one',
      'post',
      '/transaction/cancel',
      await razer('POST', '/transaction/cancel', { transactionNumber: 'C-6' }),
    );
    e.sim.nextEnding({ kind: 'stay' });
    const { topup } = await e.purchase('C-7');
    check('topup, not final', 'post', '/transaction/topup', {
      status: topup.status,
      type: 'application/json',
      text: topup.text,
    });
    await waitFor(async () => (await e.state('C-7')) === 'PROCESSING', 5000, 'C-7 PROCESSING');
    check(
      'cancel, sent',
      'post',
      '/transaction/cancel',
      await razer('POST', '/transaction/cancel', { transactionNumber: 'C-7' }),
    );
    check(
      'validate, not JSON object',
      'post',
      '/account/validate',
      await razer('POST', '/account/validate', '[]'),
    );
    check(
      'validate, wrong signature',
      'post',
      '/account/validate',
      await razer('POST', '/account/validate', { sku: 'X', accountId: '1' }, { key: 'wrong-key' }),
    );
    check(
      'health, wrong signature',
      'get',
      '/health',
      await http('GET', '/health', { admin: false, headers: { 'x-razer-signature': 'bad:bad' } }),
    );
  });

  it('admin API', async () => {
    await send(e, 'POST', '/transaction/init', initBody('A-1'));
    check(
      'list, unknown parameter',
      'get',
      '/admin/transactions',
      await http('GET', '/admin/transactions?bogus=1'),
    );
    check(
      'list, bad cursor',
      'get',
      '/admin/transactions',
      await http('GET', '/admin/transactions?cursor=zzz'),
    );
    check(
      'story, bad number',
      'get',
      '/admin/transactions/{transactionNumber}',
      await http('GET', '/admin/transactions/A%25'),
    );
    check(
      'recheck, never sent',
      'post',
      '/admin/transactions/{transactionNumber}/recheck',
      await http('POST', '/admin/transactions/A-1/recheck'),
    );
    check(
      'recheck, unknown',
      'post',
      '/admin/transactions/{transactionNumber}/recheck',
      await http('POST', '/admin/transactions/A-NONE/recheck'),
    );
    check(
      'recheck, bad X-Operator',
      'post',
      '/admin/transactions/{transactionNumber}/recheck',
      await http('POST', '/admin/transactions/A-1/recheck', { headers: { 'x-operator': '<script>' } }),
    );
    check(
      'resolve, text/plain',
      'post',
      '/admin/transactions/{transactionNumber}/resolve',
      await http('POST', '/admin/transactions/A-1/resolve', {
        headers: { 'content-type': 'text/plain' },
        body: 'x',
      }),
    );
    check(
      'resolve, initiated',
      'post',
      '/admin/transactions/{transactionNumber}/resolve',
      await http('POST', '/admin/transactions/A-1/resolve', {
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ outcome: 'failed', reason: 'because' }),
      }),
    );
    check(
      'acknowledge, unknown',
      'post',
      '/admin/transactions/{transactionNumber}/acknowledge',
      await http('POST', '/admin/transactions/A-NONE/acknowledge', {
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ reason: 'because' }),
      }),
    );
    check(
      'replay, not an id',
      'post',
      '/admin/webhooks/{id}/replay',
      await http('POST', '/admin/webhooks/abc/replay'),
    );
    check(
      'replay, unknown',
      'post',
      '/admin/webhooks/{id}/replay',
      await http('POST', '/admin/webhooks/999999/replay'),
    );
    check(
      'webhooks, bad flag',
      'get',
      '/admin/webhooks',
      await http('GET', '/admin/webhooks?processed=maybe'),
    );
    check(
      'catalogue, bad body',
      'post',
      '/admin/supplier/catalogue',
      await http('POST', '/admin/supplier/catalogue', {
        headers: { 'content-type': 'application/json' },
        body: '{"items":"x"}',
      }),
    );
    check(
      'supplier, no token',
      'get',
      '/admin/supplier',
      await http('GET', '/admin/supplier', { admin: false }),
    );
    check(
      'supplier, lower-case bearer',
      'get',
      '/admin/supplier',
      await http('GET', '/admin/supplier', {
        admin: false,
        headers: { authorization: `bearer ${ADMIN_TOKEN}` },
      }),
    );
    // The supplier is stopped: the report and a catalogue fetch without it.
    await e.sim.close();
    check('supplier, supplier down', 'get', '/admin/supplier', await http('GET', '/admin/supplier'));
    check(
      'catalogue, supplier down',
      'post',
      '/admin/supplier/catalogue',
      await http('POST', '/admin/supplier/catalogue', {
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ items: [{ brand: 'MLBB', variation: 'MLBB112' }] }),
      }),
    );
  }, 60_000);

  it('operations and webhook', async () => {
    check(
      'metrics, wrong token',
      'get',
      '/metrics',
      await http('GET', '/metrics', {
        admin: false,
        headers: { authorization: 'Bearer nope-nope-nope-nope' },
      }),
    );
    check(
      'webhook, wrong token',
      'post',
      '/mitra/webhook/{token}',
      await http('POST', '/mitra/webhook/short', { admin: false, body: '{}' }),
    );
    check(
      'webhook, not JSON',
      'post',
      '/mitra/webhook/{token}',
      await http('POST', new URL(e.webhookUrl).pathname, {
        admin: false,
        headers: { 'content-type': 'text/plain' },
        body: 'hello',
      }),
    );
  });

  it('sales reports: JSON, both CSV files, refusals', async () => {
    await seedSales(e);
    const range = 'from=2026-12-01&to=2026-12-03';
    for (const by of ['day', 'sku']) {
      const json = await http('GET', `/admin/reports/sales?${range}&by=${by}`);
      expect(json.status).toBe(200);
      expect(JSON.parse(json.text).total.sold).toBeGreaterThan(0);
      check(`report by ${by}`, 'get', '/admin/reports/sales', json);
      const csv = await http('GET', `/admin/reports/sales.csv?${range}&by=${by}`);
      expect(csv.type).toMatch(/^text\/csv/);
      check(`report CSV by ${by}`, 'get', '/admin/reports/sales.csv', csv);
    }
    const transactions = await http('GET', `/admin/reports/transactions.csv?${range}`);
    expect(transactions.status).toBe(200);
    check('transactions CSV', 'get', '/admin/reports/transactions.csv', transactions);
    check(
      'transactions CSV, empty range',
      'get',
      '/admin/reports/transactions.csv',
      await http('GET', '/admin/reports/transactions.csv?from=2030-01-01&to=2030-01-01'),
    );
    for (const path of [
      '/admin/reports/sales',
      '/admin/reports/sales.csv',
      '/admin/reports/transactions.csv',
    ]) {
      for (const query of ['', 'from=2026-12-03&to=2026-12-01', 'from=x&to=y', `${range}&bogus=1`]) {
        const refused = await http('GET', `${path}?${query}`);
        expect(refused.status, `${path}?${query}`).toBe(400);
        check(`refused ${query}`, 'get', path, refused);
      }
      check('no token', 'get', path, await http('GET', `${path}?${range}`, { admin: false }));
    }
    check(
      'report, unknown grouping',
      'get',
      '/admin/reports/sales',
      await http('GET', `/admin/reports/sales?${range}&by=week`),
    );
  });

  it('reports every mismatch found above', () => {
    expect(mismatches).toEqual([]);
  });
});
