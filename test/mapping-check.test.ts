import { describe, expect, it } from 'vitest';
import { type Mapping, parseMapping } from '../src/config/mapping.js';
import { type CatalogueSnapshot, checkMapping } from '../src/fulfilment/mapping-check.js';

const mappingOf = (yaml: string): Mapping => {
  const result = parseMapping(yaml, 'test.yaml');
  if (!result.ok) throw new Error(result.errors.join('\n'));
  return result.mapping;
};

/** A one-SKU mapping: `lines` are the entry's fields, one per line. */
const oneSku = (sku: string, ...lines: string[]) =>
  mappingOf(`skus:\n  ${sku}:\n${lines.map((l) => `    ${l}\n`).join('')}`);

const ML = [
  'brand: mobile-legends',
  'max_price: 25000',
  "account: { pattern: '(?<user_id>\\d+)-(?<zone_id>\\d+)' }",
  "form: { user_id: '{user_id}', zone_id: '{zone_id}' }",
];

const catalogue: CatalogueSnapshot = {
  brands: new Map([
    [
      'mobile-legends',
      {
        isActive: true,
        isVoucher: false,
        forms: [
          { key: 'user_id', type: 'numeric', alias: 'User ID' },
          { key: 'zone_id', type: 'numeric', alias: 'Zone ID' },
        ],
      },
    ],
    [
      'genshin',
      {
        isActive: true,
        isVoucher: null,
        forms: [
          { key: 'user_id', type: 'text' },
          { key: 'server', type: 'option', alias: 'Server', options: ['Asia', 'America', 'Europe'] },
        ],
      },
    ],
    ['old-brand', { isActive: false, isVoucher: true, forms: [] }],
    ['steam', { isActive: true, isVoucher: true, forms: [] }],
    ['no-stock', { isActive: true, isVoucher: true, forms: [] }],
  ]),
  variations: new Map([
    [
      'mobile-legends',
      new Map([
        ['ml-86', { name: '86 Diamonds', price: 20000, isActive: true }],
        ['ml-172', { name: '172 Diamonds', price: 40000, isActive: false }],
      ]),
    ],
    ['genshin', new Map([['gi-60', { name: '60 Crystals', price: 15000, isActive: true }]])],
    ['old-brand', new Map([['v1', { name: 'V1', price: 1000, isActive: true }]])],
    // steam: never fetched. no-stock: fetched, and it has none.
    ['no-stock', new Map()],
  ]),
};

const problemsOf = (mapping: Mapping) => checkMapping(mapping, catalogue).problems;

