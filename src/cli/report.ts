import { closeSync, existsSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { envVarsSchema, storageEnvSchema } from '../config/env.js';
import {
  lineFigures,
  type ReportLine,
  reportCsv,
  reportQuerySchema,
  salesReport,
  transactionCsvLines,
} from '../reports/sales.js';
import type { CliIo } from './run.js';
import { storeSettings, withStore } from './storage.js';
import { formatTable } from './table.js';

export const REPORT_USAGE = `usage:
  gateway report --from YYYY-MM-DD --to YYYY-MM-DD [--by day|sku] [--csv FILE|-] [--force] [--database PATH]
  gateway report --transactions --from YYYY-MM-DD --to YYYY-MM-DD --csv FILE|- [--force] [--database PATH]
days are inclusive and read at REPORT_UTC_OFFSET; --csv - writes to stdout; an existing FILE is
kept unless --force`;

/** What `gateway report` needs: the database, and where days begin. */
const reportEnvSchema = storageEnvSchema.extend({ REPORT_UTC_OFFSET: envVarsSchema.shape.REPORT_UTC_OFFSET });

const usageError = (io: CliIo, message: string): number => {
  io.err(`gateway report: ${message}`);
  io.err(REPORT_USAGE);
  return 2;
};

const offsetText = (minutes: number): string => {
  const abs = Math.abs(minutes);
  return `UTC${minutes < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
};

const n = (value: number) => value.toLocaleString('en-US');

/** Where CSV text goes: a file created here (removed again if the export fails), or stdout. */
interface CsvSink {
  write(text: string): void;
  /** Ends the output; `ok` false removes a file left half written. */
  end(ok: boolean): void;
}

function openSink(target: string, force: boolean, io: CliIo): CsvSink | string {
  if (target === '-') {
    // io.out ends each piece with LF: the text goes without its last LF, which io.out puts back.
    return { write: (text) => text && io.out(text.endsWith('\n') ? text.slice(0, -1) : text), end: () => {} };
  }
  const path = resolve(io.cwd, target);
  if (!force && existsSync(path)) return `--csv ${target}: the file exists; add --force to overwrite it`;
  let fd: number;
  try {
    fd = openSync(path, force ? 'w' : 'wx');
  } catch (err) {
    return `--csv ${target}: cannot create: ${err instanceof Error ? err.message : String(err)}`;
  }
  return {
    write: (text) => {
      writeSync(fd, text);
    },
    end: (ok) => {
      closeSync(fd);
      if (!ok) unlinkSync(path);
    },
  };
}

/** About how much CSV text is written at once. */
const CHUNK_CHARS = 64 * 1024;

function parse(args: string[]) {
  return parseArgs({
    args,
    options: {
      from: { type: 'string' },
      to: { type: 'string' },
      by: { type: 'string' },
      csv: { type: 'string' },
      transactions: { type: 'boolean' },
      force: { type: 'boolean' },
      database: { type: 'string' },
    },
    strict: true,
  }).values;
}

/** `gateway report ...`: the sales report as a table or CSV, or the transactions CSV. */
export async function runReport(args: string[], io: CliIo): Promise<number> {
  let values: ReturnType<typeof parse>;
  try {
    values = parse(args);
  } catch (err) {
    return usageError(io, err instanceof Error ? err.message : String(err));
  }
  if (values.transactions && values.by !== undefined)
    return usageError(io, '--by does not apply to --transactions (one row per transaction)');
  if (values.transactions && values.csv === undefined)
    return usageError(io, '--transactions needs --csv FILE (or --csv - for stdout)');
  if (values.csv === '') return usageError(io, '--csv needs a file name, or - for stdout');
  if (values.force && values.csv === undefined) return usageError(io, '--force only applies with --csv FILE');
  const parsed = reportQuerySchema.safeParse({ from: values.from, to: values.to, by: values.by });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return usageError(io, `--${issue?.message ?? 'invalid arguments'}`);
  }
  const found = storeSettings(reportEnvSchema, io, values.database);
  if (!found) return 1;
  const utcOffsetMinutes = found.env.REPORT_UTC_OFFSET;
  const query = { ...parsed.data, utcOffsetMinutes };
  const csv = values.csv;
  return withStore('report', found.settings, io, async (store, where) => {
    if (csv === undefined) {
      const report = await salesReport(store, query);
      io.out(
        `sales ${query.from} to ${query.to} by ${query.by} (days at ${offsetText(utcOffsetMinutes)}), ${where}; money in whole IDR`,
      );
      for (const line of table(report.lines, report.total, query.by)) io.out(line);
      if (report.total.unpriced > 0)
        io.out(
          `${n(report.total.unpriced)} delivered sale(s) had no revenue or cost recorded (unpriced): left out of revenue, cost and profit`,
        );
      return 0;
    }
    const sink = openSink(csv, values.force ?? false, io);
    if (typeof sink === 'string') {
      io.err(`gateway report: ${sink}`);
      return 1;
    }
    let ok = false;
    let rows = 0;
    try {
      if (values.transactions) {
        let buffer = '';
        for await (const line of transactionCsvLines(store, query)) {
          buffer += line;
          rows++;
          if (buffer.length >= CHUNK_CHARS) {
            sink.write(buffer);
            buffer = '';
          }
        }
        sink.write(buffer);
        rows--; // the header
      } else {
        const report = await salesReport(store, query);
        sink.write(reportCsv(report));
        rows = report.lines.length;
      }
      ok = true;
    } finally {
      sink.end(ok);
    }
    if (csv !== '-')
      io.out(
        values.transactions
          ? `report: wrote ${n(rows)} transaction(s) created ${query.from} to ${query.to} (days at ${offsetText(utcOffsetMinutes)}) to ${csv}`
          : `report: wrote ${n(rows)} line(s) by ${query.by} and the total, ${query.from} to ${query.to} (days at ${offsetText(utcOffsetMinutes)}), to ${csv}`,
      );
    return 0;
  });
}

function table(lines: readonly ReportLine[], total: ReportLine, by: string): string[] {
  const row = (l: ReportLine) => [l.key, ...lineFigures(l).map(n)];
  const right = { align: 'right' as const };
  return formatTable(
    [
      { header: by.toUpperCase() },
      { header: 'SOLD', ...right },
      { header: 'DELIVERED', ...right },
      { header: 'FAILED', ...right },
      { header: 'REFUNDED', ...right },
      { header: 'OPEN', ...right },
      { header: 'REVENUE', ...right },
      { header: 'COST', ...right },
      { header: 'PROFIT', ...right },
      { header: 'UNPRICED', ...right },
    ],
    [...lines.map(row), row(total)],
  );
}
