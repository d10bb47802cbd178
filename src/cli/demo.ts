import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXAMPLE_MAPPING_FILE } from '../config/paths.js';
import { SANDBOX_CREDENTIALS } from '../sandbox-credentials.js';
import { RazerClient } from '../sim/razer-client.js';
import type { CliIo } from './run.js';
import { startSandbox } from './sandbox.js';
import { storyOf } from './story.js';

interface Scenario {
  title: string;
  number: string;
  sku: string;
  accountId: string;
  before?: (sandbox: Awaited<ReturnType<typeof startSandbox>>) => void;
}

/** `npm run demo`: a few purchases against a fresh sandbox, each with its story. */
export async function runDemo(io: CliIo): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'gateway-demo-'));
  const sandbox = await startSandbox(
    {},
    {
      PORT: '0',
      LOG_LEVEL: 'silent',
      DATABASE_PATH: join(dir, 'demo.db'),
      MAPPING_FILE: EXAMPLE_MAPPING_FILE,
      TOPUP_WAIT_MS: '5000',
    },
    { completeAfterMs: 300 },
  );
  try {
    const razer = new RazerClient(
      sandbox.gateway.url,
      SANDBOX_CREDENTIALS.RAZER_API_ID,
      SANDBOX_CREDENTIALS.RAZER_API_KEY,
    );
    const stamp = Date.now().toString(36).toUpperCase();
    const scenarios: Scenario[] = [
      {
        title: 'Top-up, delivered and confirmed by the supplier callback',
        number: `DEMO-${stamp}-1`,
        sku: 'DIAMOND50',
        accountId: '123456-12',
      },
      {
        title: 'Voucher, delivered with its code',
        number: `DEMO-${stamp}-2`,
        sku: 'STEAMV50',
        accountId: 'player-42',
      },
      {
        title: 'Not found: the product vanished at the supplier after it was priced',
        number: `DEMO-${stamp}-3`,
        sku: 'DIAMOND50',
        accountId: '222222-2',
        before: (s) => s.sim.nextFault('order', { kind: 'refuse', rc: '44', status: 'NOT_FOUND', http: 404 }),
      },
      {
        title: 'Out of stock: the supplier balance cannot pay for the order',
        number: `DEMO-${stamp}-4`,
        sku: 'DIAMOND50',
        accountId: '333333-3',
        before: (s) => {
          s.sim.balance = 0;
        },
      },
    ];
    for (const s of scenarios) {
      s.before?.(sandbox);
      io.out(`\n=== ${s.title}`);
      const init = await razer.init({
        transactionNumber: s.number,
        sku: s.sku,
        razerId: 'RZR_demo',
        accountId: s.accountId,
        userIpAddress: '203.0.113.7',
        userCountryCode: 'MY',
      });
      io.out(`init   -> ${init.status} ${init.body}`);
      const topup = await razer.topup(s.number, init.json.transactionToken);
      io.out(`topup  -> ${topup.status} ${topup.body}${topup.signed ? '' : '  (SIGNATURE DID NOT VERIFY)'}`);
      await sandbox.gateway.audit.flush();
      for (const line of (await storyOf(sandbox.gateway.store, s.number)) ?? []) io.out(line);
    }
    io.out(`\nSupplier orders placed: ${sandbox.sim.orders.length}; every transaction has at most one.`);
    return 0;
  } finally {
    await sandbox.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
