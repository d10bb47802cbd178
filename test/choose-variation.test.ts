import { describe, expect, it } from 'vitest';
import { createMetrics, type SkuSelling } from '../src/admin/metrics.js';
import { type Mapping, parseMapping } from '../src/config/mapping.js';
import type { CachedBrand, CachedVariation } from '../src/db/types.js';
import type { BalanceVerdict } from '../src/fulfilment/balance-guard.js';
import {
  type ChoiceInput,
  choiceText,
  chooseVariation,
  formProblem,
  type OptionState,
  optionsOf,
  type PassReason,
  passedOverText,
  refusalFor,
  refusalOf,
  skuKind,
  type VariationOption,
} from '../src/fulfilment/choose-variation.js';
import { type CatalogueSnapshot, checkMapping } from '../src/fulfilment/mapping-check.js';
import { checkPurchase } from '../src/fulfilment/purchase-checks.js';
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

/**
 * The variants of one option's catalogue state: `early`, the reason it is passed over before its
 * kind is judged (null: none); `kind`, its brand's is_voucher (undefined: no brand); `balance`,
 * whether the balance guard in these tests cannot pay it.
 */
const VARIANTS: {
  name: string;
  state: (o: VariationOption) => OptionState;
  early: PassReason['kind'] | null;
  kind: boolean | null | undefined;
  balance?: true;
}[] = [
  {
    name: 'no brand',
    state: (o) => ({ option: o, brand: undefined, variation: undefined }),
    early: 'no-brand',
    kind: undefined,
  },
  {
    name: 'no variation',
    state: (o) => ({ ...selling(o), variation: undefined }),
    early: 'no-variation',
    kind: false,
  },
  {
    name: 'brand inactive',
    state: (o) => ({ ...selling(o), brand: { isActive: false, isVoucher: false, forms: [] } }),
    early: 'brand-inactive',
    kind: false,
  },
  {
    name: 'variation inactive',
    state: (o) => ({ ...selling(o), variation: { price: 900, isActive: false } }),
    early: 'variation-inactive',
    kind: false,
  },
  { name: 'above its ceiling', state: (o) => selling(o, 1001), early: 'above-ceiling', kind: false },
  { name: 'kind unknown', state: (o) => selling(o, 900, null), early: null, kind: null },
  { name: 'a voucher', state: (o) => selling(o, 900, true), early: null, kind: true },
  // 777: a price the balance guard in these tests cannot pay.
  { name: 'beyond the balance', state: (o) => selling(o, 777), early: null, kind: false, balance: true },
  { name: 'selling', state: (o) => selling(o), early: null, kind: false },
];

type Variant = (typeof VARIANTS)[number];

/** "Either one saying voucher makes it one": the main's rule, written out again. */
const either = (a: boolean | null, b: boolean | null): boolean | null =>
  a === true || b === true ? true : a === false || b === false ? false : null;

/**
 * What the rule says of an option: why it is passed over (null: it sells) and, selling, its kind.
 * The SKU's kind is the main's (the mapping flag and the main brand's is_voucher); while the main
 * brand is missing only `voucher: true` decides it. A backup sells only what the SKU sells, and
 * only when its own brand's is_voucher shows it.
 */
function expected(
  v: Variant,
  rank: number,
  main: Variant,
  flag: boolean | null,
): { reason: PassReason['kind'] | null; isVoucher: boolean | null } {
  const sku = main.kind === undefined ? (flag === true ? true : null) : either(flag, main.kind);
  if (v.early) return { reason: v.early, isVoucher: null };
  let isVoucher: boolean | null;
  if (rank === 0) {
    isVoucher = either(flag, v.kind ?? null);
    if (isVoucher === null) return { reason: 'kind-unknown', isVoucher };
  } else {
    if (sku === null) return { reason: 'sku-kind-unknown', isVoucher: null };
    if (v.kind === null) return { reason: 'backup-kind-unknown', isVoucher: null };
    if (v.kind !== sku) return { reason: 'other-kind', isVoucher: null };
    isVoucher = sku;
  }
  return { reason: v.balance ? 'balance' : null, isVoucher };
}

const BALANCE = (price: number): BalanceVerdict =>
  price === 777 ? { kind: 'refuse', available: 700 } : { kind: 'sell' };

