import type { z } from 'zod';
import { DEFAULT_READINGS, type Readings } from '../readings/settings.js';
import { envelopeSchema } from './schemas.js';

/**
 * What one call to Mitra came to. The fulfilment engine decides from these alone:
 * - accepted: rc 00, data parsed;
 * - refused: Mitra certainly did not act (the order was certainly not created);
 * - exists: create-order only, rc 23 or 26 (an order with this ref_id may already exist);
 * - retryable: certainly not processed, try later (rate limited, or never connected);
 * - ambiguous: the call may or may not have taken effect (timeout, reset, 5xx, rc 50,
 *   an unknown rc, an unreadable reply).
 */
export type MitraOutcome<T> =
  | { kind: 'accepted'; data: T; httpStatus: number }
  | { kind: 'refused'; rc: string; status: string; message: string; httpStatus: number }
  | { kind: 'exists'; rc: string; message: string; httpStatus: number }
  | {
      kind: 'retryable';
      reason: string;
      rc: string | null;
      httpStatus: number | null;
      retryAfterMs: number | null;
    }
  | { kind: 'ambiguous'; reason: string; rc: string | null; httpStatus: number | null };

export type OutcomeKind = MitraOutcome<unknown>['kind'];

/**
 * Classifies an HTTP reply. Pure; `isOrder` enables the may-exist class (mitra.rc.may_exist). The
 * rc decides, whatever HTTP status carries it: an rc 23 in a 409 is still rc 23.
 */
export function classifyReply<S extends z.ZodType>(
  reply: { status: number; body: string; retryAfter: string | null },
  dataSchema: S,
  isOrder: boolean,
  nowMs: number,
  readings: Readings = DEFAULT_READINGS,
): MitraOutcome<z.output<S>> {
  const { refused, may_exist: mayExist } = readings.mitra.rc;
  const { status } = reply;
  const retryAfterMs = parseRetryAfter(reply.retryAfter, nowMs);
  if (status === 429)
    return {
      kind: 'retryable',
      reason: 'rate limited (HTTP 429)',
      rc: '45',
      httpStatus: status,
      retryAfterMs,
    };

  let json: unknown;
  try {
    json = JSON.parse(reply.body);
  } catch {
    return {
      kind: 'ambiguous',
      reason: `unreadable reply (HTTP ${status}, not JSON)`,
      rc: null,
      httpStatus: status,
    };
  }
  const envelope = envelopeSchema.safeParse(json);
  if (!envelope.success) {
    return {
      kind: 'ambiguous',
      reason: `unreadable reply (HTTP ${status}, no rc_code)`,
      rc: null,
      httpStatus: status,
    };
  }
  const { rc_code: rc, message, status: statusText } = envelope.data;
  const text = message ?? '';
  if (rc === '45')
    return {
      kind: 'retryable',
      reason: `rate limited (rc 45): ${text}`,
      rc,
      httpStatus: status,
      retryAfterMs,
    };
  if (mayExist.includes(rc) && isOrder) return { kind: 'exists', rc, message: text, httpStatus: status };
  if (status >= 500 || rc === '50') {
    return {
      kind: 'ambiguous',
      reason: `server error (HTTP ${status}, rc ${rc}): ${text}`,
      rc,
      httpStatus: status,
    };
  }
  if (refused.includes(rc) || (mayExist.includes(rc) && !isOrder)) {
    return { kind: 'refused', rc, status: statusText ?? '', message: text, httpStatus: status };
  }
  if (rc === '00' && status >= 200 && status < 300) {
    const data = dataSchema.safeParse(envelope.data.data);
    if (data.success) return { kind: 'accepted', data: data.data, httpStatus: status };
    return {
      kind: 'ambiguous',
      reason: `unreadable data in a success reply: ${data.error.issues[0]?.message}`,
      rc,
      httpStatus: status,
    };
  }
  return {
    kind: 'ambiguous',
    reason: `unexpected reply (HTTP ${status}, rc ${rc}): ${text}`,
    rc,
    httpStatus: status,
  };
}

/** Retry-After in seconds or as an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(value: string | null, nowMs: number): number | null {
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - nowMs);
}

/**
 * A thrown HTTP client error: never connected (certainly not sent) or lost mid-way (ambiguous).
 * undici's request puts the system code on the error, fetch on its cause; both are read.
 */
export function classifyNetworkError(err: unknown): MitraOutcome<never> {
  const e = err as {
    name?: string;
    message?: string;
    code?: unknown;
    cause?: { code?: string; message?: string };
  };
  // A DOMException's code is a number (a timeout's is 23): only a string names a system error.
  const code = (typeof e.code === 'string' ? e.code : e.cause?.code) ?? '';
  if (e.name === 'TimeoutError' || e.name === 'AbortError') {
    return { kind: 'ambiguous', reason: 'timed out waiting for the reply', rc: null, httpStatus: null };
  }
  if (['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH'].includes(code)) {
    return {
      kind: 'retryable',
      reason: `could not connect (${code})`,
      rc: null,
      httpStatus: null,
      retryAfterMs: null,
    };
  }
  return {
    kind: 'ambiguous',
    reason: `connection lost (${code || e.cause?.message || e.message || 'unknown error'})`,
    rc: null,
    httpStatus: null,
  };
}
