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

  const audit = new AuditWriter(storage.db, logger);
  const limiter = new RateLimiter(config.mitra.rateLimit);
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
  const backlog = webhooks.processBacklog();
  reconciler.start();
  logger.info(
    { host: config.host, port, skus: mapping.skus.size, webhookBacklog: backlog },
    'gateway listening',
  );

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
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await reconciler.stop();
        await catalogue.stop();
        limiter.close();
        await closed;
        await webhooks.idle();
        await engine.idle();
        audit.flush();
        storage.close();
        logger.info({ ...counters }, 'gateway stopped');
      })();
      return closing;
    },
  };
}
