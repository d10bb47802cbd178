import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { MitraClient, type MitraClientOptions, type SupplierCallRecord } from '../../src/mitra/client.js';
import { RateLimiter } from '../../src/mitra/limiter.js';
import { type MitraSimOptions, MitraSimulator } from '../../src/sim/mitra-sim.js';
import { REQUIRED_ENV } from './env.js';
import { EXAMPLE_MAPPING } from './mapping.js';

export const SIM_KEYS = { apiKey: 'sim-access-key', secretKey: 'YourVerySecretKey' } as const;

/**
 * The settings of a gateway that buys from the simulator at `simUrl`: the required ones, the
 * simulator's keys, the example mapping, listening on a free loopback port.
 */
export function simulatorGatewayEnv(simUrl: string): Record<string, string> {
  return {
    ...REQUIRED_ENV,
    MITRA_API_KEY: SIM_KEYS.apiKey,
    MITRA_SECRET_KEY: SIM_KEYS.secretKey,
    MITRA_BASE_URL: simUrl,
    MAPPING_FILE: EXAMPLE_MAPPING,
    HOST: '127.0.0.1',
    PORT: '0',
  };
}

export function startSim(options: Partial<MitraSimOptions> = {}): Promise<MitraSimulator> {
  return MitraSimulator.start({ ...SIM_KEYS, completeAfterMs: 20, ...options });
}

export function clientFor(sim: { url: string }, overrides: Partial<MitraClientOptions> = {}) {
  const calls: SupplierCallRecord[] = [];
  const limiter = overrides.limiter ?? new RateLimiter({ limit: 1000, windowMs: 60_000 });
  const client = new MitraClient({
    baseUrl: sim.url,
    ...SIM_KEYS,
    timeoutMs: 2000,
    limiter,
    record: (c) => calls.push(c),
    retry: { minDelayMs: 5, maxDelayMs: 20 },
    ...overrides,
  });
  return { client, limiter, calls };
}

/** An HTTP server on loopback that keeps every JSON body posted to it. */
export async function startWebhookReceiver() {
  const received: unknown[] = [];
  const app = new Hono();
  app.post('*', async (c) => {
    received.push(await c.req.json());
    return c.text('ok');
  });
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server;
  await new Promise<void>((resolve) => server.once('listening', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
