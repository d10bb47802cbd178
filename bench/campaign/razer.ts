import { signRequest } from '../../src/razer/signature.js';
import { jsonObject } from '../../src/sim/razer-client.js';
import type { Instance } from './cluster.js';
import type { Endpoint, Recorder } from './history.js';

/** Longer than any answer may take (TOPUP_WAIT_MS and a supplier timeout): past it, no answer. */
const REQUEST_TIMEOUT_MS = 30_000;

export interface Reply {
  /** null: no answer. */
  status: number | null;
  json: Record<string, unknown>;
}

export interface RazerTrafficOptions {
  recorder: Recorder;
  credential: { apiId: string; key: string };
  pick: (preferred?: string) => Promise<Instance>;
}

/** Razer Gold's side of the run: signed requests to an instance, each one recorded with its answer. */
export class RazerTraffic {
  constructor(private readonly o: RazerTrafficOptions) {}

  init(round: number, body: Record<string, unknown> & { transactionNumber: string }, preferred?: string) {
    return this.#send(round, 'init', body.transactionNumber, 'POST', '/transaction/init', body, preferred);
  }

  topup(round: number, transactionNumber: string, token: unknown, preferred?: string) {
    const body = { transactionNumber, transactionToken: token };
    return this.#send(round, 'topup', transactionNumber, 'POST', '/transaction/topup', body, preferred);
  }

  cancel(round: number, transactionNumber: string, token: unknown, preferred?: string) {
    const body = { transactionNumber, transactionToken: token };
    return this.#send(round, 'cancel', transactionNumber, 'POST', '/transaction/cancel', body, preferred);
  }

  query(round: number, transactionNumber: string, preferred?: string) {
    const path = `/transaction/${encodeURIComponent(transactionNumber)}`;
    return this.#send(round, 'query', transactionNumber, 'GET', path, undefined, preferred);
  }

  async #send(
    round: number,
    endpoint: Endpoint,
    transactionNumber: string,
    method: 'GET' | 'POST',
    path: string,
    body: unknown,
    preferred: string | undefined,
  ): Promise<Reply> {
    const { recorder, credential } = this.o;
    const instance = await this.o.pick(preferred);
    const text = body === undefined ? '' : JSON.stringify(body);
    const sentAt = Date.now();
    const sentTick = recorder.tick();
    let status: number | null = null;
    let answer = '';
    let error: string | undefined;
    try {
      const res = await fetch(instance.url + path, {
        method,
        headers: {
          'x-razer-signature': signRequest(credential, 'body', method, path, text),
          ...(method === 'POST' ? { 'content-type': 'application/json' } : {}),
        },
        body: method === 'POST' ? text : undefined,
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      answer = await res.text();
      status = res.status;
    } catch (err) {
      const cause = err instanceof Error && err.cause instanceof Error ? ` (${err.cause.message})` : '';
      error = err instanceof Error ? `${err.message}${cause}` : String(err);
    }
    recorder.exchanges.push({
      sentTick,
      answeredTick: recorder.tick(),
      round,
      instance: instance.name,
      endpoint,
      transactionNumber,
      sentAt,
      answeredAt: Date.now(),
      status,
      body: answer,
      error,
    });
    return { status, json: jsonObject(answer) };
  }
}
