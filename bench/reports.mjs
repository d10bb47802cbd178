// Issue 24 §2: the sales reports on a year of data. Seeds 1,000,000 transactions over 2025
// (a mix of states, SKUs and revenues in USD, IDR and MYR, some without revenue; the state
// moves as events) with bulk SQL into a fresh SQLite file and a throwaway PostgreSQL, then
// times salesReport per day and per SKU for the year and for one month, and the transactions
// CSV of one month. Each figure is the median of RUNS runs.
// Usage: npm run bench:reports [-- --rows N] [--runs N] [--only sqlite|postgres] [--explain]
import { existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { PostgresStore } from '../src/db/postgres/store.ts';
import { SqliteStore } from '../src/db/sqlite/store.ts';
import { salesReport, transactionCsvLines } from '../src/reports/sales.ts';
import { createDatabase, startPostgres } from '../test/helpers/postgres.ts';
import { COLUMNS, EVENTS, rowSelect, SPAN, START, seedSqlite } from './seed-transactions.mjs';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '5' },
    only: { type: 'string' },
    explain: { type: 'boolean', default: false },
    // Keep the SQLite file at PATH (seeded once, reused when it exists), to look at it afterwards.
    keep: { type: 'string' },
  },
});
const N = Number(values.rows);
const RUNS = Number(values.runs);
const OFFSET = 7 * 60;
const YEAR = { from: '2025-01-01', to: '2025-12-31' };
const MONTH = { from: '2025-06-01', to: '2025-06-30' };

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);

async function time(run) {
  const times = [];
  let last;
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    last = await run();
    times.push(performance.now() - t0);
  }
  return { ms: median(times), min: Math.min(...times), max: Math.max(...times), sold: last.total.sold };
}

async function csvRows(store, range) {
  let rows = -1;
  let bytes = 0;
  for await (const line of transactionCsvLines(store, { ...range, utcOffsetMinutes: OFFSET })) {
    rows++;
    bytes += line.length;
  }
  return { rows, bytes };
}

async function measure(name, store) {
  const results = [];
  for (const [label, range] of [
    ['year', YEAR],
    ['month', MONTH],
  ])
    for (const by of ['day', 'sku']) {
      const t = await time(() => salesReport(store, { ...range, by, utcOffsetMinutes: OFFSET }));
      results.push({
        what: `report ${label} by ${by}`,
        ...t,
        note: `sold ${t.sold.toLocaleString('en-US')}`,
      });
    }
  const csvRuns = Math.max(1, Math.min(RUNS, 3));
  const times = [];
  let out;
  for (let i = 0; i < csvRuns; i++) {
    const t0 = performance.now();
    out = await csvRows(store, MONTH);
    times.push(performance.now() - t0);
  }
  const ms = median(times);
  results.push({
    what: 'CSV month',
    ms,
    min: Math.min(...times),
    max: Math.max(...times),
    note: `${out.rows.toLocaleString('en-US')} rows, ${(out.bytes / 1e6).toFixed(1)} MB, ${Math.round((out.rows / ms) * 1000).toLocaleString('en-US')} rows/s`,
  });
  console.log(`\n${name}`);
  for (const r of results)
    console.log(
      `  ${r.what.padEnd(22)} median ${fmt(r.ms).padStart(8)}  (min ${fmt(r.min)}, max ${fmt(r.max)})  ${r.note}`,
    );
  return results;
}

const total = await (async () => {
  const report = {};
  if (values.only !== 'postgres') {
    const path = values.keep ?? join(tmpdir(), `gateway-bench-reports-${process.pid}.db`);
    const reuse = values.keep !== undefined && existsSync(path);
    const store = SqliteStore.open(path, 'bench');
    try {
      await store.migrate();
      const db = store.storage.sqlite;
      const t0 = performance.now();
      if (!reuse) {
        db.pragma('synchronous = OFF');
        seedSqlite(db, N);
      }
      db.pragma('synchronous = FULL');
      const events = db.prepare('select count(*) as n from transaction_events').get().n;
      console.log(
        `SQLite: seeded ${N.toLocaleString('en-US')} transactions and ${events.toLocaleString('en-US')} events in ${fmt(performance.now() - t0)} (${path})`,
      );
      if (values.explain) {
        // The statement the SQLite adapter runs for each day of the range.
        const plan = db
          .prepare(
            `explain query plan select (created_at + 25200000) / 86400000, state, (trx_code is not null) + 2 * (price_paid is not null) as flags,
              count(*), cast(sum(price_paid) as text) from transactions where created_at >= ? and created_at < ? group by 1, 2, 3`,
          )
          .all(START, START + 86_400_000);
        console.log(plan.map((p) => `  ${p.detail}`).join('\n'));
      }
      report.sqlite = await measure('SQLite (better-sqlite3, one file)', store);
    } finally {
      await store.close();
      if (values.keep === undefined)
        for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
    }
  }
  if (values.only !== 'sqlite') {
    const server = await startPostgres({ durable: true });
    try {
      const database = await createDatabase(server.url);
      const store = await PostgresStore.open(database.url, { poolSize: 2, instanceId: 'bench' });
      try {
        await store.migrate();
        // The bulk load on a connection of its own: the store's pool has a statement timeout.
        const pool = new pg.Client({ connectionString: database.url });
        await pool.connect();
        const t0 = performance.now();
        await pool.query(`insert into transactions (${COLUMNS})
          ${rowSelect(
            N,
            (x) => `lpad(${x}::text, 7, '0')`,
            (x) => `(${x})::json`,
          )} from generate_series(0::int8, ${N - 1}::int8) as s(i)`);
        await pool.query(EVENTS);
        // What autovacuum does shortly after a bulk load: statistics for the planner.
        await pool.query('vacuum analyze transactions');
        await pool.query('vacuum analyze transaction_events');
        const events = (await pool.query('select count(*) as n from transaction_events')).rows[0].n;
        console.log(
          `PostgreSQL: seeded ${N.toLocaleString('en-US')} transactions and ${Number(events).toLocaleString('en-US')} events in ${fmt(performance.now() - t0)}`,
        );
        if (values.explain) {
          const plan = await pool.query(
            `explain analyze select (created_at + 25200000) / 86400000, state, (trx_code is not null)::int + 2 * (price_paid is not null)::int as flags,
              count(*), sum(price_paid)::text from transactions where created_at >= $1 and created_at < $2 group by 1, 2, 3`,
            [START, START + SPAN],
          );
          console.log(plan.rows.map((p) => `  ${p['QUERY PLAN']}`).join('\n'));
        }
        await pool.end();
        report.postgres = await measure('PostgreSQL (embedded, pool of 2)', store);
      } finally {
        await store.close();
        await database.drop();
      }
    } finally {
      await server.stop();
    }
  }
  return report;
})();
console.log(`\n${JSON.stringify(total)}`);
