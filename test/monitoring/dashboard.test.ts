import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { signatureHeader } from '../../src/razer/signature.js';
import { requestSignedContent } from '../../src/readings/razer.js';
import type { MitraSimulator } from '../../src/sim/mitra-sim.js';
import { ROOT } from '../deploy/tools.js';
import { type ChildGateway, spawnGateway } from '../helpers/child-gateway.js';
import { REQUIRED_ENV } from '../helpers/env.js';
import { EXAMPLE_MAPPING } from '../helpers/mapping.js';
import { SIM_KEYS, startSim } from '../helpers/mitra.js';
import { API_ID, API_KEY, initBody } from '../helpers/razer.js';
import { type TempDir, tempDir } from '../helpers/storage.js';
import { waitFor } from '../helpers/wait.js';
import {
  type Dashboard,
  dashboardProblems,
  failingPanelQueries,
  type Matcher,
  matchers,
  type Prometheus,
  panelQueries,
  query,
  selectors,
  selectorText,
  startPrometheus,
} from './prometheus.js';

// The shipped Grafana dashboard (config/monitoring/grafana-dashboard.json), proved against the
// real thing: a built gateway on SQLite, with the Mitra simulator, taking signed Razer Gold
// requests all along; Debian's Prometheus scraping its METRICS_PORT every second and loading the
// shipped rules (config/monitoring/alerts.yml). Every query of every panel must find series, as
// Grafana would send it with "All" instances; every rule must load healthy, each metric its
// expressions select must exist; and a dashboard with a metric renamed must be caught.

const DASHBOARD_FILE = join(ROOT, 'config', 'monitoring', 'grafana-dashboard.json');
const ALERTS_FILE = join(ROOT, 'config', 'monitoring', 'alerts.yml');
/** What stands for Grafana's $__rate_interval: 10 scrapes of 1 s, ample for rate(). */
const RATE_WINDOW_SECONDS = 10;
const RATE_WINDOW = `${RATE_WINDOW_SECONDS}s`;
/** The kinds of gateway_alert_active, each 0 while the gateway is healthy. */
const ALERT_ACTIVE_KINDS = [
  'supplier-auth',
  'low-balance',
  'stale-catalogue',
  'stale-balance',
  'open-purchases-unread',
];
/**
 * Label matchers that select what happens only in trouble, so no series match them on a healthy
 * gateway: a SKU selling through a backup variation. A rule's selector that finds nothing must
 * hold one of them, and find series without it. A 5xx answer to Razer and an init refused by the
 * balance or queue guard are not here: the gateway creates their series (status 401 and 500 of
 * each Razer endpoint, OOS balance and queue) at 0 from the start, so the rules' selectors of
 * them find series on a healthy gateway.
 */
const TROUBLE_ONLY: Matcher[] = [{ label: 'choice', op: '!=', value: 'main' }];
/** A new purchase is started this often while the test runs (if the last one is done). */
const TRAFFIC_EVERY_MS = 400;

const dashboard = JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as Dashboard;

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
}
const rules = (): Rule[] =>
  ((parse(readFileSync(ALERTS_FILE, 'utf8')) as { groups?: { rules?: Rule[] }[] }).groups ?? []).flatMap(
    (g) => g.rules ?? [],
  );
/** The scrape job the rules expect (`up{job="..."}`). */
const jobName = (): string => {
  const named = rules()
    .map((r) => /\bjob\s*=\s*"([^"]+)"/.exec(String(r.expr))?.[1])
    .filter((j): j is string => j !== undefined);
  if (named[0] === undefined) throw new Error(`${ALERTS_FILE} names no scrape job in up{job="..."}`);
  return named[0];
};

let dir: TempDir;
let sim: MitraSimulator;
let gateway: ChildGateway;
let prometheus: Prometheus;
let job: string;
const cleanups: (() => unknown)[] = [];

