/**
 * Every **[reading]** of shared/spec/*.md as a setting: what the readings file may say, today's
 * reading as each default, and the guard rails that refuse a value a typo could produce and that
 * would answer Razer 400 for goods delivered (or 200 for goods not delivered).
 *
 * Pure: no file, no clock. The file is read by src/config/readings-file.ts.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';

/** Status numbers seen in public integrations: their meaning is not a reading and cannot move. */
export const SEEN_PROCESSING = 1;
export const SEEN_SUCCESS = 2;
/** The one failure number a public integration shows: a reading, its default. */
export const READ_FAILED = 3;

/** RC codes the published list says refuse a call outright: the only ones "refused" may hold. */
export const DOCUMENTED_REFUSAL_RC = [
  '21',
  '22',
  '24',
  '25',
  '40',
  '41',
  '42',
  '43',
  '44',
  '46',
  '47',
] as const;

/**
 * RC codes whose meaning says the call may have been taken or was not processed (ok, ref id
 * exists, already paid, traffic limit, server error): never a refusal.
 */
export const NEVER_REFUSED_RC = ['00', '23', '26', '45', '50'] as const;

/**
 * History names that do not say a refund happened. A refund pattern that matches any of them
 * would read a delivered or pending order as refunded, and answer 400.
 */
export const NOT_REFUND_NAMES = [
  '',
  'Success',
  'Sukses',
  'Berhasil',
  'Delivered',
  'Completed',
  'Processing',
  'Diproses',
  'Pending',
  'Menunggu',
  'Failed',
  'Gagal',
  'Refund rejected',
  'Refund Ditolak',
  'Refund pending',
  'Menunggu Refund',
  'Proses Refund',
  'Refund cancelled',
  'Refund requested',
  'Refund initiated',
  'Refund in progress',
  'Refund queued',
  'Refund on hold',
  'Refund diproses',
  'Non-refundable',
  'Not refunded',
  'Refund failed',
  'Refund gagal',
  'Refund unsuccessful',
  'Refund not successful',
  'Refund tidak berhasil',
  'Refund belum berhasil',
  'Dana Tidak Dikembalikan',
  'Dana belum dikembalikan',
  'Gagal Dikembalikan',
] as const;

/**
 * Words that, in the text a trailing `*` stands for, say a refund did not happen ("Refunded to
 * balance failed"): such a name is never a refund.
 */
export const NEGATING_WORDS = [
  'not',
  'no',
  'non',
  'never',
  'un',
  'unsuccessful',
  'fail',
  'failed',
  'failure',
  'rejected',
  'reject',
  'declined',
  'denied',
  'pending',
  'tidak',
  'belum',
  'gagal',
  'ditolak',
  'menunggu',
  'proses',
] as const;

/** Words that end a refund after it was named ("Refunded to balance cancelled"): tails only. */
const UNDOING_WORDS = ['cancelled', 'canceled', 'reversed', 'batal', 'dibatalkan'] as const;

/**
 * Order-status fields that never hold a voucher code: reading the code from one of them would
 * give the buyer our own reference, a price, a date or their own account.
 */
export const NOT_A_CODE_PATHS = [
  'code',
  'ref_id',
  'status',
  'date',
  'grand_total',
  'detail',
  'detail.variation_key',
  'detail.variation_name',
  'detail.price',
] as const;

/** Order-status fields nothing under which is a voucher code (the buyer's data, the history). */
export const NOT_A_CODE_TREES = ['history_status', 'detail.customer_data', 'detail.order_param'] as const;

export const isNotACodePath = (path: string): boolean =>
  (NOT_A_CODE_PATHS as readonly string[]).includes(path) ||
  NOT_A_CODE_TREES.some((tree) => path === tree || path.startsWith(`${tree}.`));

/** Today's refund names: "Refund", "Refunded" and each with a word that says it went through. */
export const DEFAULT_REFUND_NAMES: readonly string[] = [
  ...['Refund', 'Refunded'].flatMap((head) => [
    head,
    ...[
      'success',
      'successful',
      'succeeded',
      'processed',
      'complete',
      'completed',
      'done',
      'berhasil',
      'sukses',
    ].map((tail) => `${head} ${tail}`),
  ]),
  'Refunded to *',
  'Cancelled and refunded',
  'Canceled and refunded',
];

/** A name as compared: trimmed, spaces folded, lower case. */
export const foldName = (name: string): string => name.trim().replace(/\s+/g, ' ').toLowerCase();

/**
 * A refund name: the whole history name (any case, spaces folded), or with a trailing ` *` the
 * name's start followed by any words, none of which negates it. Plain text, never a regular
 * expression: matching is linear in the name and cannot escape its anchors.
 */
export interface RefundName {
  text: string;
  prefix: boolean;
}

