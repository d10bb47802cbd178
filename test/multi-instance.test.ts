import { afterEach, describe, expect, it } from 'vitest';
import { PostgresStore } from '../src/db/postgres/store.js';
import { SEEN_SUCCESS as ORDER_STATUS_SUCCESS } from '../src/readings/settings.js';
import type { MitraSimulator } from '../src/sim/mitra-sim.js';
import { type Balancer, startBalancer } from './helpers/balancer.js';
import { type ChildGateway, spawnGateway } from './helpers/child-gateway.js';
import { REQUIRED_ENV } from './helpers/env.js';
import { T0, transactionRow } from './helpers/fixtures.js';
import { EXAMPLE_MAPPING } from './helpers/mapping.js';
import { SIM_KEYS, startSim } from './helpers/mitra.js';
import { initBody, type RazerReply, send } from './helpers/razer.js';
import { type TempDatabase, type TempDir, tempDatabase, tempDir, tempStore } from './helpers/storage.js';
import { waitFor } from './helpers/wait.js';

// Two gateway processes on one PostgreSQL behind a load balancer, a mixed workload with
// supplier faults, and one of them SIGKILLed mid-flight. (PostgreSQL project only.)

const RATE = { limit: 5, windowMs: 1000 };

let sim: MitraSimulator | undefined;
let database: TempDatabase | undefined;
let dir: TempDir | undefined;
let balancer: Balancer | undefined;
const children: ChildGateway[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) await c.stop();
  await balancer?.close();
  await sim?.close();
  await database?.remove();
  dir?.remove();
});

