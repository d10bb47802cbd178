import { getTableColumns, getTableName, type Placeholder, type SQL, sql, type Table } from 'drizzle-orm';
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
 * The fields of `values` that hold a value, sorted, a null one marked `name=null`: what a
 * statement prepared for them depends on. drizzle leaves undefined fields out of an insert or
 * an update, and writes a null as SQL NULL without its column's encoder (a JSON column would
 * store the text 'null', a NOT NULL boolean a silent 0); so does a statement prepared for this
 * shape. The shapes are those the code writes, so they are few.
 */
export function shapeOf(values: object): string[] {
  const shape: string[] = [];
  for (const [name, value] of Object.entries(values)) {
    if (value === null) shape.push(`${name}${IS_NULL}`);
    else if (value !== undefined) shape.push(name);
  }
  return shape.sort();
}

const IS_NULL = '=null';

/**
 * A placeholder for each field of a shape, named after it, or SQL NULL for a null one. drizzle
 * encodes a placeholder's value as its column's (a JSON column's object as text, a boolean as 0
 * or 1), as it does a literal value.
 */
export function placeholders(shape: readonly string[]): Record<string, Placeholder | SQL> {
  return Object.fromEntries(
    shape.map((field) =>
      field.endsWith(IS_NULL)
        ? [field.slice(0, -IS_NULL.length), sql`null`]
        : [field, sql.placeholder(field)],
    ),
  );
}

/**
 * drizzle computes a column's $defaultFn or $onUpdate when it builds a statement: prepared
 * once, it would keep the first value forever. No column has one; this keeps it so.
 */
export function assertNoComputedDefaults(table: Table): void {
  for (const [name, column] of Object.entries(getTableColumns(table)))
    if (column.defaultFn || column.onUpdateFn)
      throw new Error(
        `${getTableName(table)}.${name} has a computed default: a statement prepared once would freeze it`,
      );
}

/** The insert of one row into `table`, prepared for the shape of `row`. */
function insertStatement<T extends SQLiteTable>(db: Db, table: T, row: object) {
  const shape = shapeOf(row);
  return prepared(db, `insert ${getTableName(table)} (${shape.join(',')})`, (d) => {
    assertNoComputedDefaults(table);
    return d
      .insert(table)
      .values(placeholders(shape) as SQLiteInsertValue<T>)
      .prepare();
  });
}

/** Inserts one row, with a statement prepared once for each shape of row; returns its rowid. */
export function insertRow<T extends SQLiteTable>(db: Db, table: T, row: T['$inferInsert']): number {
  return Number(insertStatement(db, table, row).run(row).lastInsertRowid);
}
