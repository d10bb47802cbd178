import type Database from 'better-sqlite3';

interface Pending {
  run: () => unknown;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; err: unknown };

/** The batch's transaction ended under an operation (SQLite rolls back by itself on some errors). */
class BatchLost extends Error {
  override readonly name = 'BatchLost';
  constructor(readonly original: unknown) {
    super('the batch was rolled back by SQLite');
  }
}

/**
 * Group commit: the writes asked for in one turn of the event loop run in one transaction, one
 * after the other, and are made durable by one commit (one fsync with synchronous=FULL) instead
 * of one each. Each runs in a savepoint of its own, so one that fails is undone alone and fails
 * alone. Each promise settles only after the commit: nothing is acknowledged before it is on
 * disk. A failed commit fails them all, and none of their changes remain.
 */
export class GroupCommit {
  readonly #sqlite: Database.Database;
  readonly #runBatch: Database.Transaction<(batch: readonly Pending[]) => Outcome[]>;
  #queue: Pending[] = [];
  #scheduled: NodeJS.Immediate | null = null;
  /** Batches attempted and writes queued, since the start. */
  readonly stats = { batches: 0, writes: 0 };

  constructor(sqlite: Database.Database) {
    this.#sqlite = sqlite;
    // Nested in the batch's transaction, better-sqlite3 makes this a savepoint.
    const alone = sqlite.transaction((op: Pending) => op.run());
    this.#runBatch = sqlite.transaction((batch: readonly Pending[]) =>
      batch.map((op): Outcome => {
        try {
          return { ok: true, value: alone(op) };
        } catch (err) {
          if (!this.#sqlite.inTransaction) throw new BatchLost(err);
          return { ok: false, err };
        }
      }),
    );
  }

  /** Runs `write` (synchronous, with its checks) in the next batch; settles once it is durable. */
  write<T>(write: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ run: write, resolve: resolve as (value: unknown) => void, reject });
      this.#scheduled ??= setImmediate(() => this.flush());
    });
  }

  /** Runs what is queued now (also before the database closes). */
  flush(): void {
    if (this.#scheduled) clearImmediate(this.#scheduled);
    this.#scheduled = null;
    const batch = this.#queue;
    this.#queue = [];
    if (batch.length === 0) return;
    this.stats.batches += 1;
    this.stats.writes += batch.length;
    let outcomes: Outcome[];
    try {
      outcomes = this.#runBatch.immediate(batch);
    } catch (err) {
      const cause = err instanceof BatchLost ? err.original : err;
      for (const op of batch) op.reject(cause);
      return;
    }
    batch.forEach((op, i) => {
      const outcome = outcomes[i];
      if (outcome?.ok) op.resolve(outcome.value);
      else op.reject(outcome ? outcome.err : new Error('no outcome for a queued write'));
    });
  }
}
