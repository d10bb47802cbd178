import { createHmac, timingSafeEqual } from 'node:crypto';
import { requestSignedContent, responseSignedContent, type SignedContentMode } from '../readings/razer.js';

/** One api-id and the keys that verify for it (several during a key rotation; the first signs). */
export interface RazerCredential {
  apiId: string;
  keys: readonly string[];
  /** Keys taken out of rotation: never accepted, only named by a failed request's diagnosis. */
  retiredKeys?: readonly string[] | undefined;
}

const hexSignature = (key: string, content: Buffer) =>
  createHmac('sha256', key).update(content).digest('hex');
const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

/** `base64(api-id):base64(hex(HMAC-SHA256(key, content)))`. */
export function signatureHeader(apiId: string, key: string, content: Buffer): string {
  return `${b64(apiId)}:${b64(hexSignature(key, content))}`;
}

export type Verification =
  | { ok: true; apiId: string; key: string }
  | { ok: false; reason: string; credential: RazerCredential | null };

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function decodeBase64(text: string): string | null {
  if (text.length === 0 || text.length % 4 !== 0 || !BASE64.test(text)) return null;
  return Buffer.from(text, 'base64').toString('utf8');
}

/** Checks X-Razer-Signature against the raw request; constant-time on the signature. */
export function verifyRequest(
  header: string | undefined,
  credentials: readonly RazerCredential[],
  mode: SignedContentMode,
  method: string,
  uri: string,
  body: Buffer,
): Verification {
  if (!header) return { ok: false, reason: 'X-Razer-Signature header is missing', credential: null };
  const colon = header.indexOf(':');
  if (colon < 0)
    return {
      ok: false,
      reason: 'X-Razer-Signature must be base64(api-id):base64(signature)',
      credential: null,
    };
  const apiId = decodeBase64(header.slice(0, colon).trim());
  const given = decodeBase64(header.slice(colon + 1).trim());
  if (apiId === null || given === null) {
    return { ok: false, reason: 'X-Razer-Signature parts are not base64', credential: null };
  }
  const credential = credentials.find((c) => c.apiId === apiId) ?? null;
  if (!credential) return { ok: false, reason: 'unknown api-id', credential: null };
  const content = requestSignedContent(mode, method, uri, body);
  const givenBytes = Buffer.from(given.toLowerCase(), 'utf8');
  for (const key of credential.keys) {
    const expected = Buffer.from(hexSignature(key, content), 'utf8');
    if (expected.length === givenBytes.length && timingSafeEqual(expected, givenBytes))
      return { ok: true, apiId, key };
  }
  return { ok: false, reason: 'signature does not match', credential };
}

export function signResponse(
  apiId: string,
  key: string,
  method: string,
  uri: string,
  responseBody: string,
): string {
  return signatureHeader(apiId, key, responseSignedContent(method, uri, responseBody));
}

/** The X-Razer-Signature header Razer Gold would send with this request (clients, sandbox). */
export function signRequest(
  credential: { apiId: string; key: string },
  mode: SignedContentMode,
  method: string,
  uri: string,
  body: string,
): string {
  return signatureHeader(
    credential.apiId,
    credential.key,
    requestSignedContent(mode, method, uri, Buffer.from(body, 'utf8')),
  );
}