export function refundName(entry: string): RefundName {
  const folded = foldName(entry);
  return folded.endsWith(' *')
    ? { text: folded.slice(0, -1), prefix: true }
    : { text: folded, prefix: false };
}

export function matchesRefundName(name: RefundName, historyName: string): boolean {
  const folded = foldName(historyName);
  if (!name.prefix) return folded === name.text;
  if (!folded.startsWith(name.text) || folded.length === name.text.length) return false;
  const rest = folded.slice(name.text.length).split(/[^\p{L}\p{N}]+/u);
  const no: readonly string[] = [...NEGATING_WORDS, ...UNDOING_WORDS];
  return !rest.some((w) => no.includes(w));
}

const KEY = /^[A-Za-z0-9_-]{1,64}$/;
const DOT_PATH = /^[A-Za-z0-9_-]{1,64}(\.[A-Za-z0-9_-]{1,64}){0,3}$/;

const statusList = (what: string) =>
  z
    .array(
      z
        .number({ error: `must be a list of whole numbers (${what})` })
        .int({ error: `must be a list of whole numbers (${what})` })
        .min(0, { error: `status numbers are 0 or more (${what})` })
        .max(1000, { error: `status numbers are at most 1000 (${what})` }),
      { error: `must be a list of whole numbers such as [3] (${what})` },
    )
    .max(20, { error: `at most 20 numbers (${what})` });

const rcList = (what: string) =>
  z
    .array(
      z
        .union([z.string(), z.number()], { error: `rc codes are two digits such as "44" (${what})` })
        .transform((v) => (typeof v === 'number' ? String(v).padStart(2, '0') : v.trim()))
        .pipe(z.string().regex(/^\d{2}$/, { error: `rc codes are two digits such as "44" (${what})` })),
      { error: `must be a list of rc codes such as ["23", "26"] (${what})` },
    )
    .max(50, { error: `at most 50 codes (${what})` });

const pathList = (what: string) =>
  z
    .array(
      z.string({ error: `must be a list of paths such as detail.voucher_code (${what})` }).regex(DOT_PATH, {
        error: `paths are up to four keys joined by dots, such as detail.voucher_code (${what})`,
      }),
      { error: `must be a list of paths such as [detail.voucher_code, sn] (${what})` },
    )
    .max(10, { error: `at most 10 paths (${what})` });

const keyList = (what: string) =>
  z
    .array(
      z
        .string({ error: `must be a list of keys (${what})` })
        .regex(KEY, { error: `keys are 1-64 letters, digits, _ or - (${what})` }),
      {
        error: `must be a list of keys such as [trx_code, tid] (${what})`,
      },
    )
    .max(20, { error: `at most 20 keys (${what})` });

const orderStatusSchema = z
  .strictObject({
    processing: statusList('status numbers that mean processing').default([SEEN_PROCESSING]),
    success: statusList('status numbers that mean delivered').default([SEEN_SUCCESS]),
    failed: statusList('status numbers that mean failed, not delivered').default([READ_FAILED]),
  })
  .prefault({});

const rcSchema = z
  .strictObject({
    refused: rcList('rc codes after which Mitra certainly did not act').default([...DOCUMENTED_REFUSAL_RC]),
    may_exist: rcList('create-order rc codes that say an order for the ref_id may exist').default([
      '23',
      '26',
    ]),
  })
  .prefault({});

const balanceSchema = z
  .strictObject({
    path: z
      .string({ error: 'must be a path such as /v2/public/balance, or null when there is no balance call' })
      .regex(/^\/[A-Za-z0-9/_.-]{1,200}$/, { error: 'must be a path such as /v2/public/balance' })
      .refine((p) => !p.split('/').some((s) => s === '.' || s === '..'), {
        error: 'must not hold . or .. segments',
      })
      .nullable()
      .default('/v2/public/balance'),
    word: z
      .string({ error: 'must be the signed word, such as balance' })
      .regex(/^[A-Za-z0-9_-]{1,64}$/, { error: 'must be a word of letters, digits, _ or -' })
      .default('balance'),
  })
  .prefault({});

const webhookSchema = z
  .strictObject({
    /** Where a webhook's fields are looked for: '' is the top level, 'data' the object under it. */
    layers: z
      .array(
        z
          .string({ error: 'must be a list of paths such as ["", data]' })
          .regex(/^$|^[A-Za-z0-9_-]{1,64}(\.[A-Za-z0-9_-]{1,64}){0,3}$/, {
            error: "layers are '' (the top level) or a path such as data",
          }),
        { error: 'must be a list of paths such as ["", data]' },
      )
      .min(1, { error: "must list at least one layer ('' is the top level)" })
      .max(10, { error: 'at most 10 layers' })
      .default(['', 'data']),
    trx_code_keys: keyList("keys that carry Mitra's trx code").default(['trx_code', 'tid', 'code']),
    ref_id_keys: keyList("keys that carry the gateway's ref_id").default(['ref_id']),
    status_keys: keyList('keys that carry a status number').default(['status']),
    brand_keys: keyList('keys that name a brand in a product event').default(['brand_key']),
  })
  .prefault({});

