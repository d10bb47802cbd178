import { and, asc, eq, gt, isNull } from 'drizzle-orm';
import type { NewWebhook, WebhookRow } from '../types.js';
import type { Db } from './connection.js';
import { webhookInbox } from './schema.js';

export function storeWebhook(db: Db, webhook: NewWebhook): number {
  return db.insert(webhookInbox).values(webhook).returning({ id: webhookInbox.id }).get().id;
}

export function getWebhook(db: Db, id: number): WebhookRow | undefined {
  return db.select().from(webhookInbox).where(eq(webhookInbox.id, id)).get();
}

export function markWebhook(
  db: Db,
  id: number,
  outcome: { kind: string; transactionRef: string | null; result: string },
  at: number,
): void {
  db.update(webhookInbox)
    .set({
      kind: outcome.kind,
      transactionRef: outcome.transactionRef,
      result: outcome.result,
      processedAt: at,
    })
    .where(eq(webhookInbox.id, id))
    .run();
}

/** One page of the webhooks stored but not processed (the process stopped in between), by id. */
export function listUnprocessedWebhooks(db: Db, limit = 1000, afterId = 0): WebhookRow[] {
  return db
    .select()
    .from(webhookInbox)
    .where(and(isNull(webhookInbox.processedAt), gt(webhookInbox.id, afterId)))
    .orderBy(asc(webhookInbox.id))
    .limit(limit)
    .all();
}

export function listWebhooks(db: Db, limit = 1000): WebhookRow[] {
  return db.select().from(webhookInbox).orderBy(asc(webhookInbox.id)).limit(limit).all();
}
