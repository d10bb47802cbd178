import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { classifyNetworkError, classifyReply, parseRetryAfter } from '../src/mitra/outcome.js';
import { orderStatusDataSchema } from '../src/mitra/schemas.js';
import { readWebhook } from '../src/mitra/webhook-payload.js';
import { interpretOrderStatus } from '../src/readings/mitra.js';

const data = z.object({ trx_code: z.string() });
const reply = (status: number, body: unknown, retryAfter: string | null = null) => ({
  status,
  body: typeof body === 'string' ? body : JSON.stringify(body),
  retryAfter,
});
const env = (http: number, rc: string, status = 'X', d: unknown = null) => ({
  code: http,
  status,
  rc_code: rc,
  message: 'm',
  data: d,
});
const classify = (r: ReturnType<typeof reply>, isOrder = true) => classifyReply(r, data, isOrder, 0);

describe('classifyReply', () => {
  it('accepts rc 00 with readable data', () => {
    expect(classify(reply(200, env(200, '00', 'SUCCESS', { trx_code: 'T1' })))).toEqual({
      kind: 'accepted',
      data: { trx_code: 'T1' },
      httpStatus: 200,
    });
  });

  it.each(['21', '22', '24', '25', '40', '41', '42', '43', '44', '46', '47'])(
    'refuses definitively on rc %s',
    (rc) => {
      expect(classify(reply(400, env(400, rc, 'CLIENT_ERROR')))).toMatchObject({
        kind: 'refused',
        rc,
        status: 'CLIENT_ERROR',
      });
    },
  );

  it('treats rc 23 as "exists" for create-order and as a refusal elsewhere', () => {
    expect(classify(reply(400, env(400, '23')))).toEqual({
      kind: 'exists',
      rc: '23',
      message: 'm',
      httpStatus: 400,
    });
    expect(classify(reply(400, env(400, '23')), false)).toMatchObject({ kind: 'refused', rc: '23' });
  });

  it('defect 6: rc 26 ("already paid") on create-order may mean the order exists: not a refusal', () => {
    expect(classify(reply(400, env(400, '26', 'CLIENT_ERROR')))).toMatchObject({ kind: 'exists', rc: '26' });
    expect(classify(reply(400, env(400, '26')), false)).toMatchObject({ kind: 'refused', rc: '26' });
  });

  it('makes rc 45 and HTTP 429 retryable, with Retry-After', () => {
    expect(classify(reply(429, 'slow down', '7'))).toMatchObject({
      kind: 'retryable',
      rc: '45',
      retryAfterMs: 7000,
    });
    expect(classify(reply(200, env(200, '45')))).toMatchObject({
      kind: 'retryable',
      rc: '45',
      retryAfterMs: null,
    });
  });

  it.each([
    ['HTTP 500', reply(500, env(500, '50'))],
    ['rc 50 on 200', reply(200, env(200, '50'))],
    ['a 5xx with a refusal rc', reply(503, env(503, '44'))],
    ['HTML', reply(502, '<html>bad gateway</html>')],
    ['JSON without rc_code', reply(200, { ok: true })],
    ['an unknown rc', reply(400, env(400, '99'))],
    ['rc 00 on a 4xx', reply(400, env(400, '00'))],
    ['rc 00 with unreadable data', reply(200, env(200, '00', 'SUCCESS', { nope: 1 }))],
  ])('is ambiguous on %s', (_name, r) => {
    expect(classify(r).kind).toBe('ambiguous');
  });

  it('reads rc codes sent as numbers', () => {
    expect(classify(reply(400, { code: 400, status: 'NOT_FOUND', rc_code: 44, message: 'x' }))).toMatchObject(
      { rc: '44' },
    );
  });
});

describe('network errors', () => {
  it('knows a refused connection was never sent, and a timeout or reset may have been', () => {
    const refused = Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
    expect(classifyNetworkError(refused)).toMatchObject({
      kind: 'retryable',
      reason: 'could not connect (ECONNREFUSED)',
    });
    expect(classifyNetworkError(new DOMException('t', 'TimeoutError'))).toMatchObject({ kind: 'ambiguous' });
    const reset = Object.assign(new TypeError('fetch failed'), {
      cause: { code: 'UND_ERR_SOCKET', message: 'other side closed' },
    });
    expect(classifyNetworkError(reset)).toMatchObject({
      kind: 'ambiguous',
      reason: 'connection lost (UND_ERR_SOCKET)',
    });
  });

  it("reads undici's request errors, whose code is on the error itself", () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    expect(classifyNetworkError(refused)).toMatchObject({
      kind: 'retryable',
      reason: 'could not connect (ECONNREFUSED)',
    });
    const unknownHost = Object.assign(new Error('getaddrinfo ENOTFOUND x.invalid'), { code: 'ENOTFOUND' });
    expect(classifyNetworkError(unknownHost)).toMatchObject({ kind: 'retryable' });
    const socket = Object.assign(new Error('other side closed'), {
      name: 'SocketError',
      code: 'UND_ERR_SOCKET',
    });
    expect(classifyNetworkError(socket)).toMatchObject({
      kind: 'ambiguous',
      reason: 'connection lost (UND_ERR_SOCKET)',
    });
    // A timeout's DOMException has a numeric code (23): it is a timeout, never a system error.
    const timeout = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    expect(timeout.code).toBe(23);
    expect(classifyNetworkError(timeout)).toMatchObject({
      kind: 'ambiguous',
      reason: 'timed out waiting for the reply',
    });
  });

  it('reads Retry-After as seconds or a date', () => {
    expect(parseRetryAfter('3', 0)).toBe(3000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4000)).toBe(6000);
    expect(parseRetryAfter('soon', 0)).toBeNull();
    expect(parseRetryAfter(null, 0)).toBeNull();
  });
});

