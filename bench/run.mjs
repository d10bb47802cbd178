// Measures the design's performance targets on this machine, in one run, with the simulator
// answering at once. Run with `npm run bench` (builds first). Prints its figures; asserts nothing.
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { EXAMPLE_MAPPING_FILE } from '../dist/config/paths.js';
import { signRequest } from '../dist/razer/signature.js';
import { MitraSimulator } from '../dist/sim/mitra-sim.js';
import { RazerClient } from '../dist/sim/razer-client.js';
import { createDatabase, startPostgres } from '../test/helpers/postgres.ts';
import { startFlags } from '../test/helpers/start-command.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
// The gateway runs as `npm start` runs it, with the same Node flags.
const GATEWAY_NODE_FLAGS = startFlags();
const RAZER = { apiId: 'bench-publisher', key: 'bench-razer-key' };
const MITRA = { apiKey: 'bench-mitra-access', secretKey: 'bench-mitra-secret' };
const WEBHOOK_TOKEN = 'bench-webhook-token-0001';

/**
 * A server in its own process (as in production), resolved once it logs its port. Its log goes to
 * a file, as under a supervisor that writes logs to disk: read through a pipe by this process,
 * the reading would take CPU from the two cores the server and the load generator share.
 */
async function spawnServer(script, env = {}) {
  // BENCH_PROFILE=DIR writes a CPU profile of the gateway process there.
  const profile =
    process.env.BENCH_PROFILE && script.startsWith('dist')
      ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`]
      : [];
  const logDir = mkdtempSync(join(tmpdir(), 'gateway-bench-log-'));
  const logFile = join(logDir, 'server.log');
  const logFd = openSync(logFile, 'w');
  const child = spawn(process.execPath, [...profile, ...GATEWAY_NODE_FLAGS, script], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', logFd, 'inherit'],
  });
  closeSync(logFd);
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  const log = () => readFileSync(logFile, 'utf8');
  const deadline = performance.now() + 30_000;
  let port = null;
  while (port === null) {
    const m = /"port":(\d+)[^\n]*"msg":"gateway listening"/.exec(log());
    if (m) port = Number(m[1]);
    else if (exited || performance.now() > deadline) {
      // Never left running (it shares this process's stderr) nor its log left behind.
      const text = log();
      child.kill('SIGKILL');
      rmSync(logDir, { recursive: true, force: true });
      throw new Error(
        `${script} ${exited ? 'exited before listening' : 'not listening after 30 s'}:\n${text}`,
      );
    } else await setTimeout(20);
  }
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid,
    stop: () =>
      new Promise((resolve) => {
        const done = () => {
          rmSync(logDir, { recursive: true, force: true });
          resolve();
        };
        if (exited) return done();
        child.once('exit', done);
        child.kill('SIGTERM');
      }),
  };
}

/**
 * BENCH_TRACING=on: every gateway exports its traces (OTLP/HTTP) to a sink in this process that
 * reads and drops them, as a collector on another machine would take them; the cost of tracing
 * on is the difference from a run without it.
 */
const traceSink = process.env.BENCH_TRACING === 'on' ? await startTraceSink() : null;

async function startTraceSink() {
  const { createServer } = await import('node:http');
  const sink = { requests: 0, bytes: 0 };
  const server = createServer((req, res) => {
    sink.requests++;
    req.on('data', (chunk) => {
      sink.bytes += chunk.length;
    });
    req.on('end', () => res.end('{}'));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.unref();
  return Object.assign(sink, { url: `http://127.0.0.1:${server.address().port}` });
}

const DURATION_MS = Number(process.env.BENCH_SECONDS ?? 5) * 1000;
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
/**
 * A Host the listener's shortcut leaves to the app (an underscore) and node-server takes: the
 * repeated poll then answered by the routes' own kept-answer check. `Host`, capitalised: wrk
 * replaces its own Host header only when given one spelt so.
 */
