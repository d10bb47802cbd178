import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, type Dispatcher, getGlobalDispatcher, setGlobalDispatcher } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { ConformanceIo } from '../src/cli/conformance.js';
import { runCli } from '../src/cli/run.js';
import { loadConfig, MITRA_PRODUCTION_URL, resolvePaths } from '../src/config/env.js';
import { lastConformanceReport } from '../src/conformance/last-report.js';
import { type ConformanceReport, conformanceReportSchema } from '../src/conformance/report.js';
import { openStore } from '../src/db/open.js';
import { createLimiter } from '../src/gateway.js';
import { createLogger } from '../src/log.js';
import { MitraClient } from '../src/mitra/client.js';
import { DEFAULT_READINGS, parseReadings } from '../src/readings/settings.js';
import { DIALECTS, type DialectName } from '../src/sim/dialects.js';
import type { MitraSimOptions, MitraSimulator } from '../src/sim/mitra-sim.js';
import { FAIL_VARIATION, REFUND_VARIATION, SCENARIO_BRAND } from '../src/sim/scenarios.js';
import { startE2E } from './helpers/e2e.js';
import { REQUIRED_ENV } from './helpers/env.js';
import { SIM_KEYS, startSim } from './helpers/mitra.js';
import { type TempDatabase, type TempDir, tempDatabase, tempDir } from './helpers/storage.js';

// `gateway conformance` against the in-process simulator: its default speaks every reading as
// the gateway reads it; each dialect deviates from one reading, which the report must name, alone,
// with a fix that makes a second run pass.

const closers: (() => Promise<void>)[] = [];
let dir: TempDir;
let database: TempDatabase;
beforeEach(async () => {
  dir = tempDir('conformance-test-');
  database = await tempDatabase();
});
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await database.remove();
  dir.remove();
});

const FAIL = `${SCENARIO_BRAND}/${FAIL_VARIATION}`;
const REFUND = `${SCENARIO_BRAND}/${REFUND_VARIATION}`;
const EVERYTHING = ['--listen', '127.0.0.1:0', '--fail-product', FAIL, '--refund-product', REFUND];

async function sim(options: Partial<MitraSimOptions> = {}): Promise<MitraSimulator> {
  // Long enough for the first order-status call to see every order processing.
  const s = await startSim({ completeAfterMs: 1000, ...options });
  closers.push(() => s.close());
  return s;
}

/**
 * The command's poll sleep, injected: its clock moves by the whole interval, real time by a
 * twentieth of it, so that the simulator's orders end after a few polls.
 */
function fastClock() {
  let now = Date.now();
  let slept = 0;
  return {
    slept: () => slept,
    clock: {
      now: () => now,
      sleep: (ms: number) => {
        now += ms;
        slept += ms;
        return new Promise<void>((resolve) => setTimeout(resolve, Math.ceil(ms / 20)));
      },
    },
  };
}

interface Ran {
  code: number;
  out: string[];
  err: string[];
  report: ConformanceReport | null;
}

/**
 * `gateway conformance` through the CLI, against `s`: with --listen, the simulator's webhooks
 * are pointed at the command's listener as soon as it says where it listens.
 */
async function conformance(
  s: MitraSimulator | null,
  args: string[],
  env: Record<string, string> = {},
): Promise<Ran> {
  const out: string[] = [];
  const err: string[] = [];
  const onLine = (line: string) => {
    const m = /listening for Mitra's webhooks on (http:\/\/[^/]+)\/mitra\/webhook\//.exec(line);
    if (m && s) s.webhookUrl = `${m[1]}/mitra/webhook/${REQUIRED_ENV.MITRA_WEBHOOK_TOKEN}`;
  };
  const io: ConformanceIo = {
    env: {
      ...REQUIRED_ENV,
      MITRA_API_KEY: SIM_KEYS.apiKey,
      MITRA_SECRET_KEY: SIM_KEYS.secretKey,
      ...(s ? { MITRA_BASE_URL: s.url } : {}),
      ...database.env,
      CONFORMANCE_DIR: dir.file('reports'),
      INSTANCE_ID: 'conformance-test',
      ...env,
    },
    cwd: dir.path,
    out: (l) => {
      out.push(l);
      onLine(l);
    },
    err: (l) => {
      err.push(l);
      onLine(l);
    },
    conformanceClock: fastClock().clock,
  };
  const code = await runCli(['conformance', '--json', ...args], io);
  const last = out.at(-1);
  const parsed = last ? conformanceReportSchema.safeParse(JSON.parse(last)) : null;
  return { code, out, err, report: parsed?.success ? parsed.data : null };
}

