import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, inject, it } from 'vitest';
import {
  migrate as migratePostgres,
  openConnection,
  MIGRATIONS_FOLDER as PG_MIGRATIONS,
} from '../src/db/postgres/connection.js';
import { PostgresStore } from '../src/db/postgres/store.js';
import {
  migrateStorage,
  openStorage,
  MIGRATIONS_FOLDER as SQLITE_MIGRATIONS,
} from '../src/db/sqlite/connection.js';
import { oldestOpen } from '../src/db/sqlite/transactions.js';
import type { OldestOpen } from '../src/db/types.js';
import { createLogger } from '../src/log.js';
import { type E2E, startE2E } from './helpers/e2e.js';
import { T0 } from './helpers/fixtures.js';
import { admin as asAdmin, createDatabase } from './helpers/postgres.js';
import { TEST_DIALECT, tempDir } from './helpers/storage.js';
import { waitFor } from './helpers/wait.js';

const MIN = 60_000;

let e: E2E | undefined;
afterEach(async () => {
  await e?.close();
  e = undefined;
});

function logCapture() {
  const lines: { level: number; msg: string; alert?: string; transactionNumber?: string }[] = [];
  const logger = createLogger('info', { write: (s: string) => void lines.push(JSON.parse(s)) });
  return { logger, lines };
}

/** One sample of the gateway's own /metrics text. */
async function sample(env: E2E, name: string, labels: string): Promise<number> {
  const { body } = await env.gw.metrics.render();
  const line = body.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
  if (!line) throw new Error(`no sample ${name}{${labels}}`);
  return Number(line.split(' ').at(-1));
}

describe('RESOLVE_DEADLINE and STUCK_AFTER, end to end', () => {
  it('alerts a stuck purchase once without flagging it, then flags it at the configured deadline, not at 24 h', async () => {
    let shift = 0;
    const { logger, lines } = logCapture();
    e = await startE2E({
      env: { RESOLVE_DEADLINE: '90m', STUCK_AFTER: '5m', TOPUP_WAIT_MS: '200' },
      gateway: { now: () => Date.now() + shift, stuckWatchMs: 20 },
      logger,
    });
    const env = e;
    const alerts = (kind: string) => lines.filter((l) => l.alert === kind).map((l) => l.transactionNumber);
    const row = async (n: string) => {
      const r = await env.gw.store.getTransaction(n);
      if (!r) throw new Error(`no ${n}`);
      return r;
    };

    env.sim.nextEnding({ kind: 'stay' });
    await env.purchase('DL-1');
    await env.purchase('DL-DONE');
    await env.settle('DL-DONE');
    const first = await row('DL-1');
    expect(first.state).toBe('PROCESSING');
    // The deadline given at top-up is the configured one.
    expect(first.toppedUpAt).not.toBeNull();
    expect((first.deadlineAt ?? 0) - (first.toppedUpAt ?? 0)).toBe(90 * MIN);

    shift = 3 * MIN;
    env.sim.nextEnding({ kind: 'stay' });
    await env.purchase('DL-2');
    expect((await row('DL-2')).state).toBe('PROCESSING');
    const eventsBefore = await env.events('DL-1');

    // 6 minutes after DL-1's top-up: stuck. DL-2 (3 minutes) is not, nor DL-DONE (final).
    shift = 6 * MIN;
    await waitFor(() => alerts('stuck').includes('DL-1'), 5000, 'a stuck alert for DL-1');
    expect(alerts('stuck')).toEqual(['DL-1']);
    const line = lines.find((l) => l.alert === 'stuck');
    expect(line?.msg).toMatch(
      /^\[gateway\] stuck: transaction DL-1 — still PROCESSING 6 min after its top-up/,
    );
    expect(line?.msg).toContain('/console/transactions/DL-1');

    // Many runs later DL-2 is stuck too; DL-1 was told of once.
    shift = 8 * MIN + 30_000;
    await waitFor(() => alerts('stuck').includes('DL-2'), 5000, 'a stuck alert for DL-2');
    expect(alerts('stuck')).toEqual(['DL-1', 'DL-2']);
    expect(await sample(env, 'gateway_alerts_total', 'kind="stuck"')).toBe(2);
    // Told of, not flagged: no attention flag, no move.
    expect(await row('DL-1')).toMatchObject({ state: 'PROCESSING', attention: false, attentionReason: null });
    expect(await env.events('DL-1')).toEqual(eventsBefore);
    expect(alerts('flagged')).toEqual([]);
    // Its age is in the metric, from its top-up.
    const age = await sample(env, 'gateway_oldest_open_seconds', 'state="PROCESSING"');
    expect(age).toBeGreaterThanOrEqual(8 * 60 + 30);
    expect(age).toBeLessThan(10 * 60);

    // A minute before the deadline: checked again and again, not flagged.
    shift = 89 * MIN;
    const checks = (await row('DL-1')).checks;
    await waitFor(async () => (await row('DL-1')).checks >= checks + 3, 5000, 'three more checks of DL-1');
    expect((await row('DL-1')).attention).toBe(false);

    // Past the 90-minute deadline: flagged, with its alert. DL-2's deadline is 3 minutes later.
    shift = 90 * MIN + 1000;
    await waitFor(async () => (await row('DL-1')).attention, 5000, 'DL-1 flagged at its deadline');
    expect(alerts('flagged')).toEqual(['DL-1']);
    expect(await row('DL-1')).toMatchObject({ state: 'PROCESSING' });
    expect((await row('DL-2')).attention).toBe(false);
  });
});

