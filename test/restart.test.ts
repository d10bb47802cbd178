import { writeFileSync } from 'node:fs';
import { type AddressInfo, connect, createServer } from 'node:net';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/env.js';
import { openStore } from '../src/db/open.js';
import type { Store } from '../src/db/store.js';
import { type RunningGateway, startGateway } from '../src/gateway.js';
import { createLogger } from '../src/log.js';
import type { MitraSimulator } from '../src/sim/mitra-sim.js';
import { REQUIRED_ENV } from './helpers/env.js';
import { EXAMPLE_MAPPING, exampleMapping } from './helpers/mapping.js';
import { SIM_KEYS, startSim } from './helpers/mitra.js';
import { seedCatalogue } from './helpers/razer.js';
import { type TempDatabase, tempDatabase, tempDir } from './helpers/storage.js';
import { waitFor } from './helpers/wait.js';

let gw: RunningGateway | undefined;
let sim: MitraSimulator | undefined;
let database: TempDatabase | undefined;
afterEach(async () => {
  await gw?.close();
  await sim?.close();
  await database?.remove();
  gw = sim = database = undefined;
});

/** Starts a gateway on a database the test prepared, with its log lines kept. */
async function start(
  env: Record<string, string>,
  prepare: (store: Store) => Promise<void>,
  lines: string[] = [],
) {
  sim = await startSim();
  database = await tempDatabase();
  const store = await openStore(database.settings);
  try {
    await store.migrate();
    await prepare(store);
  } finally {
    await store.close();
  }
  const parsed = loadConfig({
    ...REQUIRED_ENV,
    MITRA_API_KEY: SIM_KEYS.apiKey,
    MITRA_SECRET_KEY: SIM_KEYS.secretKey,
    MITRA_BASE_URL: sim.url,
    ...database.env,
    MAPPING_FILE: EXAMPLE_MAPPING,
    PORT: '0',
    HOST: '127.0.0.1',
    ...env,
  });
  if (!parsed.ok) throw new Error(parsed.errors.join('\n'));
  const logger = createLogger('info', { write: (line: string) => lines.push(line) });
  gw = await startGateway(parsed.value, exampleMapping(), logger);
  return { gw, lines };
}

/** What the previous process left: a catalogue, and five status calls two seconds ago. */
async function fiveRecentCalls(store: Store, now: number) {
  await seedCatalogue(store, now); // the catalogue exists: no wait at start
  for (let i = 0; i < 5; i++) {
    await store.recordSupplierCall({
      transactionNumber: null,
      operation: 'order-status',
      method: 'GET',
      url: 'x',
      requestBody: null,
      httpStatus: 200,
      replyBody: null,
      rcCode: '00',
      outcome: 'accepted',
      error: null,
      startedAt: now - 2000 - i,
      durationMs: 10,
    });
  }
}

