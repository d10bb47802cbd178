import { and, asc, desc, eq, gte, isNull, ne, or, sql } from 'drizzle-orm';
import type { NewSupplierCall } from '../types.js';
import type { Db } from './connection.js';
import { insertRow } from './prepared.js';
import { supplierCalls } from './schema.js';

export function recordSupplierCall(db: Db, call: NewSupplierCall, instanceId: string | null): void {
  insertRow(db, supplierCalls, { ...call, instanceId });
}

export function listSupplierCalls(db: Db, transactionNumber: string) {
  return db
    .select()
    .from(supplierCalls)
    .where(eq(supplierCalls.transactionNumber, transactionNumber))
    .orderBy(asc(supplierCalls.id))
    .all();
}

/**
 * When each call that ended at or after `since` ended (epoch ms): the last window's calls.
 * `longestCallMs` bounds how early such a call started, so the time index does the work.
 */
export function listCallEndsSince(db: Db, since: number, longestCallMs: number): number[] {
  const ended = sql<number>`${supplierCalls.startedAt} + ${supplierCalls.durationMs}`;
  return db
    .select({ ended })
    .from(supplierCalls)
    .where(and(gte(supplierCalls.startedAt, since - longestCallMs), gte(ended, since)))
    .all()
    .map((r) => Number(r.ended));
}

/** The newest call started at or after `since` by another instance (or by none named). */
export function lastCallOfOtherInstance(
  db: Db,
  instanceId: string,
  since: number,
): { instanceId: string | null; startedAt: number } | null {
  const row = db
    .select({ instanceId: supplierCalls.instanceId, startedAt: supplierCalls.startedAt })
    .from(supplierCalls)
    .where(
      and(
        gte(supplierCalls.startedAt, since),
        or(isNull(supplierCalls.instanceId), ne(supplierCalls.instanceId, instanceId)),
      ),
    )
    .orderBy(desc(supplierCalls.startedAt))
    .limit(1)
    .get();
  return row ? { instanceId: row.instanceId, startedAt: Number(row.startedAt) } : null;
}