describe('chooseVariation', () => {
  it('picks the first option that can sell, naming why each before it was passed over: every combination of three, with each voucher flag', () => {
    let combinations = 0;
    for (const flag of [null, true, false])
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
                voucher: flag,
                balance: (price) => {
                  asked.push(price);
                  return BALANCE(price);
                },
              },
            );
            const rule = variants.map((v, i) => expected(v, i, a, flag));
            const first = rule.findIndex((r) => r.reason === null);
            const what = `voucher ${flag}: ${variants.map((v) => v.name).join(', ')}`;
            if (first < 0) {
              expect(choice.ok, what).toBe(false);
              expect(
                choice.passedOver.map((p) => p.reason.kind),
                what,
              ).toEqual(rule.map((r) => r.reason));
            } else {
              expect(choice.ok && [choice.option.choice, choice.isVoucher], what).toEqual([
                options[first]?.choice,
                rule[first]?.isVoucher,
              ]);
              expect(
                choice.passedOver.map((p) => [p.option.choice, p.reason.kind]),
                what,
              ).toEqual(rule.slice(0, first).map((r, i) => [options[i]?.choice, r.reason]));
            }
            // The balance is asked last, of options that passed every other check, and of none after the choice.
            const reached = first < 0 ? rule : rule.slice(0, first + 1);
            expect(asked.length, what).toBe(
              reached.filter((r) => r.reason === 'balance' || r.reason === null).length,
            );
          }
    expect(combinations).toBe(3 * VARIANTS.length ** 3);
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

  it('passes over a backup of another kind of product than the SKU (voucher or top-up)', () => {
    const choice = choose([
      { ...selling(option(0)), variation: { price: 900, isActive: false } },
      selling(option(1, { brand: 'STEAM' }), 900, true),
      selling(option(2, { brand: 'MLBB2' }), 900, false),
    ]);
    expect(choice.ok && choice.option.choice).toBe('backup2');
    expect(choice.passedOver.map((p) => p.reason)).toEqual([
      { kind: 'variation-inactive' },
      { kind: 'other-kind', isVoucher: true, said: 'as the catalogue says of brand MLBB' },
    ]);
  });

  // Review of issue 24 §4: a backup of the wrong kind was sold (a top-up SKU answered 200 with a
  // voucher code, or a voucher SKU ordered as a top-up that never brings a code).
  const MISSING_MAIN: OptionState = { option: option(0), brand: undefined, variation: undefined };
  const VOUCHER_BACKUP = selling(option(1, { brand: 'STEAM' }), 900, true);
  const TOPUP_BACKUP = selling(option(1, { brand: 'MLBB2' }), 900, false);

  it('chooses no backup while the main brand is missing and the mapping does not say voucher: true', () => {
    // The main, MLBB, a top-up brand, gone from the brand list (delisted, or left out of a reply).
    expect(choose([MISSING_MAIN, VOUCHER_BACKUP])).toEqual({
      ok: false,
      passedOver: [
        { option: option(0), reason: { kind: 'no-brand' } },
        {
          option: VOUCHER_BACKUP.option,
          reason: {
            kind: 'sku-kind-unknown',
            why: 'brand MLBB of the main is not in the catalogue, and the mapping does not set voucher:',
          },
        },
      ],
    });
    // voucher: false does not settle it: the main brand's is_voucher, unknown now, could make it a voucher.
    const topUp = choose([MISSING_MAIN, TOPUP_BACKUP], { voucher: false });
    expect(topUp.ok).toBe(false);
    expect(topUp.passedOver[1]?.reason).toEqual({
      kind: 'sku-kind-unknown',
      why: "brand MLBB of the main is not in the catalogue, and voucher: false in the mapping does not settle it (the brand's is_voucher may make it a voucher)",
    });
    // voucher: true does: a voucher backup sells as a voucher, a top-up one never.
    expect(choose([MISSING_MAIN, VOUCHER_BACKUP], { voucher: true })).toMatchObject({
      ok: true,
      option: { choice: 'backup1' },
      isVoucher: true,
    });
    expect(choose([MISSING_MAIN, TOPUP_BACKUP], { voucher: true }).passedOver[1]?.reason).toEqual({
      kind: 'other-kind',
      isVoucher: false,
      said: 'as voucher: true in the mapping says',
    });
  });

  it("judges a backup by its own catalogue entry, never by the mapping's voucher flag", () => {
    // A voucher SKU (voucher: true, the main brand silent): a backup the catalogue calls a top-up
    // would be ordered as a voucher and never bring a code.
    const main = {
      ...selling(option(0, { brand: 'GIFT' }), 900, null),
      variation: { price: 900, isActive: false },
    };
    const choice = choose([main, TOPUP_BACKUP], { voucher: true });
    expect(choice.ok).toBe(false);
    expect(passedOverText(choice.passedOver)[1]).toBe(
      'backup 1 MLBB2/V1: a top-up in the catalogue, and the SKU is a voucher, as voucher: true in the mapping says',
    );
    // A backup whose catalogue does not say is not chosen either, whatever the mapping says.
    const silent = selling(option(1, { brand: 'MLBB2' }), 900, null);
    for (const voucher of [true, false]) {
      const c = choose([{ ...selling(option(0), 900, voucher), variation: undefined }, silent], { voucher });
      expect(c.ok).toBe(false);
      expect(c.passedOver[1]?.reason).toEqual({ kind: 'backup-kind-unknown', skuIsVoucher: voucher });
    }
    // The same backup showing the SKU's kind sells, as that kind.
    const same = choose([main, selling(option(1, { brand: 'MLBB2' }), 900, true)], { voucher: true });
    expect(same).toMatchObject({ ok: true, option: { choice: 'backup1' }, isVoucher: true });
  });

  it("decides the SKU's kind as isVoucherProduct decides the main's, and says who says it", () => {
    const brand = (isVoucher: boolean | null) => ({ isVoucher });
    expect(skuKind(null, 'MLBB', brand(false))).toEqual({
      isVoucher: false,
      said: 'as the catalogue says of brand MLBB',
    });
    expect(skuKind(true, 'MLBB', brand(false))).toEqual({
      isVoucher: true,
      said: 'as voucher: true in the mapping says',
    });
    expect(skuKind(false, 'MLBB', brand(true))).toEqual({
      isVoucher: true,
      said: 'as the catalogue says of brand MLBB',
    });
    expect(skuKind(true, 'MLBB', brand(true))).toEqual({
      isVoucher: true,
      said: "as the mapping and the catalogue's brand MLBB say",
    });
    expect(skuKind(false, 'MLBB', brand(null))).toEqual({
      isVoucher: false,
      said: 'as voucher: false in the mapping says',
    });
    expect(skuKind(null, 'MLBB', brand(null))).toEqual({
      isVoucher: null,
      said: 'neither the catalogue (brand MLBB) nor the mapping says whether the main is a voucher',
    });
    expect(skuKind(true, 'MLBB', undefined).isVoucher).toBe(true);
    expect(skuKind(false, 'MLBB', undefined).isVoucher).toBeNull();
    expect(skuKind(null, 'MLBB', undefined).isVoucher).toBeNull();
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
    expect(text({ kind: 'other-kind', isVoucher: false, said: 'as the catalogue says of brand MLBB' })).toBe(
      'backup 1 MLBB/MLBB86: a top-up in the catalogue, and the SKU is a voucher, as the catalogue says of brand MLBB',
    );
    expect(text({ kind: 'backup-kind-unknown', skuIsVoucher: false })).toBe(
      "backup 1 MLBB/MLBB86: the catalogue does not say whether brand MLBB is a voucher, and a backup sells only when its own catalogue entry shows the SKU's kind (top-up)",
    );
    expect(text({ kind: 'sku-kind-unknown', why: 'the reason' })).toBe(
      "backup 1 MLBB/MLBB86: no backup is chosen while the SKU's kind (voucher or top-up) is unknown: the reason",
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

  it('refuses as the balance guard does when the balance stopped every option that could otherwise sell', () => {
    const main = { option: option(0), reason: { kind: 'variation-inactive' } } as const;
    const poor = { option: option(1), reason: { kind: 'balance', price: 900, available: 700 } } as const;
    const dear = { option: option(2), reason: { kind: 'above-ceiling', price: 1001 } } as const;
    const BALANCE_REFUSAL = {
      code: 'OOS',
      message:
        'D50 cannot be paid for now: the supplier balance is too low for it (the operator must top it up)',
      reason: 'balance',
    };
    // The main inactive, a backup beyond the balance: the balance is what stops the sale.
    expect(refusalOf('D50', [main, poor])).toEqual(BALANCE_REFUSAL);
    expect(refusalOf('D50', [main, dear, poor])).toEqual(BALANCE_REFUSAL);
    // No option passed all but the balance: the main's reason, as before.
    expect(refusalOf('D50', [main, dear])).toEqual({
      code: 'OOS',
      message: 'D50 is not available from the supplier',
      reason: 'check',
    });
    expect(refusalOf('D50', [dear])).toEqual(refusalFor('D50', dear.reason));
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

  /** D112 on MLBB/MLBB112 (voucher flag `voucher`), backup 1 STEAM/S1; the catalogue as given. */
  const kindCheck = (voucher: string, brands: [string, boolean | null][], mainActive = true) =>
    checkMapping(
      mappingOf(`skus:
  D112:
    brand: MLBB
    variation: MLBB112
    max_price: 16000
${voucher}
    backups: [{ brand: STEAM, variation: S1, max_price: 16000 }]
`),
      {
        brands: new Map(brands.map(([key, isVoucher]) => [key, { isActive: true, isVoucher, forms: [] }])),
        variations: new Map([
          ['MLBB', new Map([['MLBB112', { name: '', price: 15000, isActive: mainActive }]])],
          ['STEAM', new Map([['S1', { name: '', price: 15000, isActive: true }]])],
        ]),
      },
    );

  it('fails the check on a backup of another kind of product than the SKU, saying who says which', () => {
    const check = kindCheck('', [
      ['MLBB', false],
      ['STEAM', true],
    ]);
    expect(check.rows[0]?.sellsThrough).toMatchObject({ choice: 'main' });
    expect(check.problems).toEqual([
      'SKU D112: backup 1 STEAM/S1: never chosen: a voucher in the catalogue, and the SKU is a top-up, as the catalogue says of brand MLBB',
    ]);
    expect(check.warnings).toEqual([]);
    // A voucher SKU by its mapping flag, the main brand silent: the flag never makes a top-up backup a voucher.
    const flagged = kindCheck(
      '    voucher: true',
      [
        ['MLBB', null],
        ['STEAM', false],
      ],
      false,
    );
    expect(flagged.rows[0]?.sellsThrough).toBeNull();
    expect(flagged.problems).toContain(
      'SKU D112: backup 1 STEAM/S1: never chosen: a top-up in the catalogue, and the SKU is a voucher, as voucher: true in the mapping says',
    );
    // A backup whose catalogue does not say.
    expect(
      kindCheck('', [
        ['MLBB', false],
        ['STEAM', null],
      ]).problems,
    ).toEqual([
      "SKU D112: backup 1 STEAM/S1: never chosen: the catalogue does not say whether brand STEAM is a voucher, and a backup sells only when its own catalogue entry shows the SKU's kind (top-up)",
    ]);
  });

  it('chooses no backup, and says why, while the main brand is missing and the SKU kind cannot be decided', () => {
    // The review's case: MLBB left out of the brand list, a voucher backup of a top-up SKU.
    const check = kindCheck('', [['STEAM', true]]);
    expect(check.rows[0]?.sellsThrough).toBeNull();
    expect(check.problems).toEqual([
      'SKU D112: main MLBB/MLBB112: brand MLBB not found in the catalogue',
      "SKU D112: backup 1 STEAM/S1: no backup is chosen while the SKU's kind (voucher or top-up) is unknown: brand MLBB of the main is not in the catalogue, and the mapping does not set voucher:",
    ]);
    // voucher: true decides it: the voucher backup sells, and the main's missing brand still fails the check.
    const voucher = kindCheck('    voucher: true', [['STEAM', true]]);
    expect(voucher.rows[0]?.sellsThrough).toMatchObject({ choice: 'backup1' });
    expect(voucher.problems).toEqual(['SKU D112: main MLBB/MLBB112: brand MLBB not found in the catalogue']);
  });

  it('fails the check on an option not found in the catalogue even while another one sells: a typo sells through a dearer backup for good', () => {
    const ALL = {
      'MLBB/MLBB112': { price: 15000, isActive: true },
      'MLBB/MLBB86': { price: 20000, isActive: true },
      'MLGLOBAL/MLG112': { price: 15500, isActive: true },
    };
    // The main's variation mistyped (not in the catalogue): D112 sells through backup 1.
    const { 'MLBB/MLBB112': _, ...noMain } = ALL;
    const typo = checkMapping(BACKED, catalogueWith(noMain));
    expect(typo.rows[0]?.sellsThrough).toMatchObject({ choice: 'backup1' });
    expect(typo.problems).toEqual(['SKU D112: main MLBB/MLBB112: variation MLBB112 not found in brand MLBB']);
    expect(typo.warnings).toEqual([]);
    // A backup's variation, or its brand, not found while the main sells.
    const { 'MLGLOBAL/MLG112': __, ...noBackup } = ALL;
    expect(checkMapping(BACKED, catalogueWith(noBackup)).problems).toEqual([
      'SKU D112: backup 2 MLGLOBAL/MLG112: variation MLG112 not found in brand MLGLOBAL',
    ]);
    const noBrand = catalogueWith(ALL);
    const brands = new Map(noBrand.brands);
    brands.delete('MLGLOBAL');
    expect(checkMapping(BACKED, { ...noBrand, brands }).problems).toEqual([
      'SKU D112: backup 2 MLGLOBAL/MLG112: brand MLGLOBAL not found in the catalogue',
    ]);
    // Inactive or above its ceiling, the main only warns while a backup sells: what backups are for.
    const dear = checkMapping(
      BACKED,
      catalogueWith({ ...ALL, 'MLBB/MLBB112': { price: 17000, isActive: true } }),
    );
    expect(dear.problems).toEqual([]);
    expect(dear.warnings).toEqual([
      'SKU D112: main MLBB/MLBB112: price 17000 is above max_price 16000 (margin -1000)',
    ]);
  });
});

describe("init's choice: a SKU's backups are looked up only when its main cannot sell", () => {
  const entryOf = (voucher: string) => {
    const entry = mappingOf(`skus:
  D:
    brand: B0
    variation: V0
    max_price: 1000
    form: { user_id: '{accountId}' }
${voucher}
    backups:
      - { brand: B1, variation: V1, max_price: 1000 }
      - { brand: B2, variation: V2, max_price: 1000 }
`).skus.get('D');
    if (!entry) throw new Error('no D');
    return entry;
  };

  it('decides as judging every option at once would, in every combination, with no backup read while the main sells', async () => {
    let combinations = 0;
    for (const voucher of ['', '    voucher: true']) {
      const entry = entryOf(voucher);
      const options = optionsOf(entry);
      for (const a of VARIANTS)
        for (const b of VARIANTS)
          for (const c of VARIANTS) {
            combinations++;
            const what = `${voucher || 'no flag'}: ${[a, b, c].map((v) => v.name).join(', ')}`;
            const states = [a, b, c].map((v, i) => v.state(options[i] as VariationOption));
            const looked: string[] = [];
            const result = await checkPurchase(
              { sku: 'D', accountId: '123' },
              {
                entry,
                catalogue: async (brandKey, variationKey) => {
                  looked.push(`${brandKey}/${variationKey}`);
                  const state = states.find(
                    (st) => st.option.brand === brandKey && st.option.variation === variationKey,
                  );
                  return {
                    brand: state?.brand as CachedBrand | undefined,
                    variation: state?.variation as CachedVariation | undefined,
                  };
                },
                recentPurchases: async () => 0,
              },
            );
            // The rule over every option, read at once.
            const all = (balance: (price: number) => BalanceVerdict) =>
              chooseVariation({
                states,
                voucher: entry.voucher,
                formProblem: (_o, forms) => formProblem([{ key: 'user_id', value: '123' }], forms),
                balance,
              });
            const unjudged = all(() => ({ kind: 'unknown' }));
            if (unjudged.ok) {
              expect(result.ok && result.choice, what).toEqual(unjudged);
            } else {
              expect(result.ok ? result : result.message, what).toBe(
                refusalOf('D', unjudged.passedOver).message,
              );
            }
            const mainSells = unjudged.ok && unjudged.option.rank === 0;
            expect(looked, what).toEqual(mainSells ? ['B0/V0'] : ['B0/V0', 'B1/V1', 'B2/V2']);
            if (!result.ok) continue;
            // Again with the balance guard's verdicts: the backups read then if the main cannot be paid, once.
            expect(await result.choose(BALANCE), what).toEqual(all(BALANCE));
            expect(await result.choose(BALANCE), what).toEqual(all(BALANCE));
            const guarded = all(BALANCE);
            expect(looked, what).toEqual(
              guarded.ok && guarded.option.rank === 0 ? ['B0/V0'] : ['B0/V0', 'B1/V1', 'B2/V2'],
            );
          }
    }
    expect(combinations).toBe(2 * VARIANTS.length ** 3);
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
