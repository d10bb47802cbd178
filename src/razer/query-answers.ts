import { timingSafeEqual } from 'node:crypto';

/**
 * What this instance remembers about its query answers, so that Razer polling a transaction
 * costs neither a stored row per poll nor, once final, a database read:
 * - the last answer recorded per transaction: an identical one is counted, not stored again;
 * - the signed answer to a final transaction, per request target, with the signature header
 *   that was verified for it: a final state never changes (invariant 4), so neither does the
 *   answer, and a query's signature covers only its method and target (no body, no nonce), so
 *   the same header verifies again, byte for byte, without computing an HMAC.
 * Both are bounded in size and age (Razer polls a transaction for minutes, not hours), so
 * memory stays flat under any traffic; what is forgotten is only read or stored again.
 */
export interface ReadyAnswer {
  status: number;
  text: string;
  headers: Readonly<Record<string, string>>;
}

interface FinalEntry {
  /**
   * A Buffer of its own (allocUnsafeSlow), not Buffer.from's: that is a slice of an 8 KB pool,
   * and a few kept for minutes held whole pools (the soak's heap snapshots showed them).
   */
  signature: Buffer;
  transactionNumber: string;
  answer: ReadyAnswer;
}

interface Aged<V> {
  value: V;
  at: number;
}

/**
 * A Map in insertion order (a key set again moves to the end), so its first entry is the
 * oldest: past `capacity` or `maxAgeMs`, entries go from the front.
 */
class Memory<K, V> {
  readonly #map = new Map<K, Aged<V>>();
  constructor(
    readonly capacity: number,
    readonly maxAgeMs: number,
    readonly clock: () => number,
  ) {}

  get(key: K): V | undefined {
    const entry = this.#map.get(key);
    return entry && this.clock() - entry.at < this.maxAgeMs ? entry.value : undefined;
  }

  set(key: K, value: V): void {
    const now = this.clock();
    this.#map.delete(key);
    this.#map.set(key, { value, at: now });
    for (const [oldest, entry] of this.#map) {
      if (this.#map.size <= this.capacity && now - entry.at < this.maxAgeMs) break;
      this.#map.delete(oldest);
    }
  }

  get size(): number {
    return this.#map.size;
  }
}

export class QueryAnswers {
  readonly #recorded: Memory<string, string>;
  readonly #final: Memory<string, FinalEntry>;

  constructor(capacity = 10_000, maxAgeMs = 120_000, clock: () => number = () => performance.now()) {
    this.#recorded = new Memory(capacity, maxAgeMs, clock);
    this.#final = new Memory(capacity, maxAgeMs, clock);
  }

  /** Entries held now (for tests and the curious). */
  get sizes(): { recorded: number; final: number } {
    return { recorded: this.#recorded.size, final: this.#final.size };
  }

  /** Whether `answer` is exactly what was last recorded for the transaction. */
  repeats(transactionNumber: string, answer: ReadyAnswer): boolean {
    return this.#recorded.get(transactionNumber) === fingerprint(answer);
  }

  recorded(transactionNumber: string, answer: ReadyAnswer): void {
    this.#recorded.set(transactionNumber, fingerprint(answer));
  }

  /** The ready answer to a GET of `target` (the raw URI) with exactly the signature once verified for it. */
  final(target: string, signature: string): FinalEntry | undefined {
    const entry = this.#final.get(target);
    if (!entry) return undefined;
    const given = Buffer.from(signature, 'utf8');
    return given.length === entry.signature.length && timingSafeEqual(given, entry.signature)
      ? entry
      : undefined;
  }

  /**
   * `signature` must be the header that was verified for this GET of `target`. Only what the
   * answer needs is kept (the caller's object may carry its whole exchange record).
   */
  keepFinal(target: string, signature: string, transactionNumber: string, answer: ReadyAnswer): void {
    // Razer's are well under this; a padded one (only a key holder can) is answered, not kept.
    if (target.length + signature.length > MAX_KEPT_REQUEST_CHARS) return;
    const { status, text, headers } = answer;
    // The headers copied: the object given to the Response is written into by the server.
    // Credentials are read once at start; were they ever reloaded, this memory must be cleared.
    this.#final.set(target, {
      signature: ownBuffer(signature),
      transactionNumber,
      answer: { status, text, headers: { ...headers } },
    });
  }
}

/** `text` as UTF-8 in a Buffer not sliced from the shared pool. */
function ownBuffer(text: string): Buffer {
  const buffer = Buffer.allocUnsafeSlow(Buffer.byteLength(text, 'utf8'));
  buffer.write(text, 'utf8');
  return buffer;
}

/** The longest request target plus signature header whose answer is kept. */
export const MAX_KEPT_REQUEST_CHARS = 512;

const fingerprint = (answer: ReadyAnswer) => `${answer.status} ${answer.text}`;
