import {
  and,
  asc,
  count,
  desc,
  eq,
  exists,
  getTableColumns,
  gt,
  gte,
  inArray,
  isNotNull,
  isNull,
  lt,
  lte,
  min,
  ne,
  notExists,
  notInArray,
  or,
  type SQL,
  sql,
} from 'drizzle-orm';
import { alias, type PgColumn } from 'drizzle-orm/pg-core';
import pg from 'pg';
import type { SaleRow, SalesGroup, SalesGroupQuery, SalesPageQuery } from '../sales.js';
import type { SharedRateBudget, Store } from '../store.js';
import type {
  AuditTable,
  BrandInput,
  CachedBrand,
  CachedVariation,
  FlagCondition,
  HourlyCount,
  InitEvent,
  InitInsert,
  LimitAccount,
  Move,
  MovePatch,
  MoveResult,
  NewExchange,
  NewInitiated,
  NewSupplierCall,
  NewTransaction,
  NewWebhook,
  OldestOpen,
  OpenByTopUpQuery,
  OpenCommitment,
  OpenPurchase,
  OpenPurchasePage,
  PruneBatch,
  PurchaseLimits,
  RateSlot,
  RepeatedQueries,
  SharedBudget,
  TransactionCounts,
  TransactionCursor,
  TransactionPage,
  TransactionQuery,
  TransactionRow,
  VariationInput,
  WebhookPage,
  WebhookQuery,
} from '../types.js';
import { UnfinishedMoveError } from '../unfinished-move.js';
import {
  BALANCE_SUPPLIER,
  FINAL_STATES,
  isFinalState,
  OPEN_STATES,
  type OpenState,
  type StoredState,
  TRANSACTION_STATES,
} from '../vocabulary.js';
import { type Connection, type Db, migrate, openConnection, unfinishedMove } from './connection.js';
import * as sales from './sales.js';
import {
  catalogueBrands,
  catalogueVariations,
  dailySummaries,
  razerExchanges,
  supplierBalance,
  supplierCalls,
  transactionEvents,
  transactions,
  webhookInbox,
} from './schema.js';

/**
 * The NOTIFY channel of moves into a final state; the payload is the transaction number. Not
 * `gateway_moves`, where releases before 27 announced every move: during a rolling upgrade
 * their notices must not end a wait here before the state is final.
 */
const FINAL_CHANNEL = 'gateway_final';
/** Transaction advisory lock key serialising the shared rate budget's takes. */
const RATE_LOCK = sql.raw('7215530118027002');
/**
 * How long a catalogue row read stays in memory: every init and every send read their SKU's
 * brand and variation, a round trip each, and the rows change only at a refresh (every 10 min).
 * Only rows found are kept, so a product that appears is seen at once.
 */
const CATALOGUE_MEMORY_MS = 1000;
/** Rows per multi-row INSERT, well under PostgreSQL's 65535 bind parameters. */
const INSERT_CHUNK = 1000;
/** Takes of one budget between two sweeps of slots that stopped counting. */
const SWEEP_EVERY = 64;
const LISTEN_RETRY_MIN_MS = 100;
const LISTEN_RETRY_MAX_MS = 5000;

// The row every caller sees: the table's columns but the lease, which is this adapter's own.
const { leaseHolder: _leaseHolder, leaseUntil: _leaseUntil, ...rowColumns } = getTableColumns(transactions);

/** `ms` milliseconds as an interval (the parameter typed, so PostgreSQL need not guess). */
const millis = (ms: number) => sql`(${ms}::double precision * interval '1 millisecond')`;
/** A lease ending `ttlMs` from now, in database time. */
const leaseEnd = (ttlMs: number) => sql`now() + ${millis(ttlMs)}`;
/** Now in epoch ms, the database's clock (as the daily summary's claims count it). */
const DB_EPOCH_MS = sql`floor(extract(epoch from now()) * 1000)::int8`;
/** The row's lease is free: never taken, or run out (database time). */
const leaseFree = () => or(isNull(transactions.leaseHolder), lte(transactions.leaseUntil, sql`now()`));

// The operator's listing order, (rank, key, transaction number) ascending: see TransactionCursor.
const FINAL: readonly StoredState[] = FINAL_STATES;
const rank = sql`case when ${transactions.attention} then 0 when ${inArray(transactions.state, [...FINAL_STATES])} then 2 else 1 end`;
const sortKey = sql`case (${rank}) when 2 then -${transactions.createdAt} else ${transactions.createdAt} end`;

// The open-since index (state, topped_up_at, transaction_number) holds open rows only: its
// WHERE term repeated as written, constants included, lets the planner prove it applies.
const openOnly = sql`${transactions.state} in (${sql.raw(OPEN_STATES.map((s) => `'${s}'`).join(', '))})`;
const inState = (state: OpenState) => sql`${openOnly} and ${transactions.state} = ${sql.raw(`'${state}'`)}`;
/** After `at, n` in (topped_up_at, transaction_number) order: a row comparison an index range reads. */
const afterTopUp = (at: number, n: string) =>
  sql`(${transactions.toppedUpAt}, ${transactions.transactionNumber}) > (${at}::int8, ${n}::text)`;
/** int8 comes back from pg as text. */
const epochOrNull = (v: unknown) => (v === null || v === undefined ? null : Number(v));

const HOUR_MS = 3_600_000;
/** created_at floored to its hour (UTC: epoch ms are UTC), in int8 arithmetic, read as a number. */
const createdHour =
  sql<number>`${transactions.createdAt} - ${transactions.createdAt} % ${sql.raw(String(HOUR_MS))}`.mapWith(
    Number,
  );

/** A row as the driver returns it (column names, driver values) as drizzle maps a select's. */
function rowFromDriver(raw: Record<string, unknown>): TransactionRow {
  const row: Record<string, unknown> = {};
  for (const [key, column] of Object.entries(rowColumns)) {
    const value = raw[column.name];
    row[key] = value === null || value === undefined ? null : column.mapFromDriverValue(value);
  }
  return row as TransactionRow;
}

