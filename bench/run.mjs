// Measures the design's performance targets on this machine, in one run, with the simulator
// answering at once. Run with `npm run bench` (builds first). Prints its figures; asserts nothing.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXAMPLE_MAPPING_FILE } from '../dist/config/paths.js';
import { signRequest } from '../dist/razer/signature.js';
import { MitraSimulator } from '../dist/sim/mitra-sim.js';
import { RazerClient } from '../dist/sim/razer-client.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RAZER = { apiId: 'bench-publisher', key: 'bench-razer-key' };
const MITRA = { apiKey: 'bench-mitra-access', secretKey: 'bench-mitra-secret' };
const WEBHOOK_TOKEN = 'bench-webhook-token-0001';

/** A server in its own process (as in production), resolved once it prints its port. */
async function spawnServer(script, env = {}) {
  // BENCH_PROFILE=DIR writes a CPU profile of the gateway process there.
  const profile =
    process.env.BENCH_PROFILE && script.startsWith('dist')
      ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`]
      : [];
  const child = spawn(process.execPath, [...profile, script], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  const port = await new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const m = /"port":(\d+)[^\n]*"msg":"gateway listening"/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', () => reject(new Error(`server exited:\n${out}`)));
  });
  child.stdout.resume();
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', resolve);
        child.kill('SIGTERM');
      }),
  };
}

const DURATION_MS = Number(process.env.BENCH_SECONDS ?? 5) * 1000;
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const PURCHASES = Number(process.env.BENCH_PURCHASES ?? 2000);

const percentile = (sorted, p) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
const fmt = (n, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** Keeps `concurrency` requests in flight for DURATION_MS; returns throughput and latencies (ms). */
async function load(request, concurrency = CONCURRENCY) {
  const latencies = [];
  const end = performance.now() + DURATION_MS;
  let errors = 0;
  const worker = async () => {
    while (performance.now() < end) {
      const t = performance.now();
      const ok = await request().catch(() => false);
      latencies.push(performance.now() - t);
      if (!ok) errors++;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    rps: latencies.length / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    errors,
  };
}

async function bareHono() {
  const server = await spawnServer('bench/bare-server.mjs');
  const request = async () => {
    const res = await fetch(`${server.url}/x`);
    await res.arrayBuffer();
    return res.status === 200;
  };
  const result = { ...(await load(request)), alone: await load(request, 1) };
  await server.stop();
  return result;
}

/** The simulator here (answering at once, no limit of its own, money enough) and the gateway as `npm start` runs it. */
async function withGateway(env, run) {
  const dir = mkdtempSync(join(tmpdir(), 'gateway-bench-'));
  const sim = await MitraSimulator.start({
    ...MITRA,
    completeAfterMs: 0,
    rateLimit: null,
    balance: Number.MAX_SAFE_INTEGER,
  });
  const gateway = await spawnServer('dist/main.js', {
    RAZER_API_ID: RAZER.apiId,
    RAZER_API_KEY: RAZER.key,
    MITRA_API_KEY: MITRA.apiKey,
    MITRA_SECRET_KEY: MITRA.secretKey,
    MITRA_BASE_URL: sim.url,
    MITRA_WEBHOOK_TOKEN: WEBHOOK_TOKEN,
    MITRA_WEBHOOK_ALLOW_IPS: '127.0.0.1',
    MITRA_RATE_LIMIT: '1000000/1s',
    DATABASE_PATH: join(dir, 'bench.db'),
    MAPPING_FILE: EXAMPLE_MAPPING_FILE,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    ...env,
  });
  sim.webhookUrl = `${gateway.url}/mitra/webhook/${WEBHOOK_TOKEN}`;
  try {
    return await run({ sim, url: gateway.url, dir });
  } finally {
    await gateway.stop();
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const razerFor = (g) => new RazerClient(g.url, RAZER.apiId, RAZER.key);

const initBody = (n, i) => ({
  transactionNumber: n,
  sku: i % 2 === 0 ? 'DIAMOND50' : 'STEAMV50',
  razerId: 'RZR_bench',
  accountId: `${100000 + i}-1`,
  userIpAddress: '203.0.113.7',
  userCountryCode: 'MY',
});

async function queryPath() {
  return withGateway({}, async (g) => {
    const razer = razerFor(g);
    const init = await razer.init(initBody('BENCH-Q', 0));
    await razer.topup('BENCH-Q', init.json.transactionToken);
    const path = '/transaction/BENCH-Q';
    const header = signRequest(RAZER, 'body', 'GET', path, '');
    const request = async () => {
      const res = await fetch(g.url + path, { headers: { 'x-razer-signature': header } });
      await res.arrayBuffer();
      return res.status === 200;
    };
    return { ...(await load(request)), alone: await load(request, 1) };
  });
}

/** PURCHASES init -> top-up -> SUCCESS, CONCURRENCY at a time; supplier calls per delivery. */
async function purchases(webhooks) {
  return withGateway(webhooks ? {} : { RECONCILE_SCHEDULE_MS: '50,100,200' }, async (g) => {
    if (!webhooks) g.sim.setFaults({ webhookDropProbability: 1 });
    const razer = razerFor(g);
    let next = 0;
    let delivered = 0;
    const started = performance.now();
    const worker = async () => {
      while (next < PURCHASES) {
        const i = next++;
        const n = `BENCH-${webhooks ? 'W' : 'P'}-${i}`;
        const init = await razer.init(initBody(n, i));
        let answer = await razer.topup(n, init.json.transactionToken);
        while (answer.status === 408) answer = await razer.query(n);
        if (answer.status === 200) delivered++;
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const seconds = (performance.now() - started) / 1000;
    // Supplier calls as the simulator saw them (the catalogue fetch at start excluded).
    const calls = g.sim.stats.calls.order + g.sim.stats.calls['order-status'];
    return { tps: delivered / seconds, delivered, callsPerDelivery: calls / delivered };
  });
}

const bare = await bareHono();
const query = await queryPath();
const withHooks = await purchases(true);
const polling = await purchases(false);

const cpu = cpus()[0]?.model ?? 'unknown CPU';
console.log(
  `Benchmark: ${cpus().length} x ${cpu}, Node ${process.version}, ${CONCURRENCY} in flight, ${DURATION_MS / 1000} s per HTTP run, ${PURCHASES} purchases per run`,
);
console.log('| measure | figure | target |');
console.log('|---|---|---|');
console.log(
  `| bare Hono JSON route | ${fmt(bare.rps)} req/s, p50 ${fmt(bare.p50, 2)} ms, p99 ${fmt(bare.p99, 2)} ms | reference |`,
);
console.log(
  `| query path (signed GET /transaction/{n}) | ${fmt(query.rps)} req/s (${fmt((100 * query.rps) / bare.rps)} % of bare), p99 ${fmt(query.p99, 2)} ms | >= 50 % of bare |`,
);
console.log(
  `| query path, one request at a time | p50 ${fmt(query.alone.p50, 2)} ms, p99 ${fmt(query.alone.p99, 2)} ms; bare p99 ${fmt(bare.alone.p99, 2)} ms: added p99 ${fmt(query.alone.p99 - bare.alone.p99, 2)} ms | added p99 <= 5 ms |`,
);
console.log(
  `| init -> top-up -> SUCCESS, synchronous=FULL, webhooks | ${fmt(withHooks.tps)} transactions/s (${withHooks.delivered} delivered) | >= 333 /s |`,
);
console.log(
  `| supplier calls per delivered transaction, webhooks | ${fmt(withHooks.callsPerDelivery, 2)} | <= 2.0 |`,
);
console.log(
  `| supplier calls per delivered transaction, no webhooks | ${fmt(polling.callsPerDelivery, 2)} | <= 4.0 |`,
);
if (bare.errors || query.errors) console.log(`errors: bare ${bare.errors}, query ${query.errors}`);
