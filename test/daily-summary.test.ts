import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type AlertBody, Alerter } from '../src/admin/alerts.js';
import {
  type DailySummary,
  type DailySummaryDeps,
  dueDay,
  type SummaryFacts,
  startDailySummary,
  summaryText,
} from '../src/admin/daily-summary.js';
import { loadConfig } from '../src/config/env.js';
import { PostgresStore } from '../src/db/postgres/store.js';
import { SqliteStore } from '../src/db/sqlite/store.js';
import type { Store } from '../src/db/store.js';
import { type RunningGateway, startGateway } from '../src/gateway.js';
import { createLogger } from '../src/log.js';
import type { ReportLine } from '../src/reports/sales.js';
import { REQUIRED_ENV } from './helpers/env.js';
import { FakeClock } from './helpers/fake-clock.js';
import { transactionRow } from './helpers/fixtures.js';
import { EXAMPLE_MAPPING, exampleMapping } from './helpers/mapping.js';
import { SIM_KEYS, startSim } from './helpers/mitra.js';
import { TEST_DIALECT, type TempStore, tempDatabase, tempStore } from './helpers/storage.js';
import { waitFor } from './helpers/wait.js';

// The daily summary (issue 24 §2): what it says, when it goes, and that it goes once per day
// whatever the number of instances, on the adapter of the project (TEST_DATABASE).

const HOUR = 3_600_000;
const WIB = 420;
/** 2026-03-15 00:00 at +07:00. */
const MARCH_15 = Date.UTC(2026, 2, 14, 17, 0);

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const clean of cleanups.splice(0).reverse()) await clean();
});

const line = (over: Partial<ReportLine> = {}): ReportLine => ({
  key: 'total',
  sold: 12,
  delivered: 9,
  failed: 1,
  refunded: 1,
  open: 1,
  revenueIdr: 1_800_000,
  costIdr: 1_650_000,
  profitIdr: 150_000,
  unpriced: 0,
  ...over,
});

const facts = (over: Partial<SummaryFacts> = {}): SummaryFacts => ({
  day: '2026-03-14',
  utcOffsetMinutes: WIB,
  sales: line(),
  balance: { idr: 5_250_000, at: MARCH_15 + 8 * HOUR - 5 * 60_000 },
  counts: {
    byState: {
      INITIATED: 0,
      QUEUED: 0,
      ORDERING: 0,
      PROCESSING: 0,
      UNKNOWN: 1,
      SUCCESS: 9,
      FAILED: 2,
      CANCELLED: 0,
      EXPIRED: 0,
    },
    attention: 2,
  },
  oldestOpen: { INITIATED: null, QUEUED: null, ORDERING: null, PROCESSING: null, UNKNOWN: null },
  now: MARCH_15 + 8 * HOUR,
  resolveDeadlineMs: 24 * HOUR,
  ...over,
});

describe('the summary text', () => {
  it("says the day's sales, money, balance, flagged and UNKNOWN counts, in a few plain lines", () => {
    expect(summaryText(facts())).toBe(
      [
        '[gateway] daily summary of 2026-03-14 (UTC+07:00)',
        'Sales: 12 sold, 9 delivered, 1 failed, 1 refunded, 1 still open',
        'Revenue IDR 1,800,000, cost IDR 1,650,000, profit IDR 150,000',
        'Supplier balance: IDR 5,250,000, read 2026-03-15 07:55',
        'Now: 2 flagged, 1 UNKNOWN; past deadline: none',
      ].join('\n'),
    );
  });

  it('says a balance never read, a loss, sales left out of the money, and an open purchase past its deadline', () => {
    const text = summaryText(
      facts({
        utcOffsetMinutes: -210,
        sales: line({ profitIdr: -12_500, unpriced: 2 }),
        balance: null,
        oldestOpen: {
          INITIATED: null,
          QUEUED: null,
          ORDERING: null,
          PROCESSING: null,
          UNKNOWN: MARCH_15 - 18 * HOUR,
        },
      }),
    ).split('\n');
    expect(text[0]).toBe('[gateway] daily summary of 2026-03-14 (UTC-03:30)');
    expect(text[2]).toBe(
      'Revenue IDR 1,800,000, cost IDR 1,650,000, profit IDR -12,500 (2 delivered sales without a recorded revenue or cost left out)',
    );
    expect(text[3]).toBe('Supplier balance: not read');
    expect(text[4]).toBe(
      'Now: 2 flagged, 1 UNKNOWN; past deadline: the oldest open purchase is UNKNOWN 26 h 00 min after its top-up (RESOLVE_DEADLINE 24h)',
    );
  });

  it('counts an open purchase within its deadline as none past it', () => {
    const text = summaryText(
      facts({
        oldestOpen: { INITIATED: 1, QUEUED: MARCH_15, ORDERING: null, PROCESSING: null, UNKNOWN: null },
      }),
    );
    expect(text.split('\n')[4]).toBe('Now: 2 flagged, 1 UNKNOWN; past deadline: none');
  });
});

