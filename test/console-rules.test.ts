import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Story } from '../src/admin/story.js';
import { duration, openAge, stateClass } from '../src/console/format.js';
import { chartWindow, failedToday, HOUR_MS, hourlyBars, outcomeOf } from '../src/console/overview.js';
import { chartDays, type DayFigures, moneyScale, offsetText, salesForm } from '../src/console/sales.js';
import {
  csrfMatches,
  csrfToken,
  issueSession,
  readSession,
  SESSION_TTL_MS,
  type Session,
  SignedOut,
  sessionKey,
} from '../src/console/session.js';
import { timeline } from '../src/console/timeline.js';
import type { HourlyCount } from '../src/db/types.js';
import type { State } from '../src/fulfilment/states.js';

// Pure rules of the console: no storage, no server.

const T0 = Date.UTC(2026, 10, 22, 10, 37, 12, 345);
const KEY = sessionKey('admin-token-for-tests-0123456789');
const OTHER_KEY = sessionKey('another-admin-token-9876543210');

/** A cookie signed the way the session's own format says (`v1.<id>.<expiresAt>.<actor>.<mac>`). */
const signed = (key: Buffer, body: string) =>
  `${body}.${createHmac('sha256', key).update(body).digest('base64url')}`;
const b64 = (text: string) => Buffer.from(text).toString('base64url');

const replacePart = (cookie: string, index: number, value: string) => {
  const parts = cookie.split('.');
  parts[index] = value;
  return parts.join('.');
};

describe('console session cookie', () => {
  it('reads back what it issued: id, actor and expiry', () => {
    const cookie = issueSession(KEY, 'alice', T0, 'session-id-1');
    expect(readSession(KEY, cookie, T0)).toEqual({
      id: 'session-id-1',
      actor: 'alice',
      expiresAt: T0 + SESSION_TTL_MS,
    });
    expect(SESSION_TTL_MS).toBe(8 * 60 * 60 * 1000);
  });

  it('gives every session its own random id', () => {
    const a = readSession(KEY, issueSession(KEY, 'alice', T0), T0);
    const b = readSession(KEY, issueSession(KEY, 'alice', T0), T0);
    expect(a?.id).toMatch(/^[A-Za-z0-9_-]{16,}$/);
    expect(b?.id).toMatch(/^[A-Za-z0-9_-]{16,}$/);
    expect(a?.id).not.toBe(b?.id);
  });

  it('keeps an actor with spaces and symbols intact', () => {
    const actor = 'Alice B. ops+night@example.com';
    expect(readSession(KEY, issueSession(KEY, actor, T0), T0)?.actor).toBe(actor);
  });

  it('refuses a cookie whose id, expiry, actor or mac was altered', () => {
    const cookie = issueSession(KEY, 'alice', T0, 'session-id-1');
    expect(readSession(KEY, cookie, T0)).not.toBeNull();
    const altered = {
      id: replacePart(cookie, 1, 'session-id-2'),
      expiry: replacePart(cookie, 2, String(T0 + SESSION_TTL_MS + 1)),
      later: replacePart(cookie, 2, String(T0 + 10 * SESSION_TTL_MS)),
      actor: replacePart(cookie, 3, b64('mallory')),
      macChar: cookie.slice(0, -1) + (cookie.endsWith('A') ? 'B' : 'A'),
      macShort: cookie.slice(0, -2),
      macEmpty: replacePart(cookie, 4, ''),
      macOfOtherCookie: replacePart(cookie, 4, issueSession(KEY, 'alice', T0, 'x').split('.')[4] ?? ''),
    };
    for (const [what, forged] of Object.entries(altered)) {
      expect(forged, what).not.toBe(cookie);
      expect(readSession(KEY, forged, T0), what).toBeNull();
    }
  });

  it('refuses an expired session, from the moment it expires', () => {
    const cookie = issueSession(KEY, 'alice', T0);
    expect(readSession(KEY, cookie, T0 + SESSION_TTL_MS - 1)).not.toBeNull();
    expect(readSession(KEY, cookie, T0 + SESSION_TTL_MS)).toBeNull();
    expect(readSession(KEY, cookie, T0 + 2 * SESSION_TTL_MS)).toBeNull();
  });

  it('refuses a cookie signed with another key (another ADMIN_TOKEN)', () => {
    const cookie = issueSession(OTHER_KEY, 'alice', T0);
    expect(readSession(OTHER_KEY, cookie, T0)).not.toBeNull();
    expect(readSession(KEY, cookie, T0)).toBeNull();
    expect(sessionKey('admin-token-for-tests-0123456789').equals(KEY)).toBe(true);
    expect(OTHER_KEY.equals(KEY)).toBe(false);
  });

  it('refuses malformed cookies', () => {
    const good = issueSession(KEY, 'alice', T0, 'id');
    const expires = String(T0 + SESSION_TTL_MS);
    const malformed: Record<string, string | undefined> = {
      absent: undefined,
      empty: '',
      version: 'v1',
      dots: '....',
      extraDotAtEnd: `${good}.`,
      extraDotInside: good.replace('.id.', '.id..'),
      extraPart: `${good}.more`,
      fourParts: good.split('.').slice(0, 4).join('.'),
      // Correctly signed, but not what this version writes:
      otherVersion: signed(KEY, `v2.id.${expires}.${b64('alice')}`),
      nonNumericExpiry: signed(KEY, `v1.id.soon.${b64('alice')}`),
      exponentExpiry: signed(KEY, `v1.id.1e20.${b64('alice')}`),
      infiniteExpiry: signed(KEY, `v1.id.Infinity.${b64('alice')}`),
      signedExpiry: signed(KEY, `v1.id.+${expires}.${b64('alice')}`),
      hugeExpiry: signed(KEY, `v1.id.${'9'.repeat(20)}.${b64('alice')}`),
      emptyExpiry: signed(KEY, `v1.id..${b64('alice')}`),
      extraSignedPart: signed(KEY, `v1.id.${expires}.${b64('alice')}.x`),
    };
    // The helper signs like the session does: a well-formed body it signs is accepted.
    expect(readSession(KEY, signed(KEY, `v1.id.${expires}.${b64('alice')}`), T0)).toEqual({
      id: 'id',
      actor: 'alice',
      expiresAt: T0 + SESSION_TTL_MS,
    });
    for (const [what, cookie] of Object.entries(malformed))
      expect(readSession(KEY, cookie, T0), what).toBeNull();
  });
});

