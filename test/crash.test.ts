import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../src/db/open.js';
import type { CrashPoint } from '../src/fulfilment/crash-points.js';
import type { MitraSimulator } from '../src/sim/mitra-sim.js';
import { type ChildGateway, spawnGateway } from './helpers/child-gateway.js';
import { REQUIRED_ENV } from './helpers/env.js';
import { EXAMPLE_MAPPING } from './helpers/mapping.js';
import { SIM_KEYS, startSim } from './helpers/mitra.js';
import { initBody, type RazerReply, send } from './helpers/razer.js';
import { type TempDatabase, type TempDir, tempDatabase, tempDir } from './helpers/storage.js';
import { waitFor } from './helpers/wait.js';

let sim: MitraSimulator | undefined;
let dir: TempDir | undefined;
let database: TempDatabase | undefined;
const children: ChildGateway[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) await c.stop();
  await sim?.close();
  await database?.remove();
  dir?.remove();
  sim = database = dir = undefined;
});

/** On PostgreSQL, the lease an ORDERING step holds; a killed holder's runs out after it. */
const MITRA_TIMEOUT_MS = 1000;
const LEASE_MS = 2 * MITRA_TIMEOUT_MS + 1000;

const env = (simUrl: string, db: TempDatabase): Record<string, string> => ({
  ...REQUIRED_ENV,
  MITRA_API_KEY: SIM_KEYS.apiKey,
  MITRA_SECRET_KEY: SIM_KEYS.secretKey,
  MITRA_BASE_URL: simUrl,
  ...db.env,
  MAPPING_FILE: EXAMPLE_MAPPING,
  PORT: '0',
  HOST: '127.0.0.1',
  MITRA_WEBHOOK_ALLOW_IPS: '127.0.0.1',
  TOPUP_WAIT_MS: '2000',
  MITRA_TIMEOUT_MS: String(MITRA_TIMEOUT_MS),
  RECONCILE_SCHEDULE_MS: '100,200,400',
  LOG_LEVEL: 'info',
});

async function start(extra: Record<string, string> = {}): Promise<ChildGateway> {
  if (!sim || !dir || !database) throw new Error('no simulator');
  const child = await spawnGateway({ ...env(sim.url, database), ...extra }, dir.path);
  children.push(child);
  sim.webhookUrl = `${child.url}/mitra/webhook/${REQUIRED_ENV.MITRA_WEBHOOK_TOKEN}`;
  return child;
}

/** A Razer answer, or null when the connection died with the gateway. */
async function attempt(call: Promise<RazerReply>): Promise<RazerReply | null> {
  try {
    return await call;
  } catch {
    return null;
  }
}

/**
 * Queries until the answer is definitive (not 408). On PostgreSQL an ORDERING row the killed
 * process left keeps its lease until it runs out, and the reconciler takes it over only then.
 */
async function finalAnswer(gw: ChildGateway, n: string): Promise<RazerReply> {
  let last: RazerReply | null = null;
  await waitFor(
    async () => {
      last = await send(gw, 'GET', `/transaction/${n}`);
      return last.status !== 408;
    },
    20_000 + LEASE_MS,
    `${n} to reach a final answer`,
  );
  if (!last) throw new Error('no answer');
  return last;
}

/** Point, what it means, B's state and orders at the kill, whether a webhook is left unprocessed. */
const POINTS: [CrashPoint, string, string, number, boolean][] = [
  ['after-queued', 'QUEUED is committed, before anything is sent', 'QUEUED', 0, false],
  ['after-ordering', 'ORDERING is committed, before create-order is sent', 'ORDERING', 0, false],
  [
    'after-order-reply',
    'create-order was sent and created the order, before its reply is committed',
    'ORDERING',
    1,
    false,
  ],
  ['during-webhook', 'a webhook is stored but not yet applied', 'PROCESSING', 1, true],
];

/** What the dead gateway left in its database, read afresh. */
async function onDisk(
  db: TempDatabase,
  n: string,
): Promise<{ state: string | undefined; unprocessedWebhooks: number }> {
  const store = await openStore(db.settings);
  try {
    const row = await store.getTransaction(n);
    const inbox = await store.listUnprocessedWebhooks();
    return { state: row?.state, unprocessedWebhooks: inbox.length };
  } finally {
    await store.close();
  }
}

describe('crash and restart (the gateway as a child process, SIGKILLed)', () => {
  it.each(POINTS)(
    'killed when %s (%s): invariants 1-5 hold after the restart',
    async (point, _what, stateAtKill, ordersAtKill, webhookPending) => {
      sim = await startSim({ completeAfterMs: 50 });
      dir = tempDir();
      database = await tempDatabase();
      // A passes the same point unharmed: only B's passage kills the process.
      const first = await start({ GATEWAY_CRASH_AT: point, GATEWAY_CRASH_ON: 'CRASH-B' });

      // A: a purchase answered before the crash.
      const initA = await send(first, 'POST', '/transaction/init', initBody('CRASH-A'));
      const answerA = await send(first, 'POST', '/transaction/topup', {
        transactionNumber: 'CRASH-A',
        transactionToken: initA.json.transactionToken,
      });
      expect(answerA.status).toBe(200);
      await waitFor(() => (sim?.stats.webhooksSent ?? 0) >= 2, 5000, "A's webhooks");

      // B: the purchase during which the process dies.
      const initB = await send(
        first,
        'POST',
        '/transaction/init',
        initBody('CRASH-B', { accountId: '654321-1' }),
      );
      expect(initB.status).toBe(200);
      const answerB = await attempt(
        send(first, 'POST', '/transaction/topup', {
          transactionNumber: 'CRASH-B',
          transactionToken: initB.json.transactionToken,
        }),
      );
      expect(await first.exited).toMatchObject({ signal: 'SIGKILL' });
      // Killed exactly there: what is on disk and at the supplier at that moment.
      const left = await onDisk(database, 'CRASH-B');
      expect(left.state).toBe(stateAtKill);
      expect(left.unprocessedWebhooks > 0).toBe(webhookPending);
      expect(sim.ordersFor('RG-CRASH-B')).toHaveLength(ordersAtKill);

      const second = await start();
      const finalB = await finalAnswer(second, 'CRASH-B');

      // Invariant 1: exactly one supplier order per transaction.
      expect(sim.ordersFor('RG-CRASH-A')).toHaveLength(1);
      expect(sim.ordersFor('RG-CRASH-B')).toHaveLength(1);
      // Invariant 3: 200 only when delivered.
      expect(finalB.status).toBe(200);
      expect(sim.order('RG-CRASH-B')?.status).toBe(2);
      // Invariants 2 and 5: what was answered before the crash is what is answered after it.
      expect((await send(second, 'GET', '/transaction/CRASH-A')).text).toBe(answerA.text);
      if (answerB && answerB.status !== 408) expect(finalB.text).toBe(answerB.text);
      // Invariant 4: the history only moves forward, to one final state.
      const again = await send(second, 'POST', '/transaction/topup', {
        transactionNumber: 'CRASH-B',
        transactionToken: initB.json.transactionToken,
      });
      expect(again.text).toBe(finalB.text);
    },
    60_000 + LEASE_MS,
  );
});
