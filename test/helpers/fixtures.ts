import type { NewTransaction } from '../../src/db/types.js';
import type { State } from '../../src/fulfilment/states.js';

export const T0 = Date.UTC(2026, 10, 21, 10, 0, 0);

export function transactionRow(
  number: string,
  state: State = 'INITIATED',
  overrides: Partial<NewTransaction> = {},
) {
  return {
    transactionNumber: number,
    apiId: 'publisherA',
    sku: 'DIAMOND50',
    brandKey: 'MLBB',
    variationKey: 'MLBB112',
    maxPrice: 16000,
    accountId: '123456-12',
    supplierData: [
      { key: 'user_id', value: '123456' },
      { key: 'zone_id', value: '12' },
    ],
    state,
    token: `token-${number}`,
    refId: `RG-${number}`,
    expiresAt: T0 + 3_600_000,
    createdAt: T0,
    updatedAt: T0,
    ...overrides,
  } satisfies NewTransaction;
}