/**
 * The statements every purchase runs several times, built once and prepared by name on each
 * pooled connection: no SQL built per call, none parsed again by the server.
 */
function prepareHot(db: Db) {
  const n = eq(transactions.transactionNumber, sql.placeholder('n'));
  const held = and(n, eq(transactions.leaseHolder, sql`${sql.placeholder('holder')}`));
  const until = sql`now() + (${sql.placeholder('ttl')}::double precision * interval '1 millisecond')`;
  return {
    getTransaction: db.select(rowColumns).from(transactions).where(n).prepare('gateway_get_transaction'),
    claimStep: db
      .update(transactions)
      .set({ leaseHolder: sql`${sql.placeholder('holder')}`, leaseUntil: until })
      .where(and(n, leaseFree()))
      .returning(rowColumns)
      .prepare('gateway_claim_step'),
    renewStep: db.update(transactions).set({ leaseUntil: until }).where(held).prepare('gateway_renew_step'),
    releaseStep: db
      .update(transactions)
      .set({ leaseHolder: null, leaseUntil: null })
      .where(held)
      .prepare('gateway_release_step'),
    findBySupplierRef: db
      .select(rowColumns)
      .from(transactions)
      .where(
        or(eq(transactions.refId, sql.placeholder('ref')), eq(transactions.trxCode, sql.placeholder('ref'))),
      )
      .orderBy(desc(sql`${transactions.refId} is not distinct from ${sql.placeholder('ref')}::text`))
      .limit(1)
      .prepare('gateway_find_by_supplier_ref'),
  };
}

/** The cursor of `row`: the same rank and key as the SQL above, computed from the row. */
function cursorOf(row: TransactionRow): TransactionCursor {
  const r = row.attention ? 0 : FINAL.includes(row.state) ? 2 : 1;
  return { rank: r, key: r === 2 ? -row.createdAt : row.createdAt, transactionNumber: row.transactionNumber };
}

function chunks<T>(rows: readonly T[], size = INSERT_CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
}

/**
 * The PostgreSQL adapter, for several gateway instances on one database. Every check and the
 * write it guards are one statement or one transaction; leases, job turns and the shared rate
 * budget are timed by the database's clock, so instances whose clocks differ agree on them.
 * Moves into a final state are announced with NOTIFY, heard by every instance's LISTEN connection.
 */
export class PostgresStore implements Store {
  readonly dialect = 'postgres' as const;
  readonly instanceId: string;
  readonly connection: Connection;
  readonly #url: string;
  readonly #listeners = new Set<(transactionNumber: string) => void>();
  #listenClient: pg.Client | undefined;
  #listenRetry: NodeJS.Timeout | undefined;
  #listenBackoff = LISTEN_RETRY_MIN_MS;
  #closed = false;

  readonly #hot: ReturnType<typeof prepareHot>;
  readonly #catalogue = new Map<string, { until: number; row: CachedBrand | CachedVariation }>();
  /** Bumped when a replace of the catalogue starts and ends: a read that spans one is not kept. */
  #catalogueGeneration = 0;

  constructor(connection: Connection, url: string, instanceId: string) {
    this.connection = connection;
    this.#url = url;
    this.instanceId = instanceId;
    this.#hot = prepareHot(connection.db);
  }

  /** Opens the pool and proves the server answers, so a wrong URL fails at start-up. */
  static async open(url: string, options: { poolSize: number; instanceId: string }): Promise<PostgresStore> {
    const connection = openConnection(url, options.poolSize);
    try {
      const unfinished = await unfinishedMove(connection.pool);
      if (unfinished) throw new UnfinishedMoveError(unfinished.source, unfinished.startedAt);
    } catch (err) {
      await connection.pool.end().catch(() => undefined);
      throw err;
    }
    return new PostgresStore(connection, url, options.instanceId);
  }

