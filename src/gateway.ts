import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { createApp } from './app.js';
import type { Config } from './config/env.js';
import type { Mapping } from './config/mapping.js';
import { createMappingStore, type MappingStore } from './config/mapping-store.js';
import { migrateStorage, openStorage, type Storage } from './db/connection.js';
import { recordSupplierCall } from './db/supplier-calls.js';
import type { Fulfilment } from './fulfilment/ports.js';
import type { Logger } from './log.js';
import { CatalogueService } from './mitra/catalogue.js';
import { MitraClient } from './mitra/client.js';
import { RateLimiter } from './mitra/limiter.js';

export interface RunningGateway {
  port: number;
  storage: Storage;
  mapping: MappingStore;
  catalogue: CatalogueService;
  close(): Promise<void>;
}

export interface GatewayOptions {
  now?: () => number;
  /** Replaces the fulfilment engine (tests of the Razer side alone). */
  fulfilment?: Fulfilment;
}

/** Composition root: db -> migrate -> Mitra client -> catalogue -> app -> server. */
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

  const limiter = new RateLimiter(config.mitra.rateLimit);
  const client = new MitraClient({
    baseUrl: config.mitra.baseUrl,
    apiKey: config.mitra.apiKey,
    secretKey: config.mitra.secretKey,
    timeoutMs: config.mitra.timeoutMs,
    limiter,
    now,
    record: (call) => recordSupplierCall(storage.db, call),
  });
  const catalogue = new CatalogueService({
    client,
    db: storage.db,
    brandsInUse: () => [...mappingStore.current().skus.values()].map((s) => s.brand),
    now,
    logger,
  });
  const firstRefresh = catalogue.start();
  void firstRefresh.then((report) => logger.info({ report }, 'catalogue refreshed'));

  const fulfilment: Fulfilment = options.fulfilment ?? {
    // Replaced by the fulfilment engine; until then a top-up stays QUEUED and is answered 408.
    fulfil: async () => {},
  };

  let unauthorized = 0;
  const app = createApp({
    razer: {
      db: storage.db,
      mapping: () => mappingStore.current(),
      catalogue,
      fulfilment,
      now,
      newToken: () => randomBytes(24).toString('base64url'),
      topupWaitMs: config.topupWaitMs,
      credentials: [{ apiId: config.razer.apiId, keys: config.razer.apiKeys }],
      signedContent: config.razer.signedContent,
      logger,
      onUnauthorized: () => {
        unauthorized++;
      },
    },
  });
  const server = serve({ fetch: app.fetch, port: config.port, hostname: config.host });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;
  logger.info({ host: config.host, port, skus: mapping.skus.size }, 'gateway listening');

  let closing: Promise<void> | undefined;
  return {
    port,
    storage,
    mapping: mappingStore,
    catalogue,
    close() {
      closing ??= (async () => {
        mappingStore.close();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await catalogue.stop();
        limiter.close();
        storage.close();
        logger.info({ unauthorizedRequests: unauthorized }, 'gateway stopped');
      })();
      return closing;
    },
  };
}
