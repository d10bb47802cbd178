import { describe, expect, it } from 'vitest';
import { createMetrics, type SkuSelling } from '../src/admin/metrics.js';
import { type Mapping, parseMapping } from '../src/config/mapping.js';
import type { BalanceVerdict } from '../src/fulfilment/balance-guard.js';
import {
  type ChoiceInput,
  choiceText,
  chooseVariation,
  type OptionState,
  optionsOf,
  type PassReason,
  passedOverText,
  refusalFor,
  type VariationOption,
} from '../src/fulfilment/choose-variation.js';
import { type CatalogueSnapshot, checkMapping } from '../src/fulfilment/mapping-check.js';
import { createLogger } from '../src/log.js';

// Issue 24 §4: which supplier variation a sale goes through. The rule is one pure function; init,
// `gateway check --online`, the supplier page and the metrics all ask it.

const option = (rank: number, over: Partial<VariationOption> = {}): VariationOption => ({
  choice: rank === 0 ? 'main' : `backup${rank}`,
  rank,
  brand: 'MLBB',
  variation: `V${rank}`,
  maxPrice: 1000,
  revenue: null,
  ...over,
});

const FORMS = [{ key: 'user_id', type: 'numeric' }];

/** An option the catalogue sells at `price`. */
const selling = (o: VariationOption, price = 900, isVoucher: boolean | null = false): OptionState => ({
  option: o,
  brand: { isActive: true, isVoucher, forms: FORMS },
  variation: { price, isActive: true },
});

const SELL = (): BalanceVerdict => ({ kind: 'sell' });

const choose = (states: OptionState[], over: Partial<ChoiceInput> = {}) =>
  chooseVariation({ states, voucher: null, formProblem: () => null, balance: SELL, ...over });

/** The variants of one option's catalogue state, each with the reason it is passed over (null: it sells). */
const VARIANTS: {
  name: string;
  state: (o: VariationOption) => OptionState;
  reason: PassReason['kind'] | null;
}[] = [
  {
    name: 'no brand',
    state: (o) => ({ option: o, brand: undefined, variation: undefined }),
    reason: 'no-brand',
  },
  {
    name: 'no variation',
    state: (o) => ({ ...selling(o), variation: undefined }),
    reason: 'no-variation',
  },
  {
    name: 'brand inactive',
    state: (o) => ({ ...selling(o), brand: { isActive: false, isVoucher: false, forms: [] } }),
    reason: 'brand-inactive',
  },
  {
    name: 'variation inactive',
    state: (o) => ({ ...selling(o), variation: { price: 900, isActive: false } }),
    reason: 'variation-inactive',
  },
  { name: 'above its ceiling', state: (o) => selling(o, 1001), reason: 'above-ceiling' },
  { name: 'kind unknown', state: (o) => selling(o, 900, null), reason: 'kind-unknown' },
  // 777: a price the balance guard in these tests cannot pay.
  { name: 'beyond the balance', state: (o) => selling(o, 777), reason: 'balance' },
  { name: 'selling', state: (o) => selling(o), reason: null },
];

const BALANCE = (price: number): BalanceVerdict =>
  price === 777 ? { kind: 'refuse', available: 700 } : { kind: 'sell' };

