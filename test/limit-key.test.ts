import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FormField } from '../src/config/form-data.js';
import type { CatalogueForm } from '../src/db/types.js';
import { limitKey } from '../src/fulfilment/limit-key.js';

// Review: per-account limits counted Razer's accountId text, so "0123456-12" passed a limit
// "123456-12" had reached. They count the supplier's form data, normalised: limitKey.

const FORMS: CatalogueForm[] = [
  { key: 'user_id', type: 'numeric', alias: 'User ID' },
  { key: 'zone_id', type: 'numeric' },
  { key: 'server', type: 'option', options: ['Asia', 'Europe'] },
  { key: 'name', type: 'text' },
];

const fields = (o: Record<string, string>): FormField[] =>
  Object.entries(o).map(([key, value]) => ({ key, value }));
const key = (o: Record<string, string>, forms: readonly CatalogueForm[] = FORMS) =>
  limitKey(fields(o), forms);

describe('limitKey', () => {
  it('drops the leading zeros of numeric fields', () => {
    const reached = key({ user_id: '123456', zone_id: '12' });
    for (const spelling of [
      { user_id: '0123456', zone_id: '12' },
      { user_id: '123456', zone_id: '012' },
      { user_id: '00123456', zone_id: '0012' },
    ])
      expect(key(spelling), JSON.stringify(spelling)).toBe(reached);
    expect(key({ user_id: '1234560', zone_id: '12' })).not.toBe(reached);
    expect(key({ user_id: '123456', zone_id: '120' })).not.toBe(reached);
  });

  it('reads an all-zero numeric value as 0', () => {
    expect(key({ zone_id: '000' })).toBe(key({ zone_id: '0' }));
    expect(key({ zone_id: '00' })).toBe(key({ zone_id: '0' }));
    expect(key({ zone_id: '0' })).not.toBe(key({ zone_id: '' }));
  });

  it('keeps the zeros of a text or option field, and of every field when the brand has no known forms', () => {
    expect(key({ name: '007' })).not.toBe(key({ name: '7' }));
    expect(key({ server: '01' })).not.toBe(key({ server: '1' }));
    expect(key({ user_id: '0123456' }, [])).not.toBe(key({ user_id: '123456' }, []));
    // Nor does a field of the same name in another brand's forms count as numeric.
    expect(key({ user_id: '0123456' }, [{ key: 'uid', type: 'numeric' }])).not.toBe(
      key({ user_id: '123456' }, [{ key: 'uid', type: 'numeric' }]),
    );
  });

  it('trims and lowercases every value', () => {
    expect(key({ name: '  Player One\t', server: 'ASIA' })).toBe(key({ name: 'player one', server: 'asia' }));
    expect(key({ user_id: ' 0123456 ' })).toBe(key({ user_id: '123456' }));
    expect(key({ name: 'player  one' })).not.toBe(key({ name: 'player one' }));
  });

  it('does not depend on the order of the fields', () => {
    expect(key({ user_id: '123456', zone_id: '12' })).toBe(key({ zone_id: '12', user_id: '123456' }));
  });

  it('keeps different form data apart, whatever characters the values hold', () => {
    const distinct: Record<string, string>[] = [
      { a: '1|b' },
      { a: '1', b: '' },
      { a: '1', b: '|' },
      { a: 'b' },
      { b: 'a' },
      { a: '1","b' },
      { a: '1', b: '1' },
      { a: '1=b' },
      { 'a=1': 'b' },
      {},
      { a: '' },
    ];
    const keys = distinct.map((o) => key(o, []));
    expect(new Set(keys).size).toBe(distinct.length);
  });

  it('gives two sets of already normalised text fields the same key exactly when they are equal', () => {
    const value = fc.string().map((v) => v.trim().toLowerCase());
    const data = fc.dictionary(fc.string(), value, { maxKeys: 4 });
    fc.assert(
      fc.property(data, data, (a, b) => {
        const same =
          Object.keys(a).length === Object.keys(b).length &&
          Object.entries(a).every(([k, v]) => Object.hasOwn(b, k) && b[k] === v);
        expect(key(a, []) === key(b, [])).toBe(same);
        expect(key(a, [])).toBe(limitKey(fields(a).reverse(), []));
      }),
    );
  });

  it('is a fixed-size key for the index, however long the values', () => {
    expect(key({ name: 'x'.repeat(10_000) })).toMatch(/^[0-9a-f]{64}$/);
  });
});
