import { describe, expect, it } from 'vitest';
import { parseMapping, rateWarnings } from '../src/config/mapping.js';
import { exampleMapping } from './helpers/mapping.js';

const FILE = 'config/mapping.yaml';

/** A valid one-SKU file with `extra` lines appended inside the entry. */
const withEntry = (extra: string, base = 'brand: MLBB\n    variation: MLBB112\n    max_price: 16000') =>
  `skus:\n  DIAMOND50:\n    ${base}\n${extra
    .split('\n')
    .filter(Boolean)
    .map((l) => `    ${l}`)
    .join('\n')}\n`;

const errorsOf = (text: string) => {
  const result = parseMapping(text, FILE);
  if (result.ok) throw new Error('expected the mapping to be refused');
  return result.errors;
};

describe('mapping file', () => {
  it('reports, never throws on, what the fuzzer found: an empty SKU, an alias to nothing, an alias bomb', () => {
    expect(errorsOf('skus:\n  A:\n').join('\n')).toMatch(/sku A/);
    expect(errorsOf('skus:\n  A: ~\n').join('\n')).toMatch(/sku A/);
    expect(errorsOf('*a').join('\n')).toMatch(/YAML error: .*alias/i);
    const bomb = [
      'a: &a [1,1,1,1,1,1,1,1,1]',
      'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
      'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
      'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
      'e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]',
      'f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]',
      'skus: [*f,*f,*f,*f,*f,*f,*f,*f,*f]',
    ];
    expect(errorsOf(bomb.join('\n')).join('\n')).toMatch(/YAML error: .*alias/i);
    const loop = 'skus:\n  A:\n    brand: B\n    variation: V\n    max_price: &a\n      extra: *a\n';
    expect(errorsOf(loop)).toEqual([`${FILE}: YAML error: an alias refers to a node that contains it`]);
  });

  it('loads the shipped example with its three kinds of SKU', () => {
    const mapping = exampleMapping();
    expect([...mapping.skus.keys()]).toEqual(['DIAMOND50', 'STEAMV50', 'GENSHIN60']);
    expect(mapping.skus.get('DIAMOND50')).toMatchObject({
      sku: 'DIAMOND50',
      brand: 'MLBB',
      variation: 'MLBB112',
      maxPrice: 16000,
      countries: ['MY', 'ID', 'SG'],
      limits: { perAccountPerDay: 20, perSkuPerDay: null },
      enabled: true,
    });
    expect(mapping.skus.get('STEAMV50')).toMatchObject({
      countries: null,
      accountPattern: null,
      form: [],
      enabled: true,
      voucher: true,
    });
    expect(mapping.skus.get('DIAMOND50')?.voucher).toBeNull();
    expect(mapping.skus.get('GENSHIN60')?.voucher).toBeNull();
  });

  it('accepts a minimal entry and fills the defaults', () => {
    const result = parseMapping(withEntry(''), FILE);
    expect(result.ok && result.mapping.skus.get('DIAMOND50')).toMatchObject({
      enabled: true,
      form: [],
      countries: null,
    });
  });

  it('reads voucher as true, false, or null when absent', () => {
    const voucherOf = (extra: string) => {
      const result = parseMapping(withEntry(extra), FILE);
      if (!result.ok) throw new Error(result.errors.join('\n'));
      return result.mapping.skus.get('DIAMOND50')?.voucher;
    };
    expect(voucherOf('')).toBeNull();
    expect(voucherOf('voucher: true')).toBe(true);
    expect(voucherOf('voucher: false')).toBe(false);
  });

  it('compiles account.pattern anchored as a whole, so it must match all of accountId', () => {
    const sourceOf = (pattern: string) => {
      const result = parseMapping(withEntry(`account:\n  pattern: '${pattern}'`), FILE);
      if (!result.ok) throw new Error(result.errors.join('\n'));
      const compiled = result.mapping.skus.get('DIAMOND50')?.accountPattern;
      return { source: compiled?.source, flags: compiled?.flags };
    };
    expect(sourceOf('(?<user_id>\\d+)')).toEqual({ source: '^(?:(?<user_id>\\d+))$', flags: 'u' });
    expect(sourceOf('(?<a>x)|(?<b>y)')).toEqual({ source: '^(?:(?<a>x)|(?<b>y))$', flags: 'u' });
    expect(sourceOf('^(?<user_id>\\d+)$')).toEqual({ source: '^(?:^(?<user_id>\\d+)$)$', flags: 'u' });
  });

  it('refuses a pattern that would only compile once wrapped, rather than wrapping it', () => {
    // Wrapped naively, 'a)|(?<g>b' would become '^(?:a)|(?<g>b)$': two half-anchored branches.
    expect(errorsOf(withEntry("account:\n  pattern: 'a)|(?<g>b'"))).toEqual([
      expect.stringMatching(
        /^config\/mapping\.yaml:7: sku DIAMOND50, field account\.pattern: pattern does not compile: /,
      ),
    ]);
  });

  it('normalises country codes to capitals', () => {
    const result = parseMapping(withEntry('countries: [my, id]'), FILE);
    expect(result.ok && result.mapping.skus.get('DIAMOND50')?.countries).toEqual(['MY', 'ID']);
  });

  it.each([
    [
      'a negative price',
      withEntry('', 'brand: MLBB\n    variation: MLBB112\n    max_price: -5'),
      `${FILE}:5: sku DIAMOND50, field max_price: must be greater than 0 (IDR), got -5`,
    ],
    [
      'a fractional price',
      withEntry('', 'brand: MLBB\n    variation: MLBB112\n    max_price: 15.5'),
      `${FILE}:5: sku DIAMOND50, field max_price: must be a whole number (IDR), got 15.5`,
    ],
    [
      'a price written as text',
      withEntry('', "brand: MLBB\n    variation: MLBB112\n    max_price: '16000'"),
      `${FILE}:5: sku DIAMOND50, field max_price: must be a number (IDR), got "16000"`,
    ],
    [
      'a missing brand',
      withEntry('', 'variation: MLBB112\n    max_price: 16000'),
      `${FILE}:2: sku DIAMOND50, field brand: is required (the Mitra brand_key)`,
    ],
    [
      'an empty variation',
      withEntry('', "brand: MLBB\n    variation: '  '\n    max_price: 16000"),
      `${FILE}:4: sku DIAMOND50, field variation: must not be empty (the Mitra variation_key)`,
    ],
    [
      'a pattern that does not compile',
      withEntry("account:\n  pattern: '^(?<user_id>\\d+$'\nform:\n  user_id: '{user_id}'"),
      `${FILE}:7: sku DIAMOND50, field account.pattern: pattern does not compile: Invalid regular expression: /^(?<user_id>\\d+$/u: Unterminated group`,
    ],
    [
      'a pattern without named groups',
      withEntry("account:\n  pattern: '^\\d+$'"),
      `${FILE}:7: sku DIAMOND50, field account.pattern: pattern has no named groups such as (?<user_id>\\d+)`,
    ],
    [
      'a template group the pattern lacks',
      withEntry("account:\n  pattern: '^(?<user_id>\\d+)$'\nform:\n  zone_id: '{zone}'"),
      `${FILE}:9: sku DIAMOND50, field form.zone_id: template group {zone} is not a named group of account.pattern (its groups: user_id)`,
    ],
    [
      'a group name without any pattern',
      withEntry("form:\n  user_id: '{user_id}'"),
      `${FILE}:7: sku DIAMOND50, field form.user_id: unknown template variable {user_id}: there is no account.pattern to define a group of that name (use {accountId}, {customParam.X} or a named group)`,
    ],
    [
      'an unknown template variable',
      withEntry("form:\n  user_id: '{account.id}'"),
      `${FILE}:7: sku DIAMOND50, field form.user_id: unknown template variable {account.id} (use {accountId}, {customParam.X} or a named group of account.pattern)`,
    ],
    [
      'an unclosed brace',
      withEntry("form:\n  user_id: 'x{accountId'"),
      `${FILE}:7: sku DIAMOND50, field form.user_id: unclosed '{' at position 2`,
    ],
    [
      'a misspelt field',
      withEntry('max_prise: 3'),
      `${FILE}:6: sku DIAMOND50, field max_prise: unknown field 'max_prise'`,
    ],
    [
      'a bad country',
      withEntry('countries: [MYS]'),
      `${FILE}:6: sku DIAMOND50, field countries.0: must be a two-letter country code such as MY`,
    ],
    [
      'an empty country list',
      withEntry('countries: []'),
      `${FILE}:6: sku DIAMOND50, field countries: must list at least one country (leave the field out to allow all)`,
    ],
    [
      'a zero limit',
      withEntry('limits: { per_account_per_day: 0 }'),
      `${FILE}:6: sku DIAMOND50, field limits.per_account_per_day: must be greater than 0 (purchases per account per day), got 0`,
    ],
    [
      'voucher as text',
      withEntry("voucher: 'yes'"),
      `${FILE}:6: sku DIAMOND50, field voucher: must be true or false`,
    ],
    [
      'voucher as a number',
      withEntry('voucher: 1'),
      `${FILE}:6: sku DIAMOND50, field voucher: must be true or false`,
    ],
    [
      'enabled as text',
      withEntry("enabled: 'yes'"),
      `${FILE}:6: sku DIAMOND50, field enabled: must be true or false`,
    ],
  ])('refuses %s with file, line, SKU, field and reason', (_name, text, message) => {
    expect(errorsOf(text)).toEqual([message]);
  });

  it('reports every problem of every SKU at once', () => {
    const text = `skus:
  A1:
    brand: MLBB
    variation: X
    max_price: 0
  B2:
    variation: Y
    max_price: 10
`;
    expect(errorsOf(text)).toEqual([
      `${FILE}:5: sku A1, field max_price: must be greater than 0 (IDR), got 0`,
      `${FILE}:6: sku B2, field brand: is required (the Mitra brand_key)`,
    ]);
  });

  it('refuses an invalid SKU name', () => {
    expect(errorsOf('skus:\n  "bad sku!":\n    brand: A\n    variation: B\n    max_price: 1\n')).toEqual([
      `${FILE}:2: sku bad sku!: SKU names are 1-64 letters, digits or . _ : - and start with a letter or digit`,
    ]);
  });

  it('refuses a file without skus, an empty skus map and a non-map file', () => {
    expect(errorsOf('sku:\n  A: {}\n')).toEqual([
      `${FILE}:1: skus: must be a map of Razer SKU -> entry`,
      `${FILE}:1: sku: unknown field 'sku'`,
    ]);
    expect(errorsOf('skus: {}\n')).toEqual([`${FILE}:1: skus: no SKU is defined`]);
    expect(errorsOf('- a\n- b\n')).toEqual([
      `${FILE}:1: the file must be a YAML map with a top-level "skus:" key`,
    ]);
  });

  it('refuses YAML syntax errors and duplicate SKUs with their line', () => {
    expect(errorsOf('skus:\n  A: [unclosed\n')[0]).toMatch(/^config\/mapping\.yaml:\d+: YAML syntax error: /);
    const dup = errorsOf('skus:\n  A:\n    brand: X\n  A:\n    brand: Y\n');
    expect(dup).toEqual([
      expect.stringMatching(/^config\/mapping\.yaml:4: YAML syntax error: Map keys must be unique/),
    ]);
  });
});

