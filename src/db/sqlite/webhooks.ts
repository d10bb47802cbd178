import { and, asc, desc, eq, gt, gte, isNotNull, isNull, lt, sql } from 'drizzle-orm';
import type { NewWebhook, WebhookPage, WebhookQuery, WebhookRow } from '../types.js';
import type { Db } from './connection.js';
import { insertRow, placeholders, prepared, shapeOf } from './prepared.js';
import { webhookInbox } from './schema.js';

export function storeWebhook(db: Db, webhook: NewWebhook): number {
  // The id is the rowid (an integer primary key).
  return insertRow(db, webhookInbox, webhook);
}

const BY_ID = Symbol('webhook by id');

export function getWebhook(db: Db, id: number): WebhookRow | undefined {
  return prepared(db, BY_ID, (d) =>
    d
      .select()
      .from(webhookInbox)
      .where(eq(webhookInbox.id, sql.placeholder('id')))
      .prepare(),
  ).get({ id });
}

export function markWebhook(
  db: Db,
  id: number,
  outcome: { kind: string; transactionRef: string | null; result: string },
  at: number,
): void {
  const values = {
    kind: outcome.kind,
    transactionRef: outcome.transactionRef,
    result: outcome.result,
    processedAt: at,
  };
  const shape = shapeOf(values);
  prepared(db, `mark webhook (${shape.join(',')})`, (d) =>
    d
      .update(webhookInbox)
      .set(placeholders(shape))
      .where(eq(webhookInbox.id, sql.placeholder('webhook.id')))
      .prepare(),
  ).run({ ...values, 'webhook.id': id });
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

/** One page of an operator's listing, newest first; one row more than asked tells whether another follows. */
export function pageWebhooks(db: Db, query: WebhookQuery): WebhookPage {
  const { processed } = query;
  const rows = db
    .select()
    .from(webhookInbox)
    .where(
      and(
        processed === undefined
          ? undefined
          : processed
            ? isNotNull(webhookInbox.processedAt)
            : isNull(webhookInbox.processedAt),
        query.kind === undefined ? undefined : eq(webhookInbox.kind, query.kind),
        query.transactionRef === undefined
          ? undefined
          : eq(webhookInbox.transactionRef, query.transactionRef),
        query.since === undefined ? undefined : gte(webhookInbox.receivedAt, query.since),
        query.until === undefined ? undefined : lt(webhookInbox.receivedAt, query.until),
        query.beforeId === undefined ? undefined : lt(webhookInbox.id, query.beforeId),
      ),
    )
    .orderBy(desc(webhookInbox.id))
    .limit(query.limit + 1)
    .all();
  const items = rows.slice(0, query.limit);
  return { items, next: rows.length > query.limit ? (items.at(-1)?.id ?? null) : null };
}
