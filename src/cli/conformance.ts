import { mkdir, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type HttpBindings, serve } from '@hono/node-server';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { pino } from 'pino';
import {
  type Config,
  DEFAULT_READINGS_FILE,
  describeMitra,
  loadConfig,
  readEnvironment,
  resolvePaths,
} from '../config/env.js';
import { loadReadingsFile } from '../config/readings-file.js';
import { orderEnded, type Sighting } from '../conformance/ending.js';
import { foundIn, isBalanceNotFound, webhookReading } from '../conformance/judge.js';
import {
  balanceAlternatives,
  brandSearchOrder,
  MAX_BRAND_SEARCH,
  type PlannedOrder,
  type Product,
  parseFormOverride,
  parseProductRef,
  planOrders,
  SCENARIO_KEYS,
  spendOf,
} from '../conformance/plan.js';
import { buildReport, renderSummary, renderText, reportStamp } from '../conformance/render.js';
import type {
  BalanceProbe,
  CatalogueObservation,
  ConformanceOptions,
  ConformanceReport,
  Exchange,
  Observations,
  OrderRecord,
  WebhookRecord,
} from '../conformance/report.js';
import { placesOf } from '../conformance/search.js';
import { describeStore, openStore } from '../db/open.js';
import type { Store } from '../db/store.js';
import { createLimiter, whereabouts } from '../gateway.js';
import type { Logger } from '../log.js';
import { MitraClient, type SupplierCallRecord } from '../mitra/client.js';
import type { Limiter } from '../mitra/limiter.js';
import type { MitraOutcome } from '../mitra/outcome.js';
import { envelopeSchema, type MitraBrand, type MitraVariation } from '../mitra/schemas.js';
import { MAX_WEBHOOK_BYTES, normaliseIp } from '../mitra/webhook-route.js';
import { refundPattern, statusNumber } from '../readings/mitra.js';
import type { Readings } from '../readings/settings.js';
import { sameSecret, secretRedactor } from '../secrets.js';
import type { CliIo } from './run.js';

/**
 * `gateway conformance`: tests the readings against the Mitra at MITRA_BASE_URL with the
 * operator's credentials (issue 23 §3). The judgement is src/conformance/; this file does the
 * calls, the waiting and the files.
 */

export const CONFORMANCE_USAGE = `usage: gateway conformance [--listen HOST:PORT] [--timeout SECONDS] [--webhook-wait SECONDS]
         [--fail-product BRAND/VARIATION] [--refund-product BRAND/VARIATION] [--form KEY=VALUE]...
         [--production --confirm-spend IDR] [--json]`;

/** Time for the polling and the webhook wait; tests pass their own (CliIo may carry it). */
export interface ConformanceClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}
export interface ConformanceIo extends CliIo {
  conformanceClock?: ConformanceClock;
}

