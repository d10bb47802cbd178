import { readStory, type Story } from '../admin/story.js';
import { storageEnvSchema } from '../config/env.js';
import type { Store } from '../db/store.js';
import { figuresText } from '../fulfilment/profit.js';
import type { CliIo } from './run.js';
import { storeSettings, withStore } from './storage.js';

const time = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
const clip = (text: string | null, max = 160) =>
  text && text.length > max ? `${text.slice(0, max - 3)}...` : (text ?? '');

/** A transaction's story, oldest first: Razer's requests, state moves, supplier calls, webhooks. Pure. */
export function formatStory(story: Story): string[] {
  const { transaction: row, events, exchanges, supplierCalls: calls, webhooks } = story;
  const lines = [
    `transaction ${row.transactionNumber}: ${row.state}${row.attention ? `  [OPERATOR: ${row.attentionReason}]` : ''}`,
    `  sku ${row.sku} -> Mitra ${row.brandKey}/${row.variationKey} (max ${row.maxPrice} IDR), account ${row.accountId}`,
    `  ref_id ${row.refId}${row.trxCode ? `, trx_code ${row.trxCode}` : ''}${row.pricePaid ? `, paid ${row.pricePaid} IDR` : ''}${row.voucherCode ? `, voucher/serial ${row.voucherCode}` : ''}`,
  ];
  if (row.failureCode) lines.push(`  failure ${row.failureCode}: ${row.failureReason ?? ''}`);
  const money = figuresText(story.money);
  lines.push(`  cost ${money.cost}; revenue ${money.revenue}; profit ${money.profit}`);
  const entries: { at: number; order: number; text: string }[] = [
    // An answer is placed when it was sent, after the moves it reports.
    ...exchanges.map((x) => ({
      at: x.respondedAt,
      order: 3,
      text: `razer    ${x.method} ${x.path} -> ${x.responseStatus} ${clip(x.responseBody, 120)}`,
    })),
    ...events.map((e) => ({
      at: e.at,
      order: 1,
      text: `state    ${e.fromState} -> ${e.toState} (${e.cause}${e.actor ? ` ${e.actor}` : ''})${e.detail ? `: ${e.detail}` : ''}`,
    })),
    ...calls.map((c) => ({
      at: c.startedAt,
      order: 2,
      text: `mitra    ${c.operation} -> ${c.outcome}${c.httpStatus ? ` HTTP ${c.httpStatus}` : ''}${c.rcCode ? ` rc ${c.rcCode}` : ''} (${c.durationMs} ms)${c.error ? `: ${c.error}` : ''}`,
    })),
    ...webhooks.map((w) => ({
      at: w.receivedAt,
      order: 0,
      text: `webhook  #${w.id} from ${w.sourceIp}: ${w.processedAt === null ? 'not processed yet' : (w.result ?? '')}`,
    })),
  ].sort((a, b) => a.at - b.at || a.order - b.order);
  for (const entry of entries) lines.push(`  ${time(entry.at)}  ${entry.text}`);
  return lines;
}

export async function storyOf(store: Store, transactionNumber: string): Promise<string[] | null> {
  const story = await readStory(store, transactionNumber);
  return story && formatStory(story);
}

/** `gateway story <transactionNumber> [--database PATH]` */
export async function runStory(
  args: { number: string | undefined; database: string | undefined },
  io: CliIo,
): Promise<number> {
  const n = args.number;
  if (!n) {
    io.err('gateway story: name a transaction number, e.g. gateway story 121VKD1KFHP8B6ECD7862');
    return 2;
  }
  const found = storeSettings(storageEnvSchema, io, args.database);
  if (!found) return 1;
  return withStore('story', found.settings, io, async (store) => {
    const story = await storyOf(store, n);
    if (!story) {
      io.err(`gateway story: no transaction ${n}`);
      return 1;
    }
    for (const line of story) io.out(line);
    return 0;
  });
}
