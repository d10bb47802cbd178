/**
 * The webhooks a run's orders caused, from its listener or as a running gateway stored them,
 * waited for and kept as records (secrets redacted) with what names our orders in them.
 */
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

/** The webhooks our orders caused: from the listener, or as a running gateway stored them. */
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
  let items: WebhookRecord[] = [];
  for (;;) {
    const received = w.listened ? [...w.listened] : await storedWebhooks(w.store, wallStart);
    items = received.map((h) => webhookRecord(h, names, w));
    const named = new Set(items.flatMap((h) => h.names));
    const all = placed.every((o) => named.has(o.create.trxCode ?? '') || named.has(o.refId));
    if (all || placed.length === 0 || w.stopped()) break;
    const left = deadline - w.clock.now();
    if (left <= 0) break;
    await w.clock.sleep(Math.min(POLL_INTERVAL_MS, left));
  }
  return { via, waitedSeconds: Math.round((w.clock.now() - started) / 1000), items };
}

async function storedWebhooks(store: Store, wallStart: number): Promise<Received[]> {
  // Only what arrived since this run began (with a margin for the clocks of other instances).
  const page = await store.pageWebhooks({ since: wallStart - 60_000, limit: 500 });
  return page.items.map((row) => ({
    at: row.receivedAt,
    via: 'store' as const,
    source: row.sourceIp,
    headers: row.headers,
    body: row.body,
  }));
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
    headers: Object.fromEntries(Object.entries(h.headers).map(([k, v]) => [k, w.redact(v)])),
    body: w.redact(h.body),
    // Whole values only: conf-…-1 must not be found in conf-…-10.
    names: names.filter((n) => (parsed ? placesOf(body, n).length > 0 : h.body.includes(n))),
    readAs: webhookReading(h.body, w.readings),
  };
}