const ROUTES_HOST = 'routes_kept_answer';
const PURCHASES = Number(process.env.BENCH_PURCHASES ?? 2000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 500);
// Distinct final transactions the rotating query load asks about, each in turn: more than any
// answer cache holds, as Razer's pollers spread over many transactions.
const DISTINCT = Number(process.env.BENCH_DISTINCT ?? 20_000);

const fmt = (n, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/**
 * Runs a bench script in a process of its own and returns the last JSON line it prints; `onLine`
 * sees each JSON line as it comes (a warm-up done, say) with the child's stdin to answer it.
 */
function child(script, args, onLine = () => {}, env = {}) {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [script, ...args.map(String)], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    let out = '';
    let seen = 0;
    proc.stdout.on('data', (chunk) => {
      out += chunk;
      const lines = out.split('\n');
      for (; seen < lines.length - 1; seen++)
        if (lines[seen].startsWith('{')) onLine(JSON.parse(lines[seen]), proc.stdin);
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

/** CPU seconds of every PostgreSQL server process (the postmaster and its backends). */
function postgresCpuSeconds() {
  let total = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat.includes('(postgres)')) total += cpuSeconds(pid);
    } catch {
      // Gone meanwhile.
    }
  }
  return total;
}

/** Busy and total CPU seconds of the whole machine, all cores (/proc/stat). */
function machineSeconds() {
  const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).map(Number);
  const idle = ticks[3] + ticks[4];
  const total = ticks.reduce((a, b) => a + b, 0);
  return { busy: (total - idle) / 100, total: total / 100 };
}

/**
 * HTTP load on one URL from its own process (bench/load.mjs), `connections` at a time. Also the
 * server's own CPU per request, a figure that other work on the machine disturbs less.
 */
