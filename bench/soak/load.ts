// The soak's load generator, in a process of its own (Razer Gold's side): signed init, top-up,
// query and cancel at fixed offered rates (open loop: a slow answer never slows the offer), each
// latency recorded per endpoint. Prints {"event":"start"} when its clock starts, then one JSON
// line of results (plan.ts: loadResultSchema). Usage: tsx bench/soak/load.ts '<LoadConfig JSON>'
import { setTimeout as sleep } from 'node:timers/promises';
import { RazerClient, type RazerReply } from '../../src/sim/razer-client.js';
import { ENDPOINTS, type Endpoint, type LoadConfig, type LoadResult, loadConfigSchema } from './plan.js';
import { seeded } from './random.js';
import { burstTimes, cycles, steadyTimes, summarize } from './stats.js';

const config: LoadConfig = loadConfigSchema.parse(JSON.parse(process.argv[2] ?? '{}'));
const razer = new RazerClient(config.url, config.apiId, config.key);
const random = seeded(config.seed);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;

const latencies = Object.fromEntries(ENDPOINTS.map((e) => [e, [] as number[]])) as Record<Endpoint, number[]>;
const statuses = Object.fromEntries(ENDPOINTS.map((e) => [e, {}])) as Record<
  Endpoint,
  Record<string, number>
>;
const errors = Object.fromEntries(ENDPOINTS.map((e) => [e, 0])) as Record<Endpoint, number>;
/** When (ms from the start) each endpoint's slowest request was sent. */
const slowestAt = Object.fromEntries(ENDPOINTS.map((e) => [e, { ms: -1, at: 0 }])) as Record<
  Endpoint,
  { ms: number; at: number }
>;
let unsignedAnswers = 0;

/** One request, timed; null when no answer came at all. */
async function timed(endpoint: Endpoint, call: () => Promise<RazerReply>): Promise<RazerReply | null> {
  const started = performance.now();
  try {
    const reply = await call();
    const ms = performance.now() - started;
    latencies[endpoint].push(ms);
    if (ms > slowestAt[endpoint].ms) slowestAt[endpoint] = { ms, at: started - start };
    const byStatus = statuses[endpoint];
    byStatus[reply.status] = (byStatus[reply.status] ?? 0) + 1;
    if (!reply.signed) unsignedAnswers++;
    return reply;
  } catch {
    errors[endpoint]++;
    return null;
  }
}

/** Purchases' final answers (200 delivered, 400 not), and those still open, oldest first. */
interface Final {
  status: number;
  referenceId: unknown;
  code: unknown;
}
const finals = new Map<string, Final>();
const delivered: string[] = [];
const open = new Set<string>();
const purchase = { offered: 0, initRefused: 0, answered: 0, delivered: 0, notDelivered: 0 };
const cancels = { fresh: 0, ofDelivered: 0, unexpected: 0 };
let contradictions = 0;

const voucherCode = (json: Record<string, unknown>): unknown =>
  typeof json.voucher === 'object' && json.voucher !== null
    ? (json.voucher as { code?: unknown }).code
    : null;

/** Records what an answer says about purchase `n`; a final answer must agree with any earlier one. */
function settle(n: string, reply: RazerReply | null): void {
  if (!reply || (reply.status !== 200 && reply.status !== 400)) {
    open.add(n);
    return;
  }
  open.delete(n);
  const now: Final = {
    status: reply.status,
    referenceId: reply.json.referenceId,
    code: voucherCode(reply.json),
  };
  const before = finals.get(n);
  if (before) {
    if (before.status !== now.status || before.referenceId !== now.referenceId || before.code !== now.code)
      contradictions++;
    return;
  }
  finals.set(n, now);
  if (now.status === 200) {
    purchase.delivered++;
    delivered.push(n);
  } else purchase.notDelivered++;
}

const SERVERS = ['Asia', 'America', 'Europe', 'TW_HK_MO'] as const;

/** Mixed SKUs of the example mapping: a top-up, a voucher, a top-up with an option field. */
function initBody(n: string, i: number): Record<string, unknown> {
  const base = {
    transactionNumber: n,
    razerId: 'RZR_soak',
    userIpAddress: '203.0.113.7',
    userCountryCode: 'MY',
  };
  const r = random();
  // A fresh account per purchase: the mapping's per-account daily limit is not what is soaked.
  if (r < 0.5) return { ...base, sku: 'DIAMOND50', accountId: `${100000 + i}-${1 + (i % 9)}` };
  if (r < 0.8) return { ...base, sku: 'STEAMV50', accountId: `steam-${i}` };
  return {
    ...base,
    sku: 'GENSHIN60',
    accountId: String(800_000_000 + i),
    customParam: { serverId: pick(SERVERS) },
  };
}

