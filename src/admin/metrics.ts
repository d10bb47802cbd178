import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { OldestOpen, TransactionCounts } from '../db/types.js';
import { OPEN_STATES, TRANSACTION_STATES } from '../db/vocabulary.js';
import { REFUSAL_CODES, REFUSAL_REASONS } from '../fulfilment/refusal.js';
import { ENDPOINT_NAMES } from '../http/request-log.js';
import type { Logger } from '../log.js';
import type { Operation, SupplierCallRecord } from '../mitra/client.js';
import type { Lane } from '../mitra/limiter.js';
import type { OutcomeKind } from '../mitra/outcome.js';
import { WEBHOOK_RESULTS, type WebhookResult } from '../mitra/webhook-route.js';
import { ALERT_KINDS, CONDITION_KINDS, type ConditionKind } from './alerts.js';

// Every label value comes from one of these lists or is `other`: a caller passing a path, a
// reply code or a user's input can never grow the number of series.
export const ENDPOINTS = ENDPOINT_NAMES.filter((e) => e !== 'other');
/** The endpoints Razer Gold calls with a signature. */
const RAZER_ENDPOINTS = [
  'init',
  'topup',
  'query',
  'cancel',
  'validate',
] as const satisfies readonly (typeof ENDPOINTS)[number][];
export const OPERATIONS = [
  'brands',
  'variations',
  'order',
  'order-status',
  'balance',
] as const satisfies readonly Operation[];
export const OUTCOMES = [
  'accepted',
  'refused',
  'exists',
  'retryable',
  'ambiguous',
] as const satisfies readonly OutcomeKind[];
export { WEBHOOK_RESULTS };

const LANES: readonly Lane[] = ['order', 'query'];

/** The states of gateway_oldest_open_seconds: every one a transaction can wait in. */
export const WAITING_STATES = ['INITIATED', ...OPEN_STATES] as const;

export type { WebhookResult };

/** Read at scrape time; each may be sync or async, and may throw without breaking the scrape. */
export interface MetricsSources {
  logger: Logger;
  counts(): Promise<TransactionCounts>;
  /** When the longest-waiting transaction of each open state started waiting (epoch ms). */
  oldestOpen(): Promise<OldestOpen>;
  /** The clock ages are measured with (default Date.now). */
  now?: () => number;
  /** The last known supplier balance in IDR; null: not known yet (no sample). */
  balance(): number | null | Promise<number | null>;
  /** Below this the balance is low; null: never low. */
  lowBalanceThreshold: number | null;
  /** Age of the catalogue in seconds; null: never fetched (no sample). */
  catalogueAgeSeconds(): number | null | Promise<number | null>;
  rateLimitWaiting(): Record<Lane, number> | Promise<Record<Lane, number>>;
  /**
   * What open purchases will still be charged by Mitra (IDR): the balance guard's figure; null:
   * unknown (the open purchases could not be read): no sample.
   */
  committedIdr?: () => number | null | Promise<number | null>;
  /** How long a new order would wait for its create-order slot (s): the queue guard's figure; null: unknown. */
  expectedWaitSeconds?: () => number | null | Promise<number | null>;
  /**
   * Which supplier variation each enabled SKU sells through now, as init would choose it (null:
   * none can sell).
   */
  sellingVariations?: () => Promise<readonly SkuSelling[]>;
  /** Whether /readyz would answer 200 now (its checks); no series without it, 0 when it throws. */
  ready?: () => Promise<boolean>;
  /** Whether an alert condition (supplier auth, low balance, ...) holds now on this instance. */
  alertActive?: (kind: ConditionKind) => boolean;
  /** The process defaults (CPU, memory, event loop); default true. */
  defaultMetrics?: boolean;
}

/** What an enabled SKU sells through now: its main variation, a backup, or nothing. */
export interface SkuSelling {
  sku: string;
  sellsThrough: { choice: string; brand: string; variation: string } | null;
}

