import { createHmac, timingSafeEqual } from 'node:crypto';
import { requestSignedContent, type SignedContentMode } from '../readings/razer.js';
import type { RazerCredential } from './signature.js';

/**
 * Onboarding diagnostics (issue 23 §4): for a Razer request that failed verification, which
 * other reading of razer-side §1 would have verified it. Advice only: nothing here accepts a
 * request. Pure apart from the HMACs, whose number is bounded (MAX_DIAGNOSIS_HMACS).
 */

/** Every alternative reading tried, with a stable id (logged, shown by the console). */
export const ALTERNATIVE_IDS = [
  'signed-content-uri',
  'signed-content-body',
  'uri-without-query',
  'uri-decoded',
  'body-trailing-newline',
  'body-without-trailing-newline',
  'method-lower-case',
  'other-api-id-key',
  'retired-key',
  'api-id-not-configured',
  'api-id-not-base64',
  'hex-not-base64',
  'base64-raw-digest',
  'header-base64-whole',
] as const;
export type AlternativeId = (typeof ALTERNATIVE_IDS)[number];

export interface FailedRequest {
  /** X-Razer-Signature as received. */
  header: string | undefined;
  credentials: readonly RazerCredential[];
  /** The signed-content mode the request was verified with. */
  mode: SignedContentMode;
  method: string;
  /** The raw request target (path and query) as received. */
  uri: string;
  /** The raw body as received (at most MAX_BODY_BYTES: the body limit ran first). */
  body: Buffer;
}

export interface Finding {
  id: AlternativeId;
  /** One line: what Razer does and the exact fix. Names api-ids, never a key. */
  text: string;
}

export type Diagnosis =
  /** One reading verified; when it took several departures, each is listed (fix them all). */
  | { outcome: 'matched'; findings: readonly Finding[] }
  | { outcome: 'unmatched'; reason: string }
  | { outcome: 'skipped'; reason: string };

export type Hmac = (key: string, content: Buffer) => Buffer;
const hmacSha256: Hmac = (key, content) => createHmac('sha256', key).update(content).digest();

/** At most this many HMACs per diagnosis, whatever the configuration's number of keys. */
export const MAX_DIAGNOSIS_HMACS = 32;
const MAX_SHOWN_API_ID = 64;

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const HEX64 = /^[0-9a-fA-F]{64}$/;

function base64Bytes(text: string): Buffer | null {
  if (text.length === 0 || text.length % 4 !== 0 || !BASE64.test(text)) return null;
  return Buffer.from(text, 'base64');
}
const base64Text = (text: string) => base64Bytes(text)?.toString('utf8') ?? null;

/** An api-id as it may be shown: sender-chosen text, so printable ASCII and cut. */
export function shownApiId(apiId: string): string {
  return apiId.replace(/[^\x20-\x7e]/g, '?').slice(0, MAX_SHOWN_API_ID);
}

/** The api-id the header claims (base64-decoded as §1 says), for the record; null if unreadable. */
export function claimedApiId(header: string | undefined): string | null {
  const colon = header?.indexOf(':') ?? -1;
  if (!header || colon < 0) return null;
  const apiId = base64Text(header.slice(0, colon).trim());
  return apiId === null ? null : shownApiId(apiId);
}

/**
 * The case of the hex text in a header that verified. Verification accepts either case (§1
 * says lower), so upper case never fails: it is reported with the first verified request.
 */
export function signatureHexCase(header: string): 'lower' | 'upper' | 'mixed' | null {
  const colon = header.indexOf(':');
  const hex = colon < 0 ? null : base64Text(header.slice(colon + 1).trim());
  if (hex === null || !HEX64.test(hex)) return null;
  if (hex === hex.toLowerCase()) return 'lower';
  return hex === hex.toUpperCase() ? 'upper' : 'mixed';
}

/** A way of reading the header: the api-id it names and the digests it may carry. */
interface HeaderReading {
  apiId: string;
  ids: AlternativeId[];
  digests: { ids: AlternativeId[]; bytes: Buffer }[];
}

/** The signature part's possible digests: base64 of hex (§1), bare hex, base64 of the raw digest. */
function digestsOf(part: string): HeaderReading['digests'] {
  const digests: HeaderReading['digests'] = [];
  const text = base64Text(part);
  if (text !== null && HEX64.test(text)) digests.push({ ids: [], bytes: Buffer.from(text, 'hex') });
  const raw = base64Bytes(part);
  if (raw !== null && raw.length === 32) digests.push({ ids: ['base64-raw-digest'], bytes: raw });
  if (HEX64.test(part)) digests.push({ ids: ['hex-not-base64'], bytes: Buffer.from(part, 'hex') });
  return digests;
}

