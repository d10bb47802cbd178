import fc from 'fast-check';
import type { Fixtures } from './harness.js';

/**
 * The building blocks every request property shares: methods, request targets, headers and
 * bodies. A generated value is a plan (plain data, printed in a counterexample); it becomes
 * bytes only when it is sent, against the live fixtures (`Ref`s pick among the transactions
 * that exist at that moment, so pools refilled mid-run are aimed at too).
 */

/** Methods Node's HTTP parser takes (CONNECT and TRACE aside: Node handles those itself). */
export const METHODS = [
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'PATCH',
  'OPTIONS',
  'PROPFIND',
  'PURGE',
] as const;
export const method = fc.constantFrom(...METHODS);

/** A live transaction (its number, token, supplier codes) or one of another's. */
export type Ref = { ref: 'number' | 'token' | 'ownToken' | 'trx' | 'refId'; pick: number };
export const ref = (kind: Ref['ref']): fc.Arbitrary<Ref> => fc.nat().map((pick) => ({ ref: kind, pick }));

/** JSON text put in verbatim: what JSON.stringify never writes. */
export const RAW_JSON = [
  '1e999',
  '-1e999',
  '-0',
  '123456789012345678901234567890',
  '0.0000000000000000000000000001e-400',
  '"\\u0000"',
  '"\\ud800"',
  '"a\\u0000b"',
  '"\\u202e\\u200b"',
  '"é"',
  '[]',
  '{}',
  'null',
  'true',
  '{"__proto__":{"polluted":true}}',
  '{"constructor":{"prototype":{"polluted":true}}}',
] as const;

export type ValuePlan = { raw: string } | { json: fc.JsonValue } | Ref | { object: [string, ValuePlan][] };

export const rawJson = fc.constantFrom(...RAW_JSON).map((raw): ValuePlan => ({ raw }));
export const anyJson = fc.jsonValue({ maxDepth: 2 }).map((json): ValuePlan => ({ json }));
export const text = (a: fc.Arbitrary<string>) => a.map((s): ValuePlan => ({ json: s }));

/** Keys a body may carry besides the expected ones, prototype names among them. */
export const oddKey = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '', ' ', 'pad'),
  fc.string({ maxLength: 12 }),
);

/** Present in about one run in `every`, else null (left out). */
export const oneIn = <T>(every: number, arb: fc.Arbitrary<T>): fc.Arbitrary<T | null> =>
  fc.oneof({ weight: every - 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: arb });

/** A field that is usually well formed, sometimes of another type, sometimes left out (null). */
export function field(valid: fc.Arbitrary<ValuePlan>): fc.Arbitrary<ValuePlan | null> {
  return fc.oneof(
    { weight: 12, arbitrary: valid },
    { weight: 1, arbitrary: anyJson },
    { weight: 1, arbitrary: rawJson },
    { weight: 1, arbitrary: fc.constant(null) },
  );
}

export type Entries = [string, ValuePlan][];

/** An object's entries from named fields (null: left out), with odd extra keys now and then. */
export function entries(fields: Record<string, fc.Arbitrary<ValuePlan | null>>): fc.Arbitrary<Entries> {
  return fc
    .tuple(
      fc.record(fields),
      fc.oneof(
        { weight: 6, arbitrary: fc.constant([] as Entries) },
        { weight: 1, arbitrary: fc.array(fc.tuple(oddKey, fc.oneof(anyJson, rawJson)), { maxLength: 3 }) },
      ),
      fc.boolean(),
    )
    .map(([named, extra, extraFirst]) => {
      const own = Object.entries(named).filter((e): e is [string, ValuePlan] => e[1] !== null);
      return extraFirst ? [...extra, ...own] : [...own, ...extra];
    });
}

/** Sizes just under, at and over a limit, and well over it. */
export const aroundLimit = (limit: number) =>
  fc.oneof(
    fc.integer({ min: limit - 2, max: limit + 2 }),
    fc.constantFrom(limit - 64, limit + 64, 2 * limit, 4 * limit),
  );

export type BodyPlan =
  | { kind: 'object'; entries: Entries }
  | { kind: 'deep'; levels: number; entries: Entries }
  | { kind: 'sized'; size: number; entries: Entries }
  | { kind: 'text'; text: string }
  | { kind: 'bytes'; bytes: Uint8Array }
  | { kind: 'fill'; size: number; byte: number }
  | { kind: 'empty' };

export interface Encoded {
  body: BodyPlan;
  bom: boolean;
  encoding: 'utf8' | 'utf16le' | 'latin1';
  trailer: string;
}