const prefix = `SOAK${config.seed}`;

async function buy(i: number): Promise<void> {
  purchase.offered++;
  const n = `${prefix}-P${i}`;
  const init = await timed('init', () => razer.init(initBody(n, i)));
  if (init?.status !== 200) {
    purchase.initRefused++;
    return;
  }
  const topup = await timed('topup', () => razer.topup(n, init.json.transactionToken));
  if (topup) purchase.answered++;
  settle(n, topup);
}

/** The oldest open purchase, asked again; with none open, a final one, whose answer must not change. */
async function query(): Promise<void> {
  const [n] = open;
  if (n !== undefined) {
    open.delete(n);
    settle(n, await timed('query', () => razer.query(n)));
    return;
  }
  const done = [...finals.keys()];
  if (done.length > 0) {
    const m = pick(done);
    settle(m, await timed('query', () => razer.query(m)));
  }
}

/** Alternately: cancel a fresh init (200 CANCELLED), or a delivered purchase (400 NOT_ALLOW_CANCEL). */
async function cancel(i: number): Promise<void> {
  const target = i % 2 === 1 && delivered.length > 0 ? pick(delivered) : null;
  if (target) {
    cancels.ofDelivered++;
    const reply = await timed('cancel', () =>
      razer.request('POST', '/transaction/cancel', { transactionNumber: target }),
    );
    if (reply && (reply.status !== 400 || reply.json.code !== 'NOT_ALLOW_CANCEL')) cancels.unexpected++;
    return;
  }
  cancels.fresh++;
  const n = `${prefix}-C${i}`;
  const init = await timed('init', () => razer.init(initBody(n, 1_000_000 + i)));
  if (init?.status !== 200) {
    cancels.unexpected++;
    return;
  }
  const reply = await timed('cancel', () =>
    razer.request('POST', '/transaction/cancel', {
      transactionNumber: n,
      transactionToken: init.json.transactionToken,
    }),
  );
  if (reply && (reply.status !== 200 || reply.json.status !== 'CANCELLED')) cancels.unexpected++;
}

const inFlight = new Set<Promise<void>>();
const elapsed = () => performance.now() - start;

/** Fires `action` at each of `times` (ms from the start), never waiting for an answer. */
async function offer(times: Iterable<number>, action: (i: number) => Promise<void>): Promise<void> {
  let i = 0;
  for (const at of times) {
    const wait = at - elapsed();
    if (wait > 1) await sleep(wait);
    const p = action(i++).finally(() => inFlight.delete(p));
    inFlight.add(p);
  }
}

const cpuBefore = process.cpuUsage();
const start = performance.now();
console.log(JSON.stringify({ event: 'start' }));
const plan = cycles(config.durationMs, config.cycleMs, config.burstMs);
await Promise.all([
  offer(burstTimes(plan, config.purchaseRate), buy),
  offer(steadyTimes(config.durationMs, config.queryRate), query),
  offer(steadyTimes(config.durationMs, config.cancelRate), cancel),
]);
await Promise.all(inFlight);
// Purchases still open after the run are asked about at the same rate, for a while.
const settleUntil = elapsed() + config.settleMs;
while (open.size > 0 && elapsed() < settleUntil) {
  await query();
  await sleep(1000 / config.queryRate);
}

const cpu = process.cpuUsage(cpuBefore);
const result: LoadResult = {
  endpoints: Object.fromEntries(
    ENDPOINTS.map((e) => [
      e,
      {
        ...summarize(latencies[e]),
        slowestAt: slowestAt[e].at,
        statuses: statuses[e],
        errors: errors[e],
      },
    ]),
  ) as LoadResult['endpoints'],
  purchases: { ...purchase, openAtEnd: open.size },
  cancels,
  contradictions,
  unsignedAnswers,
  clientCpu: (100 * (cpu.user + cpu.system)) / 1000 / elapsed(),
};
console.log(JSON.stringify(result));