function headerReadings(header: string, configured: ReadonlySet<string>): HeaderReading[] {
  const readings: HeaderReading[] = [];
  const colon = header.indexOf(':');
  if (colon >= 0) {
    const idPart = header.slice(0, colon).trim();
    const digests = digestsOf(header.slice(colon + 1).trim());
    const apiId = base64Text(idPart);
    if (apiId !== null) readings.push({ apiId, ids: [], digests });
    // Bare text only when it names a configured api-id: any other text explains nothing.
    if (apiId !== idPart && configured.has(idPart))
      readings.push({ apiId: idPart, ids: ['api-id-not-base64'], digests });
  }
  // base64("api-id:hex") as one piece.
  const whole = base64Text(header.trim());
  const inner = whole?.indexOf(':') ?? -1;
  if (whole && inner > 0) {
    const hex = whole.slice(inner + 1);
    if (HEX64.test(hex))
      readings.push({
        apiId: whole.slice(0, inner),
        ids: ['header-base64-whole'],
        digests: [{ ids: [], bytes: Buffer.from(hex, 'hex') }],
      });
  }
  return readings;
}

/** Keys to try for a reading: its own api-id's first, then what a mix-up would use. */
interface KeySet {
  ids: AlternativeId[];
  apiId: string;
  keys: readonly string[];
}

function keySets(apiId: string, credentials: readonly RazerCredential[]): KeySet[] {
  const own = credentials.find((c) => c.apiId === apiId);
  if (!own) return credentials.map((c) => ({ ids: ['api-id-not-configured'], apiId: c.apiId, keys: c.keys }));
  return [
    { ids: [], apiId, keys: own.keys },
    { ids: ['retired-key'], apiId, keys: own.retiredKeys ?? [] },
    ...credentials
      .filter((c) => c !== own)
      .map((c): KeySet => ({ ids: ['other-api-id-key'], apiId: c.apiId, keys: c.keys })),
  ];
}

interface Content {
  ids: AlternativeId[];
  bytes: Buffer;
}

/** What might have been signed: the configured reading first, then each single departure. */
function contents(r: FailedRequest): Content[] {
  const signed = (mode: SignedContentMode, uri: string, body: Buffer) =>
    requestSignedContent(mode, r.method, uri, body);
  const normal = signed(r.mode, r.uri, r.body);
  const list: Content[] = [{ ids: [], bytes: normal }];
  const add = (id: AlternativeId, bytes: Buffer) => {
    // Identical text verifies (or not) identically: no departure to report, no HMAC to spend.
    if (!list.some((c) => c.bytes.equals(bytes))) list.push({ ids: [id], bytes });
  };
  add(
    r.mode === 'body' ? 'signed-content-uri' : 'signed-content-body',
    signed(r.mode === 'body' ? 'uri' : 'body', r.uri, r.body),
  );
  const query = r.uri.indexOf('?');
  const path = query < 0 ? r.uri : r.uri.slice(0, query);
  if (query >= 0) add('uri-without-query', signed(r.mode, path, r.body));
  const decoded = percentDecoded(path);
  if (decoded !== null) add('uri-decoded', signed(r.mode, decoded + r.uri.slice(path.length), r.body));
  if (r.mode === 'body' && r.method.toUpperCase() === 'POST') {
    add('body-trailing-newline', signed('body', r.uri, Buffer.concat([r.body, Buffer.from('\n')])));
    const cut = trailingNewline(r.body);
    if (cut > 0) add('body-without-trailing-newline', signed('body', r.uri, r.body.subarray(0, -cut)));
  }
  // The reading puts the verb first in upper case; the same text with it in lower case.
  const lower = Buffer.from(normal);
  lower.write(r.method.toLowerCase(), 0, 'latin1');
  add('method-lower-case', lower);
  return list;
}

function percentDecoded(path: string): string | null {
  if (!path.includes('%')) return null;
  try {
    return decodeURIComponent(path);
  } catch {
    return null;
  }
}

const trailingNewline = (body: Buffer) =>
  body.at(-1) !== 0x0a ? 0 : body.length >= 2 && body.at(-2) === 0x0d ? 2 : 1;

