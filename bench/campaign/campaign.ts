import type { StoreSettings } from '../../src/db/open.js';
import type { CrashPoint } from '../../src/fulfilment/crash-points.js';
import type { MitraSimulator } from '../../src/sim/mitra-sim.js';
import { REQUIRED_ENV } from '../../test/helpers/env.js';
import { EXAMPLE_MAPPING } from '../../test/helpers/mapping.js';
import { SIM_KEYS, startSim } from '../../test/helpers/mitra.js';
import { Cluster } from './cluster.js';
import { drain, finishStuckOrders } from './drain.js';
import { applyFaults, clearFaults, planFaults } from './faults.js';
import { type History, Recorder } from './history.js';
import { checkHistory, type Violation } from './invariants.js';
import { RazerTraffic } from './razer.js';
import { forkRng, seededRng } from './rng.js';
import { readStored } from './snapshot.js';
import { planRound, runPurchase, transactionNumberOf } from './workload.js';

export type Adapter = 'sqlite' | 'postgres';

export interface CampaignOptions {
  adapter: Adapter;
  rounds: number;
  seed: number;
  /** The database every instance uses: the environment that selects it, and how to read it back. */
  database: { env: Record<string, string>; settings: StoreSettings };
  /** 1 on SQLite; 2 on PostgreSQL. */
  instances: number;
  /** Where the gateways run (their working directory). */
  cwd: string;
  /** How long the end may take to bring every transaction to its final answer. */
  drainTimeoutMs?: number;
  progress?: (line: string) => void;
}

export interface CampaignResult {
  adapter: Adapter;
  seed: number;
  instances: number;
  rounds: number;
  history: History;
  violations: Violation[];
  /** How many rounds switched each fault on. */
  faults: Map<string, number>;
  kills: Map<string, { sigkill: number; crashPoint: number; exited: number }>;
  /** Outputs of processes that died without being killed. */
  unexpectedExits: string[];
  sim: MitraSimulator['stats'];
  /** Still 408 at the end of the drain. */
  open: string[];
  backOffice: number;
  drainMs: number;
  elapsedMs: number;
}

/** Supplier timeout of the instances: a killed instance's row lease (2x + 1 s) runs out soon. */
const MITRA_TIMEOUT_MS = 600;
const INSTANCE_NAMES = ['A', 'B'] as const;
const CRASH_POINTS: readonly CrashPoint[] = [
  'after-queued',
  'after-ordering',
  'after-order-reply',
  'during-webhook',
];
/** How often a restarted instance carries a crash point for the next round instead of a timed kill. */
const CRASH_POINT_SHARE = 0.3;
/** A timed kill comes this long after the round starts, at most (or when its purchases are done). */
const KILL_WITHIN_MS = 700;
/** During the rounds, the back office finishes an order this long after it was placed. */
const SLOW_SUPPLIER_MS = 3000;

/**
 * The crash campaign on one database: rounds of mixed purchases under supplier faults, one
 * instance SIGKILLed per round and restarted, then every transaction driven to its final answer
 * and the recorded history checked against invariants 1-5.
 */
