import type pg from 'pg';
import { MIGRATIONS_FOLDER, migrate, unfinishedMove } from '../postgres/connection.js';
import { MOVED_TABLES, migrationCount } from './tables.js';

/** Every session of a move says so, for whoever looks at pg_stat_activity. */
export const MOVE_APPLICATION = 'gateway move-store';

/** Session advisory lock held for a whole move: two moves into one database never interleave. */
const MOVE_LOCK = 7_215_530_118_027_002n;

type Claim = { kind: 'claimed'; markerId: number; emptied: boolean } | { kind: 'refused'; reason: string };

/**
 * Takes the target for a move, on `guard` (a client kept for the whole move): the move lock, then
 * the migrations, and under the migration lock (which a starting gateway takes to look for an
 * unfinished move) one transaction that checks nothing else is connected, empties an unfinished
 * move or refuses a database holding data, and marks the move `copying`. From that commit on, no
 * gateway starts on it; one that was already running is refused here by its connections.
 */
export async function claimTarget(
  guard: pg.PoolClient,
  pool: pg.Pool,
  source: string,
  now: number,
): Promise<Claim> {
  const { rows } = await guard.query<{ ok: boolean }>('select pg_try_advisory_lock($1) as ok', [
    MOVE_LOCK.toString(),
  ]);
  if (rows[0]?.ok !== true)
    return { kind: 'refused', reason: 'another gateway move-store into this database is under way' };
  const guardPid = (await guard.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]?.pid ?? 0;
  // Before migrating: a database in use is not touched at all.
  const early = await otherSessions(guard, guardPid);
  if (early !== null) return inUse(early);
  let claim: Claim = { kind: 'refused', reason: 'the target could not be claimed' };
  await migrate(pool, undefined, undefined, async (client, version) => {
    claim = await underMigrationLock(client, version, guardPid, source, now);
  });
  return claim;
}

const inUse = (others: string): Claim => ({
  kind: 'refused',
  reason: `${others} connected to the target database (a gateway running on it?): stop every gateway using it, close other sessions, then move`,
});

async function underMigrationLock(
  client: pg.PoolClient,
  version: number,
  guardPid: number,
  source: string,
  now: number,
): Promise<Claim> {
  // Just migrated, so never behind: ahead means a newer gateway wrote it.
  const expected = migrationCount(MIGRATIONS_FOLDER);
  if (version > expected)
    return {
      kind: 'refused',
      reason: `the target database is at schema ${version}, newer than this version's ${expected}: move with the version that wrote it`,
    };
  const others = await otherSessions(client, guardPid);
  if (others !== null) return inUse(others);
  const unfinished = await unfinishedMove(client);
  await client.query('begin');
  try {
    // A session that came since (a nightly pg_dump) must not hold the truncate, and with it every
    // gateway start waiting on the migration lock, for long.
    await client.query("set local lock_timeout = '5s'");
    if (unfinished) {
      await client.query(
        `truncate ${MOVED_TABLES.map((t) => t.name).join(', ')}, job_leases, rate_slots restart identity`,
      );
      await client.query("delete from store_moves where state = 'copying'");
    } else {
      const held = await rowsHeld(client);
      if (held.length > 0) {
        await client.query('rollback');
        return {
          kind: 'refused',
          reason: `the target database holds data (in ${held.join(', ')}): move-store copies only into an empty database`,
        };
      }
    }
    const marked = await client.query<{ id: number }>(
      "insert into store_moves (source, state, started_at) values ($1, 'copying', $2) returning id",
      [source, now],
    );
    await client.query('commit');
    const id = marked.rows[0]?.id;
    if (id === undefined) throw new Error('the move could not be marked on the target');
    return { kind: 'claimed', markerId: Number(id), emptied: unfinished !== null };
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw err;
  }
}

/**
 * "2 other sessions are (psql from 10.0.0.5, …)", or null when the move is alone on the database:
 * every client session but the move's own two (the guard and the one asking). Sessions of other
 * roles show no type to an ordinary role and are not counted: gateways connect as the move does
 * (the runbook's one role), and background workers (autovacuum) must not stop a move.
 */
async function otherSessions(client: pg.PoolClient, guardPid: number): Promise<string | null> {
  const { rows } = await client.query<{ n: number; who: string | null }>(
    `select count(*)::int as n,
       string_agg(distinct coalesce(nullif(application_name, ''), 'a client') || ' from ' || coalesce(host(client_addr), 'this host'), ', ') as who
     from pg_stat_activity
     where datname = current_database() and pid not in (pg_backend_pid(), $1)
       and backend_type = 'client backend'`,
    [guardPid],
  );
  const n = rows[0]?.n ?? 0;
  if (n === 0) return null;
  return `${n} other session${n === 1 ? ' is' : 's are'} (${rows[0]?.who ?? ''})`;
}

/** The gateway tables of the target that hold rows (a look at one row each, not a count). */
async function rowsHeld(client: pg.PoolClient): Promise<string[]> {
  const held: string[] = [];
  for (const name of [...MOVED_TABLES.map((t) => t.name), 'store_moves']) {
    const { rows } = await client.query<{ any: boolean }>(`select exists (select 1 from ${name}) as any`);
    if (rows[0]?.any === true) held.push(name);
  }
  return held;
}

/** Marks the move done, only if it is still this move's mark: anything else is an error. */
export async function markDone(
  pool: pg.Pool,
  markerId: number,
  finishedAt: number,
  summary: Record<string, number>,
): Promise<void> {
  const { rowCount } = await pool.query(
    "update store_moves set state = 'done', finished_at = $2, summary = $3 where id = $1 and state = 'copying'",
    [markerId, finishedAt, JSON.stringify(summary)],
  );
  if (rowCount !== 1) throw new Error("the move's mark on the target changed under it: run the move again");
}