describe('console form token (CSRF)', () => {
  const session = (id: string): Session => ({ id, actor: 'alice', expiresAt: T0 + SESSION_TTL_MS });
  const mine = session('session-a');
  const theirs = session('session-b');

  it("matches only its own session's token", () => {
    const token = csrfToken(KEY, mine);
    expect(token).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(csrfMatches(KEY, mine, token)).toBe(true);
    // The same session read again (another request) carries the same token.
    expect(csrfMatches(KEY, { ...mine }, csrfToken(KEY, { ...mine, actor: 'alice' }))).toBe(true);
    expect(csrfMatches(KEY, mine, csrfToken(KEY, theirs))).toBe(false);
    expect(csrfMatches(KEY, theirs, token)).toBe(false);
    expect(csrfMatches(KEY, mine, csrfToken(OTHER_KEY, mine))).toBe(false);
    expect(csrfMatches(KEY, mine, `${token}x`)).toBe(false);
    expect(csrfMatches(KEY, mine, token.slice(0, -1))).toBe(false);
    expect(csrfMatches(KEY, mine, '')).toBe(false);
  });

  it('is never matched by something that is not a string', () => {
    const token = csrfToken(KEY, mine);
    for (const given of [undefined, null, 0, 123, true, [token], { token }, Buffer.from(token)])
      expect(csrfMatches(KEY, mine, given), String(given)).toBe(false);
  });
});

describe('signed-out sessions', () => {
  const s = (id: string, expiresAt: number): Session => ({ id, actor: 'alice', expiresAt });

  it('refuses a signed-out session until it would have expired, then forgets it', () => {
    const out = new SignedOut();
    const a = s('a', T0 + 1000);
    const b = s('b', T0 + 5000);
    out.add(a);
    out.add(b);
    expect(out.has(a, T0)).toBe(true);
    expect(out.has(b, T0)).toBe(true);
    expect(out.has(s('c', T0 + 1000), T0)).toBe(false);
    // At its expiry the cookie is refused anyway: the entry goes.
    expect(out.has(a, T0 + 1000)).toBe(false);
    expect(out.has(b, T0 + 1000)).toBe(true);
    // Forgotten, not hidden: asking with an earlier clock does not bring it back.
    expect(out.has(a, T0)).toBe(false);
    expect(out.has(b, T0)).toBe(true);
  });
});

