import type { Db } from './connection.js';

const statements = new WeakMap<Db, Map<symbol, unknown>>();

/**
 * A query built and prepared once per connection: drizzle otherwise rebuilds the SQL of a
 * hot query (a 31-column select, say) on every call, which costs more than running it.
 */
export function prepared<T>(db: Db, key: symbol, build: (db: Db) => T): T {
  let forDb = statements.get(db);
  if (!forDb) {
    forDb = new Map();
    statements.set(db, forDb);
  }
  let statement = forDb.get(key) as T | undefined;
  if (statement === undefined) {
    statement = build(db);
    forDb.set(key, statement);
  }
  return statement;
}