async function load(server, path, header = [], connections = CONCURRENCY, requests = null) {
  const seconds = DURATION_MS / 1000;
  const before = cpuSeconds(server.pid);
  const run = await child(
    'bench/load.mjs',
    [server.url + path, connections, seconds, ...header],
    undefined,
    requests ? { BENCH_REQUESTS: requests } : {},
  );
  return { ...run, serverCpuUs: ((cpuSeconds(server.pid) - before) * 1e6) / (run.rps * seconds) };
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/**
 * The median of each figure over the rounds, except what must not be hidden by one: errors are
 * summed and the client's CPU is its busiest round's.
 */
const summarised = (runs) => ({
  ...medianOf(runs),
  errors: runs.reduce((sum, r) => sum + r.errors, 0),
  non2xx: runs.reduce((sum, r) => sum + r.non2xx, 0),
  clientCpu: Math.max(...runs.map((r) => r.clientCpu)),
});

/** The median of each figure over the rounds. */
const medianOf = (runs) =>
  Object.fromEntries(
    Object.keys(runs[0]).map((k) => [
      k,
      typeof runs[0][k] === 'number' ? median(runs.map((r) => r[k])) : runs[0][k],
    ]),
  );

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
  try {
    // Inside the try: a second instance failing to start stops the first.
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
    return await run({
      sim,
      url: gateway.url,
      urls: gateways.map((g) => g.url),
      server: gateway,
      servers: gateways,
      dir,
    });
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
  // The simulator outpaces the real supplier: the webhook cap is not what is measured.
  MITRA_WEBHOOK_CAP: '1000000/1s',
  MITRA_WEBHOOK_CAP_BYTES: '1GiB',
  MAPPING_FILE: EXAMPLE_MAPPING_FILE,
  PORT: '0',
  HOST: '127.0.0.1',
  LOG_LEVEL: 'info',
  ...(traceSink ? { OTEL_EXPORTER_OTLP_ENDPOINT: traceSink.url } : {}),
  // A sampler to measure tracing at (OTEL_TRACES_SAMPLER=traceidratio OTEL_TRACES_SAMPLER_ARG=0.1).
  ...(traceSink && process.env.OTEL_TRACES_SAMPLER
    ? {
        OTEL_TRACES_SAMPLER: process.env.OTEL_TRACES_SAMPLER,
        OTEL_TRACES_SAMPLER_ARG: process.env.OTEL_TRACES_SAMPLER_ARG ?? '',
      }
    : {}),
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

/**
 * DISTINCT delivered purchases made through the gateway (from a process of their own), and the
 * signed queries about them as a file for the load generator (`PATH<TAB>SIGNATURE` a line); the
 * same answers in a SQLite file for the minimal server.
 */
async function distinctTransactions(g, signed, dir) {
  await child(
    'bench/purchases.mjs',
    [g.url, 0, DISTINCT, CONCURRENCY, 'BENCH-D', RAZER.apiId, RAZER.key],
    (line, stdin) => {
      if (line.warm) stdin.write('go\n');
    },
  );
  const file = join(dir, 'distinct-queries.tsv');
  const db = join(dir, 'minimal.db');
  const answers = new Database(db);
  answers.exec('create table answers (n text primary key, status integer not null, body text not null)');
  const insert = answers.prepare('insert into answers values (?, 200, ?)');
  const lines = [];
  answers.transaction(() => {
    for (let i = 0; i < DISTINCT; i++) {
      const n = `BENCH-D-${i}`;
      const [path, [, signature]] = signed(n);
      lines.push(`${path}\t${signature}`);
      insert.run(n, JSON.stringify({ transactionNumber: n, status: 'SUCCESS', referenceId: `VCG-${i}` }));
    }
  })();
  answers.close();
  writeFileSync(file, `${lines.join('\n')}\n`);
  return { file, db };
}

/**
 * The bare route against the gateway's query path, as Razer polls: DISTINCT delivered transactions
 * in turn (and the minimal server over the same requests), one delivered transaction repeated
 * (with and past the listener's shortcut), one left open. ROUNDS rounds, each measuring all six in
 * turn, so that a slower spell of this shared machine falls on all of them; the ratios are taken
 * per round and their median reported.
 */
async function httpPaths() {
  const bareServer = await spawnServer('bench/bare-server.mjs');
  try {
    return await withGateway({}, async (g) => {
      const razer = razerFor(g);
      const signed = (n) => {
        const path = `/transaction/${n}`;
        return [path, ['x-razer-signature', signRequest(RAZER, 'body', 'GET', path, '')]];
      };
      const init = await razer.init(initBody('BENCH-Q', 0));
      await razer.topup('BENCH-Q', init.json.transactionToken);
      // The supplier keeps this order processing: every query reads the database and answers 408.
      g.sim.nextEnding({ kind: 'stay' });
      const initOpen = await razer.init(initBody('BENCH-O', 1));
      await razer.topup('BENCH-O', initOpen.json.transactionToken);
      const [finalPath, finalHeader] = signed('BENCH-Q');
      const [openPath, openHeader] = signed('BENCH-O');
      const requests = await distinctTransactions(g, signed, g.dir);
      const minimal = await spawnServer('bench/minimal-server.mjs', {
        RAZER_API_ID: RAZER.apiId,
        RAZER_API_KEY: RAZER.key,
        MINIMAL_DB: requests.db,
      });
      const rounds = [];
      try {
        for (let r = 0; r < ROUNDS; r++) {
          const bare = await load(bareServer, '/x');
          const distinct = await load(g.server, '/', [], CONCURRENCY, requests.file);
          const least = await load(minimal, '/', [], CONCURRENCY, requests.file);
          const final = await load(g.server, finalPath, finalHeader);
          const routes = await load(g.server, finalPath, [...finalHeader, 'Host', ROUTES_HOST]);
          const open = await load(g.server, openPath, openHeader);
          rounds.push({
            bare,
            distinct,
            least,
            final,
            routes,
            open,
            share: distinct.rps / bare.rps,
            p99Ratio: distinct.p99 / bare.p99,
            repeatedShare: final.rps / bare.rps,
          });
        }
      } finally {
        await minimal.stop();
      }
      return {
        bare: summarised(rounds.map((r) => r.bare)),
        distinct: summarised(rounds.map((r) => r.distinct)),
        least: summarised(rounds.map((r) => r.least)),
        final: summarised(rounds.map((r) => r.final)),
        routes: summarised(rounds.map((r) => r.routes)),
        shortcutGain: median(rounds.map((r) => r.final.rps / r.routes.rps)),
        open: summarised(rounds.map((r) => r.open)),
        share: median(rounds.map((r) => r.share)),
        p99Ratio: median(rounds.map((r) => r.p99Ratio)),
        repeatedShare: median(rounds.map((r) => r.repeatedShare)),
        leastShare: median(rounds.map((r) => r.least.rps / r.bare.rps)),
        ofLeast: median(rounds.map((r) => r.distinct.rps / r.least.rps)),
        rounds,
        bareAlone: await load(bareServer, '/x', [], 1),
        finalAlone: await load(g.server, finalPath, finalHeader, 1),
      };
    });
  } finally {
    await bareServer.stop();
  }
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
      const supplierCalls = () => g.sim.stats.calls.order + g.sim.stats.calls['order-status'];
      // Taken when the purchasing client says its warm-up purchases (not counted) are done; it
      // waits for it before the counted ones.
      let before = null;
      const run = await child(
        'bench/purchases.mjs',
        [
          g.urls.join(','),
          WARMUP,
          PURCHASES,
          CONCURRENCY,
          `BENCH-${webhooks ? 'W' : 'P'}`,
          RAZER.apiId,
          RAZER.key,
        ],
        (line, stdin) => {
          if (!line.warm) return;
          before = {
            calls: supplierCalls(),
            serverCpu: g.servers.map((s) => cpuSeconds(s.pid)),
            simCpu: process.cpuUsage(),
            postgresCpu: where.postgres ? postgresCpuSeconds() : 0,
            machine: machineSeconds(),
          };
          stdin.write('go\n');
        },
      );
      if (!before) throw new Error('the purchasing client never said its warm-up was done');
      const { delivered } = run;
      const serverCpu = g.servers.reduce((sum, s, i) => sum + cpuSeconds(s.pid) - before.serverCpu[i], 0);
      const simCpu = process.cpuUsage(before.simCpu);
      const postgresCpu = where.postgres ? postgresCpuSeconds() - before.postgresCpu : Number.NaN;
      const machine = machineSeconds();
      const cores = cpus().length;
      // Supplier calls as the simulator saw them, during the counted purchases.
      const calls = supplierCalls() - before.calls;
      return {
        tps: delivered / run.seconds,
        delivered,
        callsPerDelivery: calls / delivered,
        clientCpu: run.clientCpu,
        // CPU milliseconds per delivered purchase: the gateway (all instances), the simulator
        // (this process), the purchasing client.
        serverCpuMs: (serverCpu * 1000) / delivered,
        simCpuMs: (simCpu.user + simCpu.system) / 1000 / delivered,
        clientCpuMs: ((run.clientCpu / 100) * run.seconds * 1000) / delivered,
        postgresCpuMs: (postgresCpu * 1000) / delivered,
        // Of all cores over the counted purchases: near 100 % means the machine, not a wait, set the pace.
        machineBusy: (100 * (machine.busy - before.machine.busy)) / (machine.total - before.machine.total),
        cores,
      };
    },
    where,
  );
}

