import { and, eq, isNull, sql } from 'drizzle-orm';
import type { DailySummaryRow } from '../types.js';
import type { Db } from './connection.js';
import { dailySummaries } from './schema.js';

// The daily summary's claims, timed by SQLite's own clock (epoch ms): a row written by one
// handle is judged by another on the same clock, whichever process holds the handle.

/** Now in epoch ms, the database's clock. */
const DB_NOW = sql`cast(unixepoch('subsec') * 1000 as integer)`;

/**
 * Inserts `day` claimed by `holder`, or takes it over when it is not sent and its claim has run
 * out: one statement, a compare-and-set. True when `holder` has it now.
 */
export function claimDailySummary(db: Db, day: string, holder: string, ttlMs: number): boolean {
  const until = sql`${DB_NOW} + ${Math.max(0, Math.round(ttlMs))}`;
  const taken = db
    .insert(dailySummaries)
    .values({ day, claimedBy: holder, claimedUntil: until, attempts: 1 })
    .onConflictDoUpdate({
      target: dailySummaries.day,
      set: { claimedBy: holder, claimedUntil: until, attempts: sql`${dailySummaries.attempts} + 1` },
      setWhere: and(isNull(dailySummaries.sentAt), sql`${dailySummaries.claimedUntil} <= ${DB_NOW}`),
    })
    .returning({ day: dailySummaries.day })
    .all();
  return taken.length === 1;
}

/** Records `day` as sent unless it was already: true when this call recorded it. */
export function markDailySummarySent(db: Db, day: string, holder: string, at: number): boolean {
  const result = db
    .update(dailySummaries)
    .set({ sentAt: at, sentBy: holder, lastError: null })
    .where(and(eq(dailySummaries.day, day), isNull(dailySummaries.sentAt)))
    .run();
  return result.changes === 1;
}

/** `holder`'s claim on an unsent `day` ends now; `reason` is kept. */
export function releaseDailySummary(db: Db, day: string, holder: string, reason: string): void {
  db.update(dailySummaries)
    .set({ claimedUntil: DB_NOW, lastError: reason })
    .where(
      and(eq(dailySummaries.day, day), eq(dailySummaries.claimedBy, holder), isNull(dailySummaries.sentAt)),
    )
    .run();
}

export function getDailySummary(db: Db, day: string): DailySummaryRow | undefined {
  return db.select().from(dailySummaries).where(eq(dailySummaries.day, day)).get();
}