const mitraSchema = z
  .strictObject({
    order_status: orderStatusSchema,
    voucher_code_at: pathList('where a delivered voucher code is looked for, in order').default([
      'detail.voucher_code',
      'sn',
      'detail.sn',
    ]),
    reason_at: pathList('where the failure reason and serial are looked for, in order').default([
      'sn',
      'detail.sn',
    ]),
    refund_names: z
      .array(
        z
          .string({ error: 'must be a list of history names, such as [Refunded, Dana Dikembalikan]' })
          .max(100, { error: 'a name is at most 100 characters' })
          .refine((n) => foldName(n) !== '', { error: 'a name must not be empty' })
          .refine(
            (n) =>
              !foldName(n).slice(0, -1).includes('*') && (!n.trim().endsWith('*') || /\s\*$/.test(n.trim())),
            {
              error: 'a * may only end a name, after a space, such as "Refunded to *"',
            },
          )
          .refine((n) => !/\s\*$/.test(n.trim()) || foldName(n).length >= 8, {
            error: 'a name ending in * needs at least 6 letters before it',
          }),
        { error: 'must be a list of history names, such as [Refunded, Dana Dikembalikan]' },
      )
      .max(50, { error: 'at most 50 names' })
      .default([...DEFAULT_REFUND_NAMES]),
    webhook: webhookSchema,
    balance: balanceSchema,
    tid_accepts_ref_id: z.boolean({ error: 'must be true or false' }).default(true),
    rc: rcSchema,
  })
  .prefault({});

const razerSchema = z
  .strictObject({
    signed_content: z.enum(['body', 'uri'], { error: 'must be body or uri' }).default('body'),
  })
  .prefault({});

const fileSchema = z
  .strictObject(
    { mitra: mitraSchema, razer: razerSchema },
    { error: 'the readings file must be a YAML map with mitra: and razer:' },
  )
  .superRefine((r, ctx) => {
    for (const issue of guardRails(r)) ctx.addIssue({ code: 'custom', ...issue });
  })
  .transform((r) => ({
    ...r,
    refundNames: r.mitra.refund_names.map((entry) => ({
      ...refundName(entry),
      // Only today's names may overrule a status that says delivered: see interpretOrderStatus.
      added: !DEFAULT_REFUND_NAMES.some((d) => foldName(d) === foldName(entry)),
    })),
  }));

type Parsed = z.output<typeof fileSchema>;
export type Readings = Parsed;
export type ReadingsInput = z.input<typeof fileSchema>;

interface Issue {
  path: (string | number)[];
  message: string;
}

