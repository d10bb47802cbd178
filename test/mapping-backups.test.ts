import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/run.js';
import { lossWarnings, parseMapping } from '../src/config/mapping.js';
import { REQUIRED_ENV } from './helpers/env.js';
import { EXAMPLE_MAPPING, exampleMapping } from './helpers/mapping.js';
import { tempDir } from './helpers/storage.js';

// Issue 24 §4: a SKU's backup variations in the mapping file, and how a wrong one is reported:
// file, line, SKU, backup, field and reason, every problem of the file at once.

const FILE = 'config/mapping.yaml';

const RATES = 'rates:\n  USD: { idr: 16000, set: 2026-01-01 }\n';

/** One SKU, DIAMOND50 on MLBB/MLBB112 (line 5 is max_price), with `backups` lines (line 6 on). */
const withBackups = (backups: string, extra = '') =>
  `skus:\n  DIAMOND50:\n    brand: MLBB\n    variation: MLBB112\n    max_price: 16000\n${backups
    .split('\n')
    .filter(Boolean)
    .map((l) => `    ${l}`)
    .join('\n')}\n${extra}`;

const parsed = (text: string) => {
  const result = parseMapping(text, FILE);
  if (!result.ok) throw new Error(result.errors.join('\n'));
  return result.mapping;
};

const errorsOf = (text: string) => {
  const result = parseMapping(text, FILE);
  if (result.ok) throw new Error('expected the mapping to be refused');
  return result.errors;
};

