/**
 * Form value templates of the mapping file: literal text with `{accountId}`,
 * `{customParam.X}` or `{group}` (a named group of the SKU's account pattern).
 * `{{` and `}}` stand for literal braces.
 */
export type TemplatePart =
  | { kind: 'literal'; text: string }
  | { kind: 'accountId' }
  | { kind: 'customParam'; name: string }
  | { kind: 'group'; name: string };

export type ParsedTemplate = { ok: true; parts: TemplatePart[] } | { ok: false; reason: string };

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const CUSTOM_PARAM = /^customParam\.([A-Za-z0-9_-]+)$/;

/** Parses a template; `groups` are the named groups the SKU's account pattern defines. */
export function parseTemplate(template: string, groups: readonly string[]): ParsedTemplate {
  const parts: TemplatePart[] = [];
  let literal = '';
  let i = 0;
  while (i < template.length) {
    const ch = template[i];
    const next = template[i + 1];
    if ((ch === '{' && next === '{') || (ch === '}' && next === '}')) {
      literal += ch;
      i += 2;
      continue;
    }
    if (ch === '}')
      return { ok: false, reason: `unmatched '}' at position ${i + 1} (write '}}' for a literal brace)` };
    if (ch !== '{') {
      literal += ch;
      i += 1;
      continue;
    }
    const close = template.indexOf('}', i + 1);
    if (close === -1) return { ok: false, reason: `unclosed '{' at position ${i + 1}` };
    const name = template.slice(i + 1, close).trim();
    const part = resolveVariable(name, groups);
    if (!part.ok) return part;
    if (literal) parts.push({ kind: 'literal', text: literal });
    literal = '';
    parts.push(part.part);
    i = close + 1;
  }
  if (literal) parts.push({ kind: 'literal', text: literal });
  return { ok: true, parts };
}

function resolveVariable(
  name: string,
  groups: readonly string[],
): { ok: true; part: TemplatePart } | { ok: false; reason: string } {
  if (name === 'accountId') return { ok: true, part: { kind: 'accountId' } };
  const param = CUSTOM_PARAM.exec(name);
  if (param?.[1]) return { ok: true, part: { kind: 'customParam', name: param[1] } };
  if (IDENTIFIER.test(name)) {
    if (groups.includes(name)) return { ok: true, part: { kind: 'group', name } };
    if (groups.length === 0) {
      return {
        ok: false,
        reason: `unknown template variable {${name}}: there is no account.pattern to define a group of that name (use {accountId}, {customParam.X} or a named group)`,
      };
    }
    return {
      ok: false,
      reason: `template group {${name}} is not a named group of account.pattern (its groups: ${groups.join(', ')})`,
    };
  }
  return {
    ok: false,
    reason: `unknown template variable {${name}} (use {accountId}, {customParam.X} or a named group of account.pattern)`,
  };
}

export interface TemplateInput {
  accountId: string;
  customParam: Readonly<Record<string, string>>;
  groups: Readonly<Record<string, string | undefined>>;
}

export type Rendered = { ok: true; value: string } | { ok: false; reason: string };

export function renderTemplate(parts: readonly TemplatePart[], input: TemplateInput): Rendered {
  let value = '';
  for (const part of parts) {
    switch (part.kind) {
      case 'literal':
        value += part.text;
        break;
      case 'accountId':
        value += input.accountId;
        break;
      case 'customParam': {
        // Own keys only: `toString` or `__proto__` is not a value Razer sent.
        const v = Object.hasOwn(input.customParam, part.name) ? input.customParam[part.name] : undefined;
        if (v === undefined) return { ok: false, reason: `customParam.${part.name} is missing` };
        value += v;
        break;
      }
      case 'group': {
        const v = Object.hasOwn(input.groups, part.name) ? input.groups[part.name] : undefined;
        if (v === undefined) return { ok: false, reason: `accountId has no part '${part.name}'` };
        value += v;
        break;
      }
    }
  }
  return { ok: true, value };
}
