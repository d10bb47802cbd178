import { createHash } from 'node:crypto';
import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { z } from 'zod';
import {
  cancelTransaction,
  checkRequest,
  type NewExchange,
  type PurchaseDeps,
  queryTransaction,
  recordAnswer,
  startPurchase,
  storageWritable,
  topUp,
} from '../fulfilment/purchases.js';
import { Refusal } from '../fulfilment/refusal.js';
import { isTerminal } from '../fulfilment/states.js';
import { type GatewayEnv, headerOf } from '../http/env.js';
import { keptPath, loggedPath } from '../http/request-log.js';
import type { Logger } from '../log.js';
import { MAX_BODY_BYTES, type SignedContentMode } from '../readings/razer.js';
import { answerFromState, cancelAnswer, type RazerAnswer, type RazerStatus } from './answers.js';
import { type ContactEndpoint, firstVerifiedLine, RazerContact } from './contact.js';
import type { Diagnosis } from './diagnose.js';
import { QueryAnswers } from './query-answers.js';
import {
  cancelSchema,
  firstProblem,
  initSchema,
  topupSchema,
  transactionNumberSchema,
  validateSchema,
} from './schemas.js';
import { type RazerCredential, signResponse, type Verification, verifyRequest } from './signature.js';

export interface RazerDeps extends PurchaseDeps {
  credentials: readonly RazerCredential[];
  /** Read at each request, so that a reload of the readings takes effect. */
  signedContent: () => SignedContentMode;
  logger: Logger;
  /** Onboarding record and diagnosis of refused signatures (a fresh one if not given). */
  contact?: RazerContact | undefined;
  /**
   * Batches the records of answers that change nothing (query, validate); others are written at
   * once. A query answered exactly as already recorded is only counted on its transaction.
   */
  audit?:
    | { exchange(row: NewExchange): void; repeatedQuery(transactionNumber: string, at: number): void }
    | undefined;
  /** This instance's memory of its query answers (a fresh one if not given). */
  queryAnswers?: QueryAnswers | undefined;
  /** Counts inits refused with a code (400), by why. */
  onInitRefused?: ((code: string, reason: string) => void) | undefined;
  /** Counts refused signatures (they are logged, never stored). */
  onUnauthorized?: (reason: string) => void;
}

/** The Razer boundary's one error type: a protocol-level answer (400 INVALID_DATA, 409, ...). */
export class RazerError extends Error {
  override readonly name = 'RazerError';
  constructor(
    readonly status: RazerStatus,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const INTERNAL_ERROR = {
  code: 'FAILED',
  message: 'internal error; the outcome may still change, query again',
};

type Endpoint = 'init' | 'topup' | 'query' | 'cancel' | 'validate';
type Env = GatewayEnv;

interface Signer {
  apiId: string;
  key: string;
}

/** An answer made ready to send: its bytes, headers, and the exchange that records it. */
interface Finished {
  status: RazerStatus;
  text: string;
  headers: Record<string, string>;
  exchange: NewExchange;
}

interface Call<T> {
  input: T;
  apiId: string;
  requestHash: string;
  finish(answer: RazerAnswer, transactionNumber: string | null): Finished;
}

interface Handled {
  answer: RazerAnswer;
  transactionNumber: string | null;
  /** Set when the handler already stored the exchange with its own writes (init). */
  recorded?: Finished;
  /** Set when the answer is the transaction's state: `final` when that state never changes. */
  fromState?: 'open' | 'final';
}

const NO_BODY = Buffer.alloc(0);

/** The request target exactly as received (what Razer signed), else as Hono rebuilt it. */
function rawUri(c: Context<Env>): string {
  const raw = c.env?.incoming?.url;
  if (typeof raw === 'string' && raw.startsWith('/')) return raw;
  const url = new URL(c.req.url);
  return url.pathname + url.search;
}

/**
 * Whether the target's path has a dot segment (`.` or `..`, `%2e` spellings too). The router
 * sees the path with them resolved (`/x/../transaction/cancel` is cancel) while the signature
 * covers the raw target: text appended to a signed target (an answer's, whose signature is a
 * request signature for VERB + target + answer) could then reach another endpoint. Razer has no
 * reason to send one; it is refused before verification.
 */
export function hasDotSegment(target: string): boolean {
  const query = target.indexOf('?');
  const path = query < 0 ? target : target.slice(0, query);
  return path.split('/').some((segment) => {
    const dots = segment.replace(/%2e/gi, '.');
    return dots === '.' || dots === '..';
  });
}

/** Deepest nesting accepted: Razer's bodies are two levels deep. */
export const MAX_BODY_DEPTH = 32;

/** Whether a parsed body nests deeper than `limit`: iterative, as the depth is the sender's. */
function nestsDeeper(value: unknown, limit: number): boolean {
  const stack: { value: unknown; depth: number }[] = [{ value, depth: 1 }];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    if (next.value === null || typeof next.value !== 'object') continue;
    if (next.depth > limit) return true;
    for (const child of Object.values(next.value)) stack.push({ value: child, depth: next.depth + 1 });
  }
  return false;
}

/** Recursive: call it only on a body that passed `nestsDeeper`. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

const redactSignature = (headers: Record<string, string>) =>
  'x-razer-signature' in headers ? { ...headers, 'x-razer-signature': '[signed]' } : headers;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const serialize = (answer: RazerAnswer) =>
  typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);

export function razerRoutes(deps: RazerDeps): Hono<Env> {
  const app = new Hono<Env>();
  const answers = deps.queryAnswers ?? new QueryAnswers();
  const contact = deps.contact ?? new RazerContact({ now: deps.now });

  /**
   * Verifies, and tells the onboarding record: a refusal is diagnosed (within the rate bound),
   * the first verified request of an endpoint is logged once. The outcome is verifyRequest's.
   */
  const verifyFor = (
    c: Context<Env>,
    name: ContactEndpoint,
    header: string | undefined,
    body: Buffer,
  ): { verified: Verification; diagnosis: Diagnosis | null } => {
    const mode = deps.signedContent();
    const method = c.req.method;
    const verified = verifyRequest(header, deps.credentials, mode, method, rawUri(c), body);
    if (verified.ok) {
      const first = header && contact.verified(name, { mode, apiId: verified.apiId, header });
      if (first)
        deps.logger.info(
          { endpoint: name, mode, apiId: verified.apiId, hexCase: first.hexCase },
          firstVerifiedLine(first),
        );
      return { verified, diagnosis: null };
    }
    const request = { header, credentials: deps.credentials, mode, method, uri: rawUri(c), body };
    const diagnosis = contact.refused({ endpoint: name, method, path: loggedPath(c), request });
    return { verified, diagnosis };
  };

