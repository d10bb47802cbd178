import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { parse, stringify } from 'yaml';
import { EXAMPLE_MAPPING } from '../../test/helpers/mapping.js';

/** The example mapping, as text and as data: the seed of the near-valid files. */
export const EXAMPLE_TEXT = readFileSync(EXAMPLE_MAPPING, 'utf8');
const EXAMPLE = parse(EXAMPLE_TEXT) as { skus: Record<string, Record<string, unknown>> };

/**
 * Account patterns from a small grammar: named groups of simple atoms, one quantifier each, so
 * that no pattern backtracks exponentially (the fuzzer looks for crashes, not for a slow regex
 * an operator wrote), plus a few that do not compile or name no group.
 */
const atom = fc.constantFrom('\\d', '[a-z]', '[A-Z0-9]', '.', 'x', '-', '\\w', '[^-]', '\\p{L}', '(?:ab)');
const quantifier = fc.constantFrom('', '+', '*', '?', '{1,20}', '{3}', '{2,}');
const groupName = fc.oneof(
  fc.constantFrom(
    'user_id',
    'zone_id',
    'uid',
    'server',
    'constructor',
    '__proto__',
    'toString',
    'accountId',
    'a1',
  ),
  fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,8}$/),
);
export const pattern = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .array(
        fc.oneof(
          fc.tuple(atom, quantifier).map(([a, q]) => a + q),
          fc.tuple(groupName, atom, quantifier).map(([g, a, q]) => `(?<${g}>${a}${q})`),
        ),
        { minLength: 1, maxLength: 4 },
      )
      .map((parts) => parts.join('')),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '^(?<user_id>\\d{1,20})-(?<zone_id>\\d{1,8})$',
      '(?<a>x)|(?<b>y)',
      '(?<a>x)(?<a>y)',
      ')(?<a>x',
      '(?<a>x))((?<b>y)',
      '(?<a>\\k<a>)',
      '[',
      '(?<a>x)\\',
      '(?<1a>x)',
      'x',
      '',
      '(?<a>)',
      '(?<é>x)',
      '(?<a>x)(?=y)',
      '(?<a>x)$|^',
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 16 }) },
);

/** Templates: variables, escaped and stray braces, spaces, prototype names, anything. */
const templatePiece = fc.oneof(
  fc.constantFrom(
    '{accountId}',
    '{ accountId }',
    '{customParam.serverId}',
    '{customParam.constructor}',
    '{customParam.__proto__}',
    '{customParam.toString}',
    '{customParam.}',
    '{customParam.a.b}',
  ),
  groupName.map((g) => `{${g}}`),
  fc.constantFrom('{{', '}}', '{', '}', '{}', '{{{', '}}}', '{{accountId}}', '{{}', '-', ' ', ''),
  fc.string({ maxLength: 6 }),
);
export const template = fc.array(templatePiece, { maxLength: 6 }).map((p) => p.join(''));

/** A value of any YAML/JSON type, for a field to be replaced with. */
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(
    -5,
    0,
    0.5,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    2 ** 53 + 1,
    '16000',
    '',
    ' ',
    null,
    true,
    [],
    {},
  ),
);

type Mutation =
  | { op: 'set'; sku: number; field: string; value: unknown }
  | { op: 'delete'; sku: number; field: string }
  | { op: 'pattern'; sku: number; value: string }
  | { op: 'form'; sku: number; key: string; value: string }
  | { op: 'rename'; sku: number; name: string }
  | { op: 'entry'; sku: number; value: unknown };

const FIELDS = [
  'brand',
  'variation',
  'max_price',
  'countries',
  'account',
  'form',
  'limits',
  'enabled',
  'voucher',
  'extra',
];
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  // A SKU left empty (`DIAMOND50:` with nothing under it) or of another type, mid-edit.
  fc.record({ op: fc.constant('entry' as const), sku: fc.nat(3), value: anyValue }),
  fc.record({
    op: fc.constant('set' as const),
    sku: fc.nat(3),
    field: fc.constantFrom(...FIELDS),
    value: anyValue,
  }),
  fc.record({ op: fc.constant('delete' as const), sku: fc.nat(3), field: fc.constantFrom(...FIELDS) }),
  fc.record({ op: fc.constant('pattern' as const), sku: fc.nat(3), value: pattern }),
  fc.record({
    op: fc.constant('form' as const),
    sku: fc.nat(3),
    key: fc.oneof(
      fc.constantFrom('user_id', 'zone_id', 'server', '__proto__', 'a b', ''),
      fc.string({ maxLength: 6 }),
    ),
    value: template,
  }),
  fc.record({
    op: fc.constant('rename' as const),
    sku: fc.nat(3),
    name: fc.oneof(
      fc.constantFrom('__proto__', 'constructor', '', '-X', 'A'.repeat(65), 'toString'),
      fc.string({ maxLength: 10 }),
    ),
  }),
);