describe('overview: the hourly chart and the day', () => {
  const at = (day: number, hour: number, minute = 0) => Date.UTC(2026, 10, day, hour, minute);
  const count = (hour: number, state: State, n: number): HourlyCount => ({ hour, state, count: n });

  it('charts the 24 hours ending with the current one', () => {
    expect(chartWindow(T0)).toEqual({ since: at(21, 11), until: at(22, 11) });
    // On the hour, the hour just begun is the current one.
    expect(chartWindow(at(22, 10))).toEqual({ since: at(21, 11), until: at(22, 11) });
    expect(chartWindow(at(22, 10) - 1)).toEqual({ since: at(21, 10), until: at(22, 10) });
    const { since, until } = chartWindow(T0);
    expect(until - since).toBe(24 * HOUR_MS);
    expect(T0).toBeGreaterThanOrEqual(until - HOUR_MS);
    expect(T0).toBeLessThan(until);
  });

  it('always draws 24 bars, oldest first, each one hour', () => {
    const bars = hourlyBars([], T0);
    expect(bars).toHaveLength(24);
    expect(bars[0]?.hour).toBe(at(21, 11));
    expect(bars[23]?.hour).toBe(at(22, 10));
    bars.forEach((bar, i) => {
      expect(bar.hour).toBe(at(21, 11) + i * HOUR_MS);
      expect(bar.total).toBe(0);
      expect(bar.counts).toEqual({ delivered: 0, failed: 0, 'not bought': 0, open: 0 });
    });
  });

  it('puts each count in its hour and its outcome', () => {
    const bars = hourlyBars(
      [
        count(at(21, 11), 'SUCCESS', 4),
        count(at(21, 11), 'FAILED', 1),
        count(at(22, 3), 'CANCELLED', 2),
        count(at(22, 3), 'EXPIRED', 3),
        count(at(22, 10), 'PROCESSING', 5),
        count(at(22, 10), 'UNKNOWN', 1),
        count(at(22, 10), 'SUCCESS', 7),
      ],
      T0,
    );
    expect(bars).toHaveLength(24);
    expect(bars[0]).toEqual({
      hour: at(21, 11),
      counts: { delivered: 4, failed: 1, 'not bought': 0, open: 0 },
      total: 5,
    });
    expect(bars[16]).toEqual({
      hour: at(22, 3),
      counts: { delivered: 0, failed: 0, 'not bought': 5, open: 0 },
      total: 5,
    });
    expect(bars[23]).toEqual({
      hour: at(22, 10),
      counts: { delivered: 7, failed: 0, 'not bought': 0, open: 6 },
      total: 13,
    });
    expect(bars.reduce((n, b) => n + b.total, 0)).toBe(23);
  });

  it('drops counts outside the window', () => {
    const bars = hourlyBars(
      [
        count(at(21, 10), 'SUCCESS', 100), // the hour before the window
        count(at(22, 11), 'SUCCESS', 200), // the hour after the current one
        count(at(20, 11), 'FAILED', 300), // a day earlier
        count(at(22, 10), 'SUCCESS', 1),
      ],
      T0,
    );
    expect(bars).toHaveLength(24);
    expect(bars.reduce((n, b) => n + b.total, 0)).toBe(1);
    expect(bars[23]?.counts.delivered).toBe(1);
  });

  it('groups states by what became of the purchase', () => {
    expect(outcomeOf('SUCCESS')).toBe('delivered');
    expect(outcomeOf('FAILED')).toBe('failed');
    expect(outcomeOf('CANCELLED')).toBe('not bought');
    expect(outcomeOf('EXPIRED')).toBe('not bought');
    // Not topped up (yet): not an open purchase.
    expect(outcomeOf('INITIATED')).toBe('not bought');
    for (const s of ['QUEUED', 'ORDERING', 'PROCESSING', 'UNKNOWN'] as const)
      expect(outcomeOf(s)).toBe('open');
  });

  it('counts only FAILED purchases since midnight UTC as failed today', () => {
    const counts = [
      count(at(21, 23), 'FAILED', 50), // yesterday
      count(at(22, 0), 'FAILED', 2), // the first hour of today
      count(at(22, 0), 'SUCCESS', 9),
      count(at(22, 5), 'CANCELLED', 9),
      count(at(22, 5), 'EXPIRED', 9),
      count(at(22, 10), 'FAILED', 1),
      count(at(22, 10), 'PROCESSING', 9),
    ];
    expect(failedToday(counts, T0)).toBe(3);
    expect(failedToday([], T0)).toBe(0);
    // Just before midnight yesterday's failures count; at midnight exactly, none do.
    const lastHour = [count(at(21, 23), 'FAILED', 50)];
    expect(failedToday(lastHour, at(22, 0) - 1)).toBe(50);
    expect(failedToday(lastHour, at(22, 0))).toBe(0);
  });
});