  const respond = (status: RazerStatus, text: string, headers: Record<string, string>) =>
    new Response(text, { status, headers });

  /**
   * An answer to a request that did not verify (401, 404, a body too large, a last-resort 500):
   * never signed and never recorded. Answers are signed in the request's own layout, so signing
   * one here would sign text an outsider chose (the URI, echoed in a 404): a signing oracle.
   */
  const unverified = (c: Context<Env>, endpoint: string, answer: RazerAnswer) => {
    const done = prepare(c, null, endpoint, '', '', deps.now())(answer, null);
    return respond(done.status, done.text, done.headers);
  };

  const prepare = (
    c: Context<Env>,
    signer: Signer | null,
    endpoint: string,
    requestText: string,
    requestHash: string,
    receivedAt: number,
  ) => {
    return (answer: RazerAnswer, transactionNumber: string | null): Finished => {
      const text = serialize(answer);
      const headers: Record<string, string> = {
        'content-type':
          typeof answer.body === 'string' && endpoint === 'health'
            ? 'text/plain; charset=utf-8'
            : 'application/json',
      };
      if (signer)
        headers['x-razer-signature'] = signResponse(signer.apiId, signer.key, c.req.method, rawUri(c), text);
      return {
        status: answer.status,
        text,
        headers,
        exchange: {
          transactionNumber,
          endpoint,
          apiId: signer?.apiId ?? '',
          method: c.req.method,
          path: keptPath(c, rawUri(c)),
          requestHash,
          requestBody: requestText,
          responseStatus: answer.status,
          // The signature is a credential's output: kept as a mark that the answer was signed.
          responseHeaders: redactSignature(headers),
          responseBody: text,
          receivedAt,
          respondedAt: deps.now(),
        },
      };
    };
  };