describe('restart', () => {
  it('defect 7: the rate limit does not reset on restart: the last window of recorded calls, plus a margin, holds slots', async () => {
    const now = Date.now();
    // This process's own budget (the default on SQLite; on PostgreSQL the default is shared, below).
    const { gw } = await start({ MITRA_RATE_LIMIT: '5/60s', MITRA_RATE_LIMIT_SCOPE: 'instance' }, (store) =>
      fiveRecentCalls(store, now),
    );
    // Five calls of the previous process and one for what a crash may have lost: the start's
    // catalogue refresh and balance poll wait for a slot instead of going out at once.
    await waitFor(() => gw.limiter.stats().waiting.query === 2, 5000, 'the refresh and the poll to wait');
    expect(gw.limiter.stats()).toMatchObject({ inWindow: 6, waiting: { order: 0, query: 2 } });
    expect(sim?.stats.calls.brands).toBe(0);
    expect(sim?.stats.calls.balance).toBe(0);
  });

  it('defect 7, MITRA_RATE_LIMIT_SCOPE=shared: the budget the previous process used still holds its slots', async () => {
    const now = Date.now();
    const { gw } = await start(
      { MITRA_RATE_LIMIT: '5/60s', MITRA_RATE_LIMIT_SCOPE: 'shared' },
      async (store) => {
        await fiveRecentCalls(store, now);
        // Where the budget is shared (PostgreSQL), the previous process also took its five slots
        // there, as the gateway's limiter does (window plus its margin); SQLite has no shared
        // budget, and its instance limiter counts the recorded calls.
        const budget = store.rateBudget({ limit: 5, windowMs: 61_000, longestCallMs: 11_000 });
        for (let i = 0; i < 5 && budget; i++) {
          const slot = await budget.take();
          if (!slot.granted) throw new Error('the fresh budget refused a slot');
          await budget.end(slot.id);
        }
      },
    );
    // The start's catalogue refresh and balance poll wait for a slot instead of going out at once.
    await waitFor(() => gw.limiter.stats().waiting.query === 2, 5000, 'the refresh and the poll to wait');
    expect(gw.limiter.stats().waiting).toEqual({ order: 0, query: 2 });
    expect(sim?.stats.calls.brands).toBe(0);
    expect(sim?.stats.calls.balance).toBe(0);
  });

  it('review: when METRICS_PORT cannot be listened on, start fails and the main port stops listening too', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const free = createServer();
    await new Promise<void>((resolve) => free.listen(0, '127.0.0.1', resolve));
    const mainPort = (free.address() as AddressInfo).port;
    await new Promise((resolve) => free.close(resolve));
    try {
      const metricsPort = String((taken.address() as AddressInfo).port);
      const lines: string[] = [];
      await expect(
        start({ PORT: String(mainPort), METRICS_PORT: metricsPort }, async () => {}, lines),
      ).rejects.toThrow(/EADDRINUSE/);
      // Everything the start had opened is released: no database connection is left behind (on
      // PostgreSQL a leaked one broke when the database was dropped, an uncaught error).
      expect(lines.some((l) => l.includes('"gateway stopped"'))).toBe(true);
      if (database?.settings.databaseUrl) {
        const admin = new pg.Client({ connectionString: database.settings.databaseUrl });
        await admin.connect();
        try {
          const { rows } = await admin.query<{ n: number }>(
            'select count(*)::int as n from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()',
          );
          expect(rows[0]?.n).toBe(0);
        } finally {
          await admin.end();
        }
      }
      const refused = await new Promise<string>((resolve) => {
        const socket = connect(mainPort, '127.0.0.1', () => {
          socket.destroy();
          resolve('connected');
        });
        socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
      });
      expect(refused).toBe('ECONNREFUSED');
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it('defect 11: razer.signed_content: uri is announced loudly at start', async () => {
    const dir = tempDir();
    try {
      writeFileSync(dir.file('readings.yaml'), 'razer:\n  signed_content: uri\n');
      const { lines } = await start({ READINGS_FILE: dir.file('readings.yaml') }, (store) =>
        seedCatalogue(store, Date.now()),
      );
      const warning = lines
        .map((l) => JSON.parse(l) as { level: number; msg: string })
        .find((l) => /uri/.test(l.msg));
      expect(warning?.level).toBe(40); // warn
      expect(warning?.msg).toMatch(/do not cover request bodies.*replayed with any body/);
      // And the readings that differ from the defaults are named at start.
      expect(lines.some((l) => l.includes('razer.signed_content: \\"uri\\"'))).toBe(true);
    } finally {
      dir.remove();
    }
  });
  it('defect 11 (before the readings file): RAZER_SIGNED_CONTENT in the environment is refused, naming where it went', async () => {
    await expect(start({ RAZER_SIGNED_CONTENT: 'uri' }, async () => {})).rejects.toThrow(
      /RAZER_SIGNED_CONTENT has moved to the readings file/,
    );
  });
  it('keeps running on defaults when READINGS_FILE is unset and the default file is absent', async () => {
    const { gw } = await start({}, (store) => seedCatalogue(store, Date.now()));
    expect(gw.readings.current().mitra.order_status.failed).toEqual([3]);
  });
});
