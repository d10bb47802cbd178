import { getTableName, type Placeholder, sql } from 'drizzle-orm';
import type { SQLiteInsertValue, SQLiteTable } from 'drizzle-orm/sqlite-core';
import type { Db } from './connection.js';

const statements = new WeakMap<Db, Map<symbol | string, unknown>>();

/**
 * A query built and prepared once per connection: drizzle otherwise rebuilds the SQL of a
 * hot query (a 31-column select, say) on every call, which costs more than running it.
 */
export function prepared<T>(db: Db, key: symbol | string, build: (db: Db) => T): T {
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

/**
 * The names of the fields of `values` that hold a value, sorted: what a statement prepared for
 * them depends on. drizzle leaves undefined fields out of an insert or an update, and so does a
 * statement prepared for this shape. The shapes are those the code writes, so they are few.
 */
export function shapeOf(values: object): string[] {
  const names: string[] = [];
  for (const [name, value] of Object.entries(values)) if (value !== undefined) names.push(name);
  return names.sort();
}

/**
 * A placeholder for each name, named after it. drizzle encodes a placeholder's value as its
 * column's (a JSON column's object as text, a boolean as 0 or 1), as it does a literal value.
 */
export function placeholders(names: readonly string[]): Record<string, Placeholder> {
  return Object.fromEntries(names.map((name) => [name, sql.placeholder(name)]));
}

/** The insert of one row into `table`, prepared for the shape of `row`. */
function insertStatement<T extends SQLiteTable>(db: Db, table: T, row: object) {
  const shape = shapeOf(row);
  return prepared(db, `insert ${getTableName(table)} (${shape.join(',')})`, (d) =>
    d
      .insert(table)
      .values(placeholders(shape) as SQLiteInsertValue<T>)
      .prepare(),
  );
}

/** Inserts one row, with a statement prepared once for each shape of row; returns its rowid. */
export function insertRow<T extends SQLiteTable>(db: Db, table: T, row: T['$inferInsert']): number {
  return Number(insertStatement(db, table, row).run(row).lastInsertRowid);
}
