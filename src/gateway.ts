import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { createApp } from './app.js';
import type { Config } from './config/env.js';
import type { Mapping } from './config/mapping.js';
import { createMappingStore, type MappingStore } from './config/mapping-store.js';
import { migrateStorage, openStorage, type Storage } from './db/connection.js';
import type { Logger } from './log.js';

export interface RunningGateway {
  port: number;
  storage: Storage;
  mapping: MappingStore;
  close(): Promise<void>;
}

/** Composition root: db -> migrate -> app -> server. */
export async function startGateway(
  config: Config,
  mapping: Mapping,
  logger: Logger,
): Promise<RunningGateway> {
  const storage = openStorage(config.databasePath);
  const applied = migrateStorage(storage);
  logger.info({ databasePath: config.databasePath, migrationsApplied: applied }, 'database ready');
  const mappingStore = createMappingStore(config.mappingFile, mapping, logger);

  const app = createApp({ storage, logger });
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
    close() {
      closing ??= (async () => {
        mappingStore.close();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        storage.close();
        logger.info('gateway stopped');
      })();
      return closing;
    },
  };
}
