/**
 * `gateway conformance`: tests the readings against the Mitra at MITRA_BASE_URL with the
 * operator's credentials (issue 23 §3). The command only: its arguments, the refusal of an
 * unconfirmed production run, then the run (src/conformance/run/), the report saved and its
 * exit code. The judgement is src/conformance/judge/.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import {
  type Config,
  DEFAULT_READINGS_FILE,
  describeMitra,
  isFreeMitra,
  loadConfig,
  MITRA_DEVELOPMENT_URL,
  readEnvironment,
  resolvePaths,
} from '../config/env.js';
import { loadReadingsFile } from '../config/readings-file.js';
import { SCENARIO_KEYS } from '../conformance/plan.js';
import { renderSummary, renderText, reportStamp } from '../conformance/render.js';
import type { ConformanceReport } from '../conformance/report.js';
import { type ConformanceClock, realClock } from '../conformance/run/clock.js';
import { ProductionSpend, Run } from '../conformance/run/index.js';
import { describeStore, openStore } from '../db/open.js';
import type { Store } from '../db/store.js';
import { whereabouts } from '../gateway.js';
import type { Logger } from '../log.js';
import type { Readings } from '../readings/settings.js';
import { type ConformanceArgs, parseConformanceArgs } from './conformance-args.js';
import type { CliIo } from './run.js';

export type { ConformanceClock } from '../conformance/run/clock.js';
export { POLL_INTERVAL_MS } from '../conformance/run/clock.js';

export const CONFORMANCE_USAGE = `usage: gateway conformance [--listen HOST:PORT] [--timeout SECONDS] [--settle SECONDS] [--webhook-wait SECONDS]
         [--fail-product BRAND/VARIATION] [--refund-product BRAND/VARIATION] [--form KEY=VALUE]...
         [--production --confirm-spend IDR] [--json]`;

export interface ConformanceIo extends CliIo {
  conformanceClock?: ConformanceClock;
}

/** How far back a call of another process says that a gateway is running (it asks the balance every 5 minutes, the catalogue every 10). */
export const OTHER_CALLER_LOOKBACK_MS = 10 * 60_000;

/** Exit codes: 0 nothing contradicted, 1 something contradicted, 2 could not run. */
export async function runConformance(args: string[], io: CliIo): Promise<number> {
  const parsed = parseConformanceArgs(args);
  const json = args.includes('--json');
  const fail = (problems: string[]): number => {
    for (const p of problems) io.err(`gateway conformance: ${p}`);
    if (json) io.out(JSON.stringify({ exitCode: 2, problems }));
    return 2;
  };
  if (!parsed.ok) {
    io.err(CONFORMANCE_USAGE);
    return fail([parsed.problem]);
  }
  const a = parsed.value;
  let config: Config;
  let readings: Readings;
  let readingsFile: string;
  try {
    const env = readEnvironment(io.cwd, io.env);
    const loaded = loadConfig(env);
    if (!loaded.ok) return fail(loaded.errors.map((e) => `environment: ${e}`));
    config = resolvePaths(loaded.value, io.cwd);
    readingsFile = env.READINGS_FILE || DEFAULT_READINGS_FILE;
    const r = loadReadingsFile(config.readingsFile, config.readingsRequired);
    if (!r.ok) return fail(r.errors.map((e) => e.replace(config.readingsFile, readingsFile)));
    readings = r.value;
  } catch (err) {
    return fail([(err as Error).message]);
  }

  const where = whereabouts(config);
  const host = describeMitra(config.mitra.baseUrl);
  // Progress goes where it does not mix with the JSON on stdout.
  const say = (line: string) => (json ? io.err(line) : io.out(line));
  // An allow-list: orders are free only on Mitra's development host and on this machine (the
  // simulator). Any other host may be production under another name: a relay, a proxy.
  if (!isFreeMitra(config.mitra.baseUrl) && !(a.production && a.confirmSpend !== null)) {
    io.err(
      host === 'production'
        ? `gateway conformance: ${where.mitra.url} is Mitra's production: every order it places is paid for. It would order:`
        : `gateway conformance: ${where.mitra.url} is neither Mitra's development host (${MITRA_DEVELOPMENT_URL}) nor this machine: it may lead to Mitra's production (a relay, a proxy), where every order it places is paid for. It would order:`,
    );
    for (const line of describePlanWithoutPrices(a)) io.err(`  ${line}`);
    io.err(
      'Prices are read from the catalogue. Run again with --production --confirm-spend <IDR>: it reads the catalogue, prints the total, and stops before ordering if the total is more than that.',
    );
    if (json)
      io.out(
        JSON.stringify({
          exitCode: 2,
          problems: [
            host === 'production'
              ? 'production refused without --production and --confirm-spend'
              : 'a host other than the development host or this machine, refused without --production and --confirm-spend',
          ],
        }),
      );
    return 2;
  }

  // Where the report will be saved, proven writable before anything is spent.
  const dir = config.conformanceDir;
  try {
    await provenWritable(dir);
  } catch (err) {
    return fail([
      `the report could not be saved in ${dir} (CONFORMANCE_DIR): ${(err as Error).message}; nothing was sent to Mitra`,
    ]);
  }

  const clock = (io as ConformanceIo).conformanceClock ?? realClock;
  let stopped = false;
  void io.stopSignal?.then(() => {
    stopped = true;
  });
  let store: Store;
  // Its own instance name, whatever INSTANCE_ID the settings file gives the gateway too: its
  // calls are told from a running gateway's.
  const instanceId = `${config.instanceId}-conformance`;
  try {
    store = await openStore({ ...config, instanceId });
    await store.migrate();
  } catch (err) {
    return fail([`the database ${describeStore(config)} cannot be opened: ${(err as Error).message}`]);
  }
  let run: Run | null = null;
  try {
    const busy = await otherCaller(config, store, instanceId);
    if (busy) return fail([busy]);
    run = new Run(config, readings, readingsFile, a, store, clock, say, () => stopped);
    let report: ConformanceReport;
    try {
      report = await run.execute(cliLogger(io));
    } catch (err) {
      // Could not run to its end: 2, never 1 (which says a reading is contradicted).
      if (err instanceof ProductionSpend) return fail([run.redacted(err.message)]);
      const why = `stopped by an error: ${(err as Error).message}`;
      const partial = await run.partialReport(
        `${why} (this report is partial: what was observed until then)`,
      );
      if (!partial) return fail([run.redacted(why)]);
      io.err(`gateway conformance: ${run.redacted(why)}`);
      report = partial;
    }
    // Every string of it: the supplier's words may carry a secret or a sign anywhere.
    report = run.redacted(report);
    const stem = join(dir, `conformance-${reportStamp(Date.parse(report.startedAt))}`);
    try {
      await mkdir(dir, { recursive: true });
      await writeFile(`${stem}.txt`, renderText(report));
      await writeFile(`${stem}.json`, `${JSON.stringify(report, null, 2)}\n`);
    } catch (err) {
      io.err(`gateway conformance: the report could not be saved in ${dir}: ${(err as Error).message}`);
      if (json) io.out(JSON.stringify(report));
      else io.out(renderSummary(report));
      return 2;
    }
    if (json) io.out(JSON.stringify(report));
    else {
      io.out(renderSummary(report));
      io.out('');
      io.out(`report saved: ${stem}.txt and ${stem}.json`);
    }
    return report.exitCode;
  } catch (err) {
    const why = `stopped by an error: ${(err as Error).message}`;
    return fail([run ? run.redacted(why) : why]);
  } finally {
    await run?.close();
    await store.close();
  }
}

