import { isIPv6 } from 'node:net';

/**
 * What one source address may have stored of webhooks per window: rows and bytes. Whoever holds
 * the webhook token and posts from an allowed address could otherwise fill the database (every
 * webhook is stored before it is read, and kept for the retention period).
 *
 * Counted in memory, per instance: with N instances behind a balancer a source may store up to
 * N times the cap. That is still a bound, and no database write is spent counting a flood.
 */
export interface WebhookCapSettings {
  /** Webhooks stored per source per window. */
  rows: number;
  /** Bytes stored (body and headers) per source per window. */
  bytes: number;
  windowMs: number;
}

export interface WebhookCapOptions extends WebhookCapSettings {
  now: () => number;
  /**
   * Sources counted each on their own. Beyond this many at once (only when MITRA_WEBHOOK_ALLOW_IPS
   * is `*` can there be more than a handful), new sources share one window, OTHER_SOURCES: memory
   * stays bounded, and so does what a sender of many addresses can store (this many + 1 caps).
   */
  maxSources?: number;
  /** A window ended (seen at the next call): for a line about the refusals it counted. */
  onWindowEnd?: (ended: WindowSummary) => void;
}

export interface WindowSummary {
  source: string;
  rows: number;
  bytes: number;
  refused: number;
}

/** What the cap says of one more webhook. `first`: the source's first refusal of this window. */
export type CapVerdict =
  | { ok: true }
  | { ok: false; source: string; over: 'rows' | 'bytes'; retryAfterMs: number; first: boolean };

/** The shared window of the sources past `maxSources`. Never an address. */
export const OTHER_SOURCES = 'other sources';

// Mitra posts from two addresses; room for a changed set, a proxy's, an operator's own tests.
const DEFAULT_MAX_SOURCES = 32;

interface Window {
  start: number;
  rows: number;
  bytes: number;
  refused: number;
  /** Set at the first refusal: the source stays refused until its window ends. */
  over: 'rows' | 'bytes' | null;
}

/**
 * Fixed windows, one per source, opened by its first webhook. Once a source is refused it stays
 * refused until its window ends: a flood's bodies are then not even read, and Retry-After is true.
 */
export class WebhookCap {
  readonly #o: Required<Omit<WebhookCapOptions, 'onWindowEnd'>>;
  readonly #onWindowEnd: ((ended: WindowSummary) => void) | undefined;
  // Insertion order is opening order (an ended window is deleted before its source opens a new
  // one), so the windows that ended are always at the front.
  readonly #windows = new Map<string, Window>();

  constructor(options: WebhookCapOptions) {
    const { onWindowEnd, ...rest } = options;
    this.#o = { maxSources: DEFAULT_MAX_SOURCES, ...rest };
    this.#onWindowEnd = onWindowEnd;
  }

  /** Before the body is read: refused when the source's rows or bytes are used up already. */
  check(source: string): CapVerdict {
    const now = this.#o.now();
    const [key, window] = this.#find(source, now);
    if (!window) return { ok: true };
    if (window.over) return this.#refuse(key, window, window.over, now);
    if (window.rows >= this.#o.rows) return this.#refuse(key, window, 'rows', now);
    if (window.bytes >= this.#o.bytes) return this.#refuse(key, window, 'bytes', now);
    return { ok: true };
  }

  /** One webhook of `bytes` to store: counted when it fits, else refused (and nothing counted). */
  take(source: string, bytes: number): CapVerdict {
    const now = this.#o.now();
    const [key, found] = this.#find(source, now);
    const window = found ?? this.#open(key, now);
    if (window.over) return this.#refuse(key, window, window.over, now);
    if (window.rows + 1 > this.#o.rows) return this.#refuse(key, window, 'rows', now);
    if (window.bytes + bytes > this.#o.bytes) return this.#refuse(key, window, 'bytes', now);
    window.rows++;
    window.bytes += bytes;
    return { ok: true };
  }

  /** Sources with a window open (OTHER_SOURCES included): never more than maxSources + 1. */
  get tracked(): number {
    this.#sweep(this.#o.now());
    return this.#windows.size;
  }

  /** The window charged for `source` (its own, or the shared one when the table is full). */
  #find(source: string, now: number): [string, Window | undefined] {
    this.#sweep(now);
    const own = this.#windows.get(source);
    if (own && this.#current(own, now)) return [source, own];
    if (own) this.#end(source, own);
    const counted = this.#windows.size - (this.#windows.has(OTHER_SOURCES) ? 1 : 0);
    const key = counted < this.#o.maxSources ? source : OTHER_SOURCES;
    return [key, this.#windows.get(key)];
  }

  #open(key: string, now: number): Window {
    const window: Window = { start: now, rows: 0, bytes: 0, refused: 0, over: null };
    this.#windows.set(key, window);
    return window;
  }

  #refuse(source: string, window: Window, over: 'rows' | 'bytes', now: number): CapVerdict {
    window.over = over;
    window.refused++;
    const retryAfterMs = Math.max(0, window.start + this.#o.windowMs - now);
    return { ok: false, source, over, retryAfterMs, first: window.refused === 1 };
  }

  /** Drops the windows that ended: they are at the front. A clock set back ends them too. */
  #sweep(now: number): void {
    for (const [source, window] of this.#windows) {
      if (this.#current(window, now)) return;
      this.#end(source, window);
    }
  }

  #current(window: Window, now: number): boolean {
    return now >= window.start && now < window.start + this.#o.windowMs;
  }

  #end(source: string, window: Window): void {
    this.#windows.delete(source);
    const { rows, bytes, refused } = window;
    this.#onWindowEnd?.({ source, rows, bytes, refused });
  }
}

/**
 * The source a cap counts: an IPv4 address as it is, an IPv6 address by its /64, the block one
 * subscriber holds (else one sender would have 2^64 caps, and fill every slot of the table).
 */
export function capSource(ip: string): string {
  if (!isIPv6(ip)) return ip;
  const address = ip.split('%')[0] ?? ip;
  const [left = '', right] = address.split('::');
  const groups = (part: string) => (part === '' ? [] : part.split(':'));
  const head = groups(left);
  const tail = right === undefined ? [] : groups(right);
  // An embedded IPv4 address at the end counts as two groups.
  const width = (parts: string[]) => parts.reduce((n, p) => n + (p.includes('.') ? 2 : 1), 0);
  const all = [...head, ...Array<string>(Math.max(0, 8 - width(head) - width(tail))).fill('0'), ...tail];
  const prefix = all.slice(0, 4).map((g) => Number.parseInt(g, 16).toString(16));
  return `${prefix.join(':')}::/64`;
}
