// The year of transactions bench/reports.mjs and bench/move.mjs seed: the same rows on both
// databases, made by SQL alone so a million take seconds.

export const START = Date.UTC(2025, 0, 1) - 7 * 3_600_000; // 2025-01-01 00:00 at +07:00
export const SPAN = 365 * 86_400_000;

/**
 * One row per i in [0, N): the columns as expressions of i, the same SQL on both databases
 * (integer arithmetic only). r spreads the states: 90% delivered, 4% failed before an order,
 * 2% refunded, 1.5% expired, 1% cancelled, 0.3% not paid, 1.2% open.
 */
export function rowSelect(N, pad, json = (x) => x) {
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

export const COLUMNS =
  'transaction_number, api_id, sku, brand_key, variation_key, max_price, account_id, supplier_data, state, token, ref_id, trx_code, price_offered, price_paid, expires_at, created_at, updated_at, topped_up_at, limit_key, revenue_minor, revenue_currency, revenue_rate_e6, revenue_rate_set, revenue_idr';

/** The moves of each row as events, appended in time order as the gateway writes them. */
export const EVENTS = `insert into transaction_events (transaction_number, from_state, to_state, cause, at)
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

/** N transactions and their events into a migrated SQLite database. */
export function seedSqlite(db, N) {
  db.exec(`insert into transactions (${COLUMNS})
    with recursive s(i) as (select 0 union all select i + 1 from s where i < ${N - 1})
    ${rowSelect(N, (x) => `printf('%07d', ${x})`)} from s`);
  db.exec(EVENTS);
}
