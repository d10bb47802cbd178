import { parse as parseConnectionString } from 'pg-connection-string';
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

/**
 * Where the data lives, for logs: the file, or PostgreSQL's host, port and database name only,
 * read as `pg` reads the URL. Nothing else of it: a password may stand in its user part or in
 * its query (`?password=`, `?sslpassword=`).
 */
export function describeStore(settings: StoreSettings): string {
  if (!settings.databaseUrl) return settings.databasePath;
  if (!/^postgres(ql)?:\/\//i.test(settings.databaseUrl)) return 'postgres (unparsable URL)';
  try {
    // Without its ssl* parameters: pg's parser reads the files they name, which need not be here.
    const url = parseConnectionString(settings.databaseUrl.replace(/([?&])ssl[a-z]*=[^&]*/gi, '$1'));
    return `postgres ${url.host || '(local socket)'}:${url.port || '5432'}/${url.database || '(default database)'}`;
  } catch {
    return 'postgres (unparsable URL)';
  }
}
