import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/run.js';
import { runProduction } from '../src/cli/serve.js';
import { describeStore } from '../src/db/open.js';
import { MIGRATIONS_FOLDER as PG_MIGRATIONS } from '../src/db/postgres/connection.js';
import { MIGRATIONS_FOLDER as SQLITE_MIGRATIONS } from '../src/db/sqlite/connection.js';
import { SANDBOX_CREDENTIALS } from '../src/sandbox-credentials.js';
import { REQUIRED_ENV } from './helpers/env.js';
import { EXAMPLE_MAPPING } from './helpers/mapping.js';
import { clientFor } from './helpers/mitra.js';
import { TEST_DIALECT, type TempDatabase, type TempDir, tempDatabase, tempDir } from './helpers/storage.js';
import { waitFor } from './helpers/wait.js';

let dir: TempDir;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => dir.remove());

async function run(argv: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { env, cwd: dir.path, out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

/** How many migrations the adapter's folder holds (its drizzle journal). */
const migrationCount = (folder: string) =>
  (JSON.parse(readFileSync(join(folder, 'meta/_journal.json'), 'utf8')) as { entries: unknown[] }).entries
    .length;

const schemaOf = (file: string) => {
  const db = new Database(file, { readonly: true });
  try {
    return {
      objects: db
        .prepare("select type, name, sql from sqlite_master where name not like 'sqlite_%' order by name")
        .all(),
      migrations: db.prepare('select hash, created_at from __drizzle_migrations order by id').all(),
    };
  } finally {
    db.close();
  }
};

/** The PostgreSQL schema a migration left: tables, columns, indexes, constraints, and drizzle's record. */
async function pgSchemaOf(url: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const rows = async (sql: string) => (await client.query(sql)).rows;
  try {
    return {
      tables: (
        await rows(
          "select table_name from information_schema.tables where table_schema = 'public' order by table_name",
        )
      ).map((r) => r.table_name as string),
      columns: await rows(
        "select table_name, column_name, data_type, is_nullable, column_default from information_schema.columns where table_schema = 'public' order by table_name, ordinal_position",
      ),
      indexes: await rows(
        "select indexname, indexdef from pg_indexes where schemaname = 'public' order by indexname",
      ),
      constraints: await rows(
        "select conname, pg_get_constraintdef(oid) as def from pg_constraint where connamespace = 'public'::regnamespace order by conname",
      ),
      migrations: (await rows("select to_regclass('drizzle.__drizzle_migrations') is not null as present"))[0]
        ?.present
        ? await rows('select hash, created_at from drizzle.__drizzle_migrations order by id')
        : [],
    };
  } finally {
    await client.end();
  }
}

/** The migrations drizzle recorded in a database of the adapter under test (none yet: empty). */
async function appliedMigrations(database: TempDatabase): Promise<unknown[]> {
  const { settings } = database;
  if (settings.databaseUrl) return (await pgSchemaOf(settings.databaseUrl)).migrations;
  if (!existsSync(settings.databasePath)) return [];
  try {
    return schemaOf(settings.databasePath).migrations;
  } catch {
    return []; // not migrated yet
  }
}

const TABLES = [
  'transactions',
  'transaction_events',
  'razer_exchanges',
  'supplier_calls',
  'webhook_inbox',
  'catalogue_brands',
  'catalogue_variations',
];

describe('gateway migrate', () => {
  // A SQLite file of its own: an empty file, a path relative to the working directory.
  // Each project runs the case of its own adapter (no test is skipped in either).
  if (TEST_DIALECT === 'sqlite')
    it('creates the schema in an empty file, and a second run changes nothing', async () => {
      mkdirSync(dir.file('state'));
      writeFileSync(dir.file('state/gw.db'), '');
      const first = await run(['migrate'], { DATABASE_PATH: 'state/gw.db' });
      expect(first).toEqual({
        code: 0,
        out: [
          `migrate: applied ${migrationCount(SQLITE_MIGRATIONS)} migration(s) to ${dir.file('state/gw.db')}`,
        ],
        err: [],
      });
      const before = schemaOf(dir.file('state/gw.db'));
      expect(before.objects.map((o) => (o as { name: string }).name)).toEqual(expect.arrayContaining(TABLES));

      const second = await run(['migrate', '--database', 'state/gw.db']);
      expect(second).toEqual({
        code: 0,
        out: [`migrate: ${dir.file('state/gw.db')} is up to date`],
        err: [],
      });
      expect(schemaOf(dir.file('state/gw.db'))).toEqual(before);
    });

  if (TEST_DIALECT === 'postgres')
    it('creates the schema in an empty PostgreSQL database (DATABASE_URL), and a second run changes nothing', async () => {
      const database = await tempDatabase();
      try {
        const url = database.settings.databaseUrl ?? '';
        const where = describeStore(database.settings);
        const first = await run(['migrate'], { DATABASE_URL: url });
        expect(first).toEqual({
          code: 0,
          out: [`migrate: applied ${migrationCount(PG_MIGRATIONS)} migration(s) to ${where}`],
          err: [],
        });
        const before = await pgSchemaOf(url);
        expect(before.tables).toEqual(expect.arrayContaining(TABLES));
        expect(before.migrations).toHaveLength(migrationCount(PG_MIGRATIONS));

        const second = await run(['migrate'], { DATABASE_URL: url });
        expect(second).toEqual({ code: 0, out: [`migrate: ${where} is up to date`], err: [] });
        expect(await pgSchemaOf(url)).toEqual(before);
      } finally {
        await database.remove();
      }
    });

  it('refuses an unknown option', async () => {
    const r = await run(['migrate', '--db', 'x.db']);
    expect(r.code).toBe(1);
    expect(r.err[0]).toMatch(/^gateway migrate: Unknown option '--db'/);
  });
});

describe('gateway check', () => {
  it('summarises a valid environment and mapping, and says where it would talk and write', async () => {
    copyFileSync(EXAMPLE_MAPPING, dir.file('mapping.yaml'));
    const env = { ...REQUIRED_ENV, DATABASE_PATH: '/var/lib/gw/gw.db', INSTANCE_ID: 'gw-a' };
    const r = await run(['check', '--mapping', 'mapping.yaml'], env);
    expect(r).toEqual({
      code: 0,
      out: [
        'ok: 3 SKUs from mapping.yaml (DIAMOND50, STEAMV50, GENSHIN60; 0 disabled), environment valid',
        'readings: every default (./config/readings.yaml absent)',
        'Mitra https://h2h-api.vcg.my.id (development), storage /var/lib/gw/gw.db, instance gw-a',
      ],
      err: [],
    });
    const production = await run(['check', '--mapping', 'mapping.yaml'], {
      ...env,
      MITRA_BASE_URL: 'https://user:s3cret@mitra-api.vcgamers.com/?key=s3cret',
      DATABASE_URL: 'postgres://gw:pw@db.internal:5432/gateway',
    });
    expect(production.out[2]).toBe(
      'Mitra https://mitra-api.vcgamers.com (production), storage postgres db.internal:5432/gateway, instance gw-a',
    );
  });

  it('prints every reading that differs from its default, and refuses a readings file that could cost money', async () => {
    copyFileSync(EXAMPLE_MAPPING, dir.file('mapping.yaml'));
    writeFileSync(
      dir.file('readings.yaml'),
      'mitra:\n  order_status:\n    failed: [4]\n  tid_accepts_ref_id: false\n',
    );
    const env = { ...REQUIRED_ENV, READINGS_FILE: 'readings.yaml' };
    const r = await run(['check', '--mapping', 'mapping.yaml'], env);
    expect(r.code).toBe(0);
    expect(r.out.slice(1, 4)).toEqual([
      'readings: 2 settings differ from the defaults in readings.yaml:',
      '  mitra.order_status.failed: [4] (default [3])',
      '  mitra.tid_accepts_ref_id: false (default true)',
    ]);
    // A typo that would answer 400 for delivered goods: status 2 read as failed.
    writeFileSync(dir.file('readings.yaml'), 'mitra:\n  order_status:\n    failed: [3, 2]\n');
    const bad = await run(['check', '--mapping', 'mapping.yaml'], env);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain(
      'readings.yaml:3: mitra.order_status.failed: status 2 is both success and failed: a status has one meaning',
    );
    // Named explicitly, a missing file is an error, never the defaults.
    const missing = await run(['check', '--mapping', 'mapping.yaml'], { ...env, READINGS_FILE: 'nope.yaml' });
    expect(missing.code).toBe(1);
    expect(missing.err[0]).toMatch(/^nope\.yaml: cannot read the readings file/);
  });

  it('--json prints JSON, valid or not', async () => {
    copyFileSync(EXAMPLE_MAPPING, dir.file('mapping.yaml'));
    const ok = await run(['check', '--json', '--mapping', 'mapping.yaml'], {
      ...REQUIRED_ENV,
      INSTANCE_ID: 'gw-b',
    });
    expect(ok.code).toBe(0);
    expect(ok.out).toHaveLength(1);
    expect(JSON.parse(ok.out[0] ?? '')).toEqual({
      ok: true,
      mapping: {
        file: 'mapping.yaml',
        skus: [
          { sku: 'DIAMOND50', enabled: true },
          { sku: 'STEAMV50', enabled: true },
          { sku: 'GENSHIN60', enabled: true },
        ],
      },
      readings: { file: './config/readings.yaml', differences: [] },
      warnings: [],
      mitra: { url: 'https://h2h-api.vcg.my.id', host: 'development' },
      storage: expect.stringMatching(/gateway\.db$/),
      instance: 'gw-b',
    });
    for (const argv of [
      ['check', '--json', '--bogus'],
      ['check', '--json', '--online', '--mapping', 'mapping.yaml'],
    ]) {
      // A bad argument, a gateway that cannot be reached: still one JSON object on stdout.
      const r = await run(argv, {
        ...REQUIRED_ENV,
        GATEWAY_URL: 'http://127.0.0.1:1',
        ADMIN_TOKEN: 'x'.repeat(20),
      });
      expect(r.code).toBe(1);
      expect(r.out).toHaveLength(1);
      expect(JSON.parse(r.out[0] ?? '')).toEqual({
        ok: false,
        problems: [expect.stringMatching(/^gateway check/)],
      });
    }
    const bad = await run(['check', '--json', '--mapping', 'mapping.yaml'], { ...REQUIRED_ENV, PORT: 'x' });
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.out[0] ?? '')).toEqual({
      ok: false,
      problems: ['environment: PORT must be a whole number from 0 to 65535, got "x"'],
    });
  });

  it('refuses what the production start refuses: the sandbox credentials, no MITRA_BASE_URL', async () => {
    copyFileSync(EXAMPLE_MAPPING, dir.file('mapping.yaml'));
    const { MITRA_BASE_URL: _, ...noUrl } = REQUIRED_ENV;
    for (const env of [{ ...REQUIRED_ENV, ...SANDBOX_CREDENTIALS }, noUrl]) {
      const checked = await run(['check', '--mapping', 'mapping.yaml'], env);
      const started = await runProduction(
        { env: { ...env, MAPPING_FILE: 'mapping.yaml' }, cwd: dir.path, out: () => {}, err: () => {} },
        Promise.resolve(),
      );
      expect([checked.code, started]).toEqual([1, 1]);
    }
  });

  it('prints the file, SKU, field and reason of a broken mapping, one per line', async () => {
    writeFileSync(
      dir.file('broken.yaml'),
      'skus:\n  DIAMOND50:\n    brand: MLBB\n    variation: MLBB112\n    max_price: -1\n    form:\n      user_id: "{uid}"\n',
    );
    const r = await run(['check'], { ...REQUIRED_ENV, MAPPING_FILE: 'broken.yaml' });
    expect(r.code).toBe(1);
    expect(r.out).toEqual([]);
    expect(r.err).toEqual([
      'broken.yaml:5: sku DIAMOND50, field max_price: must be greater than 0 (IDR), got -1',
      'broken.yaml:7: sku DIAMOND50, field form.user_id: unknown template variable {uid}: there is no account.pattern to define a group of that name (use {accountId}, {customParam.X} or a named group)',
      'check failed: 2 problems',
    ]);
  });

  it('reports a revenue in a currency without a rate, and warns of a rate set after today', async () => {
    const example = readFileSync(EXAMPLE_MAPPING, 'utf8');
    writeFileSync(dir.file('norate.yaml'), example.replace('currency: MYR }', 'currency: EUR }'));
    const r = await run(['check', '--mapping', 'norate.yaml'], REQUIRED_ENV);
    expect(r.code).toBe(1);
    const line = example.split('\n').findIndex((l) => l.includes('currency: MYR }')) + 1;
    expect(r.err).toEqual([
      `norate.yaml:${line}: sku GENSHIN60, field revenue.currency: no rate for EUR: add one to the top-level rates:, such as rates: { EUR: { idr: <IDR per EUR>, set: <YYYY-MM-DD> } }`,
      'check failed: 1 problem',
    ]);
    writeFileSync(
      dir.file('future.yaml'),
      example.replace('MYR: { idr: 3890.25, set: 2026-12-01 }', 'MYR: { idr: 3890.25, set: 2999-12-01 }'),
    );
    const warned = await run(['check', '--mapping', 'future.yaml'], REQUIRED_ENV);
    expect(warned.code).toBe(0);
    expect(warned.out[0]).toMatch(
      /^warning: future\.yaml: rates\.MYR\.set 2999-12-01 is after today \(\d{4}-\d\d-\d\d\): a typo\?$/,
    );
    expect(warned.out[1]).toMatch(/^ok: 3 SKUs from future\.yaml/);
  });

  it('reports environment problems and a missing mapping file together', async () => {
    const r = await run(['check'], { RAZER_API_ID: 'publisherA', PORT: 'x' });
    expect(r.code).toBe(1);
    expect(r.err).toEqual([
      'environment: PORT must be a whole number from 0 to 65535, got "x"',
      'environment: RAZER_API_KEY is required (the api-key Razer Gold assigned to you)',
      "environment: MITRA_BASE_URL is required (the Mitra API: https://mitra-api.vcgamers.com in production, https://h2h-api.vcg.my.id for Mitra's development host)",
      'environment: MITRA_API_KEY is required (the Mitra API access key, sent as the Bearer token)',
      'environment: MITRA_SECRET_KEY is required (the Mitra secret key that signs every call)',
      'environment: MITRA_WEBHOOK_TOKEN is required (the secret path segment of /mitra/webhook/<token>)',
      expect.stringMatching(/^\.\/config\/mapping\.yaml: cannot read the mapping file: ENOENT/),
      'check failed: 7 problems',
    ]);
  });
});

