import { writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { orderEnded, SETTLE_MS, type Sighting } from '../src/conformance/ending.js';
import { combineFixes, makeFix } from '../src/conformance/fix.js';
import { finalAttempts } from '../src/conformance/judge/catalogue.js';
import { judge } from '../src/conformance/judge/index.js';
import { lastConformanceReport } from '../src/conformance/last-report.js';
import {
  balanceAlternatives,
  brandSearchOrder,
  formValues,
  type Product,
  parseFormOverride,
  parseProductRef,
  planOrders,
  spendOf,
} from '../src/conformance/plan.js';
import { buildReport, renderSummary, reportStamp } from '../src/conformance/render.js';
import type {
  Exchange,
  Finding,
  Observations,
  OrderRecord,
  WebhookRecord,
} from '../src/conformance/report.js';
import { lookupRecord, needsLookup } from '../src/conformance/run/outcomes.js';
import { codeCandidates, looksLikeCode, placesOf, reasonCandidates } from '../src/conformance/search.js';
import { DEFAULT_READINGS, parseReadings } from '../src/readings/settings.js';
import { type TempDir, tempDir } from './helpers/storage.js';

// The pure parts of `gateway conformance`: the plan, the end of an order, the judgement of
// each reading and its fix, on observations written by hand.

const R = DEFAULT_READINGS;
/** A reply `t` seconds into the polling. */
const sight = (
  t: number,
  status: number | null,
  historyLength = 1,
  refundNamed = false,
  codeRead = false,
): Sighting => ({
  at: t * 1000,
  status,
  historyLength,
  refundNamed,
  codeRead,
});
const RULES = { settleMs: SETTLE_MS, voucher: false };

describe('when an order has ended', () => {
  it('ends on a number the readings say is final, or a refund name; never on processing', () => {
    expect(orderEnded([sight(0, 1)], R).ended).toBe(false);
    expect(orderEnded([sight(0, 1), sight(2, 2, 2)], R)).toMatchObject({ ended: true });
    expect(orderEnded([sight(0, 1), sight(2, 3, 2)], R)).toMatchObject({ ended: true });
    expect(orderEnded([sight(0, 1), sight(2, 9, 3, true)], R)).toMatchObject({
      ended: true,
      why: 'a history name reads as a refund',
    });
    expect(orderEnded([], R).ended).toBe(false);
    expect(orderEnded([sight(0, 1), sight(2, null)], R).ended).toBe(false);
  });

  it('takes an unknown number as final once it followed a change and held SETTLE_MS on the run clock', () => {
    expect(SETTLE_MS).toBe(60_000);
    expect(orderEnded([sight(0, 1), sight(2, 4, 2)], R).ended).toBe(false);
    // Two more polls (4 s) is not enough: a slow in-progress number is not an end.
    expect(orderEnded([sight(0, 1), sight(2, 4, 2), sight(4, 4, 2), sight(6, 4, 2)], R)).toMatchObject({
      ended: false,
      why: 'status 4, unknown to the readings, has held 4 s since a change (it must hold 60 s to be taken as final)',
    });
    expect(orderEnded([sight(0, 1), sight(2, 4, 2), sight(61, 4, 2)], R).ended).toBe(false);
    expect(orderEnded([sight(0, 1), sight(2, 4, 2), sight(62, 4, 2)], R)).toMatchObject({
      ended: true,
      why: 'status 4, unknown to the readings, followed a change and held 60 s (taken as final by the polling alone)',
    });
    // Held long in one reply, but no second reply with it: not yet.
    expect(orderEnded([sight(0, 1), sight(100, 4, 2)], R).ended).toBe(false);
    // The settle time is the run's: a short one, as a test may give.
    expect(
      orderEnded([sight(0, 1), sight(2, 4, 2), sight(4, 4, 2)], R, { ...RULES, settleMs: 2000 }).ended,
    ).toBe(true);
    // Unknown from the first reply, nothing changed: it may be processing, so it is not an end.
    expect(orderEnded([sight(0, 4), sight(100, 4), sight(200, 4)], R).ended).toBe(false);
    // A change in the history counts as much as a change of number.
    expect(orderEnded([sight(0, 4, 1), sight(2, 4, 2), sight(70, 4, 2)], R).ended).toBe(true);
    // A reply without a number is neither a change nor a hold.
    expect(orderEnded([sight(0, 1), sight(2, null), sight(4, 4, 2), sight(100, null)], R).ended).toBe(false);
  });

  it("keeps asking a voucher's success without a code, as the gateway does, for SETTLE_MS", () => {
    const voucher = { ...RULES, voucher: true };
    expect(orderEnded([sight(0, 1), sight(2, 2, 2, false, true)], R, voucher).ended).toBe(true);
    expect(orderEnded([sight(0, 1), sight(2, 2, 2)], R, voucher)).toMatchObject({
      ended: false,
      why: expect.stringMatching(/no code at mitra.voucher_code_at yet/),
    });
    expect(orderEnded([sight(0, 1), sight(2, 2, 2), sight(40, 2, 2)], R, voucher).ended).toBe(false);
    expect(
      orderEnded([sight(0, 1), sight(2, 2, 2), sight(40, 2, 2), sight(42, 2, 2, false, true)], R, voucher)
        .ended,
    ).toBe(true);
    expect(orderEnded([sight(0, 1), sight(2, 2, 2), sight(62, 2, 2)], R, voucher)).toMatchObject({
      ended: true,
      why: 'status 2 is in mitra.order_status.success, and no code at mitra.voucher_code_at after 60 s',
    });
    // A top-up ends on its success at once.
    expect(orderEnded([sight(0, 1), sight(2, 2, 2)], R).ended).toBe(true);
  });
});

const MLBB: Product = {
  brandKey: 'MLBB',
  variationKey: 'MLBB112',
  price: 15000,
  forms: [
    { key: 'user_id', type: 'numeric' },
    { key: 'server', type: 'option', options: ['Asia', 'Europe'] },
    { key: 'nick', type: 'text' },
  ],
  isVoucher: false,
};
const STEAM: Product = {
  brandKey: 'STEAM',
  variationKey: 'STEAMV50',
  price: 55000,
  forms: [],
  isVoucher: true,
};

describe('the probe plan', () => {
  it('places the ending orders first, the refusals after, the duplicate with the top-up ref_id', () => {
    const plan = planOrders({
      topup: MLBB,
      voucher: STEAM,
      fail: { ...MLBB, variationKey: 'FAIL10', price: 1000 },
      refund: null,
      forms: { nick: 'tester' },
      runStartMs: 1700000000000,
    });
    expect(plan.orders.map((o) => [o.scenario, o.variationKey, o.refId, o.expect])).toEqual([
      ['topup', 'MLBB112', 'conf-1700000000000-1', 'success'],
      ['voucher', 'STEAMV50', 'conf-1700000000000-2', 'success'],
      ['fail-product', 'FAIL10', 'conf-1700000000000-3', 'failed'],
      ['product-not-found', 'VCG', 'conf-1700000000000-4', 'refused'],
      ['empty-ref-id', 'MLBB112', '', 'refused'],
      ['empty-data', 'MLBB112', 'conf-1700000000000-6', 'refused'],
      ['duplicate-ref-id', 'MLBB112', 'conf-1700000000000-1', 'exists'],
    ]);
    expect(plan.orders[0]?.data).toEqual([
      { key: 'user_id', value: '12345678' },
      { key: 'server', value: 'Asia' },
      { key: 'nick', value: 'tester' },
    ]);
    expect(plan.orders.find((o) => o.scenario === 'empty-data')?.data).toEqual([]);
    expect(plan.skipped).toEqual([]);
    expect(spendOf(plan.orders)).toEqual({ expected: 71000, atMost: 131000 });
  });

  it('says why what cannot be placed is not', () => {
    const plan = planOrders({
      topup: null,
      voucher: STEAM,
      fail: null,
      refund: null,
      forms: {},
      runStartMs: 1,
    });
    expect(plan.orders.map((o) => o.scenario)).toEqual(['voucher']);
    expect(plan.skipped.map((s) => s.scenario)).toEqual([
      'topup',
      'product-not-found',
      'empty-ref-id',
      'empty-data',
      'duplicate-ref-id',
    ]);
    const formless = planOrders({
      topup: { ...MLBB, forms: [] },
      voucher: null,
      fail: null,
      refund: null,
      forms: {},
      runStartMs: 1,
    });
    expect(formless.skipped.find((s) => s.scenario === 'empty-data')?.why).toMatch(/no forms/);
  });

  it('reads the brand whose key starts the variation key first, the longest first', () => {
    const brands = [
      { key: 'GENSHIN', name: 'Genshin' },
      { key: 'ML', name: 'Mobile' },
      { key: 'MLBB', name: 'Mobile Legends' },
      { key: 'X', name: 'Steam Wallet' },
    ];
    expect(brandSearchOrder(brands, 'MLBB112').map((b) => b.key)).toEqual(['MLBB', 'ML', 'GENSHIN', 'X']);
    expect(brandSearchOrder(brands, 'STEAMV50').map((b) => b.key)).toEqual(['X', 'GENSHIN', 'ML', 'MLBB']);
  });

  it('reads its flags, and tries at most four balance alternatives, never the configured one', () => {
    expect(parseProductRef('SIMTEST/FAIL10')).toEqual({ brandKey: 'SIMTEST', variationKey: 'FAIL10' });
    expect(parseProductRef('FAIL10')).toBeNull();
    expect(parseFormOverride('user_id=42=x')).toEqual({ key: 'user_id', value: '42=x' });
    expect(parseFormOverride('=x')).toBeNull();
    expect(formValues([{ key: 'k', type: 'option' }], {})).toEqual([{ key: 'k', value: 'option' }]);
    const alts = balanceAlternatives({ path: '/v2/public/balance', word: 'balance' });
    expect(alts).toHaveLength(3);
    expect(alts).not.toContainEqual({ path: '/v2/public/balance', word: 'balance' });
    expect(balanceAlternatives({ path: null, word: 'balance' })).toHaveLength(4);
  });
});

describe('searching a reply', () => {
  it('finds code-like and reason-like fields, never our own references or the order data', () => {
    const data = {
      code: 'TRX-1',
      ref_id: 'conf-1-1',
      detail: { variation_key: 'V', voucherCode: 'ABC', pin: 'P-1', note: 'bad id', keterangan: '' },
      history_status: [{ status_name: 'x', serial: 'no' }],
      serial_number: 'TRX-1',
    };
    expect(codeCandidates(data, ['TRX-1', 'conf-1-1'])).toEqual([]);
    const long = { ...data, detail: { ...data.detail, voucherCode: 'ABCD-1234', pin: 'P-99887766' } };
    expect(codeCandidates(long, ['TRX-1', 'conf-1-1'])).toEqual(['detail.voucherCode', 'detail.pin']);
    expect(reasonCandidates(data, [])).toEqual(['detail.note']);
    expect(placesOf({ a: { b: 'x' }, l: [{ c: 'x' }] }, 'x')).toEqual([
      { keys: ['a', 'b'], inArray: false },
      { keys: ['l', 'c'], inArray: true },
    ]);
  });
});

// ------------------------------------------------------------------ judgement

function order(over: Partial<OrderRecord> & Pick<OrderRecord, 'scenario' | 'expect'>): OrderRecord {
  return {
    brandKey: 'B',
    variationKey: 'V',
    price: 1000,
    refId: `conf-1-${over.scenario}`,
    data: [],
    isVoucher: false,
    create: {
      outcome: 'accepted',
      rc: '00',
      status: 'SUCCESS',
      httpStatus: 200,
      message: null,
      trxCode: `TRX-${over.scenario}`,
    },
    polls: [],
    last: null,
    ended: true,
    endedWhy: 'test',
    found: { voucherAt: null, voucherRead: false, reasonAt: null, reasonRead: false },
    createLookup: null,
    byRef: null,
    ...over,
  };
}
const polls = (...statuses: number[]): OrderRecord['polls'] =>
  statuses.map((status) => ({
    at: '',
    outcome: 'accepted',
    rc: '00',
    httpStatus: 200,
    status,
    historyNames: [],
  }));

function observations(over: Partial<Observations> = {}): Observations {
  return {
    options: {
      production: false,
      confirmSpendIdr: null,
      listen: null,
      timeoutSeconds: 120,
      webhookWaitSeconds: 30,
      failProduct: null,
      refundProduct: null,
      forms: {},
    },
    catalogue: { brandsOutcome: 'accepted', brandCount: 0, forms: [], searched: [], missing: [] },
    balance: [],
    orders: [],
    skipped: [],
    webhooks: { via: 'listener', waitedSeconds: 0, items: [] },
    exchanges: [],
    ...over,
  };
}

const of = (findings: Finding[], id: string): Finding => {
  const f = findings.find((x) => x.id === id);
  if (!f) throw new Error(id);
  return f;
};

function webhook(body: unknown, names: string[]): WebhookRecord {
  const text = JSON.stringify(body);
  return {
    receivedAt: '',
    via: 'listener',
    source: '127.0.0.1',
    allowedSource: true,
    headers: {},
    body: text,
    names,
    readAs: { kind: 'unrecognised', refs: [], why: 'names no transaction and no product' },
  };
}

describe('the judgement', () => {
  it('shows a fix the guard rails refuse as refused, with their reason', () => {
    const obs = observations({
      orders: [order({ scenario: 'fail-product', expect: 'failed', polls: polls(1, 2) })],
      options: { ...observations().options, failProduct: 'B/V' },
    });
    const failed = of(judge(obs, R), 'mitra.order_status.failed');
    expect(failed.verdict).toBe('contradicted');
    expect(failed.fix?.change).toEqual({ mitra: { order_status: { failed: [3, 2], success: [] } } });
    expect(failed.fix?.accepted).toBe(false);
    expect(failed.fix?.refusedBecause.join('\n')).toMatch(/must include 2/);
    expect(failed.fix?.caution).toMatch(/read as delivered today/);
    const report = buildReport({
      startedAt: 0,
      finishedAt: 1,
      mitra: { url: 'http://sim', host: 'other host' },
      storage: 'db',
      readingsFile: 'config/readings.yaml',
      readings: R,
      observations: obs,
      problems: [],
      incomplete: false,
    });
    expect(report.exitCode).toBe(1);
    expect(renderSummary(report)).toMatch(
      /REFUSED by the guard rails: mitra\.order_status\.success: must include 2/,
    );
  });

  it('an rc Mitra does not document as a refusal: contradicted, and the fix is refused', () => {
    const obs = observations({
      orders: [
        order({
          scenario: 'product-not-found',
          expect: 'refused',
          create: {
            outcome: 'ambiguous',
            rc: '99',
            status: 'NOT_FOUND',
            httpStatus: 404,
            message: 'no',
            trxCode: null,
          },
        }),
      ],
    });
    const f = of(judge(obs, R), 'mitra.rc.refused');
    expect(f.verdict).toBe('contradicted');
    expect(f.fix?.accepted).toBe(false);
    expect(f.fix?.refusedBecause.join()).toMatch(/rc 99 is not a refusal Mitra documents/);
  });

  it('proposes the keys of a webhook that carries our references under other names', () => {
    const o = order({ scenario: 'topup', expect: 'success', polls: polls(1, 2) });
    const body = { invoice: 'TRX-topup', ours: 'conf-1-topup', nested: { deep: { x: 1 } } };
    const f = of(
      judge(
        observations({
          orders: [o],
          webhooks: {
            via: 'listener',
            waitedSeconds: 1,
            items: [webhook(body, ['conf-1-topup', 'TRX-topup'])],
          },
        }),
        R,
      ),
      'mitra.webhook',
    );
    expect(f.verdict).toBe('contradicted');
    expect(f.fix?.change).toEqual({
      mitra: {
        webhook: { trx_code_keys: ['trx_code', 'tid', 'code', 'invoice'], ref_id_keys: ['ref_id', 'ours'] },
      },
    });
    expect(f.fix?.accepted).toBe(true);
    // References in a list: no layer can name them.
    const listed = webhook({ items: [{ trx: 'TRX-topup' }] }, ['TRX-topup']);
    const g = of(
      judge(observations({ orders: [o], webhooks: { via: 'store', waitedSeconds: 1, items: [listed] } }), R),
      'mitra.webhook',
    );
    expect(g.verdict).toBe('contradicted');
    expect(g.fix).toBeNull();
    expect(g.why).toMatch(/in a list/);
  });

  it('a voucher delivered with no code anywhere: contradicted, without a fix', () => {
    const v = order({
      scenario: 'voucher',
      expect: 'success',
      isVoucher: true,
      polls: polls(1, 2),
      last: { code: 'TRX-voucher', status: 2, detail: { voucher_code: '' }, sn: null },
    });
    const f = of(judge(observations({ orders: [v] }), R), 'mitra.voucher_code_at');
    expect(f.verdict).toBe('contradicted');
    expect(f.fix).toBeNull();
    expect(f.why).toMatch(/no field of the reply looks like a code/);
  });

  it('a delivered order whose history reads as a refund contradicts the refund names', () => {
    const o = order({
      scenario: 'topup',
      expect: 'success',
      polls: [
        { at: '', outcome: 'accepted', rc: '00', httpStatus: 200, status: 2, historyNames: ['Refunded'] },
      ],
    });
    const f = of(judge(observations({ orders: [o] }), R), 'mitra.refund_names');
    expect(f.verdict).toBe('contradicted');
    expect(f.why).toMatch(/narrow it/);
  });

  it('a second order for one ref_id contradicts may_exist, without a fix', () => {
    const dup = order({ scenario: 'duplicate-ref-id', expect: 'exists' });
    const f = of(judge(observations({ orders: [dup] }), R), 'mitra.rc.may_exist');
    expect(f.verdict).toBe('contradicted');
    expect(f.fix).toBeNull();
  });

  it('judges with the readings in force, not the defaults', () => {
    const custom = parseReadings({ mitra: { order_status: { failed: [3, 4] } } });
    if (!custom.success) throw new Error('readings');
    const obs = observations({
      orders: [order({ scenario: 'fail-product', expect: 'failed', polls: polls(1, 4) })],
    });
    expect(of(judge(obs, R), 'mitra.order_status.failed').verdict).toBe('contradicted');
    expect(of(judge(obs, custom.data), 'mitra.order_status.failed').verdict).toBe('confirmed');
  });

  it('checks every fix together as well as apart', () => {
    const a = makeFix({ mitra: { order_status: { processing: [1, 5] } } }, R);
    const b = makeFix({ mitra: { order_status: { failed: [3, 5] } } }, R);
    expect(a.accepted && b.accepted).toBe(true);
    const both = combineFixes([a, b], R);
    expect(both?.accepted).toBe(false);
    expect(both?.refusedBecause.join()).toMatch(/status 5 is both processing and failed/);
  });
});

// ------------------------------------------------------------------ what a fix may cost

/** Polls `t` seconds into the run, each [t, status, history names]. */
const timed = (...replies: [number, number, string[]][]): OrderRecord['polls'] =>
  replies.map(([t, status, historyNames]) => ({
    at: new Date(Date.UTC(2026, 0, 1) + t * 1000).toISOString(),
    outcome: 'accepted',
    rc: '00',
    httpStatus: 200,
    status,
    historyNames,
  }));

function report(obs: Observations) {
  return buildReport({
    startedAt: 0,
    finishedAt: 1,
    mitra: { url: 'http://sim', host: 'other host' },
    storage: 'db',
    readingsFile: 'config/readings.yaml',
    readings: R,
    observations: obs,
    problems: [],
    incomplete: false,
  });
}

function exchange(over: Partial<Exchange>): Exchange {
  return {
    at: '',
    step: 'status topup',
    operation: 'order-status',
    method: 'GET',
    path: '/v2/public/order-status',
    query: { tid: 'TRX-topup', sign: '[redacted]' },
    requestBody: null,
    httpStatus: 200,
    replyBody: JSON.stringify({ code: 200, status: 'SUCCESS', rc_code: '00', message: 'ok', data: {} }),
    outcome: 'accepted',
    rc: '00',
    error: null,
    durationMs: 1,
    ...over,
  };
}

describe('a status number is proposed only with corroboration (M2, M3)', () => {
  const failedTopup = order({
    scenario: 'topup',
    expect: 'success',
    variationKey: 'MLBB112',
    polls: timed(
      [0, 1, ['Pending']],
      [2, 4, ['Pending', 'Transaksi Gagal']],
      [64, 4, ['Pending', 'Transaksi Gagal']],
    ),
    last: { code: 'TRX-topup', status: 4, sn: 'invalid user id', detail: { variation_key: 'MLBB112' } },
    endedWhy: 'status 4, unknown to the readings, followed a change and held 62 s',
  });

  it('a top-up that failed on an unknown number (history "Transaksi Gagal"): contradicted, the fix not accepted', () => {
    const r = report(observations({ orders: [failedTopup] }));
    const f = of(r.findings, 'mitra.order_status.success');
    expect(f.verdict).toBe('contradicted');
    expect(f.evidence.join('\n')).toMatch(
      /not corroborated: its history holds "Transaksi Gagal", which says failed/,
    );
    expect(f.fix?.change).toEqual({ mitra: { order_status: { success: [2, 4] } } });
    expect(f.fix?.accepted).toBe(false);
    expect(f.fix?.refusedBecause[0]).toMatch(
      /^not corroborated: nothing but the polling says status 4 means delivered/,
    );
    expect(f.fix?.caution).toBe(
      'status 4 held for 62 s on MLBB112 (topup, ref_id "conf-1-topup") with history "Pending", "Transaksi Gagal": ask Mitra what 4 means before adding it',
    );
    // Every fix at once is never accepted with one that is not.
    expect(r.combinedFix?.accepted).toBe(false);
    expect(r.exitCode).toBe(1);
    expect(renderSummary(r)).toMatch(/NOT ACCEPTED, not corroborated: nothing but the polling says status 4/);
  });

  it('a long in-progress number with a neutral history is not "delivered"', () => {
    const slow = order({
      ...failedTopup,
      polls: timed(
        [0, 1, ['Pending']],
        [2, 5, ['Pending', 'Diproses provider']],
        [70, 5, ['Pending', 'Diproses provider']],
      ),
      last: { code: 'TRX-topup', status: 5, detail: {} },
    });
    const f = of(judge(observations({ orders: [slow] }), R), 'mitra.order_status.success');
    expect(f.fix?.accepted).toBe(false);
    expect(f.fix?.refusedBecause[0]).toMatch(/no history name says delivered/);
    expect(f.fix?.caution).toMatch(/status 5 held for 68 s .*: ask Mitra what 5 means before adding it/);
  });

  it('a success name in the history, or a code on a voucher, corroborates; never with failure words', () => {
    const named = order({
      ...failedTopup,
      polls: timed(
        [0, 1, ['Pending']],
        [2, 4, ['Pending', 'Transaksi Sukses']],
        [64, 4, ['Pending', 'Transaksi Sukses']],
      ),
    });
    const a = of(judge(observations({ orders: [named] }), R), 'mitra.order_status.success');
    expect(a.fix).toMatchObject({ accepted: true, caution: null, refusedBecause: [] });
    expect(a.evidence.join('\n')).toMatch(/corroborated by history "Transaksi Sukses"/);

    const voucher = (last: unknown, names: string[] = []) =>
      order({
        scenario: 'voucher',
        expect: 'success',
        isVoucher: true,
        brandKey: 'STEAM',
        variationKey: 'STEAMV50',
        polls: timed([0, 1, []], [2, 4, names], [64, 4, names]),
        last,
      });
    const coded = voucher({ code: 'TRX-voucher', status: 4, detail: { voucher_code: 'ABCD-EFGH-1234' } });
    expect(of(judge(observations({ orders: [coded] }), R), 'mitra.order_status.success').fix?.accepted).toBe(
      true,
    );
    // sn (a voucher_code_at path) holding a sentence is no code.
    const sentence = voucher({ code: 'TRX-voucher', status: 4, sn: 'out of stock' });
    expect(
      of(judge(observations({ orders: [sentence] }), R), 'mitra.order_status.success').fix?.accepted,
    ).toBe(false);
    const refunded = voucher({ code: 'TRX-voucher', status: 4, detail: { voucher_code: 'ABCD-EFGH-1234' } }, [
      'Success',
      'Dana Dikembalikan',
    ]);
    expect(
      of(judge(observations({ orders: [refunded] }), R), 'mitra.order_status.success').fix?.accepted,
    ).toBe(false);
  });

  const failing = (names: string[], last: unknown) =>
    order({
      scenario: 'fail-product',
      expect: 'failed',
      variationKey: 'FAIL10',
      polls: timed([0, 1, ['Pending']], [2, 5, names], [64, 5, names]),
      last,
    });
  const failedOf = (o: OrderRecord) =>
    of(
      judge(
        observations({ orders: [o], options: { ...observations().options, failProduct: 'B/FAIL10' } }),
        R,
      ),
      'mitra.order_status.failed',
    );

  it('--fail-product on an unknown number "On hold": contradicted, the fix not accepted', () => {
    const f = failedOf(failing(['Pending', 'On hold'], { code: 'TRX-fail-product', status: 5, detail: {} }));
    expect(f.verdict).toBe('contradicted');
    expect(f.fix?.change).toEqual({ mitra: { order_status: { failed: [3, 5] } } });
    expect(f.fix?.accepted).toBe(false);
    expect(f.fix?.refusedBecause[0]).toMatch(/no history name says failed and the reply carries no reason/);
    expect(f.fix?.caution).toMatch(
      /status 5 held for 62 s on FAIL10 .* "Pending", "On hold": ask Mitra what 5 means/,
    );
  });

  it('a failure name or a reason corroborates a failure; a success name never does', () => {
    expect(failedOf(failing(['Pending', 'Gagal'], { status: 5 })).fix?.accepted).toBe(true);
    expect(failedOf(failing(['Pending', 'Dibatalkan'], { status: 5 })).fix?.accepted).toBe(true);
    const reason = failedOf(failing(['Pending'], { status: 5, sn: 'Sandbox: this product always fails' }));
    expect(reason.fix?.accepted).toBe(true);
    expect(reason.evidence.join('\n')).toMatch(/corroborated by a reason at sn/);
    // A serial is no reason.
    expect(failedOf(failing(['Pending'], { status: 5, sn: 'SN00012345' })).fix?.accepted).toBe(false);
    expect(failedOf(failing(['Pending', 'Success'], { status: 5, sn: 'out of stock' })).fix?.accepted).toBe(
      false,
    );
  });
});

describe('the voucher path search (M4)', () => {
  it('never proposes a currency, an error, a status, a type, an expiry, a promo or a product', () => {
    const data = {
      code: 'TRX1',
      ref_id: 'conf-1',
      status: 2,
      detail: {
        variation_key: 'STEAMV50',
        error_code: '0',
        currency_code: 'IDR',
        product_code: 'STEAMV50',
        voucher_expired_at: '2027-12-31',
        pin_status: 'SENT',
        sn_type: 'voucher',
        promo_code: 'NEWYEAR2026',
        variation_code: 'STEAMV50-IDR',
        price_code: 'P-55000-IDR',
        voucher_code: '',
      },
    };
    expect(codeCandidates(data, ['conf-1', 'TRX1', 'STEAM', 'STEAMV50'])).toEqual([]);
    // Not our own references, not a small number, not a sentence.
    expect(
      codeCandidates(
        { detail: { code: 'STEAMV50', voucher: '123456', sn: 'invalid user id', pin: '1234 5678 9012' } },
        ['STEAMV50'],
      ),
    ).toEqual(['detail.pin']);
    expect(looksLikeCode('STEAM-A1B2C3D4E5F6', [])).toBe(true);
    expect(looksLikeCode('OUT OF STOCK', [])).toBe(false);
    expect(looksLikeCode('RUPIAH', [])).toBe(false);
    expect(looksLikeCode('123456789012', [])).toBe(true);
  });

  const voucher = (last: unknown) =>
    order({
      scenario: 'voucher',
      expect: 'success',
      isVoucher: true,
      brandKey: 'STEAM',
      variationKey: 'STEAMV50',
      polls: polls(1, 2),
      last,
      endedWhy: 'status 2 is in mitra.order_status.success, and no code at mitra.voucher_code_at after 60 s',
    });

  it('a delivered voucher whose code is in a list, beside currency_code "IDR": no fix', () => {
    const v = voucher({
      code: 'TRX-voucher',
      status: 2,
      detail: {
        variation_key: 'STEAMV50',
        price: 55000,
        currency_code: 'IDR',
        voucher_code: '',
        vouchers: [{ code: 'REAL-CODE-1' }],
      },
    });
    const f = of(judge(observations({ orders: [v] }), R), 'mitra.voucher_code_at');
    expect(f.verdict).toBe('contradicted');
    expect(f.fix).toBeNull();
    expect(f.why).toMatch(/no field of the reply looks like a code/);
  });

  it('first when no path in force held anything on a delivered order; else after them; always with a caution', () => {
    const v = voucher({ code: 'TRX-voucher', status: 2, detail: { code: 'STEAM-A1B2C3D4E5F6' }, sn: null });
    const alone = of(judge(observations({ orders: [v] }), R), 'mitra.voucher_code_at');
    expect(alone.fix?.change).toEqual({
      mitra: { voucher_code_at: ['detail.code', 'detail.voucher_code', 'sn', 'detail.sn'] },
    });
    expect(alone.fix?.accepted).toBe(true);
    expect(alone.fix?.caution).toMatch(/found by a search .* check with Mitra .* read first/);
    // The top-up's serial at sn: sn holds something on a delivered order, and stays before it.
    const topup = order({
      scenario: 'topup',
      expect: 'success',
      polls: polls(1, 2),
      last: { status: 2, sn: 'SN0001' },
    });
    const after = of(judge(observations({ orders: [topup, v] }), R), 'mitra.voucher_code_at');
    expect(after.fix?.change).toEqual({
      mitra: { voucher_code_at: ['detail.voucher_code', 'sn', 'detail.sn', 'detail.code'] },
    });
    expect(after.fix?.caution).toMatch(/added after sn, which held a value on a delivered order/);
  });

  it('a voucher that ended on a number not read as delivered is not searched', () => {
    const v = order({
      ...voucher({ status: 4, detail: { code: 'STEAM-A1B2C3D4E5F6' } }),
      polls: polls(1, 4),
    });
    const f = of(judge(observations({ orders: [v] }), R), 'mitra.voucher_code_at');
    expect(f.verdict).toBe('not-observed');
    expect(f.evidence.join()).toMatch(/status 4, not in mitra.order_status.success/);
  });
});

describe('the refund name proposal (W1)', () => {
  const refund = (status: number, names: string[]) =>
    order({
      scenario: 'refund-product',
      expect: 'refunded',
      variationKey: 'REFUND10',
      polls: timed([0, 1, ['Pending']], [2, status, names], [64, status, names]),
      last: { status, sn: 'refund' },
    });
  const refundOf = (...orders: OrderRecord[]) =>
    of(
      judge(observations({ orders, options: { ...observations().options, refundProduct: 'B/REFUND10' } }), R),
      'mitra.refund_names',
    );

  it('proposes a name that says refunded in words, never a generic "Selesai"', () => {
    const f = refundOf(refund(3, ['Pending', 'Dana Dikembalikan', 'Selesai']));
    expect(f.fix?.change).toEqual({
      mitra: { refund_names: [...R.mitra.refund_names, 'Dana Dikembalikan'] },
    });
    expect(f.fix?.accepted).toBe(true);
    expect(refundOf(refund(3, ['Pending', 'Selesai'])).fix).toBeNull();
  });

  it('never from an order that ended delivered, nor a name with a word of success or denial', () => {
    const delivered = refundOf(refund(2, ['Pending', 'Successful']));
    expect(delivered.verdict).toBe('not-observed');
    expect(delivered.fix).toBeNull();
    expect(delivered.why).toMatch(/ended delivered, not refunded/);
    const denied = refundOf(refund(3, ['Pending', 'Pengembalian ditolak']));
    expect(denied.verdict).toBe('contradicted');
    expect(denied.fix).toBeNull();
    expect(denied.evidence.join()).toMatch(/not a refund in words .*"Pengembalian ditolak"/);
    expect(refundOf(refund(3, ['Pending', 'Dana berhasil dikembalikan'])).fix).toBeNull();
  });
});

describe('what a run that could not test says (W2, W3, W4)', () => {
  const refusedBrands = (rc: string) =>
    observations({
      catalogue: { brandsOutcome: 'refused', brandCount: 0, forms: [], searched: [], missing: [] },
      exchanges: [
        exchange({
          step: 'catalogue',
          operation: 'brands',
          path: '/v2/public/brands',
          query: { sign: '[redacted]' },
          httpStatus: 403,
          replyBody: JSON.stringify({
            code: 403,
            status: 'FORBIDDEN',
            rc_code: rc,
            message: 'ip not whitelisted',
          }),
          outcome: 'refused',
          rc,
        }),
      ],
    });

  it('a brand list refused is an incomplete run: exit 2, with the reason', () => {
    for (const rc of ['40', '46']) {
      const r = report(refusedBrands(rc));
      expect(r.exitCode).toBe(2);
      expect(r.problems.join()).toMatch(
        new RegExp(`the brand list was not accepted \\(refused: rc ${rc}, HTTP 403\\): nothing was tested`),
      );
    }
    for (const rc of ['42', '43']) {
      const r = report(refusedBrands(rc));
      expect(r.exitCode).toBe(2);
      expect(r.problems.join()).toMatch(
        "not authorised: check the API key, the secret, and that this machine's egress IP is whitelisted at Mitra",
      );
      expect(of(r.findings, 'mitra.signature').why).toMatch(/^not authorised: /);
    }
  });

  it('an unclear create-order that the lookup did not find: "may have been placed (and charged)"', () => {
    const lost = order({
      scenario: 'voucher',
      expect: 'success',
      isVoucher: true,
      create: {
        outcome: 'ambiguous',
        rc: '50',
        status: 'GATEWAY_TIMEOUT',
        httpStatus: 504,
        message: 'timeout',
        trxCode: null,
      },
      createLookup: { outcome: 'refused', rc: '44', httpStatus: 404, trxCode: null, note: null },
      polls: [],
      ended: false,
    });
    const f = of(judge(observations({ orders: [lost] }), R), 'mitra.order_status.success');
    expect(f.evidence).toEqual([
      'V (voucher, ref_id "conf-1-voucher") may have been placed (and charged): create-order rc 50 GATEWAY_TIMEOUT, HTTP 504: timeout (ambiguous); asked by ref_id: refused rc 44 (HTTP 404): check it with Mitra',
    ]);
    expect(needsLookup(lost)).toBe(true);
    expect(needsLookup({ ...lost, scenario: 'duplicate-ref-id' })).toBe(false);
    expect(needsLookup({ ...lost, create: { ...lost.create, outcome: 'exists' } })).toBe(true);
    expect(needsLookup({ ...lost, create: { ...lost.create, outcome: 'retryable' } })).toBe(false);
    expect(lookupRecord(null, '')).toMatchObject({ trxCode: null, note: expect.stringMatching(/empty/) });
  });

  it('a refusal scenario that the lookup found placed: Mitra accepted it', () => {
    const took = order({
      scenario: 'product-not-found',
      expect: 'refused',
      create: {
        outcome: 'ambiguous',
        rc: '50',
        status: 'ERROR',
        httpStatus: 500,
        message: 'x',
        trxCode: 'TRX-9',
      },
      createLookup: { outcome: 'accepted', rc: '00', httpStatus: 200, trxCode: 'TRX-9', note: null },
    });
    const f = of(judge(observations({ orders: [took] }), R), 'mitra.rc.refused');
    expect(f.verdict).toBe('contradicted');
    expect(f.evidence.join()).toMatch(/asked by ref_id Mitra has the order TRX-9/);
  });

  it('judges the envelope on the last attempt of each call; a front end page is not observed, never contradicted', () => {
    const page = exchange({
      httpStatus: 503,
      replyBody: '<html><body>503 Service Temporarily Unavailable</body></html>',
      outcome: 'ambiguous',
      rc: null,
      error: 'unreadable reply (HTTP 503, not JSON)',
    });
    const ok = exchange({});
    const retried = of(judge(observations({ exchanges: [page, ok] }), R), 'mitra.envelope');
    expect(retried.verdict).toBe('confirmed');
    expect(retried.evidence).toContain("1 unclear replies replaced by the client's retry: not judged");
    // At most four tries a call: four unclear replies are one call's, the fifth starts another.
    expect(finalAttempts([page, page, page, ok])).toEqual([ok]);
    expect(finalAttempts([page, page, page, page, ok])).toEqual([page, ok]);
    expect(finalAttempts([page, page, page, page, page, ok])).toEqual([page, ok]);
    // A create-order is never retried: each is its own call.
    const lostCreate = exchange({
      ...page,
      step: 'order voucher',
      operation: 'order',
      method: 'POST',
      path: '/v2/public/order',
    });
    const alone = of(judge(observations({ exchanges: [lostCreate, ok] }), R), 'mitra.envelope');
    expect(alone.verdict).toBe('confirmed');
    expect(alone.evidence.join()).toMatch(
      /order voucher: HTTP 503 reply is not JSON: a front end's page or a server error, not judged/,
    );
    const only = of(judge(observations({ exchanges: [page] }), R), 'mitra.envelope');
    expect(only.verdict).toBe('not-observed');
    // Mitra's own 200 that is not JSON, on the last attempt: contradicted.
    const html200 = exchange({ replyBody: '<html>ok</html>', outcome: 'ambiguous', rc: null });
    expect(of(judge(observations({ exchanges: [html200] }), R), 'mitra.envelope').verdict).toBe(
      'contradicted',
    );
    // A JSON error without rc_code from a server: not judged; from a 400: contradicted.
    const json502 = exchange({
      httpStatus: 502,
      replyBody: '{"message":"Bad Gateway"}',
      outcome: 'ambiguous',
    });
    expect(of(judge(observations({ exchanges: [json502, ok] }), R), 'mitra.envelope').verdict).toBe(
      'confirmed',
    );
    const json400 = exchange({ httpStatus: 400, replyBody: '{"message":"bad"}', outcome: 'ambiguous' });
    expect(of(judge(observations({ exchanges: [json400] }), R), 'mitra.envelope').verdict).toBe(
      'contradicted',
    );
  });
});

describe('the newest report, for the console', () => {
  let dir: TempDir;
  beforeEach(() => {
    dir = tempDir('conformance-reports-');
  });
  afterEach(() => dir.remove());

  it('is null without reports, the newest by its stamp, and says so when unreadable', async () => {
    expect(await lastConformanceReport(dir.file('none'))).toBeNull();
    expect(await lastConformanceReport(dir.path)).toBeNull();
    const report = buildReport({
      startedAt: Date.UTC(2025, 0, 2),
      finishedAt: Date.UTC(2025, 0, 2, 0, 1),
      mitra: { url: 'http://sim', host: 'other host' },
      storage: 'db',
      readingsFile: 'config/readings.yaml',
      readings: R,
      observations: observations(),
      problems: [],
      incomplete: false,
    });
    writeFileSync(dir.file(`conformance-${reportStamp(Date.UTC(2025, 0, 1))}.json`), '{}');
    writeFileSync(dir.file(`conformance-${reportStamp(Date.UTC(2025, 0, 2))}.json`), JSON.stringify(report));
    writeFileSync(dir.file(`conformance-${reportStamp(Date.UTC(2025, 0, 3))}.txt`), 'text');
    const last = await lastConformanceReport(dir.path);
    expect(last).toMatchObject({ ok: true, file: dir.file('conformance-20250102T000000.000Z.json') });
    expect(last?.ok && last.report.summary).toEqual(report.summary);
    writeFileSync(dir.file(`conformance-${reportStamp(Date.UTC(2025, 0, 4))}.json`), '{"version": 0}');
    expect(await lastConformanceReport(dir.path)).toMatchObject({
      ok: false,
      problem: /not a conformance report/,
    });
  });
});
