import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditWriter } from '../src/db/audit-writer.js';
import { getTransaction, insertTransaction } from '../src/db/transactions.js';
import { createLogger } from '../src/log.js';
import { T0, transactionRow } from './helpers/fixtures.js';
import { fillDisk, freeDisk, tempStorage } from './helpers/storage.js';
import { waitFor } from './helpers/wait.js';

let storage: ReturnType<typeof tempStorage>;
beforeEach(() => {
  storage = tempStorage();
});
afterEach(() => storage.close());

const count = (table: string) =>
  (storage.sqlite.prepare(`select count(*) as n from ${table}`).get() as { n: number }).n;
const call = (i: number) => ({
  transactionNumber: `T${i}`,
  operation: 'order-status' as const,
  method: 'GET' as const,
  url: 'http://x/v2/public/order-status?tid=1&sign=[redacted]',
  requestBody: null,
  httpStatus: 200,
  replyBody: '{}',
  rcCode: '00',
  outcome: 'accepted' as const,
  error: null,
  startedAt: T0 + i,
  durationMs: 3,
});
const exchange = (i: number) => ({
  transactionNumber: `T${i}`,
  endpoint: 'query',
  apiId: 'publisherA',
  method: 'GET',
  path: `/transaction/T${i}`,
  requestHash: 'h',
  requestBody: '',
  responseStatus: 408,
  responseHeaders: {},
  responseBody: '{}',
  receivedAt: T0,
  respondedAt: T0,
});

describe('audit writer', () => {
  it('writes rows in one batch after a short delay, and at once on flush', async () => {
    const audit = new AuditWriter(storage.db, createLogger('silent'), 20);
    audit.supplierCall(call(1));
    audit.exchange(exchange(1));
    expect(count('supplier_calls')).toBe(0);
    await waitFor(() => count('supplier_calls') === 1 && count('razer_exchanges') === 1, 2000, 'the batch');
    audit.supplierCall(call(2));
    audit.flush();
    expect(count('supplier_calls')).toBe(2);
  });

  it('writes at once when a batch is full', () => {
    const audit = new AuditWriter(storage.db, createLogger('silent'), 60_000);
    for (let i = 0; i < 200; i++) audit.supplierCall(call(i));
    expect(count('supplier_calls')).toBe(200);
  });

  it('logs and drops a batch the database refuses, and keeps working', () => {
    const lines: string[] = [];
    const logger = createLogger('error', { write: (line: string) => lines.push(line) });
    const audit = new AuditWriter(storage.db, logger, 60_000, 1);
    audit.exchange({ ...exchange(1), endpoint: null as unknown as string }); // NOT NULL violated
    expect(audit.flush()).toBe(false);
    expect(lines.join('')).toContain('audit rows could not be written');
    // A row that can never be written is dropped only past the bound (1 here), oldest first.
    audit.exchange(exchange(2));
    expect(audit.flush()).toBe(true);
    expect(count('razer_exchanges')).toBe(1);
  });

  it('keeps a batch the disk refused and writes it once the disk has room (defect 2: trx_code vanished with the dropped audit batch)', () => {
    const audit = new AuditWriter(storage.db, createLogger('silent'), 60_000);
    fillDisk(storage.sqlite);
    audit.supplierCall({ ...call(1), replyBody: '{"data":{"trx_code":"VCG-KEPT"}}' });
    expect(audit.flush()).toBe(false);
    expect(audit.pending()).toBe(1);
    freeDisk(storage.sqlite);
    expect(audit.flush()).toBe(true);
    expect(audit.pending()).toBe(0);
    const kept = storage.sqlite.prepare('select reply_body as body from supplier_calls').all() as {
      body: string;
    }[];
    expect(kept.map((r) => r.body)).toEqual(['{"data":{"trx_code":"VCG-KEPT"}}']);
  });
});

describe('statement cache', () => {
  it('hands back a reused statement in object mode after drizzle used it for arrays', () => {
    insertTransaction(storage.db, transactionRow('S1'));
    // drizzle reads selected rows as arrays (raw mode) on a cached statement...
    expect(getTransaction(storage.db, 'S1')?.transactionNumber).toBe('S1');
    const text = 'select transaction_number from transactions where transaction_number = ?';
    storage.sqlite.prepare(text).raw(true);
    // ...and the next user of the same text gets objects again.
    expect(storage.sqlite.prepare(text).get('S1')).toEqual({ transaction_number: 'S1' });
    expect(storage.sqlite.prepare(text)).toBe(storage.sqlite.prepare(text));
  });
});
