/**
 * One run of `gateway conformance`: the calls, the waiting and the records the judgement reads.
 * Apart from the command, which only parses, refuses production and saves the report.
 */
import { type Config, describeMitra, isFreeMitra } from '../../config/env.js';
import { describeStore } from '../../db/open.js';
import type { Store } from '../../db/store.js';
import { createLimiter, whereabouts } from '../../gateway.js';
import type { Logger } from '../../log.js';
import { MitraClient, type SupplierCallRecord } from '../../mitra/client.js';
import type { Limiter } from '../../mitra/limiter.js';
import type { Readings } from '../../readings/settings.js';
import { redactStrings, textRedactor } from '../../secrets.js';
import { foundIn, isBalanceNotFound } from '../judge/index.js';
import { balanceAlternatives, type PlannedOrder, planOrders, SCENARIO_KEYS, spendOf } from '../plan.js';
import { buildReport } from '../render.js';
import type {
  BalanceProbe,
  CatalogueObservation,
  ConformanceOptions,
  ConformanceReport,
  Exchange,
  Observations,
  OrderRecord,
} from '../report.js';
import type { ConformanceClock } from './clock.js';
import { type Listener, startListener } from './listener.js';
import { envelopeOf, lookupRecord, needsLookup, outcomeFields, probe } from './outcomes.js';
import { pollOrders } from './poll.js';
import { ProductFinder } from './products.js';
import { signOfCall } from './signs.js';
import { awaitWebhooks } from './webhooks.js';

/** What the operator asked of a run (the command's arguments, parsed). */
export interface RunArgs {
  production: boolean;
  confirmSpend: number | null;
  listen: { host: string; port: number; text: string } | null;
  timeoutMs: number;
  webhookWaitMs: number;
  /** How long an unknown status number must hold to be taken as an order's end (--settle). */
  settleMs: number;
  fail: { brandKey: string; variationKey: string } | null;
  refund: { brandKey: string; variationKey: string } | null;
  forms: Record<string, string>;
}

/** On production, the orders would cost more than --confirm-spend: nothing was ordered. */
export class ProductionSpend extends Error {}

const idr = (n: number) => `${n.toLocaleString('en-US')} IDR`;

const where = (config: Config) => whereabouts(config).mitra;

/** One run: every call is limited as the gateway's, recorded as an exchange and in the store. */
export class Run {
  readonly #exchanges: Exchange[] = [];
  readonly #writes: Promise<void>[] = [];
  /** The configured secrets, redacted from everything kept (bodies as sent but for them). */
  readonly #redact: (text: string) => string;
  readonly #secrets: string[];
  /** The sign of every call made: Mitra may echo one anywhere (a reply, a message). */
  readonly #signs = new Set<string>();
  /** What was observed so far, as a report that says it is partial (set once the run starts). */
  #partial: ((why: string) => Promise<ConformanceReport>) | null = null;
  #step = 'catalogue';
  #limiter: Limiter | null = null;
  #listener: Listener | null = null;
  readonly #problems: string[] = [];