describe('checkMapping', () => {
  it('finds nothing wrong in a clean mapping, and computes each margin', () => {
    const result = checkMapping(
      mappingOf(`skus:
  ML86:
    ${ML.join('\n    ')}
    variation: ml-86
  GI60:
    brand: genshin
    variation: gi-60
    max_price: 16000
    voucher: false
    form: { user_id: '{accountId}', server: '{customParam.server}' }
  OLD1:
    brand: old-brand
    variation: v1
    max_price: 1000
    enabled: false
`),
      {
        ...catalogue,
        brands: new Map([...catalogue.brands, ['old-brand', { isActive: true, isVoucher: true, forms: [] }]]),
      },
    );
    expect(result.problems).toEqual([]);
    expect(result.rows).toEqual([
      {
        sku: 'ML86',
        enabled: true,
        brand: 'mobile-legends',
        variation: 'ml-86',
        price: 20000,
        maxPrice: 25000,
        margin: 5000,
        marginPercent: 20,
        active: true,
        problems: [],
        sellsThrough: {
          choice: 'main',
          brand: 'mobile-legends',
          variation: 'ml-86',
          price: 20000,
          maxPrice: 25000,
        },
        passedOver: [],
        backups: [],
      },
      {
        sku: 'GI60',
        enabled: true,
        brand: 'genshin',
        variation: 'gi-60',
        price: 15000,
        maxPrice: 16000,
        margin: 1000,
        // 6.25 rounds half away from zero.
        marginPercent: 6.3,
        active: true,
        problems: [],
        sellsThrough: { choice: 'main', brand: 'genshin', variation: 'gi-60', price: 15000, maxPrice: 16000 },
        passedOver: [],
        backups: [],
      },
      {
        sku: 'OLD1',
        enabled: false,
        brand: 'old-brand',
        variation: 'v1',
        price: 1000,
        maxPrice: 1000,
        margin: 0,
        marginPercent: 0,
        active: true,
        problems: [],
        // Disabled: sells through nothing.
        sellsThrough: null,
        passedOver: [],
        backups: [],
      },
    ]);
  });

  it('reports a price above max_price with a negative margin', () => {
    const result = checkMapping(
      oneSku('ML86', ...ML.filter((l) => !l.startsWith('max_price')), 'variation: ml-86', 'max_price: 18000'),
      catalogue,
    );
    expect(result.rows[0]).toMatchObject({
      price: 20000,
      maxPrice: 18000,
      margin: -2000,
      marginPercent: -11.1,
    });
    expect(result.problems).toEqual(['SKU ML86: price 20000 is above max_price 18000 (margin -2000)']);
  });

  it('rounds a negative percentage like its positive counterpart, never to -0', () => {
    const rowAt = (price: number, maxPrice: number) =>
      checkMapping(oneSku('GI60', 'brand: genshin', 'variation: gi-60', `max_price: ${maxPrice}`), {
        ...catalogue,
        variations: new Map([['genshin', new Map([['gi-60', { name: '', price, isActive: true }]])]]),
      }).rows[0];
    expect(rowAt(17000, 16000)).toMatchObject({ margin: -1000, marginPercent: -6.3 });
    expect(rowAt(100001, 100000)?.marginPercent).toBe(0);
  });

  it('reports a brand missing from the catalogue, and nothing it cannot know about it', () => {
    const result = checkMapping(oneSku('X1', 'brand: nope', 'variation: v', 'max_price: 100'), catalogue);
    expect(result.problems).toEqual(['SKU X1: brand nope not found in the catalogue']);
    expect(result.rows[0]).toMatchObject({ price: null, margin: null, marginPercent: null, active: false });
  });

  it('reports an inactive brand', () => {
    const result = checkMapping(
      oneSku('OLD', 'brand: old-brand', 'variation: v1', 'max_price: 2000'),
      catalogue,
    );
    expect(result.problems).toEqual(['SKU OLD: brand old-brand is inactive']);
    expect(result.rows[0]).toMatchObject({ price: 1000, margin: 1000, marginPercent: 50, active: false });
  });

  it('reports a variation missing from its brand', () => {
    expect(problemsOf(oneSku('ML86', ...ML, 'variation: ml-999'))).toEqual([
      'SKU ML86: variation ml-999 not found in brand mobile-legends',
    ]);
  });

  it('reports an inactive variation', () => {
    const result = checkMapping(oneSku('ML172', ...ML, 'variation: ml-172'), catalogue);
    expect(result.problems).toEqual([
      'SKU ML172: variation ml-172 of brand mobile-legends is inactive',
      'SKU ML172: price 40000 is above max_price 25000 (margin -15000)',
    ]);
    expect(result.rows[0]?.active).toBe(false);
  });

  it('tells a brand whose variations were not fetched from one that has none', () => {
    const result = checkMapping(
      mappingOf(`skus:
  STEAM50: { brand: steam, variation: s50, max_price: 60000 }
  NONE: { brand: no-stock, variation: n1, max_price: 100 }
`),
      catalogue,
    );
    expect(result.problems).toEqual([
      'SKU STEAM50: variations of brand steam not fetched yet: s50 unknown',
      'SKU NONE: variation n1 not found in brand no-stock',
    ]);
    expect(result.rows[0]).toMatchObject({ price: null, margin: null, marginPercent: null, active: false });
  });

  it("reports the brand's forms the mapping never fills, and keys the brand does not have", () => {
    expect(
      problemsOf(
        oneSku(
          'ML86',
          'brand: mobile-legends',
          'variation: ml-86',
          'max_price: 25000',
          "form: { user_id: '{accountId}', zone: '1' }",
        ),
      ),
    ).toEqual([
      'SKU ML86: form zone_id (Zone ID) of brand mobile-legends is never filled by the mapping',
      'SKU ML86: the mapping fills form zone, which brand mobile-legends does not have',
    ]);
    expect(
      problemsOf(
        oneSku(
          'ML86',
          ...ML.slice(0, 3),
          'variation: ml-86',
          "form: { user_id: '{accountId}', zone_id: 'x1' }",
        ),
      ),
    ).toEqual(['SKU ML86: form zone_id is fixed to "x1": Zone ID must be digits only']);
  });

  it('reports a fixed option value that is not among the options, and trusts request templates', () => {
    const gi = (server: string) =>
      oneSku(
        'GI60',
        'brand: genshin',
        'variation: gi-60',
        'max_price: 16000',
        'voucher: false',
        `form: { user_id: '{accountId}', server: '${server}' }`,
      );
    expect(problemsOf(gi('Mars'))).toEqual([
      'SKU GI60: form server is fixed to "Mars": Server must be one of Asia, America, Europe',
    ]);
    expect(problemsOf(gi('Asia'))).toEqual([]);
    expect(problemsOf(gi('{customParam.server}'))).toEqual([]);
    expect(problemsOf(gi('{accountId}'))).toEqual([]);
  });

  it('reports a SKU that neither the catalogue nor the mapping calls a voucher or not', () => {
    const gi = (...extra: string[]) =>
      oneSku(
        'GI60',
        'brand: genshin',
        'variation: gi-60',
        'max_price: 16000',
        "form: { user_id: '{accountId}', server: Asia }",
        ...extra,
      );
    expect(problemsOf(gi())).toEqual([
      'SKU GI60: neither the catalogue nor the mapping says whether it is a voucher (set voucher: true or false)',
    ]);
    expect(problemsOf(gi('voucher: true'))).toEqual([]);
  });

  it('shows the problems of a disabled SKU in its row without counting them', () => {
    const result = checkMapping(
      mappingOf(`skus:
  GONE: { brand: nope, variation: v, max_price: 100, enabled: false }
  OLD: { brand: old-brand, variation: v1, max_price: 500, enabled: false }
  ML86: { brand: mobile-legends, variation: ml-404, max_price: 100, form: { user_id: '{accountId}', zone_id: '1' } }
`),
      catalogue,
    );
    expect(result.rows.map((r) => [r.sku, r.enabled, r.problems])).toEqual([
      ['GONE', false, ['SKU GONE (disabled): brand nope not found in the catalogue']],
      [
        'OLD',
        false,
        [
          'SKU OLD (disabled): brand old-brand is inactive',
          'SKU OLD (disabled): price 1000 is above max_price 500 (margin -500)',
        ],
      ],
      ['ML86', true, ['SKU ML86: variation ml-404 not found in brand mobile-legends']],
    ]);
    expect(result.problems).toEqual(['SKU ML86: variation ml-404 not found in brand mobile-legends']);
  });
});