describe('chooseVariation', () => {
  it('picks the first option that can sell, naming why each before it was passed over: every combination of three', () => {
    let combinations = 0;
    for (const a of VARIANTS)
      for (const b of VARIANTS)
        for (const c of VARIANTS) {
          combinations++;
          const variants = [a, b, c];
          const options = [option(0), option(1), option(2)];
          const asked: number[] = [];
          const choice = choose(
            variants.map((v, i) => v.state(options[i] as VariationOption)),
            {
              balance: (price) => {
                asked.push(price);
                return BALANCE(price);
              },
            },
          );
          const first = variants.findIndex((v) => v.reason === null);
          const what = variants.map((v) => v.name).join(', ');
          if (first < 0) {
            expect(choice.ok, what).toBe(false);
            expect(
              choice.passedOver.map((p) => p.reason.kind),
              what,
            ).toEqual(variants.map((v) => v.reason));
          } else {
            expect(choice.ok && choice.option.choice, what).toBe(options[first]?.choice);
            expect(
              choice.passedOver.map((p) => [p.option.choice, p.reason.kind]),
              what,
            ).toEqual(variants.slice(0, first).map((v, i) => [options[i]?.choice, v.reason]));
          }
          // The balance is asked last, of options that passed every other check, and of none after the choice.
          const reached = first < 0 ? variants : variants.slice(0, first + 1);
          expect(asked.length, what).toBe(
            reached.filter((v) => v.reason === 'balance' || v.reason === null).length,
          );
        }
    expect(combinations).toBe(VARIANTS.length ** 3);
  });

  it('returns the price and kind of the chosen option, and sells on a stale or missing balance reading', () => {
    const states = [selling(option(0), 850, true)];
    for (const verdict of [{ kind: 'stale', ageMs: 9e9 }, { kind: 'unknown' }] as BalanceVerdict[])
      expect(choose(states, { balance: () => verdict })).toEqual({
        ok: true,
        option: option(0),
        price: 850,
        isVoucher: true,
        passedOver: [],
      });
  });

  it('takes the mapping voucher flag where the catalogue is silent', () => {
    const choice = choose([selling(option(0), 900, null)], { voucher: false });
    expect(choice.ok && choice.isVoucher).toBe(false);
  });

  it('passes over a backup of another kind of product than the main (voucher or top-up)', () => {
    const choice = choose([
      { ...selling(option(0)), variation: { price: 900, isActive: false } },
      selling(option(1, { brand: 'STEAM' }), 900, true),
      selling(option(2, { brand: 'MLBB2' }), 900, false),
    ]);
    expect(choice.ok && choice.option.choice).toBe('backup2');
    expect(choice.passedOver.map((p) => p.reason)).toEqual([
      { kind: 'variation-inactive' },
      { kind: 'other-kind', isVoucher: true },
    ]);
  });

  it("asks the forms only of a backup of another brand: the main's forms judge the account before", () => {
    const asked: string[] = [];
    const choice = choose(
      [
        { ...selling(option(0)), variation: undefined },
        { ...selling(option(1)), variation: { price: 900, isActive: false } },
        selling(option(2, { brand: 'OTHER' })),
        selling(option(3, { brand: 'THIRD' })),
      ],
      {
        formProblem: (o) => {
          asked.push(o.choice);
          return o.brand === 'OTHER' ? 'Server is required' : null;
        },
      },
    );
    expect(asked).toEqual(['backup2', 'backup3']);
    expect(choice.ok && choice.option.choice).toBe('backup3');
    expect(choice.passedOver.at(-1)?.reason).toEqual({ kind: 'form', problem: 'Server is required' });
  });

  it('says the choice as the purchase story tells it', () => {
    const choice = choose(
      [
        {
          ...selling(option(0, { variation: 'MLBB112', maxPrice: 16000 })),
          variation: { price: 15000, isActive: false },
        },
        selling(option(1, { variation: 'MLBB86', maxPrice: 21000 }), 20000),
      ],
      { balance: SELL },
    );
    if (!choice.ok) throw new Error('expected a choice');
    expect(choiceText(choice)).toBe(
      'sells through backup 1 MLBB/MLBB86 at 20000 IDR (max_price 21000); passed over: main MLBB/MLBB112: inactive at the supplier',
    );
    const main = choose([selling(option(0, { variation: 'MLBB112', maxPrice: 16000 }), 15000)]);
    if (!main.ok) throw new Error('expected a choice');
    expect(choiceText(main)).toBe('sells through main MLBB/MLBB112 at 15000 IDR (max_price 16000)');
  });

  it('names each reason in words', () => {
    const o = option(1, { variation: 'MLBB86', maxPrice: 21000 });
    const text = (reason: PassReason) => passedOverText([{ option: o, reason }])[0];
    expect(text({ kind: 'no-brand' })).toBe(
      "backup 1 MLBB/MLBB86: brand MLBB is not in the supplier's catalogue",
    );
    expect(text({ kind: 'no-variation' })).toBe(
      'backup 1 MLBB/MLBB86: no current supplier price: variation MLBB86 is not in the cached catalogue of brand MLBB',
    );
    expect(text({ kind: 'brand-inactive' })).toBe(
      'backup 1 MLBB/MLBB86: brand MLBB is inactive at the supplier',
    );
    expect(text({ kind: 'above-ceiling', price: 22000 })).toBe(
      'backup 1 MLBB/MLBB86: price 22000 IDR is above its max_price 21000',
    );
    expect(text({ kind: 'balance', price: 20000, available: 17000 })).toBe(
      'backup 1 MLBB/MLBB86: the supplier balance left after open purchases (17000 IDR) cannot pay its price (20000 IDR)',
    );
    expect(text({ kind: 'other-kind', isVoucher: false })).toBe(
      'backup 1 MLBB/MLBB86: a top-up, and the main is a voucher',
    );
  });

  it("refuses, when no option can sell, with the main's reason: the codes and messages init always had", () => {
    expect(refusalFor('D50', { kind: 'no-brand' })).toEqual({
      code: 'OOS',
      message: 'D50 has no current supplier price',
      reason: 'check',
    });
    expect(refusalFor('D50', { kind: 'no-variation' }).message).toBe('D50 has no current supplier price');
    expect(refusalFor('D50', { kind: 'brand-inactive' }).message).toBe(
      'D50 is not available from the supplier',
    );
    expect(refusalFor('D50', { kind: 'variation-inactive' }).message).toBe(
      'D50 is not available from the supplier',
    );
    expect(refusalFor('D50', { kind: 'above-ceiling', price: 2 }).message).toBe(
      'D50 costs more than its price ceiling',
    );
    expect(refusalFor('D50', { kind: 'kind-unknown' }).message).toBe(
      "D50 cannot be sold: neither the supplier's catalogue nor the mapping says whether it is a voucher (set voucher: true or false in the mapping)",
    );
    expect(refusalFor('D50', { kind: 'balance', price: 2, available: 1 })).toEqual({
      code: 'OOS',
      message:
        'D50 cannot be paid for now: the supplier balance is too low for it (the operator must top it up)',
      reason: 'balance',
    });
  });
});

