// The soak: `npm run soak -- --minutes 10 [--seed N]`. The gateway in its own process (SQLite,
// synchronous=FULL), the Mitra simulator here with the gateway's own rate limit, and the load
// from a third process. Reports whether the limit held, whether memory stayed flat, whether the
// queue drained after every burst, and each endpoint's latencies. Exit code 1 when any failed.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { rateLimitSchema } from '../../src/config/env.js';
import { EXAMPLE_MAPPING_FILE } from '../../src/config/paths.js';
import { MitraSimulator } from '../../src/sim/mitra-sim.js';
import { waitFor } from '../../test/helpers/wait.js';
import { readArgs } from '../cli-args.js';
import { ROOT, rssMb, startGateway } from './gateway.js';
import {
  CANCEL_RATE,
  CYCLE_MS,
  DUTY,
  ENDPOINTS,
  type EndpointResult,
  FLAT_BELOW_MB_PER_MIN,
  JUDGE_MEMORY_AFTER_CYCLES,
  type LoadConfig,
  type LoadResult,
  loadResultSchema,
  PEAK_FACTOR,
  QUERY_RATE,
  SUPPLIER_CAP,
} from './plan.js';
import { openCount, openStateReader } from './queue.js';
import { seeded } from './random.js';
import { cycles, drains, failures, maxInWindow, slope, summarize } from './stats.js';

const argsSchema = z.object({
  minutes: z.coerce.number().positive().default(10),
  seed: z.coerce
    .number()
    .int()
    .default(() => Date.now() % 100_000),
  /** Writes the per-second samples (t, open, queued, rss) there as CSV. */
  samples: z.string().optional(),
});
const args = readArgs(
  { minutes: { type: 'string' }, seed: { type: 'string' }, samples: { type: 'string' } },
  argsSchema,
  'usage: npm run soak -- [--minutes M] [--seed S] [--samples FILE]',
);

const RAZER = { apiId: 'soak-publisher', key: 'soak-razer-key-0001' };
const MITRA = { apiKey: 'soak-mitra-access', secretKey: 'soak-mitra-secret' };
const WEBHOOK_TOKEN = 'soak-webhook-token-0001';
const FAIL_SHARE = 0.02;

const cap = rateLimitSchema.parse(SUPPLIER_CAP);
const capPerSecond = (cap.limit * 1000) / cap.windowMs;
const durationMs = args.minutes * 60_000;
const cycleMs = Math.min(CYCLE_MS, durationMs);
const burstMs = cycleMs * DUTY;
const purchaseRate = PEAK_FACTOR * capPerSecond;
const warmUpMs = durationMs > cycleMs ? cycleMs : durationMs / 2;

const fmt = (n: number, digits = 0) =>
  Number.isFinite(n)
    ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : '-';
const s = (ms: number) => `${fmt(ms / 1000, 1)} s`;

console.log(
  `Soak: ${fmt(args.minutes, 2)} min, seed ${args.seed}, ${cpus().length} x ${cpus()[0]?.model ?? 'CPU'}, Node ${process.version}`,
);
console.log(
  `Supplier cap: ${cap.limit} calls per ${cap.windowMs} ms (${fmt(capPerSecond)}/s) as the gateway's MITRA_RATE_LIMIT=${SUPPLIER_CAP}; the simulator enforces the same limit.`,
);
console.log(
  `Offered: purchases (init, then top-up) at ${fmt(purchaseRate)}/s (${PEAK_FACTOR}x the cap) for ${s(burstMs)} of every ${s(cycleMs)} cycle (duty ${fmt(100 * DUTY, 1)} %), then none; queries ${QUERY_RATE}/s and cancels ${CANCEL_RATE}/s throughout; SKUs DIAMOND50/STEAMV50/GENSHIN60 50/30/20 %; ${fmt(100 * FAIL_SHARE)} % of orders fail at the supplier.`,
);
console.log(
  `Why bursts: ${PEAK_FACTOR}x the cap offered all the time would grow the queue ${PEAK_FACTOR - 1}x faster than it drains, so the peak is offered in bursts and the queue must drain to zero before the next one.`,
);

