import { createHash, timingSafeEqual } from 'node:crypto';

/** Compares two secrets in time independent of where they differ (and of their lengths). */
export const sameSecret = (a: string, b: string): boolean =>
  timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());

/** ASCII letters lowered, nothing else: the text keeps its length, so indexes found in it hold in the original. */
const asciiLower = (text: string) => text.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));

/** Percent-escapes undone until none is left to undo (`%2541` is `%41` is `A`): a secret cannot hide in them. */
function unescaped(text: string): string {
  let out = text;
  // Each round that changes the text shortens it: bounded by its length.
  for (let round = 0; round < 64 && out.includes('%'); round++) {
    const next = out.replace(/%([0-9a-f]{2})/gi, (_, hex: string) =>
      String.fromCharCode(Number.parseInt(hex, 16)),
    );
    if (next === out) break;
    out = next;
  }
  return out;
}

/** Every occurrence of `secret` (already ASCII-lowered) in `text`, in any ASCII case, replaced by `[token]`. */
function withoutSecret(text: string, secret: string): string {
  const lower = asciiLower(text);
  let at = lower.indexOf(secret);
  if (at < 0) return text;
  let out = '';
  let from = 0;
  while (at >= 0) {
    out += `${text.slice(from, at)}[token]`;
    from = at + secret.length;
    at = lower.indexOf(secret, from);
  }
  return out + text.slice(from);
}

/**
 * Text as it may be logged or kept: each of `secrets` found in it, in any case and under any
 * number of percent-escapes, is replaced by `[token]` (the text is then shown unescaped).
 * Text holding none is returned as it was.
 */
export function secretRedactor(secrets: readonly string[]): (text: string) => string {
  const lowered = secrets.filter((s) => s.length > 0).map(asciiLower);
  return (text) => {
    if (lowered.length === 0) return text;
    const plain = unescaped(text);
    const redacted = lowered.reduce(withoutSecret, plain);
    return redacted === plain ? text : redacted;
  };
}
