import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { createApp } from './app.js';
import type { Config } from './config/env.js';
import type { Mapping } from './config/mapping.js';
import { createMappingStore, type MappingStore } from './config/mapping-store.js';
import { AuditWriter } from './db/audit-writer.js';
import { migrateStorage, openStorage, type Storage } from './db/connection.js';
import { pruneAuditRecordsGradually, retentionCutoff } from './db/retention.js';
import { listCallEndsSince } from './db/supplier-calls.js';
import type { CrashHook } from './fulfilment/crash-points.js';
import { FulfilmentEngine } from './fulfilment/engine.js';
import { Reconciler } from './fulfilment/reconciler.js';
import { WebhookProcessor } from './fulfilment/webhooks.js';
import type { Logger } from './log.js';
import { CatalogueService } from './mitra/catalogue.js';
import { MitraClient } from './mitra/client.js';
import { RateLimiter } from './mitra/limiter.js';
import { mountWebhook } from './mitra/webhook-route.js';

export interface GatewayCounters {
  unauthorized: number;
  alerts: number;
  overdue: number;
}

export interface RunningGateway {
  port: number;
  url: string;
  storage: Storage;
  mapping: MappingStore;
  catalogue: CatalogueService;
  engine: FulfilmentEngine;
  reconciler: Reconciler;
  limiter: RateLimiter;
  audit: AuditWriter;
  counters: GatewayCounters;
  /** Resolves once the catalogue has been fetched at start (or kept, if Mitra was down). */
  catalogueReady: Promise<unknown>;
  close(): Promise<void>;
}

