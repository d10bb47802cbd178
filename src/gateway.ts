import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Hono } from 'hono';
import { Alerter } from './admin/alerts.js';
import { BalanceWatch } from './admin/balance-watch.js';
import { type DailySummary, startDailySummary } from './admin/daily-summary.js';
import { createMetrics, type GatewayMetrics } from './admin/metrics.js';
import type { AdminDeps } from './admin/routes.js';
import { watchStuckPurchases } from './admin/stuck-watch.js';
import { cachedCatalogue, sellingNow, supplierReport } from './admin/supplier.js';
import { watchCatalogue, watchSupplierAuth } from './admin/watches.js';
import { createApp, metricsRoute } from './app.js';
import { type Config, describeMitra } from './config/env.js';
import type { Mapping } from './config/mapping.js';
import { createMappingStore, type MappingStore } from './config/mapping-store.js';
import { createReadingsStore, loadReadingsFile, type ReadingsStore } from './config/readings-file.js';
import { lastConformanceReport } from './conformance/last-report.js';
import { AuditWriter } from './db/audit-writer.js';
import { describeStore, openStore } from './db/open.js';
import { pruneAuditRecords, retentionCutoff } from './db/retention.js';
import type { Store } from './db/store.js';
import { judgeBalance } from './fulfilment/balance-guard.js';
import type { CrashHook } from './fulfilment/crash-points.js';
import { FulfilmentEngine } from './fulfilment/engine.js';
import { holderName } from './fulfilment/holders.js';
import { type OperatorDeps, OperatorError } from './fulfilment/operator.js';
import { guardFigures, type QueueGuardDeps, queueVerdict } from './fulfilment/queue-guard.js';
import { Reconciler } from './fulfilment/reconciler.js';
import { SupplySnapshot } from './fulfilment/supply-snapshot.js';
import { WebhookProcessor } from './fulfilment/webhooks.js';
import type { GatewayEnv } from './http/env.js';
import { isReady, readinessChecks } from './http/health.js';
import { listen } from './http/listen.js';
import { type RequestLogDeps, requestRecorder } from './http/request-log.js';
import type { Logger } from './log.js';
import { CatalogueService } from './mitra/catalogue.js';
import { MitraClient } from './mitra/client.js';
import { type Limiter, RateLimiter, skewMarginMs } from './mitra/limiter.js';
import { SharedRateLimiter } from './mitra/shared-limiter.js';
import { RazerContact } from './razer/contact.js';
import { keptAnswerShortcut } from './razer/kept-answer-shortcut.js';
import { QueryAnswers } from './razer/query-answers.js';
import { differences, type Readings } from './readings/settings.js';
import { salesReport } from './reports/sales.js';
import { textRedactor } from './secrets.js';
import { tracedLimiter } from './tracing/limiter.js';
import { tracedStore } from './tracing/store.js';
import type { Tracer } from './tracing/tracer.js';

export interface GatewayCounters {
  unauthorized: number;
  alerts: number;
  overdue: number;
}

export interface RunningGateway {
  port: number;
  url: string;
  /** The HTTP surface, for tests that read its routes. */
  app: Hono<GatewayEnv>;
  store: Store;
  mapping: MappingStore;
  /** The readings file in force: reloaded with the mapping. */
  readings: ReadingsStore;
  catalogue: CatalogueService;
  engine: FulfilmentEngine;
  reconciler: Reconciler;
  limiter: Limiter;
  audit: AuditWriter;
  counters: GatewayCounters;
  metrics: GatewayMetrics;
  alerter: Alerter;
  balance: BalanceWatch;
  /** The daily summary's schedule (DAILY_SUMMARY_HOUR), or null when it is off. */
  dailySummary: DailySummary | null;
  /** What was seen of Razer at onboarding: first verified request per endpoint, diagnosed refusals. */
  razerContact: RazerContact;
  /** The port of the metrics-only listener (METRICS_PORT), or null. */
  metricsPort: number | null;
  /** Resolves once the catalogue has been fetched at start (or kept, if Mitra was down). */
  catalogueReady: Promise<unknown>;
  close(): Promise<void>;
}

