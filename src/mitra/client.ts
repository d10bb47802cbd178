import pRetry from 'p-retry';
import { request } from 'undici';
import type { z } from 'zod';
import type { Logger } from '../log.js';
import { orderTimestamp } from '../readings/mitra.js';
import { DEFAULT_READINGS, type Readings } from '../readings/settings.js';
import { inSpan, type TraceAttributes, type Tracer } from '../tracing/tracer.js';
import { type AmountNote, collectAmountNotes, noteText } from './amounts.js';
import type { Limiter, Permit } from './limiter.js';
import { classifyNetworkError, classifyReply, type MitraOutcome, type OutcomeKind } from './outcome.js';
import {
  type BalanceData,
  balanceDataSchema,
  brandsSchema,
  type CreateOrderData,
  createOrderDataSchema,
  type MitraBrand,
  type MitraVariation,
  type OrderRequest,
  type OrderStatusData,
  orderStatusDataSchema,
  variationsSchema,
} from './schemas.js';
import { mitraSign, signedMessage } from './signature.js';

/** What a span says of an outcome: its class and Mitra's rc, nothing of the reply. */
function outcomeAttributes(outcome: MitraOutcome<unknown>): TraceAttributes {
  return {
    'gateway.supplier.outcome': outcome.kind,
    ...(outcome.kind === 'accepted'
      ? { 'gateway.supplier.rc': '00' }
      : outcome.rc
        ? { 'gateway.supplier.rc': outcome.rc }
        : {}),
  };
}

/** Who calls Mitra, as its logs will show. */
export const USER_AGENT = 'razer-mitra-gateway';

export type Operation = 'brands' | 'variations' | 'order' | 'order-status' | 'balance';

/** One call as kept in `supplier_calls`: the signature never leaves this module. */
export interface SupplierCallRecord {
  transactionNumber: string | null;
  operation: Operation;
  method: 'GET' | 'POST';
  url: string;
  requestBody: string | null;
  httpStatus: number | null;
  replyBody: string | null;
  rcCode: string | null;
  outcome: OutcomeKind;
  error: string | null;
  startedAt: number;
  durationMs: number;
}

export interface RetryPolicy {
  /** Tries in all, the first included. */
  tries: number;
  minDelayMs: number;
  maxDelayMs: number;
  /** No retry starts after this long. */
  maxTotalMs: number;
}

export interface MitraClientOptions {
  baseUrl: string;
  apiKey: string;
  secretKey: string;
  timeoutMs: number;
  limiter: Limiter;
  now?: () => number;
  record?: (call: SupplierCallRecord) => void;
  retry?: Partial<RetryPolicy>;
  /** Pause after a rate-limit reply that carries no Retry-After. */
  rateLimitBackoffMs?: number;
  /** The readings in force (reloadable): rc classes, the balance call. */
  readings?: () => Readings;
  /** Told of a reply's amount read otherwise than as sent (rounded to whole IDR, or unreadable). */
  logger?: Pick<Logger, 'warn'>;
  /** Spans for each call and each HTTP attempt (tracing on); unset: none, at no cost. */
  tracer?: Tracer | undefined;
}

export type OrderInput = Omit<OrderRequest, 'timestamp'>;

/** The status of the refusal `balance()` gives, without a call, where the readings say there is none. */
export const NO_BALANCE_CALL = 'NO_BALANCE_CALL';

class RetryWith extends Error {
  constructor(readonly outcome: MitraOutcome<never>) {
    super(outcome.kind === 'retryable' || outcome.kind === 'ambiguous' ? outcome.reason : outcome.kind);
  }
}

/**
 * The Mitra Open API v2. Every call is signed, limited and recorded, and comes back as a
 * MitraOutcome; nothing is thrown for a bad reply. Catalogue, status and balance calls
 * retry by themselves; create-order never does: the fulfilment engine owns that decision.
 */
export class MitraClient {
  readonly #o: Required<Omit<MitraClientOptions, 'record' | 'retry' | 'logger' | 'tracer'>> &
    Pick<MitraClientOptions, 'record' | 'logger' | 'tracer'>;
  readonly #retry: RetryPolicy;

