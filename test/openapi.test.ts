import { request } from 'node:http';
import SwaggerParser from '@apidevtools/swagger-parser';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type E2E, startE2E } from './helpers/e2e.js';
import { initBody, send } from './helpers/razer.js';
import { waitFor } from './helpers/wait.js';

const ADMIN_TOKEN = 'admin-token-for-tests-0123456789';
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** The wildcard routes: middleware (request log; admin token and body limit; console session) and 404 catch-alls. */
const WILDCARDS = ['/*', '/admin/*', '/console/*'];

/**
 * Served but not API operations, so not in the document: the operator's browser console (HTML
 * pages, built elsewhere) and the /docs page's own script and style files.
 */
const UNDOCUMENTED = [/^\/console(\/|$)/, /^\/docs\/assets\//];

let e: E2E;
/** The document as served, and the same with every $ref replaced by what it points to. */
let served: unknown;
let resolved: unknown;
// Union types (`["string","null"]`) are how zod writes nullable; the rest stays strict.
const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true });

beforeAll(async () => {
  e = await startE2E({ env: { ADMIN_TOKEN, TOPUP_WAIT_MS: '500' } });
  const res = await fetch(`${e.url}/openapi.json`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  served = await res.json();
  resolved = await SwaggerParser.dereference(structuredClone(served) as SwaggerDocument);
});
afterAll(async () => {
  await e?.close();
});

type SwaggerDocument = Parameters<typeof SwaggerParser.validate>[0];

/** The value at a path of keys in parsed JSON; undefined where the path leaves it. */
function at(value: unknown, ...keys: string[]): unknown {
  let here = value;
  for (const key of keys) {
    if (here === null || typeof here !== 'object' || !Object.hasOwn(here, key)) return undefined;
    here = (here as Record<string, unknown>)[key];
  }
  return here;
}

const objectAt = (value: unknown, ...keys: string[]): Record<string, unknown> => {
  const found = at(value, ...keys);
  if (found === null || typeof found !== 'object') throw new Error(`nothing at ${keys.join(' > ')}`);
  return found as Record<string, unknown>;
};

/** Why `value` does not fit `schema`; '' when it does. */
function misfit(schema: unknown, value: unknown): string {
  const validate = ajv.compile(schema as object);
  return validate(value) ? '' : ajv.errorsText(validate.errors);
}

interface Answer {
  status: number;
  type: string;
  body: unknown;
}

/** Holds a real answer against what the document says `method path` answers with its status. */
function expectDocumented(method: string, path: string, answer: Answer) {
  const where = `${method.toUpperCase()} ${path} ${answer.status}`;
  const response = at(resolved, 'paths', path, method, 'responses', String(answer.status));
  expect(response, `${where} is documented`).toBeDefined();
  const media = Object.keys(objectAt(response, 'content')).find((type) => answer.type.startsWith(type));
  expect(media, `${where}: ${answer.type} is documented`).toBeDefined();
  expect(misfit(at(response, 'content', media ?? '', 'schema'), answer.body), where).toBe('');
}

async function call(
  method: 'GET' | 'POST',
  path: string,
  options: { body?: unknown; raw?: string; token?: string | null; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  const token = options.token === undefined ? ADMIN_TOKEN : options.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  let body = options.raw;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] = 'application/json';
  }
  const res = await fetch(`${e.url}${path}`, { method, headers, body });
  const type = res.headers.get('content-type') ?? '';
  const text = await res.text();
  return { status: res.status, type, body: type.startsWith('application/json') ? JSON.parse(text) : text };
}

/**
 * A body too large to be read, on a connection of its own: the gateway stops reading and the
 * socket is not fit for a next request, which a pooled fetch would otherwise reuse.
 */
