// The gateway's transactions by state, read from its SQLite file through a read-only
// connection (WAL lets it read while the gateway writes). /metrics would do, but caches its
// counts for 5 s: too coarse to say when the queue reached zero.
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import * as schema from '../../src/db/sqlite/schema.js';
import { countTransactions } from '../../src/db/sqlite/transactions.js';
import type { TransactionCounts } from '../../src/db/types.js';
import { OPEN_STATES } from '../../src/db/vocabulary.js';

export interface StateReader {
  byState(): TransactionCounts['byState'];
  close(): void;
}

export function openStateReader(path: string): StateReader {
  const sqlite = new Database(path, { readonly: true, fileMustExist: true });
  sqlite.pragma('busy_timeout = 5000');
  const db = drizzle(sqlite, { schema });
  return { byState: () => countTransactions(db).byState, close: () => sqlite.close() };
}

/** Topped up and not final: queued for the supplier, being ordered, or awaiting its outcome. */
export function openCount(byState: TransactionCounts['byState']): number {
  return OPEN_STATES.reduce((n, s) => n + byState[s], 0);
}
