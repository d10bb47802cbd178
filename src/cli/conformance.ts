/**
 * `gateway conformance`: tests the readings against the Mitra at MITRA_BASE_URL with the
 * operator's credentials (issue 23 §3). The command only: its arguments, the refusal of an
 * unconfirmed production run, then the run (src/conformance/run/), the report saved and its
 * exit code. The judgement is src/conformance/judge/.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import {
  type Config,
  DEFAULT_READINGS_FILE,
  describeMitra,
  loadConfig,
  readEnvironment,
  resolvePaths,
} from '../config/env.js';
import { loadReadingsFile } from '../config/readings-file.js';
import { SCENARIO_KEYS } from '../conformance/plan.js';
import { renderSummary, renderText, reportStamp } from '../conformance/render.js';
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

export const CONFORMANCE_USAGE = `usage: gateway conformance [--listen HOST:PORT] [--timeout SECONDS] [--webhook-wait SECONDS]
         [--fail-product BRAND/VARIATION] [--refund-product BRAND/VARIATION] [--form KEY=VALUE]...
         [--production --confirm-spend IDR] [--json]`;

export interface ConformanceIo extends CliIo {
  conformanceClock?: ConformanceClock;
}

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
  const production = describeMitra(config.mitra.baseUrl) === 'production';
  // Progress goes where it does not mix with the JSON on stdout.
  const say = (line: string) => (json ? io.err(line) : io.out(line));
  if (production && !(a.production && a.confirmSpend !== null)) {
    io.err(
      `gateway conformance: ${where.mitra.url} is Mitra's production: every order it places is paid for. It would order:`,
    );
    for (const line of describePlanWithoutPrices(a)) io.err(`  ${line}`);
    io.err(
      'Prices are read from the catalogue. Run again with --production --confirm-spend <IDR>: it reads the catalogue, prints the total, and stops before ordering if the total is more than that.',
    );
    if (json)
      io.out(
        JSON.stringify({
          exitCode: 2,
          problems: ['production refused without --production and --confirm-spend'],
        }),
      );
    return 2;
  }

  const clock = (io as ConformanceIo).conformanceClock ?? realClock;
  let stopped = false;
  void io.stopSignal?.then(() => {
    stopped = true;
  });
  let store: Store;
  try {
    store = await openStore(config);
    await store.migrate();
  } catch (err) {
    return fail([`the database ${describeStore(config)} cannot be opened: ${(err as Error).message}`]);
  }
  const run = new Run(config, readings, readingsFile, a, store, clock, say, () => stopped);
  try {
    const report = await run.execute(cliLogger(io));
    const dir = config.conformanceDir;
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
    // Could not run to its end: 2, never 1 (which says a reading is contradicted).
    return fail([
      err instanceof ProductionSpend ? err.message : `stopped by an error: ${(err as Error).message}`,
    ]);
  } finally {
    await run.close();
    await store.close();
  }
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
