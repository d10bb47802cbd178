// Issue 26: how long `gateway move-store` takes per million transactions. Seeds a SQLite file
// with a year of traffic as the gateway writes it (bench/seed-transactions.mjs: 1,000,000
// transactions and their events by default), plus what each purchase leaves around it: Razer's
// init, top-up and query exchanges with their signed answers, the create-order call and some
// status calls to Mitra, and Mitra's webhook. Then moves it, with the built CLI as an operator
// runs it, into a throwaway PostgreSQL (durable: fsync on), and prints the phases.
// Usage: npm run bench:move [-- --rows N] [--batch N] [--keep PATH]
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SqliteStore } from '../src/db/sqlite/store.ts';
import { createDatabase, startPostgres } from '../test/helpers/postgres.ts';
import { seedSqlite } from './seed-transactions.mjs';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    batch: { type: 'string', default: '1000' },
    // Keep the SQLite file at PATH (seeded once, reused when it exists).
    keep: { type: 'string' },
  },
});
const N = Number(values.rows);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const fmt = (ms) => `${(ms / 1000).toFixed(1)} s`;
const num = (n) => Number(n).toLocaleString('en-US');

const PAID = "state not in ('INITIATED', 'CANCELLED', 'EXPIRED')";
const SIGNED = `'{"content-type":"application/json","x-signature":"' || lower(hex(zeroblob(32))) || '"}'`;

/** Razer's exchanges: every init, the top-up of each paid one, a query for each with an order. */
const EXCHANGES = `insert into razer_exchanges (transaction_number, endpoint, api_id, method, path, request_hash,
    request_body, response_status, response_headers, response_body, received_at, responded_at)
  select n, e, 'publisherA', m, p, printf('%064x', h), q, 200, ${SIGNED}, r, a, a + 40 from (
    select transaction_number as n, 'init' as e, 'POST' as m, '/transaction/init' as p, rowid as h, created_at as a,
      '{"apiId":"publisherA","transactionNumber":"' || transaction_number || '","productCode":"' || sku || '","accountId":"' || account_id || '","amount":"' || (max_price / 100) || '.00","currency":"IDR","timestamp":"' || created_at || '"}' as q,
      '{"transactionNumber":"' || transaction_number || '","transactionToken":"' || token || '","status":"INITIATED","message":"ok","timestamp":"' || created_at || '"}' as r
    from transactions
    union all select transaction_number, 'topup', 'POST', '/transaction/topup', rowid + 1e9, created_at + 30000,
      '{"transactionNumber":"' || transaction_number || '","transactionToken":"' || token || '"}',
      '{"transactionNumber":"' || transaction_number || '","status":"' || state || '","referenceId":"' || ref_id || '","timestamp":"' || (created_at + 30000) || '"}'
    from transactions where ${PAID}
    union all select transaction_number, 'query', 'GET', '/transaction/' || transaction_number, rowid + 2e9, created_at + 130000, '',
      '{"transactionNumber":"' || transaction_number || '","status":"' || state || '","referenceId":"' || ref_id || '","timestamp":"' || (created_at + 130000) || '"}'
    from transactions where trx_code is not null
  ) x order by a`;

/** Mitra calls: the create-order of each order, a status call for one in five. */
const CALLS = `insert into supplier_calls (transaction_number, operation, method, url, request_body, http_status,
    reply_body, rc_code, outcome, error, started_at, duration_ms, instance_id)
  select n, o, m, u, q, 200, r, '00', 'accepted', null, a, 180, 'bench' from (
    select transaction_number as n, 'order' as o, 'POST' as m, 'https://mitra.example/api/v1/transaction/create-order?sign=[redacted]' as u,
      created_at + 40000 as a,
      '{"brand_key":"' || brand_key || '","variation_key":"' || variation_key || '","ref_id":"' || ref_id || '","data":' || supplier_data || '}' as q,
      '{"status":"success","rc":"00","message":"Order created","data":{"trx_code":"' || trx_code || '","ref_id":"' || ref_id || '","status":1,"price":' || coalesce(price_paid, 0) || ',"brand_key":"' || brand_key || '","variation_key":"' || variation_key || '"}}' as r
    from transactions where trx_code is not null
    union all select transaction_number, 'order-status', 'GET', 'https://mitra.example/api/v1/transaction/' || trx_code || '?sign=[redacted]',
      created_at + 90000, null,
      '{"status":"success","rc":"00","data":{"trx_code":"' || trx_code || '","ref_id":"' || ref_id || '","status":2,"sn":"SN' || trx_code || '"}}'
    from transactions where trx_code is not null and rowid % 5 = 0
  ) x order by a`;