describe('console formats', () => {
  it('writes durations coarsely', () => {
    const cases: [number, string][] = [
      [-5000, '0 s'],
      [0, '0 s'],
      [999, '0 s'],
      [45_000, '45 s'],
      [59_999, '59 s'],
      [60_000, '1 min'],
      [12 * 60_000 + 30_000, '12 min'],
      [HOUR_MS - 1, '59 min'],
      [HOUR_MS, '1 h 00 min'],
      [3 * HOUR_MS + 5 * 60_000, '3 h 05 min'],
      [48 * HOUR_MS - 1, '47 h 59 min'],
      [48 * HOUR_MS, '2 d 0 h'],
      [52 * HOUR_MS + 59 * 60_000, '2 d 4 h'],
      [10 * 24 * HOUR_MS, '10 d 0 h'],
    ];
    for (const [ms, text] of cases) expect(duration(ms), String(ms)).toBe(text);
  });

  it('gives an open transaction its age, and none to a final or initiated one', () => {
    const createdAt = T0 - 12 * 60_000;
    for (const state of ['SUCCESS', 'FAILED', 'CANCELLED', 'EXPIRED', 'INITIATED'] as const)
      expect(openAge({ state, createdAt }, T0), state).toBe('');
    for (const state of ['QUEUED', 'ORDERING', 'PROCESSING', 'UNKNOWN'] as const)
      expect(openAge({ state, createdAt }, T0), state).toBe('12 min');
    expect(openAge({ state: 'PROCESSING', createdAt: T0 - 3 * HOUR_MS }, T0)).toBe('3 h 00 min');
  });

  it('colours a state by what it means', () => {
    const expected: Record<State, string> = {
      SUCCESS: 'state ok',
      FAILED: 'state bad',
      CANCELLED: 'state idle',
      EXPIRED: 'state idle',
      INITIATED: 'state idle',
      QUEUED: 'state open',
      ORDERING: 'state open',
      PROCESSING: 'state open',
      UNKNOWN: 'state open',
    };
    for (const [state, cls] of Object.entries(expected)) expect(stateClass(state as State), state).toBe(cls);
  });
});

