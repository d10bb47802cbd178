/**
 * The webhooks a run's orders caused, from its listener or as a running gateway stored them,
 * waited for and kept as records (secrets redacted) with what names our orders in them.
 */
import { shownHeaders } from '../../admin/story.js';
import type { Config } from '../../config/env.js';
import type { Store } from '../../db/store.js';
import { normaliseIp } from '../../mitra/webhook-route.js';
import type { Readings } from '../../readings/settings.js';
import { webhookReading } from '../judge/index.js';
import type { Observations, OrderRecord, WebhookRecord } from '../report.js';
import { placesOf } from '../search.js';
import { type ConformanceClock, POLL_INTERVAL_MS } from './clock.js';

export interface Received {
  at: number;
  via: 'listener' | 'store';
  source: string;
  headers: Record<string, string>;
  body: string;
}

export interface WebhookWait {
  /** What the listener received so far, or null: read what the store keeps. */
  listened: readonly Received[] | null;
  store: Store;
  config: Config;
  readings: Readings;
  redact: (text: string) => string;
  clock: ConformanceClock;
  waitMs: number;
  stopped: () => boolean;
}

/** Pages of stored webhooks read at most per look: 10,000 webhooks. */
const MAX_PAGES = 20;
const PAGE = 500;

/**
 * The webhooks our orders caused: from the listener, or as a running gateway stored them. Only
 * those naming one of our ref_ids or trx codes are kept (a running gateway stores every
 * customer's); the others are counted. Headers as the admin API shows them.
 */
export async function awaitWebhooks(
  orders: OrderRecord[],
  wallStart: number,
  w: WebhookWait,
): Promise<Observations['webhooks']> {
  const via = w.listened ? 'listener' : 'store';
  const names = [
    ...new Set(orders.flatMap((o) => [o.refId, ...(o.create.trxCode ? [o.create.trxCode] : [])])),
  ].filter(Boolean);
  const placed = orders.filter((o) => o.create.trxCode !== null);
  const started = w.clock.now();
  const deadline = started + w.waitMs;
  const fresh = w.listened ? listenerReader(w.listened) : storeReader(w.store, wallStart);
  const items: WebhookRecord[] = [];
  let others = 0;
  for (;;) {
    for (const h of await fresh()) {
      const record = webhookRecord(h, names, w);
      if (record.names.length > 0) items.push(record);
      else others++;
    }
    const named = new Set(items.flatMap((h) => h.names));
    const all = placed.every((o) => named.has(o.create.trxCode ?? '') || named.has(o.refId));
    if (all || placed.length === 0 || w.stopped()) break;
    const left = deadline - w.clock.now();
    if (left <= 0) break;
    await w.clock.sleep(Math.min(POLL_INTERVAL_MS, left));
  }
  items.sort((a, b) => a.receivedAt.localeCompare(b.receivedAt));
  return { via, waitedSeconds: Math.round((w.clock.now() - started) / 1000), items, others };
}

/** What the listener received since the last look. */
function listenerReader(listened: readonly Received[]): () => Promise<Received[]> {
  let read = 0;
  return async () => {
    const fresh = listened.slice(read);
    read += fresh.length;
    return fresh;
  };
}

/** What the store received since the last look, newest first, from 60 s before the run. */
function storeReader(store: Store, wallStart: number): () => Promise<Received[]> {
  const seen = new Set<number>();
  return async () => {
    const fresh: Received[] = [];
    let beforeId: number | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      // A margin before the run for the clocks of other instances.
      const p = await store.pageWebhooks({ since: wallStart - 60_000, limit: PAGE, beforeId });
      const unseen = p.items.filter((row) => !seen.has(row.id));
      for (const row of unseen) {
        seen.add(row.id);
        fresh.push({
          at: row.receivedAt,
          via: 'store',
          source: row.sourceIp,
          headers: row.headers,
          body: row.body,
        });
      }
      // Newest first: a page with one seen before reaches what the last look read.
      if (unseen.length < p.items.length || p.next === null) break;
      beforeId = p.next;
    }
    return fresh;
  };
}

function webhookRecord(
  h: Received,
  names: readonly string[],
  w: Pick<WebhookWait, 'config' | 'readings' | 'redact'>,
): WebhookRecord {
  const allow = w.config.mitra.webhookAllowIps;
  let body: unknown;
  let parsed = true;
  try {
    body = JSON.parse(h.body);
  } catch {
    parsed = false;
  }
  return {
    receivedAt: new Date(h.at).toISOString(),
    via: h.via,
    source: h.source,
    allowedSource: allow === '*' || allow.map(normaliseIp).includes(normaliseIp(h.source)),
    headers: Object.fromEntries(Object.entries(shownHeaders(h.headers)).map(([k, v]) => [k, w.redact(v)])),
    body: w.redact(h.body),
    // Whole values only: conf-…-1 must not be found in conf-…-10.
    names: names.filter((n) => (parsed ? placesOf(body, n).length > 0 : h.body.includes(n))),
    readAs: webhookReading(h.body, w.readings),
  };
}
