import { existsSync, readFileSync } from 'node:fs';
import { BlockList, isIP } from 'node:net';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { z } from 'zod';

/** Mitra's published webhook source addresses. */
export const MITRA_WEBHOOK_IPS = ['172.236.143.138', '2600:3c15::f03c:95ff:fe98:ef07'] as const;
export const MITRA_DEVELOPMENT_URL = 'https://h2h-api.vcg.my.id';
export const MITRA_PRODUCTION_URL = 'https://mitra-api.vcgamers.com';

/**
 * A URL's host name as a resolver reads it: lower case (the URL parser does that), without the
 * trailing dots of a fully qualified name (`mitra-api.vcgamers.com.` is the same host), without
 * the brackets of an IPv6 address; the port aside. '' when the URL cannot be parsed.
 */
export function hostNameOf(url: string): string {
  if (!URL.canParse(url)) return '';
  const name = new URL(url).hostname.toLowerCase().replace(/\.+$/, '');
  return name.startsWith('[') && name.endsWith(']') ? name.slice(1, -1) : name;
}

/**
 * What a Mitra URL is, for the start log and `gateway check`: production, development, or another
 * host. By host name whatever its spelling (case, trailing dot, percent-escapes, port): any URL
 * that reaches Mitra's production host is production.
 */
export function describeMitra(url: string): 'production' | 'development' | 'other host' {
  const host = hostNameOf(url);
  if (host === '') return 'other host';
  if (host === hostNameOf(MITRA_PRODUCTION_URL)) return 'production';
  if (host === hostNameOf(MITRA_DEVELOPMENT_URL)) return 'development';
  return 'other host';
}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/**
 * Whether orders placed at `url` cost nothing for certain: Mitra's development host, or this
 * machine (127.0.0.0/8, ::1, localhost: the bundled simulator). Any other host may be Mitra's
 * production under another name (a relay, a proxy, an address of it), so `gateway conformance`
 * orders there only when told --production --confirm-spend.
 */
export function isFreeMitra(url: string): boolean {
  if (describeMitra(url) === 'development') return true;
  const host = hostNameOf(url);
  if (host === 'localhost') return true;
  const family = isIP(host);
  // An IPv4-mapped IPv6 address is checked against the IPv4 rule.
  return family !== 0 && LOOPBACK.check(host, family === 4 ? 'ipv4' : 'ipv6');
}

const required = (what: string) =>
  z.string({ error: `is required (${what})` }).min(1, { error: `is required (${what})` });

const wholeNumber = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, { error: (iss) => `must be a whole number from ${min} to ${max}, got "${iss.input}"` })
    .transform(Number)
    .refine((n) => n >= min && n <= max, { error: `must be a whole number from ${min} to ${max}` });

/** How many proxies of the operator's own stand in a row in front: `false`/`true` mean 0/1. */
const proxyCount = z.string().transform((text, ctx) => {
  if (text === 'false' || text === 'no') return 0;
  if (text === 'true' || text === 'yes') return 1;
  if (/^\d{1,2}$/.test(text) && Number(text) <= 10) return Number(text);
  ctx.issues.push({
    code: 'custom',
    input: text,
    message: `must be true, false or a number of proxies from 0 to 10, got "${text}"`,
  });
  return z.NEVER;
});

const yesNo = z
  .enum(['true', 'false', 'yes', 'no', 'on', 'off', '1', '0'], {
    error: (iss) => `must be true or false, got "${iss.input}"`,
  })
  .transform((text) => ['true', 'yes', 'on', '1'].includes(text));

const otlpUrl = z.url({
  protocol: /^https?$/,
  error: 'must be an http(s) URL (OTLP over HTTP, e.g. http://collector:4318)',
});

// The exporter sends JSON over HTTP, which every OTLP/HTTP receiver takes; gRPC is another port.
const otlpProtocol = z.enum(['http/json', 'http/protobuf'], {
  error: (iss) =>
    `must be http/json or http/protobuf: the gateway exports OTLP over HTTP (JSON), not gRPC; got "${iss.input}"`,
});