describe('console timeline', () => {
  const N = 'TL-1';
  const story = (): Story => ({
    transaction: {
      transactionNumber: N,
      apiId: 'publisherA',
      sku: 'DIAMOND50',
      brandKey: 'MLBB',
      variationKey: 'MLBB112',
      maxPrice: 16000,
      isVoucher: false,
      accountId: '123456-12',
      supplierData: [],
      razerId: null,
      userIp: null,
      countryCode: null,
      customParam: null,
      state: 'PROCESSING',
      refId: `RG-${N}`,
      trxCode: 'VCG-1',
      orderAttempts: 1,
      resends: 0,
      priceOffered: null,
      pricePaid: null,
      voucherCode: null,
      failureCode: null,
      failureReason: null,
      expiresAt: T0 + HOUR_MS,
      deadlineAt: null,
      toppedUpAt: null,
      nextCheckAt: null,
      checks: 0,
      attention: false,
      attentionReason: null,
      createdAt: T0,
      updatedAt: T0,
      queriesRepeated: 0,
      lastQueriedAt: null,
      limitKey: null,
      revenueMinor: null,
      revenueCurrency: null,
      revenueRateE6: null,
      revenueRateSet: null,
      revenueIdr: null,
    },
    money: {
      outcome: 'open',
      revenue: null,
      revenueIdr: null,
      costIdr: null,
      costFrom: 'open',
      profitIdr: null,
    },
    events: [
      {
        id: 1,
        transactionNumber: N,
        fromState: 'INITIATED',
        toState: 'QUEUED',
        cause: 'razer',
        detail: null,
        at: T0 + 100,
        instanceId: 'gw-1',
        actor: null,
      },
      {
        id: 2,
        transactionNumber: N,
        fromState: 'QUEUED',
        toState: 'ORDERING',
        cause: 'operator',
        detail: 'by hand',
        at: T0 + 300,
        instanceId: null,
        actor: 'alice',
      },
    ],
    exchanges: [
      {
        id: 10,
        transactionNumber: N,
        endpoint: 'topup',
        apiId: 'publisherA',
        method: 'POST',
        path: '/transaction/topup',
        requestHash: 'h',
        requestBody: '{"transactionToken":"[token]"}',
        responseStatus: 200,
        responseHeaders: {},
        responseBody: '{"status":"OK"}',
        receivedAt: T0 + 100,
        respondedAt: T0 + 140,
      },
      {
        id: 9,
        transactionNumber: N,
        endpoint: 'init',
        apiId: 'publisherA',
        method: 'POST',
        path: '/transaction/init',
        requestHash: 'h',
        requestBody: '',
        responseStatus: 200,
        responseHeaders: {},
        responseBody: '{}',
        receivedAt: T0,
        respondedAt: T0 + 5,
      },
    ],
    supplierCalls: [
      {
        id: 20,
        transactionNumber: N,
        operation: 'order',
        method: 'POST',
        url: 'https://mitra.example/order',
        requestBody: '{"ref_id":"RG-TL-1"}',
        httpStatus: null,
        replyBody: null,
        rcCode: null,
        outcome: 'timeout',
        error: 'no answer in 500 ms',
        startedAt: T0 + 300,
        durationMs: 500,
        instanceId: null,
      },
    ],
    webhooks: [
      {
        id: 7,
        receivedAt: T0 + 100,
        sourceIp: '127.0.0.1',
        headers: {},
        body: '{"ref_id":"RG-TL-1"}',
        bodySha256: 'x',
        kind: 'transaction',
        transactionRef: N,
        processedAt: null,
        result: null,
      },
      {
        id: 8,
        receivedAt: T0 + 250,
        sourceIp: '10.0.0.1',
        headers: {},
        body: '{}',
        bodySha256: 'y',
        kind: null,
        transactionRef: N,
        processedAt: T0 + 262,
        result: 'applied',
      },
    ],
  });

  it('merges every record in time order; ties keep the order event, razer, supplier, webhook', () => {
    const entries = timeline(story());
    expect(entries.map((e) => [e.at - T0, e.kind])).toEqual([
      [0, 'razer'],
      [100, 'event'],
      [100, 'razer'],
      [100, 'webhook'],
      [250, 'webhook'],
      [300, 'event'],
      [300, 'supplier'],
    ]);
    expect(entries.map((e) => e.title)).toEqual([
      'Razer init: POST /transaction/init → 200',
      'INITIATED → QUEUED',
      'Razer topup: POST /transaction/topup → 200',
      'Webhook #7 (transaction): not processed yet',
      'Webhook #8: applied',
      'QUEUED → ORDERING',
      'Mitra order: timeout',
    ]);
  });

  it('keeps the facts and bodies of each record, and drops empty facts', () => {
    const entries = timeline(story());
    const byTitle = (title: string) => entries.find((e) => e.title === title);
    expect(byTitle('INITIATED → QUEUED')?.facts).toEqual(['cause razer', 'instance gw-1']);
    expect(byTitle('QUEUED → ORDERING')?.facts).toEqual(['cause operator by alice', 'by hand']);
    expect(byTitle('Razer topup: POST /transaction/topup → 200')).toMatchObject({
      facts: ['answered in 40 ms'],
      bodies: [
        { label: 'request', text: '{"transactionToken":"[token]"}' },
        { label: 'answer', text: '{"status":"OK"}' },
      ],
    });
    // No request body recorded: only the answer.
    expect(byTitle('Razer init: POST /transaction/init → 200')?.bodies).toEqual([
      { label: 'answer', text: '{}' },
    ]);
    expect(byTitle('Mitra order: timeout')).toMatchObject({
      facts: ['POST https://mitra.example/order', 'HTTP –, 500 ms', 'no answer in 500 ms'],
      bodies: [{ label: 'request', text: '{"ref_id":"RG-TL-1"}' }],
    });
    expect(byTitle('Webhook #7 (transaction): not processed yet')?.facts).toEqual(['from 127.0.0.1']);
    expect(byTitle('Webhook #8: applied')?.facts).toEqual(['from 10.0.0.1', 'processed 12 ms later']);
    for (const e of entries) expect(e.facts).not.toContain('');
  });

  it('lets webhook entries, and only those, carry their webhook id', () => {
    const entries = timeline(story());
    expect(entries.filter((e) => e.kind === 'webhook').map((e) => e.webhookId)).toEqual([7, 8]);
    for (const e of entries.filter((x) => x.kind !== 'webhook')) expect(e.webhookId).toBeUndefined();
    expect(entries.find((e) => e.webhookId === 7)?.bodies).toEqual([
      { label: 'body', text: '{"ref_id":"RG-TL-1"}' },
    ]);
  });

  it('is empty for a story with nothing recorded, and does not reorder the story itself', () => {
    const s = story();
    expect(timeline({ ...s, events: [], exchanges: [], supplierCalls: [], webhooks: [] })).toEqual([]);
    timeline(s);
    expect(s.exchanges.map((x) => x.id)).toEqual([10, 9]);
  });
});