const dir = mkdtempSync(join(tmpdir(), 'gateway-soak-'));
const callTimes: number[] = [];
const webhookMs: number[] = [];
const webhookStatuses: Record<string, number> = {};
const sim = await MitraSimulator.start({
  ...MITRA,
  rateLimit: cap,
  balance: Number.MAX_SAFE_INTEGER,
  random: seeded(args.seed + 1),
  faults: { failAfterProcessingProbability: FAIL_SHARE },
  observer: {
    call: (_op, at) => callTimes.push(at),
    webhook: (ms, status) => {
      webhookMs.push(ms);
      const key = String(status ?? 'no answer');
      webhookStatuses[key] = (webhookStatuses[key] ?? 0) + 1;
    },
  },
});
const databasePath = join(dir, 'soak.db');
const gateway = await startGateway({
  RAZER_API_ID: RAZER.apiId,
  RAZER_API_KEY: RAZER.key,
  MITRA_API_KEY: MITRA.apiKey,
  MITRA_SECRET_KEY: MITRA.secretKey,
  MITRA_BASE_URL: sim.url,
  MITRA_WEBHOOK_TOKEN: WEBHOOK_TOKEN,
  MITRA_WEBHOOK_ALLOW_IPS: '127.0.0.1',
  MITRA_RATE_LIMIT: SUPPLIER_CAP,
  DATABASE_PATH: databasePath,
  MAPPING_FILE: EXAMPLE_MAPPING_FILE,
  PORT: '0',
  HOST: '127.0.0.1',
  LOG_LEVEL: 'info',
  // For a profile or a heap probe of the gateway alone, e.g. '--cpu-prof --cpu-prof-dir=/tmp/p'.
  ...(process.env.SOAK_GATEWAY_NODE_OPTIONS ? { NODE_OPTIONS: process.env.SOAK_GATEWAY_NODE_OPTIONS } : {}),
});
sim.webhookUrl = `${gateway.url}/mitra/webhook/${WEBHOOK_TOKEN}`;
await waitFor(
  async () => (await fetch(`${gateway.url}/readyz`).catch(() => null))?.status === 200,
  20_000,
  'the gateway to be ready (catalogue fetched)',
);
const states = openStateReader(databasePath);

interface Sample {
  t: number;
  open: number;
  queued: number;
  rss: number;
}
const samples: Sample[] = [];
let loadStart: number | null = null;
const sampler = setInterval(() => {
  if (loadStart === null) return;
  const rss = rssMb(gateway.pid);
  const byState = states.byState();
  if (rss !== null)
    samples.push({ t: performance.now() - loadStart, open: openCount(byState), queued: byState.QUEUED, rss });
}, 1000);

const loadConfig: LoadConfig = {
  url: gateway.url,
  ...RAZER,
  seed: args.seed,
  durationMs,
  cycleMs,
  burstMs,
  purchaseRate,
  queryRate: QUERY_RATE,
  cancelRate: CANCEL_RATE,
  settleMs: cycleMs / 2,
};
const load = await runLoad(loadConfig, () => {
  loadStart = performance.now();
}).catch(async (err: unknown) => {
  clearInterval(sampler);
  states.close();
  await gateway.stop();
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
  throw err;
});
clearInterval(sampler);
const endAt = loadStart === null ? 0 : performance.now() - loadStart;
const finalByState = states.byState();
const openAtEnd = openCount(finalByState);
states.close();
const exitCode = await gateway.stop();
await sim.close();
rmSync(dir, { recursive: true, force: true });
if (args.samples)
  writeFileSync(
    args.samples,
    `t_ms,open,queued,rss_mb\n${samples.map((x) => `${Math.round(x.t)},${x.open},${x.queued},${x.rss.toFixed(1)}`).join('\n')}\n`,
  );

// ---------------------------------------------------------------- figures