export interface GatewayOptions {
  now?: () => number;
  /** How often the reconciler looks for due work (default 500 ms). */
  reconcileTickMs?: number;
  crash?: CrashHook | undefined;
  /** The readings in force at start (default: READINGS_FILE as read now). */
  readings?: Readings;
  /** How often the supplier balance is polled (default 5 minutes). */
  balancePollMs?: number;
  /** How often an instance takes the balance the polling instance shared (default min(poll, 30 s)). */
  balanceFollowMs?: number;
  /** How often the catalogue's age is checked for an alert (default a minute). */
  catalogueWatchMs?: number;
  /** How often open purchases are looked at for STUCK_AFTER (default a minute). */
  stuckWatchMs?: number;
  /** How often the daily summary looks whether it is due (default a minute). */
  dailySummaryCheckMs?: number;
  /**
   * How long one read of the open purchases answers both init guards, the metrics, the supplier
   * page and /readyz (default 1000 ms; tests may use 0).
   */
  supplySnapshotMs?: number;
  /** Traces to this tracer instead of the one OTEL_EXPORTER_OTLP_ENDPOINT would start (tests). */
  tracer?: Tracer;
  /** Alert deliveries' retry pacing (tests shorten it). */
  alertDelivery?: { tries?: number; minDelayMs?: number; maxDelayMs?: number; timeoutMs?: number };
}

/** Where a gateway talks and writes: for the start log and `gateway check`. */
export interface Whereabouts {
  /** The Mitra API's URL and what it is (`production`, `development`, `other host`). */
  mitra: { url: string; host: string };
  storage: string;
  instance: string;
}

export const whereabouts = (config: Config): Whereabouts => ({
  mitra: { url: shownUrl(config.mitra.baseUrl), host: describeMitra(config.mitra.baseUrl) },
  storage: describeStore(config),
  instance: config.instanceId,
});

/** A URL without what it may carry of a credential (user, password, query). */
function shownUrl(url: string): string {
  if (!URL.canParse(url)) return '(unparsable URL)';
  const { origin, pathname } = new URL(url);
  return origin + pathname.replace(/\/+$/, '');
}

/** One line: where the gateway talks and writes. */
export const whereaboutsLine = (w: Whereabouts) =>
  `Mitra ${w.mitra.url} (${w.mitra.host}), storage ${w.storage}, instance ${w.instance}`;

/**
 * Composition root: db -> migrate -> Mitra client -> catalogue -> engine -> app -> server ->
 * workers. Start-up turns interrupted orders into UNKNOWN and replays stored webhooks.
 */
