import { createServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signatureHeader } from '../../src/razer/signature.js';
import { requestSignedContent } from '../../src/readings/razer.js';
import type { MitraSimulator } from '../../src/sim/mitra-sim.js';
import { type ChildGateway, spawnGateway } from '../helpers/child-gateway.js';
import { REQUIRED_ENV } from '../helpers/env.js';
import { startSim } from '../helpers/mitra.js';
import { API_ID, API_KEY, initBody } from '../helpers/razer.js';
import { type TempDir, tempDir } from '../helpers/storage.js';
import {
  call,
  freePort,
  type Nginx,
  nginxConf,
  type Reply,
  refusedByNginx,
  selfSignedCertificate,
  shipped,
  startNginx,
  unitEnv,
} from './tools.js';

// One machine, run for real on loopback: nginx with the SHIPPED nginx-one-machine.conf (ports,
// paths and the operators' network substituted) terminating TLS, in front of a built gateway
// with the unit's settings (HOST=127.0.0.1, TRUST_PROXY=1, METRICS_PORT) on SQLite. Nothing
// stands in front of nginx: Mitra is 127.0.0.2, a stranger 127.0.0.3, an operator 127.0.0.4,
// Razer 127.0.0.1.

const MITRA = '127.0.0.2';
const STRANGER = '127.0.0.3';
const OPERATOR = '127.0.0.4';
const TOKEN = REQUIRED_ENV.MITRA_WEBHOOK_TOKEN;
const ADMIN_TOKEN = 'one-machine-admin-token-0123456789';

let dir: TempDir;
let sim: MitraSimulator;
let relay: Server;
let gateway: ChildGateway;
let nginx: Nginx;
let site: string;
let plain: string;
const webhookStatuses: number[] = [];
/** How to stop or remove each thing started, in the order started: afterAll undoes them backwards. */
const cleanups: (() => unknown)[] = [];

/** Whether this machine has an IPv6 loopback to listen on. */
async function ipv6Loopback(): Promise<boolean> {
  const server = createNetServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(0, '::1', () => server.close(() => resolve(true)));
  });
}

beforeAll(async () => {
  dir = tempDir('gateway-one-machine-');
  cleanups.push(() => dir.remove());
  const cert = selfSignedCertificate(dir.path);
  sim = await startSim({ completeAfterMs: 100 });
  cleanups.push(() => sim.close());
  gateway = await spawnGateway(
    unitEnv(sim.url, MITRA, ADMIN_TOKEN, { DATABASE_PATH: dir.file('data/gateway.db') }),
    dir.path,
  );
  cleanups.push(() => gateway.stop());
  const metricsPort = /"metricsPort":(\d+)/.exec(gateway.output.join(''))?.[1];
  const [https, http] = [await freePort(), await freePort()];
  // IPv6 listens on ::1 where there is one, else the line goes (nginx would not start).
  const v6 = await ipv6Loopback();
  const text = shipped('nginx-one-machine.conf', [
    ['listen 443 ssl;', `listen 127.0.0.1:${https} ssl;`],
    ['listen [::]:443 ssl;', v6 ? `listen [::1]:${https} ssl;` : ''],
    ['listen 80;', `listen 127.0.0.1:${http};`],
    ['listen [::]:80;', v6 ? `listen [::1]:${http};` : ''],
    ['server 127.0.0.1:8080;', `server 127.0.0.1:${new URL(gateway.url).port};`],
    ['server 127.0.0.1:9464;', `server 127.0.0.1:${metricsPort};`],
    ['10.0.0.0/24', OPERATOR],
    ['/etc/letsencrypt/live/gateway.example.com/fullchain.pem', cert.cert],
    ['/etc/letsencrypt/live/gateway.example.com/privkey.pem', cert.key],
    ['/var/log/nginx/', `${dir.path}/`],
  ]);
  nginx = await startNginx(dir.path, nginxConf(dir.path, text), [
    { host: '127.0.0.1', port: https },
    { host: '127.0.0.1', port: http },
  ]);
  cleanups.push(() => nginx.stop());
  site = `https://127.0.0.1:${https}`;
  plain = `http://127.0.0.1:${http}`;
  // Mitra's egress: the simulator's webhooks leave from Mitra's address.
  relay = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      call(site, {
        from: MITRA,
        method: 'POST',
        path: req.url ?? '/',
        body: Buffer.concat(chunks).toString(),
      })
        .then((r) => {
          webhookStatuses.push(r.status);
          res.writeHead(r.status).end(r.text);
        })
        .catch(() => res.writeHead(502).end());
    });
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => relay.close(() => resolve())));
  sim.webhookUrl = `http://127.0.0.1:${(relay.address() as { port: number }).port}/mitra/webhook/${TOKEN}`;
}, 60_000);

afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A request signed as Razer Gold signs it, over TLS to nginx. */
function razer(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Reply> {
  const text = body === undefined ? '' : JSON.stringify(body);
  const signature = signatureHeader(
    API_ID,
    API_KEY,
    requestSignedContent('body', method, path, Buffer.from(text)),
  );
  return call(site, {
    method,
    path,
    headers: { 'x-razer-signature': signature },
    ...(method === 'POST' ? { body: text } : {}),
  });
}

const json = (r: Reply) => JSON.parse(r.text) as Record<string, unknown>;

describe('one machine: nginx-one-machine.conf in front of the gateway', () => {
  it("delivers Razer's signed init and top-up, Mitra's webhook coming back through nginx", async () => {
    const n = 'ONE:1;a=b+c..~!*';
    const init = await razer('POST', '/transaction/init', initBody(n));
    expect(init.status, init.text).toBe(200);
    expect(init.headers['x-razer-signature']).toBeDefined();
    const topup = await razer('POST', '/transaction/topup', {
      transactionNumber: n,
      transactionToken: json(init).transactionToken,
    });
    expect(topup.status, topup.text).toBe(200);
    expect(json(topup).status).toBe('SUCCESS');
    expect(webhookStatuses.length).toBeGreaterThan(0);
    expect(webhookStatuses.every((s) => s === 200)).toBe(true);
    // Plain HTTP only redirects to TLS.
    const redirect = await call(`${plain}/transaction/${n}`);
    expect(redirect.status).toBe(301);
    expect(redirect.headers.location).toBe(`https://127.0.0.1/transaction/${n}`);
    // ...but for the certificate's renewal (a file certbot writes under the webroot; none here).
    expect((await call(`${plain}/.well-known/acme-challenge/none`)).status).toBe(404);
    // A webhook over plain HTTP is refused, not redirected; a mistyped URL carrying the token,
    // over either: the access log names neither token.
    const overHttp = await call(plain, { method: 'POST', path: `/mitra/webhook/${TOKEN}`, body: '{}' });
    expect(overHttp.status).toBe(404);
    expect((await call(site, { method: 'POST', path: `/x/${TOKEN}`, body: '{}' })).status).toBe(404);
    expect((await call(plain, { method: 'POST', path: `/x/${TOKEN}`, body: '{}' })).status).toBe(301);
    const log = nginx.log('razer-gateway.access.log');
    expect(log).toContain('"POST [other]"');
    expect(log).toContain(`"GET /transaction/${n}"`);
    expect(log).not.toContain(TOKEN);
  });

  it("takes webhooks from Mitra's address only: a stranger's own X-Forwarded-For is thrown away", async () => {
    const body = JSON.stringify({ type: 'status_update', data: { ref_id: 'RG-NOT-OURS', status: 1 } });
    const webhook = (from: string, headers: Record<string, string> = {}) =>
      call(site, { from, method: 'POST', path: `/mitra/webhook/${TOKEN}`, body, headers });
    expect((await webhook(MITRA)).status).toBe(200);
    const spoofed: Record<string, string>[] = [
      {},
      { 'x-forwarded-for': MITRA },
      { 'x-forwarded-for': `${STRANGER}, ${MITRA}` },
    ];
    for (const headers of spoofed) {
      const refused = await webhook(STRANGER, headers);
      expect(refused.status, JSON.stringify(headers)).toBe(403);
      expect(json(refused).code).toBe('FORBIDDEN');
    }
    const refusedIps = gateway.output
      .join('')
      .split('\n')
      .filter((line) => line.includes('webhook refused: source address not allowed'))
      .map((line) => (JSON.parse(line) as { ip: string }).ip);
    expect(new Set(refusedIps)).toEqual(new Set([STRANGER]));
  });

  it("keeps the operators' surfaces to the operators' network, and serves the metrics scrape there", async () => {
    for (const path of [
      '/console',
      '/admin/transactions',
      '/docs',
      '/docs/',
      '/openapi.json',
      '/metrics',
      '/livez',
      '/readyz',
      '/%61dmin/transactions',
    ])
      expect(refusedByNginx(await call(site, { from: STRANGER, path })), path).toBe(true);
    const from = (path: string, headers: Record<string, string> = {}) =>
      call(site, { from: OPERATOR, path, headers });
    expect((await from('/admin/transactions', { authorization: `Bearer ${ADMIN_TOKEN}` })).status).toBe(200);
    expect((await from('/openapi.json')).status).toBe(200);
    expect((await from('/docs')).status).toBe(200);
    expect((await from('/readyz')).status).toBe(200);
    expect(refusedByNginx(await from('/console'))).toBe(false);
    // Prometheus: https://gateway.example.com/metrics from the operators' network, no token.
    const scrape = await from('/metrics');
    expect(scrape.status).toBe(200);
    expect(scrape.text).toContain('gateway_razer_requests_total');
  });
});