const RATE = /^(\d+)\s*\/\s*(\d+)\s*(ms|s|m)$/;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000 } as const;

/** `200/60s` -> at most 200 calls in any 60 s window. */
export const rateLimitSchema = z.string().transform((text, ctx) => {
  const m = RATE.exec(text.trim());
  const limit = Number(m?.[1]);
  const windowMs = Number(m?.[2]) * UNIT_MS[(m?.[3] ?? 's') as keyof typeof UNIT_MS];
  if (!m || limit < 1 || windowMs < 1) {
    ctx.issues.push({
      code: 'custom',
      input: text,
      message: `must look like 200/60s (calls per window; units ms, s or m), got "${text}"`,
    });
    return z.NEVER;
  }
  return { limit, windowMs };
});
export type RateLimit = z.output<typeof rateLimitSchema>;

/**
 * `1200/60s` -> at most 1200 webhooks stored per source address in a 60 s window. Fewer than 10
 * would refuse Mitra's own bursts; a window outside 1 s to 60 min is not a rate.
 */
export const webhookCapSchema = z.string().transform((text, ctx) => {
  const m = RATE.exec(text.trim());
  const rows = Number(m?.[1]);
  const windowMs = Number(m?.[2]) * UNIT_MS[(m?.[3] ?? 's') as keyof typeof UNIT_MS];
  if (!m || rows < 10 || rows > 1_000_000 || windowMs < 1000 || windowMs > 3_600_000) {
    ctx.issues.push({
      code: 'custom',
      input: text,
      message: `must look like 1200/60s (webhooks stored per source address per window: 10 to 1000000, in 1s to 60m), got "${text}"`,
    });
    return z.NEVER;
  }
  return { rows, windowMs };
});

const SIZE = /^(\d+)\s*(B|KiB|MiB|GiB)?$/;
const UNIT_BYTES = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 } as const;

/**
 * A quantity written with its unit, read by `read` (NaN when unreadable), from `min` to `max`
 * (written the same way): its value, or one line saying what it must be (`form`).
 */
const bounded = (read: (text: string) => number, min: string, max: string, form: string) => {
  const [low, high] = [read(min), read(max)];
  return z.string().transform((text, ctx) => {
    const n = read(text);
    if (n >= low && n <= high) return n;
    ctx.issues.push({ code: 'custom', input: text, message: `must be ${form}, got "${text}"` });
    return z.NEVER;
  });
};

/** `16MiB` or `16777216` -> bytes; NaN for anything else. */
const bytes = (text: string) => {
  const m = SIZE.exec(text.trim());
  return m ? Number(m[1]) * UNIT_BYTES[(m[2] ?? 'B') as keyof typeof UNIT_BYTES] : Number.NaN;
};

/**
 * A byte size from `min` to `max`. The webhook cap's floor is 2 MiB: the largest webhook taken
 * (1 MiB) and its headers must always fit in one window.
 */
const byteSize = (min: string, max: string) =>
  bounded(bytes, min, max, `a size from ${min} to ${max} (bytes, or a number with KiB, MiB or GiB)`);

const allowIps = z.string().transform((text, ctx): '*' | string[] => {
  if (text.trim() === '*') return '*';
  const ips = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = ips.filter((ip) => isIP(ip) === 0);
  if (ips.length === 0 || bad.length > 0) {
    ctx.issues.push({
      code: 'custom',
      input: text,
      message: `must be a comma-separated list of IP addresses or *, ${bad.length ? `not an IP: ${bad.join(', ')}` : 'got an empty list'}`,
    });
    return z.NEVER;
  }
  return ips;
});

const schedule = z.string().transform((text, ctx) => {
  const steps = text.split(',').map((s) => s.trim());
  if (steps.length === 0 || steps.some((s) => !/^\d+$/.test(s) || Number(s) < 10)) {
    ctx.issues.push({
      code: 'custom',
      input: text,
      message: `must be a comma-separated list of delays in ms (each at least 10), got "${text}"`,
    });
    return z.NEVER;
  }
  return steps.map(Number);
});

