import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getTableColumns } from 'drizzle-orm';
import type { AnyPgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { AnySQLiteColumn, SQLiteTable } from 'drizzle-orm/sqlite-core';
import * as pgs from '../postgres/schema.js';
import * as lite from '../sqlite/schema.js';

/**
 * What a move copies: every table SQLite has, each the same columns under the same names on
 * both sides (src/db/postgres/schema.ts proves the rows' shapes equal at compile time), read and
 * written in the order of its key. PostgreSQL's own coordination tables (job leases, rate slots)
 * start empty: they hold only what running instances are doing.
 */
export interface MovedTable {
  name: string;
  lite: SQLiteTable;
  pg: PgTable;
  /** The key rows are read and compared in (unique). */
  liteKey: AnySQLiteColumn[];
  pgKey: AnyPgColumn[];
  /** An identity column whose sequence must continue after the copied ids. */
  identity: boolean;
}

export const MOVED_TABLES: readonly MovedTable[] = [
  {
    name: 'transactions',
    lite: lite.transactions,
    pg: pgs.transactions,
    liteKey: [lite.transactions.transactionNumber],
    pgKey: [pgs.transactions.transactionNumber],
    identity: false,
  },
  {
    name: 'transaction_events',
    lite: lite.transactionEvents,
    pg: pgs.transactionEvents,
    liteKey: [lite.transactionEvents.id],
    pgKey: [pgs.transactionEvents.id],
    identity: true,
  },
  {
    name: 'razer_exchanges',
    lite: lite.razerExchanges,
    pg: pgs.razerExchanges,
    liteKey: [lite.razerExchanges.id],
    pgKey: [pgs.razerExchanges.id],
    identity: true,
  },
  {
    name: 'supplier_calls',
    lite: lite.supplierCalls,
    pg: pgs.supplierCalls,
    liteKey: [lite.supplierCalls.id],
    pgKey: [pgs.supplierCalls.id],
    identity: true,
  },
  {
    name: 'webhook_inbox',
    lite: lite.webhookInbox,
    pg: pgs.webhookInbox,
    liteKey: [lite.webhookInbox.id],
    pgKey: [pgs.webhookInbox.id],
    identity: true,
  },
  {
    name: 'catalogue_brands',
    lite: lite.catalogueBrands,
    pg: pgs.catalogueBrands,
    liteKey: [lite.catalogueBrands.brandKey],
    pgKey: [pgs.catalogueBrands.brandKey],
    identity: false,
  },
  {
    name: 'catalogue_variations',
    lite: lite.catalogueVariations,
    pg: pgs.catalogueVariations,
    liteKey: [lite.catalogueVariations.brandKey, lite.catalogueVariations.variationKey],
    pgKey: [pgs.catalogueVariations.brandKey, pgs.catalogueVariations.variationKey],
    identity: false,
  },
  {
    name: 'supplier_balance',
    lite: lite.supplierBalance,
    pg: pgs.supplierBalance,
    liteKey: [lite.supplierBalance.supplier],
    pgKey: [pgs.supplierBalance.supplier],
    identity: false,
  },
  {
    name: 'daily_summaries',
    lite: lite.dailySummaries,
    pg: pgs.dailySummaries,
    liteKey: [lite.dailySummaries.day],
    pgKey: [pgs.dailySummaries.day],
    identity: false,
  },
];

/**
 * The fields PostgreSQL's table has that SQLite's does not (the step lease on transactions):
 * never part of a copied row, left out when the target is read back.
 */
export function pgOnlyFields(table: MovedTable): string[] {
  const lite = new Set(Object.keys(getTableColumns(table.lite)));
  return Object.keys(getTableColumns(table.pg)).filter((field) => !lite.has(field));
}

/** The JS field of each key column. */
export function keyFields(table: MovedTable): string[] {
  const columns = Object.entries(getTableColumns(table.lite));
  return table.liteKey.map((key) => {
    const found = columns.find(([, column]) => column === key);
    if (!found) throw new Error(`${table.name}: key column not in the table`);
    return found[0];
  });
}

/** How many migrations this version has for a dialect: the schema version both sides must be at. */
export function migrationCount(folder: string): number {
  const journal = JSON.parse(readFileSync(join(folder, 'meta', '_journal.json'), 'utf8')) as {
    entries: unknown[];
  };
  return journal.entries.length;
}
