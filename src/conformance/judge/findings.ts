/**
 * A finding as every judge writes it: the reading in force stated beside the verdict, so that a
 * report read later says what was judged.
 */
import { type Readings, settingsOf } from '../../readings/settings.js';
import type { Finding, Fix, ReadingId } from '../report.js';

type Verdict = Finding['verdict'];

/** The setting's value in force as text; the three unsettable readings say what they are. */
export function readingText(id: ReadingId, readings: Readings): string {
  if (id === 'mitra.signature')
    return 'sign = base64(hex(HMAC-SHA512(secret, secret + word + params))) (mitra-side §1)';
  if (id === 'mitra.envelope') return '{code, status, rc_code, message, data} (mitra-side §2)';
  if (id === 'mitra.forms')
    return 'forms: [{key, type: text|numeric|option, alias, options?}] (mitra-side §3)';
  let node: unknown = settingsOf(readings);
  for (const key of id.split('.')) node = (node as Record<string, unknown> | undefined)?.[key];
  return JSON.stringify(node);
}

export function finding(
  id: ReadingId,
  readings: Readings,
  verdict: Verdict,
  evidence: string[],
  why: string | null = null,
  fix: Fix | null = null,
): Finding {
  return { id, verdict, reading: readingText(id, readings), evidence, why, fix };
}