const contradicted = (r: ConformanceReport) =>
  r.findings.filter((f) => f.verdict === 'contradicted').map((f) => f.id);
const findingOf = (r: ConformanceReport, id: string) => {
  const f = r.findings.find((x) => x.id === id);
  if (!f) throw new Error(`no finding ${id}`);
  return f;
};

describe('gateway conformance against the default simulator', () => {
  it('confirms every reading it can observe, says why for the others, exits 0 and saves both files', async () => {
    const s = await sim();
    const r = await conformance(s, EVERYTHING);
    expect(r.err.filter((l) => !l.startsWith('conformance:') && !l.startsWith('  '))).toEqual([]);
    expect(r.code).toBe(0);
    const report = r.report;
    if (!report) throw new Error('no report on stdout');
    expect(contradicted(report)).toEqual([]);
    const notObserved = report.findings.filter((f) => f.verdict === 'not-observed');
    expect(notObserved.map((f) => f.id)).toEqual(['razer.signed_content']);
    expect(notObserved[0]?.why).toBe("Razer side, see the Go live page's diagnostics");
    expect(report.summary).toEqual({ confirmed: 14, contradicted: 0, notObserved: 1 });

    // What was placed, and how each ended.
    const byScenario = Object.fromEntries(report.observations.orders.map((o) => [o.scenario, o]));
    expect(byScenario.topup?.create.outcome).toBe('accepted');
    expect(byScenario.topup?.polls.map((p) => p.status)).toContain(1);
    expect(byScenario.topup?.polls.at(-1)?.status).toBe(2);
    expect(byScenario.voucher?.found).toMatchObject({ voucherAt: 'detail.voucher_code', voucherRead: true });
    expect(byScenario['fail-product']?.found).toMatchObject({ reasonAt: 'sn', reasonRead: true });
    expect(byScenario['product-not-found']?.create).toMatchObject({ outcome: 'refused', rc: '44' });
    expect(byScenario['empty-ref-id']?.create).toMatchObject({ outcome: 'refused', status: 'CLIENT_ERROR' });
    expect(byScenario['empty-data']?.create).toMatchObject({
      outcome: 'refused',
      status: 'VALIDATION_ERROR',
    });
    expect(byScenario['duplicate-ref-id']?.create).toMatchObject({ outcome: 'exists', rc: '23' });
    expect(byScenario['duplicate-ref-id']?.refId).toBe(byScenario.topup?.refId);
    // ref_ids: conf-<timestamp>-<n>, one per order (the duplicate repeats the top-up's on purpose).
    const refs = report.observations.orders.map((o) => o.refId).filter((x) => x !== '');
    expect(refs.every((x) => /^conf-\d+-\d+$/.test(x))).toBe(true);
    expect(new Set(refs).size).toBe(refs.length - 1);
    expect(s.orders).toHaveLength(4);
    // The webhooks its own orders caused, read by the readings in force.
    expect(report.observations.webhooks.via).toBe('listener');
    expect(report.observations.webhooks.items.length).toBeGreaterThanOrEqual(4);
    expect(report.observations.webhooks.items.every((w) => w.readAs.kind === 'transaction')).toBe(true);

    // Every exchange kept, without a secret.
    const files = readdirSync(dir.file('reports')).sort();
    expect(files).toHaveLength(2);
    expect(files[0]).toMatch(/^conformance-\d{8}T\d{6}\.\d{3}Z\.json$/);
    expect(files[1]).toMatch(/^conformance-\d{8}T\d{6}\.\d{3}Z\.txt$/);
    const saved = [
      readFileSync(dir.file(`reports/${files[0]}`), 'utf8'),
      readFileSync(dir.file(`reports/${files[1]}`), 'utf8'),
    ];
    for (const text of saved) {
      expect(text).not.toContain(SIM_KEYS.secretKey);
      expect(text).not.toContain(SIM_KEYS.apiKey);
      expect(text).not.toContain(REQUIRED_ENV.MITRA_WEBHOOK_TOKEN);
    }
    expect(saved[0]).toContain('"sign": "[redacted]"');
    expect(saved[1]).toContain('sign=[redacted]');
    expect(report.observations.exchanges.length).toBe(
      Object.values(s.stats.calls).reduce((a, b) => a + b, 0),
    );
    expect(saved[1]).toContain('POST /v2/public/order?sign=[redacted]');

    // The console's reader finds the same report.
    const last = await lastConformanceReport(dir.file('reports'));
    expect(last?.ok && last.report).toEqual(report);
  });

  it('says why each reading it could not observe was not (no listener, no failing or refunding product)', async () => {
    const s = await sim({ completeAfterMs: 200 });
    const r = await conformance(s, ['--webhook-wait', '4']);
    expect(r.code).toBe(0);
    const report = r.report;
    if (!report) throw new Error('no report');
    const whys = Object.fromEntries(
      report.findings.filter((f) => f.verdict === 'not-observed').map((f) => [f.id, f.why]),
    );
    expect(Object.keys(whys).sort()).toEqual(
      [
        'mitra.order_status.failed',
        'mitra.reason_at',
        'mitra.refund_names',
        'mitra.webhook',
        'razer.signed_content',
      ].sort(),
    );
    expect(whys['mitra.order_status.failed']).toMatch(/no --fail-product given/);
    expect(whys['mitra.refund_names']).toMatch(/no --refund-product given/);
    expect(whys['mitra.webhook']).toMatch(/stored on this database within 4 s/);
    for (const why of Object.values(whys)) expect(why?.length).toBeGreaterThan(10);
  });

  it('reads the webhooks a running gateway on the same database stored, without --listen', async () => {
    const e = await startE2E({ env: database.env, sim: { completeAfterMs: 1000 } });
    closers.push(() => e.close());
    const r = await conformance(e.sim, ['--fail-product', FAIL, '--refund-product', REFUND]);
    expect(r.code).toBe(0);
    const report = r.report;
    if (!report) throw new Error('no report');
    expect(findingOf(report, 'mitra.webhook').verdict).toBe('confirmed');
    expect(report.observations.webhooks.via).toBe('store');
    expect(report.observations.webhooks.items.some((w) => w.names.length > 0)).toBe(true);
  });

  it('exits 2 when Mitra cannot be reached, and when the environment is incomplete', async () => {
    const s = await sim();
    const url = s.url;
    await s.close();
    const unreachable = await conformance(null, [], { MITRA_BASE_URL: url });
    expect(unreachable.code).toBe(2);
    expect(unreachable.report?.problems.join('\n')).toMatch(/could not be asked/);
    const bad = await conformance(null, [], { MITRA_SECRET_KEY: '' });
    expect(bad.code).toBe(2);
    expect(bad.err.join('\n')).toMatch(/MITRA_SECRET_KEY is required/);
    for (const [args, says] of [
      [['--timeout', '0'], /--timeout must be a whole number of seconds from 1 to 3600/],
      [['--fail-product', 'FAIL10'], /--fail-product must be BRAND\/VARIATION/],
      [['--confirm-spend', '1.5'], /--confirm-spend must be a whole amount in IDR/],
      [['--listen', 'nowhere'], /--listen must be HOST:PORT/],
      [['--form', 'novalue'], /--form must be KEY=VALUE/],
      [['--nope'], /Unknown option '--nope'/],
    ] as const) {
      const r = await conformance(null, [...args], { MITRA_BASE_URL: url });
      expect(r.code).toBe(2);
      expect(r.err.join('\n')).toMatch(says);
      expect(JSON.parse(r.out.at(-1) ?? '{}')).toMatchObject({ exitCode: 2 });
    }
  });
});