const DURATION = /^(\d+)\s*(s|m|h|d)$/;
const UNIT_DURATION_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `90m` -> 5,400,000 ms; NaN for anything else (a bare number has no unit: refused). */
const durationMs = (text: string) => {
  const m = DURATION.exec(text.trim());
  return m ? Number(m[1]) * UNIT_DURATION_MS[(m[2] ?? 's') as keyof typeof UNIT_DURATION_MS] : Number.NaN;
};

/** A span as it would be written: 5,400,000 ms -> `90m`, 86,400,000 -> `24h`, 172,800,000 -> `2d`. */
export function formatDuration(ms: number): string {
  if (ms >= 2 * 86_400_000 && ms % 86_400_000 === 0) return `${ms / 86_400_000}d`;
  if (ms >= 3_600_000 && ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${Math.round(ms / 1000)}s`;
}

/** A duration, `90m`, `24h` or `2d` (units s, m, h, d), from `min` to `max`, in ms. */
const duration = (min: string, max: string) =>
  bounded(
    durationMs,
    min,
    max,
    `a duration from ${min} to ${max} (a whole number with s, m, h or d: 90m, 24h, 2d)`,
  );

/** A duration that `0` turns off: `0` (with or without a unit), or a duration from `min` to `max`, in ms. */
const durationOrOff = (min: string, max: string) => {
  const [low, high] = [durationMs(min), durationMs(max)];
  const form = `0 (off) or a duration from ${min} to ${max} (a whole number with s, m, h or d: 90s, 10m, 1h)`;
  return z.string().transform((text, ctx) => {
    if (/^0\s*[smhd]?$/.test(text.trim())) return 0;
    const ms = durationMs(text);
    if (ms >= low && ms <= high) return ms;
    ctx.issues.push({ code: 'custom', input: text, message: `must be ${form}, got "${text}"` });
    return z.NEVER;
  });
};

/** Every variable of the design's configuration contract, as text, with its default. */
export const envVarsSchema = z.object({
  PORT: wholeNumber(0, 65535).default(8080),
  HOST: z.string().min(1).default('0.0.0.0'),
  DATABASE_PATH: z.string().min(1).default('./data/gateway.db'),
  // PostgreSQL instead of SQLite: for several instances on one database.
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\/\S+$/, { error: 'must be a postgres:// or postgresql:// URL' })
    .optional(),
  DATABASE_POOL_SIZE: wholeNumber(1, 1000).default(10),
  INSTANCE_ID: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,64}$/, { error: 'must be 1-64 letters, digits, _ . : or -' })
    .default(`${hostname()}-${process.pid}`),
  MAPPING_FILE: z.string().min(1).default('./config/mapping.yaml'),
  RAZER_API_ID: required('the api-id Razer Gold assigned to you'),
  RAZER_API_KEY: required('the api-key Razer Gold assigned to you'),
  RAZER_API_KEY_PREVIOUS: z.string().min(1).optional(),
  // Keys taken out of service: never accepted, only tried when a request fails to verify, so the
  // log can say that Razer still signs with one.
  RAZER_API_KEY_RETIRED: z
    .string()
    .transform((v) =>
      v
        .split(',')
        .map((k) => k.trim())
        .filter((k) => k !== ''),
    )
    .optional(),
  // Every reading of the two APIs as a setting. Unset: ./config/readings.yaml if it exists, else
  // today's readings; set: the file must exist.
  READINGS_FILE: z.string().min(1).optional(),
  // Where `gateway conformance` saves its reports, and where the console reads the last one.
  CONFORMANCE_DIR: z.string().min(1).default('./conformance'),
  // No default: a production gateway must never talk to the development host by omission.
  MITRA_BASE_URL: required(
    `the Mitra API: ${MITRA_PRODUCTION_URL} in production, ${MITRA_DEVELOPMENT_URL} for Mitra's development host`,
  )
    .pipe(z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }))
    // Mitra's own hosts only over TLS: the key and every signed call would cross in clear.
    .refine((u) => describeMitra(u) === 'other host' || new URL(u).protocol === 'https:', {
      error: "must be https for Mitra's hosts (the API key would cross the network in clear)",
    })
    .transform((u) => u.replace(/\/+$/, '')),
  MITRA_API_KEY: required('the Mitra API access key, sent as the Bearer token'),
  MITRA_SECRET_KEY: required('the Mitra secret key that signs every call'),
  MITRA_WEBHOOK_TOKEN: required('the secret path segment of /mitra/webhook/<token>').pipe(
    z.string().regex(/^[A-Za-z0-9_-]{16,128}$/, {
      error: 'must be 16-128 characters of letters, digits, _ or - (it is part of a URL path)',
    }),
  ),
  MITRA_WEBHOOK_ALLOW_IPS: allowIps.default([...MITRA_WEBHOOK_IPS]),
  MITRA_RATE_LIMIT: rateLimitSchema.default({ limit: 200, windowMs: 60_000 }),
  // What one webhook source address may store per window, counted per instance. Mitra's budget
  // is 200 calls a minute and an order causes a few webhooks (new, status, top-up), each under a
  // few kB with its headers: the defaults leave several times that (1,200 rows, 16 MiB a minute)
  // yet bound what a holder of the token can store to about 23 GB a day, not 4 TB.
  MITRA_WEBHOOK_CAP: webhookCapSchema.default({ rows: 1200, windowMs: 60_000 }),
  MITRA_WEBHOOK_CAP_BYTES: byteSize('2MiB', '1GiB').default(16 * 1024 ** 2),
  // Unset: shared on PostgreSQL (the instances leave through one IP), instance on SQLite.
  MITRA_RATE_LIMIT_SCOPE: z.enum(['shared', 'instance'], { error: 'must be shared or instance' }).optional(),
  MITRA_TIMEOUT_MS: wholeNumber(100, 120_000).default(10_000),
  TOPUP_WAIT_MS: wholeNumber(0, 600_000).default(15_000),
  RECONCILE_SCHEDULE_MS: schedule.default([30_000, 60_000, 120_000, 300_000, 900_000]),
  // How long after its top-up an open purchase is flagged for an operator, given to each
  // purchase at top-up. Under 15 minutes a typo would flag purchases still being delivered;
  // over 30 days one would hide stuck money for a month.
  RESOLVE_DEADLINE: duration('15m', '30d').default(24 * 3_600_000),
  // An earlier word to operators, without flagging: below RESOLVE_DEADLINE (checked below).
  STUCK_AFTER: duration('1m', '30d').default(15 * 60_000),
  TRUST_PROXY: proxyCount.default(0),
  RETENTION_DAYS: wholeNumber(1, 36_500).default(90),
  ADMIN_TOKEN: z
    .string()
    .min(16, { error: 'must be at least 16 characters when set' })
    .regex(/^\S+$/, { error: 'must not contain spaces (it is sent as Authorization: Bearer <token>)' })
    .optional(),
  // /metrics without the token, on its own port (for a private network).
  METRICS_PORT: wholeNumber(0, 65535).optional(),
  SUPPLIER_BALANCE_ALERT_IDR: wholeNumber(0, 1_000_000_000_000).optional(),
  // A balance read longer ago than this does not refuse an init (balance guard): it alerts.
  BALANCE_GUARD_MAX_AGE: duration('1m', '1d').default(15 * 60_000),
  // Init refuses when a new order would wait longer than this for its supplier slot (queue guard).
  MAX_SUPPLIER_WAIT: durationOrOff('1s', '1d').default(10 * 60_000),
  // Where report days begin and end, and the daily summary's hour is read: a fixed offset from
  // UTC (Indonesia keeps no daylight saving: +07:00 is WIB all year).
  REPORT_UTC_OFFSET: z
    .string()
    .regex(/^[+-](0\d|1[0-4]):[0-5]\d$/, {
      error: (iss) => `must be an offset like +07:00 or -03:30, got "${iss.input}"`,
    })
    .transform(
      (text) => (text.startsWith('-') ? -1 : 1) * (Number(text.slice(1, 3)) * 60 + Number(text.slice(4, 6))),
    )
    .default(0),
  // The hour (0-23, at REPORT_UTC_OFFSET) the summary of the day before goes to ALERT_WEBHOOK_URL; empty: none.
  DAILY_SUMMARY_HOUR: wholeNumber(0, 23).optional(),
  ALERT_WEBHOOK_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  // OpenTelemetry's own switches (the SDK reads the rest: headers, service name, sampler).
  // Either endpoint turns tracing on; checked here so that a typo stops the start.
  OTEL_EXPORTER_OTLP_ENDPOINT: otlpUrl
    .refine((url) => !URL.canParse(url) || !/\/v1\/traces\/?$/.test(new URL(url).pathname), {
      error:
        "is the collector's base URL: the gateway adds /v1/traces itself (give the full traces URL in OTEL_EXPORTER_OTLP_TRACES_ENDPOINT instead)",
    })
    .optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: otlpUrl
    .refine((url) => !URL.canParse(url) || !['', '/'].includes(new URL(url).pathname), {
      error:
        'is the full traces URL (http://collector:4318/v1/traces): without a path the spans would go to /; give a base URL in OTEL_EXPORTER_OTLP_ENDPOINT instead',
    })
    .optional(),
  OTEL_EXPORTER_OTLP_PROTOCOL: otlpProtocol.optional(),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: otlpProtocol.optional(),
  OTEL_TRACES_EXPORTER: z
    .enum(['otlp', 'none'], {
      error: (iss) => `must be otlp or none (the gateway exports OTLP only), got "${iss.input}"`,
    })
    .optional(),
  OTEL_SDK_DISABLED: yesNo.optional(),
  // Read by the SDK; judged below only when tracing is on (another service's value is not ours).
  OTEL_TRACES_SAMPLER: z.string().optional(),
  OTEL_TRACES_SAMPLER_ARG: z.string().optional(),
  // Send the trace context to Mitra in a traceparent header: off unless asked for.
  MITRA_TRACEPARENT: yesNo.default(false),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      error: 'must be one of fatal, error, warn, info, debug, trace, silent',
    })
    .default('info'),
});

