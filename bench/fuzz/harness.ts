import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, MITRA_WEBHOOK_IPS } from '../../src/config/env.js';
import { SqliteStore } from '../../src/db/sqlite/store.js';
import { canMove, type State } from '../../src/fulfilment/states.js';
import { type RunningGateway, startGateway } from '../../src/gateway.js';
import { createLogger } from '../../src/log.js';
import { signatureHeader } from '../../src/razer/signature.js';
import { requestSignedContent } from '../../src/readings/razer.js';
import { type MitraSimulator, SIM_STATUS, type SimOrder } from '../../src/sim/mitra-sim.js';
import { jsonObject } from '../../src/sim/razer-client.js';
import { REQUIRED_ENV } from '../../test/helpers/env.js';
import { EXAMPLE_MAPPING, exampleMapping } from '../../test/helpers/mapping.js';
import { SIM_KEYS, startSim } from '../../test/helpers/mitra.js';
import { waitFor } from '../../test/helpers/wait.js';
import { type ChangeLog, installChangeLog } from './change-log.js';
import { deliver, type RawRequest, type RawResponse } from './http.js';

export const CREDENTIALS = {
  apiId: REQUIRED_ENV.RAZER_API_ID,
  key: REQUIRED_ENV.RAZER_API_KEY,
  /** During a rotation the old key verifies too. */
  previousKey: 'fuzz-previous-razer-key-0001',
  adminToken: 'fuzz-admin-token-0123456789abcdef',
  webhookToken: REQUIRED_ENV.MITRA_WEBHOOK_TOKEN,
  /** Mitra's published addresses: allowed. Anything else is refused. */
  allowedIps: MITRA_WEBHOOK_IPS,
} as const;

/** What a request may change, as comparable text: the state, and the records of what was asked. */
export interface Snapshot {
  state: string;
  audit: string;
}

/** The live transactions the random requests aim at; it grows as the pools are refilled. */
export interface Fixtures {
  numbers: string[];
  tokens: Map<string, string>;
  trxCodes: string[];
}

export interface FuzzGateway {
  gw: RunningGateway;
  sim: MitraSimulator;
  fx: Fixtures;
  send(request: RawRequest): Promise<RawResponse>;
  /** A Razer request signed with the current key, sent from a Razer-like peer. */
  razer(method: 'GET' | 'POST', target: string, body?: string): Promise<RawResponse>;
  snapshot(): Promise<Snapshot>;
  /** Waits until nothing runs in the background: batched records written, steps and webhooks done. */
  settle(): Promise<void>;
  /** Keeps a few transactions open (INITIATED, PROCESSING) for the requests to act on. */
  replenish(): Promise<void>;
  /** Invariants over the whole database and the simulator; a list of what is wrong. */
  invariantProblems(): Promise<string[]>;
  close(): Promise<void>;
}

const SETTLE_MS = 10_000;
const NEVER_SENT = new Set<State>(['INITIATED', 'CANCELLED', 'EXPIRED']);
const KEEP_OPEN = 3;

/** A folder for the database: in memory when the machine has /dev/shm (fsync costs nothing there). */
function scratchDir(): string {
  for (const base of ['/dev/shm', tmpdir()]) {
    try {
      return mkdtempSync(join(base, 'gateway-fuzz-'));
    } catch {
      // next
    }
  }
  throw new Error('no folder for the fuzz database');
}

/**
 * One gateway with its Mitra simulator, built as production builds it (`startGateway`), driven
 * in-process through `app.fetch`: no sockets on the request path. Nothing runs on its own: the
 * reconciler ticks hourly and checks on a one-hour schedule, the simulator sends no webhooks and
 * has no rate limit, top-ups answer at once (the order goes on in the background and is awaited
 * by `settle`). So between two requests the state changes only through a request.
 */