const plan = cycles(durationMs, cycleMs, burstMs);
const cycleDrains = drains(samples, plan);
const window = maxInWindow(callTimes, cap.windowMs);
const steady = samples.filter((x) => x.t >= warmUpMs);
const rssSlope = slope(steady.map((x) => ({ x: x.t / 60_000, y: x.rss })));
const memoryJudged = durationMs - warmUpMs >= JUDGE_MEMORY_AFTER_CYCLES * cycleMs;
const rssValues = samples.map((x) => x.rss);
const webhook = summarize(webhookMs);
const webhook5xx = Object.entries(webhookStatuses).reduce((n, [k, v]) => (/^5\d\d$/.test(k) ? n + v : n), 0);
const webhookNoAnswer = webhookStatuses['no answer'] ?? 0;
const count5xx = (r: EndpointResult) =>
  Object.entries(r.statuses).reduce((n, [k, v]) => (Number(k) >= 500 ? n + v : n), 0);
const razer5xx = ENDPOINTS.reduce((n, e) => n + count5xx(load.endpoints[e]), 0);
const razerErrors = ENDPOINTS.reduce((n, e) => n + load.endpoints[e].errors, 0);
const supplierCalls = sim.stats.calls.order + sim.stats.calls['order-status'];

console.log('');
console.log('Supplier limit');
console.log(
  `  busiest window: ${window.max} calls in ${cap.windowMs} ms (limit ${cap.limit}) over ${callTimes.length} calls; simulator rateLimited ${sim.stats.rateLimited}`,
);
console.log(
  `  calls: order ${sim.stats.calls.order}, order-status ${sim.stats.calls['order-status']}, brands ${sim.stats.calls.brands}, variations ${sim.stats.calls.variations}, balance ${sim.stats.calls.balance}`,
);

console.log('');
console.log('Queue (open = QUEUED + ORDERING + PROCESSING + UNKNOWN, sampled every second)');
for (const d of cycleDrains) {
  const c = plan[d.index];
  if (!c) continue;
  const inCycle = samples.filter((x) => x.t >= c.start && x.t < c.end);
  const queuedPeak = Math.max(0, ...inCycle.map((x) => x.queued));
  const rssLow = Math.min(...inCycle.map((x) => x.rss));
  const rssPeak = Math.max(...inCycle.map((x) => x.rss));
  console.log(
    `  cycle ${d.index + 1} (${s(c.start)}-${s(c.end)}): peak open ${d.peak} (QUEUED ${queuedPeak}) at +${d.peakAt === null ? '-' : s(d.peakAt - c.start)}, ${d.drainedAt === null ? 'NOT drained before the cycle ended' : `drained to 0 at +${s(d.drainedAt - c.start)}`}; RSS ${fmt(rssLow, 1)}-${fmt(rssPeak, 1)} MB`,
  );
}
console.log(`  at the end (+${s(endAt)}): open ${openAtEnd}`);

console.log('');
console.log('Memory (gateway VmRSS, sampled every second)');
console.log(
  `  start ${fmt(rssValues[0] ?? Number.NaN, 1)} MB, end ${fmt(rssValues.at(-1) ?? Number.NaN, 1)} MB, max ${fmt(Math.max(...rssValues), 1)} MB; least-squares slope after the ${s(warmUpMs)} warm-up: ${fmt(rssSlope, 2)} MB/min over ${steady.length} samples`,
);
console.log(
  `  flat means a slope below ${FLAT_BELOW_MB_PER_MIN} MB/min: growing that fast is ${fmt((FLAT_BELOW_MB_PER_MIN * 60 * 24) / 1024, 1)} GB a day, while the GC's sawtooth moves a slope over ${JUDGE_MEMORY_AFTER_CYCLES}+ cycles by a few tenths of it`,
);
if (!memoryJudged)
  console.log(
    `  NOT JUDGED: needs ${JUDGE_MEMORY_AFTER_CYCLES} whole cycles after the warm-up (${fmt((warmUpMs + JUDGE_MEMORY_AFTER_CYCLES * cycleMs) / 60_000, 1)} min or more); over fewer, the slope mostly says when the GC ran`,
  );

