import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type HttpBindings, serve } from '@hono/node-server';
import { type Context, Hono } from 'hono';
import { request } from 'undici';
import { z } from 'zod';
import type { RateLimit } from '../config/env.js';
import type { Operation } from '../mitra/client.js';
import { mitraSignMatches } from '../mitra/signature.js';
import { defaultCatalogue, type SimBrand, type SimVariation } from './catalogue.js';
import {
  DEFAULT_WIRE,
  DIALECTS,
  type DialectName,
  dialectSettingSchema,
  type SupplierWire,
  wireOf,
} from './dialects.js';
import { scenarioBrands, scenarioEnding } from './scenarios.js';

/**
 * What each call signs after the secret (mitra-side §1), as the default supplier checks it. The
 * sim's own words, not the gateway's: the balance word is a dialect's (SupplierWire.balance).
 */
const SIGNED = {
  brands: () => 'brand',
  variations: (brandKey: string) => `variation${brandKey}`,
  orderStatus: (tid: string) => `orderstatus${tid}`,
} as const;

/** The sim's own name for a refund in history_status; a dialect may write it otherwise. */
const REFUND_NAME = 'Refund';

/** The published descriptions of the rc codes. */
const RC_TEXT: Record<string, string> = {
  '21': 'Check ID feature is currently not available',
  '22': 'Check ID feature error',
  '23': 'Ref ID is already exist',
  '24': 'Product price limit exceeded',
  '25': 'Insufficient Balance',
  '26': 'Payment Unavailable / Already Paid',
  '40': 'Invalid Parameter',
  '41': 'Parse token error',
  '42': 'Unauthenticated',
  '43': 'Signature Invalid',
  '44': 'Data Not Found / Transaction Not Available',
  '45': 'Traffic limit exceeded, please try again after a while',
  '46': 'User limit exceeded, please contact Admin',
  '47': 'Inquiry Failed / Error ( Postpaid )',
  '50': 'Server Error / Server Maintenance Error',
};

/**
 * Order status codes the simulator keeps (SimOrder.status): 1 and 2 as seen publicly, 3 and 4 its
 * own. A dialect may write processing and failed otherwise on the wire (SupplierWire).
 */
export const SIM_STATUS = { processing: 1, success: 2, failed: 3, refunded: 4 } as const;

export interface SimOrder {
  trxCode: string;
  refId: string;
  brandKey: string;
  variationKey: string;
  variationName: string;
  offeredPrice: number;
  sellingTotal: number;
  data: { key: string; value: string }[];
  status: number;
  sn: string | null;
  voucherCode: string | null;
  history: { status_name: string; timestamp: string }[];
  createdAt: number;
}

/** A fault for the next call of one operation (or of any operation). */
export type CallFault =
  | { kind: 'hang' }
  | { kind: 'http500' }
  | { kind: 'dropReplyAfterCreate' }
  | { kind: 'rateLimit' }
  | { kind: 'garbage' }
  | { kind: 'createThenHang' }
  | { kind: 'refuse'; rc: string; status: string; http: 400 | 401 | 404 }
  | { kind: 'latency'; ms: number }
  /** Order status only: the reply's `status` is this non-number (misleading: it says nothing). */
  | { kind: 'unclearStatus'; value: UnclearStatus }
  /**
   * Create-order only: the order is charged `total` instead of the variation's price, and says so
   * in `selling_total` and later `grand_total` (a fractional amount, say, as Mitra's docs never
   * promise whole IDR).
   */
  | { kind: 'charge'; total: number };

/**
 * Status values the gateway cannot read as processing, success or failed: no number, as a
 * careless supplier might send them, or a number its readings do not know (0 for "pending", say).
 */
export type UnclearStatus = null | '' | false | [] | number;

/**
 * Where a success puts the voucher code: `normal` in detail.voucher_code (and sn); misleading
 * replies: `snOnly` (voucher_code "" and the code in sn), `empty` (both ""), `none` (both null).
 */
export type CodePlacement = 'normal' | 'snOnly' | 'empty' | 'none';

/** How an order ends after processing. `stay` never ends it. */
export type OrderEnding =
  | { kind: 'success'; code?: CodePlacement }
  | { kind: 'fail'; sn: string }
  | { kind: 'refund'; sn: string }
  | { kind: 'stay' };

