import { z } from 'zod';

/**
 * The conformance report (issue 23 §3): what `gateway conformance` saves as JSON, what the
 * console reads back, and the types the judgement works on. One schema, so that a report
 * written by one version is checked when another reads it.
 */

/** Each reading judged, by its setting path in the readings file (src/readings/settings.ts). */
export const READING_IDS = [
  'mitra.signature',
  'mitra.envelope',
  'mitra.forms',
  'mitra.order_status.processing',
  'mitra.order_status.success',
  'mitra.order_status.failed',
  'mitra.voucher_code_at',
  'mitra.reason_at',
  'mitra.refund_names',
  'mitra.webhook',
  'mitra.balance',
  'mitra.tid_accepts_ref_id',
  'mitra.rc.may_exist',
  'mitra.rc.refused',
  'razer.signed_content',
] as const;
export const readingIdSchema = z.enum(READING_IDS);
export type ReadingId = z.output<typeof readingIdSchema>;

export const verdictSchema = z.enum(['confirmed', 'contradicted', 'not-observed']);
export type Verdict = z.output<typeof verdictSchema>;

const jsonSchema = z.json();
export type Json = z.output<typeof jsonSchema>;
/** Settings as the readings file nests them: `{mitra: {order_status: {failed: [3, 4]}}}`. */
export const settingsPatchSchema = z.record(z.string(), jsonSchema);
export type SettingsPatch = z.output<typeof settingsPatchSchema>;

export const fixSchema = z.object({
  /** What to merge into the readings file. */
  change: settingsPatchSchema,
  /** The same change as YAML, to paste into the readings file (merging with what it holds). */
  yaml: z.string(),
  /** Whether the readings with this change pass the guard rails (parseReadings). */
  accepted: z.boolean(),
  /** The guard rails' reasons when not accepted: the gateway would refuse to start with it. */
  refusedBecause: z.array(z.string()),
  /** What to weigh before applying it, when the change is not plainly safe. */
  caution: z.string().nullable(),
});
export type Fix = z.output<typeof fixSchema>;

export const findingSchema = z.object({
  id: readingIdSchema,
  verdict: verdictSchema,
  /** The reading in force, as text. */
  reading: z.string(),
  /** What was seen, one fact a line. */
  evidence: z.array(z.string()),
  /** For a reading not observed: why not. For a contradiction without a fix: why none. */
  why: z.string().nullable(),
  fix: fixSchema.nullable(),
});
export type Finding = z.output<typeof findingSchema>;

/** One HTTP exchange with Mitra, as sent and answered; secrets redacted. */
export const exchangeSchema = z.object({
  at: z.string(),
  /** What the call was for: `catalogue`, `balance`, `balance probe`, `order topup`, `status topup`… */
  step: z.string(),
  operation: z.string(),
  method: z.string(),
  path: z.string(),
  query: z.record(z.string(), z.string()),
  requestBody: z.string().nullable(),
  httpStatus: z.number().nullable(),
  replyBody: z.string().nullable(),
  /** How the gateway's client classified the reply with the readings in force. */
  outcome: z.string(),
  rc: z.string().nullable(),
  error: z.string().nullable(),
  durationMs: z.number(),
});
export type Exchange = z.output<typeof exchangeSchema>;

export const SCENARIOS = [
  'topup',
  'voucher',
  'fail-product',
  'refund-product',
  'product-not-found',
  'empty-ref-id',
  'empty-data',
  'duplicate-ref-id',
] as const;
export const scenarioSchema = z.enum(SCENARIOS);
export type Scenario = z.output<typeof scenarioSchema>;

/** How a scenario should end: delivered, refused at create-order, rc may-exist, failed, refunded. */
export const expectationSchema = z.enum(['success', 'refused', 'exists', 'failed', 'refunded']);
export type Expectation = z.output<typeof expectationSchema>;

const formDataSchema = z.array(z.object({ key: z.string(), value: z.string() }));

/** One order-status reply of an order's polling. */
export const pollSchema = z.object({
  at: z.string(),
  outcome: z.string(),
  rc: z.string().nullable(),
  httpStatus: z.number().nullable(),
  /** The status number (null: none, or no reply). */
  status: z.number().nullable(),
  historyNames: z.array(z.string()),
});
export type Poll = z.output<typeof pollSchema>;

