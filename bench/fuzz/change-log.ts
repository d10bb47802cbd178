import type Database from 'better-sqlite3';

/** The tables whose rows are a transaction's state, and those that only record what was asked. */
export const STATE_TABLES = ['transactions', 'transaction_events'] as const;
export const AUDIT_TABLES = ['razer_exchanges', 'webhook_inbox'] as const;
type Table = (typeof STATE_TABLES)[number] | (typeof AUDIT_TABLES)[number];

/**
 * Columns that count repeated queries: a record of what Razer asked, like an exchange row,
 * not the transaction's state (a signed query of a final transaction bumps them).
 */
const NOT_STATE: Partial<Record<Table, readonly string[]>> = {
  transactions: ['queries_repeated', 'last_queried_at'],
};

export type ChangeCounts = Record<Table, number>;

export interface ChangeLog {
  /** Rows inserted, deleted, or updated to other values, per table, since the log was installed. */
  read(): ChangeCounts;
}

/**
 * Counts every write that changes a row of the watched tables, with temporary triggers on the
 * gateway's own connection: exact (an update that rewrites the same values is not counted) and
 * O(1) to read, however large the tables grow over 100,000 runs. The triggers write to the
 * connection's temp schema, so they commit and roll back with the gateway's own transactions.
 */
export function installChangeLog(sqlite: Database.Database): ChangeLog {
  const tables: readonly Table[] = [...STATE_TABLES, ...AUDIT_TABLES];
  sqlite.exec('create temp table if not exists fuzz_changes (tbl text primary key, n integer not null)');
  for (const table of tables) {
    const columns = (sqlite.prepare(`pragma main.table_info(${table})`).all() as { name: string }[])
      .map((c) => c.name)
      .filter((name) => !NOT_STATE[table]?.includes(name));
    const differs = columns.map((c) => `old."${c}" is not new."${c}"`).join(' or ');
    const bump = `update fuzz_changes set n = n + 1 where tbl = '${table}';`;
    sqlite.exec(`
      insert or ignore into fuzz_changes (tbl, n) values ('${table}', 0);
      create temp trigger if not exists fuzz_${table}_insert after insert on main.${table} begin ${bump} end;
      create temp trigger if not exists fuzz_${table}_delete after delete on main.${table} begin ${bump} end;
      create temp trigger if not exists fuzz_${table}_update after update on main.${table}
        when ${differs} begin ${bump} end;
    `);
  }
  const select = sqlite.prepare('select tbl, n from temp.fuzz_changes');
  return {
    read() {
      const counts = Object.fromEntries(tables.map((t) => [t, 0])) as ChangeCounts;
      for (const row of select.all() as { tbl: Table; n: number }[]) counts[row.tbl] = row.n;
      return counts;
    },
  };
}