/** `dir` made if needed, and a file written in it and removed: the report will be saved there. */
async function provenWritable(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  // Not named like a report: the console never takes it for one.
  const probe = join(dir, `.write-probe-${process.pid}-${randomBytes(4).toString('hex')}`);
  await writeFile(probe, '');
  await rm(probe, { force: true });
}

/**
 * Why conformance must not run now, or null: a gateway calling Mitra from this database, whose
 * rate budget it would not share (SQLite, or MITRA_RATE_LIMIT_SCOPE=instance): each would spend
 * the whole MITRA_RATE_LIMIT. A running gateway's calls are recorded here, one at least every
 * 10 minutes (the balance every 5).
 */
async function otherCaller(config: Config, store: Store, instanceId: string): Promise<string | null> {
  const shared = config.mitra.rateLimitScope === 'shared' && config.databaseUrl !== null;
  if (shared) return null;
  const other = await store.lastCallOfOtherInstance(instanceId, Date.now() - OTHER_CALLER_LOOKBACK_MS);
  if (!other) return null;
  const at = new Date(other.startedAt).toISOString();
  const clearAt = new Date(other.startedAt + OTHER_CALLER_LOOKBACK_MS).toISOString();
  return (
    `a gateway is calling Mitra from this database (instance ${other.instanceId ?? '(unnamed)'}, last call at ${at}): ` +
    'its rate budget is not shared on SQLite; stop it during conformance, or use PostgreSQL with MITRA_RATE_LIMIT_SCOPE=shared ' +
    `(once it is stopped, run again after ${clearAt})`
  );
}

/** What the run would order, before any price is known. */
function describePlanWithoutPrices(a: ConformanceArgs): string[] {
  return [
    `${SCENARIO_KEYS.topup} (top-up, expected delivered), ${SCENARIO_KEYS.voucher} (voucher, expected delivered)`,
    ...(a.fail ? [`${a.fail.brandKey}/${a.fail.variationKey} (expected failed)`] : []),
    ...(a.refund ? [`${a.refund.brandKey}/${a.refund.variationKey} (expected refunded)`] : []),
    `${SCENARIO_KEYS.notFound}, an empty ref_id, an empty data and a repeated ref_id at the ${SCENARIO_KEYS.topup} price (expected refused: charged only if Mitra took them)`,
  ];
}

/** Pino lines of the limiter and the store, as one line each on stderr (warnings and worse). */
function cliLogger(io: CliIo): Logger {
  return pino(
    { level: 'warn', base: null },
    {
      write: (line: string) => {
        try {
          const l = JSON.parse(line) as { msg?: string };
          io.err(`gateway conformance: ${l.msg ?? line.trim()}`);
        } catch {
          io.err(line.trim());
        }
      },
    },
  );
}
