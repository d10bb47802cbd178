import { afterEach, describe, expect, it, vi } from 'vitest';
import { type AlertBody, Alerter } from '../src/admin/alerts.js';
import { BalanceWatch, type BalanceWatchOptions } from '../src/admin/balance-watch.js';
import { createLogger } from '../src/log.js';
import type { MitraClient } from '../src/mitra/client.js';

type BalanceOutcome = Awaited<ReturnType<MitraClient['balance']>>;

const accepted = (balance: number): BalanceOutcome => ({
  kind: 'accepted',
  data: { balance },
  httpStatus: 200,
});
const ambiguous: BalanceOutcome = {
  kind: 'ambiguous',
  reason: 'timed out waiting for the reply',
  rc: null,
  httpStatus: null,
};

/** A Mitra client whose balance calls answer, in order, with `replies` (an Error is thrown). */
function fakeClient(replies: (BalanceOutcome | Error)[]) {
  let calls = 0;
  let running = 0;
  let mostAtOnce = 0;
  const gates: (() => void)[] = [];
  let gated = false;
  const client = {
    balance: async (): Promise<BalanceOutcome> => {
      calls++;
      running++;
      mostAtOnce = Math.max(mostAtOnce, running);
      try {
        if (gated) await new Promise<void>((resolve) => gates.push(resolve));
        const reply = replies.shift() ?? accepted(1_000_000);
        if (reply instanceof Error) throw reply;
        return reply;
      } finally {
        running--;
      }
    },
  };
  return {
    client,
    calls: () => calls,
    mostAtOnce: () => mostAtOnce,
    /** From now on each call waits until `release`. */
    gate: () => {
      gated = true;
    },
    release: () => {
      gated = false;
      for (const open of gates.splice(0)) open();
    },
  };
}

function logCapture() {
  const lines: string[] = [];
  const logger = createLogger('debug', { write: (s: string) => void lines.push(s) });
  const parsed = () => lines.map((l) => JSON.parse(l) as { level: number; msg: string });
  return { logger, parsed };
}

/** A real alerter whose deliveries are counted instead of sent. */
function countingAlerter() {
  const sent: AlertBody[] = [];
  const alerter = new Alerter({
    logger: createLogger('silent'),
    url: 'https://hooks.example/secret',
    fetch: async (_url, init) => {
      sent.push(JSON.parse(String(init?.body)) as AlertBody);
      return new Response(null, { status: 204 });
    },
  });
  return { alerter, sent };
}

const watches: BalanceWatch[] = [];
afterEach(() => {
  for (const w of watches.splice(0)) w.stop();
  vi.useRealTimers();
});

function watch(options: Partial<BalanceWatchOptions> & Pick<BalanceWatchOptions, 'client'>) {
  let t = 1000;
  const w = new BalanceWatch({
    alerter: { raise: () => true, clear: () => false, release: () => {} },
    logger: createLogger('silent'),
    threshold: null,
    now: () => t++,
    ...options,
  });
  watches.push(w);
  return w;
}

