import type { TestProject } from 'vitest/node';
import { type PostgresServer, startPostgres } from './postgres.js';

// vitest globalSetup: one PostgreSQL server for the whole run; each test file makes its own
// databases on it (createDatabase), reached through inject('postgresUrl').

declare module 'vitest' {
  export interface ProvidedContext {
    postgresUrl: string;
  }
}

let server: PostgresServer | undefined;

export async function setup(project: TestProject): Promise<void> {
  server = await startPostgres();
  project.provide('postgresUrl', server.url);
}

export async function teardown(): Promise<void> {
  await server?.stop();
  server = undefined;
}
