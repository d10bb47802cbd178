import pRetry, { AbortError } from 'p-retry';
import type { Logger } from '../log.js';

export const ALERT_KINDS = [
  'flagged',
  'low-balance',
  'stale-catalogue',
  'supplier-auth',
  // Keyed by the source address, never cleared: one alert per flooding source per process.
  'webhook-flood',
  // Keyed by the status number: one alert per number Mitra answers that the readings do not know.
  'unknown-status',
  // Keyed by the transaction number; a purchase is told of once (the watch moves past it).
  'stuck',
  // Keyed `balance`: inits judged on a balance older than BALANCE_GUARD_MAX_AGE; cleared by a fresh one.
  'stale-balance',
  // Keyed `open-purchases`: the open purchases the init guards judge by could not be read; they judge
  // by the last good figures for a minute, then by none. Cleared by the next good read.
  'open-purchases-unread',
] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

/**
 * The kinds that are conditions, cleared when they end: `gateway_alert_active{kind}` shows
 * whether each holds now. The others are events (a transaction, a source, a number) never cleared.
 */
export const CONDITION_KINDS = [
  'supplier-auth',
  'low-balance',
  'stale-catalogue',
  'stale-balance',
  'open-purchases-unread',
] as const satisfies readonly AlertKind[];
export type ConditionKind = (typeof CONDITION_KINDS)[number];
const isCondition = (kind: AlertKind): kind is ConditionKind =>
  (CONDITION_KINDS as readonly string[]).includes(kind);

export interface AlertEvent {
  kind: AlertKind;
  /** What makes two raises the same event: e.g. a transaction number, or `balance`. */
  key: string;
  message: string;
  transactionNumber?: string | null | undefined;
}

/** What is POSTed: `text` for Slack, `content` for Discord, the same line in both. */
export interface AlertBody {
  text: string;
  content: string;
  /** An alert's kind, or `daily-summary` for the daily summary (./daily-summary.ts). */
  kind: AlertKind | 'daily-summary';
  key: string;
  transactionNumber: string | null;
  /** Discord: an `@everyone` in a message never pings anyone (Slack ignores the field). */
  allowed_mentions: { parse: [] };
}

export interface AlertDelivery {
  /** Tries in all, the first included. */
  tries: number;
  minDelayMs: number;
  maxDelayMs: number;
  /** Per try. */
  timeoutMs: number;
}

/** How one POST ended, after its retries: delivered, or why not. */
export type Delivery = { ok: true } | { ok: false; reason: string };

/** A message that is not an event (the daily summary): posted when asked, never deduplicated. */
export interface PostedMessage {
  kind: 'daily-summary';
  key: string;
  text: string;
}

export interface AlerterOptions {
  logger: Logger;
  /** Slack or Discord incoming webhook; null or empty: alerts are only logged. */
  url?: string | null | undefined;
  fetch?: typeof fetch;
  /** Called once per new event (not for repeats), e.g. to count it. */
  onRaise?: (event: AlertEvent) => void;
  /** Raised (kind, key) pairs remembered; the oldest is forgotten first. */
  maxKeys?: number;
  /** Deliveries under way at once; more are logged as not delivered. */
  maxPending?: number;
  delivery?: Partial<AlertDelivery>;
}

// Discord refuses a `content` longer than this; Slack takes far more.
const MAX_LINE = 2000;

class DeliveryFailed extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
  }
}

/**
 * Raises operator alerts: each event is logged, and sent once to a chat webhook, whatever
 * the number of times its source reports it, until it is cleared.
 */
export class Alerter {
  readonly #logger: Logger;
  readonly #url: string | null;
  readonly #fetch: typeof fetch;
  readonly #onRaise: ((event: AlertEvent) => void) | undefined;
  readonly #maxKeys: number;
  readonly #maxPending: number;
  readonly #delivery: AlertDelivery;
  // A Map keeps insertion order: its first key is the oldest raised.
  readonly #raised = new Map<string, true>();
  // Conditions apart, never forgotten for room: their few keys are fixed, and forgetting one
  // would end it (and send it again) while it still holds.
  // true while held; false once released (see release()).
  readonly #conditions = new Map<string, boolean>();
  readonly #pending = new Set<Promise<void>>();
  readonly #stop = new AbortController();

