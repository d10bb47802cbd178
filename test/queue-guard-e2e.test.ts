import { afterEach, describe, expect, it } from 'vitest';
import { runProduction } from '../src/cli/serve.js';
import { loadConfig } from '../src/config/env.js';
import { type RunningGateway, startGateway } from '../src/gateway.js';
import { createLogger } from '../src/log.js';
import type { MitraSimOptions, MitraSimulator } from '../src/sim/mitra-sim.js';
import { textOf } from './helpers/console-html.js';
import { REQUIRED_ENV } from './helpers/env.js';
import { EXAMPLE_MAPPING, exampleMapping } from './helpers/mapping.js';
import { SIM_KEYS, startSim } from './helpers/mitra.js';
import { initBody, type RazerReply, send } from './helpers/razer.js';
import { TEST_DIALECT, type TempDatabase, tempDatabase, tempDir } from './helpers/storage.js';
import { waitFor } from './helpers/wait.js';

// Sell only what can be delivered, end to end against the simulator: init refuses OOS, saying
// why, when the supplier balance cannot pay or the supplier queue is too long, and never a
// top-up of a purchase initiated before. On PostgreSQL two gateways share one database (the
// queue counted is both instances'); on SQLite one gateway runs.

const INSTANCES = TEST_DIALECT === 'postgres' ? 2 : 1;
const ADMIN_TOKEN = 'admin-token-for-tests-0123456789';
/** DIAMOND50 sells MLBB112, 15,000 IDR in the simulator. */
const PRICE = 15_000;
const MAX_PRICE = 16_000;

interface Cluster {
  sim: MitraSimulator;
  gws: RunningGateway[];
  /** Every log line of every instance, parsed. */
  lines: Record<string, unknown>[];
  close(): Promise<void>;
}

let cluster: Cluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

/** `count` gateways on one new database, against one simulator that sends webhooks to the first. */
async function startCluster(
  count: number,
  env: Record<string, string>,
  simOptions: Partial<MitraSimOptions> = {},
): Promise<Cluster> {
  const sim = await startSim({ completeAfterMs: 30, ...simOptions });
  const database: TempDatabase = await tempDatabase();
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger('info', { write: (line: string) => void lines.push(JSON.parse(line)) });
  const gws: RunningGateway[] = [];
  const c: Cluster = {
    sim,
    gws,
    lines,
    async close() {
      for (const gw of gws) await gw.close();
      await sim.close();
      await database.remove();
    },
  };
  try {
    for (let i = 0; i < count; i++) {
      const parsed = loadConfig({
        ...REQUIRED_ENV,
        MITRA_API_KEY: SIM_KEYS.apiKey,
        MITRA_SECRET_KEY: SIM_KEYS.secretKey,
        MITRA_BASE_URL: sim.url,
        ...database.env,
        MAPPING_FILE: EXAMPLE_MAPPING,
        PORT: '0',
        HOST: '127.0.0.1',
        MITRA_WEBHOOK_ALLOW_IPS: '127.0.0.1',
        INSTANCE_ID: `gw-${i}`,
        ADMIN_TOKEN,
        TOPUP_WAIT_MS: '0',
        MITRA_TIMEOUT_MS: '1000',
        RECONCILE_SCHEDULE_MS: '100,200,400',
        ...env,
      });
      if (!parsed.ok) throw new Error(parsed.errors.join('\n'));
      const gw = await startGateway(parsed.value, exampleMapping(), logger, {
        reconcileTickMs: 25,
        balanceFollowMs: 50,
      });
      gws.push(gw);
      await gw.catalogueReady;
    }
    // One instance reads the balance (as the one holding the polling turn does); every other one
    // takes the reading it shared.
    await gws[0]?.balance.poll();
    await followed(c, sim.balance);
  } catch (err) {
    await c.close();
    throw err;
  }
  sim.webhookUrl = `${gws[0]?.url}/mitra/webhook/${REQUIRED_ENV.MITRA_WEBHOOK_TOKEN}`;
  return c;
}

/** Every instance judges by the balance `idr`: read by the first, shared with the others. */
async function followed(c: Cluster, idr: number) {
  for (const gw of c.gws)
    await waitFor(
      () => gw.balance.last()?.idr === idr,
      5000,
      `${gw.store.instanceId} to take balance ${idr}`,
    );
}