/** The guard rails: each names the field and why the value could cost money. */
export function guardRails(r: Omit<Parsed, 'refundNames'>): Issue[] {
  const issues: Issue[] = [];
  const s = r.mitra.order_status;
  const classes = [
    ['processing', s.processing],
    ['success', s.success],
    ['failed', s.failed],
  ] as const;
  for (const [i, [name, list]] of classes.entries())
    for (const [otherName, other] of classes.slice(i + 1))
      for (const n of list)
        if (other.includes(n))
          issues.push({
            path: ['mitra', 'order_status', otherName],
            message: `status ${n} is both ${name} and ${otherName}: a status has one meaning`,
          });
  if (!s.success.includes(SEEN_SUCCESS))
    issues.push({
      path: ['mitra', 'order_status', 'success'],
      message: `must include ${SEEN_SUCCESS}: every public integration shows ${SEEN_SUCCESS} as delivered`,
    });
  // 0 is what a careless reply's null, "" or false becomes: never enough to decide an outcome.
  for (const [name, list] of [
    ['success', s.success],
    ['failed', s.failed],
  ] as const)
    if (list.includes(0))
      issues.push({
        path: ['mitra', 'order_status', name],
        message: `status 0 cannot be ${name}: it is what an empty or false status becomes; list it under processing if Mitra uses it`,
      });
  // 3 is the one failure number an integration shows: reading it as delivered answers 200 for goods not delivered.
  if (s.success.includes(READ_FAILED))
    issues.push({
      path: ['mitra', 'order_status', 'success'],
      message: `status ${READ_FAILED} cannot be success: the one public integration that shows it reads it as failed`,
    });
  if (!s.processing.includes(SEEN_PROCESSING))
    issues.push({
      path: ['mitra', 'order_status', 'processing'],
      message: `must include ${SEEN_PROCESSING}: every public integration shows ${SEEN_PROCESSING} as processing`,
    });

  const { refused, may_exist } = r.mitra.rc;
  for (const rc of refused) {
    if ((NEVER_REFUSED_RC as readonly string[]).includes(rc))
      issues.push({
        path: ['mitra', 'rc', 'refused'],
        message: `rc ${rc} cannot be a refusal: it says the order may exist or was not processed, and a refusal answers 400`,
      });
    else if (!(DOCUMENTED_REFUSAL_RC as readonly string[]).includes(rc))
      issues.push({
        path: ['mitra', 'rc', 'refused'],
        message: `rc ${rc} is not a refusal Mitra documents (${DOCUMENTED_REFUSAL_RC.join(', ')}); an rc nobody knows stays ambiguous and is reconciled, never answered 400`,
      });
    if (may_exist.includes(rc))
      issues.push({ path: ['mitra', 'rc', 'refused'], message: `rc ${rc} is both refused and may_exist` });
  }
  if (may_exist.includes('00'))
    issues.push({ path: ['mitra', 'rc', 'may_exist'], message: 'rc 00 is success, not may_exist' });

  for (const [field, list] of [
    ['voucher_code_at', r.mitra.voucher_code_at],
    ['reason_at', r.mitra.reason_at],
  ] as const)
    for (const p of list)
      if (field === 'voucher_code_at' && isNotACodePath(p))
        issues.push({
          path: ['mitra', field],
          message: `${p} never holds a voucher code (it is the order's own data): the buyer would get it as a code`,
        });
  if (r.mitra.voucher_code_at.length === 0)
    issues.push({ path: ['mitra', 'voucher_code_at'], message: 'must list at least one path' });

  for (const [i, entry] of r.mitra.refund_names.entries()) {
    const name = refundName(entry);
    const wrong = NOT_REFUND_NAMES.filter((probe) => matchesRefundName(name, probe));
    const negated = foldName(entry)
      .split(/[^\p{L}\p{N}]+/u)
      .filter((w) => (NEGATING_WORDS as readonly string[]).includes(w));
    if (wrong.length > 0)
      issues.push({
        path: ['mitra', 'refund_names', i],
        message: `matches ${wrong.map((w) => JSON.stringify(w)).join(', ')}, which do not say a refund happened: a delivered order would be answered 400`,
      });
    else if (negated.length > 0)
      issues.push({
        path: ['mitra', 'refund_names', i],
        message: `holds ${negated.map((w) => JSON.stringify(w)).join(', ')}, which says a refund did not happen`,
      });
  }

  const w = r.mitra.webhook;
  for (const k of w.trx_code_keys)
    if (w.ref_id_keys.includes(k))
      issues.push({
        path: ['mitra', 'webhook', 'ref_id_keys'],
        message: `${k} is both a trx code key and a ref_id key`,
      });
  return issues;
}

/** Today's readings: what the gateway uses when no readings file says otherwise. */
export const DEFAULT_READINGS: Readings = fileSchema.parse({});

/** The readings file's schema; null (an empty document) is every default. */
export const readingsFileSchema = z.preprocess((v) => v ?? {}, fileSchema);

export function parseReadings(content: unknown): ReturnType<typeof readingsFileSchema.safeParse> {
  return readingsFileSchema.safeParse(content);
}

/** The settings as the file spells them, without derived fields: for diffs, reports and records. */
export function settingsOf(r: Readings): { mitra: Readings['mitra']; razer: Readings['razer'] } {
  return { mitra: r.mitra, razer: r.razer };
}

/** Every setting whose value differs from its default, as `path: value` (YAML-like, one per line). */
export function differences(r: Readings): { path: string; value: unknown; default: unknown }[] {
  const out: { path: string; value: unknown; default: unknown }[] = [];
  const walk = (a: unknown, b: unknown, path: string[]) => {
    if (isPlainObject(a) && isPlainObject(b)) {
      for (const key of Object.keys(b)) walk(a[key], b[key], [...path, key]);
      return;
    }
    if (JSON.stringify(a) !== JSON.stringify(b)) out.push({ path: path.join('.'), value: a, default: b });
  };
  walk(settingsOf(r), settingsOf(DEFAULT_READINGS), []);
  return out;
}

const versions = new WeakMap<Readings, string>();

/** A short name for a set of readings: recorded with a decision, so its story can say which. */
export function readingsVersion(r: Readings): string {
  // Asked for every status applied: computed once per loaded readings object (a reload makes a
  // new one; none is changed in place).
  const known = versions.get(r);
  if (known !== undefined) return known;
  const version =
    differences(r).length === 0
      ? 'default'
      : createHash('sha256')
          .update(JSON.stringify(settingsOf(r)))
          .digest('hex')
          .slice(0, 12);
  versions.set(r, version);
  return version;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Where a setting lives, as written in the readings file: for messages and fixes. */
export type SettingPath = string;
