import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { MitraSimulator } from '../../src/sim/mitra-sim.js';
import { type ChildGateway, spawnGateway } from '../helpers/child-gateway.js';
import { REQUIRED_ENV } from '../helpers/env.js';
import { startSim } from '../helpers/mitra.js';
import { initBody, send } from '../helpers/razer.js';
import { type TempDir, tempDir } from '../helpers/storage.js';
import { waitFor } from '../helpers/wait.js';
import {
  call,
  type DeployDatabase,
  deployDatabase,
  type Forwarder,
  forwarder,
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

// The documented topology of several instances, run for real on loopback:
//
//   Razer (127.0.0.1), Mitra (127.0.0.2), a stranger (127.0.0.3), an operator (127.0.0.4)
//     -> the load balancer: an nginx written here, standing for the operator's (it connects
//        onwards from its own address, 127.0.0.5, and appends X-Forwarded-For)
//     -> on each of two "machines", nginx running the SHIPPED nginx-behind-balancer.conf (only
//        ports, paths and the placeholder networks substituted), over TLS
//     -> on each, a built gateway with the unit's settings (HOST=127.0.0.1, TRUST_PROXY=1,
//        METRICS_PORT) on one PostgreSQL, as the role config/deploy/postgres.sql makes
//     -> Mitra's simulator, whose webhooks leave from Mitra's address through the balancer.

const RAZER = '127.0.0.1';
const MITRA = '127.0.0.2';
const STRANGER = '127.0.0.3';
const OPERATOR = '127.0.0.4';
const BALANCER = '127.0.0.5';
const ADMIN_TOKEN = 'topology-admin-token-0123456789';
const TOKEN = REQUIRED_ENV.MITRA_WEBHOOK_TOKEN;

interface Machine {
  name: string;
  gateway: ChildGateway;
  nginx: Nginx;
  /** https://127.0.0.1:<port>: this machine's nginx, as the balancer and Prometheus reach it. */
  url: string;
  /** The path to PostgreSQL of the first machine, to be cut. */
  database?: Forwarder;
}

let dir: TempDir;
let database: DeployDatabase;
let sim: MitraSimulator;
let relay: Server;
let balancer: Nginx;
let lb: string;
const machines: Machine[] = [];
/** How to stop or remove each thing started, in the order started: afterAll undoes them backwards. */
const cleanups: (() => unknown)[] = [];
/** What Mitra's webhooks were answered, through the balancer. */
const webhookStatuses: number[] = [];

/**
 * The operator's load balancer, as nginx: round robin over the machines' nginx (TLS), appending
 * X-Forwarded-For, connecting from its own address. Passive health checks: a machine whose
 * answer is an error (its gateway's storage gone: 500; its gateway down: 502 from its nginx)
 * is left out for a minute after one failure, and the request is tried on the other machine.
 * Trying a Razer POST again on the other instance is safe here (non_idempotent): each request
 * is idempotent by its transactionNumber (an init with the same body replays the first answer;
 * a repeated top-up never orders again: one order per transaction, guaranteed by its ref_id and
 * compare-and-set state moves in the shared database), and a webhook is only a trigger to ask
 * Mitra. A real balancer also checks GET /readyz actively (nginx's open-source edition cannot).
 */
function balancerSite(logDir: string, port: number, upstreams: string[]): string {
  return `
log_format balancer '$remote_addr $request_method $status upstream=$upstream_addr upstream_status=$upstream_status';
upstream machines {
${upstreams.map((u) => `    server ${u} max_fails=1 fail_timeout=60s;`).join('\n')}
}
server {
    listen 127.0.0.1:${port};
    access_log ${logDir}/balancer.access.log balancer;
    client_max_body_size 1m;
    location / {
        proxy_pass https://machines;
        proxy_bind ${BALANCER};
        proxy_ssl_verify off;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host $host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_read_timeout 30s;
        proxy_next_upstream error timeout http_500 http_502 http_503 http_504 non_idempotent;
        proxy_next_upstream_tries 2;
    }
}
`;
}

/** Mitra's egress: the simulator's webhooks, sent on from Mitra's address to the balancer. */
async function startRelay(): Promise<Server> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      call(lb, { from: MITRA, method: 'POST', path: req.url ?? '/', body: Buffer.concat(chunks).toString() })
        .then((r) => {
          webhookStatuses.push(r.status);
          res.writeHead(r.status).end(r.text);
        })
        .catch(() => res.writeHead(502).end());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

const metricsPortOf = (gateway: ChildGateway) => {
  const m = /"metricsPort":(\d+)/.exec(gateway.output.join(''));
  if (!m) throw new Error(`no metrics port in the gateway's log:\n${gateway.output.join('')}`);
  return Number(m[1]);
};

async function startMachine(name: string, databaseUrl: string, cert: { cert: string; key: string }) {
  const machineDir = tempDir(`gateway-${name}-`);
  cleanups.push(() => machineDir.remove());
  const gateway = await spawnGateway(
    unitEnv(sim.url, MITRA, ADMIN_TOKEN, { DATABASE_URL: databaseUrl, INSTANCE_ID: name }),
    machineDir.path,
  );
  cleanups.push(() => gateway.stop());
  const port = await freePort();
  const site = shipped('nginx-behind-balancer.conf', [
    ['listen 443 ssl;', `listen 127.0.0.1:${port} ssl;`],
    ['server 127.0.0.1:8080;', `server 127.0.0.1:${new URL(gateway.url).port};`],
    ['server 127.0.0.1:9464;', `server 127.0.0.1:${metricsPortOf(gateway)};`],
    ['10.0.1.0/24', BALANCER],
    ['10.0.0.0/24', OPERATOR],
    ['/etc/ssl/razer-gateway/gw-a.example.internal.crt', cert.cert],
    ['/etc/ssl/razer-gateway/gw-a.example.internal.key', cert.key],
    ['/var/log/nginx/', `${machineDir.path}/`],
  ]);
  const nginx = await startNginx(machineDir.path, nginxConf(machineDir.path, site), [
    { host: '127.0.0.1', port },
  ]);
  cleanups.push(() => nginx.stop());
  return { name, gateway, nginx, url: `https://127.0.0.1:${port}` };
}

beforeAll(async () => {
  dir = tempDir('gateway-topology-');
  cleanups.push(() => dir.remove());
  const cert = selfSignedCertificate(dir.path);
  database = await deployDatabase(inject('postgresUrl'));
  cleanups.push(() => database.drop());
  sim = await startSim({ completeAfterMs: 100 });
  cleanups.push(() => sim.close());
  relay = await startRelay();
  cleanups.push(() => new Promise<void>((resolve) => relay.close(() => resolve())));
  // The first machine reaches PostgreSQL through a path the test can cut.
  const path = await forwarder('127.0.0.1', Number(new URL(inject('postgresUrl')).port));
  cleanups.push(() => path.cut());
  machines.push({ ...(await startMachine('gw-a', database.url(path.port), cert)), database: path });
  machines.push(await startMachine('gw-b', database.url(), cert));
  const port = await freePort();
  const balancerDir = tempDir('gateway-balancer-');
  cleanups.push(() => balancerDir.remove());
  const upstreams = machines.map((m) => new URL(m.url).host);
  balancer = await startNginx(
    balancerDir.path,
    nginxConf(balancerDir.path, balancerSite(balancerDir.path, port, upstreams)),
    [{ host: '127.0.0.1', port }],
  );
  cleanups.push(() => balancer.stop());
  lb = `http://127.0.0.1:${port}`;
  sim.webhookUrl = `http://127.0.0.1:${(relay.address() as { port: number }).port}/mitra/webhook/${TOKEN}`;
}, 120_000);

afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
}, 60_000);

