import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv, pruneEnvSchema, readEnvironment } from '../config/env.js';
import { openStorage } from '../db/connection.js';
import { pruneAuditRecords, retentionCutoff } from '../db/retention.js';
import type { CliIo } from './run.js';

/** A whole number of days, at least 1; null for anything else. */
function parseRetentionDays(text: string): number | null {
  if (!/^\d+$/.test(text.trim())) return null;
  const days = Number(text.trim());
  return Number.isSafeInteger(days) && days >= 1 ? days : null;
}

const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

/** `gateway prune [--days N] [--database PATH] [--json]` */
export function runPrune(
  args: { days: string | undefined; database: string | undefined; json: boolean },
  io: CliIo,
  now: number = Date.now(),
): number {
  const env = parseEnv(pruneEnvSchema, readEnvironment(io.cwd, io.env));
  if (!env.ok) {
    for (const e of env.errors) io.err(`environment: ${e}`);
    return 1;
  }
  let days = env.value.RETENTION_DAYS;
  if (args.days !== undefined) {
    const parsed = parseRetentionDays(args.days);
    if (parsed === null) {
      io.err(`gateway prune: --days must be a whole number of at least 1, got "${args.days}"`);
      return 2;
    }
    days = parsed;
  }
  const path = resolve(io.cwd, args.database ?? env.value.DATABASE_PATH);
  // Opening a missing file would create an empty database: a typo must not look like success.
  if (!existsSync(path)) {
    io.err(`gateway prune: no database at ${path}`);
    return 1;
  }
  const before = retentionCutoff(now, days);
  const storage = openStorage(path);
  try {
    const deleted = pruneAuditRecords(storage.db, { before });
    const cutoff = new Date(before).toISOString();
    if (args.json) {
      io.out(JSON.stringify({ database: path, days, before: cutoff, deleted }));
    } else {
      io.out(
        `prune: deleted ${count(deleted.exchanges, 'Razer exchange')}, ${count(deleted.supplierCalls, 'supplier call')} and ${count(deleted.webhooks, 'webhook')} older than ${count(days, 'day')} (before ${cutoff}) from ${path}`,
      );
    }
    return 0;
  } finally {
    storage.close();
  }
}
