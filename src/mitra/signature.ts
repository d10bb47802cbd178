import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Mitra's `sign`: base64 of the lowercase hex text of HMAC-SHA512(key = secret,
 * message = secret + WORD + PARAMS). `message` here is what follows the secret.
 */
export function mitraSign(secret: string, message: string): string {
  const hex = createHmac('sha512', secret)
    .update(secret + message, 'utf8')
    .digest('hex');
  return Buffer.from(hex, 'utf8').toString('base64');
}

export function mitraSignMatches(secret: string, message: string, given: string): boolean {
  const expected = Buffer.from(mitraSign(secret, message));
  const actual = Buffer.from(given);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

export interface OrderSignedFields {
  brand_key: string;
  variation_key: string;
  price: number;
  ref_id: string;
  timestamp: string;
}

/** What each call signs, after the secret (mitra-side §1). Numbers in plain decimal. */
export const signedMessage = {
  brands: () => 'brand',
  variations: (brandKey: string) => `variation${brandKey}`,
  order: (o: OrderSignedFields) =>
    `order${o.brand_key}${o.variation_key}${plainDecimal(o.price)}${o.ref_id}${o.timestamp}`,
  orderStatus: (tid: string) => `orderstatus${tid}`,
  /** The word is a reading (mitra.balance.word). */
  balance: (word: string) => word,
} as const;

function plainDecimal(n: number): string {
  // Never exponent notation: 1e21 would sign differently from what the server reads.
  return Number.isInteger(n) ? BigInt(n).toString() : String(n);
}