/** Bodies around an expected object: the object itself (mostly), or anything else. */
export function body(expected: fc.Arbitrary<Entries>, limit: number): fc.Arbitrary<Encoded> {
  const plan: fc.Arbitrary<BodyPlan> = fc.oneof(
    { weight: 10, arbitrary: expected.map((e): BodyPlan => ({ kind: 'object', entries: e })) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.oneof(fc.integer({ min: 1, max: 40 }), fc.constant(20_000)), expected)
        .map(([levels, e]): BodyPlan => ({ kind: 'deep', levels, entries: e })),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(aroundLimit(limit), expected)
        .map(([size, e]): BodyPlan => ({ kind: 'sized', size, entries: e })),
    },
    {
      weight: 1,
      arbitrary: fc
        .string({ maxLength: 64, unit: 'binary' })
        .map((t): BodyPlan => ({ kind: 'text', text: t })),
    },
    {
      weight: 1,
      arbitrary: fc.uint8Array({ maxLength: 64 }).map((b): BodyPlan => ({ kind: 'bytes', bytes: b })),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(aroundLimit(limit), fc.constantFrom(0x20, 0x61, 0x7b, 0x00, 0xff))
        .map(([size, byte]): BodyPlan => ({ kind: 'fill', size, byte })),
    },
    { weight: 1, arbitrary: fc.constant<BodyPlan>({ kind: 'empty' }) },
  );
  return fc.record({
    body: plan,
    bom: fc.oneof({ weight: 12, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    encoding: fc.oneof(
      { weight: 12, arbitrary: fc.constant('utf8' as const) },
      { weight: 1, arbitrary: fc.constantFrom('utf16le' as const, 'latin1' as const) },
    ),
    trailer: fc.oneof(
      { weight: 12, arbitrary: fc.constant('') },
      { weight: 1, arbitrary: fc.constantFrom(' ', '\n', 'x', '}', '\u0000') },
    ),
  });
}

/** Resolves the references of a plan against the fixtures as they are now. */
export class Resolver {
  /** The transaction number the body named last (for `ownToken`). */
  number: string | null = null;
  constructor(private readonly fx: Fixtures) {}

  resolve(r: Ref): string {
    const { numbers, tokens, trxCodes } = this.fx;
    const pick = <T>(list: readonly T[]): T | undefined => list[r.pick % Math.max(1, list.length)];
    switch (r.ref) {
      case 'number': {
        const n = pick(numbers) ?? 'NONE';
        this.number = n;
        return n;
      }
      case 'token':
        return tokens.get(pick(numbers) ?? '') ?? 'no-token';
      case 'ownToken':
        return tokens.get(this.number ?? '') ?? tokens.get(pick(numbers) ?? '') ?? 'no-token';
      case 'trx':
        return pick(trxCodes) ?? 'VCG-NONE';
      case 'refId':
        return `RG-${pick(numbers) ?? 'NONE'}`;
    }
  }

  value(v: ValuePlan): string {
    if ('raw' in v) return v.raw;
    if ('json' in v) return JSON.stringify(v.json);
    if ('ref' in v) return JSON.stringify(this.resolve(v));
    return this.object(v.object);
  }

  /** Written by hand, not by JSON.stringify: repeated keys and `__proto__` stay as planned. */
  object(e: Entries): string {
    return `{${e.map(([k, v]) => `${JSON.stringify(k)}:${this.value(v)}`).join(',')}}`;
  }
}

/** The body's bytes. */
export function bodyBytes(plan: Encoded, resolver: Resolver): Buffer {
  const b = plan.body;
  let text: string;
  switch (b.kind) {
    case 'object':
      text = resolver.object(b.entries);
      break;
    case 'deep': {
      // The object is level 1; each array one more.
      const head = resolver.object(b.entries).slice(0, -1);
      text = `${head}${b.entries.length ? ',' : ''}"deep":${'['.repeat(b.levels - 1)}${']'.repeat(b.levels - 1)}}`;
      break;
    }
    case 'sized': {
      const head = resolver.object(b.entries).slice(0, -1);
      const open = `${head}${b.entries.length ? ',' : ''}"pad":"`;
      text = `${open}${'p'.repeat(Math.max(0, b.size - Buffer.byteLength(open) - 2))}"}`;
      break;
    }
    case 'text':
      text = b.text;
      break;
    case 'bytes':
      return Buffer.from(b.bytes);
    case 'fill':
      return Buffer.alloc(b.size, b.byte);
    case 'empty':
      return Buffer.alloc(0);
  }
  const bytes = Buffer.from(text + plan.trailer, plan.encoding);
  return plan.bom ? Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes]) : bytes;
}