const mappingOf = (yaml: string): Mapping => {
  const result = parseMapping(yaml, 'test.yaml');
  if (!result.ok) throw new Error(result.errors.join('\n'));
  return result.mapping;
};

const BACKED = mappingOf(`rates:
  USD: { idr: 16000, set: 2026-01-01 }
skus:
  D112:
    brand: MLBB
    variation: MLBB112
    max_price: 16000
    voucher: false
    revenue: { amount: '1.05', currency: USD }
    backups:
      - variation: MLBB86
        max_price: 21000
        revenue: { amount: '1.40', currency: USD }
      - brand: MLGLOBAL
        variation: MLG112
        max_price: 16500
  PLAIN:
    brand: MLBB
    variation: MLBB86
    max_price: 21000
    voucher: false
`);

const catalogueWith = (
  variations: Record<string, { price: number; isActive: boolean }>,
): CatalogueSnapshot => ({
  brands: new Map([
    ['MLBB', { isActive: true, isVoucher: false, forms: [] }],
    ['MLGLOBAL', { isActive: true, isVoucher: false, forms: [] }],
  ]),
  variations: new Map(
    ['MLBB', 'MLGLOBAL'].map((brand) => [
      brand,
      new Map(
        Object.entries(variations)
          .filter(([key]) => key.startsWith(`${brand}/`))
          .map(([key, v]) => [key.slice(brand.length + 1), { name: key, ...v }]),
      ),
    ]),
  ),
});

describe('the options of a SKU', () => {
  it('are its main, then each backup in order, a backup earning its own revenue or else the SKU’s', () => {
    const entry = BACKED.skus.get('D112');
    if (!entry) throw new Error('no D112');
    const options = optionsOf(entry);
    expect(options.map((o) => [o.choice, o.brand, o.variation, o.maxPrice, o.revenue?.idr])).toEqual([
      ['main', 'MLBB', 'MLBB112', 16000, 16800],
      ['backup1', 'MLBB', 'MLBB86', 21000, 22400],
      ['backup2', 'MLGLOBAL', 'MLG112', 16500, 16800],
    ]);
  });
});