export interface GatewayMetrics {
  /** The registry of this gateway alone (never prom-client's global one). */
  readonly registry: Registry;
  razerRequest(endpoint: string, status: number, seconds: number): void;
  /** An init refused (400), by its code and why (a request check or a guard). */
  initRefused(code: string, reason: string): void;
  supplierCall(record: Pick<SupplierCallRecord, 'operation' | 'outcome' | 'durationMs'>): void;
  webhook(result: string): void;
  unauthorized(): void;
  alert(kind: string): void;
  /** A daily summary sent (delivered, or logged without a webhook), or a try that failed. */
  dailySummary(result: 'sent' | 'failed'): void;
  render(): Promise<{ contentType: string; body: string }>;
}

// From a cached reply (1 ms) to a top-up that waited out its 15 s budget, with room above it.
const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 20];

function bounded<T extends string>(list: readonly T[], value: string): T | 'other' {
  return (list as readonly string[]).includes(value) ? (value as T) : 'other';
}

export function statusLabel(status: number): string {
  return Number.isInteger(status) && status >= 100 && status <= 599 ? String(status) : 'other';
}

const FAILED = Symbol('failed');

export function createMetrics(sources: MetricsSources): GatewayMetrics {
  const registry = new Registry();
  if (sources.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const { logger } = sources;

  /**
   * Two gauges read the same source in one scrape (prom-client collects all metrics at
   * once): they share one call, and one failure is logged once.
   */
  function shared<T>(name: string, read: () => T | Promise<T>): () => Promise<T | typeof FAILED> {
    let inFlight: Promise<T | typeof FAILED> | null = null;
    return () => {
      if (inFlight) return inFlight;
      // Called on the next tick, so that a source that throws at once still settles here.
      const p = Promise.resolve()
        .then(read)
        .catch((err: unknown): typeof FAILED => {
          logger.warn({ err, source: name }, 'metrics source failed; its gauges keep their last value');
          return FAILED;
        });
      inFlight = p;
      void p.finally(() => {
        if (inFlight === p) inFlight = null;
      });
      return p;
    };
  }

  const counts = shared('counts', () => sources.counts());
  const oldestOpen = shared('oldestOpen', () => sources.oldestOpen());
  const now = sources.now ?? Date.now;
  const balance = shared('balance', () => sources.balance());
  const catalogueAge = shared('catalogueAgeSeconds', () => sources.catalogueAgeSeconds());
  const waiting = shared('rateLimitWaiting', () => sources.rateLimitWaiting());

  const razerRequests = new Counter({
    name: 'gateway_razer_requests_total',
    help: 'Requests from Razer Gold, by endpoint and HTTP status.',
    labelNames: ['endpoint', 'status'] as const,
    registers,
  });
  const razerDuration = new Histogram({
    name: 'gateway_razer_request_duration_seconds',
    help: 'Time to answer a request from Razer Gold.',
    labelNames: ['endpoint'] as const,
    buckets: DURATION_BUCKETS,
    registers,
  });
  const supplierCalls = new Counter({
    name: 'gateway_supplier_calls_total',
    help: 'Calls to Mitra, by operation and outcome.',
    labelNames: ['operation', 'outcome'] as const,
    registers,
  });
  const supplierDuration = new Histogram({
    name: 'gateway_supplier_call_duration_seconds',
    help: 'Duration of one call to Mitra.',
    labelNames: ['operation'] as const,
    buckets: DURATION_BUCKETS,
    registers,
  });
  new Gauge({
    name: 'gateway_transactions',
    help: 'Transactions by state.',
    labelNames: ['state'] as const,
    registers,
    async collect() {
      const c = await counts();
      if (c === FAILED) return;
      for (const state of TRANSACTION_STATES) this.set({ state }, c.byState[state] ?? 0);
    },
  });
  new Gauge({
    name: 'gateway_oldest_open_seconds',
    help:
      'Age of the longest-waiting open transaction, by state: since its top-up for QUEUED, ORDERING, ' +
      'PROCESSING and UNKNOWN (paid, not delivered yet), since its init for INITIATED (not topped up ' +
      'yet; closed 24 h after init). 0 when none is in that state.',
    labelNames: ['state'] as const,
    registers,
    async collect() {
      const oldest = await oldestOpen();
      if (oldest === FAILED) return;
      const at = now();
      for (const state of WAITING_STATES) {
        const since = oldest[state];
        this.set({ state }, since === null ? 0 : Math.max(0, (at - since) / 1000));
      }
    },
  });
  const attention = new Gauge({
    name: 'gateway_transactions_attention',
    help: 'Transactions flagged for an operator, any state.',
    registers,
    async collect() {
      const c = await counts();
      if (c !== FAILED) this.set(c.attention);
    },
  });
  const balanceIdr = new Gauge({
    name: 'gateway_supplier_balance_idr',
    help: 'Last known Mitra balance in IDR.',
    registers,
    async collect() {
      const b = await balance();
      if (b === FAILED) return;
      if (b === null) this.remove({});
      else this.set(b);
    },
  });
  const balanceLow = new Gauge({
    name: 'gateway_supplier_balance_low',
    help: '1 when the last known Mitra balance is below the alert threshold.',
    registers,
    async collect() {
      const b = await balance();
      if (b === FAILED) return;
      const threshold = sources.lowBalanceThreshold;
      this.set(b !== null && threshold !== null && b < threshold ? 1 : 0);
    },
  });
  const catalogueAgeGauge = new Gauge({
    name: 'gateway_catalogue_age_seconds',
    help: 'Age of the cached Mitra catalogue.',
    registers,
    async collect() {
      const age = await catalogueAge();
      if (age === FAILED) return;
      if (age === null) this.remove({});
      else this.set(age);
    },
  });
  new Gauge({
    name: 'gateway_rate_limit_waiting',
    help: 'Calls waiting for the Mitra rate limiter, by lane.',
    labelNames: ['lane'] as const,
    registers,
    async collect() {
      const w = await waiting();
      if (w === FAILED) return;
      for (const lane of LANES) this.set({ lane }, w[lane] ?? 0);
    },
  });
  const committedSource = sources.committedIdr;
  if (committedSource)
    new Gauge({
      name: 'gateway_supplier_committed_idr',
      help: 'What open purchases will still be charged by Mitra (IDR): the balance guard subtracts it from the balance. No sample while the open purchases cannot be read (the last good figures for a minute).',
      registers,
      async collect() {
        try {
          const committed = await committedSource();
          if (committed === null) this.remove({});
          else this.set(committed);
        } catch (err) {
          sources.logger.warn({ err }, 'metrics: committed balance not read');
        }
      },
    });
  const waitSource = sources.expectedWaitSeconds;
  if (waitSource)
    new Gauge({
      name: 'gateway_supplier_expected_wait_seconds',
      help: 'How long a new order would wait for its create-order slot, from the paid orders queued (every instance) and the rate budget: the queue guard refuses inits above MAX_SUPPLIER_WAIT. No sample while the open purchases cannot be read (the last good figures for a minute).',
      registers,
      async collect() {
        try {
          const wait = await waitSource();
          if (wait === null) this.remove({});
          else this.set(wait);
        } catch (err) {
          sources.logger.warn({ err }, 'metrics: expected supplier wait not read');
        }
      },
    });
  const sellingSource = sources.sellingVariations;
  if (sellingSource) {
    const selling = shared('sellingVariations', sellingSource);
    // One series per enabled SKU that can sell, on the option it sells through; the mapping
    // (the operator's file) bounds the SKUs and variations. Redrawn at each scrape.
    new Gauge({
      name: 'gateway_sku_selling_variation',
      help: 'The supplier variation each enabled SKU sells through now (1), as init chooses: its main, else the first backup that is active, within its max_price and payable by the balance guard (choice main, backup1, ...). No series for a SKU that cannot sell: see gateway_sku_can_sell.',
      labelNames: ['sku', 'brand', 'variation', 'choice'] as const,
      registers,
      async collect() {
        const rows = await selling();
        if (rows === FAILED) return;
        this.reset();
        for (const { sku, sellsThrough: t } of rows)
          if (t) this.set({ sku, brand: t.brand, variation: t.variation, choice: t.choice }, 1);
      },
    });
    new Gauge({
      name: 'gateway_sku_can_sell',
      help: 'Whether an enabled SKU can sell now through some variation, main or backup (1), or init refuses it as out of stock (0).',
      labelNames: ['sku'] as const,
      registers,
      async collect() {
        const rows = await selling();
        if (rows === FAILED) return;
        this.reset();
        for (const { sku, sellsThrough } of rows) this.set({ sku }, sellsThrough ? 1 : 0);
      },
    });
  }
  const readySource = sources.ready;
  if (readySource) {
    const ready = shared('ready', readySource);
    new Gauge({
      name: 'gateway_ready',
      help: 'Whether this instance is ready (1): /readyz would answer 200 (storage takes a write, migrations applied, a catalogue present); 0 when not.',
      registers,
      async collect() {
        // Readiness that cannot be judged is not readiness.
        this.set((await ready()) === true ? 1 : 0);
      },
    });
  }
  const alertActive = sources.alertActive;
  if (alertActive) {
    new Gauge({
      name: 'gateway_alert_active',
      help: 'Whether an alert condition holds now on this instance (1): raised and not yet cleared. The same conditions as the alerts of those kinds.',
      labelNames: ['kind'] as const,
      registers,
      collect() {
        for (const kind of CONDITION_KINDS) this.set({ kind }, alertActive(kind) ? 1 : 0);
      },
    });
  }
  // prom-client starts a gauge without labels at 0: these show nothing until their source answers.
  for (const gauge of [attention, balanceIdr, balanceLow, catalogueAgeGauge]) gauge.remove({});

  const webhooks = new Counter({
    name: 'gateway_webhooks_total',
    help: 'Webhooks received from Mitra, by result.',
    labelNames: ['result'] as const,
    registers,
  });
  const unauthorized = new Counter({
    name: 'gateway_unauthorized_total',
    help: 'Requests refused for a bad or missing credential.',
    registers,
  });
  const initRefusals = new Counter({
    name: 'gateway_init_refusals_total',
    help: 'Inits refused (400), by code and reason: a request check (check), the balance guard (balance) or the queue guard (queue).',
    labelNames: ['code', 'reason'] as const,
    registers,
  });
  const alerts = new Counter({
    name: 'gateway_alerts_total',
    help: 'Alerts raised (each event once), by kind.',
    labelNames: ['kind'] as const,
    registers,
  });
  const dailySummaries = new Counter({
    name: 'gateway_daily_summaries_total',
    help: 'Daily summaries sent by this instance, and tries that failed (tried again a minute later).',
    labelNames: ['result'] as const,
    registers,
  });
  for (const result of ['sent', 'failed']) dailySummaries.inc({ result }, 0);

  // Series that exist from the start: rate() sees the first event as an increase from 0.
  for (const result of WEBHOOK_RESULTS) webhooks.inc({ result }, 0);
  for (const kind of ALERT_KINDS) alerts.inc({ kind }, 0);
  // What the shipped alert rules count from the first event: a bad signature or a server error on
  // each Razer endpoint, and each guard's refusal (the guards refuse out of stock).
  for (const endpoint of RAZER_ENDPOINTS)
    for (const status of ['401', '500']) razerRequests.inc({ endpoint, status }, 0);
  for (const reason of ['balance', 'queue'] as const) initRefusals.inc({ code: 'OOS', reason }, 0);
  for (const operation of OPERATIONS)
    for (const outcome of OUTCOMES) supplierCalls.inc({ operation, outcome }, 0);

  return {
    registry,
    razerRequest(endpoint, status, seconds) {
      const e = bounded(ENDPOINTS, endpoint);
      razerRequests.inc({ endpoint: e, status: statusLabel(status) });
      if (Number.isFinite(seconds) && seconds >= 0) razerDuration.observe({ endpoint: e }, seconds);
    },
    initRefused(code, reason) {
      initRefusals.inc({ code: bounded(REFUSAL_CODES, code), reason: bounded(REFUSAL_REASONS, reason) });
    },
    supplierCall(record) {
      const operation = bounded(OPERATIONS, record.operation);
      supplierCalls.inc({ operation, outcome: bounded(OUTCOMES, record.outcome) });
      if (Number.isFinite(record.durationMs) && record.durationMs >= 0)
        supplierDuration.observe({ operation }, record.durationMs / 1000);
    },
    webhook(result) {
      webhooks.inc({ result: bounded(WEBHOOK_RESULTS, result) });
    },
    unauthorized() {
      unauthorized.inc();
    },
    alert(kind) {
      alerts.inc({ kind: bounded(ALERT_KINDS, kind) });
    },
    dailySummary(result) {
      dailySummaries.inc({ result });
    },
    async render() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
