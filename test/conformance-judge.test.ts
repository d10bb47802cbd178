import { writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { orderEnded, type Sighting } from '../src/conformance/ending.js';
import { combineFixes, makeFix } from '../src/conformance/fix.js';
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
import type { Finding, Observations, OrderRecord, WebhookRecord } from '../src/conformance/report.js';
import { codeCandidates, placesOf, reasonCandidates } from '../src/conformance/search.js';
import { DEFAULT_READINGS, parseReadings } from '../src/readings/settings.js';
import { type TempDir, tempDir } from './helpers/storage.js';

// The pure parts of `gateway conformance`: the plan, the end of an order, the judgement of
// each reading and its fix, on observations written by hand.

const R = DEFAULT_READINGS;
const sight = (status: number | null, historyLength = 1, refundNamed = false): Sighting => ({
  status,
  historyLength,
  refundNamed,
});

describe('when an order has ended', () => {
  it('ends on a number the readings say is final, or a refund name; never on processing', () => {
    expect(orderEnded([sight(1)], R).ended).toBe(false);
    expect(orderEnded([sight(1), sight(2, 2)], R)).toMatchObject({ ended: true });
    expect(orderEnded([sight(1), sight(3, 2)], R)).toMatchObject({ ended: true });
    expect(orderEnded([sight(1), sight(9, 3, true)], R)).toMatchObject({
      ended: true,
      why: 'a history name reads as a refund',
    });
    expect(orderEnded([], R).ended).toBe(false);
    expect(orderEnded([sight(1), sight(null)], R).ended).toBe(false);
  });

  it('takes an unknown number as final once it followed a change and held two more polls', () => {
    expect(orderEnded([sight(1), sight(4, 2)], R).ended).toBe(false);
    expect(orderEnded([sight(1), sight(4, 2), sight(4, 2)], R).ended).toBe(false);
    expect(orderEnded([sight(1), sight(4, 2), sight(4, 2), sight(4, 2)], R).ended).toBe(true);
    // Unknown from the first reply, nothing changed: it may be processing, so it is not an end.
    expect(orderEnded([sight(4), sight(4), sight(4), sight(4)], R).ended).toBe(false);
    // A change in the history counts as much as a change of number.
    expect(orderEnded([sight(4, 1), sight(4, 2), sight(4, 2), sight(4, 2)], R).ended).toBe(true);
    // A reply without a number is neither a change nor a hold.
    expect(orderEnded([sight(1), sight(null), sight(4, 2), sight(null), sight(4, 2)], R).ended).toBe(false);
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
    expect(codeCandidates(data, ['TRX-1', 'conf-1-1'])).toEqual(['detail.voucherCode', 'detail.pin']);
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
