import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { z } from 'zod';
import { parseEnv, readEnvironment, type storageEnvSchema } from '../config/env.js';
import { describeStore, openStore, type StoreSettings } from '../db/open.js';
import type { Store } from '../db/store.js';
import type { CliIo } from './run.js';

type StorageEnv = z.output<typeof storageEnvSchema>;

/**
 * Where a storage command works: DATABASE_URL (PostgreSQL) when set, else the SQLite file of
 * `--database` or DATABASE_PATH. Null, with the reason printed, when the environment is wrong.
 */
export function storeSettings<S extends z.ZodType<StorageEnv>>(
  schema: S,
  io: CliIo,
  database: string | undefined,
): { settings: StoreSettings; env: z.output<S> } | null {
  const env = parseEnv(schema, readEnvironment(io.cwd, io.env));
  if (!env.ok) {
    for (const e of env.errors) io.err(`environment: ${e}`);
    return null;
  }
  const v: StorageEnv = env.value;
  return {
    env: env.value,
    settings: {
      databasePath: resolve(io.cwd, database ?? v.DATABASE_PATH),
      databaseUrl: database === undefined ? (v.DATABASE_URL ?? null) : null,
      databasePoolSize: 2,
      instanceId: `${v.INSTANCE_ID}-cli`,
    },
  };
}

/**
 * Runs `work` against an existing database and closes it. A SQLite file that does not exist
 * is refused (opening it would create an empty one, and a typo would look like success).
 */
export async function withStore(
  command: string,
  settings: StoreSettings,
  io: CliIo,
  work: (store: Store, where: string) => Promise<number>,
  options: { mayCreate?: boolean } = {},
): Promise<number> {
  const where = describeStore(settings);
  if (!settings.databaseUrl && !options.mayCreate && !existsSync(settings.databasePath)) {
    io.err(`gateway ${command}: no database at ${settings.databasePath}`);
    return 1;
  }
  let store: Store;
  try {
    store = await openStore(settings);
  } catch (err) {
    io.err(`gateway ${command}: cannot open ${where}: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
  try {
    return await work(store, where);
  } finally {
    await store.close();
  }
}