export const orderRecordSchema = z.object({
  scenario: scenarioSchema,
  expect: expectationSchema,
  brandKey: z.string(),
  variationKey: z.string(),
  price: z.number(),
  refId: z.string(),
  data: formDataSchema,
  /** The brand's is_voucher, as the catalogue says (null: it does not). */
  isVoucher: z.boolean().nullable(),
  create: z.object({
    outcome: z.string(),
    rc: z.string().nullable(),
    /** The envelope's status text (CLIENT_ERROR, VALIDATION_ERROR…), when there was one. */
    status: z.string().nullable(),
    httpStatus: z.number().nullable(),
    message: z.string().nullable(),
    trxCode: z.string().nullable(),
  }),
  polls: z.array(pollSchema),
  /** The data of the last order-status reply by trx code. */
  last: z.unknown().nullable(),
  ended: z.boolean(),
  /** Why the polling took it as ended, or why it stopped without. */
  endedWhy: z.string(),
  /**
   * Where the voucher code and the reason are in `last` (dot paths): where the readings found
   * them (`…Read` true), else where a search found a field that looks like one, else null.
   */
  found: z.object({
    voucherAt: z.string().nullable(),
    voucherRead: z.boolean(),
    reasonAt: z.string().nullable(),
    reasonRead: z.boolean(),
  }),
  /**
   * After a create-order whose answer was unclear (ambiguous, or the ref_id exists): order status
   * asked once by ref_id, since the order may have been placed (and charged). `trxCode`: the
   * order it found, which is then followed as placed (create.trxCode). Null when not asked.
   */
  createLookup: z
    .object({
      outcome: z.string(),
      rc: z.string().nullable(),
      httpStatus: z.number().nullable(),
      trxCode: z.string().nullable(),
      /** Why it was not asked (an empty ref_id), or what the answer said. */
      note: z.string().nullable(),
    })
    .nullable()
    .default(null),
  /** Order status asked with tid = ref_id once the order ended. */
  byRef: z
    .object({
      outcome: z.string(),
      rc: z.string().nullable(),
      httpStatus: z.number().nullable(),
      /** The reply is this order (its code is the trx code). */
      sameOrder: z.boolean(),
    })
    .nullable(),
});
export type OrderRecord = z.output<typeof orderRecordSchema>;

export const balanceProbeSchema = z.object({
  path: z.string(),
  word: z.string(),
  /** The configured call (true) or one of the alternatives tried after a 404 (false). */
  configured: z.boolean(),
  outcome: z.string(),
  rc: z.string().nullable(),
  httpStatus: z.number().nullable(),
  status: z.string().nullable(),
});
export type BalanceProbe = z.output<typeof balanceProbeSchema>;

export const webhookRecordSchema = z.object({
  receivedAt: z.string(),
  via: z.enum(['listener', 'store']),
  source: z.string(),
  /** Whether MITRA_WEBHOOK_ALLOW_IPS lets this source through to a gateway. */
  allowedSource: z.boolean(),
  headers: z.record(z.string(), z.string()),
  body: z.string(),
  /** Our trx codes and ref_ids found anywhere in the body. */
  names: z.array(z.string()),
  /** readWebhook with the readings in force. */
  readAs: z.object({
    kind: z.string(),
    refs: z.array(z.string()),
    why: z.string().nullable(),
  }),
});
export type WebhookRecord = z.output<typeof webhookRecordSchema>;

export const catalogueSchema = z.object({
  brandsOutcome: z.string(),
  brandCount: z.number(),
  /** Every form of every brand, flattened: the `forms` reading is judged on all. */
  forms: z.array(
    z.object({
      brand: z.string(),
      key: z.string(),
      type: z.string(),
      options: z.array(z.string()).nullable(),
    }),
  ),
  /** Brands whose variations were read, and what was looked for there. */
  searched: z.array(z.object({ brand: z.string(), outcome: z.string(), variations: z.number() })),
  /** Scenario keys not found (or not readable) in the catalogue, with why. */
  missing: z.array(z.object({ key: z.string(), why: z.string() })),
});
export type CatalogueObservation = z.output<typeof catalogueSchema>;

export const optionsSchema = z.object({
  production: z.boolean(),
  confirmSpendIdr: z.number().nullable(),
  listen: z.string().nullable(),
  timeoutSeconds: z.number(),
  webhookWaitSeconds: z.number(),
  failProduct: z.string().nullable(),
  refundProduct: z.string().nullable(),
  forms: z.record(z.string(), z.string()),
});
export type ConformanceOptions = z.output<typeof optionsSchema>;

/** Everything the run saw: the judgement's whole input, with the readings. */
export const observationsSchema = z.object({
  options: optionsSchema,
  catalogue: catalogueSchema,
  balance: z.array(balanceProbeSchema),
  orders: z.array(orderRecordSchema),
  /** Scenarios not placed, with why. */
  skipped: z.array(z.object({ scenario: scenarioSchema, why: z.string() })),
  webhooks: z.object({
    via: z.enum(['listener', 'store']),
    waitedSeconds: z.number(),
    /** The webhooks naming one of the run's orders (its ref_ids, its trx codes): no other is kept. */
    items: z.array(webhookRecordSchema),
    /** Webhooks received meanwhile that named none of them (other purchases): counted only. */
    others: z.number().optional(),
  }),
  exchanges: z.array(exchangeSchema),
});
export type Observations = z.output<typeof observationsSchema>;

export const REPORT_VERSION = 1;

export const conformanceReportSchema = z.object({
  version: z.literal(REPORT_VERSION),
  startedAt: z.string(),
  finishedAt: z.string(),
  mitra: z.object({ url: z.string(), host: z.string() }),
  storage: z.string(),
  readings: z.object({ file: z.string(), differences: z.array(z.string()) }),
  /** 0 nothing contradicted, 1 something contradicted, 2 the run could not complete. */
  exitCode: z.union([z.literal(0), z.literal(1), z.literal(2)]),
  summary: z.object({ confirmed: z.number(), contradicted: z.number(), notObserved: z.number() }),
  findings: z.array(findingSchema),
  /** Every fix at once, checked together against the guard rails; null when there is none. */
  combinedFix: fixSchema.nullable(),
  /** Why the run could not complete (exit 2), or what limited it. */
  problems: z.array(z.string()),
  observations: observationsSchema,
});
export type ConformanceReport = z.output<typeof conformanceReportSchema>;
