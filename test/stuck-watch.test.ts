import { afterEach, describe, expect, it } from 'vitest';
import { type AlertEvent, Alerter } from '../src/admin/alerts.js';
import { type StuckWatch, watchStuckPurchases } from '../src/admin/stuck-watch.js';
import type { StoredState } from '../src/db/vocabulary.js';
import { createLogger } from '../src/log.js';
import { T0, transactionRow } from './helpers/fixtures.js';
import { type TempStore, tempStore } from './helpers/storage.js';

// The STUCK_AFTER watch on the store under test (both adapters), with an injected clock and
// its runs called directly: no timer, no sleep.

const MIN = 60_000;
const STUCK_AFTER = 15 * MIN;
const DEADLINE = 24 * 60 * MIN;

let store: TempStore | undefined;
const watches: StuckWatch[] = [];
afterEach(async () => {
  for (const w of watches.splice(0)) w.stop();
  await store?.close();
  store = undefined;
});

function logCapture() {
  const lines: { level: number; msg: string; [k: string]: unknown }[] = [];
  const logger = createLogger('debug', { write: (s: string) => void lines.push(JSON.parse(s)) });
  return { logger, lines };
}

async function setUp(options: { maxAlertsPerRun?: number; holder?: string } = {}) {
  store ??= await tempStore();
  const s = store;
  const clock = { now: T0 };
  const raised: AlertEvent[] = [];
  const { logger, lines } = logCapture();
  const alerter = new Alerter({ logger, onRaise: (e) => raised.push(e) });
  const watch = watchStuckPurchases({
    store: s,
    alerter,
    turn: (job, ttlMs) => s.tryJobLease(job, options.holder ?? 'instance-a', ttlMs),
    now: () => clock.now,
    logger,
    stuckAfterMs: STUCK_AFTER,
    resolveDeadlineMs: DEADLINE,
    intervalMs: 3_600_000, // runs are called by the test
    maxAlertsPerRun: options.maxAlertsPerRun,
  });
  watches.push(watch);
  /** A purchase topped up at `toppedUpAt`, as a top-up leaves it (deadline from the top-up). */
  const purchase = (n: string, state: StoredState, toppedUpAt: number | null, extra = {}) =>
    s.insertTransaction(
      transactionRow(n, state, {
        createdAt: T0 - MIN,
        updatedAt: toppedUpAt ?? T0 - MIN,
        toppedUpAt,
        deadlineAt: toppedUpAt === null ? null : toppedUpAt + DEADLINE,
        ...extra,
      }),
    );
  return { store: s, clock, raised, lines, watch, purchase };
}

const stuckOnes = (raised: AlertEvent[]) => raised.filter((e) => e.kind === 'stuck').map((e) => e.key);

