import { pruneEnvSchema } from '../config/env.js';
import { pruneAuditRecords, retentionCutoff } from '../db/retention.js';
import type { CliIo } from './run.js';
import { storeSettings, withStore } from './storage.js';

/** A whole number of days, at least 1; null for anything else. */
function parseRetentionDays(text: string): number | null {
  if (!/^\d+$/.test(text.trim())) return null;
  const days = Number(text.trim());
  return Number.isSafeInteger(days) && days >= 1 ? days : null;
}

const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

/** `gateway prune [--days N] [--database PATH] [--json]` */
export async function runPrune(
  args: { days: string | undefined; database: string | undefined; json: boolean },
  io: CliIo,
  now: number = Date.now(),
): Promise<number> {
  const found = storeSettings(pruneEnvSchema, io, args.database);
  if (!found) return 1;
  let days = found.env.RETENTION_DAYS;
  if (args.days !== undefined) {
    const parsed = parseRetentionDays(args.days);
    if (parsed === null) {
      io.err(`gateway prune: --days must be a whole number of at least 1, got "${args.days}"`);
      return 2;
    }
    days = parsed;
  }
  const before = retentionCutoff(now, days);
  return withStore('prune', found.settings, io, async (store, path) => {
    const deleted = await pruneAuditRecords(store, { before });
    const cutoff = new Date(before).toISOString();
    if (args.json) {
      io.out(JSON.stringify({ database: path, days, before: cutoff, deleted }));
    } else {
      io.out(
        `prune: deleted ${count(deleted.exchanges, 'Razer exchange')}, ${count(deleted.supplierCalls, 'supplier call')} and ${count(deleted.webhooks, 'webhook')} older than ${count(days, 'day')} (before ${cutoff}) from ${path}`,
      );
    }
    return 0;
  });
}