export interface GatewayOptions {
  now?: () => number;
  /** How often the reconciler looks for due work (default 500 ms). */
  reconcileTickMs?: number;
  crash?: CrashHook | undefined;
}

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
  const storage = openStorage(config.databasePath);
  const applied = migrateStorage(storage);
  logger.info({ databasePath: config.databasePath, migrationsApplied: applied }, 'database ready');
  const mappingStore = createMappingStore(config.mappingFile, mapping, logger);
  const counters: GatewayCounters = { unauthorized: 0, alerts: 0, overdue: 0 };

  if (config.razer.signedContent === 'uri') {
    logger.warn(
      'RAZER_SIGNED_CONTENT=uri: Razer signatures do not cover request bodies. A captured signed init or top-up can be replayed with any body. Use body unless Razer confirms uri.',
    );
  }
  const audit = new AuditWriter(storage.db, logger);
  const limiter = new RateLimiter(config.mitra.rateLimit);
  seedLimiter(limiter, storage, config, now, logger);
  const client = new MitraClient({
    baseUrl: config.mitra.baseUrl,
    apiKey: config.mitra.apiKey,
    secretKey: config.mitra.secretKey,
    timeoutMs: config.mitra.timeoutMs,
    limiter,
    now,
    record: (call) => audit.supplierCall(call),
  });
  const catalogue = new CatalogueService({
    client,
    db: storage.db,
    brandsInUse: () => [...mappingStore.current().skus.values()].map((s) => s.brand),
    now,
    logger,
  });
  const engine = new FulfilmentEngine({
    db: storage.db,
    client,
    limiter,
    catalogue,
    now,
    logger,
    schedule: config.reconcileScheduleMs,
    // Longer than one create-order call: a row past it has no reply coming.
    orderingLeaseMs: 2 * config.mitra.timeoutMs + 1000,
    crash: options.crash,
    onAlert: () => {
      counters.alerts++;
    },
  });
  const webhooks = new WebhookProcessor({
    db: storage.db,
    engine,
    refreshBrand: (brand) => catalogue.refreshBrand(brand),
    now,
    logger,
    crash: options.crash,
  });
  const reconciler = new Reconciler({
    db: storage.db,
    engine,
    now,
    logger,
    tickMs: options.reconcileTickMs,
    onOverdue: () => {
      counters.overdue++;
    },
  });

  engine.recoverInterrupted();
  const catalogueReady = catalogue.start().then((report) => logger.info({ report }, 'catalogue refreshed'));
  if (catalogue.age().brandsMs === null) {
    // First start ever: without a catalogue every init would be refused as OOS, so wait a little.
    await Promise.race([catalogueReady, new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
  }

  const app = createApp({
    razer: {
      db: storage.db,
      mapping: () => mappingStore.current(),
      catalogue,
      fulfilment: engine,
      now,
      newToken: () => randomBytes(24).toString('base64url'),
      topupWaitMs: config.topupWaitMs,
      credentials: [{ apiId: config.razer.apiId, keys: config.razer.apiKeys }],
      signedContent: config.razer.signedContent,
      logger,
      audit,
      onUnauthorized: () => {
        counters.unauthorized++;
      },
    },
  });
  mountWebhook(app, {
    token: config.mitra.webhookToken,
    allowIps: config.mitra.webhookAllowIps,
    trustProxy: config.trustProxy,
    processor: webhooks,
    logger,
  });

  const server = serve({ fetch: app.fetch, port: config.port, hostname: config.host }) as Server;
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;
  const retention = startRetention(storage, config.retentionDays, now, logger);
  void webhooks.processBacklog().then((backlog) => {
    if (backlog > 0) logger.info({ webhookBacklog: backlog }, 'stored webhooks processed');
  });
  reconciler.start();
  logger.info({ host: config.host, port, skus: mapping.skus.size }, 'gateway listening');

  let closing: Promise<void> | undefined;
  return {
    port,
    url: `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`,
    storage,
    mapping: mappingStore,
    catalogue,
    engine,
    reconciler,
    limiter,
    audit,
    counters,
    catalogueReady,
    close() {
      // New requests stop first; calls under way finish; what waits for a slot stays queued.
      closing ??= (async () => {
        mappingStore.close();
        retention.stop();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await reconciler.stop();
        // Before waiting for the catalogue: a refresh waiting for a slot would otherwise wait a window.
        limiter.close();
        await catalogue.stop();
        await closed;
        await webhooks.idle();
        await engine.idle();
        audit.close();
        storage.close();
        logger.info({ ...counters }, 'gateway stopped');
      })();
      return closing;
    },
  };
}

/**
 * A restart must not double the supplier calls of a window: the calls the previous process
 * recorded in the last window hold their slots, and a tenth of the limit more stands for what
 * a crash could have sent without recording (calls under way, the last audit batch).
 */
function seedLimiter(
  limiter: RateLimiter,
  storage: Storage,
  config: Config,
  now: () => number,
  logger: Logger,
) {
  const { limit, windowMs } = config.mitra.rateLimit;
  const at = now();
  const ends = listCallEndsSince(storage.db, at - windowMs - 1000, config.mitra.timeoutMs + 1000);
  const margin = Math.ceil(limit / 10);
  limiter.seed(
    ends.map((end) => at - end),
    margin,
  );
  logger.info({ recentCalls: ends.length, margin }, 'rate limiter counts the calls of the last window');
}

/**
 * Daily retention of the audit records of final transactions (never transactions or events):
 * first an hour after start, so that a crash loop does not prune in a loop.
 */
function startRetention(storage: Storage, days: number, now: () => number, logger: Logger) {
  let running: Promise<void> | null = null;
  let stopped = false;
  const run = () => {
    if (running || stopped) return;
    const before = retentionCutoff(now(), days);
    running = pruneAuditRecordsGradually(storage.db, { before, pause: () => pause(stopped) })
      .then((deleted) => logger.info({ deleted, days }, 'audit records of final transactions pruned'))
      .catch((err: unknown) => logger.error({ err }, 'pruning failed; it runs again tomorrow'))
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
  };
}

/** Between prune batches: gives the event loop back, and ends the run once the gateway stops. */
function pause(stopped: boolean): Promise<void> {
  if (stopped) return Promise.reject(new Error('stopping'));
  return new Promise((resolve) => setImmediate(resolve));
}