  get #db(): Db {
    return this.connection.db;
  }

  // -- transactions

  async getTransaction(transactionNumber: string): Promise<TransactionRow | undefined> {
    const [row] = await this.#hot.getTransaction.execute({ n: transactionNumber });
    return row;
  }

  async insertTransaction(row: NewTransaction): Promise<TransactionRow> {
    const [inserted] = await this.#db.insert(transactions).values(row).returning(rowColumns);
    if (!inserted) throw new Error(`insert of transaction ${row.transactionNumber} returned no row`);
    return inserted;
  }

  async listEvents(transactionNumber: string) {
    return this.#db
      .select()
      .from(transactionEvents)
      .where(eq(transactionEvents.transactionNumber, transactionNumber))
      .orderBy(asc(transactionEvents.id));
  }

  /**
   * A compare-and-set on the state (and lease): under READ COMMITTED a concurrent writer's
   * UPDATE waits for ours, then re-checks the condition against the row we left, so exactly
   * one of two moves from the same state matches. One statement, so one round trip and its
   * own transaction: the update, its event and (into a final state) the NOTIFY commit together,
   * and nothing of them on failure.
   */
  async moveTransaction(move: Move): Promise<MoveResult> {
    const n = move.transactionNumber;
    const update = this.#db
      .update(transactions)
      .set({ ...move.patch, state: move.to, updatedAt: move.at })
      .where(
        and(
          eq(transactions.transactionNumber, n),
          eq(transactions.state, move.from),
          move.neverSent ? eq(transactions.orderAttempts, 0) : undefined,
          move.lease === undefined ? undefined : eq(transactions.leaseHolder, move.lease),
        ),
      )
      .returning(rowColumns)
      .getSQL();
    // Only waiters listen, and they wait for a final state: fewer NOTIFYs, fewer commits that
    // queue on PostgreSQL's notify lock.
    const notify = isFinalState(move.to)
      ? sql`, pg_notify(${FINAL_CHANNEL}, moved.transaction_number)`
      : sql``;
    const result = await this.#db.execute<Record<string, unknown>>(sql`
      with moved as (${update}),
      event as (
        insert into ${transactionEvents} (transaction_number, from_state, to_state, cause, detail, at, instance_id, actor)
        select moved.transaction_number, ${move.from}::text, ${move.to}::text, ${move.cause}::text,
          ${move.detail ?? null}::text, ${move.at}::int8, ${this.instanceId}::text, ${move.actor ?? null}::text
        from moved
      )
      select moved.*${notify} from moved`);
    const [raw] = result.rows;
    if (raw) return { ok: true, row: rowFromDriver(raw) };
    const [current] = await this.#db
      .select({ state: transactions.state, leaseHolder: transactions.leaseHolder })
      .from(transactions)
      .where(eq(transactions.transactionNumber, n));
    if (!current) return { ok: false, reason: 'missing' };
    if (move.lease !== undefined && current.state === move.from && current.leaseHolder !== move.lease)
      return { ok: false, reason: 'lost-lease' };
    return { ok: false, reason: 'stale', current: current.state };
  }

  async patchTransaction(
    transactionNumber: string,
    state: StoredState,
    patch: MovePatch,
    at: number,
    lease?: string,
  ): Promise<boolean> {
    const result = await this.#db
      .update(transactions)
      .set({ ...patch, updatedAt: at })
      .where(
        and(
          eq(transactions.transactionNumber, transactionNumber),
          eq(transactions.state, state),
          lease === undefined ? undefined : eq(transactions.leaseHolder, lease),
        ),
      );
    return result.rowCount === 1;
  }

  /** A row without a limit key counts by account_id: see LimitAccount. */
  async countRecentPurchases(
    query: { sku: string; account: LimitAccount | null; since: number },
    db: Db = this.#db,
  ) {
    const { account } = query;
    const [row] = await db
      .select({ n: count() })
      .from(transactions)
      .where(
        and(
          eq(transactions.sku, query.sku),
          account === null
            ? undefined
            : or(eq(transactions.limitKey, account.limitKey), eq(transactions.accountId, account.accountId)),
          gt(transactions.createdAt, query.since),
          notInArray(transactions.state, ['FAILED', 'CANCELLED', 'EXPIRED']),
        ),
      );
    return row?.n ?? 0;
  }

  /** One statement: our ref_id first, else Mitra's trx_code. */
  async findBySupplierRef(ref: string): Promise<TransactionRow | undefined> {
    const [row] = await this.#hot.findBySupplierRef.execute({ ref });
    return row;
  }

  async listInState(state: StoredState, limit = 1000, after = '') {
    return this.#db
      .select(rowColumns)
      .from(transactions)
      .where(and(eq(transactions.state, state), gt(transactions.transactionNumber, after)))
      .orderBy(asc(transactions.transactionNumber))
      .limit(limit);
  }

  async listExpiredInitiated(now: number, limit: number) {
    return this.#db
      .select(rowColumns)
      .from(transactions)
      .where(and(eq(transactions.state, 'INITIATED'), lte(transactions.expiresAt, now)))
      .limit(limit);
  }

  async listOverdue(now: number, limit: number) {
    return this.#db
      .select(rowColumns)
      .from(transactions)
      .where(
        and(
          inArray(transactions.state, [...OPEN_STATES]),
          lte(transactions.deadlineAt, now),
          eq(transactions.attention, false),
        ),
      )
      .limit(limit);
  }

  /** One row more than asked tells whether another page follows. */
  async pageTransactions(query: TransactionQuery): Promise<TransactionPage> {
    const { after, q } = query;
    const rows = await this.#db
      .select(rowColumns)
      .from(transactions)
      .where(
        and(
          query.states === undefined ? undefined : inArray(transactions.state, [...query.states]),
          query.attention === undefined ? undefined : eq(transactions.attention, query.attention),
          query.sku === undefined ? undefined : eq(transactions.sku, query.sku),
          query.since === undefined ? undefined : gte(transactions.createdAt, query.since),
          query.until === undefined ? undefined : lt(transactions.createdAt, query.until),
          q === undefined
            ? undefined
            : or(
                eq(transactions.transactionNumber, q),
                eq(transactions.refId, q),
                eq(transactions.trxCode, q),
              ),
          after === undefined
            ? undefined
            : sql`(${rank}, ${sortKey}, ${transactions.transactionNumber}) > (${after.rank}, ${after.key}, ${after.transactionNumber})`,
        ),
      )
      .orderBy(rank, sortKey, asc(transactions.transactionNumber))
      .limit(query.limit + 1);
    const items = rows.slice(0, query.limit);
    const last = items.at(-1);
    return { items, next: rows.length > query.limit && last ? cursorOf(last) : null };
  }

  /** One statement, so the counts agree with each other. */
  async countTransactions(): Promise<TransactionCounts> {
    const rows = await this.#db
      .select({
        state: transactions.state,
        n: count(),
        flagged: count(sql`case when ${transactions.attention} then 1 end`),
      })
      .from(transactions)
      .groupBy(transactions.state);
    const byState = Object.fromEntries(TRANSACTION_STATES.map((s) => [s, 0])) as Record<StoredState, number>;
    let attention = 0;
    for (const r of rows) {
      byState[r.state] = r.n;
      attention += r.flagged;
    }
    return { byState, attention };
  }

  /** One scalar subquery per state, each one index lookup. */
  async oldestOpen(): Promise<OldestOpen> {
    const columns = OPEN_STATES.map(
      (state) =>
        sql`(select min(${transactions.toppedUpAt}) from ${transactions} where ${inState(state)}) as ${sql.identifier(state)}`,
    );
    // INITIATED rows are read through transactions_due (state, next_check_at): they are few,
    // being closed 24 h after their init.
    const result = await this.#db.execute<Record<string, unknown>>(
      sql`select (select min(${transactions.createdAt}) from ${transactions} where ${transactions.state} = 'INITIATED') as "INITIATED", ${sql.join(columns, sql`, `)}`,
    );
    const row = result.rows[0] ?? {};
    return {
      INITIATED: epochOrNull(row.INITIATED),
      QUEUED: epochOrNull(row.QUEUED),
      ORDERING: epochOrNull(row.ORDERING),
      PROCESSING: epochOrNull(row.PROCESSING),
      UNKNOWN: epochOrNull(row.UNKNOWN),
    };
  }

  async openCommitments(): Promise<OpenCommitment[]> {
    const result = await this.#db.execute<Record<string, unknown>>(
      sql`select ${transactions.state} as state, (${transactions.trxCode} is not null) as "hasTrxCode",
        ${transactions.priceOffered} as "priceOffered", ${transactions.maxPrice} as "maxPrice", count(*) as count
        from ${transactions} where ${openOnly}
        group by ${transactions.state}, (${transactions.trxCode} is not null), ${transactions.priceOffered}, ${transactions.maxPrice}`,
    );
    return result.rows.map((r) => ({
      state: r.state as OpenCommitment['state'],
      hasTrxCode: r.hasTrxCode === true,
      priceOffered: r.priceOffered === null ? null : Number(r.priceOffered),
      maxPrice: Number(r.maxPrice),
      count: Number(r.count),
    }));
  }

  async fillTopUpTimes(deadlineMs: number): Promise<number> {
    const result = await this.#db.execute(
      sql`update ${transactions} set ${sql.identifier('topped_up_at')} = ${transactions.deadlineAt} - ${deadlineMs}::int8
        where ${openOnly} and ${transactions.toppedUpAt} is null and ${transactions.deadlineAt} is not null`,
    );
    return result.rowCount ?? 0;
  }

  /** Per state, the first `limit` rows after the cursor in index order; then the first `limit` of those. */
  async listOpenByTopUp(query: OpenByTopUpQuery): Promise<OpenPurchasePage> {
    const { after, through, limit } = query;
    const byState = OPEN_STATES.map(
      (
        state,
      ) => sql`(select ${transactions.transactionNumber} as "transactionNumber", ${transactions.state} as state, ${transactions.toppedUpAt} as "toppedUpAt", ${transactions.attention} as attention
        from ${transactions}
        where ${inState(state)} and ${transactions.toppedUpAt} <= ${through}::int8 and ${afterTopUp(after.toppedUpAt, after.transactionNumber)}
        order by ${transactions.toppedUpAt}, ${transactions.transactionNumber} limit ${limit + 1})`,
    );
    const result = await this.#db.execute<{
      transactionNumber: string;
      state: OpenState;
      toppedUpAt: string;
      attention: boolean;
    }>(
      sql`${sql.join(byState, sql` union all `)} order by "toppedUpAt", "transactionNumber" limit ${limit + 1}`,
    );
    const rows: OpenPurchase[] = result.rows.map((r) => ({ ...r, toppedUpAt: Number(r.toppedUpAt) }));
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    if (rows.length <= limit || !last) return { items, more: 0 };
    const counted = await this.#db.execute<{ n: number }>(
      sql`select count(*)::int as n from (select 1 from ${transactions}
        where ${openOnly} and ${transactions.toppedUpAt} <= ${through}::int8 and ${afterTopUp(last.toppedUpAt, last.transactionNumber)}
        limit ${query.countUpTo}) as past`,
    );
    return { items, more: counted.rows[0]?.n ?? 0 };
  }

  async salesGroups(query: SalesGroupQuery): Promise<SalesGroup[]> {
    return sales.salesGroups(this.#db, query);
  }

  async salesPage(query: SalesPageQuery): Promise<SaleRow[]> {
    return sales.salesPage(this.#db, query);
  }

  /** created_at is int8: the hour is int8 too, which pg returns as a string, so it is mapped. */
  async purchasesByHour(since: number, until: number): Promise<HourlyCount[]> {
    return this.#db
      .select({ hour: createdHour, state: transactions.state, count: count() })
      .from(transactions)
      .where(and(gte(transactions.createdAt, since), lt(transactions.createdAt, until)))
      .groupBy(createdHour, transactions.state)
      .orderBy(createdHour, asc(transactions.state));
  }

  async flagForOperator(transactionNumber: string, reason: string, at: number, when: FlagCondition = {}) {
    const result = await this.#db
      .update(transactions)
      .set({ attention: true, attentionReason: reason, updatedAt: at })
      .where(
        and(
          eq(transactions.transactionNumber, transactionNumber),
          when.clear ? eq(transactions.attention, false) : undefined,
          when.inState ? eq(transactions.state, when.inState) : undefined,
        ),
      );
    return result.rowCount === 1;
  }

  // -- step leases, in database time

  /** A holder asking again for its own unexpired lease is refused too, as in SQLite. */
  async claimStep(transactionNumber: string, holder: string, ttlMs: number) {
    const [row] = await this.#hot.claimStep.execute({ n: transactionNumber, holder, ttl: ttlMs });
    return row ?? null;
  }

  /** An expired lease nobody took over is still the holder's (the fencing checks the holder only). */
  async renewStep(transactionNumber: string, holder: string, ttlMs: number) {
    const result = await this.#hot.renewStep.execute({ n: transactionNumber, holder, ttl: ttlMs });
    return result.rowCount === 1;
  }

  async releaseStep(transactionNumber: string, holder: string) {
    await this.#hot.releaseStep.execute({ n: transactionNumber, holder });
  }

  /**
   * Picks and leases the due rows in one statement. SKIP LOCKED: rows another instance is
   * claiming right now are passed over instead of waited for, so two reconcilers never get
   * the same row and never queue behind each other.
   */
  async claimDue(now: number, limit: number, holder: string, ttlMs: number) {
    const due = this.#db
      .select({ n: transactions.transactionNumber })
      .from(transactions)
      .where(
        and(inArray(transactions.state, [...OPEN_STATES]), lte(transactions.nextCheckAt, now), leaseFree()),
      )
      .orderBy(asc(transactions.nextCheckAt))
      .limit(limit)
      .for('update', { skipLocked: true });
    const rows = await this.#db
      .update(transactions)
      .set({ leaseHolder: holder, leaseUntil: leaseEnd(ttlMs) })
      .where(inArray(transactions.transactionNumber, due))
      .returning(rowColumns);
    // RETURNING keeps no order.
    return rows.sort((a, b) => (a.nextCheckAt ?? 0) - (b.nextCheckAt ?? 0));
  }

  // -- Razer exchanges

  async recordExchange(exchange: NewExchange) {
    await this.#db.insert(razerExchanges).values(exchange);
  }

  async findCreatingInit(transactionNumber: string) {
    const [row] = await this.#db
      .select()
      .from(razerExchanges)
      .where(
        and(
          eq(razerExchanges.transactionNumber, transactionNumber),
          eq(razerExchanges.endpoint, 'init'),
          eq(razerExchanges.responseStatus, 200),
        ),
      )
      .orderBy(asc(razerExchanges.id))
      .limit(1);
    return row;
  }

  /** ON CONFLICT DO NOTHING: a racing insert of the same number waits for ours, then inserts nothing. */
  async insertInitiated(
    row: NewInitiated,
    exchange: NewExchange,
    limits?: PurchaseLimits,
    initEvent?: InitEvent,
  ): Promise<InitInsert> {
    return this.#db.transaction(async (tx): Promise<InitInsert> => {
      if (limits && (limits.perAccount !== null || limits.perSku !== null)) {
        // The inits of one SKU take turns (every instance) from the count to the commit.
        await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`purchase-limits:${row.sku}`}))`);
        const [taken] = await tx
          .select({ n: transactions.transactionNumber })
          .from(transactions)
          .where(eq(transactions.transactionNumber, row.transactionNumber));
        if (taken) return 'exists';
        const recent = (account: LimitAccount | null) =>
          this.countRecentPurchases({ sku: row.sku, account, since: limits.since }, tx);
        const account = { limitKey: row.limitKey, accountId: row.accountId };
        if (limits.perAccount !== null && (await recent(account)) >= limits.perAccount)
          return 'over-account-limit';
        if (limits.perSku !== null && (await recent(null)) >= limits.perSku) return 'over-sku-limit';
      }
      const inserted = await tx
        .insert(transactions)
        .values(row)
        // No arbiter named: inits of one number racing can collide on ref_id's index before the
        // key's (ON CONFLICT only absorbs its arbiter's), and ref_id is RG- + the number.
        .onConflictDoNothing()
        .returning({ n: transactions.transactionNumber });
      if (inserted.length === 0) return 'exists';
      await tx.insert(razerExchanges).values(exchange);
      if (initEvent)
        await tx.insert(transactionEvents).values({
          transactionNumber: row.transactionNumber,
          fromState: 'INITIATED',
          toState: 'INITIATED',
          cause: 'razer',
          detail: initEvent.detail,
          at: row.createdAt,
          instanceId: this.instanceId,
        });
      return 'created';
    });
  }

  async listExchanges(transactionNumber: string) {
    return this.#db
      .select()
      .from(razerExchanges)
      .where(eq(razerExchanges.transactionNumber, transactionNumber))
      .orderBy(asc(razerExchanges.id));
  }

  // -- supplier calls

  async recordSupplierCall(call: NewSupplierCall) {
    await this.#db.insert(supplierCalls).values({ ...call, instanceId: this.instanceId });
  }

  async listSupplierCalls(transactionNumber: string) {
    return this.#db
      .select()
      .from(supplierCalls)
      .where(eq(supplierCalls.transactionNumber, transactionNumber))
      .orderBy(asc(supplierCalls.id));
  }

  /** `longestCallMs` bounds how early such a call started, so the time index does the work. */
  async listCallEndsSince(since: number, longestCallMs: number) {
    // int8 arithmetic comes back as a string.
    const ended = sql<number>`${supplierCalls.startedAt} + ${supplierCalls.durationMs}`.mapWith(Number);
    const rows = await this.#db
      .select({ ended })
      .from(supplierCalls)
      .where(and(gte(supplierCalls.startedAt, since - longestCallMs), gte(ended, since)));
    return rows.map((r) => r.ended);
  }

  async lastCallOfOtherInstance(instanceId: string, since: number) {
    const [row] = await this.#db
      .select({ instanceId: supplierCalls.instanceId, startedAt: supplierCalls.startedAt })
      .from(supplierCalls)
      .where(
        and(
          gte(supplierCalls.startedAt, since),
          or(isNull(supplierCalls.instanceId), ne(supplierCalls.instanceId, instanceId)),
        ),
      )
      .orderBy(desc(supplierCalls.startedAt))
      .limit(1);
    return row ? { instanceId: row.instanceId, startedAt: Number(row.startedAt) } : null;
  }

  async writeAudit(
    exchanges: readonly NewExchange[],
    calls: readonly NewSupplierCall[],
    repeats: readonly RepeatedQueries[] = [],
  ) {
    if (exchanges.length === 0 && calls.length === 0 && repeats.length === 0) return;
    await this.#db.transaction(async (tx) => {
      // In one order on every instance: two batches counting the same rows never deadlock.
      const ordered = [...repeats].sort((a, b) => (a.transactionNumber < b.transactionNumber ? -1 : 1));
      for (const r of ordered)
        await tx
          .update(transactions)
          .set({
            queriesRepeated: sql`${transactions.queriesRepeated} + ${r.count}`,
            lastQueriedAt: sql`greatest(coalesce(${transactions.lastQueriedAt}, 0), ${r.lastAt}::bigint)`,
          })
          .where(eq(transactions.transactionNumber, r.transactionNumber));
      for (const batch of chunks(exchanges)) await tx.insert(razerExchanges).values(batch);
      for (const batch of chunks(calls))
        await tx.insert(supplierCalls).values(batch.map((c) => ({ ...c, instanceId: this.instanceId })));
    });
  }

  // -- webhooks

  async storeWebhook(webhook: NewWebhook) {
    const [row] = await this.#db.insert(webhookInbox).values(webhook).returning({ id: webhookInbox.id });
    if (!row) throw new Error('insert of a webhook returned no id');
    return row.id;
  }

  async getWebhook(id: number) {
    const [row] = await this.#db.select().from(webhookInbox).where(eq(webhookInbox.id, id));
    return row;
  }

  async markWebhook(
    id: number,
    outcome: { kind: string; transactionRef: string | null; result: string },
    at: number,
  ) {
    await this.#db
      .update(webhookInbox)
      .set({
        kind: outcome.kind,
        transactionRef: outcome.transactionRef,
        result: outcome.result,
        processedAt: at,
      })
      .where(eq(webhookInbox.id, id));
  }

  async listUnprocessedWebhooks(limit = 1000, afterId = 0) {
    return this.#db
      .select()
      .from(webhookInbox)
      .where(and(isNull(webhookInbox.processedAt), gt(webhookInbox.id, afterId)))
      .orderBy(asc(webhookInbox.id))
      .limit(limit);
  }

  async listWebhooks(limit = 1000) {
    return this.#db.select().from(webhookInbox).orderBy(asc(webhookInbox.id)).limit(limit);
  }

  async pageWebhooks(query: WebhookQuery): Promise<WebhookPage> {
    const { processed } = query;
    const rows = await this.#db
      .select()
      .from(webhookInbox)
      .where(
        and(
          processed === undefined
            ? undefined
            : processed
              ? isNotNull(webhookInbox.processedAt)
              : isNull(webhookInbox.processedAt),
          query.kind === undefined ? undefined : eq(webhookInbox.kind, query.kind),
          query.transactionRef === undefined
            ? undefined
            : eq(webhookInbox.transactionRef, query.transactionRef),
          query.since === undefined ? undefined : gte(webhookInbox.receivedAt, query.since),
          query.until === undefined ? undefined : lt(webhookInbox.receivedAt, query.until),
          query.beforeId === undefined ? undefined : lt(webhookInbox.id, query.beforeId),
        ),
      )
      .orderBy(desc(webhookInbox.id))
      .limit(query.limit + 1);
    const items = rows.slice(0, query.limit);
    return { items, next: rows.length > query.limit ? (items.at(-1)?.id ?? null) : null };
  }

  // -- catalogue cache

  /** The brand list replaces the cached one whole: a brand Mitra no longer lists is gone. */
  // This instance's own refresh is read at once; another instance's within CATALOGUE_MEMORY_MS.
  async replaceBrands(brands: readonly BrandInput[], at: number) {
    this.#catalogueGeneration++;
    try {
      await this.#db.transaction(async (tx) => {
        await tx.delete(catalogueBrands);
        for (const batch of chunks(brands))
          await tx.insert(catalogueBrands).values(batch.map((b) => ({ ...b, fetchedAt: at })));
      });
    } finally {
      this.#catalogueGeneration++;
      this.#catalogue.clear();
    }
  }

  async replaceVariations(brandKey: string, variations: readonly VariationInput[], at: number) {
    this.#catalogueGeneration++;
    try {
      await this.#db.transaction(async (tx) => {
        await tx.delete(catalogueVariations).where(eq(catalogueVariations.brandKey, brandKey));
        for (const batch of chunks(variations))
          await tx.insert(catalogueVariations).values(batch.map((v) => ({ ...v, brandKey, fetchedAt: at })));
      });
    } finally {
      this.#catalogueGeneration++;
      this.#catalogue.clear();
    }
  }

  async getBrand(brandKey: string): Promise<CachedBrand | undefined> {
    return this.#remembered(`b\u0000${brandKey}`, async () => {
      const [row] = await this.#db
        .select()
        .from(catalogueBrands)
        .where(eq(catalogueBrands.brandKey, brandKey));
      return row;
    });
  }

  async getVariation(brandKey: string, variationKey: string): Promise<CachedVariation | undefined> {
    return this.#remembered(`v\u0000${brandKey}\u0000${variationKey}`, async () => {
      const [row] = await this.#db
        .select()
        .from(catalogueVariations)
        .where(
          and(eq(catalogueVariations.brandKey, brandKey), eq(catalogueVariations.variationKey, variationKey)),
        );
      return row;
    });
  }

  /** A catalogue row from memory while fresh (CATALOGUE_MEMORY_MS), else read and kept if found. */
  async #remembered<T extends CachedBrand | CachedVariation>(
    key: string,
    read: () => Promise<T | undefined>,
  ): Promise<T | undefined> {
    const now = performance.now();
    const kept = this.#catalogue.get(key);
    if (kept && kept.until > now) return kept.row as T;
    const generation = this.#catalogueGeneration;
    const row = await read();
    // A replace of this instance's began or ended meanwhile: the row may be the old one.
    if (generation !== this.#catalogueGeneration) return row;
    if (this.#catalogue.size >= 10_000) this.#catalogue.clear();
    if (row) this.#catalogue.set(key, { until: now + CATALOGUE_MEMORY_MS, row });
    else this.#catalogue.delete(key);
    return row;
  }

  async catalogueFetchedAt(brandKeys?: readonly string[]) {
    const [brands] = await this.#db.select({ at: min(catalogueBrands.fetchedAt) }).from(catalogueBrands);
    const [variations] = await this.#db
      .select({ at: min(catalogueVariations.fetchedAt) })
      .from(catalogueVariations)
      .where(brandKeys ? inArray(catalogueVariations.brandKey, [...brandKeys]) : undefined);
    return { brands: brands?.at ?? null, oldestVariations: variations?.at ?? null };
  }

  // -- retention

  /** A read finds the ids, then one short delete by id checks the condition again. */
  async pruneBatch(table: AuditTable, before: number, afterId: number, size: number): Promise<PruneBatch> {
    const [target, condition] = PRUNABLE[table];
    const prunable = condition(this.#db, before);
    const ids = (
      await this.#db
        .select({ id: target.id })
        .from(target)
        .where(and(gt(target.id, afterId), prunable))
        .orderBy(asc(target.id))
        .limit(size)
    ).map((r) => r.id);
    const lastId = ids.at(-1);
    if (lastId === undefined) return { found: 0, deleted: 0, lastId: afterId };
    const result = await this.#db.delete(target).where(and(inArray(target.id, ids), prunable));
    return { found: ids.length, deleted: result.rowCount ?? 0, lastId };
  }

  // -- coordination between instances

  /** Unlike claimStep, the holder renews its own turn: a job runs on one instance until it stops. */
  async tryJobLease(name: string, holder: string, ttlMs: number) {
    const result = await this.#db.execute(sql`
      insert into job_leases (name, holder, until) values (${name}, ${holder}, ${leaseEnd(ttlMs)})
      on conflict (name) do update set holder = excluded.holder, until = excluded.until
        where job_leases.until <= now() or job_leases.holder = excluded.holder
      returning 1`);
    return result.rowCount === 1;
  }

  // -- the daily summary: its claim in epoch ms of the database's clock, one statement each

  async claimDailySummary(day: string, holder: string, ttlMs: number) {
    const result = await this.#db.execute(sql`
      insert into daily_summaries (day, claimed_by, claimed_until, attempts)
        values (${day}, ${holder}, ${DB_EPOCH_MS} + ${Math.max(0, Math.round(ttlMs))}::int8, 1)
      on conflict (day) do update
        set claimed_by = excluded.claimed_by, claimed_until = excluded.claimed_until,
            attempts = daily_summaries.attempts + 1
        where daily_summaries.sent_at is null and daily_summaries.claimed_until <= ${DB_EPOCH_MS}
      returning 1`);
    return result.rowCount === 1;
  }

  async markDailySummarySent(day: string, holder: string, at: number) {
    const result = await this.#db
      .update(dailySummaries)
      .set({ sentAt: at, sentBy: holder, lastError: null })
      .where(and(eq(dailySummaries.day, day), isNull(dailySummaries.sentAt)));
    return result.rowCount === 1;
  }

  async releaseDailySummary(day: string, holder: string, reason: string) {
    await this.#db
      .update(dailySummaries)
      .set({ claimedUntil: DB_EPOCH_MS, lastError: reason })
      .where(
        and(eq(dailySummaries.day, day), eq(dailySummaries.claimedBy, holder), isNull(dailySummaries.sentAt)),
      );
  }

  async getDailySummary(day: string) {
    const [row] = await this.#db.select().from(dailySummaries).where(eq(dailySummaries.day, day));
    return row;
  }

  async saveBalance(idr: number, at: number) {
    const row = { supplier: BALANCE_SUPPLIER, balanceIdr: idr, readAt: at, readBy: this.instanceId };
    await this.#db
      .insert(supplierBalance)
      .values(row)
      .onConflictDoUpdate({ target: supplierBalance.supplier, set: row });
  }

  async lastBalance() {
    const [row] = await this.#db
      .select()
      .from(supplierBalance)
      .where(eq(supplierBalance.supplier, BALANCE_SUPPLIER));
    return row;
  }

  rateBudget(budget: SharedBudget): SharedRateBudget {
    const db = this.#db;
    let takes = 0;
    return {
      take: async (): Promise<RateSlot> => {
        const sweep = takes++ % SWEEP_EVERY === 0;
        return db.transaction(async (tx) => {
          // One taker at a time across instances: a count and the insert it allows can't interleave.
          // Not waiting long: a taker on a frozen instance must not stop every instance's calls.
          await tx.execute(sql`set local lock_timeout = '2s'`);
          await tx.execute(sql`select pg_advisory_xact_lock(${RATE_LOCK})`);
          const window = millis(budget.windowMs);
          const longest = millis(budget.longestCallMs);
          if (sweep) {
            // Slots that stopped counting over a longest call ago; the OR's halves each use an index.
            await tx.execute(sql`
              delete from rate_slots
              where ended_at < now() - ${window} - ${longest}
                 or (ended_at is null and started_at < now() - ${window} - ${longest} - ${longest})`);
          }
          // clock_timestamp(), not now(): now() is when the transaction began, before it
          // waited for the lock, and a slot recorded as older than it is counts too briefly.
          const result = await tx.execute<{ id: string | null; retry: string | null }>(sql`
            with c as materialized (select clock_timestamp() as now),
            counted as (
              select coalesce(s.ended_at, s.started_at + ${longest}) + ${window} as stops
              from rate_slots s, c
              where coalesce(s.ended_at, s.started_at + ${longest}) > c.now - ${window}
            ),
            stats as (select count(*) as n, min(stops) as first_stop from counted),
            granted as (
              insert into rate_slots (started_at)
              select c.now from c, stats where stats.n < ${budget.limit}
              returning id
            )
            select (select id from granted) as id,
              ceil(extract(epoch from (stats.first_stop - c.now)) * 1000) as retry
            from stats, c`);
          const row = result.rows[0];
          if (row?.id != null) return { granted: true, id: Number(row.id) };
          const retry = row?.retry == null ? budget.windowMs : Number(row.retry);
          return { granted: false, retryInMs: Math.max(5, retry) };
        });
      },
      end: async (id: number) => {
        await db.execute(sql`update rate_slots set ended_at = now() where id = ${id} and ended_at is null`);
      },
    };
  }

  /**
   * Heard on one connection of its own (LISTEN needs a session outside the pool), opened with
   * the first listener. A lost connection is opened again while listeners remain; moves made
   * meanwhile are not heard, which callers' polling covers.
   */
  onFinal(listener: (transactionNumber: string) => void): () => void {
    this.#listeners.add(listener);
    this.#listen();
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) this.#stopListening();
    };
  }

  // -- life

  /**
   * A transaction that takes a transaction id (its commit is flushed to the WAL) and writes to
   * a table: it fails on a read-only server or transaction, a standby, or a lost connection.
   */
  async checkWritable() {
    await this.#db.transaction(async (tx) => {
      await tx.execute(sql`select txid_current()`);
      await tx.execute(sql`update job_leases set holder = holder where false`);
    });
  }

  /** Applies the migrations; refuses a database a move from SQLite left unfinished (see storeMoves). */
  async migrate() {
    return await migrate(this.connection.pool, undefined, undefined, async (client) => {
      const unfinished = await unfinishedMove(client);
      if (unfinished) throw new UnfinishedMoveError(unfinished.source, unfinished.startedAt);
    });
  }

  async close() {
    if (this.#closed) return;
    this.#closed = true;
    this.#listeners.clear();
    this.#stopListening();
    await this.connection.pool.end();
  }

  #listen(): void {
    if (this.#listenClient || this.#listenRetry || this.#closed || this.#listeners.size === 0) return;
    const client = new pg.Client({
      connectionString: this.#url,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
    });
    this.#listenClient = client;
    const lost = () => {
      if (this.#listenClient !== client) return;
      this.#listenClient = undefined;
      client.end().catch(() => undefined);
      if (this.#closed || this.#listeners.size === 0) return;
      this.#listenRetry = setTimeout(() => {
        this.#listenRetry = undefined;
        this.#listen();
      }, this.#listenBackoff);
      this.#listenRetry.unref();
      this.#listenBackoff = Math.min(this.#listenBackoff * 2, LISTEN_RETRY_MAX_MS);
    };
    client.on('error', lost);
    client.on('end', lost);
    client.on('notification', (message) => {
      if (message.channel !== FINAL_CHANNEL || message.payload === undefined) return;
      for (const listener of [...this.#listeners]) {
        try {
          listener(message.payload);
        } catch {
          // A listener's own failure must not cost the connection the other listeners use.
        }
      }
    });
    client
      .connect()
      .then(() => client.query(`listen ${FINAL_CHANNEL}`))
      .then(() => {
        this.#listenBackoff = LISTEN_RETRY_MIN_MS;
      }, lost);
  }

  #stopListening(): void {
    if (this.#listenRetry) clearTimeout(this.#listenRetry);
    this.#listenRetry = undefined;
    const client = this.#listenClient;
    this.#listenClient = undefined;
    client?.end().catch(() => undefined);
  }
}

// -- retention conditions: those of src/db/sqlite/retention.ts

/** Whether `column` names a transaction in a final state, last updated before `before`. */
function finalBefore(db: Db, column: PgColumn, before: number) {
  return exists(
    db
      .select({ one: sql`1` })
      .from(transactions)
      .where(
        and(
          eq(transactions.transactionNumber, column),
          inArray(transactions.state, [...FINAL_STATES]),
          lt(transactions.updatedAt, before),
        ),
      ),
  );
}

const earlierInit = alias(razerExchanges, 'earlier_init');

function exchangesPrunable(db: Db, before: number): SQL | undefined {
  const x = razerExchanges;
  return and(
    lt(x.receivedAt, before),
    or(
      isNull(x.transactionNumber),
      and(
        finalBefore(db, x.transactionNumber, before),
        // Never the creating init (the first init answered 200): a replayed init is answered from it.
        or(
          ne(x.endpoint, 'init'),
          ne(x.responseStatus, 200),
          exists(
            db
              .select({ one: sql`1` })
              .from(earlierInit)
              .where(
                and(
                  eq(earlierInit.transactionNumber, x.transactionNumber),
                  eq(earlierInit.endpoint, 'init'),
                  eq(earlierInit.responseStatus, 200),
                  lt(earlierInit.id, x.id),
                ),
              ),
          ),
        ),
      ),
    ),
  );
}

function supplierCallsPrunable(db: Db, before: number): SQL | undefined {
  const c = supplierCalls;
  return and(
    lt(c.startedAt, before),
    or(isNull(c.transactionNumber), finalBefore(db, c.transactionNumber, before)),
  );
}

function webhooksPrunable(db: Db, before: number): SQL | undefined {
  const w = webhookInbox;
  return and(
    isNotNull(w.processedAt),
    lt(w.receivedAt, before),
    // Kept while the transaction it names is open; a ref naming none of ours holds nothing.
    or(
      isNull(w.transactionRef),
      notExists(
        db
          .select({ one: sql`1` })
          .from(transactions)
          .where(
            and(
              eq(transactions.transactionNumber, w.transactionRef),
              notInArray(transactions.state, [...FINAL_STATES]),
            ),
          ),
      ),
    ),
  );
}

type AuditTableSchema = typeof razerExchanges | typeof supplierCalls | typeof webhookInbox;

const PRUNABLE: Record<AuditTable, [AuditTableSchema, (db: Db, before: number) => SQL | undefined]> = {
  exchanges: [razerExchanges, exchangesPrunable],
  supplierCalls: [supplierCalls, supplierCallsPrunable],
  webhooks: [webhookInbox, webhooksPrunable],
};