/** Content types, right, nearly right and wrong. */
export const contentType = (right: string) =>
  fc.oneof(
    { weight: 10, arbitrary: fc.constant<string | null>(right) },
    {
      weight: 3,
      arbitrary: fc.constantFrom<string | null>(
        `${right}; charset=utf-8`,
        right.toUpperCase(),
        `${right};charset=latin1`,
        `${right} ; charset="utf-16"`,
        `${right};`,
        `${right}x`,
        `x${right}`,
        'text/plain',
        'application/json',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=fuzz',
        '',
        null,
      ),
    },
    { weight: 1, arbitrary: headerValue(0, 40) },
  );

/** A header value Node's parser takes: visible ASCII and spaces, a tab or a Latin-1 byte now and then. */
export const headerValue = (minLength: number, maxLength: number) =>
  fc.string({
    minLength,
    maxLength,
    unit: fc.oneof(
      { weight: 20, arbitrary: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) },
      { weight: 1, arbitrary: fc.integer({ min: 0x80, max: 0xff }).map((c) => String.fromCharCode(c)) },
      { weight: 1, arbitrary: fc.constant('\t') },
    ),
  });

/** Headers nobody asked for: repeated, huge, odd; a proxy's, a browser's. */
export const extraHeaders: fc.Arbitrary<[string, string][]> = fc.oneof(
  { weight: 8, arbitrary: fc.constant<[string, string][]>([]) },
  {
    weight: 2,
    arbitrary: fc.array(
      fc.tuple(
        fc.oneof(
          fc.constantFrom(
            'x-request-id',
            'x-forwarded-for',
            'x-forwarded-proto',
            'x-forwarded-host',
            'user-agent',
            'accept',
            'cookie',
            'origin',
            'accept-encoding',
            'if-none-match',
            'x-operator',
          ),
          fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/),
          fc.constantFrom('__proto__', 'constructor', 'x_y', 'X-Request-ID', 'Accept-Language'),
        ),
        fc.oneof(
          headerValue(0, 80),
          fc.integer({ min: 1, max: 8000 }).map((n) => 'h'.repeat(n)),
        ),
      ),
      { maxLength: 4 },
    ),
  },
);

/** One path segment: plain, percent-encoded, dot segments, unicode, very long. */
export const segment = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9._~-]{1,12}$/),
  fc.constantFrom(
    '.',
    '..',
    '%2e%2e',
    '%2E',
    '%2F',
    '%5C',
    '%00',
    '%25',
    '%ZZ',
    '%',
    '%c0%af',
    '%ff',
    ';',
    '@',
    ':',
    '+',
    '%20',
    '~',
  ),
  fc.string({ maxLength: 8 }).map((s) => encodeURIComponent(s)),
  fc.string({ maxLength: 8, unit: 'grapheme' }).map((s) => encodeURIComponent(s)),
  fc.integer({ min: 100, max: 5000 }).map((n) => 'L'.repeat(n)),
);

/** A query string: none (mostly), or anything. */
export const query = fc.oneof(
  { weight: 8, arbitrary: fc.constant('') },
  {
    weight: 2,
    arbitrary: fc
      .array(fc.tuple(segment, segment), { minLength: 0, maxLength: 3 })
      .map((kv) => `?${kv.map(([k, v]) => `${k}=${v}`).join('&')}`),
  },
  { weight: 1, arbitrary: fc.constantFrom('?', '??', '?a', '?a=1&a=2', '?#', '?%', '?__proto__=1') },
);

/** Variations of a known path that a router may or may not take for it. */
export function pathVariant(path: string): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 12, arbitrary: fc.constant(path) },
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        `${path}/`,
        `/${path}`,
        path.toUpperCase(),
        path.replace(/\/([^/]*)$/, '/./$1'),
        path.replace(/^\/([^/]+)/, '/$1/../$1'),
        path.replace(/[a-z]/, (c) => `%${c.charCodeAt(0).toString(16)}`),
        path.replace(/\//g, '%2F'),
        `${path};x`,
        `${path}%00`,
        `${path}#frag`,
      ),
    },
    {
      weight: 1,
      arbitrary: fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => `${path}/${s.join('/')}`),
    },
  );
}

/** Anywhere at all: random segments under the root. */
export const anyPath = fc.array(segment, { minLength: 0, maxLength: 5 }).map((s) => `/${s.join('/')}`);

/** Peers: Mitra's addresses (allowed), others, IPv4-mapped and odd forms. */
export const peer = fc.oneof(
  fc.constantFrom(
    '172.236.143.138',
    '::ffff:172.236.143.138',
    '2600:3c15::f03c:95ff:fe98:ef07',
    '2600:3C15::F03C:95FF:FE98:EF07',
    '127.0.0.1',
    '::1',
    '172.236.143.139',
    '',
  ),
  fc.ipV4(),
  fc.ipV6(),
);