describe('checkMapping with backups', () => {
  const ALL_ACTIVE = {
    'MLBB/MLBB112': { price: 15000, isActive: true },
    'MLBB/MLBB86': { price: 20000, isActive: true },
    'MLGLOBAL/MLG112': { price: 15500, isActive: true },
  };

  it('shows each SKU selling through its main while it can, every backup checked in its own row', () => {
    const check = checkMapping(BACKED, catalogueWith(ALL_ACTIVE));
    expect(check.problems).toEqual([]);
    expect(check.warnings).toEqual([]);
    const row = check.rows[0];
    expect(row?.sellsThrough).toEqual({
      choice: 'main',
      brand: 'MLBB',
      variation: 'MLBB112',
      price: 15000,
      maxPrice: 16000,
    });
    expect(row?.backups).toEqual([
      {
        choice: 'backup1',
        brand: 'MLBB',
        variation: 'MLBB86',
        price: 20000,
        maxPrice: 21000,
        margin: 1000,
        marginPercent: 4.8,
        active: true,
        problems: [],
      },
      expect.objectContaining({ choice: 'backup2', brand: 'MLGLOBAL', variation: 'MLG112', margin: 1000 }),
    ]);
    expect(check.rows[1]).toMatchObject({ sku: 'PLAIN', sellsThrough: { choice: 'main' }, backups: [] });
  });

  it('sells through a backup when the main is inactive: its problems warn, they do not fail the check', () => {
    const check = checkMapping(
      BACKED,
      catalogueWith({ ...ALL_ACTIVE, 'MLBB/MLBB112': { price: 15000, isActive: false } }),
    );
    expect(check.rows[0]?.sellsThrough).toMatchObject({
      choice: 'backup1',
      variation: 'MLBB86',
      price: 20000,
    });
    expect(check.rows[0]?.passedOver).toEqual(['main MLBB/MLBB112: inactive at the supplier']);
    expect(check.problems).toEqual([]);
    expect(check.warnings).toEqual([
      'SKU D112: main MLBB/MLBB112: variation MLBB112 of brand MLBB is inactive',
    ]);
  });

  it('fails the check, naming every option, when none can sell', () => {
    const check = checkMapping(
      BACKED,
      catalogueWith({
        'MLBB/MLBB112': { price: 17000, isActive: true },
        'MLBB/MLBB86': { price: 20000, isActive: false },
      }),
    );
    expect(check.rows[0]?.sellsThrough).toBeNull();
    expect(check.rows[0]?.passedOver).toEqual([
      'main MLBB/MLBB112: price 17000 IDR is above its max_price 16000',
      'backup 1 MLBB/MLBB86: inactive at the supplier',
      'backup 2 MLGLOBAL/MLG112: no current supplier price: variation MLG112 is not in the cached catalogue of brand MLGLOBAL',
    ]);
    expect(check.problems).toEqual([
      'SKU D112: main MLBB/MLBB112: price 17000 is above max_price 16000 (margin -1000)',
      'SKU D112: backup 1 MLBB/MLBB86: variation MLBB86 of brand MLBB is inactive',
      'SKU D112: backup 2 MLGLOBAL/MLG112: variation MLG112 not found in brand MLGLOBAL',
      // PLAIN sells MLBB86 alone, inactive here: said as it always was.
      'SKU PLAIN: variation MLBB86 of brand MLBB is inactive',
    ]);
    expect(check.warnings).toEqual([]);
  });

  it('chooses with the balance where it is given: a cheaper backup when the main cannot be paid', () => {
    const balance = (price: number): BalanceVerdict =>
      price > 17000 ? { kind: 'refuse', available: 17000 } : { kind: 'sell' };
    const check = checkMapping(
      BACKED,
      catalogueWith({ ...ALL_ACTIVE, 'MLBB/MLBB112': { price: 15000, isActive: false } }),
      balance,
    );
    expect(check.rows[0]?.sellsThrough).toMatchObject({ choice: 'backup2', brand: 'MLGLOBAL' });
    expect(check.rows[0]?.passedOver).toEqual([
      'main MLBB/MLBB112: inactive at the supplier',
      'backup 1 MLBB/MLBB86: the supplier balance left after open purchases (17000 IDR) cannot pay its price (20000 IDR)',
    ]);
    // PLAIN cannot be paid at all: it sells through nothing, and the mapping is not at fault.
    expect(check.rows[1]).toMatchObject({ sellsThrough: null, problems: [] });
    expect(check.problems).toEqual([]);
  });

  it('says a backup of another kind of product than the main is never chosen', () => {
    const mapping = mappingOf(`skus:
  D112:
    brand: MLBB
    variation: MLBB112
    max_price: 16000
    backups: [{ brand: STEAM, variation: S1, max_price: 16000 }]
`);
    const check = checkMapping(mapping, {
      brands: new Map([
        ['MLBB', { isActive: true, isVoucher: false, forms: [] }],
        ['STEAM', { isActive: true, isVoucher: true, forms: [] }],
      ]),
      variations: new Map([
        ['MLBB', new Map([['MLBB112', { name: '', price: 15000, isActive: true }]])],
        ['STEAM', new Map([['S1', { name: '', price: 15000, isActive: true }]])],
      ]),
    });
    expect(check.warnings).toEqual([
      'SKU D112: backup 1 STEAM/S1: a voucher, and the main is a top-up: never chosen',
    ]);
  });
});