// BENCH_ONLY=http measures the HTTP paths alone (a profile of the query path, say);
// BENCH_ONLY=purchases the purchases on SQLite with webhooks alone (a profile of a purchase),
// BENCH_ONLY=postgres the same on PostgreSQL with BENCH_INSTANCES instances (1).
const only = process.env.BENCH_ONLY;
const httpOnly = only === 'http';
const purchasesOnly = only === 'purchases';
const postgresOnly = only === 'postgres';
if (purchasesOnly || postgresOnly) {
  const postgres = postgresOnly ? await startPostgres({ durable: true }) : null;
  const instances = Number(process.env.BENCH_INSTANCES ?? 1);
  const run = postgres ? await purchases(true, { postgres, instances }) : await purchases(true);
  await postgres?.stop();
  if (traceSink)
    console.log(`tracing on: ${traceSink.requests} OTLP exports, ${fmt(traceSink.bytes / 1e6, 1)} MB`);
  console.log(
    `purchases, ${postgres ? `PostgreSQL (${instances} instance${instances === 1 ? '' : 's'})` : 'SQLite'}, webhooks: ${fmt(run.tps)} transactions/s (${run.delivered} delivered); CPU per purchase: gateway ${fmt(run.serverCpuMs, 2)} ms, PostgreSQL ${fmt(run.postgresCpuMs, 2)} ms, simulator ${fmt(run.simCpuMs, 2)} ms, client ${fmt(run.clientCpuMs, 2)} ms; machine busy ${fmt(run.machineBusy)} % of ${run.cores} cores; supplier calls per delivery ${fmt(run.callsPerDelivery, 2)}`,
  );
  process.exit(0);
}
const http = await httpPaths();
const { bare, final: query, open } = http;
const skipped = {
  tps: Number.NaN,
  delivered: 0,
  callsPerDelivery: Number.NaN,
  clientCpu: Number.NaN,
  serverCpuMs: Number.NaN,
  simCpuMs: Number.NaN,
  clientCpuMs: Number.NaN,
  postgresCpuMs: Number.NaN,
  machineBusy: Number.NaN,
  cores: cpus().length,
};
const withHooks = httpOnly ? skipped : await purchases(true);
const polling = httpOnly ? skipped : await purchases(false);
// PostgreSQL (fsync on, as in production): one instance, then two sharing the database.
const onPostgres = !httpOnly && process.env.BENCH_POSTGRES !== 'off';
const postgres = onPostgres ? await startPostgres({ durable: true }) : null;
const pgOne = postgres ? await purchases(true, { postgres, instances: 1 }) : skipped;
const pgTwo = postgres ? await purchases(true, { postgres, instances: 2 }) : skipped;
await postgres?.stop();