describe('balance watch', () => {
  it('alerts once when the balance falls below the threshold, and again only after it recovered', async () => {
    const fake = fakeClient([
      accepted(100_000),
      accepted(40_000),
      accepted(30_000),
      accepted(50_000),
      accepted(20_000),
    ]);
    const { alerter, sent } = countingAlerter();
    const w = watch({ client: fake.client, alerter, threshold: 50_000 });

    await w.poll();
    await alerter.idle();
    expect(sent).toHaveLength(0);

    await w.poll();
    await w.poll();
    await alerter.idle();
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ kind: 'low-balance', key: 'balance', transactionNumber: null });
    expect(sent[0]?.text).toContain('40,000');
    expect(sent[0]?.text).toContain('50,000');

    // Back at the threshold: not low, the alert is cleared.
    await w.poll();
    await w.poll();
    await alerter.idle();
    expect(sent).toHaveLength(2);
    expect(sent[1]?.text).toContain('20,000');
    expect(fake.calls()).toBe(5);
  });

  it('never alerts without a threshold', async () => {
    const fake = fakeClient([accepted(0), accepted(-5)]);
    const raise = vi.fn(() => true);
    const w = watch({
      client: fake.client,
      alerter: { raise, clear: () => false, release: () => {} },
      threshold: null,
    });
    await w.poll();
    await w.poll();
    expect(raise).not.toHaveBeenCalled();
    expect(w.last()?.idr).toBe(-5);
  });

  it('keeps the last known value when a call fails, and says so', async () => {
    const fake = fakeClient([
      accepted(75_000),
      ambiguous,
      { kind: 'refused', rc: '41', status: 'failed', message: 'invalid signature', httpStatus: 401 },
      new Error('rate limiter closed'),
      accepted(80_000),
    ]);
    const { logger, parsed } = logCapture();
    const w = watch({ client: fake.client, logger });
    expect(w.last()).toBeNull();
    expect(await w.poll()).toEqual({ idr: 75_000, at: 1000 });
    expect(await w.poll()).toEqual({ idr: 75_000, at: 1000 });
    expect(await w.poll()).toEqual({ idr: 75_000, at: 1000 });
    expect(await w.poll()).toEqual({ idr: 75_000, at: 1000 });
    expect(w.last()).toEqual({ idr: 75_000, at: 1000 });
    expect(parsed().filter((l) => l.level === 40)).toHaveLength(3);
    expect(await w.poll()).toEqual({ idr: 80_000, at: 1001 });
    expect(w.last()).toEqual({ idr: 80_000, at: 1001 });
  });

  it('a failure before any reading leaves it unknown', async () => {
    const fake = fakeClient([ambiguous]);
    const w = watch({ client: fake.client });
    expect(await w.poll()).toBeNull();
    expect(w.last()).toBeNull();
  });

  it('joins a poll already under way instead of calling twice', async () => {
    const fake = fakeClient([accepted(10)]);
    const w = watch({ client: fake.client });
    fake.gate();
    const first = w.poll();
    const second = w.poll();
    expect(second).toBe(first);
    fake.release();
    await Promise.all([first, second]);
    expect(fake.calls()).toBe(1);
  });

  it('polls at once and then every interval while it is its turn; stop ends it', async () => {
    vi.useFakeTimers();
    const fake = fakeClient([]);
    const turns: [string, number][] = [];
    const w = watch({ client: fake.client });
    w.start(60_000, async (job, ttlMs) => {
      turns.push([job, ttlMs]);
      return true;
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(fake.calls()).toBe(1);
    await vi.advanceTimersByTimeAsync(59_999);
    expect(fake.calls()).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(fake.calls()).toBe(2);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(fake.calls()).toBe(4);
    expect(turns[0]).toEqual(['balance-poll', 90_000]);
    expect(turns).toHaveLength(4);
    w.stop();
    await w.idle();
    await vi.advanceTimersByTimeAsync(600_000);
    expect(fake.calls()).toBe(4);
  });

  it('stopped while a poll is under way, schedules no more', async () => {
    vi.useFakeTimers();
    const fake = fakeClient([]);
    const w = watch({ client: fake.client });
    fake.gate();
    w.start(1000);
    await vi.advanceTimersByTimeAsync(0);
    expect(fake.calls()).toBe(1);
    w.stop();
    fake.release();
    await w.idle();
    expect(w.last()?.idr).toBe(1_000_000);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(fake.calls()).toBe(1);
  });

  it('does not call Mitra when it is another instance’s turn', async () => {
    vi.useFakeTimers();
    const fake = fakeClient([]);
    let asked = 0;
    const w = watch({ client: fake.client });
    w.start(1000, async () => {
      asked++;
      return false;
    });
    await vi.advanceTimersByTimeAsync(3000);
    await w.idle();
    expect(asked).toBe(4);
    expect(fake.calls()).toBe(0);
    expect(w.last()).toBeNull();
  });

  it('stops showing a low balance when another instance takes the polling turn, without telling it twice when it comes back', async () => {
    vi.useFakeTimers();
    const fake = fakeClient([accepted(10), accepted(10), accepted(10)]);
    const { alerter, sent } = countingAlerter();
    const readings: number[] = [];
    const w = watch({
      client: fake.client,
      alerter,
      threshold: 50_000,
      onReading: (r) => readings.push(r.idr),
    });
    let mine = true;
    w.start(1000, async () => mine);
    await vi.advanceTimersByTimeAsync(0);
    await w.idle();
    expect(alerter.active('low-balance')).toBe(true);
    expect(readings).toEqual([10]);
    mine = false;
    await vi.advanceTimersByTimeAsync(1000);
    await w.idle();
    // This instance no longer judges the balance: the poller does.
    expect(alerter.active('low-balance')).toBe(false);
    expect(fake.calls()).toBe(1);
    // The turn back, still low: shown again, not told again.
    mine = true;
    await vi.advanceTimersByTimeAsync(1000);
    await w.idle();
    expect(fake.calls()).toBe(2);
    expect(alerter.active('low-balance')).toBe(true);
    await alerter.idle();
    expect(sent.filter((b) => b.kind === 'low-balance')).toHaveLength(1);
  });

  it('ends a low balance it raised when the shared reading shows it recovered, so the next one is told', async () => {
    let row: { idr: number; at: number; by: string } | null = null;
    const { alerter, sent } = countingAlerter();
    const fake = fakeClient([accepted(10), accepted(10)]);
    const w = watch({
      client: fake.client,
      alerter,
      threshold: 50_000,
      shared: { save: async () => {}, load: async () => row },
    });
    await w.poll();
    expect(alerter.active('low-balance')).toBe(true);
    // Another instance polls now and reads it recovered; this one follows that reading.
    alerter.release('low-balance', 'balance');
    row = { idr: 90_000, at: 5, by: 'other' };
    w.start(60_000, async () => false, 1);
    await vi.waitFor(() => expect(w.last()?.idr).toBe(90_000));
    w.stop();
    await w.idle();
    // Low again when this instance polls: a new spell, told.
    await w.poll();
    await alerter.idle();
    expect(sent.filter((b) => b.kind === 'low-balance')).toHaveLength(2);
  });

  it('never runs two polls at once, however slow Mitra is', async () => {
    vi.useFakeTimers();
    const fake = fakeClient([]);
    const w = watch({ client: fake.client });
    fake.gate();
    w.start(1000);
    await vi.advanceTimersByTimeAsync(10_000);
    // The first call is still under way: no second one was started beside it.
    expect(fake.calls()).toBe(1);
    fake.release();
    await vi.advanceTimersByTimeAsync(0);
    expect(w.last()?.idr).toBe(1_000_000);
    await vi.advanceTimersByTimeAsync(1000);
    expect(fake.calls()).toBe(2);
    expect(fake.mostAtOnce()).toBe(1);
  });

  it('logs a turn that fails and keeps its schedule', async () => {
    vi.useFakeTimers();
    const fake = fakeClient([]);
    const { logger, parsed } = logCapture();
    const w = watch({ client: fake.client, logger });
    let fail = true;
    w.start(1000, async () => {
      if (fail) throw new Error('database unavailable');
      return true;
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(parsed().filter((l) => l.msg === 'balance poll could not start')).toHaveLength(1);
    fail = false;
    await vi.advanceTimersByTimeAsync(1000);
    expect(fake.calls()).toBe(1);
  });
});

describe('balance watch, the reading shared by every instance', () => {
  type Row = { idr: number; at: number; by: string | null };
  /** A shared reading in memory, as the database keeps it; what this process saves is by `self`. */
  function memoryShare(initial: Row | null = null) {
    let kept = initial;
    let failLoads = false;
    return {
      shared: {
        save: async (r: { idr: number; at: number }) => {
          kept = { ...r, by: 'self' };
        },
        load: async () => {
          if (failLoads) throw new Error('database away');
          return kept;
        },
      },
      set: (r: Row) => {
        kept = r;
      },
      kept: () => kept,
      failLoads: () => {
        failLoads = true;
      },
    };
  }

  /** One follow round of `w` (a start that reads the shared row once, then stops). */
  async function followOnce(w: BalanceWatch) {
    w.start(60_000, async () => false, 60_000);
    await w.idle();
    w.stop();
  }

  it('saves each reading it polls, and a follower takes it without asking Mitra', async () => {
    const share = memoryShare();
    const poller = watch({ client: fakeClient([accepted(70_000)]).client, shared: share.shared });
    await poller.poll();
    expect(share.kept()).toEqual({ idr: 70_000, at: expect.any(Number), by: 'self' });

    const quiet = fakeClient([]);
    const follower = watch({ client: quiet.client, shared: share.shared, now: () => 50_000 });
    await followOnce(follower);
    expect(follower.last()).toEqual({ idr: 70_000, at: share.kept()?.at });
    expect(quiet.calls()).toBe(0);
  });

  it('dates a reading from a clock ahead of its own once, then lets it age (never fresh forever)', async () => {
    let t = 1_000_000;
    const share = memoryShare({ idr: 42, at: t + 600_000, by: 'gw-ahead' }); // read on a clock 10 min ahead
    const follower = watch({ client: fakeClient([]).client, shared: share.shared, now: () => t });
    await followOnce(follower);
    expect(follower.last()).toEqual({ idr: 42, at: 1_000_000 });
    // The same row, followed again 5 min later: unchanged, so its age grows.
    t += 300_000;
    await followOnce(follower);
    expect(follower.last()).toEqual({ idr: 42, at: 1_000_000 });
  });

  it('takes a newer reading written by a clock behind its own (the polling turn moved)', async () => {
    const t = 1_000_000;
    const share = memoryShare({ idr: 10, at: t - 1000, by: 'gw-a' });
    const follower = watch({ client: fakeClient([]).client, shared: share.shared, now: () => t });
    await followOnce(follower);
    expect(follower.last()).toEqual({ idr: 10, at: t - 1000 });
    // gw-b, whose clock is 30 s behind, now holds the turn and read 20 after gw-a's reading.
    share.set({ idr: 20, at: t - 30_000, by: 'gw-b' });
    await followOnce(follower);
    expect(follower.last()).toEqual({ idr: 20, at: t - 30_000 });
  });

  it('keeps its last reading when the shared one cannot be read, and says so', async () => {
    const share = memoryShare({ idr: 10, at: 5_000, by: 'gw-a' });
    const { logger, parsed } = logCapture();
    const follower = watch({ client: fakeClient([accepted(77)]).client, shared: share.shared, logger });
    await followOnce(follower);
    await follower.poll();
    share.failLoads();
    await followOnce(follower);
    expect(follower.last()?.idr).toBe(77);
    expect(parsed().some((l) => l.level === 40 && /shared supplier balance not read/.test(l.msg))).toBe(true);
  });

  it('keeps a reading it could not share, and says so', async () => {
    const { logger, parsed } = logCapture();
    const w = watch({
      client: fakeClient([accepted(55)]).client,
      logger,
      shared: {
        save: async () => {
          throw new Error('disk full');
        },
        load: async () => null,
      },
    });
    expect((await w.poll())?.idr).toBe(55);
    expect(w.last()?.idr).toBe(55);
    expect(parsed().some((l) => l.level === 40 && /not shared with the other instances/.test(l.msg))).toBe(
      true,
    );
  });
});