/** Mitra's webhook for each order. */
const WEBHOOKS = `insert into webhook_inbox (received_at, source_ip, headers, body, body_sha256, kind, transaction_ref,
    processed_at, result)
  select created_at + 120000, '203.0.113.10', '{"content-type":"application/json","user-agent":"VCGamers-Webhook"}',
    '{"event":"transaction","data":{"trx_code":"' || trx_code || '","ref_id":"' || ref_id || '","status":' || case when state = 'FAILED' then 3 else 2 end || ',"sn":"SN' || trx_code || '","price":' || coalesce(price_paid, 0) || '}}',
    printf('%064x', rowid), 'transaction', ref_id, created_at + 120005, 'applied'
  from transactions where trx_code is not null order by created_at`;

function seed(path) {
  const store = SqliteStore.open(path, 'bench');
  const db = store.storage.sqlite;
  return (async () => {
    try {
      await store.migrate();
      const t0 = performance.now();
      db.pragma('synchronous = OFF');
      seedSqlite(db, N);
      db.exec(EXCHANGES);
      db.exec(CALLS);
      db.exec(WEBHOOKS);
      db.pragma('synchronous = FULL');
      db.pragma('wal_checkpoint(TRUNCATE)');
      console.log(`seeded in ${fmt(performance.now() - t0)}`);
    } finally {
      await store.close();
    }
  })();
}

const path = values.keep ?? join(tmpdir(), `gateway-bench-move-${process.pid}.db`);
if (!(values.keep && existsSync(path))) await seed(path);
console.log(`SQLite source: ${path}, ${(statSync(path).size / 1e9).toFixed(2)} GB`);

const server = await startPostgres({ durable: true });
try {
  const target = await createDatabase(server.url);
  const t0 = performance.now();
  const run = spawnSync(
    process.execPath,
    [`${ROOT}/dist/cli/main.js`, 'move-store', '--from', path, '--batch', values.batch, '--json'],
    // The target as the README's procedure gives it: DATABASE_URL, not a URL on the command line.
    { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', DATABASE_URL: target.url }, maxBuffer: 1 << 26 },
  );
  const wall = performance.now() - t0;
  if (run.status !== 0)
    throw new Error(`move-store exited ${run.status}: ${run.stderr}${run.stdout.slice(-2000)}`);
  const result = JSON.parse(run.stdout);
  const rows = result.tables.reduce((sum, t) => sum + t.target, 0);
  console.log(`\nmove-store --batch ${values.batch}: ${result.kind}, wall ${fmt(wall)}`);
  for (const t of result.tables)
    console.log(
      `  ${t.table.padEnd(22)} ${num(t.target).padStart(12)} rows  ${t.same ? 'same' : 'DIFFERENT'}`,
    );
  const { checkMs, migrateMs, copyMs, verifyMs } = result.phases;
  console.log(
    `  ${num(rows)} rows, ${num(result.transactions)} transactions verified one by one\n` +
      `  check the source ${fmt(checkMs)}, migrate ${fmt(migrateMs)}, copy ${fmt(copyMs)} (${num(Math.round((rows / copyMs) * 1000))} rows/s), verify ${fmt(verifyMs)}\n` +
      `  per million transactions: ${fmt((wall / result.transactions) * 1e6)}`,
  );
  await target.drop();
} finally {
  await server.stop();
  if (!values.keep) for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
}