/** The reading each dialect deviates from, and the fix the report must propose for it. */
const DEVIATES: Record<Exclude<DialectName, 'rc23-http409'>, { id: string; change: unknown }> = {
  'failed-status-4': {
    id: 'mitra.order_status.failed',
    change: { mitra: { order_status: { failed: [3, 4] } } },
  },
  'processing-status-0': {
    id: 'mitra.order_status.processing',
    change: { mitra: { order_status: { processing: [1, 0] } } },
  },
  'voucher-key': {
    id: 'mitra.voucher_code_at',
    change: { mitra: { voucher_code_at: ['detail.code', 'detail.voucher_code', 'sn', 'detail.sn'] } },
  },
  'reason-key': {
    id: 'mitra.reason_at',
    change: { mitra: { reason_at: ['detail.note', 'sn', 'detail.sn'] } },
  },
  'refund-name': {
    id: 'mitra.refund_names',
    change: { mitra: { refund_names: [...DEFAULT_READINGS.mitra.refund_names, 'Dana Dikembalikan'] } },
  },
  'webhook-keys': {
    id: 'mitra.webhook',
    change: {
      mitra: {
        webhook: {
          layers: ['', 'data', 'transaction'],
          trx_code_keys: ['trx_code', 'tid', 'code', 'invoice'],
          ref_id_keys: ['ref_id', 'reference'],
        },
      },
    },
  },
  'no-balance': { id: 'mitra.balance', change: { mitra: { balance: { path: null } } } },
  'balance-path': {
    id: 'mitra.balance',
    change: { mitra: { balance: { path: '/v2/public/saldo', word: 'saldo' } } },
  },
  'tid-refuses-ref-id': { id: 'mitra.tid_accepts_ref_id', change: { mitra: { tid_accepts_ref_id: false } } },
  'ref-exists-rc': { id: 'mitra.rc.may_exist', change: { mitra: { rc: { may_exist: ['23', '26', '27'] } } } },
};