describe('metrics: the variation each SKU sells through', () => {
  const metricsWith = (rows: (() => SkuSelling[]) | null) =>
    createMetrics({
      logger: createLogger('silent'),
      counts: async () => ({ byState: {}, attention: 0 }) as never,
      oldestOpen: async () => ({}) as never,
      balance: () => null,
      lowBalanceThreshold: null,
      catalogueAgeSeconds: () => null,
      rateLimitWaiting: () => ({ order: 0, query: 0 }),
      defaultMetrics: false,
      ...(rows ? { sellingVariations: async () => rows() } : {}),
    });
  const lines = async (m: ReturnType<typeof createMetrics>) =>
    (await m.render()).body.split('\n').filter((l) => l.startsWith('gateway_sku_'));

  it('gives one series per SKU on the option it sells through, and a 0 for a SKU none can sell', async () => {
    let rows: SkuSelling[] = [
      { sku: 'D112', sellsThrough: { choice: 'backup1', brand: 'MLBB', variation: 'MLBB86' } },
      { sku: 'PLAIN', sellsThrough: null },
    ];
    const m = metricsWith(() => rows);
    expect(await lines(m)).toEqual([
      'gateway_sku_selling_variation{sku="D112",brand="MLBB",variation="MLBB86",choice="backup1"} 1',
      'gateway_sku_can_sell{sku="D112"} 1',
      'gateway_sku_can_sell{sku="PLAIN"} 0',
    ]);
    // The main sells again: the backup's series is gone at the next scrape.
    rows = [{ sku: 'D112', sellsThrough: { choice: 'main', brand: 'MLBB', variation: 'MLBB112' } }];
    expect(await lines(m)).toEqual([
      'gateway_sku_selling_variation{sku="D112",brand="MLBB",variation="MLBB112",choice="main"} 1',
      'gateway_sku_can_sell{sku="D112"} 1',
    ]);
  });

  it('shows nothing of it without a source, and keeps the last values when the source fails', async () => {
    expect((await metricsWith(null).render()).body).not.toMatch(/gateway_sku_/);
    let fail = false;
    const m = metricsWith(() => {
      if (fail) throw new Error('store down');
      return [{ sku: 'D112', sellsThrough: null }];
    });
    expect(await lines(m)).toEqual(['gateway_sku_can_sell{sku="D112"} 0']);
    fail = true;
    expect(await lines(m)).toEqual(['gateway_sku_can_sell{sku="D112"} 0']);
  });
});
