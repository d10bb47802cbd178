import { describe, expect, it } from 'vitest';
import { canonical, rowDigest, SetDigest } from '../src/db/move/digest.js';
import { MOVED_TABLES, pgOnlyFields } from '../src/db/move/tables.js';

describe('the digests a move compares both sides by', () => {
  it('reads a row the same whatever its key order, and a NUL as PostgreSQL keeps it', () => {
    expect(canonical({ b: 1, a: { d: [true, null], c: 'x' } })).toBe('{"a":{"c":"x","d":[true,null]},"b":1}');
    expect(rowDigest({ a: 1, b: 'x\u0000y' })).toEqual(rowDigest({ b: 'x\ufffdy', a: 1 }));
    expect(rowDigest({ a: 1 })).not.toEqual(rowDigest({ a: '1' }));
    // Keys too, and ordered as PostgreSQL keeps them.
    expect(canonical({ 'k\u0000': 1, k: 2 })).toBe('{"k":2,"k\ufffd":1}');
    expect(canonical({ 'a\u0000b': 1 })).not.toBe(canonical({ a: 1, b: 1 }));
  });

  it('tells a set of rows from one with a row changed, lost or doubled, whatever the order', () => {
    const rows = [
      { id: 1, s: 'a' },
      { id: 2, s: 'b' },
      { id: 3, s: 'c' },
    ];
    const of = (list: object[]) => {
      const d = new SetDigest();
      for (const r of list) d.add(rowDigest(r));
      return d;
    };
    const base = of(rows);
    expect(of([...rows].reverse()).hex).toBe(base.hex);
    expect(of([rows[0], { id: 2, s: 'B' }, rows[2]] as object[]).hex).not.toBe(base.hex);
    const lost = of(rows.slice(1));
    expect([lost.hex, lost.count]).not.toEqual([base.hex, base.count]);
    const doubled = of([...rows, rows[0]] as object[]);
    expect(doubled.count).toBe(4);
    expect(doubled.hex).not.toBe(base.hex);
  });

  it('leaves out of a copied row only what PostgreSQL alone has: the step lease', () => {
    const only = Object.fromEntries(MOVED_TABLES.map((t) => [t.name, pgOnlyFields(t)]));
    expect(only).toMatchObject({ transactions: ['leaseHolder', 'leaseUntil'], transaction_events: [] });
    expect(Object.values(only).flat()).toEqual(['leaseHolder', 'leaseUntil']);
  });
});
