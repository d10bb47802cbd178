import Database from 'better-sqlite3';
import { asc, getTableColumns, gt, sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import { openConnection, type Db as PgDb } from '../postgres/connection.js';
import { rowDigest, SetDigest } from './digest.js';
import {
  type LiteDb,
  lockSource,
  type Row,
  sourceBehind,
  sourcePages,
  sourceProblems,
  unknownTables,
} from './source.js';
import { keyFields, MOVED_TABLES, type MovedTable, pgOnlyFields } from './tables.js';
import { claimTarget, MOVE_APPLICATION, markDone } from './target.js';

export interface MoveOptions {
  /** The SQLite file. */
  from: string;
  /** The PostgreSQL URL. */
  to: string;
  /** Rows per read and per insert. */
  batch?: number;
  now?: () => number;
  /** Told of each step, for the operator. */
  progress?: (line: string) => void;
  /** Test hook: after each batch written, before the copy commits. */
  afterBatch?: (table: string, copied: number) => void;
}

export interface TableFigures {
  table: string;
  source: number;
  target: number;
  /** Whether the set of rows read back equals the set copied, field for field. */
  same: boolean;
}

export type StoreMoveResult =
  | {
      kind: 'done';
      tables: TableFigures[];
      transactions: number;
      ms: number;
      /** Where the time went: checking the source, migrating the target, copying, reading it back. */
      phases: { checkMs: number; migrateMs: number; copyMs: number; verifyMs: number };
    }
  | { kind: 'refused'; reason: string }
  | { kind: 'different'; tables: TableFigures[]; differences: string[] };

type PgTx = Parameters<Parameters<PgDb['transaction']>[0]>[0];

/**
 * Copies a SQLite database into an empty PostgreSQL one of the same schema version, from one
 * snapshot, and verifies before it says done. The target is marked `copying` (store_moves)
 * before the first row and `done` only after the verification: a gateway refuses to start on it
 * in between, so a move killed midway, or one whose verification failed, is never served from.
 * A target left `copying` is emptied and copied afresh by the next move. The source is only read.
 */
export async function moveStore(o: MoveOptions): Promise<StoreMoveResult> {
  const now = o.now ?? Date.now;
  const say = o.progress ?? (() => {});
  const batch = o.batch ?? 1000;
  const started = performance.now();
  const source = new Database(o.from, { fileMustExist: true, timeout: 0 });
  try {
    const inUse = lockSource(source);
    if (inUse !== null) return { kind: 'refused', reason: inUse };
    try {
      const refusal = sourceRefusal(source);
      if (refusal !== null) return { kind: 'refused', reason: refusal };
      const checked = performance.now();
      return await intoTarget(o, drizzle(source) as unknown as LiteDb, { now, say, batch, started, checked });
    } finally {
      // SQLite may have ended it itself (an I/O error): the error that did so is the one to tell.
      if (source.inTransaction) source.exec('rollback');
    }
  } finally {
    source.close();
  }
}

/** Why this source cannot be moved as it is, or null. */
function sourceRefusal(source: Database.Database): string | null {
  const behind = sourceBehind(source);
  if (behind !== null) return behind;
  const unknown = unknownTables(source);
  if (unknown.length > 0)
    return `the SQLite database has tables this version does not know (${unknown.join(', ')}): move it with the version that wrote it`;
  const problems = sourceProblems(source);
  if (problems.length > 0)
    return `the SQLite database holds values PostgreSQL would not receive as they are; correct them (they were not written by the gateway), then move:\n  ${problems.join('\n  ')}`;
  return null;
}

async function intoTarget(
  o: MoveOptions,
  lite: LiteDb,
  run: { now: () => number; say: (line: string) => void; batch: number; started: number; checked: number },
): Promise<StoreMoveResult> {
  const { now, say, batch, started, checked: sourceChecked } = run;
  // One client held for the whole move (its lock), one for the copy, one reading ahead.
  const target = openConnection(o.to, 4, MOVE_APPLICATION);
  try {
    const guard = await target.pool.connect();
    // A checked-out client has no listener for a session the server ends: without one, the
    // process would die with no word. The move lock goes with that session, so no done after it.
    let lost: Error | undefined;
    guard.on('error', (err) => {
      lost = err;
    });
    try {
      const claim = await claimTarget(guard, target.pool, o.from, now());
      if (claim.kind === 'refused') return claim;
      if (claim.emptied) say('the target held an unfinished move: emptied, to copy afresh');
      const migrated = performance.now();
      const sourceDigest = new SideDigest();
      await copyAll(lite, target.db, batch, sourceDigest, say, o.afterBatch);
      const copied = performance.now();
      say(`copied in ${seconds(copied - migrated)}; verifying`);
      const checked = await verify(sourceDigest, target.db, batch);
      const verified = performance.now();
      if (checked.differences.length > 0)
        return { kind: 'different', tables: checked.tables, differences: checked.differences };
      const summary = Object.fromEntries(checked.tables.map((t) => [t.table, t.target]));
      if (lost)
        throw new Error(`the session holding the move's lock ended: ${lost.message}; run the move again`);
      await markDone(target.pool, claim.markerId, now(), {
        ...summary,
        verifiedTransactions: checked.transactions,
      });
      return {
        kind: 'done',
        tables: checked.tables,
        transactions: checked.transactions,
        ms: performance.now() - started,
        phases: {
          checkMs: sourceChecked - started,
          migrateMs: migrated - sourceChecked,
          copyMs: copied - migrated,
          verifyMs: verified - copied,
        },
      };
    } finally {
      // Ending the session lets go of the move lock, whatever happened.
      guard.release(true);
    }
  } finally {
    await target.pool.end();
  }
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** The target's rows of a table, in key order, without the columns SQLite does not have. */
async function* targetPages(db: PgDb, table: MovedTable, batch: number): AsyncGenerator<Row[]> {
  const drop = pgOnlyFields(table);
  const strip = (rows: Row[]) =>
    drop.length === 0
      ? rows
      : rows.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => !drop.includes(k))));
  const [key, ...more] = table.pgKey as [AnyPgColumn, ...AnyPgColumn[]];
  if (more.length > 0) {
    yield strip(
      (await db
        .select()
        .from(table.pg)
        .orderBy(...table.pgKey.map((k) => asc(k)))) as Row[],
    );
    return;
  }
  const [field] = keyFields(table) as [string];
  const page = async (after: unknown) => {
    const query = db.select().from(table.pg);
    return (await (after === undefined ? query : query.where(gt(key, after)))
      .orderBy(asc(key))
      .limit(batch)) as Row[];
  };
  // The next page is asked for before this one is handed over: PostgreSQL reads while we digest.
  let next = page(undefined);
  for (;;) {
    const rows = await next;
    if (rows.length === 0) return;
    next = page(rows.at(-1)?.[field]);
    // A consumer that stops early leaves the prefetch unawaited: its failure is not news.
    next.catch(() => {});
    yield strip(rows);
  }
}