/** A purchase is called stuck before it is flagged, never after. */
const stuckBeforeDeadline = (ctx: z.core.ParsePayload<EnvVars>) => {
  const { STUCK_AFTER: stuck, RESOLVE_DEADLINE: deadline } = ctx.value;
  if (stuck < deadline) return;
  ctx.issues.push({
    code: 'custom',
    input: ctx.value,
    path: ['STUCK_AFTER'],
    message: `must be shorter than RESOLVE_DEADLINE (${formatDuration(deadline)}), got ${formatDuration(stuck)}`,
  });
};

type EnvVars = z.output<typeof envVarsSchema>;

/** Tracing is on with an OTLP endpoint, unless one of the standard switches turns it off. */
const tracingOn = (v: EnvVars): boolean =>
  (v.OTEL_EXPORTER_OTLP_ENDPOINT ?? v.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) !== undefined &&
  v.OTEL_SDK_DISABLED !== true &&
  v.OTEL_TRACES_EXPORTER !== 'none';

const SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
];

/**
 * The sampler, when tracing is on: the SDK keeps every trace on a name it does not know, and on a
 * ratio sampler without a ratio. Which traces are kept is the cost of tracing.
 */
const samplerKnown = (ctx: z.core.ParsePayload<EnvVars>) => {
  const v = ctx.value;
  if (!tracingOn(v)) return;
  const issue = (path: string, message: string) =>
    ctx.issues.push({ code: 'custom', input: v, path: [path], message });
  const sampler = v.OTEL_TRACES_SAMPLER;
  if (sampler !== undefined && !SAMPLERS.includes(sampler))
    issue(
      'OTEL_TRACES_SAMPLER',
      `must be ${SAMPLERS.slice(0, -1).join(', ')} or ${SAMPLERS.at(-1)}, got "${sampler}"`,
    );
  const arg = v.OTEL_TRACES_SAMPLER_ARG;
  if (arg !== undefined && !/^(0(\.\d+)?|1(\.0+)?)$/.test(arg))
    issue('OTEL_TRACES_SAMPLER_ARG', `must be a ratio from 0 to 1 (0.1 keeps a tenth), got "${arg}"`);
  else if (arg === undefined && sampler?.endsWith('traceidratio'))
    issue(
      'OTEL_TRACES_SAMPLER_ARG',
      `is required with OTEL_TRACES_SAMPLER=${sampler} (0.1 keeps a tenth; without it every trace is kept)`,
    );
};

