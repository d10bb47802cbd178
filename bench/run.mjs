// Measures the design's performance targets on this machine, in one run, with the simulator
// answering at once. Run with `npm run bench` (builds first). Prints its figures; asserts nothing.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXAMPLE_MAPPING_FILE } from '../dist/config/paths.js';
import { signRequest } from '../dist/razer/signature.js';
import { MitraSimulator } from '../dist/sim/mitra-sim.js';
import { RazerClient } from '../dist/sim/razer-client.js';
import { createDatabase, startPostgres } from '../test/helpers/postgres.ts';

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
    pid: child.pid,
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

const fmt = (n, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** Runs a bench script in a process of its own and returns the JSON line it prints. */
function child(script, args) {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [script, ...args.map(String)], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    proc.stdout.on('data', (chunk) => {
      out += chunk;
    });
    proc.once('exit', (code) => {
      const line = out.trim().split('\n').at(-1) ?? '';
      if (code === 0 && line.startsWith('{')) resolve(JSON.parse(line));
      else reject(new Error(`${script} exited ${code}:\n${out}`));
    });
  });
}

/** CPU seconds a process has used (user + system), from /proc. */
function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  // utime and stime are fields 14 and 15, at 11 and 12 after the command name; 100 ticks a second.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * HTTP load on one URL from its own process (bench/load.mjs): CONCURRENCY connections, then one.
 * Also the server's own CPU per request, a figure that other work on the machine disturbs less.
 */
async function load(server, path, header = []) {
  const seconds = DURATION_MS / 1000;
  const before = cpuSeconds(server.pid);
  const full = await child('bench/load.mjs', [server.url + path, CONCURRENCY, seconds, ...header]);
  const serverCpuUs = ((cpuSeconds(server.pid) - before) * 1e6) / (full.rps * seconds);
  const alone = await child('bench/load.mjs', [server.url + path, 1, seconds, ...header]);
  return { ...full, serverCpuUs, alone };
}

async function bareHono() {
  const server = await spawnServer('bench/bare-server.mjs');
  const result = await load(server, '/x');
  await server.stop();
  return result;
}

/**
 * The simulator here (answering at once, no limit of its own, money enough) and the gateway as
 * `npm start` runs it: on SQLite, or `instances` processes sharing a PostgreSQL database.
 */
