import type { IncomingMessage, ServerResponse } from 'node:http';
import { type RequestLine, requestId } from '../http/request-log.js';
import type { Logger } from '../log.js';
import type { QueryAnswers } from './query-answers.js';

export interface KeptAnswerDeps {
  /** The same memory the Razer routes keep final answers in. */
  answers: QueryAnswers;
  audit: { repeatedQuery(transactionNumber: string, at: number): void };
  now: () => number;
  record: (line: RequestLine) => void;
  logger: Logger;
}

/**
 * Answers a GET whose exact request target and signature header already got a final answer that
 * was kept (see QueryAnswers), before @hono/node-server and Hono build a Request, a context and
 * a middleware chain for it: those were most of the CPU and of the garbage of a repeated poll,
 * and their collector pauses most of its p99. Everything the routes do for such a request is
 * done here too: the same bytes answered, the repeat counted on its transaction, the request
 * counted and its line written (debug level), X-Request-Id echoed. Anything else, or anything
 * that fails before the answer is written, goes on to the app (returns false).
 */
export function keptAnswerShortcut(deps: KeptAnswerDeps) {
  return (incoming: IncomingMessage, outgoing: ServerResponse): boolean => {
    if (incoming.method !== 'GET') return false;
    const target = incoming.url;
    const header = incoming.headers['x-razer-signature'];
    if (target === undefined || typeof header !== 'string') return false;
    // node-server refuses a Host it cannot build a URL from (400): such a request is left to it.
    const host = incoming.headers.host;
    if (host !== undefined && !plainHost(host)) return false;
    const known = deps.answers.final(target, header);
    if (!known) return false;
    const started = performance.now();
    const given = incoming.headers['x-request-id'];
    const id = requestId(Array.isArray(given) ? given.join(', ') : given);
    const { status, text, headers } = known.answer;
    try {
      outgoing.writeHead(status, {
        ...headers,
        'content-length': Buffer.byteLength(text),
        'x-request-id': id,
      });
    } catch (err) {
      // Nothing written yet (writeHead only stores the head): the app answers instead.
      deps.logger.error({ err }, 'could not answer a repeated query from memory; the app answers it');
      return false;
    }
    outgoing.end(text);
    try {
      deps.audit.repeatedQuery(known.transactionNumber, deps.now());
      deps.record({
        reqId: id,
        method: 'GET',
        path: pathOf(target),
        endpoint: 'query',
        status,
        seconds: (performance.now() - started) / 1000,
        transactionNumber: known.transactionNumber,
        answeredAsBefore: true,
      });
    } catch (err) {
      deps.logger.error({ err }, 'could not count a repeated query answered from memory');
    }
    return true;
  };
}

/** The path of a request target, as Hono gives it to the request log (no query string). */
const pathOf = (target: string) => {
  const q = target.indexOf('?');
  return q === -1 ? target : target.slice(0, q);
};

/** A Host header node-server takes as it is: a name or an address, and at most a valid port. */
function plainHost(host: string): boolean {
  const m = /^(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.?|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?$/.exec(host);
  return m !== null && (m[1] === undefined || Number(m[1]) <= 65_535);
}
