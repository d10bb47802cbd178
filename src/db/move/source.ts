import type Database from 'better-sqlite3';
import { asc, getTableColumns, gt } from 'drizzle-orm';
import type { BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import type { AnySQLiteColumn } from 'drizzle-orm/sqlite-core';
import { appliedMigrations, MIGRATIONS_FOLDER as SQLITE_MIGRATIONS } from '../sqlite/connection.js';
import { keyFields, MOVED_TABLES, type MovedTable, migrationCount } from './tables.js';

export type Row = Record<string, unknown>;
export type LiteDb = BetterSQLite3Database<Record<string, never>>;

/**
 * The source to ourselves, from here to the end: one snapshot, and no gateway writing what the
 * move would not see (its purchases would be lost with the switch) nor starting on it meanwhile.
 * A gateway holds its database open as long as it runs, so an exclusive lock that cannot be had
 * at once means one still runs. Null when locked; else why not. Nothing is ever written.
 */
export function lockSource(source: Database.Database): string | null {
  try {
    source.pragma('locking_mode = EXCLUSIVE');
    source.exec('begin exclusive');
    source.pragma('query_only = ON');
    return null;
  } catch (err) {
    const code = (err as { code?: string }).code ?? '';
    if (!code.startsWith('SQLITE_BUSY') && !code.startsWith('SQLITE_LOCKED')) throw err;
    return 'the SQLite database is open in another process (a gateway still running?): stop it first (systemctl stop razer-gateway), then move; its purchases after the copy would otherwise be lost';
  }
}

/** Why the source cannot be moved as it is (an older schema), or null. */
export function sourceBehind(source: Database.Database): string | null {
  const expected = migrationCount(SQLITE_MIGRATIONS);
  const applied = appliedMigrations(source);
  if (applied === expected) return null;
  return applied < expected
    ? `the SQLite database is at schema ${applied} of ${expected}: start this version of the gateway on it once (or run gateway migrate), stop it, then move`
    : `the SQLite database is at schema ${applied}, newer than this version's ${expected}: move it with the version that wrote it`;
}

/** Tables of the source this version does not move (none, unless the schemas drifted apart). */
export function unknownTables(source: Database.Database): string[] {
  const known = new Set(MOVED_TABLES.map((t) => t.name));
  const names = source
    .prepare(
      "select name from sqlite_master where type = 'table' and name not like 'sqlite\\_%' escape '\\' and name <> '__drizzle_migrations'",
    )
    .all() as { name: string }[];
  return names.map((n) => n.name).filter((n) => !known.has(n));
}

/**
 * Values SQLite holds that would not arrive in PostgreSQL as they are: SQLite stores any value in
 * any column, and reading them as their declared type would change them silently (a boolean 2
 * read as true, an integer past 2^53 rounded, text in a number column). One line per column with
 * such values; the gateway never writes them, only a hand edit could.
 */
export function sourceProblems(source: Database.Database): string[] {
  const problems: string[] = [];
  for (const table of MOVED_TABLES) {
    const checks = Object.values(getTableColumns(table.lite)).flatMap((c) => {
      const col = `"${c.name}"`;
      const bad = BAD[c.columnType];
      return bad ? [{ name: c.name, what: bad.what, sql: bad.sql(col) }] : [];
    });
    if (checks.length === 0) continue;
    const counts = source
      .prepare(
        `select ${checks.map((c, i) => `coalesce(sum(case when ${c.sql} then 1 else 0 end), 0) as c${i}`).join(', ')} from "${table.name}"`,
      )
      .get() as Record<string, number>;
    checks.forEach((c, i) => {
      const n = counts[`c${i}`] ?? 0;
      if (n > 0) problems.push(`${table.name}.${c.name}: ${n} row${n === 1 ? '' : 's'} with ${c.what}`);
    });
  }
  return problems;
}

const SAFE = 9007199254740991;
const BAD: Record<string, { what: string; sql: (col: string) => string }> = {
  SQLiteInteger: {
    what: 'a value that is not a whole number within ±2^53',
    sql: (c) => `${c} is not null and (typeof(${c}) <> 'integer' or ${c} > ${SAFE} or ${c} < -${SAFE})`,
  },
  SQLiteBoolean: {
    what: 'a value other than 0 or 1',
    sql: (c) => `${c} is not null and (typeof(${c}) <> 'integer' or ${c} not in (0, 1))`,
  },
  SQLiteText: { what: 'a value that is not text', sql: (c) => `${c} is not null and typeof(${c}) <> 'text'` },
  SQLiteTextJson: {
    what: 'a value that is not valid JSON text',
    sql: (c) => `${c} is not null and (typeof(${c}) <> 'text' or not json_valid(${c}))`,
  },
};

/** The source's rows of a table, in key order, `batch` at a time (a composite key: all at once). */
export function* sourcePages(db: LiteDb, table: MovedTable, batch: number): Generator<Row[]> {
  const [key, ...more] = table.liteKey as [AnySQLiteColumn, ...AnySQLiteColumn[]];
  if (more.length > 0) {
    yield db
      .select()
      .from(table.lite)
      .orderBy(...table.liteKey.map((k) => asc(k)))
      .all() as Row[];
    return;
  }
  const [field] = keyFields(table) as [string];
  let last: unknown;
  for (;;) {
    const query = db.select().from(table.lite);
    const rows = (last === undefined ? query : query.where(gt(key, last)))
      .orderBy(asc(key))
      .limit(batch)
      .all() as Row[];
    if (rows.length === 0) return;
    yield rows;
    last = rows.at(-1)?.[field];
  }
}
