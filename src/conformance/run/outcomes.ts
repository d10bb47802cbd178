/**
 * How a call's outcome and reply are kept in the report's records: the rc and HTTP status as
 * read, and the envelope as Mitra wrote it (the search looks at the reply, not the parse).
 */
import type { MitraOutcome } from '../../mitra/outcome.js';
import { envelopeSchema } from '../../mitra/schemas.js';
import type { BalanceProbe, OrderRecord } from '../report.js';

/** rc, HTTP status and kind of an outcome, as the records keep them. */
export function outcomeFields(r: MitraOutcome<unknown>): {
  outcome: string;
  rc: string | null;
  httpStatus: number | null;
} {
  if (r.kind === 'accepted') return { outcome: r.kind, rc: '00', httpStatus: r.httpStatus };
  return { outcome: r.kind, rc: r.rc === '' ? null : r.rc, httpStatus: r.httpStatus || null };
}

export function probe(
  path: string,
  word: string,
  configured: boolean,
  r: MitraOutcome<unknown>,
): BalanceProbe {
  return {
    path,
    word,
    configured,
    ...outcomeFields(r),
    status: r.kind === 'refused' ? r.status || null : null,
  };
}

export function envelopeOf(reply: string | null) {
  if (reply === null) return null;
  try {
    const env = envelopeSchema.safeParse(JSON.parse(reply));
    return env.success ? env.data : null;
  } catch {
    return null;
  }
}

/**
 * A create-order whose answer leaves open whether Mitra took (and charged) it: ambiguous (a lost
 * reply, a 5xx, an rc nobody knows) or exists (rc 23/26 for a ref_id of ours). The duplicate
 * scenario's "exists" is what it asks for: its ref_id is the top-up's, already followed.
 */
export const needsLookup = (o: Pick<OrderRecord, 'scenario' | 'create'>): boolean =>
  o.scenario !== 'duplicate-ref-id' && (o.create.outcome === 'ambiguous' || o.create.outcome === 'exists');

/** What the lookup by ref_id said, as the order keeps it (createLookup). */
export function lookupRecord(
  r: MitraOutcome<{ code: string; ref_id?: string | null | undefined }> | null,
  refId: string,
): NonNullable<OrderRecord['createLookup']> {
  if (r === null)
    return {
      outcome: 'not asked',
      rc: null,
      httpStatus: null,
      trxCode: null,
      note: 'not asked: the ref_id is empty, so no lookup can name it',
    };
  // An answer for another ref_id is not this order (a Mitra that ignores tid would answer so).
  const other = r.kind === 'accepted' && r.data.ref_id != null && r.data.ref_id !== refId;
  return {
    ...outcomeFields(r),
    trxCode: r.kind === 'accepted' && !other ? r.data.code : null,
    note: other ? `an order of another ref_id (${JSON.stringify(r.data.ref_id)}) answered` : null,
  };
}