  constructor(options: AlerterOptions) {
    this.#logger = options.logger;
    this.#url = options.url ? options.url : null;
    this.#fetch = options.fetch ?? fetch;
    this.#onRaise = options.onRaise;
    this.#maxKeys = options.maxKeys ?? 10_000;
    this.#maxPending = options.maxPending ?? 100;
    this.#delivery = { tries: 4, minDelayMs: 1000, maxDelayMs: 8000, timeoutMs: 5000, ...options.delivery };
  }

  /** True for a new event; false when the same (kind, key) was raised and not cleared since. */
  raise(event: AlertEvent): boolean {
    const id = `${event.kind}:${event.key}`;
    const raised = isCondition(event.kind) ? this.#conditions : this.#raised;
    if (raised.has(id)) {
      // A condition released (its watch moved to another instance) and raised again is held
      // again, without a second message: it was never over.
      raised.set(id, true);
      this.#logger.debug({ alert: event.kind, key: event.key }, 'alert already raised');
      return false;
    }
    raised.set(id, true);
    while (this.#raised.size > this.#maxKeys) {
      const oldest = this.#raised.keys().next();
      if (oldest.done) break;
      this.#raised.delete(oldest.value);
    }
    const line = alertLine(event);
    const body: AlertBody = {
      text: line,
      content: line,
      allowed_mentions: { parse: [] },
      kind: event.kind,
      key: event.key,
      transactionNumber: event.transactionNumber ?? null,
    };
    this.#logger.warn(
      { alert: event.kind, key: event.key, transactionNumber: body.transactionNumber },
      body.text,
    );
    this.#onRaise?.(event);
    if (this.#url !== null) this.#send(this.#url, body);
    return true;
  }

