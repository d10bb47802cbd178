import { describe, expect, it } from 'vitest';
import { createMetrics, type MetricsSources } from '../src/admin/metrics.js';
import type { OldestOpen, TransactionCounts } from '../src/db/types.js';
import { TRANSACTION_STATES } from '../src/db/vocabulary.js';
import { createLogger } from '../src/log.js';
import type { Operation } from '../src/mitra/client.js';
import type { OutcomeKind } from '../src/mitra/outcome.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The text exposition format, as much of it as prom-client writes: types and samples. */
function parse(body: string): { types: Map<string, string>; samples: Sample[] } {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of body.split('\n')) {
    if (line === '' || line.startsWith('# HELP ')) continue;
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) {
      types.set(type[1] ?? '', type[2] ?? '');
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[l[1] ?? ''] = l[2] ?? '';
    const raw = m[3] ?? '';
    samples.push({
      name: m[1] ?? '',
      labels,
      value: raw === '+Inf' ? Number.POSITIVE_INFINITY : Number(raw),
    });
  }
  return { types, samples };
}

/** Samples of this name whose labels include these. */
function find(samples: Sample[], name: string, labels: Record<string, string> = {}): Sample[] {
  return samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
}

/** The one sample of this name and exactly these labels; fails when absent or doubled. */
function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = find(samples, name, labels).filter(
    (s) => Object.keys(s.labels).length === Object.keys(labels).length,
  );
  if (found.length !== 1)
    throw new Error(`${found.length} samples of ${name}${JSON.stringify(labels)}, expected 1`);
  return found[0]?.value ?? Number.NaN;
}

function counts(byState: Partial<Record<(typeof TRANSACTION_STATES)[number], number>>, attention = 0) {
  const all = Object.fromEntries(TRANSACTION_STATES.map((s) => [s, byState[s] ?? 0]));
  return { byState: all, attention } as TransactionCounts;
}

function logCapture() {
  const lines: string[] = [];
  const logger = createLogger('debug', { write: (s: string) => void lines.push(s) });
  return { logger, lines };
}

const NONE_OPEN: OldestOpen = {
  INITIATED: null,
  QUEUED: null,
  ORDERING: null,
  PROCESSING: null,
  UNKNOWN: null,
};

function sources(overrides: Partial<MetricsSources> = {}): MetricsSources {
  return {
    logger: createLogger('silent'),
    counts: async () => counts({}),
    oldestOpen: async () => NONE_OPEN,
    balance: () => null,
    lowBalanceThreshold: null,
    catalogueAgeSeconds: async () => null,
    rateLimitWaiting: () => ({ order: 0, query: 0 }),
    ...overrides,
  };
}

async function scrape(metrics: ReturnType<typeof createMetrics>) {
  const { contentType, body } = await metrics.render();
  return { contentType, ...parse(body) };
}