async function withGateway(env, run, { postgres = null, instances = 1 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'gateway-bench-'));
  const sim = await MitraSimulator.start({
    ...MITRA,
    completeAfterMs: 0,
    rateLimit: null,
    balance: Number.MAX_SAFE_INTEGER,
  });
  const database = postgres ? await createDatabase(postgres.url) : null;
  const storage = database
    ? { DATABASE_URL: database.url, MITRA_RATE_LIMIT_SCOPE: 'instance' }
    : { DATABASE_PATH: join(dir, 'bench.db') };
  const gateways = [];
  for (let i = 0; i < instances; i++)
    gateways.push(
      await spawnServer('dist/main.js', {
        ...gatewayEnv(sim),
        ...storage,
        INSTANCE_ID: `bench-${i + 1}`,
        ...env,
      }),
    );
  const [gateway] = gateways;
  sim.webhookUrl = `${gateway.url}/mitra/webhook/${WEBHOOK_TOKEN}`;
  try {
    return await run({ sim, url: gateway.url, urls: gateways.map((g) => g.url), server: gateway, dir });
  } finally {
    for (const g of gateways) await g.stop();
    await sim.close();
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const gatewayEnv = (sim) => ({
  RAZER_API_ID: RAZER.apiId,
  RAZER_API_KEY: RAZER.key,
  MITRA_API_KEY: MITRA.apiKey,
  MITRA_SECRET_KEY: MITRA.secretKey,
  MITRA_BASE_URL: sim.url,
  MITRA_WEBHOOK_TOKEN: WEBHOOK_TOKEN,
  MITRA_WEBHOOK_ALLOW_IPS: '127.0.0.1',
  MITRA_RATE_LIMIT: '1000000/1s',
  MAPPING_FILE: EXAMPLE_MAPPING_FILE,
  PORT: '0',
  HOST: '127.0.0.1',
  LOG_LEVEL: 'info',
});

const razerFor = (g) => new RazerClient(g.url, RAZER.apiId, RAZER.key);

const initBody = (n, i) => ({
  transactionNumber: n,
  sku: i % 2 === 0 ? 'DIAMOND50' : 'STEAMV50',
  razerId: 'RZR_bench',
  accountId: `${100000 + i}-1`,
  userIpAddress: '203.0.113.7',
  userCountryCode: 'MY',
});

/** A signed query of n, as Razer polls: the delivered one (final), then one left open. */
async function queryPath() {
  return withGateway({}, async (g) => {
    const razer = razerFor(g);
    const queryOf = (n) => {
      const path = `/transaction/${n}`;
      return load(g.server, path, ['x-razer-signature', signRequest(RAZER, 'body', 'GET', path, '')]);
    };
    const init = await razer.init(initBody('BENCH-Q', 0));
    await razer.topup('BENCH-Q', init.json.transactionToken);
    const final = await queryOf('BENCH-Q');
    // The supplier keeps this order processing: every query reads the database and answers 408.
    g.sim.nextEnding({ kind: 'stay' });
    const initOpen = await razer.init(initBody('BENCH-O', 1));
    await razer.topup('BENCH-O', initOpen.json.transactionToken);
    const open = await queryOf('BENCH-O');
    return { ...final, open };
  });
}

/**
 * PURCHASES init -> top-up -> SUCCESS, CONCURRENCY at a time; supplier calls per delivery. With
 * several instances, each purchase goes to one of them in turn.
 */
async function purchases(webhooks, where = {}) {
  const env = webhooks ? {} : { RECONCILE_SCHEDULE_MS: '50,100,200' };
  return withGateway(
    env,
    async (g) => {
      if (!webhooks) g.sim.setFaults({ webhookDropProbability: 1 });
      const run = await child('bench/purchases.mjs', [
        g.urls.join(','),
        PURCHASES,
        CONCURRENCY,
        `BENCH-${webhooks ? 'W' : 'P'}`,
        RAZER.apiId,
        RAZER.key,
      ]);
      const { delivered } = run;
      // Supplier calls as the simulator saw them (the catalogue fetch at start excluded).
      const calls = g.sim.stats.calls.order + g.sim.stats.calls['order-status'];
      return {
        tps: delivered / run.seconds,
        delivered,
        callsPerDelivery: calls / delivered,
        clientCpu: run.clientCpu,
      };
    },
    where,
  );
}

// BENCH_ONLY=http measures the HTTP paths alone (a profile of the query path, say).
const httpOnly = process.env.BENCH_ONLY === 'http';
const bare = await bareHono();
const query = await queryPath();
const skipped = { tps: Number.NaN, delivered: 0, callsPerDelivery: Number.NaN, clientCpu: Number.NaN };
const withHooks = httpOnly ? skipped : await purchases(true);
const polling = httpOnly ? skipped : await purchases(false);
// PostgreSQL (fsync on, as in production): one instance, then two sharing the database.
const onPostgres = !httpOnly && process.env.BENCH_POSTGRES !== 'off';
const postgres = onPostgres ? await startPostgres({ durable: true }) : null;
const pgOne = postgres ? await purchases(true, { postgres, instances: 1 }) : skipped;
const pgTwo = postgres ? await purchases(true, { postgres, instances: 2 }) : skipped;
await postgres?.stop();

const cpu = cpus()[0]?.model ?? 'unknown CPU';
console.log(
  `Benchmark: ${cpus().length} x ${cpu}, Node ${process.version}, ${CONCURRENCY} connections (${bare.tool} in its own process, no pipelining), ${DURATION_MS / 1000} s per HTTP run, ${PURCHASES} purchases per run`,
);
console.log('| measure | figure | target |');
console.log('|---|---|---|');
console.log(
  `| bare Hono JSON route | ${fmt(bare.rps)} req/s, p50 ${fmt(bare.p50, 2)} ms, p99 ${fmt(bare.p99, 2)} ms | reference |`,
);
console.log(
  `| query path (signed GET /transaction/{n}) | ${fmt(query.rps)} req/s (${fmt((100 * query.rps) / bare.rps)} % of bare), p99 ${fmt(query.p99, 2)} ms (${fmt(query.p99 / bare.p99, 1)} x bare) | >= 50 % of bare, p99 <= 2 x bare |`,
);
console.log(
  `| query path, open transaction (408 read from the database) | ${fmt(query.open.rps)} req/s (${fmt((100 * query.open.rps) / bare.rps)} % of bare), p99 ${fmt(query.open.p99, 2)} ms | none of its own |`,
);
console.log(
  `| query path, one request at a time | p50 ${fmt(query.alone.p50, 2)} ms, p99 ${fmt(query.alone.p99, 2)} ms; bare p99 ${fmt(bare.alone.p99, 2)} ms: added p99 ${fmt(query.alone.p99 - bare.alone.p99, 2)} ms | added p99 <= 5 ms |`,
);
console.log(
  `| init -> top-up -> SUCCESS, synchronous=FULL, webhooks | ${fmt(withHooks.tps)} transactions/s (${withHooks.delivered} delivered) | >= 333 /s |`,
);
console.log(
  `| the same on PostgreSQL, one instance | ${fmt(pgOne.tps)} transactions/s (${pgOne.delivered} delivered) | >= 333 /s |`,
);
console.log(
  `| the same on PostgreSQL, two instances | ${fmt(pgTwo.tps)} transactions/s (${pgTwo.delivered} delivered) | >= 333 /s |`,
);
console.log(
  `| supplier calls per delivered transaction, webhooks | ${fmt(withHooks.callsPerDelivery, 2)} | <= 2.0 |`,
);
console.log(
  `| supplier calls per delivered transaction, no webhooks | ${fmt(polling.callsPerDelivery, 2)} | <= 4.0 |`,
);
console.log(
  `| server CPU per request (its own process) | bare ${fmt(bare.serverCpuUs, 1)} µs, query ${fmt(query.serverCpuUs, 1)} µs, open query ${fmt(query.open.serverCpuUs, 1)} µs | query <= 2 x bare for 50 % |`,
);
console.log(
  `| load generator's own CPU (one core = 100 %) | bare ${fmt(bare.clientCpu)} %, query ${fmt(query.clientCpu)} %, purchases ${fmt(withHooks.clientCpu)} % | below ~90 %, else the client limited the run |`,
);
if (bare.errors || query.errors || bare.non2xx || query.non2xx)
  console.log(
    `errors: bare ${bare.errors} (+${bare.non2xx} non-2xx), query ${query.errors} (+${query.non2xx} non-2xx)`,
  );
for (const [name, r] of [
  ['bare', bare],
  ['query', query],
])
  if (r.clientCpu >= 90)
    console.log(
      `NOTE: the load generator used ${fmt(r.clientCpu)} % of a core on the ${name} run: the client, not the server, may be the bottleneck`,
    );