describe('gateway conformance against each dialect', () => {
  it('covers every dialect of src/sim/dialects.ts', () => {
    expect([...Object.keys(DEVIATES), 'rc23-http409'].sort()).toEqual(Object.keys(DIALECTS).sort());
  });

  for (const [dialect, expected] of Object.entries(DEVIATES) as [
    DialectName,
    { id: string; change: unknown },
  ][]) {
    it(`${dialect}: names ${expected.id} alone, with a fix that makes the next run pass`, async () => {
      const s = await sim({ dialect });
      const r = await conformance(s, EVERYTHING);
      const report = r.report;
      if (!report) throw new Error(`no report: ${r.err.join('\n')}`);
      expect(contradicted(report)).toEqual([expected.id]);
      expect(r.code).toBe(1);
      const fix = findingOf(report, expected.id).fix;
      expect(fix?.change).toEqual(expected.change);
      expect(fix?.accepted).toBe(true);
      expect(fix && parseYaml(fix.yaml)).toEqual(expected.change);
      expect(report.combinedFix?.change).toEqual(expected.change);

      // The fix, written as the readings file, passes the guard rails and the next run.
      writeFileSync(dir.file('readings.yaml'), `${fix?.yaml}\n`);
      expect(parseReadings(parseYaml(readFileSync(dir.file('readings.yaml'), 'utf8'))).success).toBe(true);
      const again = await conformance(s, EVERYTHING, { READINGS_FILE: dir.file('readings.yaml') });
      expect(again.report && contradicted(again.report)).toEqual([]);
      expect(again.code).toBe(0);
    }, 30_000);
  }

  it('rc23-http409: nothing is contradicted (the rc decides, not the HTTP status), and the 409 is in the evidence', async () => {
    const s = await sim({ dialect: 'rc23-http409' });
    const r = await conformance(s, EVERYTHING);
    const report = r.report;
    if (!report) throw new Error('no report');
    expect(contradicted(report)).toEqual([]);
    expect(r.code).toBe(0);
    const mayExist = findingOf(report, 'mitra.rc.may_exist');
    expect(mayExist.verdict).toBe('confirmed');
    expect(mayExist.evidence.join('\n')).toMatch(/rc 23 CLIENT_ERROR, HTTP 409/);
  });
});

