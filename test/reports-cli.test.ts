import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/run.js';
import { PACKAGE_ROOT } from '../src/config/paths.js';
import { reportCsv, salesReport } from '../src/reports/sales.js';
import { parseCsv } from './helpers/csv-parse.js';
import { transactionRow } from './helpers/fixtures.js';
import { type TempDir, type TempStore, tempDir, tempStore } from './helpers/storage.js';

// Issue 24 §2: `gateway report`. A table with a total line, the report or every transaction as
// CSV (a file, or stdout with -), an existing file kept unless --force; a bad argument is named,
// with exit code 2 and no stack trace. The built command is run once end to end.

const USD = {
  revenueMinor: 105,
  revenueCurrency: 'USD',
  revenueRateE6: 16_250_500_000,
  revenueRateSet: '2026-02-01',
  revenueIdr: 17063,
};

let store: TempStore;
let dir: TempDir;
/** Where the command finds the database: --database for SQLite, DATABASE_URL for PostgreSQL. */
let target: { args: string[]; env: Record<string, string> };
const ENV = { REPORT_UTC_OFFSET: '+07:00' };

beforeAll(async () => {
  store = await tempStore();
  dir = tempDir();
  const { settings } = store.database;
  target = settings.databaseUrl
    ? { args: [], env: { DATABASE_URL: settings.databaseUrl } }
    : { args: ['--database', settings.databasePath], env: {} };
  const rows: [string, 'SUCCESS' | 'FAILED' | 'PROCESSING' | 'EXPIRED', string, Record<string, unknown>][] = [
    // 2026-04-01 at +07:00, though 2026-03-31 at UTC.
    ['C-1', 'SUCCESS', '2026-03-31T23:30:00Z', { pricePaid: 15000, trxCode: 'T-1', ...USD }],
    ['C-2', 'SUCCESS', '2026-04-01T02:00:00Z', { pricePaid: 20000, trxCode: 'T-2', ...USD }],
    ['C-3', 'FAILED', '2026-04-02T02:00:00Z', { pricePaid: 15000, trxCode: 'T-3', ...USD }],
    ['C-4', 'PROCESSING', '2026-04-02T03:00:00Z', { priceOffered: 15000, trxCode: 'T-4', ...USD }],
    ['C-5', 'EXPIRED', '2026-04-02T04:00:00Z', USD],
    ['C-6', 'SUCCESS', '2026-04-02T05:00:00Z', { sku: '=EVIL()', pricePaid: 1000, trxCode: 'T-6', ...USD }],
  ];
  for (const [n, state, created, columns] of rows) {
    const createdAt = Date.parse(created);
    await store.insertTransaction(
      transactionRow(n, state, {
        createdAt,
        updatedAt: createdAt,
        expiresAt: createdAt + 3_600_000,
        ...columns,
      }),
    );
  }
});
afterAll(async () => {
  await store?.close();
  dir?.remove();
});

async function run(argv: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(['report', ...argv], {
    env: { ...ENV, ...target.env, ...env },
    cwd: dir.path,
    out: (l) => out.push(l),
    err: (l) => err.push(l),
  });
  return { code, out, err };
}

const RANGE = ['--from', '2026-04-01', '--to', '2026-04-02'];

