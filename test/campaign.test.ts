import { afterEach, describe, expect, it } from 'vitest';
import { runCampaign } from '../bench/campaign/campaign.js';
import { report } from '../bench/campaign/report.js';
import { TEST_DIALECT, type TempDatabase, type TempDir, tempDatabase, tempDir } from './helpers/storage.js';

// The crash campaign's short form (`npm run campaign` runs the long one): a few rounds of mixed
// purchases under supplier faults, an instance SIGKILLed every round, then invariants 1-5
// checked over everything answered. SQLite: one instance; PostgreSQL: two on one database.

const SEED = Number(process.env.CAMPAIGN_SEED ?? 20_251_122);
const ROUNDS = TEST_DIALECT === 'sqlite' ? 8 : 6;

let database: TempDatabase | undefined;
let dir: TempDir | undefined;
afterEach(async () => {
  await database?.remove();
  dir?.remove();
  database = dir = undefined;
});

describe('crash campaign (short form)', () => {
  it(`${ROUNDS} rounds with kills and supplier faults break no invariant`, async () => {
    database = await tempDatabase('campaign');
    dir = tempDir('gateway-campaign-');
    const result = await runCampaign({
      adapter: TEST_DIALECT,
      rounds: ROUNDS,
      seed: SEED,
      database: { env: database.env, settings: database.settings },
      instances: TEST_DIALECT === 'sqlite' ? 1 : 2,
      cwd: dir.path,
    });
    const summary = report(result).join('\n');
    expect(result.violations, summary).toEqual([]);
    expect(result.unexpectedExits, summary).toEqual([]);
    const h = result.history;
    expect(h.purchases.length, summary).toBeGreaterThan(ROUNDS);
    expect(h.exchanges.filter((e) => e.status !== null).length, summary).toBeGreaterThan(h.purchases.length);
    expect(h.orders.length, summary).toBeGreaterThan(0);
    // Every round kills one instance: at a random moment, at a crash point, or when its purchases are done.
    expect(h.kills.length, summary).toBeGreaterThanOrEqual(ROUNDS);
  }, 120_000);
});