/** Signed like Razer Gold signs (with `key`: a wrong one makes a bad signature). */
async function razer(method: 'GET' | 'POST', path: string, body?: unknown, key = API_KEY) {
  const text = body === undefined ? '' : JSON.stringify(body);
  const signature = signatureHeader(
    API_ID,
    key,
    requestSignedContent('body', method, path, Buffer.from(text)),
  );
  const res = await fetch(`${gateway.url}${path}`, {
    method,
    headers: {
      'x-razer-signature': signature,
      ...(method === 'POST' ? { 'content-type': 'application/json' } : {}),
    },
    ...(method === 'POST' ? { body: text } : {}),
  });
  const reply = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(reply) as Record<string, unknown>;
  } catch {}
  return { status: res.status, text: reply, json };
}

let purchases = 0;
/** One purchase: init, top-up, then queries until its answer is final; throws on any surprise. */
async function purchase(): Promise<void> {
  const i = purchases++;
  const n = `DASH-${i}`;
  const body =
    i % 3 === 2
      ? initBody(n, { sku: 'STEAMV50', accountId: 'steam' })
      : initBody(n, { accountId: `${100000 + i}-12` });
  const init = await razer('POST', '/transaction/init', body);
  if (init.status !== 200) throw new Error(`init ${n}: ${init.status} ${init.text}`);
  const topup = await razer('POST', '/transaction/topup', {
    transactionNumber: n,
    transactionToken: init.json.transactionToken,
  });
  // 200 delivered; 408 still open (PENDING): the queries below wait for the outcome.
  if (topup.status !== 200 && topup.status !== 408)
    throw new Error(`topup ${n}: ${topup.status} ${topup.text}`);
  let last = { status: 0, text: '' };
  await waitFor(
    async () => {
      last = await razer('GET', `/transaction/${n}`);
      return last.status !== 408;
    },
    15_000,
    () => `${n} to be final (last answer ${last.status} ${last.text})`,
  );
  if (last.status !== 200) throw new Error(`${n} not delivered: ${last.status} ${last.text}`);
}

/** Purchases started every TRAFFIC_EVERY_MS while the test runs, one at a time; failures kept. */
const traffic = {
  timer: undefined as NodeJS.Timeout | undefined,
  current: null as Promise<void> | null,
  errors: [] as string[],
  start() {
    this.timer = setInterval(() => {
      if (this.current) return;
      this.current = purchase()
        .catch((err: Error) => void this.errors.push(err.message))
        .finally(() => (this.current = null));
    }, TRAFFIC_EVERY_MS);
  },
  async stop() {
    clearInterval(this.timer);
    await this.current;
  },
};

beforeAll(async () => {
  dir = tempDir('gateway-dashboard-');
  cleanups.push(() => dir.remove());
  sim = await startSim({ completeAfterMs: 100 });
  cleanups.push(() => sim.close());
  gateway = await spawnGateway(
    {
      ...REQUIRED_ENV,
      MITRA_API_KEY: SIM_KEYS.apiKey,
      MITRA_SECRET_KEY: SIM_KEYS.secretKey,
      MITRA_BASE_URL: sim.url,
      MAPPING_FILE: EXAMPLE_MAPPING,
      HOST: '127.0.0.1',
      PORT: '0',
      METRICS_PORT: '0',
      DATABASE_PATH: dir.file('gateway.db'),
      MITRA_WEBHOOK_ALLOW_IPS: '127.0.0.1',
      SUPPLIER_BALANCE_ALERT_IDR: '100000',
    },
    dir.path,
  );
  cleanups.push(() => gateway.stop());
  const metricsPort = /"metricsPort":(\d+)/.exec(gateway.output.join(''))?.[1];
  if (!metricsPort) throw new Error(`no metrics port in the gateway's log:\n${gateway.output.join('')}`);
  sim.webhookUrl = `${gateway.url}/mitra/webhook/${REQUIRED_ENV.MITRA_WEBHOOK_TOKEN}`;
  await waitFor(
    async () => (await fetch(`${gateway.url}/readyz`)).status === 200,
    15_000,
    () => `the gateway to be ready\n${gateway.output.join('')}`,
  );

  // Samples for every counter and histogram: purchases through to their final answer (the
  // simulator's webhooks coming back), an init refused for an unknown SKU, a bad signature.
  for (let k = 0; k < 3; k++) await purchase();
  const refused = await razer('POST', '/transaction/init', initBody('DASH-REFUSED', { sku: 'NO-SUCH-SKU' }));
  expect(refused.status, refused.text).toBe(400);
  const forged = await razer('POST', '/transaction/init', initBody('DASH-FORGED'), 'not-the-key');
  expect(forged.status, forged.text).toBe(401);
  traffic.start();
  cleanups.push(() => traffic.stop());

  job = jobName();
  prometheus = await startPrometheus(dir.path, {
    global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
    rule_files: [ALERTS_FILE],
    scrape_configs: [{ job_name: job, static_configs: [{ targets: [`127.0.0.1:${metricsPort}`] }] }],
  });
  cleanups.push(() => prometheus.stop());
  // Enough scrapes for rate() over the window: the window is (nearly) full of samples.
  let seen = 0;
  await waitFor(
    async () => {
      const [up] = await query(prometheus.url, `count_over_time(up{job="${job}"}[${RATE_WINDOW}])`);
      seen = Number(up?.value[1] ?? 0);
      return seen >= RATE_WINDOW_SECONDS - 1;
    },
    45_000,
    () => `${RATE_WINDOW_SECONDS - 1} scrapes of the gateway in ${RATE_WINDOW} (${seen} so far)`,
  );
}, 90_000);

afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('the Grafana dashboard (config/monitoring/grafana-dashboard.json)', () => {
  it(`is a dashboard Grafana imports as it is: \${datasource} everywhere, $instance in every selector`, () => {
    expect(dashboardProblems(dashboard)).toEqual([]);
    expect(panelQueries(dashboard).length).toBeGreaterThan(20);
  });

  it('reads the metric selectors of a PromQL expression, with their matchers', () => {
    const expr = [
      'count without (instance) (up{job="razer-gateway"} == 1) * 0',
      'or histogram_quantile(0.99, sum by (le, endpoint) (rate(gateway_razer_request_duration_seconds_bucket{endpoint=~"init|topup", status!="5.."}[$__rate_interval])))',
      'and on () (hour() >= 1 < 14)',
      'unless label_replace(gateway_ready offset 5m, "x", "$1", "instance", "(.*)") > 1e3',
    ].join('\n');
    const found = selectors(expr);
    expect(found.map((s) => s.text)).toEqual([
      'up{job="razer-gateway"}',
      'gateway_razer_request_duration_seconds_bucket{endpoint=~"init|topup", status!="5.."}',
      'gateway_ready',
    ]);
    expect(matchers(found[1] ?? found[0] ?? { metric: '', matchers: '', text: '', at: 0 })).toEqual([
      { label: 'endpoint', op: '=~', value: 'init|topup' },
      { label: 'status', op: '!=', value: '5..' },
    ]);
  });

  it('finds the structural mistakes it guards against', () => {
    const broken = structuredClone(dashboard);
    const [first] = (broken.panels ?? []).filter((p) => (p.targets ?? []).length > 0);
    if (!first?.targets?.[0]) throw new Error('no panel with a query');
    first.targets[0].datasource = { type: 'prometheus', uid: 'P1809F7CD0C75ACF3' };
    first.targets[0].expr = 'sum(gateway_transactions)';
    first.id = broken.panels?.[0]?.id ?? 0;
    const problems = dashboardProblems(broken).join('\n');
    expect(problems).toContain('P1809F7CD0C75ACF3');
    expect(problems).toContain('gateway_transactions does not filter instance=~"$instance"');
    expect(problems).toMatch(/panel id \d+ used 2 times/);
  });

  it('gets answers all along: purchases, the refused init, the bad signature', () => {
    expect(traffic.errors).toEqual([]);
    expect(purchases).toBeGreaterThan(3);
  });

  it("every panel's every query finds series in a Prometheus scraping the gateway", async () => {
    expect(await failingPanelQueries(prometheus.url, dashboard, RATE_WINDOW)).toEqual([]);
  });

  it("the instance variable's query lists the gateway", async () => {
    const res = await fetch(
      `${prometheus.url}/api/v1/label/instance/values?${new URLSearchParams({ 'match[]': 'gateway_razer_requests_total' })}`,
    );
    const { data } = (await res.json()) as { data: string[] };
    expect(data).toEqual([expect.stringMatching(/^127\.0\.0\.1:\d+$/)]);
  });

  it('reads the readiness gauges: gateway_ready 1, gateway_alert_active 0 for each kind', async () => {
    const ready = await query(prometheus.url, `gateway_ready{job="${job}"}`);
    expect(ready.map((s) => s.value[1])).toEqual(['1']);
    for (const kind of ALERT_ACTIVE_KINDS) {
      const active = await query(prometheus.url, `gateway_alert_active{job="${job}", kind="${kind}"}`);
      expect(
        active.map((s) => s.value[1]),
        kind,
      ).toEqual(['0']);
    }
  });

  it('reports every panel whose metric was renamed, by title and expression', async () => {
    const renamed = structuredClone(dashboard);
    const panel = (renamed.panels ?? []).find((p) => p.title === 'Mitra webhooks per minute');
    const target = panel?.targets?.[0];
    if (!target?.expr) throw new Error('no panel "Mitra webhooks per minute"');
    target.expr = target.expr.replace('gateway_webhooks_total', 'gateway_webhook_total');
    const failures = await failingPanelQueries(prometheus.url, renamed, RATE_WINDOW);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toContain('"Mitra webhooks per minute" A: no series');
    expect(failures[0]).toContain('gateway_webhook_total{instance=~".*"}');
  });
});