console.log('');
console.log('Latency per endpoint (ms; Razer side from the load process, webhook from the simulator)');
console.log('| endpoint | count | p50 | p99 | max (sent at) | answers | no answer |');
console.log('|---|---|---|---|---|---|---|');
for (const e of ENDPOINTS) {
  const r = load.endpoints[e];
  const answers = Object.entries(r.statuses)
    .map(([k, v]) => `${k}: ${v}`)
    .join(', ');
  console.log(
    `| ${e} | ${r.count} | ${fmt(r.p50, 1)} | ${fmt(r.p99, 1)} | ${fmt(r.max, 1)} (+${s(r.slowestAt)}) | ${answers} | ${r.errors} |`,
  );
}
const webhookAnswers = Object.entries(webhookStatuses)
  .map(([k, v]) => `${k}: ${v}`)
  .join(', ');
console.log(
  `| webhook | ${webhook.count} | ${fmt(webhook.p50, 1)} | ${fmt(webhook.p99, 1)} | ${fmt(webhook.max, 1)} | ${webhookAnswers} | ${webhookNoAnswer} |`,
);
console.log(
  `  top-ups that wait in the queue answer 408 after TOPUP_WAIT_MS (15 s), so the top-up's p99 is that wait by design.`,
);

console.log('');
console.log('Purchases');
const p = load.purchases;
console.log(
  `  offered ${p.offered}, refused at init ${p.initRefused}, top-up answered ${p.answered}; final answers: delivered (200) ${p.delivered}, not delivered (400) ${p.notDelivered}, still open ${p.openAtEnd}`,
);
console.log(
  `  gateway states at the end: ${Object.entries(finalByState)
    .filter(([, v]) => v > 0)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')}`,
);
console.log(
  `  supplier calls per delivered transaction: ${fmt(supplierCalls / finalByState.SUCCESS, 2)} (${supplierCalls} order + order-status calls, ${finalByState.SUCCESS} SUCCESS)`,
);
console.log(
  `  cancels: ${load.cancels.fresh} of fresh inits, ${load.cancels.ofDelivered} of delivered purchases, ${load.cancels.unexpected} unexpected answers; contradictions ${load.contradictions}; unsigned answers ${load.unsignedAnswers}`,
);
console.log(
  `  errors: ${razer5xx} Razer 5xx, ${razerErrors} Razer requests without an answer, ${webhook5xx} webhook 5xx, ${webhookNoAnswer} webhooks without an answer; gateway error log lines ${gateway.errorLines.length}; gateway exit code ${exitCode}; load process CPU ${fmt(load.clientCpu)} % of a core`,
);
for (const line of gateway.errorLines.slice(0, 5)) console.log(`    ${line.slice(0, 300)}`);

const failed = failures({
  limit: cap.limit,
  maxInWindow: window.max,
  rateLimited: sim.stats.rateLimited,
  undrainedCycles: cycleDrains.filter((d) => d.drainedAt === null).map((d) => d.index),
  openAtEnd,
  serverErrors: razer5xx + webhook5xx,
  connectionErrors: razerErrors + webhookNoAnswer,
  contradictions: load.contradictions,
  rssSlopeMbPerMin: memoryJudged ? rssSlope : null,
  flatBelowMbPerMin: FLAT_BELOW_MB_PER_MIN,
});
console.log('');
if (failed.length === 0)
  console.log(
    `PASS: the limit was never exceeded, the queue drained after every burst and at the end, no 5xx, ${memoryJudged ? 'memory flat' : 'memory not judged (run too short)'}.`,
  );
else for (const f of failed) console.log(`FAIL: ${f}`);
process.exitCode = failed.length === 0 ? 0 : 1;

/** The load process (tsx, as this one); `started` when its clock starts. */
function runLoad(config: LoadConfig, started: () => void): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/soak/load.ts', JSON.stringify(config)], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let last = '';
    if (child.stdout)
      createInterface({ input: child.stdout }).on('line', (line) => {
        if (line === '{"event":"start"}') started();
        else last = line;
      });
    child.once('exit', (code) => {
      try {
        if (code !== 0) throw new Error(`load process exited ${code}`);
        resolve(loadResultSchema.parse(JSON.parse(last)));
      } catch (err) {
        reject(err);
      }
    });
  });
}
