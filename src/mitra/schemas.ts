import { z } from 'zod';
import { idrOf, noteAmount } from './amounts.js';

/** Every Mitra reply, success or error: `{code, status, rc_code, message, data}`. */
export const envelopeSchema = z.looseObject({
  code: z.coerce.number().int().optional(),
  status: z.string().optional(),
  rc_code: z.union([z.string(), z.number()]).transform((rc) => String(rc).padStart(2, '0')),
  message: z.string().nullish(),
  data: z.unknown().optional(),
});
export type Envelope = z.output<typeof envelopeSchema>;

export const formSchema = z.looseObject({
  key: z.string().min(1),
  type: z.string(),
  alias: z
    .string()
    .nullish()
    .transform((v) => v ?? undefined),
  options: z
    .array(z.string())
    .nullish()
    .transform((v) => v ?? undefined),
});

export const brandSchema = z.looseObject({
  key: z.string().min(1),
  name: z.string(),
  // Silence is kept as null: a voucher must never be taken for a top-up by default.
  is_voucher: z
    .boolean()
    .nullish()
    .transform((v) => v ?? null),
  is_active: z.boolean(),
  forms: z
    .array(formSchema)
    .nullish()
    .transform((v) => v ?? []),
});
export type MitraBrand = z.output<typeof brandSchema>;
export const brandsSchema = z.array(brandSchema);

// Amounts (a charge, a price, the balance) are read by readIdr (./amounts.ts) into whole IDR: one
// that is not a safe whole number is rounded, or taken as absent, and the reply is still read. Each
// such amount is told to noteAmount, for the client to log it with its call (collectAmountNotes).

/** A variation, its price read as whole IDR: null when unreadable (the list then leaves it out). */
const variationSchema = z
  .looseObject({
    key: z.string().min(1),
    variation_name: z.string(),
    brand_name: z.string().nullish(),
    price: z.unknown(),
    is_active: z.boolean(),
  })
  .transform(({ price, ...v }) => ({
    ...v,
    price: idrOf(`price of variation ${v.key}`, price, noteAmount, { round: 'up' }),
  }));

/**
 * A brand's variations. One whose price cannot be read as whole IDR is left out, as if Mitra did
 * not list it (init refuses it OOS; the client logs it): never the whole list, which would keep every
 * other variation's price stale.
 */
export const variationsSchema = z
  .array(variationSchema)
  .transform((list) => list.filter((v): v is typeof v & { price: number } => v.price !== null));
export type MitraVariation = z.output<typeof variationsSchema>[number];

/**
 * A create-order reply's data. `selling_total`, the charge, in whole IDR: null when Mitra says
 * nothing or sends what cannot be read (the cost is then the order's price).
 */
export const createOrderDataSchema = z.looseObject({
  trx_code: z.string().min(1),
  transaction_status: z.union([z.string(), z.number()]).nullish(),
  selling_total: z
    .unknown()
    .transform((v) => idrOf('selling_total', v, noteAmount))
    .optional(),
});
export type CreateOrderData = z.output<typeof createOrderDataSchema>;

/** An order status's data. `grand_total` in whole IDR, as `selling_total` is read. */
export const orderStatusDataSchema = z.looseObject({
  code: z.string().min(1),
  ref_id: z.string().nullish(),
  // Read by interpretOrderStatus: a coerced number would turn null, "" or false into 0, a failure.
  status: z.unknown(),
  grand_total: z
    .unknown()
    .transform((v) => idrOf('grand_total', v, noteAmount))
    .optional(),
  detail: z
    .looseObject({
      variation_key: z.string().nullish(),
      voucher_code: z.string().nullish(),
      sn: z.string().nullish(),
    })
    .nullish(),
  history_status: z
    .array(z.looseObject({ status_name: z.string(), timestamp: z.unknown().optional() }))
    .nullish(),
  sn: z.string().nullish(),
});
export type OrderStatusData = z.output<typeof orderStatusDataSchema>;

/**
 * A balance reply's data, the balance in whole IDR (below zero too: an overdrawn account). One that
 * cannot be read makes no reading: the reply is unreadable, and the last balance read stays.
 */
export const balanceDataSchema = z.looseObject({ balance: z.unknown() }).transform((d, ctx) => {
  const balance = idrOf('balance', d.balance, noteAmount, { negative: true });
  if (balance === null) {
    ctx.issues.push({ code: 'custom', message: 'balance: no amount in whole IDR', input: d.balance });
    return z.NEVER;
  }
  return { ...d, balance };
});
export type BalanceData = z.output<typeof balanceDataSchema>;

export interface OrderRequest {
  brand_key: string;
  variation_key: string;
  price: number;
  ref_id: string;
  data: { key: string; value: string }[];
  timestamp: string;
}