describe('stuck purchases (STUCK_AFTER)', () => {
  it('review: a purchase a previous version topped up (no top-up time, a 24 h deadline) is given its time and alerted', async () => {
    const t = await setUp();
    // What a version without topped_up_at writes at top-up, during a rolling upgrade.
    await t.purchase('OLDREL-1', 'PROCESSING', null, { deadlineAt: T0 + DEADLINE });
    await t.purchase('NOT-PAID', 'INITIATED', null);
    t.clock.now = T0 + STUCK_AFTER + MIN;
    await t.watch.check();
    expect(stuckOnes(t.raised)).toEqual(['OLDREL-1']);
    expect(await t.store.getTransaction('OLDREL-1')).toMatchObject({ toppedUpAt: T0, state: 'PROCESSING' });
    expect(await t.store.getTransaction('NOT-PAID')).toMatchObject({ toppedUpAt: null });
    expect((await t.store.oldestOpen()).PROCESSING).toBe(T0);
  });

  it('alerts once per purchase open past STUCK_AFTER since its top-up, naming it, its state, its age and what to do', async () => {
    const t = await setUp();
    await t.purchase('OLD-Q', 'QUEUED', T0);
    await t.purchase('OLD-P', 'PROCESSING', T0 + MIN);
    await t.purchase('OLD-U', 'UNKNOWN', T0 + 2 * MIN);
    await t.purchase('OLD-O', 'ORDERING', T0 + 3 * MIN);
    await t.purchase('YOUNG', 'PROCESSING', T0 + 10 * MIN);
    await t.purchase('DONE', 'SUCCESS', T0);
    await t.purchase('REFUSED', 'FAILED', T0);
    await t.purchase('NOT-PAID', 'INITIATED', null, { createdAt: T0 - 60 * MIN });

    // 14 min 59.999 s after the first top-up: nothing is stuck yet.
    t.clock.now = T0 + STUCK_AFTER - 1;
    await t.watch.check();
    expect(t.raised).toEqual([]);

    t.clock.now = T0 + 20 * MIN;
    await t.watch.check();
    // Oldest top-up first; the young one (10 min), the final ones and the unpaid init are not stuck.
    expect(stuckOnes(t.raised)).toEqual(['OLD-Q', 'OLD-P', 'OLD-U', 'OLD-O']);
    const first = t.raised[0];
    expect(first).toMatchObject({ kind: 'stuck', key: 'OLD-Q', transactionNumber: 'OLD-Q' });
    expect(first?.message).toContain('still QUEUED 20 min after its top-up (STUCK_AFTER 15m)');
    expect(first?.message).toContain('/console/transactions/OLD-Q');
    expect(first?.message).toContain('gateway tx show OLD-Q');
    expect(t.raised[1]?.message).toContain('still PROCESSING 19 min');
    // Logged as the other alerts are: a warning naming the kind and the transaction.
    expect(t.lines.filter((l) => l.alert === 'stuck').map((l) => l.transactionNumber)).toEqual([
      'OLD-Q',
      'OLD-P',
      'OLD-U',
      'OLD-O',
    ]);

    // Later runs tell nothing twice, and tell of a purchase once it has become stuck.
    t.clock.now = T0 + 24 * MIN;
    await t.watch.check();
    await t.watch.check();
    expect(stuckOnes(t.raised)).toEqual(['OLD-Q', 'OLD-P', 'OLD-U', 'OLD-O']);
    t.clock.now = T0 + 25 * MIN;
    await t.watch.check();
    await t.watch.check();
    expect(stuckOnes(t.raised)).toEqual(['OLD-Q', 'OLD-P', 'OLD-U', 'OLD-O', 'YOUNG']);
  });

  it('changes nothing on the purchase: no state move, no attention flag, no event', async () => {
    const t = await setUp();
    await t.purchase('KEEP', 'PROCESSING', T0, { trxCode: 'MTR-KEEP', nextCheckAt: T0 + 30 * MIN });
    const before = await t.store.getTransaction('KEEP');
    t.clock.now = T0 + 16 * MIN;
    await t.watch.check();
    expect(stuckOnes(t.raised)).toEqual(['KEEP']);
    expect(await t.store.getTransaction('KEEP')).toEqual(before);
    expect(before).toMatchObject({ state: 'PROCESSING', attention: false, attentionReason: null });
    expect(await t.store.listEvents('KEEP')).toEqual([]);
  });

  it('does not alert a purchase already flagged for an operator, nor one past its deadline', async () => {
    const t = await setUp();
    await t.purchase('FLAGGED', 'UNKNOWN', T0, { attention: true, attentionReason: 'contradiction' });
    await t.purchase('OVERDUE', 'PROCESSING', T0 - DEADLINE - MIN);
    await t.purchase('STUCK', 'PROCESSING', T0);
    t.clock.now = T0 + 16 * MIN;
    await t.watch.check();
    expect(stuckOnes(t.raised)).toEqual(['STUCK']);
  });

  it('alerts at most a bounded number a run, logs how many more there are, and tells of the rest in later runs', async () => {
    const t = await setUp({ maxAlertsPerRun: 3 });
    for (let i = 0; i < 8; i++) await t.purchase(`B-${i}`, 'QUEUED', T0 + i);
    t.clock.now = T0 + 30 * MIN;
    await t.watch.check();
    expect(stuckOnes(t.raised)).toEqual(['B-0', 'B-1', 'B-2']);
    const summary = t.lines.filter((l) => l.more !== undefined);
    expect(summary).toHaveLength(1);
    expect(summary[0]).toMatchObject({ level: 40, alerted: 3, more: 5, perRun: 3 });
    expect(summary[0]?.msg).toMatch(/^5 more purchases are stuck past STUCK_AFTER/);

    await t.watch.check();
    expect(stuckOnes(t.raised)).toEqual(['B-0', 'B-1', 'B-2', 'B-3', 'B-4', 'B-5']);
    await t.watch.check();
    expect(stuckOnes(t.raised)).toHaveLength(8);
    // Nothing more to tell: no summary either.
    expect(t.lines.filter((l) => l.more !== undefined)).toHaveLength(2);
    await t.watch.check();
    expect(stuckOnes(t.raised)).toHaveLength(8);
  });

  it('a purchase that became final before its turn is never alerted', async () => {
    const t = await setUp({ maxAlertsPerRun: 1 });
    await t.purchase('F-1', 'PROCESSING', T0);
    await t.purchase('F-2', 'PROCESSING', T0 + 1);
    t.clock.now = T0 + 16 * MIN;
    await t.watch.check();
    expect(stuckOnes(t.raised)).toEqual(['F-1']);
    const moved = await t.store.moveTransaction({
      transactionNumber: 'F-2',
      from: 'PROCESSING',
      to: 'SUCCESS',
      cause: 'supplier',
      at: t.clock.now,
    });
    expect(moved.ok).toBe(true);
    await t.watch.check();
    expect(stuckOnes(t.raised)).toEqual(['F-1']);
  });

  it('runs on one instance at a time: another holding the turn alerts nothing', async () => {
    const a = await setUp({ holder: 'instance-a' });
    const b = await setUp({ holder: 'instance-b' });
    await a.purchase('ONE', 'UNKNOWN', T0);
    a.clock.now = T0 + 16 * MIN;
    b.clock.now = T0 + 16 * MIN;
    await a.watch.check();
    await b.watch.check();
    expect(stuckOnes(a.raised)).toEqual(['ONE']);
    expect(b.raised).toEqual([]);
  });
});