/**
 * A row under its SQL column names, every string with NUL as U+FFFD, at any depth of a JSON
 * value and in its keys too: what the adapter's connection does to each text parameter
 * (src/db/postgres/connection.ts), which a row sent as one JSON text would escape past
 * (PostgreSQL refuses the escape \u0000 wherever it turns JSON into values).
 */
function columnsOf(table: MovedTable): (row: Row) => Row {
  const names = Object.entries(getTableColumns(table.lite)).map(([field, c]) => [field, c.name] as const);
  return (row) => {
    const out: Row = {};
    for (const [field, name] of names) out[name] = withoutNul(row[field]);
    return out;
  };
}

function withoutNul(value: unknown): unknown {
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'string')
    return value.includes('\u0000') ? value.replaceAll('\u0000', '\ufffd') : value;
  if (Array.isArray(value)) return value.map(withoutNul);
  if (typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [withoutNul(k) as string, withoutNul(v)]),
    );
  return value;
}

/** Every table in one PostgreSQL transaction: killed midway, nothing of it stays. */
async function copyAll(
  lite: LiteDb,
  target: PgDb,
  batch: number,
  digest: SideDigest,
  say: (line: string) => void,
  afterBatch?: (table: string, copied: number) => void,
): Promise<void> {
  await target.transaction(async (tx) => {
    for (const table of MOVED_TABLES) {
      try {
        await copyTable(lite, tx, table, batch, digest, say, afterBatch);
      } catch (err) {
        // Rolled back whole; the target stays marked unfinished.
        throw new Error(`copying ${table.name}: ${shortReason(err)}`);
      }
    }
  });
}

/**
 * What went wrong, short: PostgreSQL's own message rather than drizzle's wrapper, which repeats
 * the statement and its parameters (a whole batch of rows: megabytes, holding customer data).
 */
export function shortReason(err: unknown): string {
  const e = err as Error & { cause?: unknown };
  const text = e.cause instanceof Error ? e.cause.message : e.message;
  return text.length > 500 ? `${text.slice(0, 500)}…` : text;
}