describe('the day due', () => {
  it('is yesterday at the offset from the hour on, and nothing before it', () => {
    expect(dueDay(MARCH_15 + 8 * HOUR - 1, 8, WIB)).toBeNull();
    expect(dueDay(MARCH_15 + 8 * HOUR, 8, WIB)).toBe('2026-03-14');
    expect(dueDay(MARCH_15 + 24 * HOUR - 1, 8, WIB)).toBe('2026-03-14');
    expect(dueDay(MARCH_15 + 24 * HOUR, 8, WIB)).toBeNull();
    // Midnight: due at once, all day.
    expect(dueDay(MARCH_15, 0, WIB)).toBe('2026-03-14');
    // UTC: the same instant is still the 14th, 17:00.
    expect(dueDay(MARCH_15, 8, 0)).toBe('2026-03-13');
    expect(dueDay(MARCH_15, 18, 0)).toBeNull();
  });
});

// -- the schedule, on the database of the project

type Answer = number | 'hang';

/** A chat webhook on a free loopback port: answers each POST with the next of `answers`. */
async function receiver(answers: Answer[] = []) {
  const received: AlertBody[] = [];
  const ok: AlertBody[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      text += chunk;
    });
    req.on('end', () => {
      const body = JSON.parse(text) as AlertBody;
      received.push(body);
      const answer = answers.shift() ?? 200;
      if (answer === 'hang') return;
      if (answer < 300) ok.push(body);
      res.writeHead(answer, { 'content-type': 'text/plain' });
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const { port } = server.address() as AddressInfo;
  /** The summaries delivered (answered 2xx), by day. */
  const delivered = () => ok.filter((b) => b.kind === 'daily-summary').map((b) => b.key);
  return { url: `http://127.0.0.1:${port}/hook`, received, delivered };
}

function logCapture() {
  const lines: string[] = [];
  const logger = createLogger('info', { write: (s: string) => void lines.push(s) });
  const parsed = () => lines.map((l) => JSON.parse(l) as { msg: string; day?: string; reason?: string });
  return { logger, parsed };
}

async function opened(): Promise<TempStore> {
  const store = await tempStore();
  cleanups.push(() => store.close());
  return store;
}

/** Another handle on the same database: what a second instance holds. */
async function secondHandle(store: TempStore, instanceId = 'second'): Promise<Store> {
  const { settings } = store.database;
  const other: Store = settings.databaseUrl
    ? await PostgresStore.open(settings.databaseUrl, { poolSize: 3, instanceId })
    : SqliteStore.open(settings.databasePath, instanceId);
  cleanups.push(() => other.close());
  return other;
}

interface Instance {
  summary: DailySummary;
  asked: string[];
  results: string[];
  log: ReturnType<typeof logCapture>;
}

/** One gateway's daily summary: its own store handle, alerter and holder name; checked by hand. */
async function instance(
  store: Store,
  clock: FakeClock,
  url: string | null,
  over: Partial<DailySummaryDeps> = {},
): Promise<Instance> {
  const asked: string[] = [];
  const results: string[] = [];
  const log = logCapture();
  const alerter = new Alerter({
    logger: log.logger,
    url,
    delivery: { tries: 2, minDelayMs: 5, maxDelayMs: 10, timeoutMs: 2000 },
  });
  cleanups.push(() => alerter.close());
  const summary = startDailySummary({
    store,
    sales: async (day) => {
      asked.push(day);
      return line({ key: day });
    },
    balance: async () => ({ idr: 1_000_000, at: clock.now() }),
    post: alerter.posting ? (m) => alerter.post(m) : null,
    hour: 8,
    utcOffsetMinutes: WIB,
    resolveDeadlineMs: 24 * HOUR,
    holder: `${store.instanceId}/${Math.random().toString(36).slice(2)}`,
    claimMs: 60_000,
    // Checked by hand: the timer never fires during a test.
    intervalMs: 3_600_000,
    now: clock.now,
    logger: log.logger,
    onResult: (r) => results.push(r),
    ...over,
  });
  cleanups.push(async () => {
    summary.stop();
    await summary.idle();
  });
  // Its first check, at start, is over.
  await summary.idle();
  return { summary, asked, results, log };
}

describe('the daily summary, sent once per day', () => {
  it('sends nothing before the hour, then yesterday once, then the next day again', async () => {
    const store = await opened();
    const hook = await receiver();
    const clock = new FakeClock(MARCH_15 + 7 * HOUR + 30 * 60_000);
    const a = await instance(store, clock, hook.url);
    expect(await a.summary.check()).toBe('not-yet');
    expect(hook.received).toEqual([]);

    await clock.advance(30 * 60_000);
    expect(await a.summary.check()).toBe('sent');
    expect(hook.delivered()).toEqual(['2026-03-14']);
    expect(hook.received[0]?.text.split('\n')[0]).toBe('[gateway] daily summary of 2026-03-14 (UTC+07:00)');
    expect(hook.received[0]).toMatchObject({
      kind: 'daily-summary',
      key: '2026-03-14',
      transactionNumber: null,
    });
    expect(a.asked).toEqual(['2026-03-14']);
    expect(await store.getDailySummary('2026-03-14')).toMatchObject({
      attempts: 1,
      sentAt: clock.now(),
      lastError: null,
    });
    expect(a.log.parsed()).toContainEqual(
      expect.objectContaining({ msg: 'daily summary sent', day: '2026-03-14' }),
    );

    for (const later of [60_000, HOUR, 10 * HOUR]) {
      await clock.advance(later);
      expect(await a.summary.check()).toBe('taken');
    }
    expect(hook.received).toHaveLength(1);

    // 2026-03-16 07:59, then 08:00.
    await clock.advance(MARCH_15 + 32 * HOUR - 60_000 - clock.now());
    expect(await a.summary.check()).toBe('not-yet');
    await clock.advance(60_000);
    expect(await a.summary.check()).toBe('sent');
    expect(hook.delivered()).toEqual(['2026-03-14', '2026-03-15']);
    expect(a.results).toEqual(['sent', 'sent']);
  });

  it('is sent by a gateway started later the same day; a day further back never is', async () => {
    const store = await opened();
    const hook = await receiver();
    // 2026-03-15 22:40: down at the hour, started since.
    const clock = new FakeClock(MARCH_15 + 22 * HOUR + 40 * 60_000);
    const late = await instance(store, clock, hook.url);
    // Its check at start sent it.
    expect(hook.delivered()).toEqual(['2026-03-14']);
    expect(await late.summary.check()).toBe('taken');

    // Down from then until 2026-03-17 07:00: the 15th was never sent, and never will be.
    late.summary.stop();
    await clock.advance(MARCH_15 + 55 * HOUR - clock.now());
    const restarted = await instance(store, clock, hook.url);
    expect(await restarted.summary.check()).toBe('not-yet');
    await clock.advance(HOUR);
    expect(await restarted.summary.check()).toBe('sent');
    expect(hook.delivered()).toEqual(['2026-03-14', '2026-03-16']);
    expect(restarted.asked).toEqual(['2026-03-16']);
    expect(await store.getDailySummary('2026-03-15')).toBeUndefined();
  });

  it('two instances checking at the same moment send it once', async () => {
    const store = await opened();
    const other = await secondHandle(store);
    const hook = await receiver();
    const clock = new FakeClock(MARCH_15 + 7 * HOUR);
    const a = await instance(store, clock, hook.url);
    const b = await instance(other, clock, hook.url);
    const days = ['2026-03-14', '2026-03-15', '2026-03-16', '2026-03-17', '2026-03-18'];
    for (const _ of days) {
      await clock.advance(HOUR);
      const results = await Promise.all([a.summary.check(), b.summary.check(), a.summary.check()]);
      // The third joined a's check under way.
      expect(results[0]).toBe(results[2]);
      expect([results[0], results[1]].sort()).toEqual(['sent', 'taken']);
      expect(await Promise.all([a.summary.check(), b.summary.check()])).toEqual(['taken', 'taken']);
      await clock.advance(23 * HOUR);
    }
    expect(hook.received.map((r) => r.key)).toEqual(days);
    expect(hook.delivered()).toEqual(days);
    for (const day of days) expect(await other.getDailySummary(day)).toMatchObject({ attempts: 1 });
  });

  it('is sent by another instance once the claim of one that died before sending runs out', async () => {
    const store = await opened();
    const other = await secondHandle(store);
    const hook = await receiver();
    const clock = new FakeClock(MARCH_15 + 9 * HOUR);
    // The instance that died had claimed the day, for a short while of database time.
    expect(await other.claimDailySummary('2026-03-14', 'dead/1', 300)).toBe(true);
    const b = await instance(store, clock, hook.url);
    expect(await b.summary.check()).toBe('taken');
    expect(hook.received).toEqual([]);
    await waitFor(async () => (await b.summary.check()) === 'sent', 5000, 'the claim to run out');
    expect(hook.delivered()).toEqual(['2026-03-14']);
    expect(await other.getDailySummary('2026-03-14')).toMatchObject({ attempts: 2, sentAt: clock.now() });
    expect(await b.summary.check()).toBe('taken');
    expect(hook.received).toHaveLength(1);
  });

  it('tries a failing webhook again, on any instance, and then it is sent once', async () => {
    const store = await opened();
    const other = await secondHandle(store);
    // Two tries per delivery: the first delivery fails twice, the second is refused once, then taken.
    const hook = await receiver([503, 503, 500]);
    const clock = new FakeClock(MARCH_15 + 7 * HOUR);
    const a = await instance(store, clock, hook.url);
    const b = await instance(other, clock, hook.url);
    await clock.advance(2 * HOUR);
    expect(await a.summary.check()).toBe('failed');
    expect(a.results).toEqual(['failed']);
    expect(a.log.parsed()).toContainEqual(
      expect.objectContaining({
        msg: expect.stringMatching(/^daily summary not sent \(HTTP 503\)/),
        reason: 'HTTP 503',
      }),
    );
    // The claim was given up at once: the other instance tries at its next check.
    expect(await store.getDailySummary('2026-03-14')).toMatchObject({ sentAt: null, lastError: 'HTTP 503' });
    expect(await b.summary.check()).toBe('sent');
    expect(hook.received.map((r) => r.key)).toEqual(Array(4).fill('2026-03-14'));
    expect(hook.delivered()).toEqual(['2026-03-14']);
    expect(await Promise.all([a.summary.check(), b.summary.check()])).toEqual(['taken', 'taken']);
    expect(hook.delivered()).toEqual(['2026-03-14']);
    expect(await store.getDailySummary('2026-03-14')).toMatchObject({ attempts: 2, lastError: null });
    expect(b.results).toEqual(['sent']);
  });

  it('records at the next check a summary delivered whose record failed, without sending it again', async () => {
    const store = await opened();
    const other = await secondHandle(store);
    const hook = await receiver();
    const clock = new FakeClock(MARCH_15 + 9 * HOUR);
    let failures = 1;
    const flaky: DailySummaryDeps['store'] = {
      claimDailySummary: (day, holder, ttl) => store.claimDailySummary(day, holder, ttl),
      markDailySummarySent: async (day, holder, at) => {
        if (failures-- > 0) throw new Error('the database is away');
        return store.markDailySummarySent(day, holder, at);
      },
      releaseDailySummary: (day, holder, reason) => store.releaseDailySummary(day, holder, reason),
      getDailySummary: (day) => store.getDailySummary(day),
      countTransactions: () => store.countTransactions(),
      oldestOpen: () => store.oldestOpen(),
    };
    // Its check at start delivered it, and could not record it.
    const a = await instance(store, clock, hook.url, { store: flaky });
    expect(hook.delivered()).toEqual(['2026-03-14']);
    expect(a.log.parsed()).toContainEqual(
      expect.objectContaining({ msg: expect.stringMatching(/^daily summary sent but not recorded as sent/) }),
    );
    expect(await store.getDailySummary('2026-03-14')).toMatchObject({ sentAt: null });
    // Still claimed by it: another instance does not send it meanwhile.
    const b = await instance(other, clock, hook.url);
    expect(await b.summary.check()).toBe('taken');
    expect(await a.summary.check()).toBe('sent');
    expect(await store.getDailySummary('2026-03-14')).toMatchObject({ sentAt: clock.now(), attempts: 1 });
    expect(await Promise.all([a.summary.check(), b.summary.check()])).toEqual(['taken', 'taken']);
    expect(hook.received).toHaveLength(1);
  });

  it('is not sent while the figures cannot be read, and is once they can', async () => {
    const store = await opened();
    const hook = await receiver();
    const clock = new FakeClock(MARCH_15 + 9 * HOUR);
    let broken = true;
    const a = await instance(store, clock, hook.url, {
      sales: async (day) => {
        if (broken) throw new Error('report unavailable');
        return line({ key: day });
      },
    });
    expect(await a.summary.check()).toBe('failed');
    expect(a.log.parsed()).toContainEqual(
      expect.objectContaining({
        msg: expect.stringMatching(/^daily summary not sent: its figures could not be read/),
      }),
    );
    expect(await store.getDailySummary('2026-03-14')).toBeUndefined();
    broken = false;
    expect(await a.summary.check()).toBe('sent');
    expect(hook.delivered()).toEqual(['2026-03-14']);
  });

  it('without ALERT_WEBHOOK_URL is logged, once per day too', async () => {
    const store = await opened();
    const other = await secondHandle(store);
    const clock = new FakeClock(MARCH_15 + 9 * HOUR);
    const a = await instance(store, clock, null);
    const b = await instance(other, clock, null);
    expect(await Promise.all([a.summary.check(), b.summary.check()])).toEqual(['taken', 'taken']);
    const logged = [...a.log.parsed(), ...b.log.parsed()].filter((l) => l.msg.startsWith('daily summary ('));
    expect(logged).toEqual([
      expect.objectContaining({
        msg: 'daily summary (ALERT_WEBHOOK_URL is unset: logged only)',
        day: '2026-03-14',
      }),
    ]);
  });
});

describe('the daily summary claim in the store', () => {
  it('is one holder at a time, ends on a failure, and is never taken once the day is sent', async () => {
    const store = await opened();
    const other = await secondHandle(store);
    expect(await store.claimDailySummary('2026-03-14', 'a', 60_000)).toBe(true);
    expect(await other.claimDailySummary('2026-03-14', 'b', 60_000)).toBe(false);
    // Not even by its own holder while it runs: a check still under way keeps it alone.
    expect(await store.claimDailySummary('2026-03-14', 'a', 60_000)).toBe(false);
    expect(await other.claimDailySummary('2026-03-15', 'b', 60_000)).toBe(true);
    // Only the holder gives it up.
    await other.releaseDailySummary('2026-03-14', 'b', 'not mine');
    expect(await other.claimDailySummary('2026-03-14', 'b', 60_000)).toBe(false);
    await store.releaseDailySummary('2026-03-14', 'a', 'HTTP 500');
    expect(await other.claimDailySummary('2026-03-14', 'b', 60_000)).toBe(true);
    expect(await store.getDailySummary('2026-03-14')).toMatchObject({
      day: '2026-03-14',
      claimedBy: 'b',
      attempts: 2,
      lastError: 'HTTP 500',
      sentAt: null,
    });
    expect(await other.markDailySummarySent('2026-03-14', 'b', 1234)).toBe(true);
    expect(await store.markDailySummarySent('2026-03-14', 'a', 5678)).toBe(false);
    expect(await store.getDailySummary('2026-03-14')).toMatchObject({
      sentAt: 1234,
      sentBy: 'b',
      lastError: null,
    });
    // A claim run out, or given up, does not open a day that was sent.
    await other.releaseDailySummary('2026-03-14', 'b', 'late');
    expect(await store.claimDailySummary('2026-03-14', 'a', 1)).toBe(false);
    expect(await store.getDailySummary('2026-03-14')).toMatchObject({ lastError: null, attempts: 2 });
  });

  it('runs out on the database clock', async () => {
    const store = await opened();
    const other = await secondHandle(store);
    expect(await store.claimDailySummary('2026-03-14', 'a', 1)).toBe(true);
    await waitFor(() => other.claimDailySummary('2026-03-14', 'b', 60_000), 5000, "a's claim to run out");
    expect(await store.getDailySummary('2026-03-14')).toMatchObject({ claimedBy: 'b', attempts: 2 });
  });
});

// Two gateways on one PostgreSQL, each with its own schedule checking every 20 ms: the
// multi-instance set-up the gateway supports (one SQLite file serves one gateway process; two
// handles on one SQLite file are tested above).
if (TEST_DIALECT === 'postgres')
  describe('two gateways on one PostgreSQL', () => {
    it('send the daily summary once, with the sales of the day before', async () => {
      const sim = await startSim({ completeAfterMs: 30 });
      cleanups.push(() => sim.close());
      const database = await tempDatabase();
      cleanups.push(() => database.remove());
      const hook = await receiver();
      let shift = 0;
      const now = () => Date.now() + shift;
      const gateways: RunningGateway[] = [];
      cleanups.push(async () => {
        for (const gw of gateways) await gw.close();
      });
      const start = async (instance: string) => {
        const config = loadConfig({
          ...REQUIRED_ENV,
          MITRA_API_KEY: SIM_KEYS.apiKey,
          MITRA_SECRET_KEY: SIM_KEYS.secretKey,
          MITRA_BASE_URL: sim.url,
          ...database.env,
          MAPPING_FILE: EXAMPLE_MAPPING,
          PORT: '0',
          HOST: '127.0.0.1',
          INSTANCE_ID: instance,
          DAILY_SUMMARY_HOUR: '8',
          REPORT_UTC_OFFSET: '+07:00',
          ALERT_WEBHOOK_URL: hook.url,
        });
        if (!config.ok) throw new Error(config.errors.join('\n'));
        const gw = await startGateway(config.value, exampleMapping(), createLogger('silent'), {
          now,
          dailySummaryCheckMs: 20,
          alertDelivery: { tries: 2, minDelayMs: 5, maxDelayMs: 10, timeoutMs: 2000 },
        });
        gateways.push(gw);
        return gw;
      };
      // A sale of the 14th (local), delivered, in the database before the gateways start.
      const seed = await PostgresStore.open(database.env.DATABASE_URL ?? '', {
        poolSize: 1,
        instanceId: 'seed',
      });
      try {
        await seed.migrate();
        await seed.insertTransaction(
          transactionRow('DS-1', 'SUCCESS', {
            createdAt: MARCH_15 - 2 * HOUR,
            updatedAt: MARCH_15 - HOUR,
            pricePaid: 15_000,
            revenueMinor: 105,
            revenueCurrency: 'USD',
            revenueRateE6: 16_250_500_000,
            revenueRateSet: '2026-03-01',
            revenueIdr: 17_063,
          }),
        );
      } finally {
        await seed.close();
      }
      // 2026-03-15 07:59:56 at +07:00, and moving: both gateways are up when the hour comes, and
      // check within 20 ms of each other from then on.
      shift = MARCH_15 + 8 * HOUR - 4000 - Date.now();
      const a = await start('gw-a');
      const b = await start('gw-b');
      await waitFor(() => hook.delivered().length > 0, 10_000, 'a daily summary');
      // Both schedules keep checking: each finds the day sent.
      await waitFor(
        async () =>
          (await a.dailySummary?.check()) === 'taken' && (await b.dailySummary?.check()) === 'taken',
        10_000,
        'both gateways to find the day sent',
      );
      expect(hook.delivered()).toEqual(['2026-03-14']);
      expect(hook.received.filter((r) => r.kind === 'daily-summary')).toHaveLength(1);
      const text = hook.received[0]?.text.split('\n') ?? [];
      expect(text[0]).toBe('[gateway] daily summary of 2026-03-14 (UTC+07:00)');
      expect(text[1]).toBe('Sales: 1 sold, 1 delivered, 0 failed, 0 refunded, 0 still open');
      expect(text[2]).toBe('Revenue IDR 17,063, cost IDR 15,000, profit IDR 2,063');
      expect(text[3]).toMatch(/^Supplier balance: IDR [\d,]+, read 2026-03-15 0[78]:\d\d$/);
      const row = await a.store.getDailySummary('2026-03-14');
      expect(row).toMatchObject({ attempts: 1, lastError: null });
      expect(['gw-a', 'gw-b']).toContain(row?.sentBy?.split('/')[0]);
      // The sender counted it; together the two counted one.
      const sent = async (gw: RunningGateway) =>
        /gateway_daily_summaries_total\{result="sent"\} (\d+)/.exec((await gw.metrics.render()).body)?.[1];
      expect([await sent(a), await sent(b)].sort()).toEqual(['0', '1']);
    });
  });
