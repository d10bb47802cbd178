import { z } from 'zod';

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

export const variationSchema = z.looseObject({
  key: z.string().min(1),
  variation_name: z.string(),
  brand_name: z.string().nullish(),
  price: z.number().int().nonnegative(),
  is_active: z.boolean(),
});
export type MitraVariation = z.output<typeof variationSchema>;
export const variationsSchema = z.array(variationSchema);

export const createOrderDataSchema = z.looseObject({
  trx_code: z.string().min(1),
  transaction_status: z.union([z.string(), z.number()]).nullish(),
  selling_total: z.number().nullish(),
});
export type CreateOrderData = z.output<typeof createOrderDataSchema>;

export const orderStatusDataSchema = z.looseObject({
  code: z.string().min(1),
  ref_id: z.string().nullish(),
  // Read by interpretOrderStatus: a coerced number would turn null, "" or false into 0, a failure.
  status: z.unknown(),
  grand_total: z.number().nullish(),
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

export const balanceDataSchema = z.looseObject({ balance: z.number() });
export type BalanceData = z.output<typeof balanceDataSchema>;

export interface OrderRequest {
  brand_key: string;
  variation_key: string;
  price: number;
  ref_id: string;
  data: { key: string; value: string }[];
  timestamp: string;
}