async function copyTable(
  lite: LiteDb,
  tx: PgTx,
  table: MovedTable,
  batch: number,
  digest: SideDigest,
  say: (line: string) => void,
  afterBatch?: (table: string, copied: number) => void,
): Promise<void> {
  const from = performance.now();
  const toColumns = columnsOf(table);
  let copied = 0;
  // The insert of one batch is under way while the next is read and encoded.
  let writing: Promise<unknown> = Promise.resolve();
  for (const rows of sourcePages(lite, table, batch)) {
    // An empty table (a composite key is read in one page, empty or not).
    if (rows.length === 0) continue;
    // One JSON parameter per batch, turned into rows by PostgreSQL itself: drizzle's insert
    // built 1000-row statements at a quarter of the speed.
    const json = JSON.stringify(rows.map(toColumns));
    await writing;
    afterBatch?.(table.name, copied);
    // Promise.resolve: drizzle's query runs each time it is awaited; this runs it once.
    writing = Promise.resolve(
      tx.execute(
        sql`insert into ${sql.identifier(table.name)} select * from json_populate_recordset(null::${sql.identifier(table.name)}, ${json})`,
      ),
    );
    // Awaited before the next batch or below; a failure meanwhile is not unhandled.
    writing.catch(() => {});
    // Digested while PostgreSQL inserts them.
    digest.add(table.name, rows);
    copied += rows.length;
  }
  await writing;
  afterBatch?.(table.name, copied);
  if (table.identity) {
    // Past the highest id SQLite ever gave (AUTOINCREMENT never gives one twice, even deleted).
    const given = lite.get<{ seq: number } | undefined>(
      sql`select seq from sqlite_sequence where name = ${table.name}`,
    );
    await tx.execute(
      sql`select setval(pg_get_serial_sequence(${table.name}, 'id'), greatest(coalesce((select max(id) from ${sql.identifier(table.name)}), 0), ${given?.seq ?? 0}) + 1, false)`,
    );
  }
  say(`${table.name}: ${copied} rows copied (${seconds(performance.now() - from)})`);
}

/** What one side holds: per table, the set of its rows; per transaction, the set of its rows. */
class SideDigest {
  readonly tables = new Map<string, SetDigest>();
  readonly transactions = new Map<string, SetDigest>();

  add(table: string, rows: Row[]): void {
    let set = this.tables.get(table);
    if (!set) {
      set = new SetDigest();
      this.tables.set(table, set);
    }
    const byTransaction = BY_TRANSACTION.has(table);
    for (const row of rows) {
      const d = rowDigest(row);
      set.add(d);
      const n = row.transactionNumber;
      if (!byTransaction || typeof n !== 'string') continue;
      let mine = this.transactions.get(n);
      if (!mine) {
        mine = new SetDigest();
        this.transactions.set(n, mine);
      }
      mine.add(d);
    }
  }
}

/** A transaction's story: its row, its state events, its answers to Razer, its supplier calls. */
const BY_TRANSACTION = new Set(['transactions', 'transaction_events', 'razer_exchanges', 'supplier_calls']);

/**
 * Reads the target back and compares it with what the source held (digested from the very rows
 * read for the copy, under the source's lock: the same snapshot, read once): per table, the count
 * and the set of rows field for field; per transaction, the set of its story's rows.
 */
async function verify(
  source: SideDigest,
  target: PgDb,
  batch: number,
): Promise<{ tables: TableFigures[]; transactions: number; differences: string[] }> {
  const tables: TableFigures[] = [];
  const differences: string[] = [];
  const read = new SideDigest();
  for (const table of MOVED_TABLES) {
    for await (const rows of targetPages(target, table, batch)) read.add(table.name, rows);
    const from = source.tables.get(table.name) ?? new SetDigest();
    const to = read.tables.get(table.name) ?? new SetDigest();
    const same = from.count === to.count && from.hex === to.hex;
    tables.push({ table: table.name, source: from.count, target: to.count, same });
    if (!same)
      differences.push(
        `${table.name}: ${from.count} rows in SQLite, ${to.count} in PostgreSQL${from.count === to.count ? ', not the same rows' : ''}`,
      );
  }
  for (const [n, digest] of source.transactions) {
    const other = read.transactions.get(n);
    if (!other || other.hex !== digest.hex) differences.push(`transaction ${n}: not the same in PostgreSQL`);
  }
  for (const n of read.transactions.keys())
    if (!source.transactions.has(n)) differences.push(`transaction ${n}: in PostgreSQL only`);
  return { tables, transactions: source.transactions.size, differences: differences.slice(0, 50) };
}
