import { writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signatureHeader } from '../src/razer/signature.js';
import { requestSignedContent } from '../src/readings/razer.js';
import type { MitraSimulator } from '../src/sim/mitra-sim.js';
import { type ChildGateway, spawnGateway } from './helpers/child-gateway.js';
import { REQUIRED_ENV } from './helpers/env.js';
import { EXAMPLE_MAPPING } from './helpers/mapping.js';
import { SIM_KEYS, startSim } from './helpers/mitra.js';
import { API_ID, API_KEY, initBody, type RazerReply, send } from './helpers/razer.js';
import { type TempDatabase, type TempDir, tempDatabase, tempDir } from './helpers/storage.js';
import { waitFor } from './helpers/wait.js';

// Tracing on, end to end: a built gateway (child process) with the standard OTEL_* variables
// exports to a small OTLP/HTTP receiver on loopback; a recording relay stands between it and
// the Mitra simulator to see the traceparent it sends.

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
  doubleValue?: number;
}
interface OtlpAttribute {
  key: string;
  value: OtlpValue;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: OtlpAttribute[];
  events?: { name: string; attributes?: OtlpAttribute[] }[];
}
interface OtlpBody {
  resourceSpans: { resource: { attributes: OtlpAttribute[] }; scopeSpans: { spans: OtlpSpan[] }[] }[];
}

interface Span {
  traceId: string;
  spanId: string;
  parent: string | null;
  name: string;
  kind: number;
  attributes: Record<string, string | number | boolean>;
  events: { name: string; attributes: Record<string, string | number | boolean> }[];
  service: string;
}

const SERVER = 2;
const CLIENT = 3;
const ADMIN_TOKEN = 'tracing-admin-token-0123456789';
const COLLECTOR_KEY = 'collector-key-5f0c2a';

function attributes(list: OtlpAttribute[] = []): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const { key, value } of list)
    out[key] = value.stringValue ?? value.boolValue ?? value.doubleValue ?? Number(value.intValue);
  return out;
}