describe('migration: the top-up time of purchases open at the upgrade', () => {
  const OPEN_ROW = (n: string, state: string, deadline: number | null) =>
    `insert into transactions (transaction_number, api_id, sku, brand_key, variation_key, max_price, account_id, supplier_data, state, token, ref_id, expires_at, created_at, updated_at, deadline_at)
     values ('${n}', 'publisherA', 'DIAMOND50', 'MLBB', 'MLBB112', 16000, '123456-12', '[]', '${state}', 't', 'RG-${n}', ${T0}, ${T0}, ${T0}, ${deadline ?? 'null'})`;
  const DAY = 86_400_000;
  const rows = [
    OPEN_ROW('OLD-Q', 'QUEUED', T0 + 5 + DAY),
    OPEN_ROW('OLD-U', 'UNKNOWN', T0 + 9 + DAY),
    OPEN_ROW('OLD-I', 'INITIATED', null),
    OPEN_ROW('OLD-S', 'SUCCESS', T0 + 1 + DAY),
  ];
  const expected: OldestOpen = {
    INITIATED: T0,
    QUEUED: T0 + 5,
    ORDERING: null,
    PROCESSING: null,
    UNKNOWN: T0 + 9,
  };

  /** The migrations of the previous release (before `tag`), copied from `folder`. */
  function previousRelease(folder: string, dir: ReturnType<typeof tempDir>, tag: string) {
    const old = dir.file('migrations');
    mkdirSync(join(old, 'meta'), { recursive: true });
    const journal = JSON.parse(readFileSync(join(folder, 'meta/_journal.json'), 'utf8'));
    const before = journal.entries.filter((x: { tag: string }) => x.tag < tag);
    for (const x of before) copyFileSync(join(folder, `${x.tag}.sql`), join(old, `${x.tag}.sql`));
    writeFileSync(join(old, 'meta/_journal.json'), JSON.stringify({ ...journal, entries: before }));
    return old;
  }

  // Each dialect's upgrade runs in its own project only: defined there, not skipped elsewhere.
  if (TEST_DIALECT === 'sqlite')
    it('SQLite: open rows get their top-up time back from their 24 h deadline; final ones keep none', () => {
      const dir = tempDir();
      const db = openStorage(dir.file('old.db'));
      try {
        migrateStorage(db, previousRelease(SQLITE_MIGRATIONS, dir, '0007'));
        for (const sql of rows) db.sqlite.exec(sql);
        migrateStorage(db);
        const topped = db.sqlite
          .prepare('select transaction_number as n, topped_up_at as t from transactions order by n')
          .all();
        expect(topped).toEqual([
          { n: 'OLD-I', t: null },
          { n: 'OLD-Q', t: T0 + 5 },
          { n: 'OLD-S', t: null },
          { n: 'OLD-U', t: T0 + 9 },
        ]);
        expect(oldestOpen(db.db)).toEqual(expected);
      } finally {
        db.close();
        dir.remove();
      }
    });

  if (TEST_DIALECT === 'postgres')
    it('PostgreSQL: open rows get their top-up time back from their 24 h deadline; final ones keep none', async () => {
      const dir = tempDir();
      const database = await createDatabase(inject('postgresUrl'));
      const store = await PostgresStore.open(database.url, { poolSize: 2, instanceId: 'upgrade' });
      try {
        await migratePostgres(store.connection.pool, previousRelease(PG_MIGRATIONS, dir, '0005'));
        for (const sql of rows) await store.connection.pool.query(sql);
        expect(await store.migrate()).toBeGreaterThan(0);
        const topped = await store.connection.pool.query(
          'select transaction_number as n, topped_up_at::float8 as t from transactions order by n',
        );
        expect(topped.rows).toEqual([
          { n: 'OLD-I', t: null },
          { n: 'OLD-Q', t: T0 + 5 },
          { n: 'OLD-S', t: null },
          { n: 'OLD-U', t: T0 + 9 },
        ]);
        expect(await store.oldestOpen()).toEqual(expected);
      } finally {
        await store.close();
        await database.drop();
        dir.remove();
      }
    });

  if (TEST_DIALECT === 'postgres')
    it('review: a migration behind a long reader waits briefly, gives up saying why, and succeeds once the reader is gone', async () => {
      const dir = tempDir();
      const database = await createDatabase(inject('postgresUrl'));
      const store = await PostgresStore.open(database.url, { poolSize: 3, instanceId: 'upgrade' });
      const reader = new pg.Client({ connectionString: database.url });
      await reader.connect();
      try {
        const pool = store.connection.pool;
        await migratePostgres(pool, previousRelease(PG_MIGRATIONS, dir, '0005'));
        // A long transaction that has read the table (a pg_dump does): ACCESS SHARE, held.
        await reader.query('begin');
        await reader.query('select 1 from transactions limit 1');
        const locks = { timeoutMs: 200, tries: 2 };
        await expect(migratePostgres(pool, PG_MIGRATIONS, locks)).rejects.toThrow(
          /could not take a table's lock within 200 ms, 2 times/,
        );
        // Nothing was changed, and no other query waited behind it meanwhile.
        const columns = await pool.query(
          "select 1 from information_schema.columns where table_name = 'transactions' and column_name = 'topped_up_at'",
        );
        expect(columns.rowCount).toBe(0);
        const started = Date.now();
        await pool.query('select count(*) from transactions');
        expect(Date.now() - started).toBeLessThan(1000);
        await reader.query('commit');
        expect(await migratePostgres(pool, PG_MIGRATIONS, locks)).toBeGreaterThan(0);
      } finally {
        await reader.end();
        await store.close();
        await database.drop();
        dir.remove();
      }
    });

  if (TEST_DIALECT === 'postgres')
    it('review: the migration connection goes back to the pool as it came: statement and lock timeouts as the session set them', async () => {
      const database = await createDatabase(inject('postgresUrl'));
      const name = new URL(database.url).pathname.slice(1);
      await asAdmin(database.url, (c) =>
        c.query(`alter database ${c.escapeIdentifier(name)} set lock_timeout = '2s'`),
      );
      // One connection: the queries after the migration get the migration's own.
      const { pool } = openConnection(database.url, 1);
      try {
        expect((await pool.query('show statement_timeout')).rows[0].statement_timeout).toBe('30s');
        expect(await migratePostgres(pool)).toBeGreaterThan(0);
        expect((await pool.query('show statement_timeout')).rows[0].statement_timeout).toBe('30s');
        expect((await pool.query('show lock_timeout')).rows[0].lock_timeout).toBe('2s');
        const advisory = await pool.query(
          "select count(*)::int as n from pg_locks where locktype = 'advisory' and pid = pg_backend_pid()",
        );
        expect(advisory.rows[0].n).toBe(0);
      } finally {
        await pool.end();
        await database.drop();
      }
    });
});
