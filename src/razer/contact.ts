import { RAZER_ROUTES } from '../http/request-log.js';
import type { SignedContentMode } from '../readings/razer.js';
import {
  claimedApiId,
  type Diagnosis,
  diagnose,
  type FailedRequest,
  RATE_BOUND_SKIP,
  signatureHexCase,
} from './diagnose.js';

/**
 * What the gateway has seen of Razer during onboarding (issue 23 §4), in memory, per process:
 * the first verified request of each endpoint and the last diagnosed failures. For the log and
 * a console page; it never changes an answer.
 */

export const CONTACT_ENDPOINTS = ['init', 'topup', 'query', 'cancel', 'validate', 'health'] as const;
export type ContactEndpoint = (typeof CONTACT_ENDPOINTS)[number];

/** Each endpoint's path as Razer's documents name it (for the log line). */
export const ENDPOINT_PATHS: Record<ContactEndpoint, string> = RAZER_ROUTES;

export interface EndpointContact {
  name: ContactEndpoint;
  firstVerifiedAt: number | null;
  mode: SignedContentMode | null;
  apiId: string | null;
  /** The hex's case: upper case verifies too (§1 says lower), so it is only reported here. */
  hexCase: 'lower' | 'upper' | 'mixed' | null;
}

export interface FailureContact {
  at: number;
  endpoint: ContactEndpoint;
  method: string;
  /** Redacted as the request log redacts it. */
  path: string;
  /** The api-id the header claims (sender's text: printable and cut), null if unreadable. */
  apiId: string | null;
  diagnosis: Diagnosis;
}

export interface ContactSnapshot {
  endpoints: EndpointContact[];
  /**
   * The last diagnosed failures, oldest first: a few per configured api-id the header claims,
   * and the last of the others (unknown or unreadable api-ids) apart, so that noise can never
   * push out a failure of Razer's.
   */
  failures: FailureContact[];
  /** Failures whose diagnosis the rate bound skipped (since start). */
  skippedDiagnoses: number;
  /** Refused requests without an X-Razer-Signature header (since start): counted, never diagnosed nor kept. */
  unsigned: number;
}

/** A token bucket: `perSecond` tokens a second, at most `burst` saved. */
export class TokenBucket {
  #tokens: number;
  #at: number;
  constructor(
    private readonly now: () => number,
    private readonly perSecond: number,
    private readonly burst: number,
  ) {
    this.#tokens = burst;
    this.#at = now();
  }

  take(): boolean {
    const t = this.now();
    // A clock that steps back refills nothing.
    if (t > this.#at) {
      this.#tokens = Math.min(this.burst, this.#tokens + ((t - this.#at) * this.perSecond) / 1000);
      this.#at = t;
    }
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}

export interface ContactOptions {
  now: () => number;
  /** Diagnoses a second, per process: a flood of unsigned requests must not buy HMACs (5). */
  perSecond?: number;
  /** Diagnoses that may run at once after a quiet spell (5). */
  burst?: number;
  /** Failures kept for the console whose header claims no configured api-id (20). */
  keep?: number;
  /** Failures kept for the console per configured api-id the header claims (5). */
  keepPerApiId?: number;
  /** The diagnosis (tests count its calls). */
  diagnose?: (request: FailedRequest) => Diagnosis;
}

export interface RefusedRequest {
  endpoint: ContactEndpoint;
  method: string;
  /** Already redacted (loggedPath). */
  path: string;
  request: FailedRequest;
}

/** A kept failure, numbered in the order it came. */
type Kept = FailureContact & { n: number };

export class RazerContact {
  readonly #now: () => number;
  readonly #bucket: TokenBucket;
  readonly #keep: number;
  readonly #keepPerApiId: number;
  readonly #diagnose: (request: FailedRequest) => Diagnosis;
  readonly #endpoints = new Map<ContactEndpoint, EndpointContact>();
  /** Kept failures whose header claims a configured api-id, by that api-id. */
  readonly #configured = new Map<string, Kept[]>();
  /** Kept failures of every other api-id (unknown, unreadable). */
  readonly #others: Kept[] = [];
  #kept = 0;
  #skipped = 0;
  #unsigned = 0;

  constructor(options: ContactOptions) {
    this.#now = options.now;
    this.#bucket = new TokenBucket(options.now, options.perSecond ?? 5, options.burst ?? 5);
    this.#keep = options.keep ?? 20;
    this.#keepPerApiId = options.keepPerApiId ?? 5;
    this.#diagnose = options.diagnose ?? ((request) => diagnose(request));
  }

  /**
   * A request refused for its signature: diagnosed when the rate bound allows, and kept. One
   * without an X-Razer-Signature header (a scanner, or a proxy that drops it) costs nothing and
   * is only counted: it cannot use up the bound or push out a failure worth reading.
   */
  refused(r: RefusedRequest): Diagnosis {
    if (!r.request.header) {
      this.#unsigned++;
      // Costs no HMAC: says there was no header.
      return diagnose(r.request);
    }
    if (!this.#bucket.take()) {
      this.#skipped++;
      return RATE_BOUND_SKIP;
    }
    const diagnosis = this.#diagnose(r.request);
    const apiId = claimedApiId(r.request.header);
    const failure: Kept = {
      n: this.#kept++,
      at: this.#now(),
      endpoint: r.endpoint,
      method: r.method,
      path: r.path,
      apiId,
      diagnosis,
    };
    // The api-id as configured (claimedApiId shows it cut to printable text: a configured one is).
    const configured = apiId !== null && r.request.credentials.some((c) => c.apiId === apiId);
    if (configured) {
      const kept = this.#configured.get(apiId) ?? [];
      kept.push(failure);
      if (kept.length > this.#keepPerApiId) kept.shift();
      this.#configured.set(apiId, kept);
    } else {
      this.#others.push(failure);
      if (this.#others.length > this.#keep) this.#others.shift();
    }
    return diagnosis;
  }

  /** A verified request: its record the first time for its endpoint (to log once), else null. */
  verified(
    endpoint: ContactEndpoint,
    reading: { mode: SignedContentMode; apiId: string; header: string },
  ): EndpointContact | null {
    if (this.#endpoints.has(endpoint)) return null;
    const record: EndpointContact = {
      name: endpoint,
      firstVerifiedAt: this.#now(),
      mode: reading.mode,
      apiId: reading.apiId,
      hexCase: signatureHexCase(reading.header),
    };
    this.#endpoints.set(endpoint, record);
    return { ...record };
  }

  snapshot(): ContactSnapshot {
    return {
      endpoints: CONTACT_ENDPOINTS.map((name) => {
        const seen = this.#endpoints.get(name);
        return seen ? { ...seen } : { name, firstVerifiedAt: null, mode: null, apiId: null, hexCase: null };
      }),
      failures: [...[...this.#configured.values()].flat(), ...this.#others]
        .sort((a, b) => a.n - b.n)
        .map(({ n: _n, ...f }) => f),
      skippedDiagnoses: this.#skipped,
      unsigned: this.#unsigned,
    };
  }
}

/** The info line for an endpoint's first verified request. */
export function firstVerifiedLine(record: EndpointContact): string {
  const hex =
    record.hexCase === 'lower' || record.hexCase === null
      ? ''
      : `, hex in ${record.hexCase} case (accepted; §1 says lower)`;
  return `first verified Razer request for ${ENDPOINT_PATHS[record.name]}: signed content ${record.mode}, api-id ${record.apiId}${hex}`;
}