/** The instance the `i`-th request goes to: round robin, as a balancer would. */
const at = (c: Cluster, i: number): RunningGateway => {
  const gw = c.gws[i % c.gws.length];
  if (!gw) throw new Error('no gateway');
  return gw;
};

const init = (gw: RunningGateway, n: string, i = 0) =>
  send(gw, 'POST', '/transaction/init', initBody(n, { accountId: `${1000 + i}-12` }));
const topup = (gw: RunningGateway, n: string, token: unknown) =>
  send(gw, 'POST', '/transaction/topup', { transactionNumber: n, transactionToken: token });

async function metric(gw: RunningGateway, series: string): Promise<number> {
  const { body } = await gw.metrics.render();
  const line = body.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? Number.NaN : Number(line.slice(series.length + 1));
}

const WAIT = 'gateway_supplier_expected_wait_seconds';
const COMMITTED = 'gateway_supplier_committed_idr';
/** Inits refused OOS for `reason` (the counter's series exists from the first one). */
async function refusals(gw: RunningGateway, reason: string): Promise<number> {
  const n = await metric(gw, `gateway_init_refusals_total{code="OOS",reason="${reason}"}`);
  return Number.isNaN(n) ? 0 : n;
}

async function supplierReport(gw: RunningGateway) {
  const res = await fetch(`${gw.url}/admin/supplier`, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  expect(res.status).toBe(200);
  return (await res.json()) as {
    guards: {
      committedIdr: number;
      availableIdr: number | null;
      queuedOrders: number;
      expectedWaitSeconds: number;
      maxWaitSeconds: number | null;
    };
  };
}

/** The console's supplier page as a reader sees it (signed in). */
async function supplierPage(gw: RunningGateway): Promise<string> {
  const signIn = await fetch(`${gw.url}/console/sign-in`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: ADMIN_TOKEN, actor: 'alice' }).toString(),
    redirect: 'manual',
  });
  expect(signIn.status).toBe(303);
  const cookie = signIn.headers
    .getSetCookie()
    .map((line) => line.split(';')[0])
    .join('; ');
  const page = await fetch(`${gw.url}/console/supplier`, { headers: { cookie } });
  expect(page.status).toBe(200);
  return textOf(await page.text());
}

async function settleAll(c: Cluster, numbers: readonly string[], timeoutMs: number) {
  const store = at(c, 0).store;
  await waitFor(
    async () => {
      for (const n of numbers) if ((await store.getTransaction(n))?.state !== 'SUCCESS') return false;
      return true;
    },
    timeoutMs,
    'every purchase to be delivered',
  );
}

function expectAccepted(reply: RazerReply, what: string) {
  expect(reply.status, `${what}: ${reply.text}`).not.toBe(400);
}