/** The example with a few fields changed, removed, renamed or added, written back as YAML. */
const mutatedExample = fc.array(mutation, { minLength: 1, maxLength: 4 }).map((mutations) => {
  const skus = structuredClone(EXAMPLE.skus);
  for (const m of mutations) {
    const names = Object.keys(skus);
    const name = names[m.sku % Math.max(1, names.length)];
    const entry = name === undefined ? undefined : skus[name];
    if (name === undefined || entry === null || typeof entry !== 'object') continue;
    if (m.op === 'entry') (skus as Record<string, unknown>)[name] = m.value;
    else if (m.op === 'set') entry[m.field] = m.value;
    else if (m.op === 'delete') delete entry[m.field];
    else if (m.op === 'pattern') entry.account = { pattern: m.value };
    else if (m.op === 'form') entry.form = { ...(entry.form as object), [m.key]: m.value };
    else {
      delete skus[name];
      Object.defineProperty(skus, m.name, {
        value: entry,
        enumerable: true,
        configurable: true,
        writable: true,
      });
    }
  }
  return stringify({ skus });
});

/** The example's text with a few characters inserted, removed or replaced. */
const editedText = fc
  .array(
    fc.tuple(
      fc.nat(),
      fc.nat(3),
      fc.constantFrom(
        ':',
        ' ',
        '\t',
        '\n',
        '-',
        '{',
        '[',
        '"',
        "'",
        '&a',
        '*a',
        '!!',
        '#',
        '|',
        '>',
        '?',
        '%',
        '\r\n',
        '\u0000',
        '\ufeff',
      ),
    ),
    {
      minLength: 1,
      maxLength: 4,
    },
  )
  .map((edits) => {
    let t = EXAMPLE_TEXT;
    for (const [at, cut, insert] of edits) {
      const i = at % (t.length + 1);
      t = t.slice(0, i) + insert + t.slice(i + cut);
    }
    return t;
  });

/** YAML's own features: anchors and aliases (many), tags, merge keys, several documents. */
const yamlFeatures = fc
  .tuple(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 6 }))
  .chain(([width, depth]) =>
    fc.constantFrom(
      `a0: &a0 [${Array(width).fill('x').join(',')}]\n${Array.from({ length: depth }, (_, i) => `a${i + 1}: &a${i + 1} [${Array(width).fill(`*a${i}`).join(',')}]`).join('\n')}\nskus: {}\n`,
      'skus: !!set {A, B}\n',
      'skus:\n  A: !!binary aGVsbG8=\n',
      'skus:\n  A:\n    brand: !!timestamp 2001-12-14\n    variation: V\n    max_price: 5\n',
      'skus: &x\n  A: *x\n',
      '--- a\n--- b\n',
      'skus:\n  A:\n    <<: {brand: M, variation: V}\n    max_price: 5\n',
      'skus: !!omap [A: 1]\n',
      '%YAML 1.1\n---\nskus:\n  A: {brand: B, variation: V, max_price: 0x10, enabled: yes}\n',
      '? [a, b]\n: c\n',
      '!unknown-tag {skus: {}}\n',
      'skus:\n  A: {brand: B, variation: V, max_price: 5, form: {k: "{customParam.constructor}"}}\n',
      '\ufeffskus:\n  A: {brand: B, variation: V, max_price: 5}\n',
    ),
  );

export const mappingText: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: mutatedExample },
  { weight: 3, arbitrary: editedText },
  { weight: 2, arbitrary: yamlFeatures },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => stringify(v)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
);

export interface AccountInput {
  accountId: string;
  customParam: Record<string, string> | null;
}

/** What Razer may send for an account: any text, and customParam objects with prototype names. */
export const accountInput: fc.Arbitrary<AccountInput> = fc.record({
  accountId: fc.oneof(fc.constantFrom('123456-12', '812345678', 'x', ''), fc.string({ maxLength: 30 })),
  customParam: fc.option(
    fc.dictionary(
      fc.oneof(fc.constantFrom('serverId', 'constructor', 'toString', 'a'), fc.string({ maxLength: 6 })),
      fc.string({ maxLength: 10 }),
      { maxKeys: 4 },
    ),
    { freq: 3 },
  ),
});