export const simFaultsSchema = z.strictObject({
  latencyMs: z.number().int().nonnegative().default(0),
  hangProbability: z.number().min(0).max(1).default(0),
  http500Probability: z.number().min(0).max(1).default(0),
  dropReplyAfterCreateProbability: z.number().min(0).max(1).default(0),
  failAfterProcessingProbability: z.number().min(0).max(1).default(0),
  refundAfterProcessingProbability: z.number().min(0).max(1).default(0),
  webhookDropProbability: z.number().min(0).max(1).default(0),
  webhookDuplicateProbability: z.number().min(0).max(1).default(0),
  webhookDelayMs: z.number().int().nonnegative().default(0),
  /** Webhooks are held for this long and then delivered newest first (0 = in order). */
  webhookReorderWindowMs: z.number().int().nonnegative().default(0),
});
export type SimFaults = z.output<typeof simFaultsSchema>;

export interface MitraSimOptions {
  apiKey: string;
  secretKey: string;
  webhookUrl?: string | null;
  balance?: number;
  catalogue?: SimBrand[];
  /** Time from creation to the end of processing. */
  completeAfterMs?: number;
  /** The simulator's own limit (rc 45 / HTTP 429 beyond it); null = none. */
  rateLimit?: RateLimit | null;
  /** Whether order-status accepts a ref_id as `tid` (unknown for the real service). */
  statusAcceptsRefId?: boolean;
  /** A real-world Mitra that answers differently from one reading (src/sim/dialects.ts); none by default. */
  dialect?: DialectName | null;
  /** Send a New Transaction webhook when an order is created. */
  newTransactionWebhook?: boolean;
  faults?: Partial<SimFaults>;
  random?: () => number;
  /** Told of every API call and webhook delivery (the soak checks the limit from here). */
  observer?: SimObserver;
  host?: string;
  port?: number;
}

type Env = { Bindings: HttpBindings };

export interface SimObserver {
  /** An API call arrived, before latency, limit or auth; `at` in ms on performance.timeOrigin. */
  call?(op: Operation, at: number): void;
  /** One webhook delivery attempt ended: its duration, and its HTTP status (null: no answer). */
  webhook?(ms: number, status: number | null): void;
}

type SimOperation = Operation | 'any';

export interface SimStats {
  calls: Record<Operation, number>;
  rateLimited: number;
  authFailures: number;
  webhooksSent: number;
  webhooksDropped: number;
  webhooksFailed: number;
}

/**
 * A stand-in for VCGamers Mitra, faithful to shared/spec/mitra-side.md, with faults that
 * can be switched on per call or by probability. Used by the tests, the sandbox and demos.
 */
export class MitraSimulator {
  readonly app = new Hono<Env>();
  readonly orders: SimOrder[] = [];
  /** Every create-order request that arrived (its ref_id and when), whatever became of it. */
  readonly createAttempts: { refId: string; at: number }[] = [];
  readonly stats: SimStats = {
    calls: { brands: 0, variations: 0, order: 0, 'order-status': 0, balance: 0 },
    rateLimited: 0,
    authFailures: 0,
    webhooksSent: 0,
    webhooksDropped: 0,
    webhooksFailed: 0,
  };
  balance: number;
  webhookUrl: string | null;
  faults: SimFaults;
  readonly #o: Required<
    Omit<MitraSimOptions, 'faults' | 'webhookUrl' | 'port' | 'host' | 'observer' | 'dialect'>
  >;
  #dialect: DialectName | null = null;
  #wire: SupplierWire = wireOf(null);
  readonly #observer: SimObserver;
  readonly #catalogue: SimBrand[];
  readonly #byRef = new Map<string, SimOrder>();
  readonly #byTrx = new Map<string, SimOrder>();
  readonly #nextFaults: { op: SimOperation; fault: CallFault }[] = [];
  readonly #nextEndings: OrderEnding[] = [];
  readonly #callTimes: number[] = [];
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #webhookAbort = new AbortController();
  #reorderBuffer: unknown[] = [];
  #seq = 0;
  #server: Server | null = null;
  url = '';