describe('mapping file: revenue and rates', () => {
  const RATES =
    'rates:\n  USD: { idr: 16250.5, set: 2026-12-01 }\n  MYR: { idr: "3890.25", set: 2026-11-30 }\n';
  const revenueOf = (text: string) => {
    const result = parseMapping(text, FILE);
    if (!result.ok) throw new Error(result.errors.join('\n'));
    return result.mapping.skus.get('DIAMOND50')?.revenue;
  };

  it('converts a revenue to IDR at its rate, in integers, when the file is read', () => {
    expect(revenueOf(withEntry('revenue: { amount: "0.99", currency: USD }') + RATES)).toEqual({
      amountMinor: 99,
      currency: 'USD',
      rateE6: 16_250_500_000,
      rateSet: '2026-12-01',
      idr: 16088,
    });
    expect(revenueOf(withEntry('revenue: { amount: 4.29, currency: MYR }') + RATES)).toMatchObject({
      amountMinor: 429,
      idr: 16689, // 4.29 × 3890.25 = 16689.1725
    });
    // IDR needs no rate.
    expect(revenueOf(withEntry('revenue: { amount: 58500, currency: IDR }'))).toEqual({
      amountMinor: 5_850_000,
      currency: 'IDR',
      rateE6: 1_000_000,
      rateSet: null,
      idr: 58500,
    });
    expect(revenueOf(withEntry(''))).toBeNull();
    const mapping = parseMapping(withEntry('') + RATES, FILE);
    expect(mapping.ok && [...mapping.mapping.rates]).toEqual([
      ['USD', { rateE6: 16_250_500_000, set: '2026-12-01' }],
      ['MYR', { rateE6: 3_890_250_000, set: '2026-11-30' }],
    ]);
    // A YAML 1.1 file reads the date as a timestamp: the same day.
    expect(
      revenueOf(`%YAML 1.1\n---\n${withEntry('revenue: { amount: "1", currency: USD }')}${RATES}`),
    ).toMatchObject({ rateSet: '2026-12-01', idr: 16251 });
  });

  it('refuses a revenue in a currency without a rate with file, line, SKU and field', () => {
    expect(errorsOf(withEntry('revenue: { amount: "0.99", currency: EUR }') + RATES)).toEqual([
      `${FILE}:6: sku DIAMOND50, field revenue.currency: no rate for EUR: add one to the top-level rates:, such as rates: { EUR: { idr: <IDR per EUR>, set: <YYYY-MM-DD> } }`,
    ]);
    // Reported with the file's other problems, in one run.
    expect(
      errorsOf(
        withEntry(
          'revenue:\n  amount: "0.999"\n  currency: EUR',
          'brand: MLBB\n    variation: MLBB112\n    max_price: 0',
        ),
      ),
    ).toEqual([
      `${FILE}:5: sku DIAMOND50, field max_price: must be greater than 0 (IDR), got 0`,
      `${FILE}:7: sku DIAMOND50, field revenue.amount: has at most 2 decimals, got 0.999 (EUR has 2 minor digits)`,
      `${FILE}:8: sku DIAMOND50, field revenue.currency: no rate for EUR: add one to the top-level rates:, such as rates: { EUR: { idr: <IDR per EUR>, set: <YYYY-MM-DD> } }`,
    ]);
  });

  it('refuses amounts and rates that are not exact positive decimals, and bad currencies and dates', () => {
    const errors = errorsOf(
      [
        withEntry('revenue:\n  amount: -1\n  currency: usd\n  when: today'),
        'rates:',
        '  USD: { idr: 16250.1234567, set: 2026-02-30 }',
        '  JPY: { idr: 0, set: 1 December }',
        '  IDR: { idr: 1, set: 2026-12-01 }',
        '  eur: { idr: 17000, set: 2026-12-01 }',
        '  MYR: { idr: 2000000, set: 2026-12-01, by: me }',
      ].join('\n'),
    );
    expect(errors).toEqual([
      `${FILE}:8: sku DIAMOND50, field revenue.currency: must be an ISO 4217 currency code: three upper-case letters such as USD`,
      `${FILE}:9: sku DIAMOND50, field revenue.when: unknown field 'when'`,
      `${FILE}:7: sku DIAMOND50, field revenue.amount: must be a decimal number such as "0.99", got -1`,
      `${FILE}:12: rates.USD.idr: has at most 6 decimals, got 16250.1234567 (IDR per unit)`,
      `${FILE}:12: rates.USD.set: must be the date the rate was set, such as 2026-12-01, got "2026-02-30"`,
      `${FILE}:13: rates.JPY.idr: must be greater than 0, got 0 (IDR per unit)`,
      `${FILE}:13: rates.JPY.set: must be the date the rate was set, such as 2026-12-01, got "1 December"`,
      `${FILE}:14: rates.IDR: IDR needs no rate: every figure is counted in IDR`,
      `${FILE}:15: rates.eur: must be an ISO 4217 currency code: three upper-case letters such as USD`,
      `${FILE}:16: rates.MYR.idr: must be at most 1,000,000, got 2000000 (IDR per unit)`,
      `${FILE}:16: rates.MYR.by: unknown field 'by'`,
    ]);
    // Minor digits are the currency's: none for JPY, three for KWD.
    const rates = 'rates:\n  JPY: { idr: 105.5, set: 2026-12-01 }\n  KWD: { idr: 53000, set: 2026-12-01 }\n';
    expect(errorsOf(withEntry('revenue: { amount: "1.5", currency: JPY }') + rates)).toEqual([
      `${FILE}:6: sku DIAMOND50, field revenue.amount: must be a whole number, got 1.5 (JPY has 0 minor digits)`,
    ]);
    expect(revenueOf(withEntry('revenue: { amount: "1.005", currency: KWD }') + rates)).toMatchObject({
      amountMinor: 1005,
      idr: 53265,
    });
  });

  it('warns of a rate set after today, and uses it', () => {
    const result = parseMapping(withEntry('') + RATES, FILE);
    if (!result.ok) throw new Error(result.errors.join('\n'));
    expect(rateWarnings(result.mapping, '2026-12-07')).toEqual([]);
    expect(rateWarnings(result.mapping, '2026-11-30')).toEqual([
      'rates.USD.set 2026-12-01 is after today (2026-11-30): a typo?',
    ]);
  });

  it('gives the shipped example a revenue for each SKU, two currencies with rates and one in IDR', () => {
    const mapping = exampleMapping();
    expect([...mapping.skus.values()].map((s) => [s.sku, s.revenue?.currency, s.revenue?.idr])).toEqual([
      ['DIAMOND50', 'USD', 17063],
      ['STEAMV50', 'IDR', 58500],
      ['GENSHIN60', 'MYR', 16689],
    ]);
    expect([...mapping.rates.keys()]).toEqual(['USD', 'MYR']);
  });
});