function oversized(path: string, bytes: number, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${e.url}${path}`, {
      method: 'POST',
      agent: false,
      headers: { 'content-type': 'application/json', ...headers },
    });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
      });
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          type: res.headers['content-type'] ?? '',
          body: JSON.parse(text),
        }),
      );
    });
    // The gateway may close before taking every byte: the answer is what matters.
    req.on('error', (err) =>
      req.destroyed && 'code' in err && err.code === 'EPIPE' ? undefined : reject(err),
    );
    req.end(JSON.stringify({ reason: 'x'.repeat(bytes) }));
  });
}

/** A signed Razer call, as an answer (Razer answers JSON, bar /health). */
async function razer(method: 'GET' | 'POST', path: string, body?: unknown) {
  const reply = await send(e, method, path, body);
  expect(reply.signature, `${method} ${path} is signed`).toMatch(/^[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/);
  return { status: reply.status, type: 'application/json', body: JSON.parse(reply.text) as unknown };
}

describe('the OpenAPI document', () => {
  it('is valid OpenAPI 3.1', async () => {
    expect(at(served, 'openapi')).toBe('3.1.0');
    await expect(SwaggerParser.validate(structuredClone(served) as SwaggerDocument)).resolves.toBeDefined();
    expect(at(served, 'info', 'version')).toMatch(/^\d+\.\d+\.\d+/);
    expect(at(served, 'components', 'securitySchemes', 'razerSignature')).toMatchObject({
      type: 'apiKey',
      in: 'header',
      name: 'X-Razer-Signature',
    });
    expect(at(served, 'components', 'securitySchemes', 'adminToken')).toMatchObject({
      type: 'http',
      scheme: 'bearer',
    });
  });

  it('documents every route the app serves, and serves every route it documents', () => {
    const wildcards = e.gw.app.routes.filter((r) => r.method === 'ALL' && r.path.includes('*'));
    // Middleware (request log, admin token, body limits, the console's session) and the catch-alls
    // that answer 404: exactly these, so that a new wildcard route cannot hide from the check.
    expect([...new Set(wildcards.map((r) => r.path))].sort()).toEqual(WILDCARDS);
    const routes = e.gw.app.routes
      .filter((r) => !(r.method === 'ALL' && r.path.includes('*')))
      .filter((r) => !UNDOCUMENTED.some((excluded) => excluded.test(r.path)))
      .map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, '{$1}')}`);
    const servedOps = new Set(routes);
    const documentedOps = new Set(
      Object.entries(objectAt(served, 'paths')).flatMap(([path, item]) =>
        Object.keys(item as object)
          .filter((m) => METHODS.includes(m))
          .map((m) => `${m.toUpperCase()} ${path}`),
      ),
    );
    expect(servedOps.size).toBeGreaterThan(15);
    // Both ways in one assertion, so that a failure lists every difference.
    expect({
      servedNotDocumented: [...servedOps].filter((op) => !documentedOps.has(op)),
      documentedNotServed: [...documentedOps].filter((op) => !servedOps.has(op)),
    }).toEqual({ servedNotDocumented: [], documentedNotServed: [] });
  });

  it("holds every example against its own schema, requests' and answers'", () => {
    let checked = 0;
    const examplesOf = (media: unknown, where: string) => {
      for (const [name, example] of Object.entries(objectAt(media, 'examples'))) {
        expect(misfit(at(media, 'schema'), at(example, 'value')), `${where} example ${name}`).toBe('');
        checked++;
      }
    };
    const responsesOf = (responses: Record<string, unknown>, where: string) => {
      for (const [status, response] of Object.entries(responses)) {
        for (const [type, media] of Object.entries(at(response, 'content') ?? {})) {
          if (at(media, 'examples') !== undefined) examplesOf(media, `${where} ${status} ${type}`);
        }
      }
    };
    for (const [path, item] of Object.entries(objectAt(resolved, 'paths'))) {
      for (const [method, operation] of Object.entries(item as object)) {
        const where = `${method.toUpperCase()} ${path}`;
        for (const [type, media] of Object.entries(at(operation, 'requestBody', 'content') ?? {})) {
          if (at(media, 'examples') !== undefined) examplesOf(media, `${where} request ${type}`);
        }
        responsesOf(objectAt(operation, 'responses'), where);
      }
    }
    // Shared answers no single operation names (RazerNotFound) too.
    responsesOf(objectAt(resolved, 'components', 'responses'), 'components.responses');
    expect(checked).toBeGreaterThan(50);
  });

  it('gives every Razer status an example for each of its codes', () => {
    for (const path of [
      '/transaction/init',
      '/transaction/topup',
      '/transaction/cancel',
      '/account/validate',
    ]) {
      const responses = objectAt(resolved, 'paths', path, 'post', 'responses');
      expect(Object.keys(responses)).toEqual(expect.arrayContaining(['200', '400', '401', '500']));
      for (const [status, response] of Object.entries(responses)) {
        const media = objectAt(response, 'content', 'application/json');
        const codes = at(media, 'schema', 'properties', 'code', 'enum');
        const exampled = Object.values(objectAt(media, 'examples')).map((x) => at(x, 'value', 'code'));
        if (Array.isArray(codes)) expect(new Set(exampled), `${path} ${status}`).toEqual(new Set(codes));
        else expect(exampled.length, `${path} ${status}`).toBeGreaterThan(0);
      }
    }
  });
});