  constructor(options: MitraSimOptions) {
    this.#o = {
      balance: 10_000_000,
      // With the products that always fail or are refunded (src/sim/scenarios.ts).
      catalogue: [...defaultCatalogue(), ...scenarioBrands()],
      completeAfterMs: 100,
      rateLimit: { limit: 200, windowMs: 60_000 },
      statusAcceptsRefId: true,
      newTransactionWebhook: false,
      random: Math.random,
      ...options,
    };
    this.#observer = options.observer ?? {};
    this.#catalogue = structuredClone(this.#o.catalogue);
    this.balance = this.#o.balance;
    this.webhookUrl = options.webhookUrl ?? null;
    this.faults = simFaultsSchema.parse(options.faults ?? {});
    this.setDialect(options.dialect ?? null);
    this.#routes();
  }

  static async start(options: MitraSimOptions): Promise<MitraSimulator> {
    const sim = new MitraSimulator(options);
    await sim.listen(options.port ?? 0, options.host ?? '127.0.0.1');
    return sim;
  }

  async listen(port: number, host: string): Promise<void> {
    const server = serve({ fetch: this.app.fetch, port, hostname: host }) as Server;
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
    this.#server = server;
    const address = server.address() as AddressInfo;
    this.url = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
  }

  async close(): Promise<void> {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    this.#webhookAbort.abort();
    const server = this.#server;
    if (!server) return;
    this.#server = null;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Orders created for a ref_id: a correct client never has more than one. */
  ordersFor(refId: string): SimOrder[] {
    return this.orders.filter((o) => o.refId === refId);
  }

  order(trxCodeOrRef: string): SimOrder | undefined {
    return this.#byTrx.get(trxCodeOrRef) ?? this.#byRef.get(trxCodeOrRef);
  }

  /** The next call of `op` meets `fault`. */
  nextFault(op: SimOperation, fault: CallFault): void {
    this.#nextFaults.push({ op, fault });
  }

  /** The next order created ends this way (after processing). */
  nextEnding(ending: OrderEnding): void {
    this.#nextEndings.push(ending);
  }

  /** Drops the queued call faults and endings that no call or order has met yet. */
  clearQueued(): void {
    this.#nextFaults.length = 0;
    this.#nextEndings.length = 0;
  }

  setFaults(faults: Partial<SimFaults>): void {
    this.faults = simFaultsSchema.parse({ ...this.faults, ...faults });
  }

  get dialect(): DialectName | null {
    return this.#dialect;
  }

  /**
   * Speaks `dialect` from now on (null: the default). It changes only the wire, so orders made
   * before answer in the new dialect too.
   */
  setDialect(dialect: DialectName | null): void {
    // Parsed: plain-JS callers (CLI, bench) could pass any string.
    this.#dialect = dialectSettingSchema.parse(dialect);
    this.#wire = wireOf(this.#dialect);
  }

  variation(brandKey: string, variationKey: string): SimVariation | undefined {
    return this.#catalogue.find((b) => b.key === brandKey)?.variations.find((v) => v.key === variationKey);
  }

  /** Changes a price or active flag and sends a Product Status webhook. */
  setVariation(brandKey: string, variationKey: string, change: { price?: number; isActive?: boolean }): void {
    const v = this.variation(brandKey, variationKey);
    if (!v) throw new Error(`no variation ${brandKey}/${variationKey}`);
    if (change.price !== undefined) v.price = change.price;
    if (change.isActive !== undefined) v.isActive = change.isActive;
    this.#webhook({
      type: 'product_status',
      data: { brand_key: brandKey, variation_key: variationKey, price: v.price, is_active: v.isActive },
    });
  }

  /** Refunds a delivered order later, as the supplier's back office would, and says so. */
  refund(trxCode: string, sn: string): void {
    const order = this.#byTrx.get(trxCode);
    if (!order) throw new Error(`no order ${trxCode}`);
    order.status = SIM_STATUS.refunded;
    order.sn = sn;
    order.history.push({ status_name: REFUND_NAME, timestamp: new Date().toISOString() });
    this.balance += order.sellingTotal;
    this.#orderWebhook('status_update', order);
  }

  /** Mitra down: nothing listens any more (connections are refused); state is kept. */
  async suspend(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = null;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Mitra back, on the same address. */
  async resume(): Promise<void> {
    const url = new URL(this.url);
    await this.listen(Number(url.port), url.hostname.replace(/^\[|\]$/g, ''));
  }

  /** The supplier's back office fills in a voucher code that a success lacked. */
  deliverCode(trxCode: string, code: string): void {
    const order = this.#byTrx.get(trxCode);
    if (!order) throw new Error(`no order ${trxCode}`);
    order.voucherCode = code;
    order.sn = code;
  }

  /** Ends a processing order now, as the supplier's back office would. */
  finish(trxCode: string, ending: Exclude<OrderEnding, { kind: 'stay' }>): void {
    const order = this.#byTrx.get(trxCode);
    if (!order) throw new Error(`no order ${trxCode}`);
    this.#end(order, ending);
  }

  // ---------------------------------------------------------------- HTTP

  #routes(): void {
    const app = this.app;
    app.get('/__sim/state', (c) =>
      c.json({
        balance: this.balance,
        orders: this.orders,
        stats: this.stats,
        faults: this.faults,
        dialect: this.#dialect,
      }),
    );
    app.post('/__sim/dialect', (c) =>
      adminBody(c, z.strictObject({ dialect: dialectSettingSchema }), ({ dialect }) => {
        this.setDialect(dialect);
        return c.json({ dialect: this.#dialect });
      }),
    );
    app.post('/__sim/faults', (c) =>
      adminBody(c, simFaultsSchema.partial(), (faults) => {
        this.setFaults(faults);
        return c.json(this.faults);
      }),
    );
    app.post('/__sim/next-fault', (c) =>
      adminBody(c, nextFaultSchema, ({ op, fault }) => {
        this.nextFault(op, fault);
        return c.json({ queued: this.#nextFaults.length });
      }),
    );
    app.post('/__sim/next-ending', (c) =>
      adminBody(c, endingSchema, (ending) => {
        this.nextEnding(ending);
        return c.json({ queued: this.#nextEndings.length });
      }),
    );
    app.post('/__sim/variation', (c) =>
      adminBody(c, variationChangeSchema, ({ brand_key, variation_key, price, is_active }) => {
        if (!this.variation(brand_key, variation_key)) return c.json({ error: 'no such variation' }, 404);
        this.setVariation(brand_key, variation_key, { price, isActive: is_active });
        return c.json(this.variation(brand_key, variation_key));
      }),
    );

    app.get('/v2/public/brands', (c) =>
      this.#handle(
        c,
        'brands',
        () => SIGNED.brands(),
        () =>
          ok(
            c,
            this.#catalogue.map((b) => ({
              key: b.key,
              name: b.name,
              image_url: `https://cdn.example.invalid/${b.key}.png`,
              description: b.name,
              ...(b.isVoucher === null ? {} : { is_voucher: b.isVoucher }),
              is_active: b.isActive,
              forms: b.forms,
            })),
          ),
      ),
    );
    app.get('/v2/public/variations', (c) => {
      const brandKey = c.req.query('brand_key') ?? '';
      return this.#handle(
        c,
        'variations',
        () => SIGNED.variations(brandKey),
        () => {
          const brand = this.#catalogue.find((b) => b.key === brandKey);
          if (!brand) return fail(c, 404, 'NOT_FOUND', '44', 'brand not found');
          return ok(
            c,
            brand.variations.map((v) => ({
              key: v.key,
              variation_name: v.name,
              brand_name: brand.name,
              price: v.price,
              is_active: v.isActive,
              sla: '1-5 minutes',
              is_new: false,
            })),
          );
        },
      );
    });
    // Every path some dialect answers the balance on; the one the current dialect uses answers.
    const balancePaths = new Set(
      [DEFAULT_WIRE.balance, ...Object.values(DIALECTS).map((d) => d.deviation.balance)].flatMap((b) =>
        b ? [b.path] : [],
      ),
    );
    for (const path of balancePaths) {
      app.get(path, (c) => {
        const balance = this.#wire.balance;
        // Not this supplier's path: as unknown as any other (no call counted, no auth).
        if (balance?.path !== path) return routeNotFound(c);
        return this.#handle(
          c,
          'balance',
          () => balance.word,
          () => ok(c, { balance: this.balance }),
        );
      });
    }
    app.get('/v2/public/order-status', (c) => {
      const tid = c.req.query('tid') ?? '';
      return this.#handle(
        c,
        'order-status',
        () => SIGNED.orderStatus(tid),
        (fault) => {
          const byRef = this.#o.statusAcceptsRefId && this.#wire.tidAcceptsRefId;
          const order = this.#byTrx.get(tid) ?? (byRef ? this.#byRef.get(tid) : undefined);
          if (!order) return fail(c, 404, 'NOT_FOUND', '44', 'Transaction Not Available');
          const view = statusView(order, this.#wire);
          return ok(c, fault?.kind === 'unclearStatus' ? { ...view, status: fault.value } : view);
        },
      );
    });
    app.post('/v2/public/order', async (c) => {
      const raw = await c.req.text();
      let body: Record<string, unknown> | null = null;
      try {
        const parsed: unknown = JSON.parse(raw);
        if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
          body = parsed as Record<string, unknown>;
      } catch {
        body = null;
      }
      const field = (k: string) =>
        body && (typeof body[k] === 'string' || typeof body[k] === 'number') ? String(body[k]) : '';
      this.createAttempts.push({ refId: field('ref_id'), at: Date.now() });
      return this.#handle(
        c,
        'order',
        () =>
          `order${field('brand_key')}${field('variation_key')}${field('price')}${field('ref_id')}${field('timestamp')}`,
        (fault) =>
          body
            ? this.#createOrder(c, body, fault?.kind === 'charge' ? fault.total : null)
            : fail(c, 400, 'BAD_REQUEST', '40', 'invalid JSON body'),
      );
    });
    app.notFound((c) => routeNotFound(c));
  }

  /** Shared path of every API call: latency, rate limit, auth, signature, then faults. */
  async #handle(
    c: Context<Env>,
    op: Operation,
    message: () => string,
    run: (fault: CallFault | undefined) => Response | Promise<Response>,
  ) {
    this.stats.calls[op]++;
    this.#observer.call?.(op, performance.timeOrigin + performance.now());
    const fault = this.#takeFault(op);
    const latency = this.faults.latencyMs + (fault?.kind === 'latency' ? fault.ms : 0);
    if (latency > 0) await this.#sleep(latency);

    const limited = this.#rateLimited();
    if (fault?.kind === 'rateLimit' || limited !== null) {
      this.stats.rateLimited++;
      c.header('Retry-After', String(Math.max(1, Math.ceil((limited ?? 1000) / 1000))));
      return fail(
        c,
        429,
        'TOO_MANY_REQUESTS',
        '45',
        'Traffic limit exceeded, please try again after a while',
      );
    }
    if (c.req.header('authorization') !== `Bearer ${this.#o.apiKey}`) {
      this.stats.authFailures++;
      return fail(c, 401, 'UNAUTHENTICATED', '42', 'Unauthenticated');
    }
    if (!mitraSignMatches(this.#o.secretKey, message(), c.req.query('sign') ?? '')) {
      this.stats.authFailures++;
      return fail(c, 401, 'SIGNATURE_INVALID', '43', 'Signature Invalid');
    }

    if (fault?.kind === 'hang' || this.#chance(this.faults.hangProbability)) {
      await new Promise<void>((resolve) => c.env.outgoing.once('close', () => resolve()));
      return fail(c, 504, 'TIMEOUT', '50', 'never seen by the client');
    }
    if (fault?.kind === 'http500' || this.#chance(this.faults.http500Probability)) {
      return fail(c, 500, 'INTERNAL_SERVER_ERROR', '50', 'Server Error / Server Maintenance Error');
    }
    if (fault?.kind === 'garbage') return c.body('<html>502 Bad Gateway</html>', 502);
    if (fault?.kind === 'refuse')
      return fail(c, fault.http, fault.status, fault.rc, RC_TEXT[fault.rc] ?? `rc ${fault.rc}`);
    const response = await run(fault);
    if (op === 'order' && response.status === 200 && fault?.kind === 'createThenHang') {
      // The order exists; the reply never comes.
      await new Promise<void>((resolve) => c.env.outgoing.once('close', () => resolve()));
    }
    if (
      op === 'order' &&
      response.status === 200 &&
      (fault?.kind === 'dropReplyAfterCreate' || this.#chance(this.faults.dropReplyAfterCreateProbability))
    ) {
      // The order exists; the client never hears of it.
      c.env.incoming.socket.destroy();
    }
    return response;
  }

  #createOrder(c: Context<Env>, body: Record<string, unknown>, charge: number | null): Response {
    const refId = typeof body.ref_id === 'string' ? body.ref_id : '';
    if (refId.trim() === '') return fail(c, 400, 'CLIENT_ERROR', '40', 'ref_id is required');
    if (this.#byRef.has(refId)) {
      const { http, status, rc } = this.#wire.duplicateRef;
      return fail(c, http, status, rc, RC_TEXT['23'] ?? 'Ref ID is already exist');
    }

    const brand = this.#catalogue.find((b) => b.key === body.brand_key);
    const variation = brand?.variations.find((v) => v.key === body.variation_key);
    if (!brand || !variation) return fail(c, 404, 'NOT_FOUND', '44', 'Product Not Found');

    const data = Array.isArray(body.data) ? (body.data as unknown[]) : [];
    if (brand.forms.length > 0 && data.length === 0) {
      return fail(c, 400, 'VALIDATION_ERROR', '40', 'data is required');
    }
    const problem = validateData(brand, data);
    if (problem) return fail(c, 400, 'VALIDATION_ERROR', '40', problem);
    if (!brand.isActive || !variation.isActive)
      return fail(c, 404, 'NOT_FOUND', '44', 'Product is not active');

    const price = typeof body.price === 'number' ? body.price : Number.NaN;
    if (!Number.isFinite(price)) return fail(c, 400, 'VALIDATION_ERROR', '40', 'price must be a number');
    if (price < variation.price) return fail(c, 400, 'CLIENT_ERROR', '24', 'Product price limit exceeded');
    if (this.balance < variation.price) return fail(c, 400, 'CLIENT_ERROR', '25', 'Insufficient Balance');

    const sellingTotal = charge ?? variation.price;
    this.balance -= sellingTotal;
    const order: SimOrder = {
      trxCode: `VCG-TRX-${String(++this.#seq).padStart(6, '0')}`,
      refId,
      brandKey: brand.key,
      variationKey: variation.key,
      variationName: variation.name,
      offeredPrice: price,
      sellingTotal,
      data: data as { key: string; value: string }[],
      status: SIM_STATUS.processing,
      sn: null,
      voucherCode: null,
      history: [{ status_name: 'Processing', timestamp: new Date().toISOString() }],
      createdAt: Date.now(),
    };
    this.orders.push(order);
    this.#byRef.set(refId, order);
    this.#byTrx.set(order.trxCode, order);
    if (this.#o.newTransactionWebhook) this.#orderWebhook('new_transaction', order);

    const ending =
      this.#nextEndings.shift() ?? scenarioEnding(brand.key, variation.key) ?? this.#randomEnding();
    if (ending.kind !== 'stay') this.#later(this.#o.completeAfterMs, () => this.#end(order, ending));
    return ok(c, {
      trx_code: order.trxCode,
      transaction_status: 'PROCESSING',
      selling_total: sellingTotal,
    });
  }

  #end(order: SimOrder, ending: Exclude<OrderEnding, { kind: 'stay' }>): void {
    const at = new Date().toISOString();
    if (ending.kind === 'success') {
      order.status = SIM_STATUS.success;
      const brand = this.#catalogue.find((b) => b.key === order.brandKey);
      const code = brand?.isVoucher ? `${brand.key}-${randomBytes(6).toString('hex').toUpperCase()}` : null;
      const serial = code ?? `SN${order.trxCode.replace(/\D/g, '')}`;
      const placement = ending.code ?? 'normal';
      order.voucherCode = placement === 'normal' ? code : placement === 'none' ? null : '';
      order.sn = placement === 'normal' || placement === 'snOnly' ? serial : placement === 'none' ? null : '';
      order.history.push({ status_name: 'Success', timestamp: at });
    } else {
      this.balance += order.sellingTotal;
      order.status = ending.kind === 'refund' ? SIM_STATUS.refunded : SIM_STATUS.failed;
      order.sn = ending.sn;
      if (ending.kind === 'refund') order.history.push({ status_name: 'Success', timestamp: at });
      order.history.push({ status_name: ending.kind === 'refund' ? REFUND_NAME : 'Failed', timestamp: at });
    }
    this.#orderWebhook('status_update', order);
    const brand = this.#catalogue.find((b) => b.key === order.brandKey);
    if (ending.kind === 'success' && !brand?.isVoucher) this.#orderWebhook('topup', order);
  }

  #randomEnding(): OrderEnding {
    const r = this.#o.random();
    if (r < this.faults.failAfterProcessingProbability)
      return { kind: 'fail', sn: 'Simulated failure: invalid player' };
    if (r < this.faults.failAfterProcessingProbability + this.faults.refundAfterProcessingProbability) {
      return { kind: 'refund', sn: 'Simulated refund: provider error' };
    }
    return { kind: 'success' };
  }

  // ---------------------------------------------------------------- webhooks

  /**
   * A webhook about one order, in the current dialect. Default bodies: new_transaction
   * `{trx_code, ref_id, status}`, topup adds `sn`, status_update adds `sn` and `status_name`.
   */
  #orderWebhook(type: 'new_transaction' | 'topup' | 'status_update', order: SimOrder): void {
    const wire = this.#wire;
    const fields: Record<string, unknown> = {
      trx_code: order.trxCode,
      ref_id: order.refId,
      status: wireStatus(order.status, wire),
    };
    if (type !== 'new_transaction') {
      const { sn, moved } = outcomeFields(order, wire);
      fields.sn = sn;
      // What a dialect moved out of sn travels under detail, as in its order status.
      if (Object.keys(moved).length > 0) fields.detail = moved;
    }
    if (type === 'status_update') fields.status_name = wireName(order.history.at(-1)?.status_name, wire);
    if (wire.webhookShape === 'type-data') {
      this.#webhook({ type, data: fields });
      return;
    }
    const { trx_code, ref_id, ...rest } = fields;
    this.#webhook({ event: type, transaction: { invoice: trx_code, reference: ref_id, ...rest } });
  }

  #webhook(payload: unknown): void {
    if (!this.webhookUrl) return;
    if (this.#chance(this.faults.webhookDropProbability)) {
      this.stats.webhooksDropped++;
      return;
    }
    const copies = this.#chance(this.faults.webhookDuplicateProbability) ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      if (this.faults.webhookReorderWindowMs > 0) {
        if (this.#reorderBuffer.length === 0) {
          this.#later(this.faults.webhookReorderWindowMs, () => {
            const batch = this.#reorderBuffer.reverse();
            this.#reorderBuffer = [];
            for (const p of batch) void this.#deliver(p);
          });
        }
        this.#reorderBuffer.push(payload);
      } else {
        this.#later(this.faults.webhookDelayMs, () => void this.#deliver(payload));
      }
    }
  }

  async #deliver(payload: unknown): Promise<void> {
    const url = this.webhookUrl;
    if (!url) return;
    for (let attempt = 1; attempt <= 3; attempt++) {
      const started = performance.now();
      try {
        const res = await request(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(payload),
          signal: AbortSignal.any([this.#webhookAbort.signal, AbortSignal.timeout(5000)]),
        });
        await res.body.dump();
        this.#observer.webhook?.(performance.now() - started, res.statusCode);
        if (res.statusCode >= 200 && res.statusCode < 300) {
          this.stats.webhooksSent++;
          return;
        }
      } catch {
        if (this.#webhookAbort.signal.aborted) return;
        this.#observer.webhook?.(performance.now() - started, null);
      }
      await this.#sleep(100 * attempt);
    }
    this.stats.webhooksFailed++;
  }

  // ---------------------------------------------------------------- helpers

  #takeFault(op: Operation): CallFault | undefined {
    const i = this.#nextFaults.findIndex((f) => f.op === op || f.op === 'any');
    return i >= 0 ? this.#nextFaults.splice(i, 1)[0]?.fault : undefined;
  }

  /** Milliseconds until a slot frees when the simulator's own limit is reached, else null. */
  #rateLimited(): number | null {
    const limit = this.#o.rateLimit;
    if (!limit) return null;
    const now = Date.now();
    while (this.#callTimes.length > 0 && (this.#callTimes[0] ?? 0) <= now - limit.windowMs)
      this.#callTimes.shift();
    if (this.#callTimes.length >= limit.limit) return (this.#callTimes[0] ?? now) + limit.windowMs - now;
    this.#callTimes.push(now);
    return null;
  }

  #chance(p: number): boolean {
    return p > 0 && this.#o.random() < p;
  }

  #later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.#timers.delete(t);
      fn();
    }, ms);
    this.#timers.add(t);
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.#later(ms, resolve));
  }
}

