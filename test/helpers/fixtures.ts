import type { FormField } from '../../src/config/form-data.js';
import type { NewInitiated } from '../../src/db/types.js';
import { limitKey } from '../../src/fulfilment/limit-key.js';
import type { State } from '../../src/fulfilment/states.js';

export const T0 = Date.UTC(2026, 10, 21, 10, 0, 0);

/** The supplier's forms of MLBB (src/sim/catalogue.ts): both fields numeric. */
export const MLBB_FORMS = [
  { key: 'user_id', type: 'numeric' },
  { key: 'zone_id', type: 'numeric' },
];

/** A row as an init writes it: its limit key follows its supplier data, unless overridden. */
export function transactionRow(
  number: string,
  state: State = 'INITIATED',
  overrides: Partial<NewInitiated> = {},
) {
  const supplierData: FormField[] = overrides.supplierData ?? [
    { key: 'user_id', value: '123456' },
    { key: 'zone_id', value: '12' },
  ];
  return {
    transactionNumber: number,
    apiId: 'publisherA',
    sku: 'DIAMOND50',
    brandKey: 'MLBB',
    variationKey: 'MLBB112',
    maxPrice: 16000,
    accountId: '123456-12',
    supplierData,
    limitKey: limitKey(supplierData, MLBB_FORMS),
    state,
    token: `token-${number}`,
    refId: `RG-${number}`,
    expiresAt: T0 + 3_600_000,
    createdAt: T0,
    updatedAt: T0,
    ...overrides,
  } satisfies NewInitiated;
}