describe('real answers match the document', () => {
  it('Razer: init, top-up, query, cancel, validate, duplicate, refusals, 401, 404, /health', async () => {
    const requestSchema = at(resolved, 'paths', '/transaction/init', 'post', 'requestBody', 'content');
    expect(misfit(at(requestSchema, 'application/json', 'schema'), initBody('DOC-1')), 'init body').toBe('');

    const init = await razer('POST', '/transaction/init', initBody('DOC-1'));
    expect(init.status).toBe(200);
    expectDocumented('post', '/transaction/init', init);
    const token = at(init.body, 'transactionToken');
    const topup = await razer('POST', '/transaction/topup', {
      transactionNumber: 'DOC-1',
      transactionToken: token,
    });
    expect([200, 408]).toContain(topup.status);
    expectDocumented('post', '/transaction/topup', topup);
    await e.settle('DOC-1');
    const query = await razer('GET', '/transaction/DOC-1');
    expect(query.status).toBe(200);
    expectDocumented('get', '/transaction/{transactionNumber}', query);

    // A voucher: 200 carries its code.
    const voucher = await e.purchase('DOC-V', { sku: 'STEAMV50', accountId: 'buyer-1' });
    expect(voucher.init.status).toBe(200);
    await e.settle('DOC-V');
    const delivered = await razer('GET', '/transaction/DOC-V');
    expect(at(delivered.body, 'voucher', 'code')).toBeTypeOf('string');
    expectDocumented('get', '/transaction/{transactionNumber}', delivered);

    const duplicate = await razer('POST', '/transaction/init', initBody('DOC-1', { accountId: '999-1' }));
    expect(duplicate.status).toBe(409);
    expectDocumented('post', '/transaction/init', duplicate);

    const refused = await razer('POST', '/transaction/init', initBody('DOC-2', { sku: 'NOPE' }));
    expect(at(refused.body, 'code')).toBe('INAVLID_SKU');
    expectDocumented('post', '/transaction/init', refused);
    const invalid = await razer('POST', '/transaction/init', { transactionNumber: 'DOC-3' });
    expect(at(invalid.body, 'code')).toBe('INVALID_DATA');
    expectDocumented('post', '/transaction/init', invalid);
    const unknown = await razer('GET', '/transaction/DOC-NONE');
    expect(at(unknown.body, 'code')).toBe('ORIGIN_NOT_FOUND');
    expectDocumented('get', '/transaction/{transactionNumber}', unknown);

    await e.init('DOC-4');
    const cancel = await razer('POST', '/transaction/cancel', { transactionNumber: 'DOC-4' });
    expect(at(cancel.body, 'status')).toBe('CANCELLED');
    expectDocumented('post', '/transaction/cancel', cancel);
    const late = await razer('POST', '/transaction/cancel', { transactionNumber: 'DOC-1' });
    expect(at(late.body, 'code')).toBe('NOT_ALLOW_CANCEL');
    expectDocumented('post', '/transaction/cancel', late);

    const valid = await razer('POST', '/account/validate', {
      sku: 'DIAMOND50',
      accountId: '123456-12',
      userCountryCode: 'MY',
    });
    expect(valid.status).toBe(200);
    expectDocumented('post', '/account/validate', valid);
    const abroad = await razer('POST', '/account/validate', {
      sku: 'DIAMOND50',
      accountId: '123456-12',
      userCountryCode: 'US',
    });
    expect(at(abroad.body, 'code')).toBe('UNSUPPORTED_COUNTRY');
    expectDocumented('post', '/account/validate', abroad);

    const unsigned = await send(e, 'GET', '/transaction/DOC-1', undefined, { header: null });
    expect(unsigned.status).toBe(401);
    expectDocumented('get', '/transaction/{transactionNumber}', {
      status: 401,
      type: 'application/json',
      body: JSON.parse(unsigned.text),
    });

    // An unknown path is no operation: its answer is the shared RazerNotFound, never signed.
    const missing = await send(e, 'GET', '/transaction');
    expect([missing.status, missing.signature]).toEqual([404, null]);
    const notFound = objectAt(resolved, 'components', 'responses', 'RazerNotFound');
    expect(misfit(at(notFound, 'content', 'application/json', 'schema'), JSON.parse(missing.text))).toBe('');
    expect(at(notFound, 'headers')).toBeUndefined();

    const health = await call('GET', '/health', { token: null });
    expect(health).toMatchObject({ status: 200, body: 'OK' });
    expectDocumented('get', '/health', health);
  });

  it('Razer: 408 while the outcome is open', async () => {
    e.sim.nextEnding({ kind: 'stay' });
    const { init } = await e.purchase('DOC-P0');
    expect(init.status).toBe(200);
    await waitFor(async () => (await e.state('DOC-P0')) === 'PROCESSING', 5000, 'DOC-P0 PROCESSING');
    const open = await razer('GET', '/transaction/DOC-P0');
    expect(open.status).toBe(408);
    expectDocumented('get', '/transaction/{transactionNumber}', open);
  });

  it('webhook: stored, wrong token, too large', async () => {
    const path = '/mitra/webhook/{token}';
    const stored = await call('POST', new URL(e.webhookUrl).pathname, {
      body: { data: { trx_code: 'X-1' } },
    });
    expect(stored.status).toBe(200);
    expectDocumented('post', path, stored);
    const wrong = await call('POST', '/mitra/webhook/not-the-token-0123456789', { body: {} });
    expect(wrong.status).toBe(404);
    expectDocumented('post', path, wrong);
    const large = await oversized(new URL(e.webhookUrl).pathname, 1024 * 1024);
    expect(large.status).toBe(413);
    expectDocumented('post', path, large);
  });

  it('admin: listings, a story, actions, refusals', async () => {
    await e.purchase('DOC-A1');
    await e.settle('DOC-A1');
    await waitFor(
      async () => (await e.gw.store.pageWebhooks({ transactionRef: 'DOC-A1', limit: 1 })).items.length > 0,
      5000,
      'a webhook about DOC-A1',
    );
    await e.gw.audit.flush();

    const list = await call('GET', '/admin/transactions?limit=2');
    expect(list.status).toBe(200);
    expectDocumented('get', '/admin/transactions', list);
    const story = await call('GET', '/admin/transactions/DOC-A1');
    expect(at(story.body, 'transaction', 'state')).toBe('SUCCESS');
    // Every list of the story has items, so that their schemas are exercised too.
    for (const list of ['events', 'exchanges', 'supplierCalls', 'webhooks'])
      expect((at(story.body, list) as unknown[]).length, list).toBeGreaterThan(0);
    expectDocumented('get', '/admin/transactions/{transactionNumber}', story);
    const webhooks = await call('GET', '/admin/webhooks');
    expectDocumented('get', '/admin/webhooks', webhooks);
    const id = String(at(webhooks.body, 'items', '0', 'id'));
    const replay = await call('POST', `/admin/webhooks/${id}/replay`, { headers: { 'x-operator': 'doc' } });
    expect(replay.status).toBe(200);
    expectDocumented('post', '/admin/webhooks/{id}/replay', replay);
    const recheck = await call('POST', '/admin/transactions/DOC-A1/recheck');
    expect(recheck.status).toBe(200);
    expectDocumented('post', '/admin/transactions/{transactionNumber}/recheck', recheck);

    e.sim.nextEnding({ kind: 'stay' });
    await e.purchase('DOC-A2');
    await waitFor(async () => (await e.state('DOC-A2')) === 'PROCESSING', 5000, 'DOC-A2 PROCESSING');
    // The step that moved it to PROCESSING may still hold its lease for a moment (on PostgreSQL
    // the release is a round trip of its own): 409 BUSY, documented, and asked again.
    let resolved = await call('POST', '/admin/transactions/DOC-A2/resolve', {
      body: { outcome: 'failed', reason: 'refunded by the supplier' },
    });
    await waitFor(
      async () => {
        if (resolved.status !== 409 || at(resolved.body, 'code') !== 'BUSY') return true;
        expectDocumented('post', '/admin/transactions/{transactionNumber}/resolve', resolved);
        resolved = await call('POST', '/admin/transactions/DOC-A2/resolve', {
          body: { outcome: 'failed', reason: 'refunded by the supplier' },
        });
        return false;
      },
      5000,
      'DOC-A2 free of its step',
    );
    expect(resolved.status).toBe(200);
    expectDocumented('post', '/admin/transactions/{transactionNumber}/resolve', resolved);
    const final = await call('POST', '/admin/transactions/DOC-A2/resolve', {
      body: { outcome: 'delivered', reason: 'changed my mind' },
    });
    expect(final.status).toBe(409);
    expectDocumented('post', '/admin/transactions/{transactionNumber}/resolve', final);
    const notFlagged = await call('POST', '/admin/transactions/DOC-A2/acknowledge', {
      body: { reason: 'seen' },
    });
    expect(notFlagged.status).toBe(409);
    expectDocumented('post', '/admin/transactions/{transactionNumber}/acknowledge', notFlagged);

    const supplier = await call('GET', '/admin/supplier');
    expect(supplier.status).toBe(200);
    expectDocumented('get', '/admin/supplier', supplier);
    const refresh = await call('POST', '/admin/supplier/catalogue', {
      body: { items: [{ brand: 'MLBB', variation: 'MLBB112' }] },
    });
    expect(refresh.status).toBe(200);
    expectDocumented('post', '/admin/supplier/catalogue', refresh);

    const missing = await call('GET', '/admin/transactions/DOC-NONE');
    expect(missing.status).toBe(404);
    expectDocumented('get', '/admin/transactions/{transactionNumber}', missing);
    const bad = await call('GET', '/admin/transactions?state=DONE');
    expect(bad.status).toBe(400);
    expectDocumented('get', '/admin/transactions', bad);
    const anonymous = await call('GET', '/admin/webhooks', { token: null });
    expect(anonymous.status).toBe(401);
    expectDocumented('get', '/admin/webhooks', anonymous);
    const large = await oversized('/admin/transactions/DOC-A2/acknowledge', 128 * 1024, {
      authorization: `Bearer ${ADMIN_TOKEN}`,
    });
    expect(large.status).toBe(413);
    expectDocumented('post', '/admin/transactions/{transactionNumber}/acknowledge', large);
  });

  it('operations: probes, metrics, the document itself', async () => {
    for (const path of ['/livez', '/readyz'])
      expectDocumented('get', path, await call('GET', path, { token: null }));
    const metrics = await call('GET', '/metrics');
    expect(metrics.status).toBe(200);
    expectDocumented('get', '/metrics', metrics);
    expectDocumented('get', '/metrics', await call('GET', '/metrics', { token: null }));
    expectDocumented('get', '/openapi.json', await call('GET', '/openapi.json', { token: null }));
  });
});

