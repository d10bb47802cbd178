import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { GroupCommit } from '../src/db/sqlite/group-commit.js';
import { type TempDir, tempDir } from './helpers/storage.js';

let dir: TempDir | undefined;
const open: Database.Database[] = [];
afterEach(() => {
  for (const db of open.splice(0)) db.close();
  dir?.remove();
  dir = undefined;
});

/** A WAL database with synchronous=FULL, as the gateway opens it, and a second connection. */
function databases() {
  dir = tempDir();
  const path = dir.file('g.db');
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.exec(`create table parent (id integer primary key);
    create table t (id integer primary key, v text not null unique,
      p integer references parent(id) deferrable initially deferred)`);
  const other = new Database(path, { readonly: true });
  open.push(db, other);
  const seen = () => (other.prepare('select v from t order by id').all() as { v: string }[]).map((r) => r.v);
  return { db, seen };
}

const insert =
  (db: Database.Database, v: string, p: number | null = null) =>
  () =>
    db.prepare('insert into t (v, p) values (?, ?)').run(v, p).lastInsertRowid;

describe('group commit (SQLite)', () => {
  it('commits the writes of one turn together, in order, and settles each after the commit', async () => {
    const { db, seen } = databases();
    const group = new GroupCommit(db);
    const during: boolean[] = [];
    const writes = ['a', 'b', 'c'].map((v) =>
      group.write(() => {
        during.push(db.inTransaction);
        // Not visible to anyone else until the batch commits.
        expect(seen()).toEqual([]);
        return insert(db, v)();
      }),
    );
    const settledAfter: string[][] = [];
    for (const w of writes) void w.then(() => settledAfter.push(seen()));
    expect(await Promise.all(writes)).toEqual([1, 2, 3]);
    expect(during).toEqual([true, true, true]);
    expect(settledAfter).toEqual([
      ['a', 'b', 'c'],
      ['a', 'b', 'c'],
      ['a', 'b', 'c'],
    ]);
    expect(group.stats).toEqual({ batches: 1, writes: 3 });
    await group.write(insert(db, 'd'));
    expect(group.stats).toEqual({ batches: 2, writes: 4 });
  });

  it('fails a write alone: its changes are undone, the others are committed', async () => {
    const { db, seen } = databases();
    const group = new GroupCommit(db);
    const results = await Promise.allSettled([
      group.write(insert(db, 'a')),
      group.write(() => {
        insert(db, 'half')();
        insert(db, 'a')(); // unique: fails after a first change
      }),
      group.write(insert(db, 'b')),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(seen()).toEqual(['a', 'b']);
  });

  it('fails every write of a batch whose commit fails, and keeps none of their changes', async () => {
    const { db, seen } = databases();
    const group = new GroupCommit(db);
    // A deferred foreign key is checked at the commit: the commit itself fails.
    const results = await Promise.allSettled([
      group.write(insert(db, 'a')),
      group.write(insert(db, 'x', 42)),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(String((results[0] as PromiseRejectedResult).reason)).toMatch(/FOREIGN KEY/);
    expect(db.inTransaction).toBe(false);
    expect(seen()).toEqual([]);
    // The next batch is unaffected.
    await group.write(insert(db, 'b'));
    expect(seen()).toEqual(['b']);
  });

  it('fails every write of a batch that SQLite rolled back under one of them', async () => {
    const { db, seen } = databases();
    const group = new GroupCommit(db);
    const results = await Promise.allSettled([
      group.write(insert(db, 'a')),
      group.write(() => {
        db.exec('rollback'); // as SQLite does by itself on some errors (a full disk, say)
        throw new Error('disk full');
      }),
      group.write(insert(db, 'b')),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(String((results[0] as PromiseRejectedResult).reason)).toMatch(/disk full/);
    expect(seen()).toEqual([]);
  });

  it('writes what is queued when flushed (before the database closes)', () => {
    const { db, seen } = databases();
    const group = new GroupCommit(db);
    void group.write(insert(db, 'a'));
    expect(seen()).toEqual([]);
    group.flush();
    expect(seen()).toEqual(['a']);
  });
});