describe('gateway conformance against production', () => {
  let original: Dispatcher;
  let seen: string[];
  let s: MitraSimulator;
  beforeEach(async () => {
    s = await sim({ completeAfterMs: 300 });
    // The production host name, answered by the simulator: nothing leaves the machine.
    seen = [];
    original = getGlobalDispatcher();
    const production = new URL(MITRA_PRODUCTION_URL).origin;
    const agent = new Agent().compose((dispatch) => (opts, handler) => {
      if (String(opts.origin) !== production) return dispatch(opts, handler);
      seen.push(`${opts.method} ${opts.path}`);
      return dispatch({ ...opts, origin: s.url }, handler);
    });
    setGlobalDispatcher(agent);
    closers.push(async () => {
      setGlobalDispatcher(original);
      await agent.close();
    });
  });
  const totalCalls = () => Object.values(s.stats.calls).reduce((a, b) => a + b, 0);

  it('refuses without --production and --confirm-spend: exit 2, nothing sent, no report', async () => {
    for (const args of [[], ['--production'], ['--confirm-spend', '1000000']]) {
      const r = await conformance(null, args, { MITRA_BASE_URL: MITRA_PRODUCTION_URL });
      expect(r.code).toBe(2);
      expect(r.err.join('\n')).toMatch(/production: every order it places is paid for/);
      expect(r.err.join('\n')).toMatch(/MLBB112/);
    }
    expect(seen).toEqual([]);
    expect(totalCalls()).toBe(0);
    expect(existsSync(dir.file('reports'))).toBe(false);
  });

  it('reads the prices, prints the total and orders nothing when --confirm-spend is below it', async () => {
    const r = await conformance(null, ['--production', '--confirm-spend', '50000'], {
      MITRA_BASE_URL: MITRA_PRODUCTION_URL,
    });
    expect(r.code).toBe(2);
    // MLBB112 (15,000) ×5 and STEAMV50 (55,000): at most 130,000 if Mitra took every one.
    expect(r.err.join('\n')).toMatch(/at most 130,000 IDR/);
    expect(r.err.join('\n')).toMatch(/more than --confirm-spend 50,000 IDR: nothing was ordered/);
    expect(s.stats.calls.order).toBe(0);
    expect(seen.length).toBeGreaterThan(0);
  });

  it('runs with both flags and a sufficient --confirm-spend', async () => {
    const r = await conformance(null, ['--production', '--confirm-spend', '130000', '--webhook-wait', '0'], {
      MITRA_BASE_URL: MITRA_PRODUCTION_URL,
    });
    expect(r.code).toBe(0);
    expect(r.report?.mitra.host).toBe('production');
    expect(s.orders).toHaveLength(2);
    expect(seen.some((x) => x.startsWith('POST /v2/public/order'))).toBe(true);
  });
});

describe('gateway conformance and the rate limit', () => {
  it('never exceeds MITRA_RATE_LIMIT, counting the calls another limiter on the database spent', async () => {
    const rate = { limit: 10, windowMs: 2000 };
    const arrivals: number[] = [];
    const s = await sim({
      completeAfterMs: 300,
      rateLimit: rate,
      observer: { call: (_op, at) => arrivals.push(at) },
    });
    const env = {
      ...REQUIRED_ENV,
      MITRA_API_KEY: SIM_KEYS.apiKey,
      MITRA_SECRET_KEY: SIM_KEYS.secretKey,
      MITRA_BASE_URL: s.url,
      ...database.env,
      MITRA_RATE_LIMIT: '10/2s',
      INSTANCE_ID: 'other-gateway',
    };
    // Another process's limiter on the same database (a running gateway) spends 8 calls first,
    // recorded as a gateway records them.
    const parsed = loadConfig(env);
    if (!parsed.ok) throw new Error(parsed.errors.join('\n'));
    const config = resolvePaths(parsed.value, dir.path);
    const store = await openStore(config);
    await store.migrate();
    const limiter = await createLimiter(store, config, Date.now, createLogger('silent'));
    const writes: Promise<void>[] = [];
    const other = new MitraClient({
      baseUrl: s.url,
      ...SIM_KEYS,
      timeoutMs: 2000,
      limiter,
      record: (call) => writes.push(store.recordSupplierCall(call)),
    });
    for (let i = 0; i < 8; i++) expect((await other.brands()).kind).toBe('accepted');
    await Promise.all(writes);
    limiter.close();
    await store.close();

    const r = await conformance(s, ['--webhook-wait', '0'], { MITRA_RATE_LIMIT: '10/2s' });
    expect(r.code).toBe(0);
    expect(s.stats.rateLimited).toBe(0);
    // No window of the simulator's length ever held more than the limit.
    const sorted = [...arrivals].sort((a, b) => a - b);
    let most = 0;
    for (let i = 0; i < sorted.length; i++) {
      const start = sorted[i] ?? 0;
      most = Math.max(most, sorted.filter((t) => t >= start && t < start + rate.windowMs).length);
    }
    expect(most).toBeLessThanOrEqual(rate.limit);
    // The command made more than a window's worth of calls: the limit held it back.
    expect(sorted.length).toBeGreaterThan(8 + rate.limit);
  }, 60_000);
});