/** An OTLP/HTTP JSON receiver: every body as received, and the spans in them. */
async function otlpReceiver() {
  const bodies: string[] = [];
  const spans: Span[] = [];
  const keys: (string | undefined)[] = [];
  const server = createServer((req, res) => {
    keys.push(req.headers['x-collector-key'] as string | undefined);
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      text += chunk;
    });
    req.on('end', () => {
      bodies.push(text);
      if (req.url === '/v1/traces') {
        const body = JSON.parse(text) as OtlpBody;
        for (const rs of body.resourceSpans) {
          const service = String(attributes(rs.resource.attributes)['service.name']);
          for (const ss of rs.scopeSpans)
            for (const s of ss.spans)
              spans.push({
                traceId: s.traceId,
                spanId: s.spanId,
                parent: s.parentSpanId ? s.parentSpanId : null,
                name: s.name,
                kind: s.kind,
                attributes: attributes(s.attributes),
                events: (s.events ?? []).map((e) => ({ name: e.name, attributes: attributes(e.attributes) })),
                service,
              });
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, bodies, spans, keys, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** Forwards every request to `target` and keeps what came in: method, path and query, headers. */
async function recordingRelay(target: string) {
  const seen: { method: string; url: string; headers: IncomingHttpHeaders }[] = [];
  const server = createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    const out = request(`${target}${req.url}`, { method: req.method, headers: req.headers }, (reply) => {
      res.writeHead(reply.statusCode ?? 502, reply.headers);
      reply.pipe(res);
    });
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, seen, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const close = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));

let sim: MitraSimulator;
let receiver: Awaited<ReturnType<typeof otlpReceiver>>;
let relay: Awaited<ReturnType<typeof recordingRelay>>;
let dir: TempDir;
let database: TempDatabase;
let gateway: ChildGateway;
/** What the test sent and received that signs something: none may be in a span. */
const signatures: string[] = [];

async function signed(method: 'GET' | 'POST', path: string, body?: unknown): Promise<RazerReply> {
  const text = body === undefined ? '' : JSON.stringify(body);
  signatures.push(
    signatureHeader(API_ID, API_KEY, requestSignedContent('body', method, path, Buffer.from(text))),
  );
  const reply = await send(gateway, method, path, body);
  if (reply.signature) signatures.push(reply.signature);
  return reply;
}

const roots = () => receiver.spans.filter((s) => s.parent === null && s.kind === SERVER);
/** The request trace of this route that answered this status. */
const rootOf = (name: string, status = 200) =>
  roots().find((s) => s.name === name && s.attributes['http.response.status_code'] === status);
const inTrace = (traceId: string) => receiver.spans.filter((s) => s.traceId === traceId);

describe('tracing (OTEL_EXPORTER_OTLP_ENDPOINT set)', () => {
  beforeAll(async () => {
    sim = await startSim({ completeAfterMs: 50 });
    receiver = await otlpReceiver();
    relay = await recordingRelay(sim.url);
    dir = tempDir('gateway-tracing-');
    database = await tempDatabase();
    writeFileSync(
      dir.file('gateway.env'),
      [
        `OTEL_EXPORTER_OTLP_ENDPOINT=${receiver.url}`,
        'OTEL_SERVICE_NAME=gateway-under-test',
        'OTEL_BSP_SCHEDULE_DELAY=50',
        `OTEL_EXPORTER_OTLP_HEADERS=x-collector-key=${COLLECTOR_KEY}`,
        '',
      ].join('\n'),
    );
    gateway = await spawnGateway(
      {
        ...REQUIRED_ENV,
        MITRA_API_KEY: SIM_KEYS.apiKey,
        MITRA_SECRET_KEY: SIM_KEYS.secretKey,
        MITRA_BASE_URL: relay.url,
        ...database.env,
        MAPPING_FILE: EXAMPLE_MAPPING,
        PORT: '0',
        HOST: '127.0.0.1',
        MITRA_WEBHOOK_ALLOW_IPS: '127.0.0.1',
        ADMIN_TOKEN,
        TOPUP_WAIT_MS: '5000',
        LOG_LEVEL: 'info',
        MITRA_TRACEPARENT: 'true',
        // As the shipped unit has them: in the settings file, which the SDK never reads itself.
        GATEWAY_ENV_FILE: dir.file('gateway.env'),
      },
      dir.path,
    );
    sim.webhookUrl = `${gateway.url}/mitra/webhook/${REQUIRED_ENV.MITRA_WEBHOOK_TOKEN}`;
    await waitFor(
      async () => (await fetch(`${gateway.url}/readyz`)).status === 200,
      15_000,
      'the gateway to be ready',
    );

    const init = await signed('POST', '/transaction/init', initBody('TRACE-1'));
    expect(init.status).toBe(200);
    const topup = await signed('POST', '/transaction/topup', {
      transactionNumber: 'TRACE-1',
      transactionToken: init.json.transactionToken,
    });
    expect(topup.status).toBe(200);
    expect((await signed('GET', '/transaction/TRACE-1')).status).toBe(200);
    // A request whose signature does not verify has its trace too.
    expect(
      (await send(gateway, 'GET', '/transaction/TRACE-1', undefined, { key: 'not-the-key' })).status,
    ).toBe(401);
    await waitFor(
      () =>
        rootOf('GET /transaction/{transactionNumber}', 401) !== undefined &&
        rootOf('GET /transaction/{transactionNumber}') !== undefined &&
        receiver.spans.some((s) => s.name === 'mitra order') &&
        receiver.spans.some((s) => s.name === 'POST /mitra/webhook/{token}'),
      15_000,
      'the spans of four requests, the order and a webhook',
    );
  }, 60_000);

  afterAll(async () => {
    await gateway?.stop();
    await sim?.close();
    await close(relay.server);
    await close(receiver.server);
    await database?.remove();
    dir?.remove();
  });

  it('makes one trace per Razer request, named by its route, with the answer and the transaction', () => {
    const init = rootOf('POST /transaction/init');
    const topup = rootOf('POST /transaction/topup');
    const query = rootOf('GET /transaction/{transactionNumber}');
    const refused = rootOf('GET /transaction/{transactionNumber}', 401);
    for (const root of [init, topup, query, refused]) expect(root).toBeDefined();
    expect(new Set([init, topup, query, refused].map((s) => s?.traceId)).size).toBe(4);
    expect(init?.service).toBe('gateway-under-test');
    expect(init?.attributes).toMatchObject({
      'http.request.method': 'POST',
      'http.route': '/transaction/init',
      'gateway.endpoint': 'init',
      'http.response.status_code': 200,
      'gateway.outcome': 'ok',
      'gateway.transaction_number': 'TRACE-1',
      'gateway.sku': 'DIAMOND50',
    });
    expect(topup?.attributes).toMatchObject({
      'gateway.outcome': 'ok',
      'gateway.transaction_number': 'TRACE-1',
      'gateway.sku': 'DIAMOND50',
    });
    // The top-up's state moves, in order, as events of its root.
    const topupMoves = (topup?.events ?? [])
      .filter((e) => e.name === 'state move')
      .map((e) => `${e.attributes.from}>${e.attributes.to}`);
    expect(topupMoves.slice(0, 2)).toEqual(['INITIATED>QUEUED', 'QUEUED>ORDERING']);
    expect(topup?.attributes['gateway.state']).toBe(topupMoves.at(-1)?.split('>')[1]);
    // The delivery is moved once, in the top-up's trace (an order delivered at once) or in the
    // webhook's (applied after its answer: a span of its trace, past its root's end).
    const webhookTraces = new Set(
      roots()
        .filter((s) => s.name === 'POST /mitra/webhook/{token}')
        .map((s) => s.traceId),
    );
    const delivered = receiver.spans.filter(
      (s) =>
        s.name === 'db moveTransaction' &&
        s.attributes['gateway.state.to'] === 'SUCCESS' &&
        s.attributes['gateway.move.applied'] === true,
    );
    expect(delivered).toHaveLength(1);
    expect(delivered[0]?.traceId === topup?.traceId || webhookTraces.has(delivered[0]?.traceId ?? '')).toBe(
      true,
    );
    expect(refused?.attributes).toMatchObject({
      'http.response.status_code': 401,
      'gateway.outcome': 'unauthorized',
    });
  });

  it('links every span to a parent in its own trace: storage steps, the wait, the order and its HTTP call', () => {
    const topup = rootOf('POST /transaction/topup');
    if (!topup) throw new Error('no top-up trace');
    const spans = inTrace(topup.traceId);
    const ids = new Set(spans.map((s) => s.spanId));
    for (const s of spans)
      if (s !== topup) expect(ids.has(s.parent ?? ''), `${s.name} has its parent in the trace`).toBe(true);
    const named = (name: string) => spans.filter((s) => s.name === name);
    const byId = new Map(spans.map((s) => [s.spanId, s]));

    const wait = named('wait for outcome');
    expect(wait).toHaveLength(1);
    expect(wait[0]?.parent).toBe(topup.spanId);
    expect(named('rate-limit wait').some((s) => s.attributes['gateway.supplier.lane'] === 'order')).toBe(
      true,
    );

    const order = named('mitra order');
    expect(order).toHaveLength(1);
    expect(order[0]?.attributes).toMatchObject({
      'gateway.supplier.operation': 'order',
      'gateway.supplier.outcome': 'accepted',
      'gateway.transaction_number': 'TRACE-1',
    });
    const http = spans.filter((s) => s.parent === order[0]?.spanId && s.name === 'HTTP POST');
    expect(http).toHaveLength(1);
    expect(http[0]?.kind).toBe(CLIENT);
    expect(http[0]?.attributes).toMatchObject({
      'http.request.method': 'POST',
      'url.path': '/v2/public/order',
      'server.address': '127.0.0.1',
      'http.response.status_code': 200,
      'gateway.supplier.outcome': 'accepted',
      'gateway.supplier.rc': '00',
    });

    const moves = named('db moveTransaction').map((s) => s.attributes);
    expect(moves).toContainEqual(
      expect.objectContaining({
        'gateway.state.from': 'QUEUED',
        'gateway.state.to': 'ORDERING',
        'gateway.move.applied': true,
        'gateway.transaction_number': 'TRACE-1',
      }),
    );
    for (const s of named('db moveTransaction'))
      expect(s.attributes['db.system.name']).toMatch(/^(sqlite|postgresql)$/);
    // Each storage step hangs under the request or under a span of it.
    expect(named('db getTransaction').every((s) => byId.has(s.parent ?? ''))).toBe(true);
  });

  it('sends the trace to Mitra in traceparent when MITRA_TRACEPARENT is on: the order names its HTTP span', () => {
    const topup = rootOf('POST /transaction/topup');
    const http = receiver.spans.find((s) => s.name === 'HTTP POST' && s.traceId === topup?.traceId);
    const order = relay.seen.find((r) => r.method === 'POST' && r.url.startsWith('/v2/public/order'));
    expect(order?.headers.traceparent).toBe(`00-${topup?.traceId}-${http?.spanId}-01`);
  });

  it('puts the trace id in the request log line', () => {
    const lines = gateway.output
      .join('')
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const topupLine = lines.find((l) => l.msg === 'request' && l.endpoint === 'topup');
    expect(topupLine?.traceId).toBe(rootOf('POST /transaction/topup')?.traceId);
    expect(lines.find((l) => l.msg === 'tracing on: OpenTelemetry traces over OTLP/HTTP')).toMatchObject({
      endpoint: `${receiver.url}/v1/traces`,
      traceparentToMitra: true,
    });
  });

  it('carries no secret, token or signature in any span', () => {
    const everything = receiver.bodies.join('\n');
    expect(receiver.spans.some((s) => s.name === 'POST /mitra/webhook/{token}')).toBe(true);
    const mitraSigns = relay.seen
      .map((r) => new URL(r.url, 'http://x').searchParams.get('sign') ?? '')
      .filter(Boolean);
    expect(mitraSigns.length).toBeGreaterThan(0);
    // The collector's key, from the settings file, went with every export and into no span.
    expect(new Set(receiver.keys)).toEqual(new Set([COLLECTOR_KEY]));
    const secrets = [
      COLLECTOR_KEY,
      REQUIRED_ENV.RAZER_API_KEY,
      REQUIRED_ENV.MITRA_WEBHOOK_TOKEN,
      SIM_KEYS.apiKey,
      SIM_KEYS.secretKey,
      ADMIN_TOKEN,
      ...signatures,
      ...mitraSigns,
    ];
    expect(signatures.length).toBeGreaterThanOrEqual(6);
    for (const secret of secrets) {
      expect(everything).not.toContain(secret);
      expect(everything).not.toContain(encodeURIComponent(secret));
    }
    expect(everything).not.toMatch(/Bearer|sign=|x-razer-signature/i);
  });
});