export const DEFAULT_READINGS_FILE = './config/readings.yaml';

export const configSchema = envVarsSchema.check(stuckBeforeDeadline, samplerKnown).transform((v) => ({
  port: v.PORT,
  host: v.HOST,
  databasePath: v.DATABASE_PATH,
  databaseUrl: v.DATABASE_URL ?? null,
  databasePoolSize: v.DATABASE_POOL_SIZE,
  instanceId: v.INSTANCE_ID,
  mappingFile: v.MAPPING_FILE,
  readingsFile: v.READINGS_FILE ?? DEFAULT_READINGS_FILE,
  /** Named explicitly: a missing file is an error, never a silent fall back to the defaults. */
  readingsRequired: v.READINGS_FILE !== undefined,
  conformanceDir: v.CONFORMANCE_DIR,
  razer: {
    apiId: v.RAZER_API_ID,
    // Rotation: the previous key keeps verifying until it is removed from the environment.
    apiKeys: v.RAZER_API_KEY_PREVIOUS ? [v.RAZER_API_KEY, v.RAZER_API_KEY_PREVIOUS] : [v.RAZER_API_KEY],
    retiredKeys: v.RAZER_API_KEY_RETIRED ?? [],
  },
  mitra: {
    baseUrl: v.MITRA_BASE_URL,
    apiKey: v.MITRA_API_KEY,
    secretKey: v.MITRA_SECRET_KEY,
    webhookToken: v.MITRA_WEBHOOK_TOKEN,
    webhookAllowIps: v.MITRA_WEBHOOK_ALLOW_IPS,
    webhookCap: { ...v.MITRA_WEBHOOK_CAP, bytes: v.MITRA_WEBHOOK_CAP_BYTES },
    rateLimit: v.MITRA_RATE_LIMIT,
    rateLimitScope: v.MITRA_RATE_LIMIT_SCOPE ?? (v.DATABASE_URL ? 'shared' : 'instance'),
    timeoutMs: v.MITRA_TIMEOUT_MS,
  },
  topupWaitMs: v.TOPUP_WAIT_MS,
  reconcileScheduleMs: v.RECONCILE_SCHEDULE_MS,
  resolveDeadlineMs: v.RESOLVE_DEADLINE,
  stuckAfterMs: v.STUCK_AFTER,
  trustProxy: v.TRUST_PROXY,
  retentionDays: v.RETENTION_DAYS,
  adminToken: v.ADMIN_TOKEN ?? null,
  metricsPort: v.METRICS_PORT ?? null,
  alerts: {
    webhookUrl: v.ALERT_WEBHOOK_URL ?? null,
    balanceBelowIdr: v.SUPPLIER_BALANCE_ALERT_IDR ?? null,
  },
  balanceGuardMaxAgeMs: v.BALANCE_GUARD_MAX_AGE,
  /** The queue guard's limit on a new order's expected wait (ms); 0: off. */
  maxSupplierWaitMs: v.MAX_SUPPLIER_WAIT,
  /** Minutes east of UTC where report days are counted. */
  reportUtcOffsetMinutes: v.REPORT_UTC_OFFSET,
  dailySummaryHour: v.DAILY_SUMMARY_HOUR ?? null,
  /** OpenTelemetry traces over OTLP/HTTP, or null: off, nothing loaded. */
  tracing: tracingOn(v)
    ? {
        propagateToMitra: v.MITRA_TRACEPARENT,
        /** Every OTEL_* variable as read (GATEWAY_ENV_FILE's too): the SDK reads process.env alone. */
        otelEnv: {} as Record<string, string>,
      }
    : null,
  logLevel: v.LOG_LEVEL,
}));
export type Config = z.output<typeof configSchema>;