describe('gateway report', () => {
  it('prints the report per day at REPORT_UTC_OFFSET, with a total line', async () => {
    const r = await run([...RANGE, ...target.args]);
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.out[0]).toMatch(
      /^sales 2026-04-01 to 2026-04-02 by day \(days at UTC\+07:00\), .*; money in whole IDR$/,
    );
    expect(r.out.slice(1).map((l) => l.split(/\s{2,}/))).toEqual([
      ['DAY', 'SOLD', 'DELIVERED', 'FAILED', 'REFUNDED', 'OPEN', 'REVENUE', 'COST', 'PROFIT', 'UNPRICED'],
      ['2026-04-01', '2', '2', '0', '0', '0', '34,126', '35,000', '-874', '0'],
      ['2026-04-02', '3', '1', '0', '1', '1', '17,063', '1,000', '16,063', '0'],
      ['total', '5', '3', '0', '1', '1', '51,189', '36,000', '15,189', '0'],
    ]);
  });

  it('prints it per SKU', async () => {
    const r = await run([...RANGE, '--by', 'sku', ...target.args]);
    expect(r.code).toBe(0);
    expect(r.out.slice(2).map((l) => l.split(/\s{2,}/)[0])).toEqual(['=EVIL()', 'DIAMOND50', 'total']);
  });

  it('writes the report as CSV to a file, keeps an existing file unless --force, or writes to stdout', async () => {
    const file = join(dir.path, 'by-sku.csv');
    const r = await run([...RANGE, '--by', 'sku', '--csv', 'by-sku.csv', ...target.args]);
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.out).toEqual([
      'report: wrote 2 line(s) by sku and the total, 2026-04-01 to 2026-04-02 (days at UTC+07:00), to by-sku.csv',
    ]);
    const expected = reportCsv(
      await salesReport(store, { from: '2026-04-01', to: '2026-04-02', by: 'sku', utcOffsetMinutes: 420 }),
    );
    expect(readFileSync(file, 'utf8')).toBe(expected);
    expect(parseCsv(expected)[1]?.[0]).toBe("'=EVIL()");

    writeFileSync(file, 'keep me');
    const kept = await run([...RANGE, '--csv', 'by-sku.csv', ...target.args]);
    expect(kept.code).toBe(1);
    expect(kept.err).toEqual([
      'gateway report: --csv by-sku.csv: the file exists; add --force to overwrite it',
    ]);
    expect(readFileSync(file, 'utf8')).toBe('keep me');
    const forced = await run([...RANGE, '--by', 'sku', '--csv', 'by-sku.csv', '--force', ...target.args]);
    expect(forced.code).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(expected);

    const stdout = await run([...RANGE, '--by', 'sku', '--csv', '-', ...target.args]);
    expect(stdout.code).toBe(0);
    expect(`${stdout.out.join('\n')}\n`).toBe(expected);
  });

  it('writes every transaction of the range as CSV, whose sums are the report', async () => {
    const r = await run(['--transactions', ...RANGE, '--csv', '-', ...target.args]);
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    const [header, ...rows] = parseCsv(`${r.out.join('\n')}\n`);
    expect(header?.[0]).toBe('transaction_number');
    expect(rows.map((x) => x[0])).toEqual(['C-1', 'C-2', 'C-3', 'C-4', 'C-5', 'C-6']);
    const profit = header?.indexOf('profit_idr') ?? -1;
    expect(rows.reduce((s, x) => s + Number(x[profit] || 0), 0)).toBe(15189);
  });

  it('names the argument and the problem, with exit code 2', async () => {
    const cases: [string[], string][] = [
      [['--to', '2026-04-02'], '--from is required, a day written YYYY-MM-DD'],
      [
        ['--from', '2026-04-31', '--to', '2026-05-01'],
        '--from must be a day written YYYY-MM-DD, got "2026-04-31"',
      ],
      [
        ['--from', '2026-04-02', '--to', '2026-04-01'],
        '--to (2026-04-01) must not be before from (2026-04-02)',
      ],
      [
        ['--from', '2025-01-01', '--to', '2026-12-31'],
        '--the range 2025-01-01 to 2026-12-31 spans 730 days; at most 400',
      ],
      [[...RANGE, '--by', 'month'], '--by must be day or sku, got "month"'],
      [[...RANGE, '--transactions'], '--transactions needs --csv FILE (or --csv - for stdout)'],
      [
        [...RANGE, '--transactions', '--by', 'sku', '--csv', 'x.csv'],
        '--by does not apply to --transactions',
      ],
      [[...RANGE, '--csv', ''], '--csv needs a file name, or - for stdout'],
      [[...RANGE, '--force'], '--force only applies with --csv FILE'],
      [[...RANGE, '--frm', 'x'], "Unknown option '--frm'"],
      [[...RANGE, '--from'], "Option '--from <value>' argument missing"],
    ];
    for (const [args, message] of cases) {
      const r = await run([...target.args, ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err[0], args.join(' ')).toContain(`gateway report: ${message}`);
      expect(r.err.join('\n')).toContain('usage:');
      expect(r.err.join('\n')).not.toMatch(/\n\s+at /);
      expect(r.out).toEqual([]);
    }
    expect(existsSync(join(dir.path, 'x.csv'))).toBe(false);
  });

  it('refuses a bad REPORT_UTC_OFFSET, naming it', async () => {
    const r = await run([...RANGE, ...target.args], { REPORT_UTC_OFFSET: '7' });
    expect(r.code).toBe(1);
    expect(r.err.join('\n')).toContain('REPORT_UTC_OFFSET');
  });
});

describe('gateway report, as built', () => {
  const exec = promisify(execFile);
  const gateway = (args: string[]) =>
    exec(process.execPath, [join(PACKAGE_ROOT, 'dist/cli/main.js'), 'report', ...args, ...target.args], {
      cwd: dir.path,
      env: { PATH: process.env.PATH ?? '', ...ENV, ...target.env },
    }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );

  it('writes the transactions CSV to a file, and exits 2 on a bad argument without a stack trace', async () => {
    const ok = await gateway(['--transactions', ...RANGE, '--csv', 'tx.csv']);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(
      /^report: wrote 6 transaction\(s\) created 2026-04-01 to 2026-04-02 .* to tx\.csv\n$/,
    );
    const rows = parseCsv(readFileSync(join(dir.path, 'tx.csv'), 'utf8'));
    expect(rows).toHaveLength(7);

    const bad = await gateway(['--from', 'yesterday', '--to', '2026-04-02']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^gateway report: --from must be a day written YYYY-MM-DD, got "yesterday"\n/);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
  });
});