describe('the shipped rules (config/monitoring/alerts.yml) in the same Prometheus', () => {
  it('are shipped', () => {
    expect(existsSync(ALERTS_FILE), `${ALERTS_FILE} is missing`).toBe(true);
    expect(rules().length).toBeGreaterThan(0);
  });

  it('load, every rule evaluated with health ok and no error', async () => {
    const names = rules().map((r) => r.alert ?? r.record);
    let loaded: { name: string; health: string; lastError?: string }[] = [];
    await waitFor(
      async () => {
        const res = await fetch(`${prometheus.url}/api/v1/rules`);
        const { data } = (await res.json()) as {
          data: { groups: { rules: { name: string; health: string; lastError?: string }[] }[] };
        };
        loaded = data.groups.flatMap((g) => g.rules);
        return loaded.length === names.length && loaded.every((r) => r.health !== 'unknown');
      },
      15_000,
      () => `the ${names.length} rules to be evaluated: ${JSON.stringify(loaded)}`,
    );
    expect(loaded.map((r) => r.name).sort()).toEqual([...names].sort());
    const unhealthy = loaded.filter((r) => r.health !== 'ok' || r.lastError);
    expect(unhealthy).toEqual([]);
  });

  it('select metrics that exist: each selector of each expression finds series on its own', async () => {
    const missing: string[] = [];
    const troubleUsed = new Set<string>();
    for (const rule of rules())
      for (const s of selectors(rule.expr)) {
        if ((await query(prometheus.url, s.text)).length > 0) continue;
        const name = `${rule.alert ?? rule.record}: ${s.text}`;
        // Only what trouble makes can be missing, and the rest of the selector must match.
        const list = matchers(s);
        const trouble = list.filter((m) => TROUBLE_ONLY.some((t) => JSON.stringify(t) === JSON.stringify(m)));
        const rest = selectorText(
          s.metric,
          list.filter((m) => !trouble.includes(m)),
        );
        if (trouble.length > 0 && (await query(prometheus.url, rest)).length > 0)
          for (const t of trouble) troubleUsed.add(JSON.stringify(t));
        else missing.push(`${name} (in ${rule.expr.trim()})`);
      }
    expect(missing).toEqual([]);
    // Each matcher of TROUBLE_ONLY is still used by some rule: the list is not left stale.
    for (const t of TROUBLE_ONLY) expect(troubleUsed.has(JSON.stringify(t)), JSON.stringify(t)).toBe(true);
  });
});
