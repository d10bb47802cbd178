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

/**
 * Settings of every session: commits durable before they are acknowledged (invariant 5: an
 * answer to Razer follows its commit), and no session of a frozen or cut-off instance holds a
 * lock for long: a transaction left idle ends after 10 s, a statement after 30 s.
 */
export const SESSION_OPTIONS =
  '-c synchronous_commit=on -c idle_in_transaction_session_timeout=10000 -c statement_timeout=30000';

/** A pool of at most `poolSize` connections and the drizzle instance over it. */
export function openConnection(url: string, poolSize: number, applicationName?: string): Connection {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    ...(applicationName === undefined ? {} : { application_name: applicationName }),
    options: SESSION_OPTIONS,
    // A peer that vanished (machine lost) is noticed by TCP within a minute, not two hours.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
  });
  // An idle connection dropped by the server (restart, failover) is reported here; without a
  // listener it would crash the process. The pool replaces it, and the next query reports.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => withoutNul(client));
  return { db: drizzle(pool, { schema }), pool };
}

/**
 * PostgreSQL text cannot hold NUL (U+0000), which SQLite stores: a supplier reply or webhook
 * carrying one would fail every write of it. Every string parameter has NUL replaced by U+FFFD
 * on its way in, so what SQLite keeps as is, PostgreSQL keeps marked.
 */
function withoutNul(client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  const clean = (v: unknown) =>
    typeof v === 'string' && v.includes('\u0000') ? v.replaceAll('\u0000', '\ufffd') : v;
  const cleanAll = (values: unknown) => (Array.isArray(values) ? values.map(clean) : values);
  (client as { query: unknown }).query = (...args: unknown[]) => {
    const [first, second] = args;
    if (first && typeof first === 'object' && 'values' in first)
      args[0] = { ...first, values: cleanAll((first as { values: unknown }).values) };
    if (Array.isArray(second)) args[1] = cleanAll(second);
    return query(...args);
  };
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

/** How long a migration may wait for a table's lock, and how many times it tries. */
export interface MigrationLocks {
  timeoutMs: number;
  tries: number;
}
const MIGRATION_LOCKS: MigrationLocks = { timeoutMs: 5000, tries: 6 };
const LOCK_NOT_AVAILABLE = '55P03';

/**
 * drizzle's transaction, on this very client (under the advisory lock held on it), waiting at
 * most `timeoutMs` for each table lock: an ALTER TABLE queued behind a long reader (a nightly
 * pg_dump) would otherwise hold every later query of every instance behind it, for as long as
 * that reader runs. On a timeout it rolls back and tries again a little later.
 */
async function applyWaitingBriefly(client: pg.PoolClient, folder: string, locks: MigrationLocks) {
  await client.query(`set lock_timeout = ${Math.max(1, Math.round(locks.timeoutMs))}`);
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        await applyMigrations(drizzle(client, { schema }), { migrationsFolder: folder });
        return;
      } catch (err) {
        const code =
          (err as { code?: unknown; cause?: { code?: unknown } }).code ??
          (err as { cause?: { code?: unknown } }).cause?.code;
        if (code !== LOCK_NOT_AVAILABLE) throw err;
        if (attempt >= locks.tries)
          throw new Error(
            `a migration could not take a table's lock within ${locks.timeoutMs} ms, ${locks.tries} times: a long transaction holds it (a pg_dump?). Nothing was changed; run gateway migrate again once it is over`,
          );
        await new Promise((resolve) => setTimeout(resolve, locks.timeoutMs));
      }
    }
  } finally {
    await client.query('reset lock_timeout');
  }
}

/**
 * Applies the pending migrations and returns how many ran. Instances starting together
 * queue on a session advisory lock, so the migrations run once and the others find none
 * pending (drizzle's own CREATE SCHEMA/TABLE IF NOT EXISTS race without it).
 */
export async function migrate(
  pool: pg.Pool,
  folder = MIGRATIONS_FOLDER,
  locks: MigrationLocks = MIGRATION_LOCKS,
  /** Run on the same client before the lock is let go (with the migrations applied in all): what must not interleave with a move. */
  underLock?: (client: pg.PoolClient, applied: number) => Promise<void>,
): Promise<number> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    // A migration may take longer than an ordinary statement.
    await client.query('set statement_timeout = 0');
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK.toString()]);
    try {
      const before = await applied(client);
      await applyWaitingBriefly(client, folder, locks);
      const after = await applied(client);
      await underLock?.(client, after);
      return after - before;
    } finally {
      await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK.toString()]);
      await client.query('reset statement_timeout');
    }
  } catch (err) {
    // A connection whose unlock may not have run must not go back to the pool holding the lock.
    broken = err instanceof Error ? err : new Error(String(err));
    throw err;
  } finally {
    client.release(broken);
  }
}

/**
 * The move `gateway move-store` left unfinished in this database, if any: no gateway and no
 * command works on a database whose copy is incomplete. Asked under the migration lock at start
 * (the move marks the database under the same lock), and when a command opens the database.
 */
export async function unfinishedMove(
  client: pg.PoolClient | pg.Pool,
): Promise<{ source: string; startedAt: number } | null> {
  const table = await client.query<{ present: boolean }>(
    "select to_regclass('store_moves') is not null as present",
  );
  if (table.rows[0]?.present !== true) return null;
  const { rows } = await client.query<{ source: string; started_at: string }>(
    "select source, started_at from store_moves where state = 'copying' order by id limit 1",
  );
  const row = rows[0];
  return row ? { source: row.source, startedAt: Number(row.started_at) } : null;
}