/** A small deterministic generator (mulberry32): the same run for the same seed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Kind = 'topup' | 'voucher' | 'option' | 'cancel' | 'abandon';

interface Answer {
  endpoint: 'topup' | 'query' | 'cancel';
  status: number;
  code: string | null;
}

/** Razer's side: a request sent again while the balancer says the backend died (502) or the connection broke. */
async function razer(url: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<RazerReply> {
  for (let i = 0; ; i++) {
    try {
      const reply = await send({ url }, method, path, body);
      if (reply.status !== 502 || i >= 20) return reply;
    } catch (err) {
      if (i >= 20) throw err;
    }
  }
}

const codeOf = (r: RazerReply): string | null => {
  const code = r.json.code ?? r.json.status;
  return typeof code === 'string' ? code : null;
};

describe('two instances on one PostgreSQL, one killed mid-flight', () => {
  it('finishes every transaction with one order each, never contradicts an answer, and keeps the shared rate limit', async () => {
    const random = seeded(Number(process.env.MULTI_SEED ?? Date.now() % 100_000));
    database = await tempDatabase();
    dir = tempDir();
    sim = await startSim({
      completeAfterMs: 60,
      rateLimit: RATE,
      random,
      faults: {
        http500Probability: 0.05,
        dropReplyAfterCreateProbability: 0.08,
        hangProbability: 0.03,
        failAfterProcessingProbability: 0.1,
        refundAfterProcessingProbability: 0.05,
        webhookDropProbability: 0.2,
        webhookDuplicateProbability: 0.2,
        webhookReorderWindowMs: 30,
      },
    });
    const env = (instance: string): Record<string, string> => ({
      ...REQUIRED_ENV,
      ...database?.env,
      MITRA_API_KEY: SIM_KEYS.apiKey,
      MITRA_SECRET_KEY: SIM_KEYS.secretKey,
      MITRA_BASE_URL: sim?.url ?? '',
      MAPPING_FILE: EXAMPLE_MAPPING,
      PORT: '0',
      HOST: '127.0.0.1',
      MITRA_WEBHOOK_ALLOW_IPS: '127.0.0.1',
      TRUST_PROXY: '1',
      MITRA_RATE_LIMIT: `${RATE.limit}/${RATE.windowMs}ms`,
      TOPUP_WAIT_MS: '1500',
      MITRA_TIMEOUT_MS: '800',
      RECONCILE_SCHEDULE_MS: '150,300,600',
      INSTANCE_ID: instance,
      ...(process.env.MULTI_SCOPE ? { MITRA_RATE_LIMIT_SCOPE: process.env.MULTI_SCOPE } : {}),
      LOG_LEVEL: process.env.MULTI_LOG ?? 'info',
    });
    const a = await spawnGateway(env('gw-a'), dir.path);
    children.push(a);
    const b = await spawnGateway(env('gw-b'), dir.path);
    children.push(b);
    balancer = await startBalancer([a.url, b.url]);
    sim.webhookUrl = `${balancer.url}/mitra/webhook/${REQUIRED_ENV.MITRA_WEBHOOK_TOKEN}`;
    const lb = balancer.url;

    const kinds: Kind[] = ['topup', 'topup', 'topup', 'voucher', 'option', 'cancel', 'abandon'];
    const plan = Array.from({ length: 36 }, (_, i) => ({
      n: `MI${String(i).padStart(3, '0')}${Math.floor(random() * 1e6)}`,
      kind: kinds[Math.floor(random() * kinds.length)] ?? 'topup',
      account: i,
    }));
    const answers = new Map<string, Answer[]>();
    const note = (n: string, endpoint: Answer['endpoint'], r: RazerReply) => {
      const list = answers.get(n) ?? [];
      list.push({ endpoint, status: r.status, code: codeOf(r) });
      answers.set(n, list);
    };

    const killAfter = 10 + Math.floor(random() * 10);
    let started = 0;
    let killed: Promise<void> | null = null;
    const run = async (p: (typeof plan)[number]) => {
      started++;
      if (started === killAfter) {
        // The one killed is chosen at random; the balancer learns of it from refused connections.
        const victim = random() < 0.5 ? a : b;
        killed = victim.kill();
      }
      const over =
        p.kind === 'voucher'
          ? { sku: 'STEAMV50', accountId: `buyer${p.account}` }
          : p.kind === 'option'
            ? {
                sku: 'GENSHIN60',
                accountId: `8${String(p.account).padStart(8, '0')}`,
                customParam: { serverId: 'Asia' },
              }
            : { accountId: `${100000 + p.account}-12` };
      const init = await razer(lb, 'POST', '/transaction/init', initBody(p.n, over));
      expect(init.status, `init ${p.n}: ${init.text}`).toBe(200);
      const token = init.json.transactionToken;
      if (p.kind === 'abandon') return;
      if (p.kind === 'cancel') {
        note(
          p.n,
          'cancel',
          await razer(lb, 'POST', '/transaction/cancel', { transactionNumber: p.n, transactionToken: token }),
        );
        return;
      }
      note(
        p.n,
        'topup',
        await razer(lb, 'POST', '/transaction/topup', { transactionNumber: p.n, transactionToken: token }),
      );
      // A repeated top-up, as Razer sends after a timeout: it must not order again.
      if (random() < 0.3)
        note(
          p.n,
          'topup',
          await razer(lb, 'POST', '/transaction/topup', { transactionNumber: p.n, transactionToken: token }),
        );
    };
    const queue = [...plan];
    await Promise.all(
      Array.from({ length: 6 }, async () => {
        for (let p = queue.shift(); p; p = queue.shift()) await run(p);
      }),
    );
    await killed;

    // Every transaction reaches a final answer through the survivor.
    for (const p of plan) {
      await waitFor(
        async () => {
          const r = await razer(lb, 'GET', `/transaction/${p.n}`);
          note(p.n, 'query', r);
          return r.status !== 408;
        },
        45_000,
        () => {
          const story = children.flatMap((c) =>
            c.output
              .join('')
              .split('\n')
              .filter((l) => l.includes(p.n) || /"level":(40|50|60)/.test(l))
              .slice(0, 30),
          );
          return `${p.n} (${p.kind}) to be final; last answers ${JSON.stringify(answers.get(p.n)?.slice(0, 3))}\n${story.join('\n')}`;
        },
      );
    }

    for (const p of plan) {
      const list = (answers.get(p.n) ?? []).filter((x) => x.endpoint !== 'cancel');
      const orders = sim.ordersFor(`RG-${p.n}`);
      expect(orders.length, `${p.n}: orders`).toBeLessThanOrEqual(1);
      const first = list.find((x) => x.status !== 408);
      expect(first, `${p.n}: a definitive answer`).toBeDefined();
      // No answer contradicts a definitive one that came before it.
      const after = list.slice(list.indexOf(first as Answer));
      for (const later of after.filter((x) => x.status !== 408)) {
        expect({ status: later.status, code: later.code }, `${p.n}: ${JSON.stringify(list)}`).toEqual({
          status: first?.status,
          code: first?.code,
        });
      }
      for (const later of after) expect(later.status, `${p.n}: 408 after a definitive answer`).not.toBe(408);
      // 200 only when delivered, by exactly one order; 400 only when nothing was delivered.
      const delivered = orders.some((o) => o.status === ORDER_STATUS_SUCCESS);
      if (first?.status === 200) {
        expect(orders).toHaveLength(1);
        expect(delivered, `${p.n}: answered 200`).toBe(true);
      } else {
        expect(first?.status, `${p.n}`).toBe(400);
        expect(delivered, `${p.n}: answered 400 but the order was delivered`).toBe(false);
      }
      if (p.kind === 'cancel' || p.kind === 'abandon') {
        const cancelled = (answers.get(p.n) ?? []).find((x) => x.endpoint === 'cancel');
        if (p.kind === 'abandon' || cancelled?.status === 200)
          expect(orders, `${p.n}: never sent`).toHaveLength(0);
      }
    }
    // Both instances called Mitra through one egress: their calls together stayed in the limit.
    expect(sim.stats.rateLimited).toBe(0);
    expect(sim.orders.length).toBeGreaterThan(0);
  }, 120_000);
});

describe('PostgreSQL: counts of repeated queries from two instances', () => {
  it('writes the audit batches of two instances that count the same transactions in other orders', async () => {
    const a = await tempStore('a');
    const url = a.database.settings.databaseUrl;
    if (!url) throw new Error('no url');
    const b = await PostgresStore.open(url, { poolSize: 5, instanceId: 'b' });
    try {
      const numbers = Array.from({ length: 40 }, (_, i) => `RVW-DL-${String(i).padStart(2, '0')}`);
      for (const n of numbers) await a.insertTransaction(transactionRow(n, 'SUCCESS'));
      const counts = (list: string[]) => list.map((n) => ({ transactionNumber: n, count: 1, lastAt: T0 }));
      // Found by review: rows updated in each instance's own order deadlocked.
      for (let round = 0; round < 3; round++) {
        const results = await Promise.allSettled([
          a.writeAudit([], [], counts(numbers)),
          b.writeAudit([], [], counts([...numbers].reverse())),
        ]);
        expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
      }
      expect((await a.getTransaction('RVW-DL-07'))?.queriesRepeated).toBe(6);
    } finally {
      await b.close();
      await a.close();
    }
  });
});