/** The one-line fix for a departure. */
function findingText(id: AlternativeId, reading: { claimed: string; keyApiId: string }): string {
  const claimed = shownApiId(reading.claimed);
  const keyOf = shownApiId(reading.keyApiId);
  switch (id) {
    case 'signed-content-uri':
      return 'Razer signs without the body (verb + URI): set razer.signed_content: uri in the readings file (bodies are then unsigned: confirm with Razer first)';
    case 'signed-content-body':
      return 'Razer signs the body too (verb + URI + body): set razer.signed_content: body in the readings file';
    case 'uri-without-query':
      return 'Razer signs the path without its query string: ask Razer (§1 signs the URI with its query, as received)';
    case 'uri-decoded':
      return 'Razer signs the percent-decoded path, not the target it sends: ask Razer to sign the URI exactly as sent';
    case 'body-trailing-newline':
      return 'Razer signs the body with a trailing newline that is not sent: ask Razer to sign the exact bytes it sends';
    case 'body-without-trailing-newline':
      return 'Razer signs the body without the trailing newline it sends (or a proxy adds one): ask Razer to sign the exact bytes sent';
    case 'method-lower-case':
      return "Razer's client is wrong: it signs the verb in lower case (§1: upper case); ask Razer";
    case 'other-api-id-key':
      return `Razer signs with the key of api-id ${keyOf} while sending api-id ${claimed}: ask Razer which api-id it means, or check which api-id each configured key belongs to`;
    case 'retired-key':
      return `Razer still signs with a retired key of api-id ${keyOf}: ask Razer to switch to the current key. Never accept a retired key again: keys are retired because they may have leaked, and whoever holds it can send this`;
    case 'api-id-not-configured':
      return `Razer sends api-id ${claimed}, which is not configured, but signs with the key of api-id ${keyOf}: set RAZER_API_ID to ${claimed} if that is Razer's api-id for this publisher`;
    case 'api-id-not-base64':
      return "Razer's client is wrong: it sends the api-id as plain text, not base64; ask Razer";
    case 'hex-not-base64':
      return "Razer's client is wrong: it sends the hex signature without base64; ask Razer";
    case 'base64-raw-digest':
      return "Razer's client is wrong: it base64-encodes the raw digest, not its hex text; ask Razer";
    case 'header-base64-whole':
      return "Razer's client is wrong: it base64-encodes 'api-id:hex' as one piece, not each part; ask Razer";
  }
}

/** Why nothing matched: the most likely cause for the way the header failed. */
function unmatchedReason(
  header: string,
  readings: readonly HeaderReading[],
  credentials: readonly RazerCredential[],
  cut: boolean,
): string {
  const within = cut ? ` (stopped after ${MAX_DIAGNOSIS_HMACS} tries)` : '';
  if (readings.length === 0)
    return `the header is not base64(api-id):base64(hex), nor a known misspelling of it${within}: ask Razer for its exact header`;
  if (readings.every((r) => r.digests.length === 0))
    return `the signature part is neither base64 of 64 hex characters, nor bare hex, nor a base64 raw digest${within}: ask Razer how it encodes the signature`;
  const claimed = claimedApiId(header);
  if (claimed !== null && !credentials.some((c) => c.apiId === claimed))
    return `api-id ${claimed} is not configured and no configured key verifies${within}: wrong api-id and key?`;
  return `no known alternative verifies${within}: wrong key? (RAZER_API_KEY, RAZER_API_KEY_PREVIOUS), or the request was changed on the way`;
}

/**
 * Which other reading would have verified this failed request. Tries a fixed list of single
 * departures from §1 (and what they cost no HMAC to combine with: the header's spellings), at
 * most MAX_DIAGNOSIS_HMACS HMACs. Never returns a key or a digest.
 */
export function diagnose(r: FailedRequest, hmac: Hmac = hmacSha256): Diagnosis {
  if (!r.header)
    return {
      outcome: 'unmatched',
      reason: 'no X-Razer-Signature header: Razer sent none, or a proxy dropped it',
    };
  const configured = new Set(r.credentials.map((c) => c.apiId));
  const readings = headerReadings(r.header, configured);
  const texts = contents(r);
  // By key and text: a key met again under another reading of the header costs no new HMAC.
  const computed = new Map<string, Buffer>();
  let spent = 0;
  let cut = false;
  const findings: Finding[] = [];

  for (const reading of readings) {
    if (reading.digests.length === 0) continue;
    for (const set of keySets(reading.apiId, r.credentials)) {
      for (const key of set.keys) {
        for (const [contentIndex, content] of texts.entries()) {
          const ids = [...reading.ids, ...set.ids, ...content.ids];
          // Only the spellings of the header combine with other departures: two real mistakes
          // at once are left to a human, and their tries to no one.
          if (set.ids.length + content.ids.length > 1) continue;
          const slot = `${contentIndex}\u0000${key}`;
          let digest = computed.get(slot);
          if (!digest) {
            if (spent >= MAX_DIAGNOSIS_HMACS) {
              cut = true;
              continue;
            }
            spent++;
            digest = hmac(key, content.bytes);
            computed.set(slot, digest);
          }
          for (const given of reading.digests) {
            if (given.bytes.length !== digest.length || !timingSafeEqual(given.bytes, digest)) continue;
            for (const id of [...ids, ...given.ids]) {
              if (!findings.some((f) => f.id === id))
                findings.push({ id, text: findingText(id, { claimed: reading.apiId, keyApiId: set.apiId }) });
            }
          }
        }
      }
    }
  }
  if (findings.length > 0) return { outcome: 'matched', findings };
  return { outcome: 'unmatched', reason: unmatchedReason(r.header, readings, r.credentials, cut) };
}

export const RATE_BOUND_SKIP: Diagnosis = { outcome: 'skipped', reason: 'diagnosis skipped: rate bound' };
