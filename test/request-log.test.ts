import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import type { GatewayEnv } from '../src/http/env.js';
import { pathRedactor, requestLog } from '../src/http/request-log.js';
import { createLogger } from '../src/log.js';
import type { Tracer } from '../src/tracing/tracer.js';

/** A logger whose lines are kept, parsed, in `lines`. */
function loggedLines() {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      done();
    },
  });
  return { lines, logger: createLogger('info', sink) };
}

function appWithLog() {
  const { lines, logger } = loggedLines();
  const app = new Hono<GatewayEnv>();
  app.use('*', requestLog({ logger }));
  // A Razer-style answer: a Response built by hand with its headers as a plain object.
  app.get('/raw', () => new Response('{"a":1}', { status: 408, headers: { 'x-razer-signature': 's' } }));
  app.get('/json', (c) => c.json({ ok: true }));
  app.get('/stream', () => new Response(new Blob(['chunk']).stream()));
  app.get('/throws', () => {
    throw new Error('boom');
  });
  app.onError((_err, c) => c.text('failed', 500));
  return { app, lines };
}

let close: (() => Promise<void>) | null = null;
afterEach(async () => {
  await close?.();
  close = null;
});

describe('request id (X-Request-Id)', () => {
  it('is echoed without a Node response (app.request), on every kind of answer', async () => {
    const { app } = appWithLog();
    for (const path of ['/raw', '/json', '/stream', '/throws', '/missing']) {
      const res = await app.request(path, { headers: { 'x-request-id': `id-${path.slice(1)}` } });
      expect(res.headers.get('x-request-id'), path).toBe(`id-${path.slice(1)}`);
    }
  });

  it('is echoed on Node, merged with the answer’s own headers, which are kept', async () => {
    const { app } = appWithLog();
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    close = () => new Promise<void>((resolve) => server.close(() => resolve()));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const raw = await fetch(`${url}/raw`, { headers: { 'x-request-id': 'proxy-7' } });
    expect(raw.status).toBe(408);
    expect(raw.headers.get('x-request-id')).toBe('proxy-7');
    expect(raw.headers.get('x-razer-signature')).toBe('s');
    expect(await raw.text()).toBe('{"a":1}');
    for (const path of ['/json', '/stream', '/throws', '/missing']) {
      const res = await fetch(url + path);
      expect(res.headers.get('x-request-id'), path).toMatch(/^[0-9a-f-]{36}$/);
      await res.arrayBuffer();
    }
  });
});

describe('a logged path never holds a secret', () => {
  const token = 'Hook_token-0123456789';
  const redact = pathRedactor([token]);

  it.each([
    ['/mitra/webhook/Hook_token-0123456789', '/mitra/webhook/[token]'],
    ['//mitra/webhook/Hook_token-0123456789', '//mitra/webhook/[token]'],
    ['/mitra//webhook/Hook_token-0123456789', '/mitra//webhook/[token]'],
    ['/MITRA/Webhook/hook_TOKEN-0123456789', '/MITRA/Webhook/[token]'],
    // Anything after the webhook path is hidden, a wrong token too.
    ['/mitra/webhook/a-guess', '/mitra/webhook/[token]'],
    ['/mitra/webhook/%48ook_token-0123456789', '/mitra/webhook/[token]'],
    ['/x/%2548ook_token-0123456789/y', '/x/[token]/y'],
    ['/a/HOOK_TOKEN-0123456789/b/hook_token-0123456789', '/a/[token]/b/[token]'],
    ['/transaction/ABC', '/transaction/ABC'],
    // Without a secret in it, a path is logged as it came.
    ['/transaction/A%2FB', '/transaction/A%2FB'],
    // A character whose lower case is longer (İ) does not shift where the secret is cut.
    [`/${'İ'.repeat(40)}/Hook_token-0123456789`, `/${'İ'.repeat(40)}/[token]`],
    // Escaped as deep as the sender likes.
    ['/x/%25252548ook_token-0123456789', '/x/[token]'],
    ['/mitra/%77ebhook/anything', '/mitra/webhook/[token]'],
  ])('%s is logged as %s', (path, logged) => {
    expect(redact(path)).toBe(logged);
  });

  it('redacts before cutting a long path, so that no part of the secret is left at the cut', async () => {
    const { lines, logger } = loggedLines();
    const app = new Hono<GatewayEnv>();
    app.use('*', requestLog({ logger, secrets: [token] }));
    app.get('*', (c) => c.text('x', 404));
    await app.request(`/${'p'.repeat(190)}${token}`);
    await app.request(`/${token}`);
    const paths = lines.map((l) => String(l.path));
    expect(paths).toEqual([`/${'p'.repeat(190)}[token]`, '/[token]']);
  });
});

describe('the request trace (tracing on)', () => {
  it('opens one root span per Razer request and webhook, named by route, the trace id in the line; a 5xx fails it', async () => {
    const { lines, logger } = loggedLines();
    const spans: { name: string; attributes: Record<string, unknown>; failed: string | null }[] = [];
    const tracer: Tracer = {
      async request(name, attributes, run) {
        const span = { name, attributes: { ...attributes }, failed: null as string | null };
        spans.push(span);
        return run(
          {
            set: (a) => Object.assign(span.attributes, a),
            failed: (message) => {
              span.failed = message;
            },
          },
          `trace-${spans.length}`,
        );
      },
      start: () => {
        throw new Error('not used');
      },
      active: () => false,
      onRequest: () => {},
      outgoingHeaders: () => ({}),
      shutdown: async () => {},
    };
    const app = new Hono<GatewayEnv>();
    app.use('*', requestLog({ logger, tracer, secrets: ['webhook-token-0123456789'] }));
    app.get('/transaction/:n', (c) => {
      c.set('transactionNumber', c.req.param('n'));
      return c.json({}, 408);
    });
    app.post('/transaction/init', () => {
      throw new Error('boom');
    });
    app.post('/mitra/webhook/:token', (c) => c.json({}));
    app.get('/livez', (c) => c.json({}));
    app.onError((_err, c) => c.text('failed', 500));

    expect((await app.request('/transaction/T-9')).status).toBe(408);
    expect((await app.request('/transaction/init', { method: 'POST' })).status).toBe(500);
    await app.request('/mitra/webhook/webhook-token-0123456789', { method: 'POST' });
    await app.request('/livez');
    expect(spans.map((s) => [s.name, s.failed])).toEqual([
      ['GET /transaction/{transactionNumber}', null],
      ['POST /transaction/init', 'answered 500'],
      ['POST /mitra/webhook/{token}', null],
    ]);
    expect(spans[0]?.attributes).toMatchObject({
      'http.route': '/transaction/{transactionNumber}',
      'http.response.status_code': 408,
      'gateway.outcome': 'pending',
      'gateway.transaction_number': 'T-9',
    });
    expect(JSON.stringify(spans)).not.toContain('webhook-token-0123456789');
    expect(lines.map((l) => l.traceId)).toEqual(['trace-1', 'trace-2', 'trace-3', undefined]);
  });
});