export type EnvSource = Readonly<Record<string, string | undefined>>;
export type Parsed<T> = { ok: true; value: T } | { ok: false; errors: string[] };

/** Validates a subset (or all) of the contract; each error is one line naming the variable. */
export function parseEnv<S extends z.ZodType>(schema: S, source: EnvSource): Parsed<z.output<S>> {
  // An empty value (`FOO=` in .env) means "not set", so defaults and "is required" apply.
  const present = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const result = schema.safeParse(present);
  if (result.success) return { ok: true, value: result.data };
  return {
    ok: false,
    errors: result.error.issues.map((i) => `${i.path.map(String).join('.') || 'environment'} ${i.message}`),
  };
}

/**
 * Variables that moved elsewhere: refused where they are still set, so that a deployment that set
 * RAZER_SIGNED_CONTENT=uri is told at start, instead of refusing every Razer request.
 */
const MOVED: Record<string, (value: string) => string> = {
  RAZER_SIGNED_CONTENT: (value) =>
    `RAZER_SIGNED_CONTENT has moved to the readings file: write "razer:\n  signed_content: ${value}" in READINGS_FILE (default ./config/readings.yaml) and remove RAZER_SIGNED_CONTENT`,
};

export const loadConfig = (source: EnvSource): Parsed<Config> => {
  const moved = Object.entries(MOVED).flatMap(([key, say]) => {
    const value = source[key];
    return value === undefined || value === '' ? [] : [say(value)];
  });
  const parsed = parseEnv(configSchema, source);
  if (parsed.ok && parsed.value.tracing)
    for (const [key, value] of Object.entries(source))
      if (key.startsWith('OTEL_') && value !== undefined && value !== '')
        parsed.value.tracing.otelEnv[key] = value;
  if (moved.length === 0) return parsed;
  return { ok: false, errors: [...moved, ...(parsed.ok ? [] : parsed.errors)] };
};

