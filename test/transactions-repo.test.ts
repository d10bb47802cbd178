import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from '../src/db/open.js';
import type { SqliteStore } from '../src/db/sqlite/store.js';
import type { Move } from '../src/db/types.js';
import { commitMove } from '../src/fulfilment/moves.js';
import { IllegalMoveError } from '../src/fulfilment/states.js';
import { T0, transactionRow } from './helpers/fixtures.js';
import { countRows, type TempStore, tempStore } from './helpers/storage.js';

let store: TempStore;
beforeEach(async () => {
  store = await tempStore();
});
afterEach(() => store.close());

const countEvents = () => countRows(store, 'transaction_events');

/** Runs one statement beside the store under test, on a connection of its own (SQL of both dialects). */
async function rawWrite(sql: string): Promise<void> {
  const { settings } = store.database;
  if (!settings.databaseUrl) {
    (store as unknown as SqliteStore).storage.sqlite.prepare(sql).run();
    return;
  }
  const client = new pg.Client({ connectionString: settings.databaseUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

describe('moveTransaction (the store) and commitMove (the rule, then the store)', () => {
  it('applies a legal move, its patch and exactly one event in the same transaction', async () => {
    await store.insertTransaction(transactionRow('TX1'));
    expect(await countEvents()).toBe(0); // creating a row is not a move

    const result = await commitMove(store, {
      transactionNumber: 'TX1',
      from: 'INITIATED',
      to: 'QUEUED',
      cause: 'razer',
      detail: 'topup',
      at: T0 + 5,
      patch: { deadlineAt: T0 + 86_400_000 },
    });

    expect(result.ok).toBe(true);
    const row = await store.getTransaction('TX1');
    expect(row).toMatchObject({ state: 'QUEUED', updatedAt: T0 + 5, deadlineAt: T0 + 86_400_000 });
    expect(await store.listEvents('TX1')).toEqual([
      expect.objectContaining({
        fromState: 'INITIATED',
        toState: 'QUEUED',
        cause: 'razer',
        detail: 'topup',
        at: T0 + 5,
      }),
    ]);
  });

  it('records every move of a full life in order', async () => {
    await store.insertTransaction(transactionRow('TX2'));
    const path = ['INITIATED', 'QUEUED', 'ORDERING', 'UNKNOWN', 'PROCESSING', 'SUCCESS'] as const;
    for (let i = 1; i < path.length; i++) {
      const r = await commitMove(store, {
        transactionNumber: 'TX2',
        from: path[i - 1] as (typeof path)[number],
        to: path[i] as (typeof path)[number],
        cause: 'reconciler',
        at: T0 + i,
      });
      expect(r.ok).toBe(true);
    }
    expect((await store.listEvents('TX2')).map((e) => `${e.fromState}>${e.toState}`)).toEqual([
      'INITIATED>QUEUED',
      'QUEUED>ORDERING',
      'ORDERING>UNKNOWN',
      'UNKNOWN>PROCESSING',
      'PROCESSING>SUCCESS',
    ]);
  });

  it('refuses an illegal move with IllegalMoveError and writes nothing', async () => {
    await store.insertTransaction(transactionRow('TX3', 'SUCCESS'));
    await expect(async () =>
      commitMove(store, {
        transactionNumber: 'TX3',
        from: 'SUCCESS',
        to: 'FAILED',
        cause: 'supplier',
        at: T0,
      }),
    ).rejects.toThrow(IllegalMoveError);
    expect((await store.getTransaction('TX3'))?.state).toBe('SUCCESS');
    expect(await countEvents()).toBe(0);
  });

  it('loses the compare-and-set when the row is no longer in the expected state, and writes nothing', async () => {
    await store.insertTransaction(transactionRow('TX4', 'QUEUED'));
    const result = await commitMove(store, {
      transactionNumber: 'TX4',
      from: 'INITIATED',
      to: 'CANCELLED',
      cause: 'razer',
      at: T0,
      patch: { failureReason: 'should not be written' },
    });
    expect(result).toEqual({ ok: false, reason: 'stale', current: 'QUEUED' });
    expect(await store.getTransaction('TX4')).toMatchObject({ state: 'QUEUED', failureReason: null });
    expect(await countEvents()).toBe(0);
  });

  it('reports a missing transaction without writing an event', async () => {
    const result = await commitMove(store, {
      transactionNumber: 'NOPE',
      from: 'INITIATED',
      to: 'QUEUED',
      cause: 'razer',
      at: T0,
    });
    expect(result).toEqual({ ok: false, reason: 'missing' });
    expect(await countEvents()).toBe(0);
  });

  it('lets exactly one of two connections win a race from the same state', async () => {
    // A second store on the same database behaves like a second process: both read QUEUED,
    // both try to move at once.
    const other = await openStore({ ...store.database.settings, instanceId: 'other' });
    try {
      for (let i = 0; i < 50; i++) {
        const n = `RACE${i}`;
        await store.insertTransaction(transactionRow(n, 'QUEUED'));
        const seenByA = (await store.getTransaction(n))?.state;
        const seenByB = (await other.getTransaction(n))?.state;
        expect(seenByA).toBe('QUEUED');
        expect(seenByB).toBe('QUEUED');
        const first = i % 2 === 0 ? store : other;
        const second = i % 2 === 0 ? other : store;
        const toOrdering: Move = {
          transactionNumber: n,
          from: 'QUEUED',
          to: 'ORDERING',
          cause: 'razer',
          at: T0,
        };
        const toCancelled: Move = { ...toOrdering, to: 'CANCELLED' };
        const [a, b] = await Promise.all([commitMove(first, toOrdering), commitMove(second, toCancelled)]);
        // Whoever committed first won; the other lost the compare-and-set to the winner's state.
        const [winner, loser] = a.ok ? [toOrdering, b] : [toCancelled, a];
        expect([a.ok, b.ok].filter(Boolean)).toHaveLength(1);
        expect(loser).toEqual({ ok: false, reason: 'stale', current: winner.to });
        expect((await store.getTransaction(n))?.state).toBe(winner.to);
        expect(await store.listEvents(n)).toEqual([
          expect.objectContaining({ fromState: 'QUEUED', toState: winner.to }),
        ]);
      }
    } finally {
      await other.close();
    }
  });

  it('keeps the state column to the known states even for raw writes', async () => {
    await store.insertTransaction(transactionRow('TX5'));
    await expect(rawWrite("update transactions set state = 'DELIVERED'")).rejects.toThrow(
      /check constraint( failed)?\W+transactions_state_valid/i,
    );
    expect((await store.getTransaction('TX5'))?.state).toBe('INITIATED');
  });

  it('defect 8: cancel\'s "never sent" condition is part of the compare-and-set in SQL', async () => {
    // QUEUED again after a rate-limited send: the state alone would let a cancel through.
    await store.insertTransaction(transactionRow('TX9', 'QUEUED', { orderAttempts: 1 }));
    const cancel = {
      transactionNumber: 'TX9',
      from: 'QUEUED',
      to: 'CANCELLED',
      cause: 'razer',
      at: T0,
      neverSent: true,
    } as const;
    expect(await commitMove(store, cancel)).toEqual({ ok: false, reason: 'stale', current: 'QUEUED' });
    expect((await store.getTransaction('TX9'))?.state).toBe('QUEUED');
    expect(await countEvents()).toBe(0);
    await store.insertTransaction(transactionRow('TX10', 'QUEUED'));
    expect((await commitMove(store, { ...cancel, transactionNumber: 'TX10' })).ok).toBe(true);
  });
});