describe(`queue guard (${INSTANCES} instance${INSTANCES === 1 ? '' : 's'} on ${TEST_DIALECT})`, () => {
  // 4 calls per 2 s: each slot is held 2.4 s, so an order takes 0.6 s of the budget, and a new
  // order behind 4 queued (2.4 s) waits longer than MAX_SUPPLIER_WAIT=2s.
  const BUSY = { MITRA_RATE_LIMIT: '4/2s', MAX_SUPPLIER_WAIT: '2s' };
  const RATE = { limit: 4, windowMs: 2000 };
  const BURST = 16;

  it('refuses later inits while a burst larger than the budget waits, and delivers every purchase initiated before', async () => {
    const c = await startCluster(INSTANCES, BUSY, { rateLimit: RATE });
    cluster = c;
    // Initiated before the burst, topped up while the guard refuses.
    const early = await init(at(c, 1), 'Q-EARLY', 99);
    expect(early.status).toBe(200);

    const burst = Array.from({ length: BURST }, (_, i) => `Q-${i}`);
    const inits = await Promise.all(burst.map((n, i) => init(at(c, i), n, i)));
    for (const [i, r] of inits.entries()) expect(r.status, burst[i]).toBe(200);
    const topups = await Promise.all(
      burst.map((n, i) => topup(at(c, i + 1), n, inits[i]?.json.transactionToken)),
    );
    for (const [i, r] of topups.entries()) expectAccepted(r, `top-up of ${burst[i]}`);

    // The guards read the open purchases at most once a second: each instance's figure shows the
    // queue within a second, and from then on its inits are judged by it. The metric, the
    // supplier report and /readyz's log line show the same figure.
    for (const gw of c.gws)
      await waitFor(
        async () => {
          if (!((await metric(gw, WAIT)) > 2)) return false;
          if (!((await supplierReport(gw)).guards.expectedWaitSeconds > 2)) return false;
          if ((await fetch(`${gw.url}/readyz`)).status !== 200) return false;
          const logged = c.lines.filter((l) => l.msg === 'readiness').at(-1) as
            | { details: { supplier: { expectedWaitSeconds: number } } }
            | undefined;
          return (logged?.details.supplier.expectedWaitSeconds ?? 0) > 2;
        },
        5000,
        'the expected wait to pass 2 s',
      );
    const late = await Promise.all(c.gws.map((gw, i) => init(gw, `Q-LATE-${i}`, 50 + i)));
    for (const [i, refused] of late.entries()) {
      expect(refused.status, refused.text).toBe(400);
      expect(refused.json.code).toBe('OOS');
      expect(refused.json.message).toMatch(
        /^DIAMOND50 cannot be delivered in time now: the supplier queue is too long: a new order would wait about \d+ s \(the most allowed is 2 s\)$/,
      );
      expect(await at(c, i).store.getTransaction(`Q-LATE-${i}`)).toBeUndefined();
    }
    for (const gw of c.gws) {
      expect(await refusals(gw, 'queue')).toBe(1);
      expect(await refusals(gw, 'balance')).toBe(0);

      // The same figures on the supplier page's report, and in /readyz's log line.
      const { guards } = await supplierReport(gw);
      expect(guards.maxWaitSeconds).toBe(2);
      // 0.6 s of the budget per order queued.
      expect(guards.expectedWaitSeconds).toBeCloseTo(guards.queuedOrders * 0.6, 5);
      // Not sent yet, so not priced yet: each counts at DIAMOND50's max_price.
      expect(guards.committedIdr).toBe(guards.queuedOrders * MAX_PRICE);
      expect((await fetch(`${gw.url}/readyz`)).status).toBe(200);
      const logged = c.lines.filter((l) => l.msg === 'readiness').at(-1) as {
        status: string;
        details: { supplier: Record<string, unknown> };
      };
      expect(logged.status).toBe('ready');
      expect(Object.keys(logged.details.supplier).sort()).toEqual([
        'committedIdr',
        'expectedWaitSeconds',
        'maxWaitSeconds',
        'queuedOrders',
        'unread',
      ]);
      expect(logged.details.supplier.unread).toBeNull();
      expect(logged.details.supplier.maxWaitSeconds).toBe(2);
      expect(await supplierPage(gw)).toMatch(
        /\d+ paid orders? waiting for the supplier; a new order would wait about \d+ s \(inits are refused above 2 s\)/,
      );
    }
    expect(c.lines.some((l) => String(l.msg).startsWith('init of DIAMOND50 refused: '))).toBe(true);

    // A purchase initiated before is never refused at top-up, however long the queue.
    expectAccepted(await topup(at(c, 0), 'Q-EARLY', early.json.transactionToken), 'top-up of Q-EARLY');

    await settleAll(c, [...burst, 'Q-EARLY'], 60_000);
    // The queue is gone: once the figure shows it, sales go on.
    for (const gw of c.gws) await waitFor(async () => (await metric(gw, WAIT)) === 0, 5000, 'no wait');
    expect((await init(at(c, 0), 'Q-AFTER', 70)).status).toBe(200);
    expect(c.sim.stats.rateLimited).toBe(0);
  }, 120_000);

  it('is off with MAX_SUPPLIER_WAIT=0: the same queue refuses nothing', async () => {
    const c = await startCluster(INSTANCES, { ...BUSY, MAX_SUPPLIER_WAIT: '0' }, { rateLimit: RATE });
    cluster = c;
    const burst = Array.from({ length: BURST }, (_, i) => `QO-${i}`);
    const inits = await Promise.all(burst.map((n, i) => init(at(c, i), n, i)));
    const topups = await Promise.all(
      burst.map((n, i) => topup(at(c, i + 1), n, inits[i]?.json.transactionToken)),
    );
    for (const [i, r] of topups.entries()) expectAccepted(r, `top-up of ${burst[i]}`);
    for (const gw of c.gws) {
      await waitFor(async () => (await metric(gw, WAIT)) > 2, 5000, 'the expected wait to pass 2 s');
      expect((await supplierReport(gw)).guards.maxWaitSeconds).toBeNull();
      expect(await supplierPage(gw)).toContain('(queue guard off: MAX_SUPPLIER_WAIT=0)');
    }
    for (const [i, gw] of c.gws.entries()) expect((await init(gw, `QO-LATE-${i}`, 50 + i)).status).toBe(200);
    expect(await refusals(at(c, 0), 'queue')).toBe(0);
  }, 60_000);
});

