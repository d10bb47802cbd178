import { signatureHeader } from '../../src/razer/signature.js';
import { responseSignedContent } from '../../src/readings/razer.js';
import type { Snapshot } from './harness.js';
import type { RawRequest, RawResponse } from './http.js';

/**
 * The oracles, as pure functions of what was sent and what came back: each returns a problem
 * (a sentence) or null. They restate the README's and the specs' rules, not the code's.
 */

/** Never a 5xx, but for the 503s a route documents (`/readyz`: not ready). */
export function serverError(res: RawResponse, documented503 = false): string | null {
  if (res.status < 500) return null;
  if (res.status === 503 && documented503) return null;
  return `answered ${res.status}: ${res.text.slice(0, 300)}`;
}

/**
 * Every 4xx says why: a JSON `{code, message}`, or a non-empty page or text. HEAD has no body;
 * Razer's 408 is not a refusal but "pending" (`{transactionNumber, status}`).
 */
export function missingReason(req: RawRequest, res: RawResponse): string | null {
  if (res.status < 400 || res.status >= 500 || res.status === 408 || req.method === 'HEAD') return null;
  const type = res.headers.get('content-type') ?? '';
  if (/json/i.test(type)) {
    const body = parseObject(res.text);
    const message = body?.message;
    if (typeof message !== 'string' || message.trim() === '' || typeof body?.code !== 'string')
      return `${res.status} without a {code, message} reason: ${res.text.slice(0, 200)}`;
    return null;
  }
  return res.text.trim() === '' ? `${res.status} with an empty body` : null;
}

export function parseObject(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

/** Nothing changed: the state (and, when asked, the records of what was asked) as before. */
export function changed(before: Snapshot, after: Snapshot, audit: boolean): string | null {
  if (after.state !== before.state) return `the state changed: ${before.state} -> ${after.state}`;
  if (audit && after.audit !== before.audit) return `a record was stored: ${before.audit} -> ${after.audit}`;
  return null;
}

/** An answer to Razer carries a signature over verb + raw target + body, made with `key`. */
export function unsigned(
  req: RawRequest,
  res: RawResponse,
  credential: { apiId: string; key: string },
): string | null {
  const expected = signatureHeader(
    credential.apiId,
    credential.key,
    responseSignedContent(req.method, req.target, res.text),
  );
  const given = res.headers.get('x-razer-signature');
  return given === expected ? null : `answer ${res.status} not signed with the verifying key (got ${given})`;
}

/** Codes of a 400 that say the request was refused, not that a transaction ended: nothing may change. */
export const REFUSAL_CODES = new Set([
  'INVALID_DATA',
  'INAVLID_SKU',
  'UNSUPPORTED_COUNTRY',
  'INVALID_ACCT',
  'EXCEED_LIMIT',
  'ORIGIN_NOT_FOUND',
  'NOT_ALLOW_CANCEL',
  'INVALID_TRANS_TOKEN',
]);

/**
 * Invariant 2: once a 200 or a 400 about a transaction was given (top-up, query), every later
 * answer about it agrees. A 400 that refuses the request itself (bad body, wrong token,
 * unknown number) is not about the transaction.
 */
export class AnswerLedger {
  readonly #final = new Map<string, string>();

  observe(transactionNumber: string, status: number, body: Record<string, unknown> | null): string | null {
    let answer: string | null = null;
    if (status === 200 && body?.status === 'SUCCESS') answer = `200 SUCCESS ${String(body.referenceId)}`;
    else if (status === 400 && typeof body?.code === 'string' && !REFUSAL_CODES.has(body.code))
      answer = `400 ${body.code}`;
    else if (status === 408) answer = '408';
    else return null;
    const first = this.#final.get(transactionNumber);
    if (first !== undefined && first !== answer)
      return `${transactionNumber} was answered ${first}, now ${answer}: a contradiction`;
    if (answer !== '408') this.#final.set(transactionNumber, answer);
    return null;
  }
}

/** The webhook's source as the README says it is read: with TRUST_PROXY=n, the n-th from the right. */
export function webhookSource(req: RawRequest, trustProxy: number): string {
  const forwarded = req.headers
    .filter(([name]) => name.toLowerCase() === 'x-forwarded-for')
    .map(([, value]) => value.trim())
    .join(', ');
  const entries = forwarded === '' ? [] : forwarded.split(',');
  const chosen = trustProxy > 0 ? entries[entries.length - trustProxy]?.trim() : undefined;
  const ip = chosen || req.remoteAddress;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)?.[1];
  return mapped ?? ip.toLowerCase();
}

/** `Authorization: Bearer <token>`, exactly one such header (the scheme's case aside). */
export function bearerAuthorised(req: RawRequest, token: string): boolean {
  const values = req.headers.filter(([name]) => name.toLowerCase() === 'authorization').map(([, v]) => v);
  return values.length === 1 && /^Bearer (\S+)$/i.exec(values[0]?.trim() ?? '')?.[1] === token;
}