/** Admin requests: a JSON body checked by `schema`, or 400 with the reasons. */
async function adminBody<S extends z.ZodType>(
  c: Context<Env>,
  schema: S,
  run: (body: z.output<S>) => Response,
): Promise<Response> {
  const parsed = schema.safeParse(await c.req.json().catch(() => null));
  if (!parsed.success) {
    return c.json(
      { error: parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`) },
      400,
    );
  }
  return run(parsed.data);
}

function ok(c: Context<Env>, data: unknown): Response {
  return c.json({ code: 200, status: 'SUCCESS', rc_code: '00', message: 'Success', data }, 200);
}

/** What the sim answers on a path it does not serve. */
function routeNotFound(c: Context<Env>): Response {
  return fail(c, 404, 'NOT_FOUND', '44', 'route not found');
}

function fail(
  c: Context<Env>,
  http: 400 | 401 | 404 | 409 | 429 | 500 | 504,
  status: string,
  rc: string,
  message: string,
) {
  return c.json({ code: http, status, rc_code: rc, message, data: null }, http);
}

function statusView(o: SimOrder, wire: SupplierWire) {
  const { sn, detail } = outcomeFields(o, wire);
  return {
    code: o.trxCode,
    ref_id: o.refId,
    status: wireStatus(o.status, wire),
    date: new Date(o.createdAt).toISOString(),
    grand_total: o.sellingTotal,
    detail: {
      variation_key: o.variationKey,
      variation_name: o.variationName,
      price: o.sellingTotal,
      customer_data: o.data,
      order_param: o.data,
      ...detail,
    },
    history_status: o.history.map((h) => ({ ...h, status_name: wireName(h.status_name, wire) })),
    sn,
  };
}

/** The sim's status number as this supplier writes it. */
function wireStatus(status: number, wire: SupplierWire): number {
  if (status === SIM_STATUS.processing) return wire.processingStatus;
  if (status === SIM_STATUS.failed) return wire.failedStatus;
  return status;
}

function wireName(name: string | undefined, wire: SupplierWire): string | undefined {
  return name === REFUND_NAME ? wire.refundName : name;
}

/**
 * The order's `sn` and its code (and reason) keys in `detail`. By default the code is in
 * `detail.voucher_code` and `sn` holds the serial or the failure's reason; `moved` is what a
 * dialect took out of `sn` into `detail` (`code` on a success, `note` on a failure).
 */
function outcomeFields(o: SimOrder, wire: SupplierWire) {
  const moved: Record<string, string | null> = {};
  if (o.status === SIM_STATUS.success && wire.codeKey === 'code')
    moved.code = o.voucherCode ? o.voucherCode : o.sn;
  if (
    (o.status === SIM_STATUS.failed || o.status === SIM_STATUS.refunded) &&
    wire.reasonKey === 'detail.note'
  )
    moved.note = o.sn;
  const codeSlot = wire.codeKey === 'code' ? { code: o.voucherCode } : { voucher_code: o.voucherCode };
  return {
    sn: Object.keys(moved).length > 0 ? null : o.sn,
    detail: { ...codeSlot, ...moved },
    moved,
  };
}

/** Checks an order's `data` against the brand's forms, as the published guide describes. */
function validateData(brand: SimBrand, data: unknown[]): string | null {
  const values = new Map<string, string>();
  for (const item of data) {
    const entry = item as { key?: unknown; value?: unknown };
    if (typeof entry?.key !== 'string' || typeof entry.value !== 'string')
      return 'data items are {key, value} strings';
    values.set(entry.key, entry.value);
  }
  for (const form of brand.forms) {
    const value = values.get(form.key);
    if (value === undefined || value.trim() === '') return `${form.key} is required`;
    if (form.type === 'numeric' && !/^\d+$/.test(value)) return `${form.key} must be numeric`;
    if (form.type === 'option' && !(form.options ?? []).includes(value))
      return `${form.key} must be one of the options`;
  }
  return null;
}

const nextFaultSchema = z.object({
  op: z.enum(['brands', 'variations', 'order', 'order-status', 'balance', 'any']),
  fault: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('hang') }),
    z.object({ kind: z.literal('http500') }),
    z.object({ kind: z.literal('dropReplyAfterCreate') }),
    z.object({ kind: z.literal('rateLimit') }),
    z.object({ kind: z.literal('garbage') }),
    z.object({ kind: z.literal('createThenHang') }),
    z.object({
      kind: z.literal('refuse'),
      rc: z.string().regex(/^\d{2}$/),
      status: z.string(),
      http: z.union([z.literal(400), z.literal(401), z.literal(404)]),
    }),
    z.object({ kind: z.literal('latency'), ms: z.number().int().nonnegative() }),
    z.object({
      kind: z.literal('unclearStatus'),
      value: z.union([z.null(), z.literal(''), z.literal(false), z.tuple([]), z.number().int()]),
    }),
    z.object({ kind: z.literal('charge'), total: z.number() }),
  ]),
});

const endingSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('success'), code: z.enum(['normal', 'snOnly', 'empty', 'none']).optional() }),
  z.object({ kind: z.literal('fail'), sn: z.string() }),
  z.object({ kind: z.literal('refund'), sn: z.string() }),
  z.object({ kind: z.literal('stay') }),
]);

const variationChangeSchema = z.object({
  brand_key: z.string(),
  variation_key: z.string(),
  price: z.number().int().nonnegative().optional(),
  is_active: z.boolean().optional(),
});