describe('metrics', () => {
  it('exposes exactly the documented names and types, beside the process defaults', async () => {
    const { contentType, types } = await scrape(createMetrics(sources()));
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    const own = Object.fromEntries([...types].filter(([name]) => name.startsWith('gateway_')));
    expect(own).toEqual({
      gateway_razer_requests_total: 'counter',
      gateway_razer_request_duration_seconds: 'histogram',
      gateway_supplier_calls_total: 'counter',
      gateway_supplier_call_duration_seconds: 'histogram',
      gateway_transactions: 'gauge',
      gateway_transactions_attention: 'gauge',
      gateway_oldest_open_seconds: 'gauge',
      gateway_supplier_balance_idr: 'gauge',
      gateway_supplier_balance_low: 'gauge',
      gateway_catalogue_age_seconds: 'gauge',
      gateway_rate_limit_waiting: 'gauge',
      gateway_webhooks_total: 'counter',
      gateway_unauthorized_total: 'counter',
      gateway_init_refusals_total: 'counter',
      gateway_alerts_total: 'counter',
      gateway_daily_summaries_total: 'counter',
    });
    expect(types.get('process_cpu_user_seconds_total')).toBe('counter');
    expect(types.get('nodejs_eventloop_lag_seconds')).toBe('gauge');
  });

  it('keeps each gateway in its own registry', async () => {
    const a = createMetrics(sources());
    const b = createMetrics(sources());
    a.unauthorized();
    a.unauthorized();
    b.unauthorized();
    expect(value((await scrape(a)).samples, 'gateway_unauthorized_total')).toBe(2);
    expect(value((await scrape(b)).samples, 'gateway_unauthorized_total')).toBe(1);
    expect(a.registry).not.toBe(b.registry);
  });

  it('counts Razer requests and times them in buckets from 1 ms to 20 s', async () => {
    const m = createMetrics(sources());
    m.razerRequest('topup', 200, 0.3);
    m.razerRequest('topup', 200, 0.3);
    m.razerRequest('topup', 503, 14.2);
    m.razerRequest('init', 400, 0.004);
    const { samples } = await scrape(m);
    expect(value(samples, 'gateway_razer_requests_total', { endpoint: 'topup', status: '200' })).toBe(2);
    expect(value(samples, 'gateway_razer_requests_total', { endpoint: 'topup', status: '503' })).toBe(1);
    expect(value(samples, 'gateway_razer_requests_total', { endpoint: 'init', status: '400' })).toBe(1);
    const bucket = (le: string) =>
      value(samples, 'gateway_razer_request_duration_seconds_bucket', { endpoint: 'topup', le });
    expect(bucket('0.25')).toBe(0);
    expect(bucket('0.5')).toBe(2);
    expect(bucket('10')).toBe(2);
    expect(bucket('15')).toBe(3);
    expect(bucket('+Inf')).toBe(3);
    const les = find(samples, 'gateway_razer_request_duration_seconds_bucket')
      .filter((s) => s.labels.endpoint === 'topup')
      .map((s) => s.labels.le);
    expect(les[0]).toBe('0.001');
    expect(les).toContain('20');
    expect(value(samples, 'gateway_razer_request_duration_seconds_count', { endpoint: 'topup' })).toBe(3);
    expect(value(samples, 'gateway_razer_request_duration_seconds_sum', { endpoint: 'topup' })).toBeCloseTo(
      14.8,
    );
  });

  it('maps every label value outside its list to other', async () => {
    const m = createMetrics(sources());
    m.razerRequest('/etc/passwd', 200, 0.01);
    m.razerRequest('topup', 999, 0.01);
    m.razerRequest('topup', 200.5, 0.01);
    m.razerRequest('topup', Number.NaN, 0.01);
    m.razerRequest('health', 99, 0.01);
    m.supplierCall({ operation: 'refund' as Operation, outcome: 'lost' as OutcomeKind, durationMs: 5 });
    m.webhook('weird');
    m.alert('nope');
    const { samples } = await scrape(m);
    expect(value(samples, 'gateway_razer_requests_total', { endpoint: 'other', status: '200' })).toBe(1);
    expect(value(samples, 'gateway_razer_requests_total', { endpoint: 'topup', status: 'other' })).toBe(3);
    expect(value(samples, 'gateway_razer_requests_total', { endpoint: 'health', status: 'other' })).toBe(1);
    // Beside the 10 series every Razer endpoint starts with at 0 (401 and 500 each).
    expect(find(samples, 'gateway_razer_requests_total').filter((s) => s.value > 0)).toHaveLength(3);
    expect(value(samples, 'gateway_supplier_calls_total', { operation: 'other', outcome: 'other' })).toBe(1);
    expect(value(samples, 'gateway_webhooks_total', { result: 'other' })).toBe(1);
    expect(value(samples, 'gateway_alerts_total', { kind: 'other' })).toBe(1);
    const endpoints = new Set(
      find(samples, 'gateway_razer_request_duration_seconds_count').map((s) => s.labels.endpoint),
    );
    expect([...endpoints].sort()).toEqual(['health', 'other', 'topup']);
  });

  it('counts supplier calls by operation and outcome, with every known pair from zero', async () => {
    const m = createMetrics(sources());
    m.supplierCall({ operation: 'balance', outcome: 'accepted', durationMs: 1500 });
    m.supplierCall({ operation: 'order', outcome: 'ambiguous', durationMs: 10_000 });
    const { samples } = await scrape(m);
    expect(
      value(samples, 'gateway_supplier_calls_total', { operation: 'balance', outcome: 'accepted' }),
    ).toBe(1);
    expect(value(samples, 'gateway_supplier_calls_total', { operation: 'order', outcome: 'ambiguous' })).toBe(
      1,
    );
    expect(value(samples, 'gateway_supplier_calls_total', { operation: 'order', outcome: 'exists' })).toBe(0);
    expect(find(samples, 'gateway_supplier_calls_total')).toHaveLength(25);
    expect(value(samples, 'gateway_supplier_call_duration_seconds_sum', { operation: 'balance' })).toBe(1.5);
    expect(
      value(samples, 'gateway_supplier_call_duration_seconds_bucket', { operation: 'order', le: '10' }),
    ).toBe(1);
  });

  it('starts at 0 the series the shipped alert rules count from the first event', async () => {
    const { samples } = await scrape(createMetrics(sources()));
    const zero = (name: string) =>
      find(samples, name)
        .filter((s) => s.value === 0)
        .map((s) => Object.values(s.labels).join(' '))
        .sort();
    expect(zero('gateway_razer_requests_total')).toEqual(
      ['cancel', 'init', 'query', 'topup', 'validate'].flatMap((e) => [`${e} 401`, `${e} 500`]).sort(),
    );
    expect(zero('gateway_init_refusals_total')).toEqual(['OOS balance', 'OOS queue']);
  });

  it('counts webhooks, refusals and alerts', async () => {
    const m = createMetrics(sources());
    m.webhook('accepted');
    m.webhook('accepted');
    m.webhook('forbidden');
    m.webhook('over_cap');
    m.unauthorized();
    m.alert('flagged');
    m.alert('low-balance');
    m.alert('low-balance');
    const { samples } = await scrape(m);
    expect(value(samples, 'gateway_webhooks_total', { result: 'accepted' })).toBe(2);
    expect(value(samples, 'gateway_webhooks_total', { result: 'forbidden' })).toBe(1);
    expect(value(samples, 'gateway_webhooks_total', { result: 'too_large' })).toBe(0);
    expect(value(samples, 'gateway_webhooks_total', { result: 'over_cap' })).toBe(1);
    expect(value(samples, 'gateway_unauthorized_total')).toBe(1);
    expect(value(samples, 'gateway_alerts_total', { kind: 'flagged' })).toBe(1);
    expect(value(samples, 'gateway_alerts_total', { kind: 'low-balance' })).toBe(2);
    expect(value(samples, 'gateway_alerts_total', { kind: 'supplier-auth' })).toBe(0);
    expect(value(samples, 'gateway_alerts_total', { kind: 'webhook-flood' })).toBe(0);
    expect(value(samples, 'gateway_alerts_total', { kind: 'stuck' })).toBe(0);
    m.alert('stuck');
    expect(value((await scrape(m)).samples, 'gateway_alerts_total', { kind: 'stuck' })).toBe(1);
  });

  it('reads transaction counts at scrape time, every state included, with one call per scrape', async () => {
    let calls = 0;
    let current = counts({ SUCCESS: 12, UNKNOWN: 2 }, 3);
    const m = createMetrics(
      sources({
        counts: async () => {
          calls++;
          return current;
        },
      }),
    );
    let { samples } = await scrape(m);
    expect(calls).toBe(1);
    expect(find(samples, 'gateway_transactions')).toHaveLength(TRANSACTION_STATES.length);
    expect(value(samples, 'gateway_transactions', { state: 'SUCCESS' })).toBe(12);
    expect(value(samples, 'gateway_transactions', { state: 'UNKNOWN' })).toBe(2);
    expect(value(samples, 'gateway_transactions', { state: 'EXPIRED' })).toBe(0);
    expect(value(samples, 'gateway_transactions_attention')).toBe(3);

    current = counts({ SUCCESS: 13 }, 0);
    ({ samples } = await scrape(m));
    expect(calls).toBe(2);
    expect(value(samples, 'gateway_transactions', { state: 'SUCCESS' })).toBe(13);
    expect(value(samples, 'gateway_transactions', { state: 'UNKNOWN' })).toBe(0);
    expect(value(samples, 'gateway_transactions_attention')).toBe(0);
  });

  it('gives the age of the oldest open transaction of each waiting state, 0 when none, on the injected clock', async () => {
    const T = Date.UTC(2026, 10, 21, 10, 0, 0);
    let clock = T;
    let reads = 0;
    let oldest: OldestOpen = NONE_OPEN;
    const m = createMetrics(
      sources({
        now: () => clock,
        oldestOpen: async () => {
          reads++;
          return oldest;
        },
      }),
    );
    const ages = (samples: Sample[]) =>
      Object.fromEntries(
        find(samples, 'gateway_oldest_open_seconds').map((s) => [s.labels.state, s.value] as const),
      );
    // None open: every series is there, at 0 (a stable set: no series appears or vanishes).
    let { samples } = await scrape(m);
    expect(ages(samples)).toEqual({ INITIATED: 0, QUEUED: 0, ORDERING: 0, PROCESSING: 0, UNKNOWN: 0 });
    expect(find(samples, 'gateway_oldest_open_seconds', { state: 'SUCCESS' })).toHaveLength(0);

    oldest = {
      INITIATED: T - 3_600_000,
      QUEUED: T - 90_000,
      ORDERING: null,
      PROCESSING: T - 1500,
      UNKNOWN: T,
    };
    clock = T + 60_000;
    ({ samples } = await scrape(m));
    expect(ages(samples)).toEqual({
      INITIATED: 3660,
      QUEUED: 150,
      ORDERING: 0,
      PROCESSING: 61.5,
      UNKNOWN: 60,
    });
    // One read per scrape, although five series come from it.
    expect(reads).toBe(2);

    // The same times read again (as the gateway's 5 s cache gives them): the ages still grow.
    clock = T + 120_000;
    ({ samples } = await scrape(m));
    expect(value(samples, 'gateway_oldest_open_seconds', { state: 'QUEUED' })).toBe(210);
    // A time ahead of this clock (another instance's) is not a negative age.
    oldest = { ...NONE_OPEN, UNKNOWN: clock + 5000 };
    ({ samples } = await scrape(m));
    expect(value(samples, 'gateway_oldest_open_seconds', { state: 'UNKNOWN' })).toBe(0);
    expect(value(samples, 'gateway_oldest_open_seconds', { state: 'QUEUED' })).toBe(0);
  });

  it('shows the balance only once known, and low only below a set threshold', async () => {
    let balance: number | null = null;
    const low = createMetrics(sources({ balance: () => balance, lowBalanceThreshold: 50_000 }));
    let { samples } = await scrape(low);
    expect(find(samples, 'gateway_supplier_balance_idr')).toHaveLength(0);
    expect(value(samples, 'gateway_supplier_balance_low')).toBe(0);

    balance = 49_999;
    ({ samples } = await scrape(low));
    expect(value(samples, 'gateway_supplier_balance_idr')).toBe(49_999);
    expect(value(samples, 'gateway_supplier_balance_low')).toBe(1);

    balance = 50_000;
    ({ samples } = await scrape(low));
    expect(value(samples, 'gateway_supplier_balance_low')).toBe(0);

    balance = null;
    ({ samples } = await scrape(low));
    expect(find(samples, 'gateway_supplier_balance_idr')).toHaveLength(0);

    const never = createMetrics(sources({ balance: async () => 1, lowBalanceThreshold: null }));
    ({ samples } = await scrape(never));
    expect(value(samples, 'gateway_supplier_balance_idr')).toBe(1);
    expect(value(samples, 'gateway_supplier_balance_low')).toBe(0);
  });

  it('shows readiness and each alert condition at scrape time; an unreadable readiness is not ready', async () => {
    let ready: boolean | Error = true;
    const active = new Set<string>(['supplier-auth']);
    const m = createMetrics(
      sources({
        ready: async () => {
          if (ready instanceof Error) throw ready;
          return ready;
        },
        alertActive: (kind) => active.has(kind),
      }),
    );
    let { samples, types } = await scrape(m);
    expect(types.get('gateway_ready')).toBe('gauge');
    expect(types.get('gateway_alert_active')).toBe('gauge');
    expect(value(samples, 'gateway_ready')).toBe(1);
    expect(
      Object.fromEntries(find(samples, 'gateway_alert_active').map((s) => [s.labels.kind, s.value])),
    ).toEqual({
      'supplier-auth': 1,
      'low-balance': 0,
      'stale-catalogue': 0,
      'stale-balance': 0,
      'open-purchases-unread': 0,
    });
    ready = false;
    active.delete('supplier-auth');
    active.add('low-balance');
    ({ samples } = await scrape(m));
    expect(value(samples, 'gateway_ready')).toBe(0);
    expect(value(samples, 'gateway_alert_active', { kind: 'supplier-auth' })).toBe(0);
    expect(value(samples, 'gateway_alert_active', { kind: 'low-balance' })).toBe(1);
    ready = new Error('database gone');
    ({ samples } = await scrape(m));
    expect(value(samples, 'gateway_ready')).toBe(0);
  });

  it('reads the catalogue age and the rate limiter queues at scrape time', async () => {
    let age: number | null = null;
    const m = createMetrics(
      sources({
        catalogueAgeSeconds: async () => age,
        rateLimitWaiting: () => ({ order: 2, query: 7 }),
      }),
    );
    let { samples } = await scrape(m);
    expect(find(samples, 'gateway_catalogue_age_seconds')).toHaveLength(0);
    expect(value(samples, 'gateway_rate_limit_waiting', { lane: 'order' })).toBe(2);
    expect(value(samples, 'gateway_rate_limit_waiting', { lane: 'query' })).toBe(7);
    age = 42.5;
    ({ samples } = await scrape(m));
    expect(value(samples, 'gateway_catalogue_age_seconds')).toBe(42.5);
  });

  it('still scrapes when a source throws: that gauge keeps its last value, the failure is logged', async () => {
    const { logger, lines } = logCapture();
    let failCounts = false;
    let failBalance = false;
    let waiting = 1;
    const m = createMetrics(
      sources({
        logger,
        counts: async () => {
          if (failCounts) throw new Error('database is locked');
          return counts({ QUEUED: 4 }, 1);
        },
        // Throws before returning a promise: a synchronous source failing.
        balance: () => {
          if (failBalance) throw new Error('no balance');
          return 10;
        },
        lowBalanceThreshold: 20,
        rateLimitWaiting: () => ({ order: 0, query: waiting }),
      }),
    );
    await scrape(m);
    failCounts = true;
    failBalance = true;
    waiting = 9;
    m.unauthorized();
    let { samples } = await scrape(m);
    expect(value(samples, 'gateway_transactions', { state: 'QUEUED' })).toBe(4);
    expect(value(samples, 'gateway_transactions_attention')).toBe(1);
    expect(value(samples, 'gateway_supplier_balance_idr')).toBe(10);
    expect(value(samples, 'gateway_supplier_balance_low')).toBe(1);
    expect(value(samples, 'gateway_rate_limit_waiting', { lane: 'query' })).toBe(9);
    expect(value(samples, 'gateway_unauthorized_total')).toBe(1);
    const warnings = lines.map((l) => JSON.parse(l) as { level: number; source?: string; msg: string });
    // One line per failed source, although two gauges read each of them.
    expect(warnings.filter((w) => w.level === 40).map((w) => w.source)).toEqual(
      expect.arrayContaining(['counts', 'balance']),
    );
    expect(warnings.filter((w) => w.level === 40)).toHaveLength(2);

    failCounts = false;
    failBalance = false;
    ({ samples } = await scrape(m));
    expect(value(samples, 'gateway_transactions', { state: 'QUEUED' })).toBe(4);
    expect(lines).toHaveLength(2);
  });

  it('a source failing from the first scrape leaves no made-up value', async () => {
    const m = createMetrics(
      sources({
        catalogueAgeSeconds: () => {
          throw new Error('store closed');
        },
      }),
    );
    const { samples } = await scrape(m);
    expect(find(samples, 'gateway_catalogue_age_seconds')).toHaveLength(0);
    expect(value(samples, 'gateway_transactions', { state: 'SUCCESS' })).toBe(0);
  });
});