describe('mapping file: backups', () => {
  it("reads backups in order, each with its ceiling, the main's brand and the SKU's revenue unless it says its own", () => {
    const mapping = parsed(
      withBackups(
        [
          "revenue: { amount: '1.05', currency: USD }",
          'backups:',
          '  - variation: MLBB112B',
          '    max_price: 16500',
          '  - brand: MLBB_GLOBAL',
          '    variation: MLG112',
          '    max_price: 17000',
          "    revenue: { amount: '1.10', currency: USD }",
        ].join('\n'),
        RATES,
      ),
    );
    expect(mapping.skus.get('DIAMOND50')?.backups).toEqual([
      {
        brand: 'MLBB',
        variation: 'MLBB112B',
        maxPrice: 16500,
        revenue: {
          amountMinor: 105,
          currency: 'USD',
          rateE6: 16_000_000_000,
          rateSet: '2026-01-01',
          idr: 16800,
        },
      },
      {
        brand: 'MLBB_GLOBAL',
        variation: 'MLG112',
        maxPrice: 17000,
        revenue: {
          amountMinor: 110,
          currency: 'USD',
          rateE6: 16_000_000_000,
          rateSet: '2026-01-01',
          idr: 17600,
        },
      },
    ]);
  });

  it('gives a SKU without backups an empty list, as it does one with `backups: []`', () => {
    expect(parsed(withBackups('')).skus.get('DIAMOND50')?.backups).toEqual([]);
    expect(parsed(withBackups('backups: []')).skus.get('DIAMOND50')?.backups).toEqual([]);
    expect([...exampleMapping().skus.values()].map((s) => s.backups)).toEqual([[], [], []]);
  });

  it('allows a backup of another brand, and the same variation key under another brand', () => {
    const mapping = parsed(
      withBackups('backups: [{ brand: MLBB_GLOBAL, variation: MLBB112, max_price: 17000 }]'),
    );
    expect(mapping.skus.get('DIAMOND50')?.backups[0]).toMatchObject({
      brand: 'MLBB_GLOBAL',
      variation: 'MLBB112',
    });
  });

  it.each([
    [
      'a backup equal to the main',
      withBackups('backups:\n  - variation: MLBB112\n    max_price: 17000'),
      [
        `${FILE}:7: sku DIAMOND50, backup 1, field variation: MLBB/MLBB112 is the main variation: a backup is another supplier product`,
      ],
    ],
    [
      'a backup equal to the main, its brand spelt out',
      withBackups('backups:\n  - brand: MLBB\n    variation: MLBB112\n    max_price: 17000'),
      [
        `${FILE}:8: sku DIAMOND50, backup 1, field variation: MLBB/MLBB112 is the main variation: a backup is another supplier product`,
      ],
    ],
    [
      'a backup listed twice',
      withBackups(
        'backups:\n  - variation: MLBB86\n    max_price: 21000\n  - brand: MLBB\n    variation: MLBB86\n    max_price: 22000',
      ),
      [
        `${FILE}:10: sku DIAMOND50, backup 2, field variation: MLBB/MLBB86 is already backup 1: list each backup once`,
      ],
    ],
    [
      'a backup without max_price',
      withBackups('backups:\n  - variation: MLBB86'),
      [
        `${FILE}:7: sku DIAMOND50, backup 1, field max_price: is required: each backup has its own price ceiling (IDR)`,
      ],
    ],
    [
      'a backup with a ceiling that is no price',
      withBackups('backups:\n  - variation: MLBB86\n    max_price: 0'),
      [`${FILE}:8: sku DIAMOND50, backup 1, field max_price: must be greater than 0 (IDR), got 0`],
    ],
    [
      'a backup revenue in a currency without a rate',
      withBackups(
        "backups:\n  - variation: MLBB86\n    max_price: 21000\n    revenue: { amount: '1.30', currency: EUR }",
        RATES,
      ),
      [
        `${FILE}:9: sku DIAMOND50, backup 1, field revenue.currency: no rate for EUR: add one to the top-level rates:, such as rates: { EUR: { idr: <IDR per EUR>, set: <YYYY-MM-DD> } }`,
      ],
    ],
    [
      'a misspelt field of a backup',
      withBackups('backups:\n  - variation: MLBB86\n    max_prise: 21000'),
      [
        `${FILE}:7: sku DIAMOND50, backup 1, field max_price: is required: each backup has its own price ceiling (IDR)`,
        `${FILE}:8: sku DIAMOND50, backup 1, field max_prise: unknown field 'max_prise'`,
      ],
    ],
    [
      'backups that are not a list',
      withBackups('backups: { variation: MLBB86, max_price: 21000 }'),
      [
        `${FILE}:6: sku DIAMOND50, field backups: must be a list of backup variations, such as [{ variation: MLBB86, max_price: 21000 }]`,
      ],
    ],
    [
      'a backup that is no map',
      withBackups('backups: [MLBB86]'),
      [`${FILE}:6: sku DIAMOND50, backup 1: must be a map such as { variation: MLBB86, max_price: 21000 }`],
    ],
    [
      'more than five backups',
      withBackups(
        `backups:\n${[1, 2, 3, 4, 5, 6].map((i) => `  - { variation: V${i}, max_price: 100 }`).join('\n')}`,
      ),
      [`${FILE}:6: sku DIAMOND50, field backups: lists at most 5 backups`],
    ],
  ])('refuses %s with file, line, SKU, backup, field and reason', (_name, text, errors) => {
    expect(errorsOf(text)).toEqual(errors);
  });

  it('reports every problem of the backups in one run, with the rest of the file', () => {
    const errors = errorsOf(
      withBackups(
        [
          'max_prise: 1',
          'backups:',
          '  - variation: MLBB112',
          '  - variation: MLBB86',
          '    max_price: 21000',
          '    revenue: { amount: 1, currency: GBP }',
          '  - { variation: MLBB86, max_price: 21000 }',
        ].join('\n'),
      ),
    );
    expect(errors).toHaveLength(5);
    expect(errors.join('\n')).toMatch(/field max_prise: unknown field/);
    expect(errors.join('\n')).toMatch(/backup 1, field max_price: is required/);
    expect(errors.join('\n')).toMatch(/backup 1, field variation: MLBB\/MLBB112 is the main variation/);
    expect(errors.join('\n')).toMatch(/backup 3, field variation: MLBB\/MLBB86 is already backup 2/);
    expect(errors.join('\n')).toMatch(/backup 2, field revenue.currency: no rate for GBP/);
  });

  it("keeps the example's backups valid: its commented block loads once uncommented", () => {
    const example = readFileSync(EXAMPLE_MAPPING, 'utf8');
    const uncommented = example.replace(/^ {4}# (backups:| {2}.*)$/gm, '    $1');
    expect(uncommented).not.toBe(example);
    const backups = parsed(uncommented).skus.get('DIAMOND50')?.backups;
    expect(backups?.map((b) => [b.brand, b.variation, b.maxPrice, b.revenue?.currency])).toEqual([
      ['MLBB', 'MLBB112B', 16500, 'USD'],
      ['MLBB_GLOBAL', 'MLG112', 17000, 'USD'],
    ]);
  });
});

describe('gateway check: a max_price above what a sale earns', () => {
  // At 16,000 IDR per USD: 1.05 USD is 16,800 IDR, 1.40 USD 22,400.
  const LOSSY = `${RATES}skus:
  D112:
    brand: MLBB
    variation: MLBB112
    max_price: 16800
    revenue: { amount: '1.05', currency: USD }
    backups:
      - variation: MLBB86
        max_price: 23000
        revenue: { amount: '1.40', currency: USD }
      - brand: MLGLOBAL
        variation: MLG112
        max_price: 17000
      - variation: MLBB90
        max_price: 22400
        revenue: { amount: '1.40', currency: USD }
  STEAMV50:
    brand: STEAM
    variation: STEAMV50
    max_price: 60000
    voucher: true
    enabled: false
    revenue: { amount: 58500, currency: IDR }
  NOREVENUE:
    brand: MLBB
    variation: MLBB5
    max_price: 999999
`;

  it('warns of each option whose max_price is above its revenue in IDR at the rate in force, with the figures', () => {
    expect(lossWarnings(parsed(LOSSY))).toEqual([
      // The main at its revenue exactly loses nothing; a backup earning the SKU's revenue is judged by it.
      'sku D112, backup 1 (MLBB/MLBB86): max_price 23000 IDR is above its revenue, 22400 IDR (1.40 USD at 16000 IDR per USD, set 2026-01-01): a sale priced above 22400 IDR loses money, up to 600 IDR',
      'sku D112, backup 2 (MLGLOBAL/MLG112): max_price 17000 IDR is above its revenue, 16800 IDR (1.05 USD at 16000 IDR per USD, set 2026-01-01): a sale priced above 16800 IDR loses money, up to 200 IDR',
      'sku STEAMV50 (disabled): max_price 60000 IDR is above its revenue, 58500 IDR: a sale priced above 58500 IDR loses money, up to 1500 IDR',
    ]);
    // The shipped example loses money on none of its SKUs, its commented backups included.
    const example = readFileSync(EXAMPLE_MAPPING, 'utf8');
    expect(lossWarnings(exampleMapping())).toEqual([]);
    expect(lossWarnings(parsed(example.replace(/^ {4}# (backups:| {2}.*)$/gm, '    $1')))).toEqual([]);
  });

  it('says them as warnings of the offline check, which still passes', async () => {
    const dir = tempDir();
    try {
      writeFileSync(dir.file('lossy.yaml'), LOSSY);
      const out: string[] = [];
      const err: string[] = [];
      const code = await runCli(['check', '--mapping', 'lossy.yaml'], {
        env: REQUIRED_ENV,
        cwd: dir.path,
        out: (l) => out.push(l),
        err: (l) => err.push(l),
      });
      expect({ code, err }).toEqual({ code: 0, err: [] });
      expect(out.slice(0, 4)).toEqual([
        ...lossWarnings(parsed(LOSSY)).map((w) => `warning: lossy.yaml: ${w}`),
        expect.stringMatching(/^ok: 3 SKUs from lossy\.yaml/),
      ]);
      const json: string[] = [];
      await runCli(['check', '--json', '--mapping', 'lossy.yaml'], {
        env: REQUIRED_ENV,
        cwd: dir.path,
        out: (l) => json.push(l),
        err: () => {},
      });
      expect(JSON.parse(json[0] ?? '{}').warnings).toEqual(
        lossWarnings(parsed(LOSSY)).map((w) => `lossy.yaml: ${w}`),
      );
    } finally {
      dir.remove();
    }
  });
});
