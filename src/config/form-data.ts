import type { SkuMapping } from './mapping.js';
import { renderTemplate } from './template.js';

/** One `{key, value}` pair of a Mitra create-order `data` array. */
export interface FormField {
  key: string;
  value: string;
}

export interface AccountInput {
  accountId: string;
  customParam?: Readonly<Record<string, string>> | undefined;
}

export type FormDataResult = { ok: true; data: FormField[] } | { ok: false; reason: string };

/**
 * Turns the account fields of a Razer request into Mitra's order `data`, following the
 * SKU's `account.pattern` and `form` templates. Pure: the reason is meant for a 400 INVALID_ACCT.
 */
export function buildFormData(
  entry: Pick<SkuMapping, 'sku' | 'accountPattern' | 'form'>,
  input: AccountInput,
): FormDataResult {
  let groups: Record<string, string | undefined> = {};
  if (entry.accountPattern) {
    const match = entry.accountPattern.exec(input.accountId);
    if (!match) {
      return { ok: false, reason: `accountId does not have the form SKU ${entry.sku} expects` };
    }
    groups = match.groups ?? {};
  }
  const data: FormField[] = [];
  for (const field of entry.form) {
    const rendered = renderTemplate(field.parts, {
      accountId: input.accountId,
      customParam: input.customParam ?? {},
      groups,
    });
    if (!rendered.ok) return { ok: false, reason: `${field.key}: ${rendered.reason}` };
    if (rendered.value.trim() === '') return { ok: false, reason: `${field.key} would be empty` };
    data.push({ key: field.key, value: rendered.value });
  }
  return { ok: true, data };
}
