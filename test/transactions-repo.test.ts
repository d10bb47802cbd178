import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStorage, type Storage } from '../src/db/connection.js';
import { getTransaction, insertTransaction, listEvents, moveTransaction } from '../src/db/transactions.js';
import { IllegalMoveError } from '../src/fulfilment/states.js';
import { T0, transactionRow } from './helpers/fixtures.js';
import { tempStorage } from './helpers/storage.js';

let storage: ReturnType<typeof tempStorage>;
beforeEach(() => {
  storage = tempStorage();
});
afterEach(() => storage.close());

const countEvents = (s: Storage) =>
  (s.sqlite.prepare('select count(*) as n from transaction_events').get() as { n: number }).n;

describe('moveTransaction', () => {
  it('applies a legal move, its patch and exactly one event in the same transaction', () => {
    insertTransaction(storage.db, transactionRow('TX1'));
    expect(countEvents(storage)).toBe(0); // creating a row is not a move

    const result = moveTransaction(storage.db, {
      transactionNumber: 'TX1',
      from: 'INITIATED',
      to: 'QUEUED',
      cause: 'razer',
      detail: 'topup',
      at: T0 + 5,
      patch: { deadlineAt: T0 + 86_400_000 },
    });

    expect(result.ok).toBe(true);
    const row = getTransaction(storage.db, 'TX1');
    expect(row).toMatchObject({ state: 'QUEUED', updatedAt: T0 + 5, deadlineAt: T0 + 86_400_000 });
    expect(listEvents(storage.db, 'TX1')).toEqual([
      expect.objectContaining({
        fromState: 'INITIATED',
        toState: 'QUEUED',
        cause: 'razer',
        detail: 'topup',
        at: T0 + 5,
      }),
    ]);
  });

  it('records every move of a full life in order', () => {
    insertTransaction(storage.db, transactionRow('TX2'));
    const path = ['INITIATED', 'QUEUED', 'ORDERING', 'UNKNOWN', 'PROCESSING', 'SUCCESS'] as const;
    for (let i = 1; i < path.length; i++) {
      const r = moveTransaction(storage.db, {
        transactionNumber: 'TX2',
        from: path[i - 1] as (typeof path)[number],
        to: path[i] as (typeof path)[number],
        cause: 'reconciler',
        at: T0 + i,
      });
      expect(r.ok).toBe(true);
    }
    expect(listEvents(storage.db, 'TX2').map((e) => `${e.fromState}>${e.toState}`)).toEqual([
      'INITIATED>QUEUED',
      'QUEUED>ORDERING',
      'ORDERING>UNKNOWN',
      'UNKNOWN>PROCESSING',
      'PROCESSING>SUCCESS',
    ]);
  });

  it('refuses an illegal move with IllegalMoveError and writes nothing', () => {
    insertTransaction(storage.db, transactionRow('TX3', 'SUCCESS'));
    expect(() =>
      moveTransaction(storage.db, {
        transactionNumber: 'TX3',
        from: 'SUCCESS',
        to: 'FAILED',
        cause: 'supplier',
        at: T0,
      }),
    ).toThrow(IllegalMoveError);
    expect(getTransaction(storage.db, 'TX3')?.state).toBe('SUCCESS');
    expect(countEvents(storage)).toBe(0);
  });

  it('loses the compare-and-set when the row is no longer in the expected state, and writes nothing', () => {
    insertTransaction(storage.db, transactionRow('TX4', 'QUEUED'));
    const result = moveTransaction(storage.db, {
      transactionNumber: 'TX4',
      from: 'INITIATED',
      to: 'CANCELLED',
      cause: 'razer',
      at: T0,
      patch: { failureReason: 'should not be written' },
    });
    expect(result).toEqual({ ok: false, reason: 'stale', current: 'QUEUED' });
    expect(getTransaction(storage.db, 'TX4')).toMatchObject({ state: 'QUEUED', failureReason: null });
    expect(countEvents(storage)).toBe(0);
  });

  it('reports a missing transaction without writing an event', () => {
    const result = moveTransaction(storage.db, {
      transactionNumber: 'NOPE',
      from: 'INITIATED',
      to: 'QUEUED',
      cause: 'razer',
      at: T0,
    });
    expect(result).toEqual({ ok: false, reason: 'missing' });
    expect(countEvents(storage)).toBe(0);
  });

  it('lets exactly one of two connections win a race from the same state', () => {
    // Two connections to one file behave like two processes: both read QUEUED, both try to move.
    const other = openStorage(storage.path);
    try {
      for (let i = 0; i < 50; i++) {
        const n = `RACE${i}`;
        insertTransaction(storage.db, transactionRow(n, 'QUEUED'));
        const seenByA = getTransaction(storage.db, n)?.state;
        const seenByB = getTransaction(other.db, n)?.state;
        expect(seenByA).toBe('QUEUED');
        expect(seenByB).toBe('QUEUED');
        const first = i % 2 === 0 ? storage : other;
        const second = i % 2 === 0 ? other : storage;
        const a = moveTransaction(first.db, {
          transactionNumber: n,
          from: 'QUEUED',
          to: 'ORDERING',
          cause: 'razer',
          at: T0,
        });
        const b = moveTransaction(second.db, {
          transactionNumber: n,
          from: 'QUEUED',
          to: 'CANCELLED',
          cause: 'razer',
          at: T0,
        });
        expect(a.ok).toBe(true);
        expect(b).toEqual({ ok: false, reason: 'stale', current: 'ORDERING' });
        expect(listEvents(storage.db, n)).toHaveLength(1);
      }
    } finally {
      other.close();
    }
  });

  it('keeps the state column to the known states even for raw writes', () => {
    insertTransaction(storage.db, transactionRow('TX5'));
    expect(() => storage.sqlite.prepare("update transactions set state = 'DELIVERED'").run()).toThrow(
      /CHECK constraint/,
    );
  });

  it('defect 8: cancel\'s "never sent" condition is part of the compare-and-set in SQL', () => {
    // QUEUED again after a rate-limited send: the state alone would let a cancel through.
    insertTransaction(storage.db, transactionRow('TX9', 'QUEUED', { orderAttempts: 1 }));
    const cancel = {
      transactionNumber: 'TX9',
      from: 'QUEUED',
      to: 'CANCELLED',
      cause: 'razer',
      at: T0,
      neverSent: true,
    } as const;
    expect(moveTransaction(storage.db, cancel)).toEqual({ ok: false, reason: 'stale', current: 'QUEUED' });
    expect(getTransaction(storage.db, 'TX9')?.state).toBe('QUEUED');
    expect(countEvents(storage)).toBe(0);
    insertTransaction(storage.db, transactionRow('TX10', 'QUEUED'));
    expect(moveTransaction(storage.db, { ...cancel, transactionNumber: 'TX10' }).ok).toBe(true);
  });
});
