import { writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import {
  describeMitra,
  isFreeMitra,
  loadConfig,
  MITRA_WEBHOOK_IPS,
  readEnvironment,
} from '../src/config/env.js';
import { REQUIRED_ENV } from './helpers/env.js';
import { tempDir } from './helpers/storage.js';

const errorsFor = (env: Record<string, string | undefined>) => {
  const r = loadConfig(env);
  if (r.ok) throw new Error('expected configuration errors');
  return r.errors;
};

describe('environment', () => {
  it('applies the contract defaults', () => {
    const r = loadConfig(REQUIRED_ENV);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value).toEqual({
      port: 8080,
      host: '0.0.0.0',
      databasePath: './data/gateway.db',
      databaseUrl: null,
      databasePoolSize: 10,
      instanceId: `${hostname()}-${process.pid}`,
      mappingFile: './config/mapping.yaml',
      readingsFile: './config/readings.yaml',
      readingsRequired: false,
      conformanceDir: './conformance',
      razer: { apiId: 'publisherA', apiKeys: ['test-api-key-0001'], retiredKeys: [] },
      mitra: {
        baseUrl: 'https://h2h-api.vcg.my.id',
        apiKey: 'test-mitra-access-key',
        secretKey: 'YourVerySecretKey',
        webhookToken: 'webhook-token-0123456789',
        webhookAllowIps: [...MITRA_WEBHOOK_IPS],
        webhookCap: { rows: 1200, windowMs: 60_000, bytes: 16 * 1024 * 1024 },
        rateLimit: { limit: 200, windowMs: 60_000 },
        rateLimitScope: 'instance',
        timeoutMs: 10_000,
      },
      topupWaitMs: 15_000,
      reconcileScheduleMs: [30_000, 60_000, 120_000, 300_000, 900_000],
      resolveDeadlineMs: 24 * 60 * 60 * 1000,
      stuckAfterMs: 15 * 60 * 1000,
      trustProxy: 0,
      retentionDays: 90,
      adminToken: null,
      metricsPort: null,
      alerts: { webhookUrl: null, balanceBelowIdr: null },
      balanceGuardMaxAgeMs: 15 * 60 * 1000,
      maxSupplierWaitMs: 10 * 60 * 1000,
      reportUtcOffsetMinutes: 0,
      tracing: null,
      dailySummaryHour: null,
      logLevel: 'info',
    });
  });

  it('reads BALANCE_GUARD_MAX_AGE as a duration from 1m to 1d', () => {
    const at = (value: string) => loadConfig({ ...REQUIRED_ENV, BALANCE_GUARD_MAX_AGE: value });
    const r = at('30m');
    expect(r.ok && r.value.balanceGuardMaxAgeMs).toBe(30 * 60_000);
    for (const bad of ['30s', '2d', '15', 'soon']) expect(at(bad).ok, bad).toBe(false);
  });

  it('reads MAX_SUPPLIER_WAIT as a duration from 1s to 1d, or 0 for off, and names it when wrong', () => {
    const at = (value: string) => {
      const r = loadConfig({ ...REQUIRED_ENV, MAX_SUPPLIER_WAIT: value });
      return r.ok ? r.value.maxSupplierWaitMs : r.errors;
    };
    expect(at('15m')).toBe(15 * 60_000);
    expect(at('90s')).toBe(90_000);
    expect(at('1d')).toBe(86_400_000);
    expect(at('0')).toBe(0);
    expect(at('0m')).toBe(0);
    for (const bad of ['10', '2d', '-1m', '10 minutes', 'off', '0.5m'])
      expect(at(bad), bad).toEqual([
        `MAX_SUPPLIER_WAIT must be 0 (off) or a duration from 1s to 1d (a whole number with s, m, h or d: 90s, 10m, 1h), got "${bad}"`,
      ]);
  });

  it('reads REPORT_UTC_OFFSET as minutes east of UTC, and DAILY_SUMMARY_HOUR as 0-23', () => {
    const at = (over: Record<string, string>) => loadConfig({ ...REQUIRED_ENV, ...over });
    const offset = (value: string) => {
      const r = at({ REPORT_UTC_OFFSET: value });
      return r.ok ? r.value.reportUtcOffsetMinutes : r.errors.join();
    };
    expect(offset('+07:00')).toBe(420);
    expect(offset('-03:30')).toBe(-210);
    expect(offset('+00:00')).toBe(0);
    for (const bad of ['7', '+7:00', '+15:00', '+07:60', 'WIB', '07:00'])
      expect(offset(bad), bad).toMatch(/REPORT_UTC_OFFSET must be an offset like \+07:00/);
    const hour = at({ DAILY_SUMMARY_HOUR: '8' });
    expect(hour.ok && hour.value.dailySummaryHour).toBe(8);
    for (const bad of ['24', '-1', '8am']) expect(at({ DAILY_SUMMARY_HOUR: bad }).ok, bad).toBe(false);
  });

  it('turns tracing on with an OTLP endpoint, off with the standard switches, and names a bad value', () => {
    const tracing = (over: Record<string, string>) => {
      const r = loadConfig({ ...REQUIRED_ENV, ...over });
      return r.ok ? r.value.tracing : r.errors;
    };
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' };
    expect(tracing({})).toBeNull();
    // Asking for traceparent without an endpoint sends nothing anywhere.
    expect(tracing({ MITRA_TRACEPARENT: 'true' })).toBeNull();
    expect(tracing(endpoint)).toEqual({ propagateToMitra: false, otelEnv: endpoint });
    const traces = { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://collector.example/v1/traces' };
    expect(tracing(traces)).toEqual({ propagateToMitra: false, otelEnv: traces });
    expect(tracing({ ...endpoint, MITRA_TRACEPARENT: 'true' })).toMatchObject({ propagateToMitra: true });
    expect(tracing({ ...endpoint, OTEL_SDK_DISABLED: 'true' })).toBeNull();
    expect(tracing({ ...endpoint, OTEL_TRACES_EXPORTER: 'none' })).toBeNull();
    // Every OTEL_* variable is handed on, the SDK's own too; none of the gateway's other settings.
    expect(
      tracing({
        ...endpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
        OTEL_SERVICE_NAME: 'gw',
        OTEL_EXPORTER_OTLP_HEADERS: 'x-key=abc',
        OTEL_TRACES_SAMPLER: 'traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0.1',
        OTEL_RESOURCE_ATTRIBUTES: '',
      }),
    ).toEqual({
      propagateToMitra: false,
      otelEnv: {
        ...endpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
        OTEL_SERVICE_NAME: 'gw',
        OTEL_EXPORTER_OTLP_HEADERS: 'x-key=abc',
        OTEL_TRACES_SAMPLER: 'traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0.1',
      },
    });
    expect(tracing({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toEqual([
      'OTEL_EXPORTER_OTLP_ENDPOINT must be an http(s) URL (OTLP over HTTP, e.g. http://collector:4318)',
    ]);
    // The base URL with the traces' path: exports would go to /v1/traces/v1/traces.
    for (const url of ['http://collector:4318/v1/traces', 'http://collector:4318/v1/traces/'])
      expect(tracing({ OTEL_EXPORTER_OTLP_ENDPOINT: url })).toEqual([
        "OTEL_EXPORTER_OTLP_ENDPOINT is the collector's base URL: the gateway adds /v1/traces itself (give the full traces URL in OTEL_EXPORTER_OTLP_TRACES_ENDPOINT instead)",
      ]);
    expect(tracing({ ...endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toEqual([
      'OTEL_EXPORTER_OTLP_PROTOCOL must be http/json or http/protobuf: the gateway exports OTLP over HTTP (JSON), not gRPC; got "grpc"',
    ]);
    expect(tracing({ ...endpoint, OTEL_TRACES_EXPORTER: 'zipkin' })).toEqual([
      'OTEL_TRACES_EXPORTER must be otlp or none (the gateway exports OTLP only), got "zipkin"',
    ]);
    expect(tracing({ ...endpoint, MITRA_TRACEPARENT: 'sometimes' })).toEqual([
      'MITRA_TRACEPARENT must be true or false, got "sometimes"',
    ]);
    // A sampler the SDK does not know would keep every trace: refused.
    expect(tracing({ ...endpoint, OTEL_TRACES_SAMPLER: 'traceidratio_' })).toEqual([
      'OTEL_TRACES_SAMPLER must be always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off or parentbased_traceidratio, got "traceidratio_"',
    ]);
    expect(tracing({ ...endpoint, OTEL_TRACES_SAMPLER: 'parentbased_traceidratio' })).toEqual([
      'OTEL_TRACES_SAMPLER_ARG is required with OTEL_TRACES_SAMPLER=parentbased_traceidratio (0.1 keeps a tenth; without it every trace is kept)',
    ]);
    // Another service's sampler on the same host is not judged while tracing is off.
    expect(tracing({ OTEL_TRACES_SAMPLER: 'parentbased_jaeger_remote' })).toBeNull();
    // What is not a URL at all names its variable (it threw before the review).
    for (const bad of ['10.0.0.5:4318', 'localhost', 'http//collector:4318'])
      expect(tracing({ OTEL_EXPORTER_OTLP_ENDPOINT: bad }), bad).toEqual([
        'OTEL_EXPORTER_OTLP_ENDPOINT must be an http(s) URL (OTLP over HTTP, e.g. http://collector:4318)',
      ]);
    for (const bad of ['http://collector:4318', 'http://collector:4318/'])
      expect(tracing({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: bad }), bad).toEqual([
        'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is the full traces URL (http://collector:4318/v1/traces): without a path the spans would go to /; give a base URL in OTEL_EXPORTER_OTLP_ENDPOINT instead',
      ]);
    for (const bad of ['10%', '1.5', '-0.1', '.5'])
      expect(tracing({ ...endpoint, OTEL_TRACES_SAMPLER_ARG: bad }), bad).toEqual([
        `OTEL_TRACES_SAMPLER_ARG must be a ratio from 0 to 1 (0.1 keeps a tenth), got "${bad}"`,
      ]);
  });

  it('selects PostgreSQL with DATABASE_URL, where the rate limit is shared unless told otherwise', () => {
    const url = 'postgres://gw:secret@db.internal:5432/gateway';
    const r = loadConfig({
      ...REQUIRED_ENV,
      DATABASE_URL: url,
      DATABASE_POOL_SIZE: '4',
      INSTANCE_ID: 'gw-a',
    });
    expect(r.ok && { ...r.value, mitra: r.value.mitra.rateLimitScope }).toMatchObject({
      databaseUrl: url,
      databasePoolSize: 4,
      instanceId: 'gw-a',
      mitra: 'shared',
    });
    const own = loadConfig({ ...REQUIRED_ENV, DATABASE_URL: url, MITRA_RATE_LIMIT_SCOPE: 'instance' });
    expect(own.ok && own.value.mitra.rateLimitScope).toBe('instance');
  });

  it('refuses a bad DATABASE_URL, pool size, INSTANCE_ID or rate limit scope, each on its own line', () => {
    expect(
      errorsFor({
        ...REQUIRED_ENV,
        DATABASE_URL: 'mysql://db/gateway',
        DATABASE_POOL_SIZE: '0',
        INSTANCE_ID: 'has space',
        MITRA_RATE_LIMIT_SCOPE: 'global',
      }),
    ).toEqual([
      'DATABASE_URL must be a postgres:// or postgresql:// URL',
      expect.stringMatching(/^DATABASE_POOL_SIZE /),
      'INSTANCE_ID must be 1-64 letters, digits, _ . : or -',
      'MITRA_RATE_LIMIT_SCOPE must be shared or instance',
    ]);
  });

  it('names every missing required variable on its own line', () => {
    expect(errorsFor({})).toEqual([
      'RAZER_API_ID is required (the api-id Razer Gold assigned to you)',
      'RAZER_API_KEY is required (the api-key Razer Gold assigned to you)',
      "MITRA_BASE_URL is required (the Mitra API: https://mitra-api.vcgamers.com in production, https://h2h-api.vcg.my.id for Mitra's development host)",
      'MITRA_API_KEY is required (the Mitra API access key, sent as the Bearer token)',
      'MITRA_SECRET_KEY is required (the Mitra secret key that signs every call)',
      'MITRA_WEBHOOK_TOKEN is required (the secret path segment of /mitra/webhook/<token>)',
    ]);
  });

  it('treats an empty value as not set', () => {
    expect(errorsFor({ ...REQUIRED_ENV, RAZER_API_KEY: '' })).toEqual([
      'RAZER_API_KEY is required (the api-key Razer Gold assigned to you)',
    ]);
    const r = loadConfig({ ...REQUIRED_ENV, PORT: '' });
    expect(r.ok && r.value.port).toBe(8080);
  });

  it.each([
    ['PORT', 'eighty', 'PORT must be a whole number from 0 to 65535, got "eighty"'],
    ['PORT', '70000', 'PORT must be a whole number from 0 to 65535'],
    [
      'RAZER_SIGNED_CONTENT',
      'uri',
      'RAZER_SIGNED_CONTENT has moved to the readings file: write "razer:\n  signed_content: uri" in READINGS_FILE (default ./config/readings.yaml) and remove RAZER_SIGNED_CONTENT',
    ],
    ['MITRA_BASE_URL', 'h2h-api.vcg.my.id', 'MITRA_BASE_URL must be an http(s) URL'],
    [
      'MITRA_BASE_URL',
      'http://mitra-api.vcgamers.com',
      "MITRA_BASE_URL must be https for Mitra's hosts (the API key would cross the network in clear)",
    ],
    [
      'MITRA_BASE_URL',
      'http://H2H-API.vcg.my.id/',
      "MITRA_BASE_URL must be https for Mitra's hosts (the API key would cross the network in clear)",
    ],
    [
      'MITRA_RATE_LIMIT',
      '200 per minute',
      'MITRA_RATE_LIMIT must look like 200/60s (calls per window; units ms, s or m), got "200 per minute"',
    ],
    [
      'MITRA_RATE_LIMIT',
      '0/60s',
      'MITRA_RATE_LIMIT must look like 200/60s (calls per window; units ms, s or m), got "0/60s"',
    ],
    [
      'MITRA_WEBHOOK_ALLOW_IPS',
      '172.236.143.138, mitra.example',
      'MITRA_WEBHOOK_ALLOW_IPS must be a comma-separated list of IP addresses or *, not an IP: mitra.example',
    ],
    [
      'MITRA_WEBHOOK_TOKEN',
      'short',
      'MITRA_WEBHOOK_TOKEN must be 16-128 characters of letters, digits, _ or - (it is part of a URL path)',
    ],
    ['TOPUP_WAIT_MS', '-1', 'TOPUP_WAIT_MS must be a whole number from 0 to 600000, got "-1"'],
    [
      'TRUST_PROXY',
      'maybe',
      'TRUST_PROXY must be true, false or a number of proxies from 0 to 10, got "maybe"',
    ],
    ['TRUST_PROXY', '11', 'TRUST_PROXY must be true, false or a number of proxies from 0 to 10, got "11"'],
    [
      'RECONCILE_SCHEDULE_MS',
      '30000,soon',
      'RECONCILE_SCHEDULE_MS must be a comma-separated list of delays in ms (each at least 10), got "30000,soon"',
    ],
    ['ADMIN_TOKEN', 'abc', 'ADMIN_TOKEN must be at least 16 characters when set'],
    [
      'ADMIN_TOKEN',
      'a token with spaces in it',
      'ADMIN_TOKEN must not contain spaces (it is sent as Authorization: Bearer <token>)',
    ],
    ['METRICS_PORT', '70000', 'METRICS_PORT must be a whole number from 0 to 65535'],
    [
      'SUPPLIER_BALANCE_ALERT_IDR',
      '1e6',
      'SUPPLIER_BALANCE_ALERT_IDR must be a whole number from 0 to 1000000000000, got "1e6"',
    ],
    ['ALERT_WEBHOOK_URL', 'hooks.slack.com/x', 'ALERT_WEBHOOK_URL must be an http(s) URL'],
    ['LOG_LEVEL', 'loud', 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent'],
  ])('refuses a malformed %s (%s) with one line naming it', (name, value, message) => {
    expect(errorsFor({ ...REQUIRED_ENV, [name]: value })).toEqual([message]);
  });

  it("knows Mitra's hosts under any spelling: case, trailing dots, percent-escapes, a port", () => {
    for (const url of [
      'https://mitra-api.vcgamers.com',
      'https://mitra-api.vcgamers.com.',
      'https://mitra-api.vcgamers.com..',
      'https://mitra-api.vcgamers.com.:443/',
      'https://mitra-api.vcgamers.com%2e',
      'https://mitra-api%2evcgamers.com',
      'https://mitra-api.vcgamers.com:8443',
      'HTTPS://MITRA-API.VCGAMERS.COM',
      'https://MITRA-API.VCGAMERS.COM.',
    ]) {
      expect(describeMitra(url), url).toBe('production');
      expect(isFreeMitra(url), url).toBe(false);
      // Accepted as https however the scheme is spelt.
      expect(loadConfig({ ...REQUIRED_ENV, MITRA_BASE_URL: url }).ok, url).toBe(true);
    }
    for (const url of [
      'https://h2h-api.vcg.my.id',
      'https://H2H-API.vcg.my.id.',
      'https://h2h-api.vcg.my.id/v2',
    ]) {
      expect(describeMitra(url), url).toBe('development');
      expect(isFreeMitra(url), url).toBe(true);
    }
    // The https rule follows the host, whatever its spelling.
    for (const url of [
      'http://mitra-api.vcgamers.com.',
      'http://MITRA-API.vcgamers.com%2e:80',
      'http://h2h-api.vcg.my.id.',
    ])
      expect(errorsFor({ ...REQUIRED_ENV, MITRA_BASE_URL: url }), url).toEqual([
        "MITRA_BASE_URL must be https for Mitra's hosts (the API key would cross the network in clear)",
      ]);
  });

  it('takes only the development host and this machine for hosts where orders cost nothing', () => {
    for (const url of [
      'http://127.0.0.1:8080',
      'http://127.9.9.9',
      'http://[::1]:3000',
      'http://[::ffff:127.0.0.1]:3000',
      'http://localhost:9000',
      'http://LOCALHOST.:9000',
      'http://2130706433:80',
    ]) {
      expect(describeMitra(url), url).toBe('other host');
      expect(isFreeMitra(url), url).toBe(true);
    }
    // A relay or a proxy may lead to production.
    for (const url of [
      'https://relay.example.com',
      'http://10.0.0.1:8080',
      'http://[::2]',
      'http://localhost.example.com',
      'not a url',
    ])
      expect(isFreeMitra(url), url).toBe(false);
  });

  it('parses rate limits, IP lists, rotation keys and switches', () => {
    const r = loadConfig({
      ...REQUIRED_ENV,
      MITRA_RATE_LIMIT: '20/10s',
      MITRA_WEBHOOK_ALLOW_IPS: '*',
      RAZER_API_KEY_PREVIOUS: 'old-key',
      RAZER_API_KEY_RETIRED: 'older-key, oldest-key',
      MITRA_BASE_URL: 'http://127.0.0.1:9000/',
      TRUST_PROXY: 'true',
    });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.mitra.rateLimit).toEqual({ limit: 20, windowMs: 10_000 });
    expect(r.value.mitra.webhookAllowIps).toBe('*');
    expect(r.value.mitra.baseUrl).toBe('http://127.0.0.1:9000');
    expect(r.value.razer).toEqual({
      apiId: 'publisherA',
      apiKeys: ['test-api-key-0001', 'old-key'],
      retiredKeys: ['older-key', 'oldest-key'],
    });
    expect(r.value.trustProxy).toBe(1);
    const m = loadConfig({
      ...REQUIRED_ENV,
      MITRA_RATE_LIMIT: '3/1m',
      MITRA_WEBHOOK_ALLOW_IPS: '10.0.0.1,::1',
    });
    expect(m.ok && m.value.mitra).toMatchObject({
      rateLimit: { limit: 3, windowMs: 60_000 },
      webhookAllowIps: ['10.0.0.1', '::1'],
    });
  });

  it('parses the webhook cap per source address: rows per window, and bytes', () => {
    const cap = (env: Record<string, string>) => {
      const r = loadConfig({ ...REQUIRED_ENV, ...env });
      return r.ok ? r.value.mitra.webhookCap : r.errors;
    };
    expect(cap({ MITRA_WEBHOOK_CAP: '600/30s', MITRA_WEBHOOK_CAP_BYTES: '8MiB' })).toEqual({
      rows: 600,
      windowMs: 30_000,
      bytes: 8 * 1024 * 1024,
    });
    expect(cap({ MITRA_WEBHOOK_CAP: '5000 / 5m', MITRA_WEBHOOK_CAP_BYTES: '3000000' })).toEqual({
      rows: 5000,
      windowMs: 300_000,
      bytes: 3_000_000,
    });
    expect(cap({ MITRA_WEBHOOK_CAP: '10/1000ms', MITRA_WEBHOOK_CAP_BYTES: '1GiB' })).toEqual({
      rows: 10,
      windowMs: 1000,
      bytes: 1024 ** 3,
    });
    expect(cap({ MITRA_WEBHOOK_CAP_BYTES: '4096KiB' })).toMatchObject({ rows: 1200, bytes: 4 * 1024 * 1024 });
  });

  it.each([
    ['MITRA_WEBHOOK_CAP', '0/60s'],
    ['MITRA_WEBHOOK_CAP', '-5/60s'],
    ['MITRA_WEBHOOK_CAP', '9/60s'],
    ['MITRA_WEBHOOK_CAP', '2000000/60s'],
    ['MITRA_WEBHOOK_CAP', '1200/500ms'],
    ['MITRA_WEBHOOK_CAP', '1200/0s'],
    ['MITRA_WEBHOOK_CAP', '1200/2h'],
    ['MITRA_WEBHOOK_CAP', '1200/61m'],
    ['MITRA_WEBHOOK_CAP', '1200 a minute'],
  ])('refuses a webhook cap of %s=%s with one line naming it', (name, value) => {
    expect(errorsFor({ ...REQUIRED_ENV, [name]: value })).toEqual([
      `MITRA_WEBHOOK_CAP must look like 1200/60s (webhooks stored per source address per window: 10 to 1000000, in 1s to 60m), got "${value}"`,
    ]);
  });

  it.each(['0', '-1', '1MiB', '2097151', '2GiB', '16MB', '16 megabytes', '1e9'])(
    'refuses MITRA_WEBHOOK_CAP_BYTES=%s with one line naming it',
    (value) => {
      expect(errorsFor({ ...REQUIRED_ENV, MITRA_WEBHOOK_CAP_BYTES: value })).toEqual([
        `MITRA_WEBHOOK_CAP_BYTES must be a size from 2MiB to 1GiB (bytes, or a number with KiB, MiB or GiB), got "${value}"`,
      ]);
    },
  );

  it('parses RESOLVE_DEADLINE and STUCK_AFTER as durations in s, m, h or d', () => {
    const spans = (env: Record<string, string>) => {
      const r = loadConfig({ ...REQUIRED_ENV, ...env });
      return r.ok ? [r.value.resolveDeadlineMs, r.value.stuckAfterMs] : r.errors;
    };
    const MIN = 60_000;
    expect(spans({ RESOLVE_DEADLINE: '90m', STUCK_AFTER: '10m' })).toEqual([90 * MIN, 10 * MIN]);
    expect(spans({ RESOLVE_DEADLINE: '2d', STUCK_AFTER: '6h' })).toEqual([2 * 1440 * MIN, 360 * MIN]);
    // The guard rails themselves are allowed; spaces around the value too.
    expect(spans({ RESOLVE_DEADLINE: '15m', STUCK_AFTER: '60s' })).toEqual([15 * MIN, MIN]);
    expect(spans({ RESOLVE_DEADLINE: ' 30d ', STUCK_AFTER: '29d' })).toEqual([
      30 * 1440 * MIN,
      29 * 1440 * MIN,
    ]);
    expect(spans({ RESOLVE_DEADLINE: '900s', STUCK_AFTER: '14m' })).toEqual([15 * MIN, 14 * MIN]);
  });

  it.each(['0', '10s', '14m', '899s', '90d', '31d', 'abc', '24', '1.5h', '-1h', '24 hours', '1w'])(
    'refuses RESOLVE_DEADLINE=%s with one line naming it',
    (value) => {
      expect(errorsFor({ ...REQUIRED_ENV, RESOLVE_DEADLINE: value, STUCK_AFTER: '5m' })).toEqual([
        `RESOLVE_DEADLINE must be a duration from 15m to 30d (a whole number with s, m, h or d: 90m, 24h, 2d), got "${value}"`,
      ]);
    },
  );

  it.each(['0', '10s', '59s', '90d', 'abc', '15'])(
    'refuses STUCK_AFTER=%s with one line naming it',
    (value) => {
      expect(errorsFor({ ...REQUIRED_ENV, STUCK_AFTER: value })).toEqual([
        `STUCK_AFTER must be a duration from 1m to 30d (a whole number with s, m, h or d: 90m, 24h, 2d), got "${value}"`,
      ]);
    },
  );

  it.each([
    [{ STUCK_AFTER: '24h' }, 'must be shorter than RESOLVE_DEADLINE (24h), got 24h'],
    [{ STUCK_AFTER: '2d' }, 'must be shorter than RESOLVE_DEADLINE (24h), got 2d'],
    [{ RESOLVE_DEADLINE: '15m' }, 'must be shorter than RESOLVE_DEADLINE (15m), got 15m'],
    [{ RESOLVE_DEADLINE: '90m', STUCK_AFTER: '2h' }, 'must be shorter than RESOLVE_DEADLINE (90m), got 2h'],
  ])('refuses a STUCK_AFTER not below RESOLVE_DEADLINE (%o)', (env, message) => {
    expect(errorsFor({ ...REQUIRED_ENV, ...env })).toEqual([`STUCK_AFTER ${message}`]);
  });

  describe('.env', () => {
    const dir = tempDir();
    afterEach(() => dir.remove());

    it('is read when present, and the process environment wins over it', () => {
      writeFileSync(dir.file('.env'), 'PORT=9001\nHOST=127.0.0.1\n# comment\nLOG_LEVEL=debug\n');
      const env = readEnvironment(dir.path, { ...REQUIRED_ENV, PORT: '9100' });
      const r = loadConfig(env);
      expect(r.ok && [r.value.port, r.value.host, r.value.logLevel]).toEqual([9100, '127.0.0.1', 'debug']);
    });

    it('is optional', () => {
      expect(readEnvironment(dir.path, { A: '1' })).toEqual({ A: '1' });
    });

    it('GATEWAY_ENV_FILE names another file, read as written (no $, quote or backslash turned by a shell), the process environment winning', () => {
      const dir = tempDir();
      writeFileSync(dir.file('.env'), 'PORT=1111\n');
      writeFileSync(
        dir.file('service.env'),
        'HOST=0.0.0.0\nRAZER_API_KEY=abc$def\nMITRA_SECRET_KEY=Zk4(Qa9)mP2x;&\nADMIN_TOKEN=x\\y\n',
      );
      const env = readEnvironment(dir.path, { GATEWAY_ENV_FILE: 'service.env', HOST: '127.0.0.1' });
      expect(env).toMatchObject({
        HOST: '127.0.0.1',
        RAZER_API_KEY: 'abc$def',
        MITRA_SECRET_KEY: 'Zk4(Qa9)mP2x;&',
        ADMIN_TOKEN: 'x\\y',
      });
      expect(env.PORT).toBeUndefined();
      expect(() => readEnvironment(dir.path, { GATEWAY_ENV_FILE: 'missing.env' })).toThrow(
        /^GATEWAY_ENV_FILE names .*missing\.env, which cannot be read: ENOENT$/,
      );
      dir.remove();
    });
  });
});
