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
 * A path or URL as it may be logged or kept: each of `secrets` found in it, in any case and under
 * any number of percent-escapes, is replaced by `[token]` (the text is then shown unescaped, so
 * that a reader sees what the path named). Text holding none is returned as it was. For a body,
 * whose every other byte must stay as sent, see textRedactor.
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

/** `text` as a pattern that matches it alone. */
const regexText = (text: string) => text.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
const hex2 = (n: number) => n.toString(16).padStart(2, '0');
const hex4 = (n: number) => n.toString(16).padStart(4, '0');

/**
 * Every spelling of one character, as a pattern: itself; percent-escaped (its UTF-8 bytes, as
 * deep as the sender likes: `%2F`, `%252F`); JSON-escaped (`\u002f`, and the short escapes `\/`,
 * `\"`, `\n`...); a space as a form's `+`. Letters and hex digits in any case (the pattern is
 * case-insensitive).
 */
function spellings(c: string): string {
  const ways = new Set([c, JSON.stringify(c).slice(1, -1)]);
  if (c === '/') ways.add('\\/');
  if (c === ' ') ways.add('+');
  ways.add([...Array(c.length).keys()].map((i) => `\\u${hex4(c.charCodeAt(i))}`).join(''));
  const patterns = [...ways].map(regexText);
  patterns.push([...Buffer.from(c, 'utf8')].map((byte) => `%(?:25)*${hex2(byte)}`).join(''));
  return `(?:${patterns.join('|')})`;
}

/**
 * Text as it may be kept (a supplier's reply, a header, a message): each of `secrets` found in it,
 * in any case, raw, percent-escaped (to any depth, character by character) or JSON-escaped, is
 * replaced by `[token]`; every other character stays as it came. A body that was JSON is JSON
 * still, and reads as it was sent but for the secrets.
 */
export function textRedactor(secrets: readonly string[]): (text: string) => string {
  const wanted = [...new Set(secrets.filter((s) => s.length > 0))].sort((a, b) => b.length - a.length);
  // One pattern per secret: an alternation of them all would be tried branch by branch at every
  // character, many times slower.
  const patterns = wanted.map((s) => new RegExp([...s].map(spellings).join(''), 'gi'));
  return (text) => patterns.reduce((t, p) => (t.length === 0 ? t : t.replace(p, '[token]')), text);
}

/** `value` with every string in it (keys too) passed through `redact`: a whole report, say. */
export function redactStrings<T>(value: T, redact: (text: string) => string): T {
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return redact(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object')
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [redact(k), walk(x)]));
    return v;
  };
  return walk(value) as T;
}
