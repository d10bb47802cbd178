import { type core, z } from 'zod';
import { MAX_TRANSACTION_NUMBER_LENGTH } from '../readings/razer.js';

/** Control characters (NUL among them, which PostgreSQL cannot store) are never part of Razer's data. */
const hasControl = (v: string): boolean => {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
};

const text = (name: string, max: number) =>
  z
    .string({
      error: (iss) => (iss.input === undefined ? `'${name}' is required.` : `'${name}' must be a string.`),
    })
    .max(max, { error: `'${name}' is longer than ${max} characters.` })
    .refine((v) => !hasControl(v), { error: `'${name}' must not contain control characters.` });

const required = (name: string, max: number) => text(name, max).min(1, { error: `'${name}' is required.` });

/** Visible ASCII without / ? # % so that the number is also a safe URL path segment. */
export const transactionNumberSchema = required('transactionNumber', MAX_TRANSACTION_NUMBER_LENGTH)
  .regex(/^[!-~]+$/, { error: "'transactionNumber' must be visible ASCII characters." })
  .refine((n) => !/[/?#%]/.test(n), { error: "'transactionNumber' must not contain / ? # or %." })
  // As a path segment, `.` and `..` are not themselves (GET /transaction/.. is another path).
  .refine((n) => n !== '.' && n !== '..', { error: "'transactionNumber' must not be . or ..." });

const customParam = z
  .record(
    z
      .string()
      .max(64)
      .refine((k) => !hasControl(k), { error: "'customParam' keys must not contain control characters." }),
    z
      .string({ error: "'customParam' values must be strings." })
      .max(256)
      .refine((v) => !hasControl(v), {
        error: "'customParam' values must not contain control characters.",
      }),
    {
      error: "'customParam' must be an object of string values.",
    },
  )
  .refine((o) => Object.keys(o).length <= 32, { error: "'customParam' has more than 32 entries." })
  .optional();

export const initSchema = z.object({
  transactionNumber: transactionNumberSchema,
  sku: required('sku', 64),
  razerId: text('razerId', 128),
  accountId: required('accountId', 128),
  userIpAddress: text('userIpAddress', 64),
  userCountryCode: text('userCountryCode', 8),
  customParam,
});
export type InitBody = z.output<typeof initSchema>;

export const topupSchema = z.object({
  transactionNumber: transactionNumberSchema,
  transactionToken: required('transactionToken', 256),
});

export const cancelSchema = z.object({
  transactionNumber: transactionNumberSchema,
  transactionToken: text('transactionToken', 256).optional(),
});

export const validateSchema = z.object({
  sku: required('sku', 64),
  accountId: required('accountId', 128),
  customParam,
  userCountryCode: text('userCountryCode', 8).optional(),
});

/** The first problem, worded like the published example: `'transactionNumber' is required.` */
export function firstProblem(error: z.ZodError): string {
  const issue: core.$ZodIssue | undefined = error.issues[0];
  if (!issue) return 'invalid request';
  if (issue.code === 'invalid_type' && issue.path.length === 0) return 'the body must be a JSON object.';
  return issue.message;
}