describe('gateway', () => {
  it('prints usage for help and refuses an unknown command', async () => {
    expect((await run(['help'])).out[0]).toMatch(/^usage: gateway <command>/);
    const r = await run(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.err[0]).toBe("gateway: unknown command 'frobnicate'");
  });
});

describe('production start (npm start)', () => {
  const start = async (env: Record<string, string>) => {
    const err: string[] = [];
    const code = await runProduction(
      { env, cwd: dir.path, out: () => {}, err: (l) => err.push(l) },
      Promise.resolve(),
    );
    return { code, err };
  };

  it('refuses to run without credentials and points to the sandbox', async () => {
    const r = await start({});
    expect(r.code).toBe(1);
    expect(r.err).toContain(
      'environment: RAZER_API_KEY is required (the api-key Razer Gold assigned to you)',
    );
    expect(r.err.at(-1)).toBe(
      'The gateway did not start: 7 problems. To try it without credentials, run the sandbox: npm run sandbox',
    );
  });

  it('refuses to run without an explicit MITRA_BASE_URL, in one line naming it', async () => {
    copyFileSync(EXAMPLE_MAPPING, dir.file('m.yaml'));
    const { MITRA_BASE_URL: _, ...env } = REQUIRED_ENV;
    const r = await start({ ...env, MAPPING_FILE: 'm.yaml', DATABASE_PATH: dir.file('gw.db') });
    expect(r.code).toBe(1);
    expect(r.err).toEqual([
      "environment: MITRA_BASE_URL is required (the Mitra API: https://mitra-api.vcgamers.com in production, https://h2h-api.vcg.my.id for Mitra's development host)",
      'The gateway did not start: 1 problem. To try it without credentials, run the sandbox: npm run sandbox',
    ]);
    expect(existsSync(dir.file('gw.db'))).toBe(false);
  });

  it('refuses the public sandbox credentials', async () => {
    const r = await start({ ...REQUIRED_ENV, ...SANDBOX_CREDENTIALS });
    expect(r.code).toBe(1);
    expect(r.err[0]).toBe(
      'environment: RAZER_API_ID, RAZER_API_KEY, MITRA_API_KEY, MITRA_SECRET_KEY, MITRA_WEBHOOK_TOKEN, ADMIN_TOKEN hold the public sandbox credentials (production needs real ones; the sandbox is npm run sandbox)',
    );
  });

  it('refuses a broken mapping file before opening anything', async () => {
    writeFileSync(dir.file('m.yaml'), 'skus: {}\n');
    const r = await start({ ...REQUIRED_ENV, MAPPING_FILE: 'm.yaml', DATABASE_PATH: dir.file('gw.db') });
    expect(r.code).toBe(1);
    expect(r.err[0]).toBe('m.yaml:1: skus: no SKU is defined');
    expect(existsSync(dir.file('gw.db'))).toBe(false);
  });

  it('starts with real-looking credentials, migrates, serves and stops', async () => {
    copyFileSync(EXAMPLE_MAPPING, dir.file('m.yaml'));
    // An empty database of the adapter under test (a file not there yet, for SQLite).
    const database = await tempDatabase();
    try {
      let stop = () => {};
      const stopped = new Promise<void>((resolve) => {
        stop = resolve;
      });
      const running = runProduction(
        {
          env: {
            ...REQUIRED_ENV,
            MAPPING_FILE: dir.file('m.yaml'),
            ...database.env,
            PORT: '0',
            HOST: '127.0.0.1',
            LOG_LEVEL: 'silent',
          },
          cwd: dir.path,
          out: () => {},
          err: () => {},
        },
        stopped,
      );
      await waitFor(
        async () => (await appliedMigrations(database)).length > 0,
        10_000,
        'the gateway to migrate',
      );
      stop();
      expect(await running).toBe(0);
      expect(await appliedMigrations(database)).toHaveLength(
        migrationCount(database.settings.databaseUrl ? PG_MIGRATIONS : SQLITE_MIGRATIONS),
      );
    } finally {
      await database.remove();
    }
  });
});

