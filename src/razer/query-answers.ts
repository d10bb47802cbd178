import { timingSafeEqual } from 'node:crypto';

/**
 * What this instance remembers about its query answers, so that Razer polling a transaction
 * costs neither a stored row per poll nor, once final, a database read:
 * - the last answer recorded per transaction: an identical one is counted, not stored again;
 * - the signed answer to a final transaction, per request target, with the signature header
 *   that was verified for it: a final state never changes (invariant 4), so neither does the
 *   answer, and a query's signature covers only its method and target (no body, no nonce), so
 *   the same header verifies again, byte for byte, without computing an HMAC.
 * Both are bounded; what is forgotten is only read or stored again.
 */
export interface ReadyAnswer {
  status: number;
  text: string;
  headers: Readonly<Record<string, string>>;
}

interface FinalEntry {
  signature: Buffer;
  transactionNumber: string;
  answer: ReadyAnswer;
}

/** A Map in insertion order, the oldest dropped past `capacity`. */
function remember<K, V>(map: Map<K, V>, key: K, value: V, capacity: number): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > capacity) {
    const oldest = map.keys().next();
    if (!oldest.done) map.delete(oldest.value);
  }
}

export class QueryAnswers {
  readonly #recorded = new Map<string, string>();
  readonly #final = new Map<string, FinalEntry>();

  constructor(readonly capacity = 10_000) {}

  /** Whether `answer` is exactly what was last recorded for the transaction. */
  repeats(transactionNumber: string, answer: ReadyAnswer): boolean {
    return this.#recorded.get(transactionNumber) === fingerprint(answer);
  }

  recorded(transactionNumber: string, answer: ReadyAnswer): void {
    remember(this.#recorded, transactionNumber, fingerprint(answer), this.capacity);
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

  /** `signature` must be the header that was verified for this GET of `target`. */
  keepFinal(target: string, signature: string, transactionNumber: string, answer: ReadyAnswer): void {
    const entry = { signature: Buffer.from(signature, 'utf8'), transactionNumber, answer };
    remember(this.#final, target, entry, this.capacity);
  }
}

const fingerprint = (answer: ReadyAnswer) => `${answer.status} ${answer.text}`;