  constructor(
    private readonly config: Config,
    private readonly readings: Readings,
    private readonly readingsFile: string,
    private readonly a: RunArgs,
    private readonly store: Store,
    private readonly clock: ConformanceClock,
    private readonly say: (line: string) => void,
    private readonly stopped: () => boolean,
  ) {
    const m = config.mitra;
    this.#secrets = [m.apiKey, m.secretKey, m.webhookToken];
    this.#redact = textRedactor(this.#secrets);
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
      record: (call) => this.#record(call, readings.mitra.balance.word),
    });
  }

  /**
   * `value` (the report, a message) with every string redacted: the configured secrets and the
   * sign of every call made, in any spelling. What is printed or saved goes through here.
   */
  redacted<T>(value: T): T {
    return redactStrings(value, textRedactor([...this.#secrets, ...this.#signs]));
  }

  /**
   * After an error that stopped the run: what was observed until then, as a report whose
   * problems say why it is partial (exit 2); null when the run had not started, or the
   * observations cannot be judged.
   */
  async partialReport(why: string): Promise<ConformanceReport | null> {
    try {
      return this.#partial ? await this.#partial(why) : null;
    } catch {
      return null;
    }
  }

  #record(call: SupplierCallRecord, balanceWord: string): void {
    const url = new URL(call.url);
    // This call's own sign too, as Mitra may echo it in the reply or its message.
    const sign = signOfCall(call, this.config.mitra.secretKey, balanceWord);
    if (sign) this.#signs.add(sign);
    const redact = sign ? textRedactor([...this.#secrets, sign]) : this.#redact;
    this.#exchanges.push({
      at: new Date(call.startedAt).toISOString(),
      step: this.#step,
      operation: call.operation,
      method: call.method,
      path: url.pathname,
      query: Object.fromEntries([...url.searchParams].map(([k, v]) => [k, redact(v)])),
      requestBody: call.requestBody === null ? null : redact(call.requestBody),
      httpStatus: call.httpStatus,
      replyBody: call.replyBody === null ? null : redact(call.replyBody),
      outcome: call.outcome,
      rc: call.rcCode,
      error: call.error === null ? null : redact(call.error),
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
    this.#partial = (why) => {
      this.#problems.push(why);
      incomplete = true;
      return finish();
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
    // Wherever orders may be paid for (production, or a host that may lead there), never more
    // than the operator confirmed.
    if (!isFreeMitra(this.config.mitra.baseUrl) && spend.atMost > (this.a.confirmSpend ?? 0))
      throw new ProductionSpend(
        `${describeMitra(this.config.mitra.baseUrl)}: the orders may cost up to ${idr(spend.atMost)}, more than --confirm-spend ${idr(this.a.confirmSpend ?? 0)}: nothing was ordered`,
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
    // An unclear create-order may have been placed (and charged): asked once by ref_id, after
    // the others were sent (time for Mitra to have it). Found, it is followed as placed; not
    // found, the run cannot say what it cost: incomplete.
    for (const o of orders) {
      if (this.stopped() || !needsLookup(o)) continue;
      this.#step = `lookup by ref_id ${o.scenario}`;
      o.createLookup = lookupRecord(o.refId === '' ? null : await client.orderStatus(o.refId), o.refId);
      if (o.createLookup.trxCode !== null) {
        o.create.trxCode = o.createLookup.trxCode;
        o.endedWhy = 'not asked yet';
        this.#problems.push(
          `${o.scenario} (ref_id ${JSON.stringify(o.refId)}): create-order answered ${o.create.outcome}${o.create.rc ? ` rc ${o.create.rc}` : ''} (HTTP ${o.create.httpStatus ?? 'none'}), yet Mitra has it by ref_id as ${o.createLookup.trxCode}: followed as placed`,
        );
      } else {
        incomplete = true;
        this.#problems.push(
          `${o.scenario} (ref_id ${JSON.stringify(o.refId)}) may have been placed (and charged): create-order answered ${o.create.outcome}${o.create.rc ? ` rc ${o.create.rc}` : ''} (HTTP ${o.create.httpStatus ?? 'none'})${o.create.message ? `: ${o.create.message}` : ''}; asked by ref_id: ${o.createLookup.note ?? `${o.createLookup.outcome}${o.createLookup.rc ? ` rc ${o.createLookup.rc}` : ''} (HTTP ${o.createLookup.httpStatus ?? 'none'})`}: check it with Mitra`,
        );
      }
    }
    await pollOrders(client, orders, {
      readings: this.readings,
      clock: this.clock,
      timeoutMs: this.a.timeoutMs,
      settleMs: this.a.settleMs,
      stopped: this.stopped,
      step: (name) => {
        this.#step = name;
      },
      exchanges: this.#exchanges,
    });
    for (const o of orders) {
      if (this.stopped() || !o.create.trxCode || o.refId === '') continue;
      this.#step = `status by ref_id ${o.scenario}`;
      const r = await client.orderStatus(o.refId);
      o.byRef = {
        ...outcomeFields(r),
        sameOrder: r.kind === 'accepted' && r.data.code === o.create.trxCode,
      };
    }
    webhooks = await awaitWebhooks(orders, wallStart, {
      listened: this.#listener ? this.#listener.received : null,
      store: this.store,
      config: this.config,
      readings: this.readings,
      redact: this.#redact,
      clock: this.clock,
      waitMs: this.a.webhookWaitMs,
      stopped: this.stopped,
    });
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
      createLookup: null,
      byRef: null,
    };
  }
}
