import { PostgresStore } from './postgres/store.js';
import { SqliteStore } from './sqlite/store.js';
import type { Store } from './store.js';

export interface StoreSettings {
  databasePath: string;
  databaseUrl: string | null;
  databasePoolSize: number;
  instanceId: string;
}

/** PostgreSQL when a URL is given, else the SQLite file. Not migrated: see `Store.migrate`. */
export async function openStore(settings: StoreSettings): Promise<Store> {
  if (settings.databaseUrl)
    return PostgresStore.open(settings.databaseUrl, {
      poolSize: settings.databasePoolSize,
      instanceId: settings.instanceId,
    });
  return SqliteStore.open(settings.databasePath, settings.instanceId);
}

/** Where the data lives, for logs: the URL without its password. */
export function describeStore(settings: StoreSettings): string {
  if (!settings.databaseUrl) return settings.databasePath;
  try {
    const url = new URL(settings.databaseUrl);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return 'postgres (unparsable URL)';
  }
}
