import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/env.js';
import { migrateStorage, openStorage } from '../src/db/connection.js';
import { recordSupplierCall } from '../src/db/supplier-calls.js';
import { type RunningGateway, startGateway } from '../src/gateway.js';
import { createLogger } from '../src/log.js';
import type { MitraSimulator } from '../src/sim/mitra-sim.js';
import { REQUIRED_ENV } from './helpers/env.js';
import { EXAMPLE_MAPPING, exampleMapping } from './helpers/mapping.js';
import { SIM_KEYS, startSim } from './helpers/mitra.js';
import { seedCatalogue } from './helpers/razer.js';
import { type TempDir, tempDir } from './helpers/storage.js';

let gw: RunningGateway | undefined;
let sim: MitraSimulator | undefined;
let dir: TempDir | undefined;
afterEach(async () => {
  await gw?.close();
  await sim?.close();
  dir?.remove();
  gw = sim = dir = undefined;
});

/** Starts a gateway on a database the test prepared, with its log lines kept. */
async function start(env: Record<string, string>, prepare: (db: ReturnType<typeof openStorage>) => void) {
  sim = await startSim();
  dir = tempDir();
  const path = dir.file('gateway.db');
  const storage = openStorage(path);
  migrateStorage(storage);
  prepare(storage);
  storage.close();
  const parsed = loadConfig({
    ...REQUIRED_ENV,
    MITRA_API_KEY: SIM_KEYS.apiKey,
    MITRA_SECRET_KEY: SIM_KEYS.secretKey,
    MITRA_BASE_URL: sim.url,
    DATABASE_PATH: path,
    MAPPING_FILE: EXAMPLE_MAPPING,
    PORT: '0',
    HOST: '127.0.0.1',
    ...env,
  });
  if (!parsed.ok) throw new Error(parsed.errors.join('\n'));
  const lines: string[] = [];
  const logger = createLogger('info', { write: (line: string) => lines.push(line) });
  gw = await startGateway(parsed.value, exampleMapping(), logger);
  return { gw, lines };
}

describe('restart', () => {
  it('defect 7: the rate limit does not reset on restart: the last window of recorded calls, plus a margin, holds slots', async () => {
    const now = Date.now();
    const { gw } = await start({ MITRA_RATE_LIMIT: '5/60s' }, (storage) => {
      seedCatalogue(storage.db, now); // the catalogue exists: no wait at start
      for (let i = 0; i < 5; i++) {
        recordSupplierCall(storage.db, {
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
    });
    // Five calls of the previous process and one for what a crash may have lost: the start's
    // catalogue refresh waits for a slot instead of going out at once.
    expect(gw.limiter.stats()).toMatchObject({ inWindow: 6, waiting: { order: 0, query: 1 } });
    expect(sim?.stats.calls.brands).toBe(0);
  });

  it('defect 11: RAZER_SIGNED_CONTENT=uri is announced loudly at start', async () => {
    const { lines } = await start({ RAZER_SIGNED_CONTENT: 'uri' }, (storage) =>
      seedCatalogue(storage.db, Date.now()),
    );
    const warning = lines
      .map((l) => JSON.parse(l) as { level: number; msg: string })
      .find((l) => /uri/.test(l.msg));
    expect(warning?.level).toBe(40); // warn
    expect(warning?.msg).toMatch(/do not cover request bodies.*replayed with any body/);
  });
});