describe('order status readings', () => {
  // What was read, without which reading decided (test/readings-settings.test.ts checks that).
  const status = (s: unknown, extra: Record<string, unknown> = {}) => {
    const { decidedBy, ...read } = interpretOrderStatus(
      orderStatusDataSchema.parse({ code: 'T', status: s, ...extra }),
    );
    expect(decidedBy).not.toBe('');
    return read;
  };

  it('reads 1 as processing and 2 as success with the voucher code', () => {
    expect(status(1)).toEqual({ kind: 'processing' });
    expect(status(2, { detail: { voucher_code: 'V-1' }, sn: 'SN1' })).toEqual({
      kind: 'success',
      voucherCode: 'V-1',
      serial: 'SN1',
    });
    expect(status(2, { sn: 'SN2' })).toEqual({ kind: 'success', voucherCode: 'SN2', serial: 'SN2' });
  });

  it('reads 3 as failed, with the reason from sn or detail.sn', () => {
    expect(status(3, { sn: 'invalid player' })).toEqual({
      kind: 'failed',
      refunded: false,
      reason: 'invalid player',
    });
    expect(status(3, { detail: { sn: 'from detail' } })).toEqual({
      kind: 'failed',
      refunded: false,
      reason: 'from detail',
    });
  });

  it.each([0, 4, 5, 9, 99])('reads any other number (%s) as unclear, never failed, naming it', (n) => {
    expect(status(n, { sn: 'queued at the game' })).toEqual({
      kind: 'unclear',
      why: `status ${n} is none the gateway reads (1 processing, 2 success, 3 failed)`,
      unknownStatus: n,
    });
  });

  it('reads a refund in the history as failed, even after a success', () => {
    const history = [{ status_name: 'Success' }, { status_name: 'REFUNDED to balance' }];
    expect(status(2, { history_status: history, sn: 'provider error' })).toEqual({
      kind: 'failed',
      refunded: true,
      reason: 'provider error',
    });
  });

  it.each([
    ['null', null],
    ['an empty string', ''],
    ['false', false],
    ['an empty list', []],
    ['a word', 'done'],
    ['missing', undefined],
  ])('defect 6: a status that is %s says nothing: unclear, never failed', (_name, s) => {
    expect(status(s, { sn: 'x' })).toMatchObject({ kind: 'unclear' });
  });

  it('reads a status sent as a string of digits', () => {
    expect(status('2', { sn: 'SN' })).toMatchObject({ kind: 'success' });
    expect(status(' 1 ')).toEqual({ kind: 'processing' });
  });

  it.each([
    'Refund rejected',
    'Non-refundable',
    'NON REFUNDABLE',
    'Refund failed',
    'Not refunded',
    'Refund requested',
  ])('defect 6: a history entry "%s" is not a refund', (name) => {
    expect(
      status(2, { history_status: [{ status_name: 'Success' }, { status_name: name }], sn: 'V' }),
    ).toMatchObject({
      kind: 'success',
    });
  });

  it.each([
    'No Refund',
    'Refundable',
    'Success - no refund needed',
    'Refund processing',
    'Refund in progress',
    'Refund Request Approved',
    'Refund Cancelled',
    'Refund Canceled',
    'Refund Reversed',
    'Refund Ditolak',
    'Refund Gagal',
    'Proses Refund',
    'Menunggu Refund',
    'Refund Process',
    'Refund Queued',
  ])('review: "%s" is not a refund (a wrong yes answers 400 for goods delivered)', (name) => {
    expect(status(2, { history_status: [{ status_name: name }], sn: 'V' })).toMatchObject({
      kind: 'success',
    });
  });

  it('review: a webhook reports a status sent as a string of digits, as an order status is read', () => {
    expect(readWebhook('{"data":{"trx_code":"T","status":"2"}}')).toMatchObject({ reportedStatus: 2 });
    expect(readWebhook('{"data":{"trx_code":"T","status":null}}')).toMatchObject({ reportedStatus: null });
  });

  it.each([
    'Refund',
    'Refunded',
    'refund success',
    'REFUNDED to balance',
    'Cancelled and Refunded',
    'Refund processed',
    'Refund  Berhasil',
    ' refunded ',
  ])('"%s" is a refund', (name) => {
    expect(status(2, { history_status: [{ status_name: name }] })).toMatchObject({
      kind: 'failed',
      refunded: true,
    });
  });

  it('defect 1: an empty voucher_code is no value: the code comes from sn, else there is none', () => {
    expect(status(2, { detail: { voucher_code: '' }, sn: 'CODE-IN-SN' })).toMatchObject({
      kind: 'success',
      voucherCode: 'CODE-IN-SN',
    });
    expect(status(2, { detail: { voucher_code: '  ' }, sn: '' })).toMatchObject({
      kind: 'success',
      voucherCode: null,
    });
    expect(status(2, { detail: { voucher_code: null } })).toMatchObject({
      kind: 'success',
      voucherCode: null,
    });
  });
});
