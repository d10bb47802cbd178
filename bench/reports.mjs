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
const START = Date.UTC(2025, 0, 1) - 7 * 3_600_000; // 2025-01-01 00:00 at +07:00
const SPAN = 365 * 86_400_000;
const OFFSET = 7 * 60;
const YEAR = { from: '2025-01-01', to: '2025-12-31' };
const MONTH = { from: '2025-06-01', to: '2025-06-30' };

/**
 * One row per i in [0, N): the columns as expressions of i, the same SQL on both databases
 * (integer arithmetic only). r spreads the states: 90% delivered, 4% failed before an order,
 * 2% refunded, 1.5% expired, 1% cancelled, 0.3% not paid, 1.2% open.
 */
function rowSelect(pad, json = (x) => x) {
  const r = '((i * 761) % 1000)';
  const k = '((i * 37 + i / 1000) % 20)';
  const state = `case when ${r} < 900 then 'SUCCESS' when ${r} < 940 then 'FAILED' when ${r} < 960 then 'FAILED'
    when ${r} < 975 then 'EXPIRED' when ${r} < 985 then 'CANCELLED' when ${r} < 988 then 'INITIATED'
    when ${r} < 990 then 'QUEUED' when ${r} < 992 then 'ORDERING' when ${r} < 995 then 'PROCESSING'
    when ${r} < 997 then 'UNKNOWN' else 'SUCCESS' end`;
  // Paid: every state but INITIATED, CANCELLED and EXPIRED; the first tenth from before topped_up_at was kept.
  const paid = `(${r} < 960 or ${r} >= 988)`;
  const hasTrx = `(${r} < 900 or ${r} >= 940 and ${r} < 960 or ${r} >= 992)`;
  const price = `(10000 + ${k} * 2500)`;
  // What Razer settles: about 10% over the price, in USD (16250.5), IDR, or MYR (3450.25).
  const minor = `case when ${k} < 10 then (${price} * 11) / 1625 when ${k} < 14 then (${price} + 2000) * 100 when ${k} < 18 then (${price} * 11) / 345 end`;
  const rate = `case when ${k} < 10 then 16250500000 when ${k} < 14 then 1000000 when ${k} < 18 then 3450250000 end`;
  const created = `(${START} + (i * ${SPAN}) / ${N} + (i % 7) * 1000)`;
  const account = `((i * 13) % 50000)`;
  return `select 'TX' || ${pad('i')} as transaction_number, 'publisherA' as api_id, 'SKU' || ${k} as sku,
      'B' || ${k} as brand_key, 'V' || ${k} as variation_key, 100000 as max_price, ${account} || '-1' as account_id,
      ${json(`'[{"key":"user_id","value":"' || ${account} || '"}]'`)} as supplier_data, ${state} as state, 'tok' || i as token,
      'RG-TX' || ${pad('i')} as ref_id,
      case when ${hasTrx} then 'VCG' || ${pad('i')} end as trx_code,
      case when ${r} < 960 or ${r} >= 988 then ${price} end as price_offered,
      case when ${r} < 900 and i % 20 <> 0 or ${r} >= 997 then ${price} + (i % 3) * 100 when ${r} >= 940 and ${r} < 960 then ${price} end as price_paid,
      ${created} + 3600000 as expires_at, ${created} as created_at, ${created} + 120000 as updated_at,
      case when ${paid} and i >= ${Math.floor(N / 10)} then ${created} + 30000 end as topped_up_at,
      ${account} || '' as limit_key,
      ${minor} as revenue_minor,
      case when ${k} < 10 then 'USD' when ${k} < 14 then 'IDR' when ${k} < 18 then 'MYR' end as revenue_currency,
      ${rate} as revenue_rate_e6,
      case when ${k} < 10 then '2024-12-20' when ${k} >= 14 and ${k} < 18 then '2024-12-21' end as revenue_rate_set,
      (${minor} * ${rate} + 50000000) / 100000000 as revenue_idr`;
}

const COLUMNS =
  'transaction_number, api_id, sku, brand_key, variation_key, max_price, account_id, supplier_data, state, token, ref_id, trx_code, price_offered, price_paid, expires_at, created_at, updated_at, topped_up_at, limit_key, revenue_minor, revenue_currency, revenue_rate_e6, revenue_rate_set, revenue_idr';

/** The moves of each row as events, appended in time order as the gateway writes them. */
const EVENTS = `insert into transaction_events (transaction_number, from_state, to_state, cause, at)
  select n, f, t, c, a from (
    select transaction_number as n, 'INITIATED' as f, 'QUEUED' as t, 'razer' as c, created_at + 30000 as a from transactions where state not in ('INITIATED', 'CANCELLED', 'EXPIRED')
    union all select transaction_number, 'QUEUED', 'ORDERING', 'supplier', created_at + 40000 from transactions where trx_code is not null or state = 'ORDERING'
    union all select transaction_number, 'ORDERING', case when state = 'UNKNOWN' then 'UNKNOWN' else 'PROCESSING' end, 'supplier', created_at + 50000 from transactions where trx_code is not null
    union all select transaction_number, 'PROCESSING', 'SUCCESS', 'webhook', created_at + 120000 from transactions where state = 'SUCCESS'
    union all select transaction_number, 'PROCESSING', 'FAILED', 'webhook', created_at + 600000 from transactions where state = 'FAILED' and trx_code is not null
    union all select transaction_number, 'QUEUED', 'FAILED', 'supplier', created_at + 35000 from transactions where state = 'FAILED' and trx_code is null
    union all select transaction_number, 'INITIATED', 'CANCELLED', 'razer', created_at + 60000 from transactions where state = 'CANCELLED'
    union all select transaction_number, 'INITIATED', 'EXPIRED', 'razer', created_at + 3600000 from transactions where state = 'EXPIRED'
  ) e order by a`;

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
        db.exec(`insert into transactions (${COLUMNS})
        with recursive s(i) as (select 0 union all select i + 1 from s where i < ${N - 1})
        ${rowSelect((x) => `printf('%07d', ${x})`)} from s`);
        db.exec(EVENTS);
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
