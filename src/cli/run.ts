import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_READINGS_FILE, type EnvSource, readEnvironment, storageEnvSchema } from '../config/env.js';
import { loadReadingsFile } from '../config/readings-file.js';
import { signRequest } from '../razer/signature.js';
import { SANDBOX_CREDENTIALS } from '../sandbox-credentials.js';
import { runBalance } from './balance.js';
import { runCheck } from './check.js';
import { runConformance } from './conformance.js';
import { runDemo } from './demo.js';
import { runMoveStore } from './move-store.js';
import { runPrune } from './prune.js';
import { runReport } from './report.js';
import { runSandbox } from './sandbox.js';
import { runSim } from './sim.js';
import { storeSettings, withStore } from './storage.js';
import { runStory } from './story.js';
import { runTx } from './tx.js';

export interface CliIo {
  env: EnvSource;
  cwd: string;
  out(line: string): void;
  err(line: string): void;
  /** Settles when the process is asked to stop (SIGINT/SIGTERM); long-running commands wait on it. */
  stopSignal?: Promise<void>;
}

const USAGE = `usage: gateway <command> [options]

commands:
  check [--mapping FILE] [--online] [--json]
                             validate the environment and the mapping file; --online also against
                             the live catalogue, through the running gateway (exit 1 on a problem)
  migrate [--database PATH]  create or update the database schema (safe to repeat)
  sandbox                    run the gateway with public test credentials and the example mapping
  prune [--days N] [--database PATH] [--json]
                             delete the audit records of final transactions older than N days
                             (default RETENTION_DAYS, else 90); transactions and their events stay
  move-store [--to URL] [--from PATH] [--batch N] [--json]
                             copy the SQLite database (DATABASE_PATH) into an empty PostgreSQL one
                             (DATABASE_URL), verify it, and mark it done (the gateway refuses one
                             left unfinished); stop the gateway first
  story <transactionNumber> [--database PATH]
                             print a transaction's story: Razer requests, state moves, supplier calls
  tx list|show|recheck|resolve ...
                             list and read transactions (from the database); recheck and resolve
                             them through the running gateway (gateway tx for the options)
  balance [--json]           the supplier balance the running gateway last polled
  report --from D --to D [--by day|sku] [--csv FILE|-] [--force] [--database PATH]
                             sales per day or SKU: sold, delivered, failed, refunded, open, revenue,
                             cost and profit in IDR (days at REPORT_UTC_OFFSET, both ends included)
  report --transactions --from D --to D --csv FILE|- [--force] [--database PATH]
                             one CSV row per transaction created in the range, for the accountant
  conformance [--listen HOST:PORT] [--timeout S] [--settle S] [--webhook-wait S] [--fail-product B/V]
              [--refund-product B/V] [--form KEY=VALUE]... [--production --confirm-spend IDR] [--json]
                             test the readings against MITRA_BASE_URL with real orders (the published
                             sandbox scenarios); report in CONFORMANCE_DIR (exit 1: a reading is
                             contradicted, 2: could not run; production needs --production and
                             --confirm-spend)
  sign <METHOD> <PATH> [BODY]
                             print the X-Razer-Signature Razer Gold would send (RAZER_API_ID/KEY)
  demo                       play four purchases against a fresh sandbox and print their stories
  sim [--port N] [--webhook-url URL] [--complete-after-ms N] [--rate-limit 200/60s] [--dialect NAME]
                             run the Mitra simulator alone
  help                       this text

Settings come from the environment, then ./.env; see README.md.`;

type Command = (args: string[], io: CliIo) => Promise<number> | number;

const commands: Record<string, Command> = {
  story: (args, io) => {
    const { values, positionals } = parseArgs({
      args,
      options: { database: { type: 'string' } },
      allowPositionals: true,
      strict: true,
    });
    return runStory({ number: positionals[0], database: values.database }, io);
  },
  prune: (args, io) => {
    const { values } = parseArgs({
      args,
      options: { days: { type: 'string' }, database: { type: 'string' }, json: { type: 'boolean' } },
      strict: true,
    });
    return runPrune({ days: values.days, database: values.database, json: values.json ?? false }, io);
  },
  tx: (args, io) => runTx(args, io),
  'move-store': (args, io) => runMoveStore(args, io),
  balance: (args, io) => runBalance(args, io),
  report: (args, io) => runReport(args, io),
  sign: (args, io) => {
    const [method, path, body = ''] = args;
    if (!method || !path?.startsWith('/')) {
      io.err('gateway sign: usage: gateway sign <METHOD> <PATH_AND_QUERY> [BODY]');
      return 2;
    }
    const env = readEnvironment(io.cwd, io.env);
    const apiId = env.RAZER_API_ID ?? SANDBOX_CREDENTIALS.RAZER_API_ID;
    const key = env.RAZER_API_KEY ?? SANDBOX_CREDENTIALS.RAZER_API_KEY;
    // Signed as the gateway verifies: by the readings file's razer.signed_content.
    const file = env.READINGS_FILE || DEFAULT_READINGS_FILE;
    const readings = loadReadingsFile(resolve(io.cwd, file), Boolean(env.READINGS_FILE));
    if (!readings.ok) {
      for (const e of readings.errors) io.err(`gateway sign: ${e}`);
      return 1;
    }
    const mode = readings.value.razer.signed_content;
    io.out(signRequest({ apiId, key }, mode, method.toUpperCase(), path, body));
    return 0;
  },
  demo: (args, io) => {
    parseArgs({ args, options: {}, strict: true });
    return runDemo(io);
  },
  sim: (args, io) => runSim(args, io, io.stopSignal ?? new Promise<void>(() => {})),
  sandbox: (args, io) => {
    parseArgs({ args, options: {}, strict: true });
    return runSandbox(io, io.stopSignal ?? new Promise<void>(() => {}));
  },
  help: (_args, io) => {
    io.out(USAGE);
    return 0;
  },
  check: (args, io) => runCheck(args, io),
  conformance: (args, io) => runConformance(args, io),
  migrate: (args, io) => {
    const { values } = parseArgs({ args, options: { database: { type: 'string' } }, strict: true });
    const found = storeSettings(storageEnvSchema, io, values.database);
    if (!found) return 1;
    return withStore(
      'migrate',
      found.settings,
      io,
      async (store, where) => {
        const applied = await store.migrate();
        io.out(
          applied > 0
            ? `migrate: applied ${applied} migration(s) to ${where}`
            : `migrate: ${where} is up to date`,
        );
        return 0;
      },
      { mayCreate: true },
    );
  },
};

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [name = 'help', ...args] = argv;
  const command = commands[name === '--help' || name === '-h' ? 'help' : name];
  if (!command) {
    io.err(`gateway: unknown command '${name}'`);
    io.err(USAGE);
    return 2;
  }
  try {
    return await command(args, io);
  } catch (err) {
    io.err(`gateway ${name}: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}
