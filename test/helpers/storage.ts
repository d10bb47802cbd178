import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { inject } from 'vitest';
import type { StoreSettings } from '../../src/db/open.js';
import { PostgresStore } from '../../src/db/postgres/store.js';
import { migrateStorage, type Storage } from '../../src/db/sqlite/connection.js';
import { SqliteStore } from '../../src/db/sqlite/store.js';
import type { Store } from '../../src/db/store.js';
import { createDatabase } from './postgres.js';

export interface TempDir {
  path: string;
  file(name: string): string;
  remove(): void;
}

export function tempDir(prefix = 'gateway-test-'): TempDir {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return {
    path,
    file: (name) => join(path, name),
    remove: () => rmSync(path, { recursive: true, force: true }),
  };
}

/**
 * Which adapter the storage-touching suites run on: the vitest project sets TEST_DATABASE
 * (the same test files run once per adapter), and the postgres project provides a server.
 */
export const TEST_DIALECT: 'sqlite' | 'postgres' =
  process.env.TEST_DATABASE === 'postgres' ? 'postgres' : 'sqlite';

/** An empty database of the adapter under test, named by the settings a gateway takes. */
export interface TempDatabase {
  settings: StoreSettings;
  /** The environment that selects it (DATABASE_PATH or DATABASE_URL). */
  env: Record<string, string>;
  remove(): Promise<void>;
}

export async function tempDatabase(instanceId = 'test'): Promise<TempDatabase> {
  if (TEST_DIALECT === 'postgres') {
    const db = await createDatabase(inject('postgresUrl'));
    return {
      settings: { databasePath: ':unused:', databaseUrl: db.url, databasePoolSize: 5, instanceId },
      env: { DATABASE_URL: db.url, DATABASE_POOL_SIZE: '5' },
      remove: () => db.drop(),
    };
  }
  const dir = tempDir();
  const path = dir.file('gateway.db');
  return {
    settings: { databasePath: path, databaseUrl: null, databasePoolSize: 1, instanceId },
    env: { DATABASE_PATH: path },
    remove: async () => dir.remove(),
  };
}

export type TempStore = Store & { database: TempDatabase };

/** A migrated store of the adapter under test; `close` removes its database too. */
export async function tempStore(instanceId = 'test'): Promise<TempStore> {
  const database = await tempDatabase(instanceId);
  const { settings } = database;
  const store: Store = settings.databaseUrl
    ? await PostgresStore.open(settings.databaseUrl, { poolSize: settings.databasePoolSize, instanceId })
    : SqliteStore.open(settings.databasePath, instanceId);
  await store.migrate();
  const close = store.close.bind(store);
  return Object.assign(store, {
    database,
    async close() {
      await close();
      await database.remove();
    },
  });
}

/** Rows in a table (with an optional where clause), read beside the store under test. */
export async function countRows(store: TempStore, table: string, where = 'true'): Promise<number> {
  const sql = `select count(*) as n from ${table} where ${where}`;
  const { settings } = store.database;
  if (settings.databaseUrl) {
    const client = new pg.Client({ connectionString: settings.databaseUrl });
    await client.connect();
    try {
      return Number((await client.query<{ n: string }>(sql)).rows[0]?.n ?? 0);
    } finally {
      await client.end();
    }
  }
  return ((store as unknown as SqliteStore).storage.sqlite.prepare(sql).get() as { n: number }).n;
}

/** A migrated SQLite store in a real file (WAL needs one), for the SQLite adapter's own tests. */
export function tempSqlite(): SqliteStore & { path: string; sqlite: Storage['sqlite']; db: Storage['db'] } {
  const dir = tempDir();
  const path = dir.file('gateway.db');
  const store = SqliteStore.open(path, 'test');
  migrateStorage(store.storage);
  const close = store.close.bind(store);
  return Object.assign(store, {
    path,
    sqlite: store.storage.sqlite,
    db: store.storage.db,
    async close() {
      await close();
      dir.remove();
    },
  });
}

const FILLER = 'disk-filler';
type Sqlite = Storage['sqlite'];

/**
 * Makes a real SQLite file "full", portably: the file may not grow (`max_page_count`), and the
 * append-only tables' last pages are packed with marked rows, so that every append fails with
 * SQLITE_FULL as on a full disk (an update in place may still fit, as it would there too).
 */
export function fillDisk(sqlite: Sqlite): void {
  const pages = sqlite.pragma('page_count', { simple: true }) as number;
  sqlite.pragma(`max_page_count = ${pages}`);
  const anyTransaction = sqlite.prepare('select transaction_number as n from transactions limit 1').get() as
    | { n: string }
    | undefined;
  const inserts = [
    sqlite.prepare(
      `insert into supplier_calls (operation, method, url, outcome, started_at, duration_ms, error) values ('${FILLER}', 'GET', '', 'x', 0, 0, ?)`,
    ),
    sqlite.prepare(
      `insert into razer_exchanges (endpoint, api_id, method, path, request_hash, request_body, response_status, response_headers, response_body, received_at, responded_at) values ('${FILLER}', '', '', '', '', ?, 0, '{}', '', 0, 0)`,
    ),
    sqlite.prepare(
      `insert into webhook_inbox (received_at, source_ip, headers, body, body_sha256, kind, processed_at) values (0, '', '{}', ?, '', '${FILLER}', 0)`,
    ),
    ...(anyTransaction
      ? [
          sqlite.prepare(
            `insert into transaction_events (transaction_number, from_state, to_state, cause, at, detail) values ('${anyTransaction.n.replaceAll("'", "''")}', 'QUEUED', 'QUEUED', 'operator', 0, '${FILLER}' || ?)`,
          ),
        ]
      : []),
  ];
  for (const insert of inserts) {
    for (const size of [4096, 1024, 256, 64, 16, 4, 1, 0]) {
      try {
        for (;;) insert.run('x'.repeat(size));
      } catch (err) {
        if ((err as { code?: string }).code !== 'SQLITE_FULL') throw err;
      }
    }
  }
}

/** The disk has room again: the limit is lifted and the marked rows go. */
export function freeDisk(sqlite: Sqlite): void {
  sqlite.pragma('max_page_count = 1073741823');
  sqlite.exec(`
    delete from supplier_calls where operation = '${FILLER}';
    delete from razer_exchanges where endpoint = '${FILLER}';
    delete from webhook_inbox where kind = '${FILLER}';
    delete from transaction_events where detail like '${FILLER}%';
  `);
}
