/**
 * The Razer side's **[reading]** choices (shared/spec/razer-side.md), in one place: what the
 * published introduction leaves open and the onboarding pack may settle otherwise.
 */

import type { Readings } from './settings.js';

/** razer.signed_content in the readings file. */
export type SignedContentMode = Readings['razer']['signed_content'];

/**
 * What the request signature covers: verb + relative URI with query + raw body (`body`, as the
 * published reference environment shows), or the documented formula without the body (`uri`).
 */
export function requestSignedContent(
  mode: SignedContentMode,
  method: string,
  uri: string,
  body: Buffer,
): Buffer {
  const head = Buffer.from(method.toUpperCase() + uri, 'utf8');
  return mode === 'body' ? Buffer.concat([head, body]) : head;
}

/** A response is signed over the request's verb and URI and the response body. */
export function responseSignedContent(method: string, uri: string, responseBody: string): Buffer {
  return Buffer.from(method.toUpperCase() + uri + responseBody, 'utf8');
}

/** Largest request body accepted. */
export const MAX_BODY_BYTES = 64 * 1024;
export const MAX_TRANSACTION_NUMBER_LENGTH = 64;