describe('/docs', () => {
  it('is an HTML page under a strict CSP that loads only local assets, each served with its type', async () => {
    const res = await fetch(`${e.url}/docs`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/unsafe-eval|script-src[^;]*unsafe-inline/);
    const html = await res.text();

    // No inline script: every <script> loads a file.
    expect(html.match(/<script[^>]*>\s*<\/script>/g)?.length).toBe((html.match(/<script/g) ?? []).length);
    const references = [...html.matchAll(/<(?:script|link)\b[^>]*?\b(?:src|href)="([^"]+)"/g)].map(
      (m) => m[1] ?? '',
    );
    expect(
      references.some((r) => /^(https?:)?\/\//i.test(r)),
      references.join(' '),
    ).toBe(false);
    const local = references.filter((r) => !r.startsWith('data:'));
    const types = { css: /^text\/css/, js: /^text\/javascript/ };
    expect(local.map((r) => r.split('.').pop()).sort()).toEqual(['css', 'js', 'js']);
    for (const reference of local) {
      const url = new URL(reference, `${e.url}/docs`);
      expect(url.origin).toBe(e.url);
      const asset = await fetch(url);
      expect(asset.status, reference).toBe(200);
      const type = reference.endsWith('.css') ? types.css : types.js;
      expect(asset.headers.get('content-type'), reference).toMatch(type);
      expect(asset.headers.get('cache-control'), reference).toMatch(/max-age=\d+/);
      const body = await asset.text();
      expect(body.length, reference).toBeGreaterThan(100);
      // The page's own script fetches the document from the gateway, not from elsewhere.
      const documentUrl = /url: '([^']+)'/.exec(body)?.[1];
      if (documentUrl) {
        const doc = await fetch(new URL(documentUrl, `${e.url}/docs`));
        expect(doc.url).toBe(`${e.url}/openapi.json`);
        expect(((await doc.json()) as { openapi: string }).openapi).toBe('3.1.0');
      }
    }
  });

  it('answers an unchanged asset 304 by its ETag', async () => {
    const first = await fetch(`${e.url}/docs/assets/swagger-ui.css`);
    const etag = first.headers.get('etag');
    expect(etag).toMatch(/^".+"$/);
    await first.arrayBuffer();
    const again = await fetch(`${e.url}/docs/assets/swagger-ui.css`, {
      headers: { 'if-none-match': etag ?? '' },
    });
    expect(again.status).toBe(304);
  });

  it('serves no other name, and nothing outside its folder', async () => {
    for (const path of [
      '/docs/assets/index.html', // in swagger-ui-dist, but not on the list
      '/docs/assets/swagger-ui-bundle.js.map',
      '/docs/assets/..%2Fpackage.json',
      '/docs/assets/%2e%2e%2fpackage.json',
      '/docs/assets/constructor',
      '/docs/assets/',
    ]) {
      const res = await fetch(`${e.url}${path}`);
      expect(res.status, path).toBe(404);
      expect(await res.text(), path).not.toContain('swagger-ui-dist');
    }
  });
});