const cpu = cpus()[0]?.model ?? 'unknown CPU';
if (traceSink)
  console.log(
    `Tracing on (BENCH_TRACING=on): ${traceSink.requests} OTLP exports, ${fmt(traceSink.bytes / 1e6, 1)} MB received`,
  );
console.log(
  `Benchmark: ${cpus().length} x ${cpu}, Node ${process.version}, ${CONCURRENCY} connections (${bare.tool} in its own process, no pipelining), ${DURATION_MS / 1000} s per HTTP run, medians of ${ROUNDS} interleaved rounds, ${PURCHASES} purchases per run after ${WARMUP} not counted`,
);
console.log('| measure | figure | target |');
console.log('|---|---|---|');
console.log(
  `| bare Hono JSON route | ${fmt(bare.rps)} req/s, p50 ${fmt(bare.p50, 2)} ms, p99 ${fmt(bare.p99, 2)} ms | reference |`,
);
console.log(
  `| query path, ${fmt(DISTINCT)} distinct final transactions in turn (Razer's pollers) | ${fmt(http.distinct.rps)} req/s (${fmt(100 * http.share)} % of bare; rounds ${http.rounds.map((r) => fmt((100 * r.distinct.rps) / r.bare.rps)).join(', ')} %; ${fmt(100 * http.ofLeast)} % of the minimal server), p99 ${fmt(http.distinct.p99, 2)} ms (${fmt(http.p99Ratio, 2)} x bare) | >= 50 % of bare, p99 <= 2 x bare |`,
);
console.log(
  `| minimal signed read (bench/minimal-server.mjs: verify, read by key, sign), the same requests | ${fmt(http.least.rps)} req/s (${fmt(100 * http.leastShare)} % of bare), p99 ${fmt(http.least.p99, 2)} ms | yardstick |`,
);
console.log(
  `| query path, one final transaction repeated (one poller) | ${fmt(query.rps)} req/s (${fmt(100 * http.repeatedShare)} % of bare), p99 ${fmt(query.p99, 2)} ms | none of its own |`,
);
console.log(
  `| the same poll past the listener's shortcut (answered by the routes' kept-answer check) | ${fmt(http.routes.rps)} req/s (${fmt((100 * http.routes.rps) / bare.rps)} % of bare), p99 ${fmt(http.routes.p99, 2)} ms, ${fmt(http.routes.serverCpuUs, 1)} µs of CPU a request${http.routes.non2xx ? `, ${http.routes.non2xx} non-2xx` : ''}: the shortcut answers ${fmt(http.shortcutGain, 2)} x as many | kept if it earns its place |`,
);
console.log(
  `| query path, open transaction (408 read from the database) | ${fmt(open.rps)} req/s (${fmt((100 * open.rps) / bare.rps)} % of bare), p99 ${fmt(open.p99, 2)} ms | >= 40 % of bare |`,
);
console.log(
  `| query path, one request at a time | p50 ${fmt(http.finalAlone.p50, 2)} ms, p99 ${fmt(http.finalAlone.p99, 2)} ms; bare p99 ${fmt(http.bareAlone.p99, 2)} ms: added p99 ${fmt(http.finalAlone.p99 - http.bareAlone.p99, 2)} ms | added p99 <= 5 ms |`,
);
console.log(
  `| init -> top-up -> SUCCESS, synchronous=FULL, webhooks | ${fmt(withHooks.tps)} transactions/s (${withHooks.delivered} delivered); machine busy ${fmt(withHooks.machineBusy)} % | >= 500 /s |`,
);
console.log(
  `| the same on PostgreSQL, one instance | ${fmt(pgOne.tps)} transactions/s (${pgOne.delivered} delivered); machine busy ${fmt(pgOne.machineBusy)} % | >= 333 /s |`,
);
console.log(
  `| the same on PostgreSQL, two instances | ${fmt(pgTwo.tps)} transactions/s (${pgTwo.delivered} delivered), ${fmt(pgTwo.tps / pgOne.tps, 2)} x one instance; machine busy ${fmt(pgTwo.machineBusy)} % | >= 1.6 x one instance |`,
);
console.log(
  `| supplier calls per delivered transaction, webhooks | ${fmt(withHooks.callsPerDelivery, 2)} | <= 2.0 |`,
);
console.log(
  `| supplier calls per delivered transaction, no webhooks | ${fmt(polling.callsPerDelivery, 2)} | <= 4.0 |`,
);
console.log(
  `| server CPU per request (its own process) | bare ${fmt(bare.serverCpuUs, 1)} µs, query ${fmt(query.serverCpuUs, 1)} µs, open query ${fmt(open.serverCpuUs, 1)} µs | query <= 2 x bare for 50 % |`,
);
console.log(
  `| CPU per purchase: gateway, simulator, purchasing client | SQLite ${[withHooks.serverCpuMs, withHooks.simCpuMs, withHooks.clientCpuMs].map((v) => fmt(v, 2)).join(', ')} ms | two cores: their sum <= 4 ms for 500/s |`,
);
console.log(
  `| CPU per purchase on PostgreSQL: gateway (all instances), PostgreSQL, simulator, purchasing client | one instance ${[pgOne.serverCpuMs, pgOne.postgresCpuMs, pgOne.simCpuMs, pgOne.clientCpuMs].map((v) => fmt(v, 2)).join(', ')} ms; two ${[pgTwo.serverCpuMs, pgTwo.postgresCpuMs, pgTwo.simCpuMs, pgTwo.clientCpuMs].map((v) => fmt(v, 2)).join(', ')} ms | gateway <= 4 ms |`,
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