const realClock: ConformanceClock = {
  now: Date.now,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** Between two order-status calls of one order: bounded, whatever the timeout. */
export const POLL_INTERVAL_MS = 2000;

interface Args {
  production: boolean;
  confirmSpend: number | null;
  listen: { host: string; port: number; text: string } | null;
  timeoutMs: number;
  webhookWaitMs: number;
  fail: { brandKey: string; variationKey: string } | null;
  refund: { brandKey: string; variationKey: string } | null;
  forms: Record<string, string>;
  json: boolean;
}

function parse(args: string[]): { ok: true; value: Args } | { ok: false; problem: string } {
  let values: ReturnType<typeof parseOptions>['values'];
  try {
    ({ values } = parseOptions(args));
  } catch (err) {
    return { ok: false, problem: (err as Error).message };
  }
  const seconds = (text: string | undefined, name: string, min: number, max: number, dflt: number) => {
    if (text === undefined) return dflt;
    if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max)
      throw new Error(`--${name} must be a whole number of seconds from ${min} to ${max}, got "${text}"`);
    return Number(text);
  };
  try {
    let confirmSpend: number | null = null;
    if (values['confirm-spend'] !== undefined) {
      // Whole rupiah, grouped or not: 150000, 150,000, 150.000 or 150_000.
      const text = values['confirm-spend'].trim();
      if (!/^(\d{1,15}|\d{1,3}([.,_]\d{3}){1,4})$/.test(text))
        throw new Error(`--confirm-spend must be a whole amount in IDR such as 150000, got "${text}"`);
      confirmSpend = Number(text.replace(/[.,_]/g, ''));
    }
    let listen: Args['listen'] = null;
    if (values.listen !== undefined) {
      const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(values.listen.trim());
      const port = Number(m?.[3]);
      if (!m || port > 65535)
        throw new Error(
          `--listen must be HOST:PORT (such as 0.0.0.0:8081 or [::]:8081), got "${values.listen}"`,
        );
      listen = { host: m[1] ?? (m[2] || '0.0.0.0'), port, text: values.listen.trim() };
    }
    const product = (name: 'fail-product' | 'refund-product') => {
      const text = values[name];
      if (text === undefined) return null;
      const ref = parseProductRef(text);
      if (!ref) throw new Error(`--${name} must be BRAND/VARIATION, got "${text}"`);
      return ref;
    };
    const forms: Record<string, string> = {};
    for (const text of values.form ?? []) {
      const f = parseFormOverride(text);
      if (!f) throw new Error(`--form must be KEY=VALUE, got "${text}"`);
      forms[f.key] = f.value;
    }
    return {
      ok: true,
      value: {
        production: values.production ?? false,
        confirmSpend,
        listen,
        timeoutMs: seconds(values.timeout, 'timeout', 1, 3600, 120) * 1000,
        webhookWaitMs: seconds(values['webhook-wait'], 'webhook-wait', 0, 600, 30) * 1000,
        fail: product('fail-product'),
        refund: product('refund-product'),
        forms,
        json: values.json ?? false,
      },
    };
  } catch (err) {
    return { ok: false, problem: (err as Error).message };
  }
}

const parseOptions = (args: string[]) =>
  parseArgs({
    args,
    options: {
      production: { type: 'boolean' },
      'confirm-spend': { type: 'string' },
      listen: { type: 'string' },
      timeout: { type: 'string' },
      'webhook-wait': { type: 'string' },
      'fail-product': { type: 'string' },
      'refund-product': { type: 'string' },
      form: { type: 'string', multiple: true },
      json: { type: 'boolean' },
    },
    strict: true,
    allowPositionals: false,
  });

const idr = (n: number) => `${n.toLocaleString('en-US')} IDR`;