/** Only what storage commands (`gateway migrate`) need. */
export const storageEnvSchema = envVarsSchema.pick({
  DATABASE_PATH: true,
  DATABASE_URL: true,
  DATABASE_POOL_SIZE: true,
  INSTANCE_ID: true,
});

/** What `gateway prune` needs. */
export const pruneEnvSchema = storageEnvSchema.extend({ RETENTION_DAYS: envVarsSchema.shape.RETENTION_DAYS });

/**
 * The process environment over a settings file: `GATEWAY_ENV_FILE` when it names one (it must
 * then be readable), else `.env` in `cwd` when present. A variable of the process environment wins
 * over the file's. One reader for the service and for the `gateway` command run beside it, so the
 * two never read a value differently (sh and systemd's EnvironmentFile= each read `$`, quotes and
 * backslashes their own way).
 */
export function readEnvironment(cwd: string, processEnv: EnvSource): EnvSource {
  const named = processEnv.GATEWAY_ENV_FILE;
  const file = resolve(cwd, named || '.env');
  let fromFile: Record<string, string> = {};
  if (named) {
    try {
      fromFile = parseDotenv(readFileSync(file));
    } catch (err) {
      throw new Error(
        `GATEWAY_ENV_FILE names ${file}, which cannot be read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      );
    }
  } else if (existsSync(file)) fromFile = parseDotenv(readFileSync(file));
  return { ...fromFile, ...processEnv };
}

/** File settings made absolute against the directory the gateway was started from. */
export function resolvePaths(config: Config, cwd: string): Config {
  return {
    ...config,
    databasePath: resolve(cwd, config.databasePath),
    mappingFile: resolve(cwd, config.mappingFile),
    readingsFile: resolve(cwd, config.readingsFile),
    conformanceDir: resolve(cwd, config.conformanceDir),
  };
}
