import { eq } from 'drizzle-orm';
import type { SupplierBalanceRow } from '../types.js';
import { BALANCE_SUPPLIER } from '../vocabulary.js';
import type { Db } from './connection.js';
import { supplierBalance } from './schema.js';

export function saveBalance(db: Db, idr: number, at: number, instanceId: string): void {
  const row = { supplier: BALANCE_SUPPLIER, balanceIdr: idr, readAt: at, readBy: instanceId };
  db.insert(supplierBalance)
    .values(row)
    .onConflictDoUpdate({ target: supplierBalance.supplier, set: row })
    .run();
}

export function lastBalance(db: Db): SupplierBalanceRow | undefined {
  return db.select().from(supplierBalance).where(eq(supplierBalance.supplier, BALANCE_SUPPLIER)).get();
}