export async function startFuzzGateway(name: string): Promise<FuzzGateway> {
  // A balance that 100,000 runs of purchases cannot spend: a refusal for want of it is not what is fuzzed.
  const sim = await startSim({ completeAfterMs: 0, rateLimit: null, balance: 1e15 });
  const dir = scratchDir();
  const parsed = loadConfig({
    ...REQUIRED_ENV,
    RAZER_API_KEY_PREVIOUS: CREDENTIALS.previousKey,
    MITRA_API_KEY: SIM_KEYS.apiKey,
    MITRA_SECRET_KEY: SIM_KEYS.secretKey,
    MITRA_BASE_URL: sim.url,
    DATABASE_PATH: join(dir, 'gateway.db'),
    MAPPING_FILE: EXAMPLE_MAPPING,
    PORT: '0',
    HOST: '127.0.0.1',
    MITRA_WEBHOOK_ALLOW_IPS: CREDENTIALS.allowedIps.join(','),
    TRUST_PROXY: '1',
    TOPUP_WAIT_MS: '0',
    MITRA_TIMEOUT_MS: '2000',
    RECONCILE_SCHEDULE_MS: '3600000',
    MITRA_RATE_LIMIT: '1000000/1s',
    // Thousands of webhooks a second from two addresses: the cap is not what is fuzzed.
    MITRA_WEBHOOK_CAP: '1000000/1s',
    MITRA_WEBHOOK_CAP_BYTES: '1GiB',
    ADMIN_TOKEN: CREDENTIALS.adminToken,
  });
  if (!parsed.ok) throw new Error(parsed.errors.join('\n'));
  const gw = await startGateway(parsed.value, exampleMapping(), createLogger('silent'), {
    reconcileTickMs: 3_600_000,
    balancePollMs: 3_600_000,
    catalogueWatchMs: 3_600_000,
  });
  await gw.catalogueReady;
  if (!(gw.store instanceof SqliteStore)) throw new Error('the fuzzer runs on SQLite');
  const sqlite = gw.store.storage.sqlite;
  const changes: ChangeLog = installChangeLog(sqlite);

  const fx: Fixtures = { numbers: [], tokens: new Map(), trxCodes: [] };

  const send = (request: RawRequest) => deliver(gw.app, request);
  const razer = (method: 'GET' | 'POST', target: string, body = '') =>
    send({
      method,
      target,
      headers: [
        [
          'x-razer-signature',
          signatureHeader(
            CREDENTIALS.apiId,
            CREDENTIALS.key,
            requestSignedContent('body', method, target, Buffer.from(body)),
          ),
        ],
        ...(method === 'POST' ? [['content-type', 'application/json'] as const] : []),
      ],
      body: method === 'POST' ? Buffer.from(body) : null,
      chunked: false,
      remoteAddress: '203.0.113.9',
    });

  const settle = async () => {
    await waitFor(
      async () => {
        await gw.audit.flush();
        await gw.engine.idle();
        return (await gw.store.listUnprocessedWebhooks(1)).length === 0;
      },
      SETTLE_MS,
      'the background to settle (steps under way, webhooks unprocessed)',
    );
  };

  let made = 0;
  const state = async (n: string) => (await gw.store.getTransaction(n))?.state;
  const init = async (sku: 'DIAMOND50' | 'STEAMV50' = 'DIAMOND50') => {
    const n = `FZ-${name}-${++made}`;
    const body = JSON.stringify({
      transactionNumber: n,
      sku,
      razerId: 'RZR_fuzz',
      accountId: `${100000 + made}-${made % 90}`,
      userIpAddress: '203.0.113.7',
      userCountryCode: 'MY',
    });
    const r = await razer('POST', '/transaction/init', body);
    const token = jsonObject(r.text).transactionToken;
    if (r.status !== 200 || typeof token !== 'string')
      throw new Error(`fixture init ${n}: ${r.status} ${r.text}`);
    fx.numbers.push(n);
    fx.tokens.set(n, token);
    return n;
  };
  /** Init and top-up; the order ends as told (`stay`: processing for ever). */
  const buy = async (ending: 'stay' | 'success' | 'fail', sku: 'DIAMOND50' | 'STEAMV50' = 'DIAMOND50') => {
    const n = await init(sku);
    sim.nextEnding(ending === 'fail' ? { kind: 'fail', sn: 'fuzz: invalid player' } : { kind: ending });
    await razer(
      'POST',
      '/transaction/topup',
      JSON.stringify({ transactionNumber: n, transactionToken: fx.tokens.get(n) }),
    );
    await settle();
    const order = sim.ordersFor(`RG-${n}`)[0];
    if (!order) throw new Error(`fixture ${n}: no order placed (${await state(n)})`);
    fx.trxCodes.push(order.trxCode);
    return { n, order };
  };
  /** Bought, and the gateway told of the order's end. */
  const finished = async (ending: 'success' | 'fail', sku: 'DIAMOND50' | 'STEAMV50' = 'DIAMOND50') => {
    const { n, order } = await buy(ending, sku);
    await waitFor(() => order.status !== SIM_STATUS.processing, SETTLE_MS, `${n}'s order to end`);
    await gw.engine.advance(n, 'reconciler');
    await settle();
    return n;
  };

  // One transaction in every reachable state.
  await init();
  await buy('stay');
  await buy('success'); // delivered at Mitra; the gateway learns it only when asked
  await finished('success');
  await finished('fail');
  await finished('success', 'STEAMV50');
  const cancelled = await init();
  await razer('POST', '/transaction/cancel', JSON.stringify({ transactionNumber: cancelled }));
  const expired = await init();
  await razer('GET', `/transaction/${expired}`);
  await settle();

  return {
    gw,
    sim,
    fx,
    send,
    razer,
    async snapshot() {
      await gw.audit.flush();
      const c = changes.read();
      return {
        state: `transactions ${c.transactions}, events ${c.transaction_events}, orders ${sim.orders.length}, balance ${sim.balance}`,
        audit: `razer_exchanges ${c.razer_exchanges}, webhook_inbox ${c.webhook_inbox}`,
      };
    },
    settle,
    async replenish() {
      const counts = await gw.store.countTransactions();
      const of = (s: State) => counts.byState[s] ?? 0;
      for (let i = of('INITIATED'); i < KEEP_OPEN; i++) await init();
      for (let i = of('PROCESSING'); i < KEEP_OPEN; i++) await buy(i % 2 === 0 ? 'stay' : 'success');
    },
    async invariantProblems() {
      await settle();
      const problems: string[] = [];
      const rows = sqlite
        .prepare('select transaction_number as n, state, ref_id as ref from transactions')
        .all() as {
        n: string;
        state: State;
        ref: string;
      }[];
      const events = sqlite
        .prepare(
          'select transaction_number as n, from_state as "from", to_state as "to", cause from transaction_events order by id',
        )
        .all() as { n: string; from: State; to: State; cause: string }[];
      const ordersByRef = new Map<string, SimOrder[]>();
      for (const o of sim.orders) ordersByRef.set(o.refId, [...(ordersByRef.get(o.refId) ?? []), o]);
      const last = new Map<string, State>();
      const operator = new Set<string>();
      for (const e of events) {
        const before = last.get(e.n) ?? 'INITIATED';
        if (e.from !== before) problems.push(`${e.n}: event ${e.from} -> ${e.to} after ${before}`);
        if (!canMove(e.from, e.to)) problems.push(`${e.n}: illegal move ${e.from} -> ${e.to}`);
        if (e.cause === 'operator') operator.add(e.n);
        last.set(e.n, e.to);
      }
      for (const row of rows) {
        const final = last.get(row.n) ?? 'INITIATED';
        if (final !== row.state) problems.push(`${row.n}: state ${row.state}, its events end at ${final}`);
        const orders = ordersByRef.get(row.ref) ?? [];
        if (orders.length > 1) problems.push(`${row.n}: ${orders.length} supplier orders`);
        // Delivered only when Mitra delivered (or an operator said so).
        if (row.state === 'SUCCESS' && !operator.has(row.n) && orders[0]?.status !== SIM_STATUS.success)
          problems.push(`${row.n}: SUCCESS, but its order at Mitra is ${orders[0]?.status ?? 'absent'}`);
        // Cancelled, expired or never topped up: nothing was ever sent.
        if (NEVER_SENT.has(row.state) && orders.length > 0)
          problems.push(`${row.n}: ${row.state}, but Mitra has an order for it`);
      }
      return problems;
    },
    async close() {
      await gw.close();
      await sim.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
