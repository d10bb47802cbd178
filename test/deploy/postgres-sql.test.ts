import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { asAdmin, type DeployDatabase, deployDatabase, ROOT, runPostgresSql } from './tools.js';

// config/deploy/postgres.sql on a real PostgreSQL (the run's throwaway server), run by psql as
// the runbook says; then the gateway's own `migrate` as the role it made, which is no superuser.
// (test/deploy/topology.test.ts starts two gateways as such a role.)

const run = promisify(execFile);
const adminUrl = () => inject('postgresUrl');
const made: DeployDatabase[] = [];
afterAll(async () => {
  for (const d of made) await d.drop();
});

const migrate = (databaseUrl: string) =>
  run(process.execPath, [join(ROOT, 'dist/cli/main.js'), 'migrate'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', DATABASE_URL: databaseUrl },
  });

describe('postgres.sql', () => {
  it('makes a login role that is no superuser and owns its database, which nobody else may enter', async () => {
    const db = await deployDatabase(adminUrl());
    made.push(db);
    const role = await asAdmin(adminUrl(), async (c) => {
      const r = await c.query(
        `select rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls, rolcanlogin,
                (select pg_get_userbyid(datdba) from pg_database where datname = $2) as owner,
                (select pg_encoding_to_char(encoding) from pg_database where datname = $2) as encoding
           from pg_roles where rolname = $1`,
        [db.role, db.database],
      );
      return r.rows[0];
    });
    expect(role).toEqual({
      rolsuper: false,
      rolcreatedb: false,
      rolcreaterole: false,
      rolreplication: false,
      rolbypassrls: false,
      rolcanlogin: true,
      owner: db.role,
      encoding: 'UTF8',
    });

    // Another login role of the same server is refused at the door.
    const other = `gw_other_${randomBytes(4).toString('hex')}`;
    await asAdmin(adminUrl(), (c) => c.query(`create role ${other} login password 'other-password'`));
    try {
      const url = new URL(db.url());
      url.username = other;
      url.password = 'other-password';
      const client = new pg.Client({ connectionString: url.toString() });
      await expect(client.connect()).rejects.toThrow(/permission denied for database/);
      await client.end().catch(() => undefined);
    } finally {
      await asAdmin(adminUrl(), (c) => c.query(`drop role ${other}`));
    }
  });

  it('lets the gateway migrate as that role, and again (nothing left to do)', async () => {
    const db = await deployDatabase(adminUrl());
    made.push(db);
    const first = await migrate(db.url());
    expect(first.stdout).toMatch(/^migrate: applied \d+ migration\(s\) to postgres /);
    const again = await migrate(db.url());
    expect(again.stdout).toMatch(/is up to date/);
    const tables = await asAdmin(adminUrl().replace(/\/postgres$/, `/${db.database}`), async (c) => {
      const r = await c.query<{ owner: string }>(
        "select distinct tableowner as owner from pg_tables where schemaname in ('public', 'drizzle')",
      );
      return r.rows.map((row) => row.owner);
    });
    expect(tables).toEqual([db.role]);
  });

  it('refuses to run without the password, creating nothing', async () => {
    const name = `gw_nopass_${randomBytes(4).toString('hex')}`;
    const r = runPostgresSql(adminUrl(), { gateway_role: name, gateway_database: name });
    expect(r.status).toBe(3);
    expect(r.output).toContain('gateway_password is not set');
    const exists = await asAdmin(adminUrl(), async (c) => {
      const roles = await c.query('select 1 from pg_roles where rolname = $1', [name]);
      return roles.rowCount;
    });
    expect(exists).toBe(0);
  });
});
