/**
 * How a call's outcome and reply are kept in the report's records: the rc and HTTP status as
 * read, and the envelope as Mitra wrote it (the search looks at the reply, not the parse).
 */
import type { MitraOutcome } from '../../mitra/outcome.js';
import { envelopeSchema } from '../../mitra/schemas.js';
import type { BalanceProbe } from '../report.js';

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