/** Exit codes: 0 nothing contradicted, 1 something contradicted, 2 could not run. */
export async function runConformance(args: string[], io: CliIo): Promise<number> {
  const parsed = parse(args);
  const json = args.includes('--json');
  const fail = (problems: string[]): number => {
    for (const p of problems) io.err(`gateway conformance: ${p}`);
    if (json) io.out(JSON.stringify({ exitCode: 2, problems }));
    return 2;
  };
  if (!parsed.ok) {
    io.err(CONFORMANCE_USAGE);
    return fail([parsed.problem]);
  }
  const a = parsed.value;
  let config: Config;
  let readings: Readings;
  let readingsFile: string;
  try {
    const env = readEnvironment(io.cwd, io.env);
    const loaded = loadConfig(env);
    if (!loaded.ok) return fail(loaded.errors.map((e) => `environment: ${e}`));
    config = resolvePaths(loaded.value, io.cwd);
    readingsFile = env.READINGS_FILE || DEFAULT_READINGS_FILE;
    const r = loadReadingsFile(config.readingsFile, config.readingsRequired);
    if (!r.ok) return fail(r.errors.map((e) => e.replace(config.readingsFile, readingsFile)));
    readings = r.value;
  } catch (err) {
    return fail([(err as Error).message]);
  }

  const where = whereabouts(config);
  const production = describeMitra(config.mitra.baseUrl) === 'production';
  // Progress goes where it does not mix with the JSON on stdout.
  const say = (line: string) => (json ? io.err(line) : io.out(line));
  if (production && !(a.production && a.confirmSpend !== null)) {
    io.err(
      `gateway conformance: ${where.mitra.url} is Mitra's production: every order it places is paid for. It would order:`,
    );
    for (const line of describePlanWithoutPrices(a)) io.err(`  ${line}`);
    io.err(
      'Prices are read from the catalogue. Run again with --production --confirm-spend <IDR>: it reads the catalogue, prints the total, and stops before ordering if the total is more than that.',
    );
    if (json)
      io.out(
        JSON.stringify({
          exitCode: 2,
          problems: ['production refused without --production and --confirm-spend'],
        }),
      );
    return 2;
  }

  const clock = (io as ConformanceIo).conformanceClock ?? realClock;
  let stopped = false;
  void io.stopSignal?.then(() => {
    stopped = true;
  });
  let store: Store;
  try {
    store = await openStore(config);
    await store.migrate();
  } catch (err) {
    return fail([`the database ${describeStore(config)} cannot be opened: ${(err as Error).message}`]);
  }
  const run = new Run(config, readings, readingsFile, a, store, clock, say, () => stopped);
  try {
    const report = await run.execute(cliLogger(io));
    const dir = config.conformanceDir;
    const stem = join(dir, `conformance-${reportStamp(Date.parse(report.startedAt))}`);
    try {
      await mkdir(dir, { recursive: true });
      await writeFile(`${stem}.txt`, renderText(report));
      await writeFile(`${stem}.json`, `${JSON.stringify(report, null, 2)}\n`);
    } catch (err) {
      io.err(`gateway conformance: the report could not be saved in ${dir}: ${(err as Error).message}`);
      if (json) io.out(JSON.stringify(report));
      else io.out(renderSummary(report));
      return 2;
    }
    if (json) io.out(JSON.stringify(report));
    else {
      io.out(renderSummary(report));
      io.out('');
      io.out(`report saved: ${stem}.txt and ${stem}.json`);
    }
    return report.exitCode;
  } catch (err) {
    // Could not run to its end: 2, never 1 (which says a reading is contradicted).
    return fail([
      err instanceof ProductionSpend ? err.message : `stopped by an error: ${(err as Error).message}`,
    ]);
  } finally {
    await run.close();
    await store.close();
  }
}

/** What the run would order, before any price is known. */
function describePlanWithoutPrices(a: Args): string[] {
  return [
    `${SCENARIO_KEYS.topup} (top-up, expected delivered), ${SCENARIO_KEYS.voucher} (voucher, expected delivered)`,
    ...(a.fail ? [`${a.fail.brandKey}/${a.fail.variationKey} (expected failed)`] : []),
    ...(a.refund ? [`${a.refund.brandKey}/${a.refund.variationKey} (expected refunded)`] : []),
    `${SCENARIO_KEYS.notFound}, an empty ref_id, an empty data and a repeated ref_id at the ${SCENARIO_KEYS.topup} price (expected refused: charged only if Mitra took them)`,
  ];
}

class ProductionSpend extends Error {}

/** Pino lines of the limiter and the store, as one line each on stderr (warnings and worse). */
function cliLogger(io: CliIo): Logger {
  return pino(
    { level: 'warn', base: null },
    {
      write: (line: string) => {
        try {
          const l = JSON.parse(line) as { msg?: string };
          io.err(`gateway conformance: ${l.msg ?? line.trim()}`);
        } catch {
          io.err(line.trim());
        }
      },
    },
  );
}

interface Received {
  at: number;
  via: 'listener' | 'store';
  source: string;
  headers: Record<string, string>;
  body: string;
}

/** One run: every call is limited as the gateway's, recorded as an exchange and in the store. */
class Run {
  readonly #exchanges: Exchange[] = [];
  readonly #writes: Promise<void>[] = [];
  readonly #redact: (text: string) => string;
  #step = 'catalogue';
  #limiter: Limiter | null = null;
  #listener: { close(): Promise<void>; received: Received[]; port: number } | null = null;
  readonly #problems: string[] = [];

