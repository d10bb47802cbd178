import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { type BetterSQLite3Database, drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { PACKAGE_ROOT } from '../../config/paths.js';
import * as schema from './schema.js';

export type Db = BetterSQLite3Database<typeof schema>;

export interface Storage {
  db: Db;
  sqlite: Database.Database;
  close(): void;
}

export const MIGRATIONS_FOLDER = resolve(PACKAGE_ROOT, 'migrations', 'sqlite');

/**
 * Opens the database with the settings the design's invariant 5 depends on: WAL, and
 * synchronous=FULL so that a commit acknowledged to Razer survives a power cut.
 */
export function openStorage(path: string): Storage {
  if (path !== ':memory:') mkdirSync(dirname(resolve(path)), { recursive: true });
  const sqlite = new Database(path);
  cacheStatements(sqlite);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const db = drizzle(sqlite, { schema });
  return { db, sqlite, close: () => sqlite.close() };
}

/** How many migrations a SQLite database has had applied. */
export function appliedMigrations(sqlite: Database.Database): number {
  const table = sqlite
    .prepare("select 1 from sqlite_master where type = 'table' and name = '__drizzle_migrations'")
    .get();
  return table
    ? (sqlite.prepare('select count(*) as n from __drizzle_migrations').get() as { n: number }).n
    : 0;
}

/** Applies the pending migrations; applying them again is a no-op. Returns how many ran. */
export function migrateStorage(storage: Storage, folder = MIGRATIONS_FOLDER): number {
  const before = appliedMigrations(storage.sqlite);
  migrate(storage.db, { migrationsFolder: folder });
  return appliedMigrations(storage.sqlite) - before;
}

/**
 * drizzle prepares the same SQL text anew on every call; preparing is a large part of a
 * query's cost here. Statements are reused by text (drizzle binds values as parameters, so
 * the texts are few). drizzle switches a statement to raw (array) rows when it wants them,
 * so a reused one is switched back first.
 */
function cacheStatements(sqlite: Database.Database, max = 500): void {
  const cache = new Map<string, Database.Statement>();
  const prepare = sqlite.prepare.bind(sqlite);
  sqlite.prepare = ((source: string) => {
    const cached = cache.get(source);
    if (cached) {
      if (cached.reader) cached.raw(false);
      return cached;
    }
    const statement = prepare(source);
    if (cache.size >= max) cache.clear();
    cache.set(source, statement);
    return statement;
  }) as typeof sqlite.prepare;
}