const json = (r: Reply) => JSON.parse(r.text) as Record<string, unknown>;
const [a, b] = [() => machines[0] as Machine, () => machines[1] as Machine];

/** Init and top-up through the balancer, signed as Razer does; the top-up's answer. */
async function purchase(n: string) {
  const init = await send({ url: lb }, 'POST', '/transaction/init', initBody(n));
  expect(init.status, `init ${n}: ${init.text}`).toBe(200);
  expect(init.signature, 'an answer to a verified request is signed').not.toBeNull();
  return send({ url: lb }, 'POST', '/transaction/topup', {
    transactionNumber: n,
    transactionToken: init.json.transactionToken,
  });
}

describe('the documented topology: balancer, nginx on each machine, two gateways on one PostgreSQL', () => {
  it("delivers Razer's signed init and top-up end to end, Mitra's webhook coming back through both layers", async () => {
    // Characters nginx could be tempted to normalise: the signature covers the target as sent.
    for (const n of ['TOPO:1;a=b+c..~!*', 'TOPO-2']) {
      const topup = await purchase(n);
      expect(topup.status, `top-up ${n}: ${topup.text}`).toBe(200);
      expect(topup.json).toMatchObject({ transactionNumber: n, status: 'SUCCESS' });
      expect(topup.signature).not.toBeNull();
      const query = await send({ url: lb }, 'GET', `/transaction/${n}?from=razer`);
      expect(query.status, query.text).toBe(200);
      expect(query.json.status).toBe('SUCCESS');
    }
    // The deliveries came as webhooks from Mitra's address, and were taken.
    expect(webhookStatuses.length).toBeGreaterThan(0);
    expect(
      webhookStatuses.every((s) => s === 200),
      JSON.stringify(webhookStatuses),
    ).toBe(true);
    // The webhook token is in no machine's access log.
    for (const m of machines) {
      const log = m.nginx.log('razer-gateway.access.log');
      expect(log).toContain('/mitra/[hidden]');
      expect(log).not.toContain(TOKEN);
    }
  });

  it("takes webhooks from Mitra's address, and refuses a stranger, also one who writes Mitra's address himself", async () => {
    const body = JSON.stringify({ type: 'status_update', data: { ref_id: 'RG-NOT-OURS', status: 1 } });
    const webhook = (url: string, from: string, headers: Record<string, string> = {}) =>
      call(url, { from, method: 'POST', path: `/mitra/webhook/${TOKEN}`, body, headers });
    // Twice each: round robin gives each instance one.
    for (let i = 0; i < 2; i++) {
      expect((await webhook(lb, MITRA)).status).toBe(200);
      const spoofed: Record<string, string>[] = [
        {},
        { 'x-forwarded-for': MITRA },
        { 'x-forwarded-for': `${MITRA}, ${MITRA}` },
      ];
      for (const headers of spoofed) {
        const refused = await webhook(lb, STRANGER, headers);
        // Refused by the gateway's allow-list (nginx let it through: the path is public).
        expect(refused.status, JSON.stringify(headers)).toBe(403);
        expect(json(refused).code).toBe('FORBIDDEN');
      }
    }
    // Straight to a machine, past the balancer: its X-Forwarded-For is never believed.
    for (const m of machines) {
      const refused = await webhook(m.url, STRANGER, { 'x-forwarded-for': MITRA });
      expect(refused.status).toBe(403);
      expect(json(refused).code).toBe('FORBIDDEN');
    }
    // Each gateway saw the stranger's own address, never the balancer's or nginx's.
    for (const m of machines) {
      const refusedIps = m.gateway.output
        .join('')
        .split('\n')
        .filter((line) => line.includes('webhook refused: source address not allowed'))
        .map((line) => (JSON.parse(line) as { ip: string }).ip);
      expect(refusedIps.length, m.name).toBeGreaterThan(0);
      expect(new Set(refusedIps), m.name).toEqual(new Set([STRANGER]));
    }
  });

  it("keeps the console, the admin API, the API description, metrics and health to the operators' network", async () => {
    const paths = [
      '/console',
      '/console/transactions',
      '/admin/transactions',
      '/docs',
      '/docs/',
      '/openapi.json',
      '/metrics',
      '/livez',
      '/readyz',
      // Other spellings of the same paths: nginx matches after decoding and normalising.
      '//admin/transactions',
      '/%61dmin/transactions',
      '/mitra/../admin/transactions',
      '/docs/../openapi.json',
    ];
    for (const path of paths) {
      const r = await call(lb, { from: STRANGER, path, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      expect(refusedByNginx(r), `${path} from a stranger: ${r.status} ${r.text.slice(0, 80)}`).toBe(true);
    }
    // nginx matches case-sensitively, as the gateway routes: another case is no surface of it.
    for (const path of ['/ADMIN/transactions', '/Console', '/DOCS', '/OpenAPI.json', '/METRICS', '/ReadyZ']) {
      const r = await call(lb, { from: STRANGER, path, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      expect(
        r.status === 404 || refusedByNginx(r),
        `${path} from a stranger: ${r.status} ${r.text.slice(0, 80)}`,
      ).toBe(true);
    }
    // Razer's own health stays open.
    expect((await call(lb, { from: STRANGER, path: '/health' })).status).toBe(200);

    // From the operators' network, through the balancer, they are the gateway's answers.
    const from = (path: string, headers: Record<string, string> = {}) =>
      call(lb, { from: OPERATOR, path, headers });
    const consolePage = await from('/console');
    expect(refusedByNginx(consolePage)).toBe(false);
    expect([200, 302, 303]).toContain(consolePage.status);
    expect((await from('/admin/transactions')).status).toBe(401);
    const listed = await from('/admin/transactions', { authorization: `Bearer ${ADMIN_TOKEN}` });
    expect(listed.status, listed.text).toBe(200);
    expect(json(listed).items).toEqual(expect.any(Array));
    const docs = await from('/docs');
    expect(docs.status).toBe(200);
    expect(docs.text).toContain('<html');
    const openapi = await from('/openapi.json');
    expect(openapi.status).toBe(200);
    expect(json(openapi).openapi).toMatch(/^3\./);
    expect((await from('/readyz')).status).toBe(200);
    expect((await from('/livez')).status).toBe(200);
    // Metrics never through the balancer: it would mix the instances.
    expect(refusedByNginx(await from('/metrics'))).toBe(true);
  });

  it('serves each instance its own metrics at the documented scrape address, to the operators only', async () => {
    for (const m of machines) {
      // Prometheus: https://<machine>/metrics from the operators' network, no token.
      const scrape = await call(`${m.url}/metrics`, { from: OPERATOR });
      expect(scrape.status, scrape.text.slice(0, 200)).toBe(200);
      expect(scrape.headers['content-type']).toMatch(/^text\/plain/);
      expect(scrape.text).toContain('gateway_razer_requests_total');
      expect(scrape.text).toContain('gateway_webhooks_total');
      for (const who of [STRANGER, BALANCER, RAZER])
        expect(refusedByNginx(await call(`${m.url}/metrics`, { from: who })), `${m.name} from ${who}`).toBe(
          true,
        );
      // The balancer's health check reaches each machine; nothing else of the operators' does.
      expect((await call(`${m.url}/readyz`, { from: BALANCER })).status).toBe(200);
      expect(refusedByNginx(await call(`${m.url}/console`, { from: BALANCER }))).toBe(true);
    }
    // Two scrapes, two instances: each counts only the requests it served itself.
    const counted = await Promise.all(
      machines.map(async (m) => (await call(`${m.url}/metrics`, { from: OPERATOR })).text),
    );
    expect(counted[0]).not.toEqual(counted[1]);
  });

  it('takes an instance out when its database is gone, keeps serving through the other, and says so on /readyz', async () => {
    await a().database?.cut();
    // The instance's own health check tells the balancer.
    let last: Reply | undefined;
    await waitFor(
      async () => {
        last = await call(`${a().url}/readyz`, { from: BALANCER });
        return last.status === 503;
      },
      20_000,
      () =>
        `the instance without its database to answer /readyz with 503; last ${last?.status} ${last?.text.slice(0, 200)}\n${a().gateway.output.join('').split('\n').slice(-30).join('\n')}`,
    );
    const readyz = await call(`${a().url}/readyz`, { from: BALANCER });
    expect(json(readyz)).toMatchObject({ status: 'not ready', checks: { storage: 'not writable' } });
    expect((await call(`${b().url}/readyz`, { from: BALANCER })).status).toBe(200);

    const before = balancer.log('balancer.access.log').split('\n').length;
    // Every purchase succeeds, whichever instance the balancer picks first.
    for (let i = 0; i < 6; i++) {
      const n = `TOPO-CUT-${i}`;
      const topup = await purchase(n);
      expect(topup.status, `top-up ${n}: ${topup.text}`).toBe(200);
      expect(topup.json.status).toBe('SUCCESS');
    }
    const after = balancer
      .log('balancer.access.log')
      .split('\n')
      .slice(before - 1)
      .filter(Boolean);
    const [addressA, addressB] = [new URL(a().url).host, new URL(b().url).host];
    // The broken instance was tried, failed, and the request went on to the other one...
    const retried = after.findIndex((line) => line.includes(`upstream=${addressA}, ${addressB}`));
    expect(retried, after.join('\n')).toBeGreaterThanOrEqual(0);
    // ...and from then on it was left out of rotation.
    expect(
      after.slice(retried + 1).some((line) => line.includes(addressA)),
      after.join('\n'),
    ).toBe(false);
    expect(after.slice(retried + 1).length).toBeGreaterThan(5);
  });
});