  /** The event is over (e.g. the balance recovered): the next raise of it is sent again. */
  clear(kind: AlertKind, key: string): boolean {
    return (isCondition(kind) ? this.#conditions : this.#raised).delete(`${kind}:${key}`);
  }

  /**
   * This instance no longer judges the condition (another instance polls or watches now): it
   * stops showing it as held, but remembers it was told, so that taking the watch back while it
   * still holds sends nothing again. Only clear() (the condition seen over) forgets it.
   */
  release(kind: ConditionKind, key: string): void {
    const id = `${kind}:${key}`;
    if (this.#conditions.has(id)) this.#conditions.set(id, false);
  }

  /** Whether some alert of this kind was raised, and neither cleared nor released since. */
  active(kind: ConditionKind): boolean {
    const prefix = `${kind}:`;
    for (const [id, held] of this.#conditions) if (held && id.startsWith(prefix)) return true;
    return false;
  }

  /** Resolves when every delivery started so far has succeeded or given up. */
  async idle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  /** Stops retrying: deliveries under way give up; later alerts are only logged. */
  close(): void {
    this.#stop.abort(new Error('alerter closed'));
  }

  /** Whether messages go to a webhook (ALERT_WEBHOOK_URL is set), or are only logged. */
  get posting(): boolean {
    return this.#url !== null;
  }

  /**
   * The longest one delivery may take, every try timing out and every pause at its longest:
   * whoever holds a claim on a message while it is posted holds it at least this long.
   */
  get longestDeliveryMs(): number {
    const { tries, maxDelayMs, timeoutMs } = this.#delivery;
    return tries * timeoutMs + Math.max(0, tries - 1) * maxDelayMs;
  }

  /**
   * Posts `message` now with the alerts' delivery (same body, tries, backoff and timeout), and
   * resolves once it is delivered or given up: the caller learns which, and logs it. Not
   * deduplicated: the caller decides it is sent once. Without a URL it is not delivered.
   */
  post(message: PostedMessage): Promise<Delivery> {
    if (this.#url === null) return Promise.resolve({ ok: false, reason: 'ALERT_WEBHOOK_URL is not set' });
    const body: AlertBody = {
      text: message.text,
      content: message.text,
      allowed_mentions: { parse: [] },
      kind: message.kind,
      key: message.key,
      transactionNumber: null,
    };
    return this.#deliver(this.#url, body);
  }

  #send(url: string, body: AlertBody): void {
    const context = { alert: body.kind, key: body.key };
    if (this.#stop.signal.aborted) {
      this.#logger.error(context, 'alert not delivered: the alerter is closed');
      return;
    }
    if (this.#pending.size >= this.#maxPending) {
      this.#logger.error(context, 'alert not delivered: too many deliveries under way');
      return;
    }
    void this.#deliver(url, body, (delivery) => {
      if (delivery.ok) this.#logger.debug(context, 'alert delivered');
      else this.#logger.error({ ...context, reason: delivery.reason }, 'alert not delivered');
    });
  }

  /**
   * One delivery with its retries; never rejects. `done` is told how it ended before `idle()`
   * stops counting it.
   */
  #deliver(url: string, body: AlertBody, done: (delivery: Delivery) => void = () => {}): Promise<Delivery> {
    if (this.#stop.signal.aborted) return Promise.resolve({ ok: false, reason: 'the alerter is closed' });
    if (this.#pending.size >= this.#maxPending)
      return Promise.resolve({ ok: false, reason: 'too many deliveries under way' });
    const context = { alert: body.kind, key: body.key };
    const payload = JSON.stringify(body);
    const { tries, minDelayMs, maxDelayMs, timeoutMs } = this.#delivery;
    const attempt = async () => {
      const res = await this.#fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: payload,
        signal: AbortSignal.any([this.#stop.signal, AbortSignal.timeout(timeoutMs)]),
      });
      // The reply is not needed; cancelling frees the connection.
      await res.body?.cancel().catch(() => {});
      if (res.ok) return;
      const failed = new DeliveryFailed(res.status);
      // The receiver refused this body or this URL: the same request will not do better.
      const permanent = res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429;
      throw permanent ? new AbortError(failed) : failed;
    };
    const delivery = pRetry(attempt, {
      retries: Math.max(0, tries - 1),
      factor: 2,
      minTimeout: minDelayMs,
      maxTimeout: maxDelayMs,
      randomize: true,
      signal: this.#stop.signal,
      unref: true,
      onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
        if (retriesLeft > 0)
          this.#logger.debug(
            { ...context, attempt: attemptNumber, reason: describe(error, url) },
            'alert delivery failed; retrying',
          );
      },
    }).then(
      (): Delivery => ({ ok: true }),
      (err: unknown): Delivery => ({
        ok: false,
        reason: this.#stop.signal.aborted ? 'the alerter was closed' : describe(err, url),
      }),
    );
    const settled = delivery.then(done);
    this.#pending.add(settled);
    void settled.finally(() => this.#pending.delete(settled));
    return delivery;
  }
}

/** The human line: `[gateway] flagged: transaction X — reason`, cut to what Discord takes. */
export function alertLine(event: AlertEvent): string {
  const subject = event.transactionNumber ? `transaction ${event.transactionNumber} — ` : '';
  const line = `[gateway] ${event.kind}: ${subject}${event.message}`;
  return line.length <= MAX_LINE ? line : `${line.slice(0, MAX_LINE - 1)}…`;
}

/**
 * Why a delivery failed, from the error's kind and code only: fetch's own messages may quote
 * the URL, and a webhook URL is a credential.
 */
function describe(err: unknown, url: string): string {
  if (err instanceof DeliveryFailed) return err.message;
  if (!(err instanceof Error)) return 'unknown error';
  if (err.name === 'TimeoutError') return 'timed out';
  const cause = (err as { cause?: { code?: unknown } }).cause;
  const code = typeof cause?.code === 'string' ? ` (${cause.code})` : '';
  return `${err.name}${code}`.replaceAll(url, '[redacted]');
}