  /**
   * Mounted before every endpoint: counts the bytes as they stream in (chunked bodies too) and
   * stops reading past the limit, so an unsigned sender cannot make the gateway buffer more.
   */
  const limit = (name: Endpoint) =>
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      // Answers rather than throws, so app.onError (500) never sees it; nothing is recorded.
      // Unsigned: the body was never verified (razer-side §1).
      onError: (c) => {
        const message = `the body is larger than ${MAX_BODY_BYTES} bytes.`;
        return unverified(c, name, { status: 400, body: { code: 'INVALID_DATA', message } });
      },
    });

  /** Every Razer endpoint goes through here (after `limit`): signature, parse, handle, sign, record. */
  function endpoint<S extends z.ZodType>(
    name: Endpoint,
    schema: S,
    input: (c: Context<Env>, body: unknown) => unknown,
    handle: (call: Call<z.output<S>>) => Handled | Promise<Handled>,
  ) {
    return async (c: Context<Env>): Promise<Response> => {
      const receivedAt = deps.now();
      const header = headerOf(c, 'x-razer-signature');
      // At most MAX_BODY_BYTES: `limit` ran first and buffered no more than that. A GET's body
      // is neither read nor signed (razer-side: a query has none).
      const raw = c.req.method === 'POST' ? Buffer.from(await c.req.arrayBuffer()) : NO_BODY;

      // Kept answers are GET's alone: Hono gives HEAD to GET's handler, and a signature names its method.
      const keepable = name === 'query' && c.req.method === 'GET';
      if (keepable && deps.audit && header) {
        const known = answers.final(rawUri(c), header);
        if (known) {
          c.set('transactionNumber', known.transactionNumber);
          c.set('answeredAsBefore', true);
          deps.audit.repeatedQuery(known.transactionNumber, receivedAt);
          return respond(known.answer.status as RazerStatus, known.answer.text, { ...known.answer.headers });
        }
      }

      if (hasDotSegment(rawUri(c)))
        return unverified(c, name, {
          status: 400,
          body: {
            code: 'INVALID_DATA',
            message: 'the request target has a dot segment (. or ..): what is signed must be what is routed.',
          },
        });
      const { verified, diagnosis } = verifyFor(c, name, header, raw);
      if (!verified.ok) {
        c.set('transactionNumber', numberOf(c, ''));
        deps.onUnauthorized?.(verified.reason);
        deps.logger.warn(
          { endpoint: name, reason: verified.reason, path: loggedPath(c), diagnosis },
          'razer request refused: 401',
        );
        return unverified(c, name, { status: 401, body: { code: 'UNAUTHORIZED', message: verified.reason } });
      }

      const requestText = raw.toString('utf8');
      let requestHash = sha256('');
      let finish = prepare(c, verified, name, requestText, requestHash, receivedAt);
      let handled: Handled;
      try {
        let body: unknown = null;
        if (c.req.method === 'POST') {
          const type = c.req.header('content-type') ?? '';
          if (!/^application\/json\s*(;|$)/i.test(type)) {
            throw new RazerError(400, 'INVALID_DATA', 'Content-Type must be application/json.');
          }
          try {
            body = JSON.parse(requestText);
          } catch {
            throw new RazerError(400, 'INVALID_DATA', 'the body is not valid JSON.');
          }
          if (nestsDeeper(body, MAX_BODY_DEPTH)) {
            throw new RazerError(400, 'INVALID_DATA', `the body nests deeper than ${MAX_BODY_DEPTH} levels.`);
          }
          requestHash = sha256(JSON.stringify(canonical(body)));
          finish = prepare(c, verified, name, requestText, requestHash, receivedAt);
        }
        const parsed = schema.safeParse(input(c, body));
        if (!parsed.success) throw new RazerError(400, 'INVALID_DATA', firstProblem(parsed.error));
        handled = await handle({ input: parsed.data, apiId: verified.apiId, requestHash, finish });
      } catch (err) {
        handled = { answer: errorAnswer(err, name), transactionNumber: numberOf(c, requestText) };
      }

      c.set('transactionNumber', handled.transactionNumber);
      const done = handled.recorded ?? finish(handled.answer, handled.transactionNumber);
      if (!handled.recorded) {
        try {
          const n = handled.transactionNumber;
          if (deps.audit && handled.fromState && n !== null) {
            if (answers.repeats(n, done)) {
              // A HEAD's answer has no body: its line stays at info, whatever it repeats.
              if (c.req.method === 'GET') c.set('answeredAsBefore', true);
              deps.audit.repeatedQuery(n, receivedAt);
            } else {
              deps.audit.exchange(done.exchange);
              answers.recorded(n, done);
            }
            if (handled.fromState === 'final' && keepable && header)
              answers.keepFinal(rawUri(c), header, n, done);
          } else if (deps.audit && (name === 'query' || name === 'validate'))
            deps.audit.exchange(done.exchange);
          else await recordAnswer(deps, done.exchange);
        } catch (err) {
          deps.logger.error({ err, endpoint: name }, 'could not store the Razer exchange; answering anyway');
        }
      }
      return respond(done.status, done.text, done.headers);
    };
  }

  function errorAnswer(err: unknown, name: Endpoint): RazerAnswer {
    if (err instanceof Refusal) {
      if (name === 'init') deps.onInitRefused?.(err.code, err.reason);
      return { status: 400, body: { code: err.code, message: err.message } };
    }
    if (err instanceof RazerError)
      return { status: err.status, body: { code: err.code, message: err.message } };
    deps.logger.error({ err, endpoint: name }, 'unexpected error answering Razer: 500');
    return {
      status: 500,
      body: { code: 'FAILED', message: 'internal error; the outcome may still change, query again' },
    };
  }

  /** The transaction a failed request was about, when it can be read from it. */
  function numberOf(c: Context<Env>, requestText: string): string | null {
    const fromPath = c.req.param('transactionNumber');
    if (fromPath) return transactionNumberSchema.safeParse(fromPath).success ? fromPath : null;
    try {
      const n = (JSON.parse(requestText) as { transactionNumber?: unknown }).transactionNumber;
      return transactionNumberSchema.safeParse(n).success ? (n as string) : null;
    } catch {
      return null;
    }
  }

  const fromBody = (_c: Context<Env>, body: unknown) => body;

  app.post(
    '/transaction/init',
    limit('init'),
    endpoint('init', initSchema, fromBody, async (call) => {
      const n = call.input.transactionNumber;
      let created: { answer: RazerAnswer; recorded: Finished } | null = null;
      const outcome = await startPurchase(deps, call.input, call.apiId, call.requestHash, (row) => {
        const answer: RazerAnswer = {
          status: 200,
          body: {
            transactionNumber: n,
            transactionToken: row.token,
            status: 'INITIATED',
            sku: row.sku,
            accountId: row.accountId,
          },
        };
        created = { answer, recorded: call.finish(answer, n) };
        return created.recorded.exchange;
      });
      if ('conflict' in outcome) throw new RazerError(409, 'FAILED', 'duplicated transaction');
      // The stored first answer, byte for byte.
      if ('replay' in outcome) return { answer: { status: 200, body: outcome.replay }, transactionNumber: n };
      if (!created) throw new Error('init created a transaction without its answer');
      const { answer, recorded } = created;
      return { answer, transactionNumber: n, recorded };
    }),
  );

  app.post(
    '/transaction/topup',
    limit('topup'),
    endpoint('topup', topupSchema, fromBody, async ({ input }) => {
      const row = await topUp(deps, input.transactionNumber, input.transactionToken);
      return { answer: answerFromState(row), transactionNumber: row.transactionNumber };
    }),
  );

  // No body limit: a GET's body is never read.
  app.get(
    '/transaction/:transactionNumber',
    endpoint(
      'query',
      transactionNumberSchema,
      (c) => c.req.param('transactionNumber'),
      async ({ input }) => {
        const row = await queryTransaction(deps, input);
        return {
          answer: answerFromState(row),
          transactionNumber: row.transactionNumber,
          fromState: isTerminal(row.state) ? 'final' : 'open',
        };
      },
    ),
  );

  app.post(
    '/transaction/cancel',
    limit('cancel'),
    endpoint('cancel', cancelSchema, fromBody, async ({ input }) => {
      const row = await cancelTransaction(deps, input.transactionNumber, input.transactionToken);
      return { answer: cancelAnswer(row), transactionNumber: row.transactionNumber };
    }),
  );

  app.post(
    '/account/validate',
    limit('validate'),
    endpoint('validate', validateSchema, fromBody, async ({ input }) => {
      await checkRequest(deps, input);
      return {
        answer: { status: 200, body: { valid: true, sku: input.sku, accountId: input.accountId } },
        transactionNumber: null,
      };
    }),
  );

  app.get('/health', async (c) => {
    const header = c.req.header('x-razer-signature');
    // A dot segment: answered, never signed (see hasDotSegment).
    const checked = header && !hasDotSegment(rawUri(c)) ? verifyFor(c, 'health', header, NO_BODY) : null;
    const verified = checked?.verified;
    // Still answered (unsigned): a health check needs no signature, but a wrong one is worth a line.
    if (checked && !checked.verified.ok)
      deps.logger.warn(
        {
          endpoint: 'health',
          reason: checked.verified.reason,
          path: loggedPath(c),
          diagnosis: checked.diagnosis,
        },
        'razer health check signature did not verify: answered unsigned',
      );
    let answer: RazerAnswer = { status: 200, body: 'OK' };
    try {
      await storageWritable(deps);
    } catch (err) {
      deps.logger.error({ err }, 'health check: database not writable');
      answer = { status: 500, body: 'database not writable' };
    }
    const done = prepare(c, verified?.ok ? verified : null, 'health', '', '', deps.now())(answer, null);
    return respond(done.status, done.text, done.headers);
  });

  app.notFound((c) =>
    unverified(c, 'unknown', {
      status: 404,
      body: { code: 'NOT_FOUND', message: `no endpoint ${c.req.method} ${c.req.path}` },
    }),
  );
  app.onError((err, c) => {
    deps.logger.error({ err, path: loggedPath(c) }, 'unhandled error: 500');
    // The endpoints answer their own errors once verified (signed); what escapes to here may
    // not have verified, so it is not signed.
    return unverified(c, 'unknown', { status: 500, body: INTERNAL_ERROR });
  });

  return app;
}
