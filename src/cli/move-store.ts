import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { storageEnvSchema } from '../config/env.js';
import { moveStore, type StoreMoveResult, shortReason } from '../db/move/copy.js';
import { describeStore } from '../db/open.js';
import type { CliIo } from './run.js';
import { storeSettings } from './storage.js';

/**
 * `gateway move-store [--to URL] [--from PATH] [--json]`: the SQLite database (DATABASE_PATH by
 * default) into an empty PostgreSQL one, verified. Exit 0 done, 1 a difference found (the target
 * stays marked unfinished), 2 refused or could not run; the source is only read.
 */
export async function runMoveStore(args: string[], io: CliIo): Promise<number> {
  let values: { to?: string; from?: string; json?: boolean; batch?: string };
  try {
    ({ values } = parseArgs({
      args,
      options: {
        to: { type: 'string' },
        from: { type: 'string' },
        batch: { type: 'string' },
        json: { type: 'boolean' },
      },
      strict: true,
    }));
  } catch (err) {
    io.err(`gateway move-store: ${(err as Error).message}`);
    return 2;
  }
  const found = storeSettings(storageEnvSchema, io, values.from);
  if (!found) return 2;
  // DATABASE_URL by default: from the settings file, its password stays out of `ps` and history.
  const url = values.to ?? found.env.DATABASE_URL;
  if (!url) {
    io.err(
      'gateway move-store: the PostgreSQL database to move into is DATABASE_URL (or --to postgres://user:pass@host/db); neither is set',
    );
    return 2;
  }
  if (!/^postgres(ql)?:\/\//i.test(url)) {
    io.err(
      `gateway move-store: ${values.to ? '--to' : 'DATABASE_URL'} must be a PostgreSQL URL (postgres://user:pass@host/db)`,
    );
    return 2;
  }
  const from = found.settings.databasePath;
  if (!existsSync(from)) {
    io.err(`gateway move-store: ${from} does not exist (--from, else DATABASE_PATH)`);
    return 2;
  }
  const batch = values.batch === undefined ? 1000 : Number(values.batch);
  if (!Number.isInteger(batch) || batch < 1 || batch > 10_000) {
    io.err(`gateway move-store: --batch must be a whole number from 1 to 10000, got "${values.batch}"`);
    return 2;
  }
  const to = describeStore({ ...found.settings, databaseUrl: url });
  if (!values.json) io.out(`move-store: ${from} -> ${to}`);
  const crashAfter = Number(io.env.GATEWAY_MOVE_CRASH_AFTER_ROWS ?? Number.NaN);
  let result: StoreMoveResult;
  try {
    result = await moveStore({
      from,
      to: url,
      batch,
      progress: (line) => {
        if (!values.json) io.out(`  ${line}`);
      },
      // Test hook (crash tests only): the process dies midway through the copy.
      afterBatch: Number.isFinite(crashAfter)
        ? (_table, copied) => {
            if (copied >= crashAfter) process.kill(process.pid, 'SIGKILL');
          }
        : undefined,
    });
  } catch (err) {
    io.err(`gateway move-store: ${shortReason(err)}`);
    return 2;
  }
  if (values.json) io.out(JSON.stringify(result));
  if (result.kind === 'refused') {
    if (!values.json) io.err(`gateway move-store: refused: ${result.reason}`);
    return 2;
  }
  if (!values.json)
    for (const t of result.tables)
      io.out(
        `  ${t.table.padEnd(22)} ${String(t.source).padStart(10)} in SQLite  ${String(t.target).padStart(10)} in PostgreSQL  ${t.same ? 'same' : 'DIFFERENT'}`,
      );
  if (result.kind === 'different') {
    if (!values.json) {
      io.err(
        'gateway move-store: the copy differs from the source; the target stays marked unfinished, no gateway starts on it:',
      );
      for (const d of result.differences) io.err(`  ${d}`);
    }
    return 1;
  }
  if (!values.json)
    io.out(
      `  check ${(result.phases.checkMs / 1000).toFixed(1)} s, migrate ${(result.phases.migrateMs / 1000).toFixed(1)} s, copy ${(result.phases.copyMs / 1000).toFixed(1)} s, verify ${(result.phases.verifyMs / 1000).toFixed(1)} s`,
    );
  if (!values.json)
    io.out(
      `move-store: done in ${(result.ms / 1000).toFixed(1)} s: ${result.transactions} transactions verified one by one (row, events, answers, supplier calls). Start the gateway with DATABASE_URL.`,
    );
  return 0;
}