export async function startGateway(
  config: Config,
  mapping: Mapping,
  logger: Logger,
  options: GatewayOptions = {},
): Promise<RunningGateway> {
  const now = options.now ?? Date.now;
  const where = whereabouts(config);
  logger.info(
    { mitra: where.mitra.url, mitraHost: where.mitra.host, storage: where.storage, instance: where.instance },
    `starting: ${whereaboutsLine(where)}`,
  );
  const opened = await openStore(config);
  let applied: number;
  try {
    applied = await opened.migrate();
  } catch (err) {
    await opened.close();
    throw err;
  }
  let tracer: Tracer | undefined;
  try {
    tracer = options.tracer ?? (config.tracing ? await startTracing(config, logger) : undefined);
  } catch (err) {
    await opened.close();
    throw err;
  }
  const store = tracer ? tracedStore(opened, tracer) : opened;
  logger.info(
    {
      database: describeStore(config),
      dialect: store.dialect,
      instanceId: store.instanceId,
      migrationsApplied: applied,
    },
    'database ready',
  );
  const mappingStore = createMappingStore(config.mappingFile, mapping, logger);
  const readingsStore = createReadingsStore(
    config.readingsFile,
    config.readingsRequired,
    options.readings ?? initialReadings(config),
    logger,
    // Said again when a reload turns it on: it weakens every request from then on.
    (previous, next) => {
      if (next.razer.signed_content === 'uri' && previous.razer.signed_content !== 'uri')
        warnUnsignedBodies(logger);
    },
  );
  const readings = () => readingsStore.current();
  const changed = differences(readings());
  if (changed.length > 0)
    logger.warn(
      { file: config.readingsFile, differences: changed.map((d) => `${d.path}: ${JSON.stringify(d.value)}`) },
      `readings differ from the defaults in ${changed.length} setting${changed.length === 1 ? '' : 's'}`,
    );
  const counters: GatewayCounters = { unauthorized: 0, alerts: 0, overdue: 0 };

  if (readings().razer.signed_content === 'uri') warnUnsignedBodies(logger);
  const audit = new AuditWriter(store, logger);
  const untracedLimiter = await createLimiter(store, config, now, logger);
  const limiter = tracer ? tracedLimiter(untracedLimiter, tracer) : untracedLimiter;
  // Set below, once the catalogue and the balance watch exist; read only at scrape time.
  let catalogueAge: () => Promise<number | null> = async () => null;
  let lastBalance: () => number | null = () => null;
  // What both init guards judge by, and what the metrics, the supplier page and /readyz show: one
  // grouped read of the open purchases per second at most, however many inits (see SupplySnapshot
  // for what that costs the guards). A read that fails never stops sales: the guards judge by the
  // last good figures for a minute, then by none, and an operator is told once (cleared by the
  // next good read); the log says it at most once a minute, not once per init.
  const supply = new SupplySnapshot({
    read: () => store.openCommitments(),
    now,
    maxAgeMs: options.supplySnapshotMs,
    unread: (report) => {
      const judged = report.kept
        ? `the init guards judge by the figures read ${Math.round((now() - report.kept.readAt) / 1000)} s ago`
        : 'the init guards judge nothing: no init is refused for the balance or the supplier queue';
      logger.warn(
        { err: report.err, since: new Date(report.since).toISOString(), failedReads: report.failures },
        `open purchases not read (${report.reason}): ${judged} until they are read again`,
      );
      alerter.raise({
        kind: 'open-purchases-unread',
        key: 'open-purchases',
        message: `the open purchases cannot be read (${report.reason}): the balance and queue guards judge by the last figures read for a minute, then refuse nothing, until they are read again`,
      });
    },
    readAgain: (after) => {
      logger.info(
        { since: new Date(after.since).toISOString(), failedReads: after.failures },
        'open purchases read again: the init guards judge by them again',
      );
      alerter.clear('open-purchases-unread', 'open-purchases');
    },
  });
  const queueGuard: QueueGuardDeps = {
    maxWaitMs: config.maxSupplierWaitMs,
    budget: config.mitra.rateLimit,
    refused: (why) => logger.warn(why),
  };
  const supplierGuards = async () => guardFigures(await supply.current(), queueGuard);
  const readinessDetails = async () => ({ supplier: await supplierGuards() });
  const metrics = createMetrics({
    logger,
    // A scrape counts every row: at most once per 5 s, however often it is scraped.
    counts: cachedFor(5000, () => store.countTransactions()),
    // Times, not ages: a cached read still gives the age at each scrape.
    oldestOpen: cachedFor(5000, () => store.oldestOpen()),
    now,
    balance: () => lastBalance(),
    lowBalanceThreshold: config.alerts.balanceBelowIdr,
    catalogueAgeSeconds: () => catalogueAge(),
    rateLimitWaiting: () => limiter.stats().waiting,
    committedIdr: async () => (await supply.current()).figures?.committedIdr ?? null,
    expectedWaitSeconds: async () => (await supplierGuards()).expectedWaitSeconds,
    sellingVariations: () => selling(),
    // The checks of /readyz, at most once per 5 s: one of them is a write.
    ready: cachedFor(5000, async () => isReady(await readinessChecks(readinessProbe))),
    alertActive: (kind) => alerter.active(kind),
  });
  const alerter = new Alerter({
    logger,
    url: config.alerts.webhookUrl,
    onRaise: (event) => metrics.alert(event.kind),
    delivery: options.alertDelivery,
  });
  const authWatch = watchSupplierAuth(alerter);
  const client = new MitraClient({
    readings,
    baseUrl: config.mitra.baseUrl,
    apiKey: config.mitra.apiKey,
    secretKey: config.mitra.secretKey,
    timeoutMs: config.mitra.timeoutMs,
    limiter,
    now,
    logger,
    tracer,
    record: (call) => {
      metrics.supplierCall(call);
      authWatch(call);
      audit.supplierCall(call);
    },
  });
  // Periodic jobs run on one instance at a time: the holder keeps its turn while alive.
  const jobHolder = holderName(store.instanceId);
  const turn = (job: string, ttlMs: number) => store.tryJobLease(job, jobHolder, ttlMs);
  const catalogue = new CatalogueService({
    client,
    store,
    turn,
    // Backups' brands too: a backup is only chosen on a price the catalogue holds.
    brandsInUse: () =>
      [...mappingStore.current().skus.values()].flatMap((s) => [s.brand, ...s.backups.map((b) => b.brand)]),
    now,
    logger,
  });
  // What /readyz and the gateway_ready gauge check.
  const readinessProbe = {
    storageWritable: () => store.checkWritable(),
    // Start-up applied every migration before listening, or stopped.
    migrated: () => true,
    cataloguePresent: async () => (await catalogue.age()).brandsMs !== null,
    onFailure: (check: string, err: unknown) => logger.error({ err, check }, 'readiness check failed'),
  };
  catalogueAge = async () => {
    const age = await catalogue.age();
    if (age.brandsMs === null) return null;
    return Math.max(age.brandsMs, age.oldestVariationsMs ?? 0) / 1000;
  };
  const balance = new BalanceWatch({
    client,
    alerter,
    logger,
    threshold: config.alerts.balanceBelowIdr,
    now,
    // A fresh reading ends the stale-balance condition on every instance that takes it, whether
    // or not an init comes to be judged by it (an idle instance would otherwise show it for ever).
    onReading: (reading) => {
      if (now() - reading.at <= config.balanceGuardMaxAgeMs) alerter.clear('stale-balance', 'balance');
    },
    // Every instance's balance guard judges by the polling instance's reading.
    shared: {
      save: (reading) => store.saveBalance(reading.idr, reading.at),
      load: async () => {
        const row = await store.lastBalance();
        return row ? { idr: row.balanceIdr, at: row.readAt, by: row.readBy } : null;
      },
    },
  });
  lastBalance = () => balance.last()?.idr ?? null;
  // What init's balance guard would say of a price now (its reading, its committed figure): which
  // variation each SKU sells through, on the supplier page and in the metrics, is init's choice.
  const balanceJudge = async () => {
    const reading = balance.last();
    if (!reading) return undefined;
    const at = now();
    const maxAgeMs = config.balanceGuardMaxAgeMs;
    let committed = 0;
    if (at - reading.at <= maxAgeMs) {
      const figures = (await supply.current()).figures;
      // Not known: init's guard judges nothing, and sells.
      if (!figures) return undefined;
      committed = figures.committedIdr;
    }
    return (price: number) => judgeBalance({ reading, committed, price, now: at, maxAgeMs });
  };
  const selling = () => sellingNow({ store, mapping: () => mappingStore.current(), balanceJudge });
  // Longer than one create-order call: a row past it has no reply coming.
  const leaseMs = 2 * config.mitra.timeoutMs + 1000;
  const engine = new FulfilmentEngine({
    tracer,
    readings,
    store,
    client,
    limiter,
    catalogue,
    now,
    logger,
    schedule: config.reconcileScheduleMs,
    orderingLeaseMs: leaseMs,
    crash: options.crash,
    onAlert: (alert) => {
      counters.alerts++;
      // Keyed by the reason too: a contradiction after an overdue flag is a new event.
      if (alert.kind === 'anomaly' && alert.transactionNumber)
        alerter.raise({
          kind: 'flagged',
          key: `${alert.transactionNumber} ${alert.message}`,
          transactionNumber: alert.transactionNumber,
          message: alert.message,
        });
      // One per status number (the engine reports each number once).
      if (alert.kind === 'unknown-status')
        alerter.raise({
          kind: 'unknown-status',
          key: alert.key ?? alert.message,
          transactionNumber: alert.transactionNumber,
          message: alert.message,
        });
    },
  });
  const webhooks = new WebhookProcessor({
    readings,
    store,
    engine,
    refreshBrand: (brand) => catalogue.refreshBrand(brand),
    now,
    logger,
    crash: options.crash,
  });
  const reconciler = new Reconciler({
    store,
    engine,
    leaseMs,
    now,
    logger,
    tickMs: options.reconcileTickMs,
    onOverdue: (transactionNumber) => {
      counters.overdue++;
      alerter.raise({
        kind: 'flagged',
        key: `${transactionNumber} overdue`,
        transactionNumber,
        message: `still open past its deadline: resolve it by hand (gateway tx show ${transactionNumber})`,
      });
    },
  });

  await engine.recoverInterrupted();
  const catalogueReady = catalogue
    .start()
    .then((report) =>
      report
        ? logger.info({ report }, 'catalogue refreshed')
        : logger.info('catalogue: another instance refreshes it; this one reads the shared copy'),
    );
  if ((await catalogue.age()).brandsMs === null) {
    // First start ever: without a catalogue every init would be refused as OOS, so wait a little.
    await Promise.race([catalogueReady, new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
  }

  const operator: OperatorDeps = { store, engine, now, logger, leaseMs };
  let refreshing = false;
  const adminDeps: AdminDeps | null = config.adminToken
    ? {
        token: config.adminToken,
        store,
        operator,
        webhooks,
        supplier: () =>
          supplierReport({
            store,
            mapping: () => mappingStore.current(),
            catalogueAge: () => catalogue.age(),
            limiter,
            // Another instance may hold the polling turn: this one then asks itself, without
            // keeping the reading (its gauge and alert stay with the polling instance).
            balance: async () => balance.last() ?? (await readBalance(client, now)),
            balanceAlertBelowIdr: config.alerts.balanceBelowIdr,
            guards: supplierGuards,
            balanceJudge,
            now,
          }),
        refreshCatalogue: async (items) => {
          // One at a time: each brand is a supplier call, and they queue behind purchases.
          if (refreshing)
            throw new OperatorError(409, 'BUSY', 'a catalogue fetch is under way; try again when it ends');
          refreshing = true;
          try {
            const brands = await catalogue.refreshBrandList();
            const variations: Record<string, string> = {};
            for (const brand of new Set(items.map((i) => i.brand)))
              variations[brand] = await catalogue.refreshBrand(brand);
            const json = await cachedCatalogue(store, items, (brand) => variations[brand] === 'ok');
            return { refreshed: { brands, variations }, ...json };
          } finally {
            refreshing = false;
          }
        },
        reportUtcOffsetMinutes: config.reportUtcOffsetMinutes,
        logger,
        onUnauthorized: () => {
          counters.unauthorized++;
          metrics.unauthorized();
        },
      }
    : null;
  const requestLog: RequestLogDeps = {
    logger,
    // A mistyped webhook URL (`//mitra/webhook/<token>`) is a 404 whose path would carry the token.
    secrets: [config.mitra.webhookToken, ...(config.adminToken ? [config.adminToken] : [])],
    tracer,
    onRequest: (endpoint, status, seconds) => metrics.razerRequest(endpoint, status, seconds),
  };
  // Final answers kept for repeated polls, shared by the Razer routes and the listener's shortcut.
  const queryAnswers = new QueryAnswers();
  const razerContact = new RazerContact({ now });
  const app = createApp({
    razer: {
      store,
      mapping: () => mappingStore.current(),
      catalogue,
      fulfilment: engine,
      now,
      newToken: () => randomBytes(24).toString('base64url'),
      topupWaitMs: config.topupWaitMs,
      resolveDeadlineMs: config.resolveDeadlineMs,
      balanceGuard: {
        reading: () => balance.last(),
        maxAgeMs: config.balanceGuardMaxAgeMs,
        // One alert while stale, not one per init: cleared once a fresh reading is judged.
        stale: (ageMs) =>
          alerter.raise({
            kind: 'stale-balance',
            key: 'balance',
            message: `the supplier balance was last read ${Math.round(ageMs / 60_000)} min ago, longer than BALANCE_GUARD_MAX_AGE: inits are not refused for balance until it is read again`,
          }),
        fresh: () => alerter.clear('stale-balance', 'balance'),
        refused: (why) => logger.warn(why),
      },
      queueGuard,
      supply: () => supply.current(),
      onInitRefused: (code, reason) => metrics.initRefused(code, reason),
      credentials: [
        { apiId: config.razer.apiId, keys: config.razer.apiKeys, retiredKeys: config.razer.retiredKeys },
      ],
      signedContent: () => readings().razer.signed_content,
      logger,
      audit,
      queryAnswers,
      contact: razerContact,
      onUnauthorized: () => {
        counters.unauthorized++;
        metrics.unauthorized();
      },
    },
    webhook: {
      token: config.mitra.webhookToken,
      allowIps: config.mitra.webhookAllowIps,
      trustProxy: config.trustProxy,
      processor: webhooks,
      logger,
      readings,
      cap: config.mitra.webhookCap,
      now,
      onResult: (result) => metrics.webhook(result),
      onFlood: (source, message) => alerter.raise({ kind: 'webhook-flood', key: source, message }),
    },
    admin: adminDeps,
    console: adminDeps && {
      ...adminDeps,
      now,
      goLive: {
        lastConformance: () => lastConformanceReport(config.conformanceDir),
        conformanceDir: config.conformanceDir,
        readingsFile: config.readingsFile,
        readings,
        razerContact: () => razerContact.snapshot(),
      },
    },
    metrics,
    readiness: {
      ...readinessProbe,
      details: readinessDetails,
      // A change of the queue guard's verdict (over or under its limit, unknown) is logged at once.
      verdict: (details) => queueVerdict((details as Awaited<ReturnType<typeof readinessDetails>>).supplier),
      // Not once per probe: on a change of readiness or verdict, else at most once a minute.
      onAnswer: (answer) => logger.info(answer, 'readiness'),
      now,
    },
    requestLog,
  });
  if (!config.adminToken)
    logger.info('admin API off: ADMIN_TOKEN is unset, so /admin and /metrics answer 404 on this port');

  // With tracing on every Razer request goes through the routes, so that each has its trace.
  const shortcut = tracer
    ? undefined
    : keptAnswerShortcut({
        answers: queryAnswers,
        audit,
        now,
        record: requestRecorder(requestLog),
        logger,
      });
  // Workers start once both ports listen; `shutdown` stops whatever has started, so a start
  // that fails halfway (a port taken) leaves no connection, timer or refresh behind.
  let server: Awaited<ReturnType<typeof listen>> | undefined;
  let metricsServer: Awaited<ReturnType<typeof listen>> | null = null;
  let workers: ReturnType<typeof startWorkers> | undefined;
  const startWorkers = () => {
    const retention = startRetention(store, turn, config.retentionDays, now, logger);
    void webhooks.processBacklog().then((backlog) => {
      if (backlog > 0) logger.info({ webhookBacklog: backlog }, 'stored webhooks processed');
    });
    const webhookSweep = sweepWebhooks(webhooks, turn, logger);
    reconciler.start();
    const pollMs = options.balancePollMs ?? 300_000;
    balance.start(pollMs, turn, options.balanceFollowMs ?? Math.min(pollMs, 30_000));
    const catalogueWatch = watchCatalogue({
      age: () => catalogue.age(),
      alerter,
      turn,
      intervalMs: options.catalogueWatchMs ?? 60_000,
      onError: (err) => logger.warn({ err }, 'catalogue age could not be read'),
    });
    const stuckWatch = watchStuckPurchases({
      store,
      alerter,
      turn,
      now,
      logger,
      stuckAfterMs: config.stuckAfterMs,
      resolveDeadlineMs: config.resolveDeadlineMs,
      intervalMs: options.stuckWatchMs ?? 60_000,
    });
    const dailySummary =
      config.dailySummaryHour === null
        ? null
        : startDailySummary({
            store,
            sales: async (day) =>
              (
                await salesReport(store, {
                  from: day,
                  to: day,
                  by: 'day',
                  utcOffsetMinutes: config.reportUtcOffsetMinutes,
                })
              ).total,
            // As the supplier page: the polling instance's reading, else one read now.
            balance: async () => balance.last() ?? (await readBalance(client, now).catch(() => null)),
            post: alerter.posting ? (message) => alerter.post(message) : null,
            hour: config.dailySummaryHour,
            utcOffsetMinutes: config.reportUtcOffsetMinutes,
            resolveDeadlineMs: config.resolveDeadlineMs,
            holder: jobHolder,
            // Outlasts any delivery: a claim never runs out while its holder still posts.
            claimMs: alerter.longestDeliveryMs + 60_000,
            intervalMs: options.dailySummaryCheckMs ?? 60_000,
            now,
            logger,
            onResult: (result) => metrics.dailySummary(result),
          });
    return { retention, webhookSweep, catalogueWatch, stuckWatch, dailySummary };
  };
  const shutdown = async () => {
    // New requests stop first; calls under way finish; what waits for a slot stays queued.
    mappingStore.close();
    readingsStore.close();
    workers?.retention.stop();
    if (workers) clearInterval(workers.webhookSweep);
    workers?.catalogueWatch.stop();
    workers?.stuckWatch.stop();
    workers?.dailySummary?.stop();
    balance.stop();
    const listening = server;
    const closed = listening && new Promise<void>((resolve) => listening.close(() => resolve()));
    server?.closeIdleConnections();
    if (metricsServer) {
      metricsServer.close();
      metricsServer.closeIdleConnections();
    }
    await reconciler.stop();
    // Before waiting for the catalogue: a refresh waiting for a slot would otherwise wait a window.
    limiter.close();
    await catalogue.stop();
    await closed;
    await webhooks.idle();
    await balance.idle();
    await workers?.stuckWatch.idle();
    await engine.idle();
    engine.close();
    await audit.close();
    await workers?.retention.idle();
    alerter.close();
    await alerter.idle();
    // After the alerter: a summary being posted gives up, and gives its claim up, before the store closes.
    await workers?.dailySummary?.idle();
    await store.close();
    // Last: the spans of everything above are sent before the process goes, within 5 s: a
    // collector that hangs must not hold the stop.
    if (tracer) {
      const sent = await Promise.race([
        tracer.shutdown().then(
          () => null,
          (err: unknown) => err,
        ),
        new Promise<string>((resolve) =>
          setTimeout(() => resolve('the collector did not take them within 5 s'), 5000).unref(),
        ),
      ]);
      if (sent !== null) logger.warn({ err: sent }, 'traces not all sent at stop');
    }
    logger.info({ ...counters }, 'gateway stopped');
  };
  try {
    server = await listen(app.fetch, config.port, config.host, logger, shortcut);
    // The metrics-only listener of METRICS_PORT: no token, meant for a private network. When it
    // cannot listen, the main one stops too: a half-started gateway must not serve.
    if (config.metricsPort !== null)
      metricsServer = await listen(
        metricsRoute(metrics, null).fetch,
        config.metricsPort,
        config.host,
        logger,
      );
  } catch (err) {
    await shutdown();
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  const metricsPort = metricsServer && (metricsServer.address() as AddressInfo).port;
  if (metricsPort !== null) logger.info({ metricsPort }, 'metrics served without a token on their own port');
  workers = startWorkers();
  logger.info({ host: config.host, port, skus: mapping.skus.size }, 'gateway listening');

  let closing: Promise<void> | undefined;
  return {
    port,
    app,
    url: `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`,
    store,
    mapping: mappingStore,
    readings: readingsStore,
    catalogue,
    engine,
    reconciler,
    limiter,
    audit,
    counters,
    metrics,
    alerter,
    balance,
    dailySummary: workers.dailySummary,
    razerContact,
    metricsPort,
    catalogueReady,
    close() {
      closing ??= shutdown();
      return closing;
    },
  };
}

/**
 * OpenTelemetry, loaded only now: a gateway without OTEL_EXPORTER_OTLP_ENDPOINT never imports it.
 * The exporter reads its endpoint, headers and timeout from the standard variables itself.
 */
async function startTracing(config: Config, logger: Logger): Promise<Tracer> {
  const otelEnv = config.tracing?.otelEnv ?? {};
  // The SDK reads process.env alone: the settings file's OTEL_* variables (GATEWAY_ENV_FILE, the
  // shipped unit's) are handed to it; one the process environment sets wins, as for every setting.
  // For the life of the process: one gateway runs per process (tests inject their own tracer).
  for (const [key, value] of Object.entries(otelEnv)) process.env[key] ??= value;
  const { startOtelTracing } = await import('./tracing/otel.js');
  const tracer = startOtelTracing({
    instanceId: config.instanceId,
    propagateToMitra: config.tracing?.propagateToMitra ?? false,
    redact: textRedactor(secretsOf(config)),
    logger,
  });
  const traces = otelEnv.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  const base = otelEnv.OTEL_EXPORTER_OTLP_ENDPOINT;
  logger.info(
    {
      endpoint: traces ? shownUrl(traces) : `${shownUrl(base ?? '')}/v1/traces`,
      sampler: otelEnv.OTEL_TRACES_SAMPLER ?? 'parentbased_always_on',
      traceparentToMitra: config.tracing?.propagateToMitra ?? false,
    },
    'tracing on: OpenTelemetry traces over OTLP/HTTP',
  );
  return tracer;
}

/** Every credential the configuration holds: none may reach a span. */
const secretsOf = (config: Config): string[] => [
  ...config.razer.apiKeys,
  ...config.razer.retiredKeys,
  config.mitra.apiKey,
  config.mitra.secretKey,
  config.mitra.webhookToken,
  ...(config.adminToken ? [config.adminToken] : []),
  ...otelHeaderValues(config),
  ...(config.databaseUrl && URL.canParse(config.databaseUrl)
    ? databasePasswords(new URL(config.databaseUrl))
    : []),
];

/** The values of OTEL_EXPORTER_OTLP_HEADERS and _TRACES_HEADERS (`key=value,...`): a collector's key. */
const otelHeaderValues = (config: Config): string[] =>
  ['OTEL_EXPORTER_OTLP_HEADERS', 'OTEL_EXPORTER_OTLP_TRACES_HEADERS'].flatMap((name) =>
    (config.tracing?.otelEnv[name] ?? '')
      .split(',')
      .map((pair) => pair.slice(pair.indexOf('=') + 1).trim())
      .filter((value) => value.length >= 4)
      .flatMap((value) => [value, safeDecode(value)]),
  );

const safeDecode = (text: string): string => {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
};

/** A database URL's password, in its user part or as `?password=`. */
const databasePasswords = (url: URL): string[] =>
  [decodeURIComponent(url.password), url.searchParams.get('password') ?? ''].filter((p) => p !== '');

/** One balance reading, not kept: null when Mitra does not give it. */
async function readBalance(client: MitraClient, now: () => number) {
  const outcome = await client.balance();
  return outcome.kind === 'accepted' ? { idr: outcome.data.balance, at: now() } : null;
}

/** `read`, answered from its last result for `ms` after it settled (a failure is not kept). */
function cachedFor<T>(ms: number, read: () => Promise<T>): () => Promise<T> {
  let last: { at: number; value: Promise<T> } | null = null;
  return () => {
    const at = performance.now();
    if (last && at - last.at < ms) return last.value;
    const value = read();
    last = { at, value };
    value.catch(() => {
      last = null;
    });
    return value;
  };
}

/**
 * The supplier limiter of the configured scope. `shared` keeps one budget in the database for
 * every instance (they leave through one IP, which is what Mitra counts); `instance` keeps it
 * in this process, seeded with the calls recorded in the last window so that a restart does
 * not double a window, plus a tenth of the limit for what a crash could have sent unrecorded.
 */
export async function createLimiter(
  store: Store,
  config: Config,
  now: () => number,
  logger: Logger,
): Promise<Limiter> {
  const { limit, windowMs } = config.mitra.rateLimit;
  // As the local limiter: a margin for clock and network skew between us and Mitra.
  const marginMs = skewMarginMs(windowMs);
  if (config.mitra.rateLimitScope === 'shared') {
    const budget = store.rateBudget({
      limit,
      windowMs: windowMs + marginMs,
      longestCallMs: config.mitra.timeoutMs + 1000,
    });
    if (budget) {
      logger.info(
        { limit, windowMs },
        'supplier rate limit shared by every instance, counted in the database',
      );
      return new SharedRateLimiter(budget, (err) =>
        logger.error({ err }, 'the shared rate budget could not be read; nothing is sent until it can'),
      );
    }
    logger.info(
      'MITRA_RATE_LIMIT_SCOPE=shared on SQLite: one instance, so its own budget is the whole budget',
    );
  }
  const limiter = new RateLimiter(config.mitra.rateLimit);
  const at = now();
  const ends = await store.listCallEndsSince(at - windowMs - 1000, config.mitra.timeoutMs + 1000);
  const margin = Math.ceil(limit / 10);
  limiter.seed(
    ends.map((end) => at - end),
    margin,
  );
  logger.info({ recentCalls: ends.length, margin }, 'rate limiter counts the calls of the last window');
  return limiter;
}

/**
 * Webhooks whose step did not complete (a storage fault, a transaction another step kept)
 * are processed again every half minute, by one instance at a time, not only at the next start.
 */
function sweepWebhooks(
  webhooks: WebhookProcessor,
  turn: (job: string, ttlMs: number) => Promise<boolean>,
  logger: Logger,
): NodeJS.Timeout {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    turn('webhook-sweep', 45_000)
      .then(async (mine) => {
        if (!mine) return;
        const swept = await webhooks.processBacklog();
        if (swept > 0) logger.info({ webhooks: swept }, 'unprocessed webhooks processed again');
      })
      .catch((err: unknown) => logger.error({ err }, 'webhook sweep failed; it runs again'))
      .finally(() => {
        running = false;
      });
  }, 30_000);
  timer.unref();
  return timer;
}

/**
 * Daily retention of the audit records of final transactions (never transactions or events):
 * first an hour after start, so that a crash loop does not prune in a loop; on one instance
 * at a time.
 */
function startRetention(
  store: Store,
  turn: (job: string, ttlMs: number) => Promise<boolean>,
  days: number,
  now: () => number,
  logger: Logger,
) {
  let running: Promise<void> | null = null;
  let stopped = false;
  const run = () => {
    if (running || stopped) return;
    const before = retentionCutoff(now(), days);
    running = (async () => {
      if (!(await turn('retention', 3_600_000))) return;
      const deleted = await pruneAuditRecords(store, { before, pause: () => pause(stopped) });
      logger.info({ deleted, days }, 'audit records of final transactions pruned');
    })()
      .catch((err: unknown) => {
        if (!stopped) logger.error({ err }, 'pruning failed; it runs again tomorrow');
      })
      .finally(() => {
        running = null;
      });
  };
  const first = setTimeout(run, 3_600_000);
  const daily = setInterval(run, 86_400_000);
  first.unref();
  daily.unref();
  return {
    stop() {
      stopped = true;
      clearTimeout(first);
      clearInterval(daily);
    },
    /** Resolves once a run under way has ended (it ends at its next batch once stopped). */
    async idle() {
      await running;
    },
  };
}

/** Between prune batches: gives the event loop back, and ends the run once the gateway stops. */
function pause(stopped: boolean): Promise<void> {
  if (stopped) return Promise.reject(new Error('stopping'));
  return new Promise((resolve) => setImmediate(resolve));
}

/** The readings file as the start finds it; preflight has checked it already on a production start. */
function initialReadings(config: Config): Readings {
  const loaded = loadReadingsFile(config.readingsFile, config.readingsRequired);
  if (!loaded.ok) throw new Error(`the readings file is refused: ${loaded.errors.join('; ')}`);
  return loaded.value;
}

function warnUnsignedBodies(logger: Logger): void {
  logger.warn(
    'razer.signed_content: uri (readings file): Razer signatures do not cover request bodies. A captured signed init or top-up can be replayed with any body. Use body unless Razer confirms uri.',
  );
}