describe('sales page: the default range and the chart scale', () => {
  const figures = (revenueIdr: number, costIdr: number): DayFigures => ({
    day: '2026-12-01',
    revenueIdr,
    costIdr,
    profitIdr: revenueIdr - costIdr,
    sold: 1,
  });

  it('defaults to the last 30 days at the offset, today included, and keeps what was typed', () => {
    // 2026-11-30 20:00 UTC is already 2026-12-01 at +07:00.
    const now = Date.UTC(2026, 10, 30, 20, 0);
    expect(salesForm({}, now, 420)).toEqual({ from: '2026-11-02', to: '2026-12-01', by: 'sku' });
    expect(salesForm({}, now, 0)).toEqual({ from: '2026-11-01', to: '2026-11-30', by: 'sku' });
    expect(salesForm({ from: ' ', to: '', by: '' }, now, 420)).toEqual(salesForm({}, now, 420));
    // A `to` alone: the 30 days ending there.
    expect(salesForm({ to: '2026-03-01' }, now, 0)).toMatchObject({ from: '2026-01-31', to: '2026-03-01' });
    // Not a day: kept as typed, for the report's schema to refuse with its reason.
    expect(salesForm({ to: 'soon', by: 'week' }, now, 0)).toEqual({
      from: '2026-11-01',
      to: 'soon',
      by: 'week',
    });
  });

  it('names the offset', () => {
    expect([offsetText(420), offsetText(-210), offsetText(0), offsetText(345)]).toEqual([
      'UTC+07:00',
      'UTC-03:30',
      'UTC',
      'UTC+05:45',
    ]);
  });

  it('draws every day of the range, a day without a line at zero', () => {
    const line = { sold: 2, delivered: 2, failed: 0, refunded: 0, open: 0, unpriced: 0 };
    const days = chartDays({
      query: { from: '2026-12-30', to: '2027-01-02', by: 'day', utcOffsetMinutes: 0 },
      lines: [{ key: '2026-12-31', ...line, revenueIdr: 10, costIdr: 4, profitIdr: 6 }],
      total: { key: 'total', ...line, revenueIdr: 10, costIdr: 4, profitIdr: 6 },
    });
    expect(days.map((d) => [d.day, d.profitIdr])).toEqual([
      ['2026-12-30', 0],
      ['2026-12-31', 6],
      ['2027-01-01', 0],
      ['2027-01-02', 0],
    ]);
  });

  it('scales in whole steps of 1, 2 or 5, zero always a tick, below it when a day lost money', () => {
    expect(moneyScale([figures(17063, 15000)])).toEqual({
      min: 0,
      max: 20000,
      ticks: [0, 5000, 10000, 15000, 20000],
    });
    const loss = moneyScale([figures(55000, 50000), figures(17063, 20000)]);
    expect(loss.min).toBeLessThan(0);
    expect(loss.ticks).toContain(0);
    expect(loss.min).toBeLessThanOrEqual(-2937);
    expect(loss.max).toBeGreaterThanOrEqual(55000);
    for (const t of loss.ticks) expect(Number.isInteger(t)).toBe(true);
    // A cost with nothing earned: the cost above zero, the loss as far below.
    expect(moneyScale([figures(0, 12000)])).toMatchObject({ min: -15000, max: 15000 });
    // Nothing at all: a scale all the same, never a division by zero.
    expect(moneyScale([figures(0, 0)])).toEqual({ min: 0, max: 200, ticks: [0, 200] });
  });
});