  constructor(options: MitraClientOptions) {
    this.#o = {
      now: Date.now,
      rateLimitBackoffMs: 5000,
      readings: () => DEFAULT_READINGS,
      ...options,
      baseUrl: options.baseUrl.replace(/\/+$/, ''),
    };
    this.#retry = { tries: 4, minDelayMs: 500, maxDelayMs: 8000, maxTotalMs: 30_000, ...options.retry };
  }

  /** Mitra's host, for spans. */
  #host(): string {
    return URL.canParse(this.#o.baseUrl) ? new URL(this.#o.baseUrl).hostname : '';
  }

  brands(): Promise<MitraOutcome<MitraBrand[]>> {
    return this.#safe('brands', '/v2/public/brands', {}, signedMessage.brands(), brandsSchema, null);
  }

  variations(brandKey: string): Promise<MitraOutcome<MitraVariation[]>> {
    return this.#safe(
      'variations',
      '/v2/public/variations',
      { brand_key: brandKey },
      signedMessage.variations(brandKey),
      variationsSchema,
      null,
    );
  }

  orderStatus(tid: string, transactionNumber: string | null = null): Promise<MitraOutcome<OrderStatusData>> {
    return this.#safe(
      'order-status',
      '/v2/public/order-status',
      { tid },
      signedMessage.orderStatus(tid),
      orderStatusDataSchema,
      transactionNumber,
    );
  }

  /** Where the readings say there is no balance call, nothing is sent: a refusal that says so. */
  balance(): Promise<MitraOutcome<BalanceData>> {
    const { path, word } = this.#o.readings().mitra.balance;
    if (path === null)
      return Promise.resolve({
        kind: 'refused',
        rc: '',
        status: NO_BALANCE_CALL,
        message: 'the readings say Mitra has no balance call (mitra.balance.path: null)',
        httpStatus: 0,
      });
    return this.#safe('balance', path, {}, signedMessage.balance(word), balanceDataSchema, null);
  }

  /** Sent once, paid for with a permit from the limiter's order lane. */
  async createOrder(
    input: OrderInput,
    permit: Permit,
    transactionNumber: string | null = null,
  ): Promise<MitraOutcome<CreateOrderData>> {
    permit.spend('order');
    const order: OrderRequest = { ...input, timestamp: orderTimestamp(this.#o.now()) };
    return this.#traced('order', transactionNumber, () =>
      this.#send(permit, {
        operation: 'order',
        method: 'POST',
        path: '/v2/public/order',
        query: {},
        message: signedMessage.order(order),
        body: JSON.stringify(order),
        schema: createOrderDataSchema,
        transactionNumber,
      }),
    );
  }

  /** `call` inside a `mitra <operation>` span when tracing is on: its retries and waits are children. */
  #traced<T>(
    operation: Operation,
    transactionNumber: string | null,
    call: () => Promise<MitraOutcome<T>>,
  ): Promise<MitraOutcome<T>> {
    const tracer = this.#o.tracer;
    if (!tracer) return call();
    return inSpan(
      tracer,
      `mitra ${operation}`,
      {
        'gateway.supplier.operation': operation,
        ...(transactionNumber === null ? {} : { 'gateway.transaction_number': transactionNumber }),
      },
      async (span) => {
        const outcome = await call();
        span.set(outcomeAttributes(outcome));
        return outcome;
      },
    );
  }

  async #safe<S extends z.ZodType>(
    operation: Exclude<Operation, 'order'>,
    path: string,
    query: Record<string, string>,
    message: string,
    schema: S,
    transactionNumber: string | null,
  ): Promise<MitraOutcome<z.output<S>>> {
    const attempt = async () => {
      const permit = await this.#o.limiter.acquire('query');
      permit.spend('query');
      const outcome = await this.#send(permit, {
        operation,
        method: 'GET',
        path,
        query,
        message,
        body: null,
        schema,
        transactionNumber,
      });
      if (outcome.kind === 'retryable' || outcome.kind === 'ambiguous') throw new RetryWith(outcome);
      return outcome;
    };
    return this.#traced(operation, transactionNumber, () => this.#retried(attempt));
  }

  /** The query calls' retries: a retryable or ambiguous outcome is tried again, within the policy. */
  async #retried<T>(attempt: () => Promise<MitraOutcome<T>>): Promise<MitraOutcome<T>> {
    try {
      return await pRetry(attempt, {
        retries: this.#retry.tries - 1,
        factor: 2,
        minTimeout: this.#retry.minDelayMs,
        maxTimeout: this.#retry.maxDelayMs,
        randomize: true,
        maxRetryTime: this.#retry.maxTotalMs,
        shouldRetry: ({ error }) => error instanceof RetryWith,
      });
    } catch (err) {
      if (err instanceof RetryWith) return err.outcome;
      throw err;
    }
  }

  /** One HTTP call, paid for by `permit`, which is released when the call is over. */
  async #send<S extends z.ZodType>(
    permit: Permit,
    call: {
      operation: Operation;
      method: 'GET' | 'POST';
      path: string;
      query: Record<string, string>;
      message: string;
      body: string | null;
      schema: S;
      transactionNumber: string | null;
    },
  ): Promise<MitraOutcome<z.output<S>>> {
    const sign = mitraSign(this.#o.secretKey, call.message);
    // URLSearchParams percent-encodes the + / = of base64.
    const params = new URLSearchParams({ ...call.query, sign });
    const url = `${this.#o.baseUrl}${call.path}?${params}`;
    const startedAt = this.#o.now();
    const started = performance.now();
    // Only the method, host and path: the query carries the signature.
    const traced = this.#o.tracer?.start(
      `HTTP ${call.method}`,
      { 'http.request.method': call.method, 'server.address': this.#host(), 'url.path': call.path },
      'client',
    );
    let outcome: MitraOutcome<z.output<S>>;
    let httpStatus: number | null = null;
    let replyBody: string | null = null;
    let notes: AmountNote[] = [];
    try {
      // undici's request, not fetch: a quarter of the CPU per call, and no redirect is followed
      // (a create-order must never be sent on to another address).
      const res = await request(url, {
        method: call.method,
        headers: {
          authorization: `Bearer ${this.#o.apiKey}`,
          accept: 'application/json',
          // fetch sent both; undici sends neither. A front end may refuse a request without a
          // User-Agent, and a compressed reply would be unreadable (ambiguous) undecoded.
          'user-agent': USER_AGENT,
          'accept-encoding': 'identity',
          ...(call.body !== null ? { 'content-type': 'application/json' } : {}),
          ...(traced && this.#o.tracer ? traced.within(this.#o.tracer.outgoingHeaders) : {}),
        },
        body: call.body,
        signal: AbortSignal.timeout(this.#o.timeoutMs),
      });
      httpStatus = res.statusCode;
      replyBody = await res.body.text();
      // Sent twice (malformed), the first is taken.
      const retryAfter = res.headers['retry-after'];
      const reply = {
        status: res.statusCode,
        body: replyBody,
        retryAfter: (Array.isArray(retryAfter) ? retryAfter[0] : retryAfter) ?? null,
      };
      const now = this.#o.now();
      const readings = this.#o.readings();
      // The amounts the reply's schema read otherwise than sent (rounded, or taken as absent).
      const read = collectAmountNotes(() =>
        classifyReply(reply, call.schema, call.operation === 'order', now, readings),
      );
      outcome = read.value;
      notes = read.notes;
    } catch (err) {
      outcome = classifyNetworkError(err);
    } finally {
      permit.release();
    }
    // The raw reply is kept in supplier_calls; the log says what was read otherwise, and for which sale.
    for (const note of notes)
      this.#o.logger?.warn(
        {
          operation: call.operation,
          transactionNumber: call.transactionNumber,
          field: note.field,
          value: note.value,
          readAsIdr: note.idr,
        },
        noteText(note),
      );
    if (traced) {
      traced.set({
        ...(httpStatus === null ? {} : { 'http.response.status_code': httpStatus }),
        ...outcomeAttributes(outcome),
      });
      traced.end();
    }
    if (outcome.kind === 'retryable' && outcome.rc === '45') {
      this.#o.limiter.backoff(outcome.retryAfterMs ?? this.#o.rateLimitBackoffMs);
    }
    this.#o.record?.({
      transactionNumber: call.transactionNumber,
      operation: call.operation,
      method: call.method,
      url: url.replace(/([?&]sign=)[^&]*/, '$1[redacted]'),
      requestBody: call.body,
      httpStatus,
      replyBody,
      rcCode: outcome.kind === 'accepted' ? '00' : outcome.rc,
      outcome: outcome.kind,
      error: outcome.kind === 'ambiguous' || outcome.kind === 'retryable' ? outcome.reason : null,
      startedAt,
      durationMs: Math.round(performance.now() - started),
    });
    return outcome;
  }
}
