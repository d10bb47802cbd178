/**
 * The README's template rules, restated on their own to judge `src/config/template.ts` by:
 * literal text; `{accountId}`, `{customParam.X}`, `{group}` (a named group of the pattern);
 * `{{` and `}}` are literal braces; a missing customParam or group is refused. "Missing" means
 * not given: a name every object inherits (`constructor`, `toString`) is not a given value.
 */
export type ModelResult = { ok: true; value: string } | { ok: false; stage: 'parse' | 'render' };

export interface ModelInput {
  accountId: string;
  customParam: Readonly<Record<string, string>>;
  groups: Readonly<Record<string, string | undefined>>;
}

const given = (o: object, key: string): string | undefined => {
  if (!Object.hasOwn(o, key)) return undefined;
  const v: unknown = (o as Record<string, unknown>)[key];
  return typeof v === 'string' ? v : undefined;
};

export function modelRender(template: string, groups: readonly string[], input: ModelInput): ModelResult {
  let out = '';
  let missing = false;
  for (let i = 0; i < template.length; ) {
    const two = template.slice(i, i + 2);
    if (two === '{{' || two === '}}') {
      out += two[0];
      i += 2;
    } else if (template[i] === '}') {
      return { ok: false, stage: 'parse' };
    } else if (template[i] === '{') {
      const close = template.indexOf('}', i + 1);
      if (close < 0) return { ok: false, stage: 'parse' };
      const name = template.slice(i + 1, close).trim();
      const param = /^customParam\.([A-Za-z0-9_-]+)$/.exec(name)?.[1];
      let value: string | undefined;
      if (name === 'accountId') value = input.accountId;
      else if (param !== undefined) value = given(input.customParam, param);
      else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && groups.includes(name))
        value = given(input.groups, name);
      else return { ok: false, stage: 'parse' };
      if (value === undefined) missing = true;
      else out += value;
      i = close + 1;
    } else {
      out += template[i];
      i += 1;
    }
  }
  return missing ? { ok: false, stage: 'render' } : { ok: true, value: out };
}