describe(`balance guard (${INSTANCES} instance${INSTANCES === 1 ? '' : 's'} on ${TEST_DIALECT})`, () => {
  it('refuses at init on every instance when the balance cannot pay, never the top-up of an earlier init', async () => {
    const c = await startCluster(INSTANCES, {});
    cluster = c;
    const early = await init(at(c, 0), 'B-EARLY', 1);
    expect(early.status).toBe(200);

    // Read by one instance only, as by the one holding the polling turn: the others judge by the
    // reading it shared.
    c.sim.balance = PRICE - 1;
    expect((await at(c, 0).balance.poll())?.idr).toBe(PRICE - 1);
    await followed(c, PRICE - 1);
    for (const [i, gw] of c.gws.entries()) {
      const refused = await init(gw, `B-LOW-${i}`, 10 + i);
      expect(refused.status).toBe(400);
      expect(refused.json).toMatchObject({
        code: 'OOS',
        message:
          'DIAMOND50 cannot be paid for now: the supplier balance is too low for it (the operator must top it up)',
      });
      expect(await refusals(gw, 'balance')).toBe(1);
      expect((await supplierReport(gw)).guards).toMatchObject({ committedIdr: 0, availableIdr: PRICE - 1 });
      expect(await supplierPage(gw)).toContain(
        'IDR 0 still to be charged by open purchases; IDR 14,999 left for new sales (a SKU priced above it is refused)',
      );
    }

    // Initiated on one instance, topped up on the other: paid for, whatever the guard says of new inits.
    c.sim.balance = 1_000_000;
    expectAccepted(await topup(at(c, 1), 'B-EARLY', early.json.transactionToken), 'top-up of B-EARLY');
    await settleAll(c, ['B-EARLY'], 10_000);
    expect(await metric(at(c, 0), COMMITTED)).toBe(0);
    // What the purchase left of it (the simulator charges each order).
    const read = await at(c, 0).balance.poll();
    expect(read?.idr).toBe(1_000_000 - PRICE);
    await followed(c, 1_000_000 - PRICE);
    expect((await init(at(c, 1), 'B-AGAIN', 20)).status).toBe(200);
  }, 60_000);
});

describe('MAX_SUPPLIER_WAIT at start', () => {
  it('refuses to start on a bad value, in one line naming it', async () => {
    const dir = tempDir();
    try {
      const err: string[] = [];
      const code = await runProduction(
        {
          env: {
            ...REQUIRED_ENV,
            MAPPING_FILE: EXAMPLE_MAPPING,
            DATABASE_PATH: dir.file('gw.db'),
            MAX_SUPPLIER_WAIT: '10',
          },
          cwd: dir.path,
          out: () => {},
          err: (l) => err.push(l),
        },
        Promise.resolve(),
      );
      expect(code).toBe(1);
      expect(err).toEqual([
        'environment: MAX_SUPPLIER_WAIT must be 0 (off) or a duration from 1s to 1d (a whole number with s, m, h or d: 90s, 10m, 1h), got "10"',
        'The gateway did not start: 1 problem. To try it without credentials, run the sandbox: npm run sandbox',
      ]);
    } finally {
      dir.remove();
    }
  });
});