describe('gateway sim', () => {
  it('runs the simulator until told to stop, with the sandbox keys by default', async () => {
    const out: string[] = [];
    let stop = () => {};
    const stopSignal = new Promise<void>((resolve) => {
      stop = resolve;
    });
    const running = runCli(['sim', '--port', '0', '--complete-after-ms', '10'], {
      env: {},
      cwd: dir.path,
      out: (l) => out.push(l),
      err: (l) => out.push(l),
      stopSignal,
    });
    await waitFor(() => out.length > 0);
    const url = /on (http:\/\/\S+)/.exec(out[0] ?? '')?.[1];
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const state = await fetch(`${url}/__sim/state`);
    expect(state.status).toBe(200);
    const client = clientFor(
      { url: url ?? '' },
      {
        apiKey: SANDBOX_CREDENTIALS.MITRA_API_KEY,
        secretKey: SANDBOX_CREDENTIALS.MITRA_SECRET_KEY,
      },
    ).client;
    expect((await client.brands()).kind).toBe('accepted');
    stop();
    expect(await running).toBe(0);
  });

  it('refuses bad options with a message naming them', async () => {
    const r = await run(['sim', '--port', 'x', '--rate-limit', 'lots']);
    expect(r.code).toBe(1);
    expect(r.err).toEqual([
      'gateway sim: --port must be 0-65535, got "x"',
      'gateway sim: --rate-limit must look like 200/60s (calls per window; units ms, s or m), got "lots"',
    ]);
  });
});
