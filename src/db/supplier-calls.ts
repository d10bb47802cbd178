import { asc, eq } from 'drizzle-orm';
import type { SupplierCallRecord } from '../mitra/client.js';
import type { Db } from './connection.js';
import { supplierCalls } from './schema.js';

export function recordSupplierCall(db: Db, call: SupplierCallRecord): void {
  db.insert(supplierCalls).values(call).run();
}

export function listSupplierCalls(db: Db, transactionNumber: string) {
  return db
    .select()
    .from(supplierCalls)
    .where(eq(supplierCalls.transactionNumber, transactionNumber))
    .orderBy(asc(supplierCalls.id))
    .all();
}
