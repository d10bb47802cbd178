import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../src/db/store.js';
import {
  acknowledge,
  type OperatorDeps,
  OperatorError,
  resolutionSchema,
} from '../src/fulfilment/operator.js';
import { createLogger } from '../src/log.js';
import { openapiDocument } from '../src/openapi/document.js';
import { interpretOrderStatus } from '../src/readings/mitra.js';
import { T0, transactionRow } from './helpers/fixtures.js';
import { type TempStore, tempStore } from './helpers/storage.js';

// Operator actions at their edges: an unknown transaction on either adapter's lease semantics, codes as the supplier issues them, BUSY documented.

const LEASE_MS = 5000;
let store: TempStore;
let now: number;
const logger = createLogger('silent');

beforeEach(async () => {
  store = await tempStore();
  now = T0;
});
afterEach(async () => {
  await store.close();
});

const deps = (s: Store): OperatorDeps => ({
  store: s,
  engine: { advance: async () => true },
  now: () => now,
  logger,
  leaseMs: LEASE_MS,
});

/** The store with some methods replaced; everything else is the real one. */
function withOverrides(over: Partial<Record<keyof Store, unknown>>): Store {
  return new Proxy(store, {
    get(target, key, receiver) {
      if (typeof key === 'string' && key in over) return over[key as keyof Store];
      const v = Reflect.get(target, key, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  }) as Store;
}

async function errorOf(p: Promise<unknown>): Promise<{ status: number; code: string } | 'no error'> {
  try {
    await p;
    return 'no error';
  } catch (err) {
    if (err instanceof OperatorError) return { status: err.status, code: err.code };
    throw err;
  }
}

describe('acknowledge of a transaction that does not exist', () => {
  it('is 404 NOT_FOUND on the adapter under test', async () => {
    expect(await errorOf(acknowledge(deps(store), 'NOPE-1', 'because', 'dana'))).toEqual({
      status: 404,
      code: 'NOT_FOUND',
    });
  });

  it('is 404 when claimStep refuses a row that is not there (null), not 409 BUSY', async () => {
    const pgLike = withOverrides({
      claimStep: async (n: string, holder: string, ttl: number) =>
        (await store.getTransaction(n)) ? store.claimStep(n, holder, ttl) : null,
    });
    expect(await errorOf(acknowledge(deps(pgLike), 'NOPE-2', 'because', 'dana'))).toEqual({
      status: 404,
      code: 'NOT_FOUND',
    });
  });
});

describe('voucher codes: what the engine stores from Mitra vs what an operator may hand over', () => {
  const fromMitra = ['CODE-1234-5678\nPIN: 9876', '1234 5678  9012', 'KODE: ABCD–EFGH', 'ABCD\tEFGH'];
  it.each(fromMitra)('the engine stores %j from an order status verbatim', (sn) => {
    expect(interpretOrderStatus({ code: 'VCG-1', ref_id: 'RG-1', status: 2, sn })).toMatchObject({
      kind: 'success',
      voucherCode: sn,
    });
  });
  it.each(fromMitra)('the same code %j given by an operator is taken', (voucherCode) => {
    const r = resolutionSchema.safeParse({
      outcome: 'delivered',
      reason: 'from the Mitra dashboard',
      voucherCode,
    });
    expect(r.success, r.success ? '' : r.error.issues[0]?.message).toBe(true);
  });
  it('a code with a character no one can see is refused, naming it', () => {
    for (const [voucherCode, point] of [
      ['ABCD-\u200bEFGH', 'U+200B'],
      ['ABCD\u0000EFGH', 'U+0000'],
      ['ABCD\u202eEFGH', 'U+202E'],
    ] as const) {
      const r = resolutionSchema.safeParse({ outcome: 'delivered', reason: 'typed in', voucherCode });
      expect(r.success ? '' : r.error.issues[0]?.message).toContain(point);
    }
  });
});

describe("acknowledge's 409 BUSY in the OpenAPI document", () => {
  it('acknowledge answers 409 BUSY while a step holds the row, and the document allows it', async () => {
    await store.insertTransaction(
      transactionRow('DOC-1', 'SUCCESS', { trxCode: 'VCG-D1', attention: true, attentionReason: 'A' }),
    );
    expect(await store.claimStep('DOC-1', 'engine-step', 30_000)).not.toBeNull();
    const answered = await errorOf(acknowledge(deps(store), 'DOC-1', 'because', 'dana', 'A'));
    expect(answered).toEqual({ status: 409, code: 'BUSY' });
    const doc = openapiDocument().document as unknown as {
      paths: Record<string, { post: { responses: Record<string, unknown> } }>;
    };
    const conflict = doc.paths['/admin/transactions/{transactionNumber}/acknowledge']?.post.responses[
      '409'
    ] as {
      content: { 'application/json': { schema: { properties: { code: { enum: string[] } } } } };
    };
    expect(conflict.content['application/json'].schema.properties.code.enum).toContain('BUSY');
  });
});
