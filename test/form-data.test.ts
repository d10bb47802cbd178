import { describe, expect, it } from 'vitest';
import { buildFormData } from '../src/config/form-data.js';
import { parseMapping } from '../src/config/mapping.js';
import { parseTemplate, renderTemplate } from '../src/config/template.js';
import { exampleSku } from './helpers/mapping.js';

describe('buildFormData on the example SKUs', () => {
  it('splits an MLBB accountId into user_id and zone_id', () => {
    expect(
      buildFormData(exampleSku('DIAMOND50'), { accountId: '123456-12', customParam: { serverId: 'MY01' } }),
    ).toEqual({
      ok: true,
      data: [
        { key: 'user_id', value: '123456' },
        { key: 'zone_id', value: '12' },
      ],
    });
  });

  it('sends no form data for the voucher SKU', () => {
    expect(buildFormData(exampleSku('STEAMV50'), { accountId: 'anything' })).toEqual({ ok: true, data: [] });
  });

  it('takes the option field from customParam.serverId', () => {
    expect(
      buildFormData(exampleSku('GENSHIN60'), { accountId: '812345678', customParam: { serverId: 'Asia' } }),
    ).toEqual({
      ok: true,
      data: [
        { key: 'user_id', value: '812345678' },
        { key: 'server', value: 'Asia' },
      ],
    });
  });

  it('refuses an accountId that does not match the pattern', () => {
    for (const accountId of ['123456', '123456-', 'abc-12', '123456-12-1', ' 123456-12']) {
      expect(buildFormData(exampleSku('DIAMOND50'), { accountId })).toEqual({
        ok: false,
        reason: 'accountId does not have the form SKU DIAMOND50 expects',
      });
    }
  });

  it('refuses when a customParam the form needs is missing', () => {
    expect(buildFormData(exampleSku('GENSHIN60'), { accountId: '812345678' })).toEqual({
      ok: false,
      reason: 'server: customParam.serverId is missing',
    });
  });

  it('refuses a value that would be empty', () => {
    expect(
      buildFormData(exampleSku('GENSHIN60'), { accountId: '812345678', customParam: { serverId: ' ' } }),
    ).toEqual({
      ok: false,
      reason: 'server would be empty',
    });
  });

  it('mixes literal text, the whole accountId and groups', () => {
    const parsed = parseMapping(
      `skus:
  X:
    brand: B
    variation: V
    max_price: 1
    account: { pattern: '^(?<id>\\d+)$' }
    form:
      note: 'id={id} raw={accountId} {{literal}}'
`,
      'm.yaml',
    );
    if (!parsed.ok) throw new Error(parsed.errors.join('\n'));
    const entry = parsed.mapping.skus.get('X');
    if (!entry) throw new Error('no X');
    expect(buildFormData(entry, { accountId: '42' })).toEqual({
      ok: true,
      data: [{ key: 'note', value: 'id=42 raw=42 {literal}' }],
    });
  });
});

/** A one-SKU mapping whose account.pattern is `pattern` and whose form is `form`. */
function skuWith(pattern: string, form: Record<string, string>) {
  const formLines = Object.entries(form)
    .map(([key, template]) => `      ${key}: '${template}'`)
    .join('\n');
  const parsed = parseMapping(
    `skus:\n  X:\n    brand: B\n    variation: V\n    max_price: 1\n    account: { pattern: '${pattern}' }\n    form:\n${formLines}\n`,
    'm.yaml',
  );
  if (!parsed.ok) throw new Error(parsed.errors.join('\n'));
  const entry = parsed.mapping.skus.get('X');
  if (!entry) throw new Error('no X');
  return entry;
}

const REFUSED = { ok: false, reason: 'accountId does not have the form SKU X expects' };

describe('an account pattern took a substring of accountId (another player could be topped up)', () => {
  it('refuses an unanchored pattern on an accountId with extra characters before or after', () => {
    const entry = skuWith('(?<user_id>\\d+)', { user_id: '{user_id}' });
    for (const accountId of ['evil-123456-x', 'x123456', '123456x', '123456-12', '123456\n', ' 123456']) {
      expect(buildFormData(entry, { accountId })).toEqual(REFUSED);
    }
  });

  it('still accepts an accountId that the unanchored pattern matches exactly', () => {
    const entry = skuWith('(?<user_id>\\d+)', { user_id: '{user_id}' });
    expect(buildFormData(entry, { accountId: '123456' })).toEqual({
      ok: true,
      data: [{ key: 'user_id', value: '123456' }],
    });
  });

  it('treats an already anchored pattern as before', () => {
    const entry = skuWith('^(?<user_id>\\d+)$', { user_id: '{user_id}' });
    expect(buildFormData(entry, { accountId: '42' })).toEqual({
      ok: true,
      data: [{ key: 'user_id', value: '42' }],
    });
    for (const accountId of ['a42', '42a', '4 2']) {
      expect(buildFormData(entry, { accountId })).toEqual(REFUSED);
    }
  });

  it('anchors a pattern with alternation as a whole, not only its first and last branch', () => {
    const entry = skuWith('(?<user_id>\\d+)|(?<name>[a-z]+)', { account: '{accountId}' });
    expect(buildFormData(entry, { accountId: '123' })).toEqual({
      ok: true,
      data: [{ key: 'account', value: '123' }],
    });
    expect(buildFormData(entry, { accountId: 'abc' })).toEqual({
      ok: true,
      data: [{ key: 'account', value: 'abc' }],
    });
    // `^a|b$` would accept the first (a prefix) and the second (a suffix).
    for (const accountId of ['123-evil', 'evil-abc', 'abc123']) {
      expect(buildFormData(entry, { accountId })).toEqual(REFUSED);
    }
  });
});

describe('templates', () => {
  it('parses each kind of part', () => {
    expect(parseTemplate('a{accountId}b{customParam.serverId}{g}', ['g'])).toEqual({
      ok: true,
      parts: [
        { kind: 'literal', text: 'a' },
        { kind: 'accountId' },
        { kind: 'literal', text: 'b' },
        { kind: 'customParam', name: 'serverId' },
        { kind: 'group', name: 'g' },
      ],
    });
  });

  it('refuses a lone closing brace and an empty variable', () => {
    expect(parseTemplate('a}b', [])).toEqual({
      ok: false,
      reason: "unmatched '}' at position 2 (write '}}' for a literal brace)",
    });
    expect(parseTemplate('{}', []).ok).toBe(false);
  });

  it('renders a group the match left undefined as a reason, not as "undefined"', () => {
    const parsed = parseTemplate('{opt}', ['opt']);
    if (!parsed.ok) throw new Error(parsed.reason);
    expect(
      renderTemplate(parsed.parts, { accountId: 'x', customParam: {}, groups: { opt: undefined } }),
    ).toEqual({
      ok: false,
      reason: "accountId has no part 'opt'",
    });
  });

  it('reads only what was given: an inherited name (toString, __proto__) is missing (found by the fuzzer)', () => {
    for (const name of ['toString', 'constructor', '__proto__']) {
      const param = parseTemplate(`{customParam.${name}}`, []);
      if (!param.ok) throw new Error(param.reason);
      expect(renderTemplate(param.parts, { accountId: 'x', customParam: {}, groups: {} })).toEqual({
        ok: false,
        reason: `customParam.${name} is missing`,
      });
      const group = parseTemplate(`{${name}}`, [name]);
      if (!group.ok) throw new Error(group.reason);
      expect(renderTemplate(group.parts, { accountId: 'x', customParam: {}, groups: {} })).toEqual({
        ok: false,
        reason: `accountId has no part '${name}'`,
      });
    }
  });
});
