/**
 * The `sign` of a call the run made, computed again from what its record keeps: the client keeps
 * the signature to itself (the recorded URL says `sign=[redacted]`), yet Mitra may echo it in its
 * reply ("signature <sign> invalid"), where the exchange's redaction must find it.
 */
import type { SupplierCallRecord } from '../../mitra/client.js';
import { mitraSign, signedMessage } from '../../mitra/signature.js';

/** The sign the call carried, or null when its signed message cannot be read from the record. */
export function signOfCall(call: SupplierCallRecord, secretKey: string, balanceWord: string): string | null {
  const message = signedMessageOf(call, balanceWord);
  return message === null ? null : mitraSign(secretKey, message);
}

function signedMessageOf(call: SupplierCallRecord, balanceWord: string): string | null {
  const query = URL.canParse(call.url) ? new URL(call.url).searchParams : new URLSearchParams();
  switch (call.operation) {
    case 'brands':
      return signedMessage.brands();
    case 'variations':
      return signedMessage.variations(query.get('brand_key') ?? '');
    case 'order-status':
      return signedMessage.orderStatus(query.get('tid') ?? '');
    case 'balance':
      return signedMessage.balance(balanceWord);
    case 'order': {
      try {
        const o = JSON.parse(call.requestBody ?? '') as Record<string, unknown>;
        if (typeof o.price !== 'number') return null;
        return signedMessage.order({
          brand_key: String(o.brand_key),
          variation_key: String(o.variation_key),
          price: o.price,
          ref_id: String(o.ref_id),
          timestamp: String(o.timestamp),
        });
      } catch {
        return null;
      }
    }
  }
}