  constructor(
    private readonly config: Config,
    private readonly readings: Readings,
    private readonly readingsFile: string,
    private readonly a: Args,
    private readonly store: Store,
    private readonly clock: ConformanceClock,
    private readonly say: (line: string) => void,
    private readonly stopped: () => boolean,
  ) {
    const m = config.mitra;
    this.#redact = secretRedactor([m.apiKey, m.secretKey, m.webhookToken]);
  }

  async close(): Promise<void> {
    this.#limiter?.close();
    await this.#listener?.close();
    await Promise.all(this.#writes);
  }

  #client(limiter: Limiter, readings: Readings = this.readings, tries?: number): MitraClient {
    const m = this.config.mitra;
    return new MitraClient({
      ...(tries ? { retry: { tries } } : {}),
      readings: () => readings,
      baseUrl: m.baseUrl,
      apiKey: m.apiKey,
      secretKey: m.secretKey,
      timeoutMs: m.timeoutMs,
      limiter,
      record: (call) => this.#record(call),
    });
  }

  #record(call: SupplierCallRecord): void {
    const url = new URL(call.url);
    this.#exchanges.push({
      at: new Date(call.startedAt).toISOString(),
      step: this.#step,
      operation: call.operation,
      method: call.method,
      path: url.pathname,
      query: Object.fromEntries([...url.searchParams].map(([k, v]) => [k, this.#redact(v)])),
      requestBody: call.requestBody === null ? null : this.#redact(call.requestBody),
      httpStatus: call.httpStatus,
      replyBody: call.replyBody === null ? null : this.#redact(call.replyBody),
      outcome: call.outcome,
      rc: call.rcCode,
      error: call.error,
      durationMs: call.durationMs,
    });
    // Kept where the gateway keeps its own: a gateway that starts next counts these calls too.
    this.#writes.push(
      this.store.recordSupplierCall(call).catch((err: unknown) => {
        this.#problems.push(
          `a supplier call could not be recorded in the database: ${(err as Error).message}`,
        );
      }),
    );
  }

  async execute(logger: Logger): Promise<ConformanceReport> {
    const startedAt = this.clock.now();
    const wallStart = Date.now();
    const limiter = await createLimiter(this.store, this.config, Date.now, logger);
    this.#limiter = limiter;
    const client = this.#client(limiter);
    const catalogue: CatalogueObservation = {
      brandsOutcome: 'not asked',
      brandCount: 0,
      forms: [],
      searched: [],
      missing: [],
    };
    const balance: BalanceProbe[] = [];
    const orders: OrderRecord[] = [];
    const skipped: Observations['skipped'] = [];
    let incomplete = false;
    let webhooks: Observations['webhooks'] = {
      via: this.a.listen ? 'listener' : 'store',
      waitedSeconds: 0,
      items: [],
    };

    const finish = async (): Promise<ConformanceReport> => {
      // Recorded before the report is built: a write that failed is one of its problems.
      await Promise.all(this.#writes);
      return buildReport({
        startedAt,
        finishedAt: this.clock.now(),
        mitra: where(this.config),
        storage: describeStore(this.config),
        readingsFile: this.readingsFile,
        readings: this.readings,
        observations: {
          options: this.#options(),
          catalogue,
          balance,
          orders,
          skipped,
          webhooks,
          exchanges: this.#exchanges,
        },
        problems: this.#problems,
        incomplete,
      });
    };

    if (this.a.listen) {
      try {
        this.#listener = await startListener(this.a.listen, this.config, this.#redact);
        const host = this.a.listen.host.includes(':') ? `[${this.a.listen.host}]` : this.a.listen.host;
        this.say(
          `conformance: listening for Mitra's webhooks on http://${host}:${this.#listener.port}/mitra/webhook/<MITRA_WEBHOOK_TOKEN>`,
        );
      } catch (err) {
        this.#problems.push(`cannot listen on ${this.a.listen.text}: ${(err as Error).message}`);
        incomplete = true;
        return finish();
      }
    }

    // Catalogue and signing.
    this.#step = 'catalogue';
    const brands = await client.brands();
    catalogue.brandsOutcome = brands.kind;
    if (brands.kind !== 'accepted') {
      if (brands.kind === 'retryable' || brands.kind === 'ambiguous') {
        this.#problems.push(`Mitra at ${where(this.config).url} could not be asked: ${brands.reason}`);
        incomplete = true;
      } else
        this.#problems.push(
          `the brand list was refused: rc ${brands.rc}${brands.kind === 'refused' ? ` ${brands.status}` : ''}: ${brands.message}`,
        );
      return finish();
    }
    catalogue.brandCount = brands.data.length;
    catalogue.forms = brands.data.flatMap((b) =>
      b.forms.map((f) => ({ brand: b.key, key: f.key, type: f.type, options: f.options ?? null })),
    );
    const products = new ProductFinder(brands.data, catalogue, async (brandKey) => {
      this.#step = `variations ${brandKey}`;
      return client.variations(brandKey);
    });
    const topup = await products.find(SCENARIO_KEYS.topup);
    const voucher = await products.find(SCENARIO_KEYS.voucher);
    const failProduct = this.a.fail ? await products.named(this.a.fail, '--fail-product') : null;
    const refundProduct = this.a.refund ? await products.named(this.a.refund, '--refund-product') : null;
    const plan = planOrders({
      topup,
      voucher,
      fail: failProduct,
      refund: refundProduct,
      forms: this.a.forms,
      runStartMs: wallStart,
    });
    skipped.push(...plan.skipped);
    const spend = spendOf(plan.orders);
    this.say(`conformance: ${plan.orders.length} orders to place:`);
    for (const o of plan.orders)
      this.say(`  ${o.scenario}: ${o.brandKey}/${o.variationKey} at ${idr(o.price)} (expected ${o.expect})`);
    this.say(
      `  total: ${idr(spend.expected)} expected, at most ${idr(spend.atMost)} if Mitra took every one`,
    );
    if (
      describeMitra(this.config.mitra.baseUrl) === 'production' &&
      spend.atMost > (this.a.confirmSpend ?? 0)
    )
      throw new ProductionSpend(
        `production: the orders may cost up to ${idr(spend.atMost)}, more than --confirm-spend ${idr(this.a.confirmSpend ?? 0)}: nothing was ordered`,
      );

    // Balance: the configured call, then a few alternatives when it is not there.
    await this.#balance(limiter, balance);

    // The scenarios.
    for (const p of plan.orders) {
      if (this.stopped()) break;
      if (p.scenario === 'duplicate-ref-id') {
        const first = orders.find((o) => o.scenario === 'topup');
        if (first?.create.outcome !== 'accepted') {
          skipped.push({ scenario: p.scenario, why: 'the top-up it repeats was not accepted' });
          continue;
        }
      }
      orders.push(await this.#order(limiter, client, p));
    }
    await this.#poll(client, orders);
    for (const o of orders) {
      if (this.stopped() || !o.create.trxCode || o.refId === '') continue;
      this.#step = `status by ref_id ${o.scenario}`;
      const r = await client.orderStatus(o.refId);
      o.byRef = {
        ...outcomeFields(r),
        sameOrder: r.kind === 'accepted' && r.data.code === o.create.trxCode,
      };
    }
    webhooks = await this.#webhooks(orders, wallStart);
    if (this.stopped()) {
      this.#problems.push('stopped before the end (SIGINT/SIGTERM): what was not seen is not observed');
      incomplete = true;
    }
    for (const o of orders) o.found = foundIn(o, this.readings);
    return finish();
  }

  #options(): ConformanceOptions {
    const a = this.a;
    return {
      production: a.production,
      confirmSpendIdr: a.confirmSpend,
      listen: a.listen?.text ?? null,
      timeoutSeconds: a.timeoutMs / 1000,
      webhookWaitSeconds: a.webhookWaitMs / 1000,
      failProduct: a.fail ? `${a.fail.brandKey}/${a.fail.variationKey}` : null,
      refundProduct: a.refund ? `${a.refund.brandKey}/${a.refund.variationKey}` : null,
      forms: a.forms,
    };
  }

  async #balance(limiter: Limiter, out: BalanceProbe[]): Promise<void> {
    const b = this.readings.mitra.balance;
    // Asked once each: a path that is not there may answer a front end's HTML 404, which the
    // client would otherwise retry as unreadable.
    if (b.path !== null) {
      this.#step = 'balance';
      out.push(probe(b.path, b.word, true, await this.#client(limiter, this.readings, 1).balance()));
    }
    const configured = out[0];
    if (configured && !isBalanceNotFound(configured) && configured.rc !== '43') return;
    for (const alt of balanceAlternatives(b)) {
      this.#step = 'balance probe';
      const readings: Readings = { ...this.readings, mitra: { ...this.readings.mitra, balance: alt } };
      const r = await this.#client(limiter, readings, 1).balance();
      out.push(probe(alt.path, alt.word, false, r));
      if (r.kind === 'accepted') return;
    }
  }

  async #order(limiter: Limiter, client: MitraClient, p: PlannedOrder): Promise<OrderRecord> {
    this.#step = `order ${p.scenario}`;
    const permit = await limiter.acquire('order');
    const before = this.#exchanges.length;
    const r = await client.createOrder(
      { brand_key: p.brandKey, variation_key: p.variationKey, price: p.price, ref_id: p.refId, data: p.data },
      permit,
    );
    const reply = this.#exchanges.slice(before).at(-1)?.replyBody ?? null;
    const env = envelopeOf(reply);
    return {
      scenario: p.scenario,
      expect: p.expect,
      brandKey: p.brandKey,
      variationKey: p.variationKey,
      price: p.price,
      refId: p.refId,
      data: p.data,
      isVoucher: p.isVoucher,
      create: {
        ...outcomeFields(r),
        status: env?.status ?? null,
        message: env?.message ?? (r.kind === 'ambiguous' || r.kind === 'retryable' ? r.reason : null),
        trxCode: r.kind === 'accepted' ? r.data.trx_code : null,
      },
      polls: [],
      last: null,
      ended: false,
      endedWhy: r.kind === 'accepted' ? 'not asked yet' : 'not placed',
      found: { voucherAt: null, voucherRead: false, reasonAt: null, reasonRead: false },
      byRef: null,
    };
  }

  /** Every placed order asked in turn until each has ended or the timeout passes. */
  async #poll(client: MitraClient, orders: OrderRecord[]): Promise<void> {
    const open = orders.filter((o) => o.create.trxCode !== null);
    const sightings = new Map<OrderRecord, Sighting[]>(open.map((o) => [o, []]));
    const deadline = this.clock.now() + this.a.timeoutMs;
    for (;;) {
      for (const o of open.filter((x) => !x.ended)) {
        if (this.stopped()) return;
        this.#step = `status ${o.scenario}`;
        const before = this.#exchanges.length;
        const r = await client.orderStatus(o.create.trxCode ?? '');
        const history = r.kind === 'accepted' ? (r.data.history_status ?? []).map((h) => h.status_name) : [];
        const status = r.kind === 'accepted' ? statusNumber(r.data.status) : null;
        o.polls.push({
          at: new Date(this.clock.now()).toISOString(),
          ...outcomeFields(r),
          status,
          historyNames: history,
        });
        if (r.kind === 'accepted') {
          // The data as sent, not as parsed: the search looks at what Mitra wrote.
          o.last = envelopeOf(this.#exchanges.slice(before).at(-1)?.replyBody ?? null)?.data ?? r.data;
        }
        const seen = sightings.get(o) ?? [];
        seen.push({
          status,
          historyLength: history.length,
          refundNamed: history.some((n) => refundPattern(n, this.readings) !== null),
        });
        const end = orderEnded(seen, this.readings);
        o.ended = end.ended;
        o.endedWhy = end.why;
      }
      if (open.every((o) => o.ended) || this.stopped()) return;
      const left = deadline - this.clock.now();
      if (left <= 0) break;
      await this.clock.sleep(Math.min(POLL_INTERVAL_MS, left));
    }
    for (const o of open.filter((x) => !x.ended))
      o.endedWhy = `${o.endedWhy}; still open after ${this.a.timeoutMs / 1000} s (--timeout)`;
  }

  /** The webhooks our orders caused: from the listener, or as a running gateway stored them. */
  async #webhooks(orders: OrderRecord[], wallStart: number): Promise<Observations['webhooks']> {
    const via = this.#listener ? 'listener' : 'store';
    const names = [
      ...new Set(orders.flatMap((o) => [o.refId, ...(o.create.trxCode ? [o.create.trxCode] : [])])),
    ].filter(Boolean);
    const placed = orders.filter((o) => o.create.trxCode !== null);
    const started = this.clock.now();
    const deadline = started + this.a.webhookWaitMs;
    let items: WebhookRecord[] = [];
    for (;;) {
      const received = this.#listener ? [...this.#listener.received] : await this.#stored(wallStart);
      items = received.map((h) => this.#webhookRecord(h, names));
      const named = new Set(items.flatMap((h) => h.names));
      const all = placed.every((o) => named.has(o.create.trxCode ?? '') || named.has(o.refId));
      if (all || placed.length === 0 || this.stopped()) break;
      const left = deadline - this.clock.now();
      if (left <= 0) break;
      await this.clock.sleep(Math.min(POLL_INTERVAL_MS, left));
    }
    return { via, waitedSeconds: Math.round((this.clock.now() - started) / 1000), items };
  }

  async #stored(wallStart: number): Promise<Received[]> {
    // Only what arrived since this run began (with a margin for the clocks of other instances).
    const page = await this.store.pageWebhooks({ since: wallStart - 60_000, limit: 500 });
    return page.items.map((row) => ({
      at: row.receivedAt,
      via: 'store' as const,
      source: row.sourceIp,
      headers: row.headers,
      body: row.body,
    }));
  }

  #webhookRecord(h: Received, names: readonly string[]): WebhookRecord {
    const allow = this.config.mitra.webhookAllowIps;
    let body: unknown;
    let parsed = true;
    try {
      body = JSON.parse(h.body);
    } catch {
      parsed = false;
    }
    return {
      receivedAt: new Date(h.at).toISOString(),
      via: h.via,
      source: h.source,
      allowedSource: allow === '*' || allow.map(normaliseIp).includes(normaliseIp(h.source)),
      headers: Object.fromEntries(Object.entries(h.headers).map(([k, v]) => [k, this.#redact(v)])),
      body: this.#redact(h.body),
      // Whole values only: conf-…-1 must not be found in conf-…-10.
      names: names.filter((n) => (parsed ? placesOf(body, n).length > 0 : h.body.includes(n))),
      readAs: webhookReading(h.body, this.readings),
    };
  }
}

const where = (config: Config) => whereabouts(config).mitra;

/** Finds scenario products in the catalogue, reading as few brands' variations as it can. */
class ProductFinder {
  readonly #variations = new Map<string, MitraVariation[] | null>();
  constructor(
    private readonly brands: readonly MitraBrand[],
    private readonly catalogue: CatalogueObservation,
    private readonly read: (brandKey: string) => Promise<MitraOutcome<MitraVariation[]>>,
  ) {}

  async #of(brandKey: string): Promise<MitraVariation[] | null> {
    if (this.#variations.has(brandKey)) return this.#variations.get(brandKey) ?? null;
    const r = await this.read(brandKey);
    const list = r.kind === 'accepted' ? r.data : null;
    this.#variations.set(brandKey, list);
    this.catalogue.searched.push({ brand: brandKey, outcome: r.kind, variations: list?.length ?? 0 });
    return list;
  }

  #product(b: MitraBrand, v: MitraVariation): Product {
    return { brandKey: b.key, variationKey: v.key, price: v.price, forms: b.forms, isVoucher: b.is_voucher };
  }

  async find(variationKey: string): Promise<Product | null> {
    for (const b of brandSearchOrder(this.brands, variationKey)) {
      if (!this.#variations.has(b.key) && this.#variations.size >= MAX_BRAND_SEARCH) {
        this.catalogue.missing.push({
          key: variationKey,
          why: `not in the variations of the ${this.#variations.size} brands read (at most ${MAX_BRAND_SEARCH})`,
        });
        return null;
      }
      const v = (await this.#of(b.key))?.find((x) => x.key === variationKey);
      if (v) return this.#product(b, v);
    }
    this.catalogue.missing.push({ key: variationKey, why: 'in no brand of the catalogue' });
    return null;
  }

  async named(ref: { brandKey: string; variationKey: string }, flag: string): Promise<Product | null> {
    const b = this.brands.find((x) => x.key === ref.brandKey);
    const key = `${ref.brandKey}/${ref.variationKey}`;
    if (!b) {
      this.catalogue.missing.push({ key, why: `${flag}: no brand ${ref.brandKey} in the catalogue` });
      return null;
    }
    const list = await this.#of(b.key);
    const v = list?.find((x) => x.key === ref.variationKey);
    if (!v) {
      this.catalogue.missing.push({
        key,
        why: list
          ? `${flag}: ${ref.brandKey} has no variation ${ref.variationKey}`
          : `${flag}: the variations of ${ref.brandKey} could not be read`,
      });
      return null;
    }
    return this.#product(b, v);
  }
}

/** rc, HTTP status and kind of an outcome, as the records keep them. */
function outcomeFields(r: MitraOutcome<unknown>): {
  outcome: string;
  rc: string | null;
  httpStatus: number | null;
} {
  if (r.kind === 'accepted') return { outcome: r.kind, rc: '00', httpStatus: r.httpStatus };
  return { outcome: r.kind, rc: r.rc === '' ? null : r.rc, httpStatus: r.httpStatus || null };
}

function probe(path: string, word: string, configured: boolean, r: MitraOutcome<unknown>): BalanceProbe {
  return {
    path,
    word,
    configured,
    ...outcomeFields(r),
    status: r.kind === 'refused' ? r.status || null : null,
  };
}

function envelopeOf(reply: string | null) {
  if (reply === null) return null;
  try {
    const env = envelopeSchema.safeParse(JSON.parse(reply));
    return env.success ? env.data : null;
  } catch {
    return null;
  }
}

/** The command's own webhook listener (--listen): records, answers 200, acts on nothing. */
async function startListener(
  at: { host: string; port: number },
  config: Config,
  redact: (text: string) => string,
): Promise<{ close(): Promise<void>; received: Received[]; port: number }> {
  const received: Received[] = [];
  const token = config.mitra.webhookToken;
  const app = new Hono<{ Bindings: HttpBindings }>();
  app.post(
    '/mitra/webhook/:token',
    async (c, next) => {
      // A stranger's body is never read.
      if (!sameSecret(c.req.param('token'), token)) return c.notFound();
      await next();
    },
    bodyLimit({ maxSize: MAX_WEBHOOK_BYTES, onError: (c) => c.json({ code: 'TOO_LARGE' }, 413) }),
    async (c) => {
      const body = await c.req.text();
      received.push({
        at: Date.now(),
        via: 'listener',
        source: normaliseIp(c.env?.incoming?.socket.remoteAddress ?? ''),
        headers: Object.fromEntries(Object.entries(c.req.header()).map(([k, v]) => [k, redact(v)])),
        body,
      });
      return c.json({ received: true }, 200);
    },
  );
  const server = serve({ fetch: app.fetch, port: at.port, hostname: at.host }) as Server;
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;
  return {
    received,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
