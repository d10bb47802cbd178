import { pino } from 'pino';
import { loadConfig } from '../../src/config/env.js';
import { isTerminal } from '../../src/fulfilment/states.js';
import { type GatewayOptions, type RunningGateway, startGateway } from '../../src/gateway.js';
import { createLogger, type Logger } from '../../src/log.js';
import type { MitraSimOptions, MitraSimulator } from '../../src/sim/mitra-sim.js';
import { REQUIRED_ENV } from './env.js';
import { EXAMPLE_MAPPING, exampleMapping } from './mapping.js';
import { simulatorGatewayEnv, startSim } from './mitra.js';
import { initBody, send } from './razer.js';
import { tempDatabase } from './storage.js';
import { waitFor } from './wait.js';

/** Silent, unless TEST_LOG_FILE names a file to write the gateway's log to (debugging). */
export function testLogger() {
  const file = process.env.TEST_LOG_FILE;
  return file ? createLogger('debug', pino.destination({ dest: file, sync: true })) : createLogger('silent');
}

export const WEBHOOK_TOKEN = REQUIRED_ENV.MITRA_WEBHOOK_TOKEN;

export interface E2E {
  sim: MitraSimulator;
  gw: RunningGateway;
  url: string;
  webhookUrl: string;
  init(n: string, over?: Record<string, unknown>): ReturnType<typeof send>;
  topup(n: string, token: unknown): ReturnType<typeof send>;
  purchase(
    n: string,
    over?: Record<string, unknown>,
  ): Promise<{ init: Awaited<ReturnType<typeof send>>; topup: Awaited<ReturnType<typeof send>> }>;
  query(n: string): ReturnType<typeof send>;
  /** Waits until the transaction is final, then returns the answer to a query. */
  settle(n: string, timeoutMs?: number): ReturnType<typeof send>;
  state(n: string): Promise<string | undefined>;
  calls(n: string): Promise<{ operation: string; outcome: string }[]>;
  events(n: string): Promise<string[]>;
  close(): Promise<void>;
}

/** The settings an end-to-end gateway runs with, against the simulator at `simUrl`. */
export function e2eEnv(simUrl: string): Record<string, string> {
  return {
    ...simulatorGatewayEnv(simUrl),
    MITRA_WEBHOOK_ALLOW_IPS: '127.0.0.1',
    TOPUP_WAIT_MS: '3000',
    MITRA_TIMEOUT_MS: '500',
    RECONCILE_SCHEDULE_MS: '100,200,400',
  };
}

export async function startE2E(
  options: {
    sim?: Partial<MitraSimOptions>;
    env?: Record<string, string>;
    tickMs?: number;
    logger?: Logger;
    gateway?: GatewayOptions;
  } = {},
): Promise<E2E> {
  const sim = await startSim({ completeAfterMs: 30, ...options.sim });
  const database = await tempDatabase();
  const parsed = loadConfig({ ...e2eEnv(sim.url), ...database.env, ...options.env });
  if (!parsed.ok) throw new Error(parsed.errors.join('\n'));
  const gw = await startGateway(parsed.value, exampleMapping(), options.logger ?? testLogger(), {
    reconcileTickMs: options.tickMs ?? 25,
    ...options.gateway,
  });
  await gw.catalogueReady;
  const webhookUrl = `${gw.url}/mitra/webhook/${WEBHOOK_TOKEN}`;
  sim.webhookUrl = webhookUrl;
  const h = { url: gw.url };
  const e2e: E2E = {
    sim,
    gw,
    url: gw.url,
    webhookUrl,
    init: (n, over) => send(h, 'POST', '/transaction/init', initBody(n, over)),
    topup: (n, token) =>
      send(h, 'POST', '/transaction/topup', { transactionNumber: n, transactionToken: token }),
    async purchase(n, over) {
      const init = await e2e.init(n, over);
      if (init.status !== 200) throw new Error(`init ${n}: ${init.status} ${init.text}`);
      return { init, topup: await e2e.topup(n, init.json.transactionToken) };
    },
    query: (n) => send(h, 'GET', `/transaction/${n}`),
    async settle(n, timeoutMs = 10_000) {
      let last: string | undefined;
      await waitFor(
        async () => {
          const row = await gw.store.getTransaction(n);
          last = row?.state;
          return row !== undefined && isTerminal(row.state);
        },
        timeoutMs,
        () => `${n} to be final (now ${last})`,
      );
      return e2e.query(n);
    },
    state: async (n) => (await gw.store.getTransaction(n))?.state,
    calls: async (n) => {
      await gw.audit.flush(); // supplier calls are written in batches
      return (await gw.store.listSupplierCalls(n)).map((c) => ({
        operation: c.operation,
        outcome: c.outcome,
      }));
    },
    events: async (n) => (await gw.store.listEvents(n)).map((e) => `${e.fromState}>${e.toState}`),
    async close() {
      await gw.close();
      await sim.close();
      await database.remove();
    },
  };
  return e2e;
}