export async function runCampaign(o: CampaignOptions): Promise<CampaignResult> {
  const started = Date.now();
  const root = seededRng(o.seed);
  const [faultRng, planRng, killRng, pickRng, simRng] = [1, 2, 3, 4, 5].map(() => forkRng(root));
  if (!faultRng || !planRng || !killRng || !pickRng || !simRng) throw new Error('no generator');
  const prefix = `C${o.seed.toString(36).toUpperCase()}${o.adapter === 'sqlite' ? 'S' : 'P'}`;
  // Money enough for any number of rounds: an empty balance would refuse every order (rc 25).
  const sim = await startSim({ completeAfterMs: 50, rateLimit: null, balance: 1e15, random: simRng.next });
  const recorder = new Recorder();
  let crashes = true;
  const cluster = new Cluster({
    names: INSTANCE_NAMES.slice(0, o.instances),
    cwd: o.cwd,
    recorder,
    env: (name) => ({
      ...REQUIRED_ENV,
      ...o.database.env,
      MITRA_API_KEY: SIM_KEYS.apiKey,
      MITRA_SECRET_KEY: SIM_KEYS.secretKey,
      MITRA_BASE_URL: sim.url,
      MAPPING_FILE: EXAMPLE_MAPPING,
      PORT: '0',
      HOST: '127.0.0.1',
      MITRA_WEBHOOK_ALLOW_IPS: '127.0.0.1',
      MITRA_RATE_LIMIT: '200/1s',
      // The simulator outpaces the real supplier: the webhook cap is not what is tested.
      MITRA_WEBHOOK_CAP: '1000000/1s',
      MITRA_WEBHOOK_CAP_BYTES: '1GiB',
      MITRA_TIMEOUT_MS: String(MITRA_TIMEOUT_MS),
      TOPUP_WAIT_MS: '500',
      RECONCILE_SCHEDULE_MS: '100,200,400,800',
      INSTANCE_ID: `campaign-${name}`,
      LOG_LEVEL: 'info',
    }),
    crashPlan: (_name, round) =>
      crashes && round <= o.rounds && killRng.chance(CRASH_POINT_SHARE)
        ? { point: killRng.pick(CRASH_POINTS), on: transactionNumberOf(prefix, round, 0) }
        : null,
    webhookBase: (url) => {
      sim.webhookUrl = `${url}/mitra/webhook/${REQUIRED_ENV.MITRA_WEBHOOK_TOKEN}`;
    },
  });
  const razer = new RazerTraffic({
    recorder,
    credential: { apiId: REQUIRED_ENV.RAZER_API_ID, key: REQUIRED_ENV.RAZER_API_KEY },
    pick: (preferred) => cluster.pick(pickRng.next, preferred),
  });
  const faults = new Map<string, number>();
  const account = { next: 0 };
  let backOffice = 0;
  try {
    await cluster.start();
    for (let round = 1; round <= o.rounds; round++) {
      cluster.round = round;
      const plan = planFaults(faultRng);
      for (const name of plan.names) faults.set(name, (faults.get(name) ?? 0) + 1);
      applyFaults(sim, plan);
      // A slow supplier, not a dead one: what never ended (or came without its code) does, later.
      backOffice += finishStuckOrders(sim, Date.now(), SLOW_SUPPLIER_MS);
      await cluster.ensureUp();
      const firstNumber = transactionNumberOf(prefix, round, 0);
      const crashing = cluster.live().find((i) => i.crash?.on === firstNumber);
      const purchases = planRound(planRng, round, prefix, account, crashing?.name ?? null);
      recorder.purchases.push(
        ...purchases.map(({ transactionNumber, sku, voucher, plan: script }) => ({
          transactionNumber,
          round,
          sku,
          voucher,
          plan: script,
        })),
      );
      const work = Promise.all(purchases.map((p) => runPurchase(p, razer)));
      const killAt = killRng.int(0, KILL_WITHIN_MS);
      const killer = crashing
        ? work
        : Promise.race([new Promise((resolve) => setTimeout(resolve, killAt)), work]).then(async () => {
            const up = cluster.live();
            const victim = up[Math.floor(killRng.next() * up.length)];
            if (victim) await cluster.kill(victim.name);
          });
      await Promise.all([work, killer]);
      // A crash point its purchase never reached: killed now, so that no plan outlives its round.
      const unreached = crashing && cluster.live().find((i) => i.crash?.on === firstNumber);
      if (unreached) await cluster.kill(unreached.name);
      if (o.progress && (round % 50 === 0 || round === o.rounds))
        o.progress(
          `${o.adapter}: round ${round}/${o.rounds}, ${recorder.purchases.length} transactions, ${sim.orders.length} orders, ${Math.round((Date.now() - started) / 1000)} s`,
        );
    }

    crashes = false;
    clearFaults(sim);
    cluster.round = o.rounds + 1;
    await cluster.ensureUp();
    const drained = await drain({
      sim,
      razer,
      transactions: recorder.purchases.map((p) => p.transactionNumber),
      round: o.rounds + 1,
      timeoutMs: o.drainTimeoutMs ?? 60_000 + 2 * MITRA_TIMEOUT_MS,
    });
    await cluster.stop();
    const stored = await readStored(o.database.settings);
    const history = recorder.finish({
      orders: sim.orders.map((order) => ({
        trxCode: order.trxCode,
        refId: order.refId,
        status: order.status,
        voucherCode: order.voucherCode,
        sn: order.sn,
        history: order.history.map((h) => ({ ...h })),
      })),
      attempts: sim.createAttempts.map((a) => ({ ...a })),
      stored,
    });
    return {
      adapter: o.adapter,
      seed: o.seed,
      instances: o.instances,
      rounds: o.rounds,
      history,
      violations: checkHistory(history),
      faults,
      kills: cluster.kills,
      unexpectedExits: cluster.unexpectedExits.map((e) => `${e.name}: ${e.output}`),
      sim: structuredClone(sim.stats),
      open: drained.open,
      backOffice: backOffice + drained.backOffice,
      drainMs: drained.ms,
      elapsedMs: Date.now() - started,
    };
  } finally {
    await cluster.stop();
    await sim.close();
  }
}
