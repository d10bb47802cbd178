import { resolve } from 'node:path';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate as applyMigrations } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { PACKAGE_ROOT } from '../../config/paths.js';
import * as schema from './schema.js';

export type Db = NodePgDatabase<typeof schema>;

export interface Connection {
  db: Db;
  pool: pg.Pool;
}

export const MIGRATIONS_FOLDER = resolve(PACKAGE_ROOT, 'migrations', 'postgres');

/** Session advisory lock key held while migrating: one instance migrates, the others wait. */
const MIGRATION_LOCK = 7_215_530_118_027_001n;

/** A pool of at most `poolSize` connections and the drizzle instance over it. */
export function openConnection(url: string, poolSize: number): Connection {
  const pool = new pg.Pool({ connectionString: url, max: poolSize });
  // An idle connection dropped by the server (restart, failover) is reported here; without a
  // listener it would crash the process. The pool replaces it, and the next query reports.
  pool.on('error', () => undefined);
  return { db: drizzle(pool, { schema }), pool };
}

/** How many migrations drizzle has recorded (0 before its table exists). */
async function applied(client: pg.PoolClient): Promise<number> {
  // Two statements: a query naming a table that does not exist fails even in a branch not taken.
  const table = await client.query<{ present: boolean }>(
    "select to_regclass('drizzle.__drizzle_migrations') is not null as present",
  );
  if (table.rows[0]?.present !== true) return 0;
  const { rows } = await client.query<{ n: string }>(
    'select count(*) as n from drizzle.__drizzle_migrations',
  );
  // count(*) is int8, which pg hands over as a string.
  return Number(rows[0]?.n ?? 0);
}

/**
 * Applies the pending migrations and returns how many ran. Instances starting together
 * queue on a session advisory lock, so the migrations run once and the others find none
 * pending (drizzle's own CREATE SCHEMA/TABLE IF NOT EXISTS race without it).
 */
export async function migrate(pool: pg.Pool, folder = MIGRATIONS_FOLDER): Promise<number> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK.toString()]);
    try {
      const before = await applied(client);
      // On this very client: drizzle's transaction then runs under the lock held here.
      await applyMigrations(drizzle(client, { schema }), { migrationsFolder: folder });
      return (await applied(client)) - before;
    } finally {
      await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK.toString()]);
    }
  } catch (err) {
    // A connection whose unlock may not have run must not go back to the pool holding the lock.
    broken = err instanceof Error ? err : new Error(String(err));
    throw err;
  } finally {
    client.release(broken);
  }
}
