import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../src/log.js';
import { type AmountNote, collectAmountNotes, noteText, readIdr } from '../src/mitra/amounts.js';
import { classifyReply } from '../src/mitra/outcome.js';
import {
  balanceDataSchema,
  createOrderDataSchema,
  orderStatusDataSchema,
  variationsSchema,
} from '../src/mitra/schemas.js';
import { salesReport, transactionCsvLines } from '../src/reports/sales.js';
import { defaultCatalogue } from '../src/sim/catalogue.js';
import { parseCsv } from './helpers/csv-parse.js';
import { type E2E, startE2E } from './helpers/e2e.js';
import { TEST_DIALECT } from './helpers/storage.js';

/**
 * Amounts in Mitra replies are read into whole IDR (src/mitra/amounts.ts). A fractional charge
 * (selling_total 15000.5) was stored as is: on SQLite every report of its day then failed (and the
 * daily summary with it); on PostgreSQL the bigint column refused it, so the create-order reply
 * was never committed and a delivered order sat UNKNOWN.
 */

const BEYOND = 2 ** 60;

describe('an amount from Mitra, read as whole IDR', () => {
  it('reads a safe whole number as it is', () => {
    expect(readIdr(15000)).toEqual({ kind: 'whole', idr: 15000 });
    expect(readIdr(0)).toEqual({ kind: 'whole', idr: 0 });
    expect(readIdr(Number.MAX_SAFE_INTEGER)).toEqual({ kind: 'whole', idr: Number.MAX_SAFE_INTEGER });
  });

  it('rounds another finite number half up', () => {
    expect(readIdr(15000.5)).toEqual({ kind: 'rounded', idr: 15001 });
    expect(readIdr(15000.49)).toEqual({ kind: 'rounded', idr: 15000 });
    expect(readIdr(0.49999999999999994)).toEqual({ kind: 'rounded', idr: 0 });
    expect(readIdr(2.5)).toEqual({ kind: 'rounded', idr: 3 });
    // Below zero only where an amount may be (the balance): half up is towards +infinity.
    expect(readIdr(-2.5, { negative: true })).toEqual({ kind: 'rounded', idr: -2 });
    expect(readIdr(-0.4, { negative: true })).toEqual({ kind: 'rounded', idr: 0 });
    expect(Object.is((readIdr(-0.4, { negative: true }) as { idr: number }).idr, 0)).toBe(true);
  });

  it('reads a decimal numeral in a string by the same rule', () => {
    expect(readIdr('15000')).toEqual({ kind: 'whole', idr: 15000 });
    expect(readIdr(' 15000.50 ')).toEqual({ kind: 'rounded', idr: 15001 });
  });

  it('takes as absent what is not finite, beyond 2^53, negative where none can be, or no amount', () => {
    expect(readIdr(Number.POSITIVE_INFINITY)).toMatchObject({
      kind: 'unreadable',
      why: 'not a finite number',
    });
    expect(readIdr(Number.NaN)).toMatchObject({ kind: 'unreadable' });
    expect(readIdr(BEYOND)).toMatchObject({ kind: 'unreadable', why: 'beyond 2^53' });
    expect(readIdr(-BEYOND, { negative: true })).toMatchObject({ kind: 'unreadable', why: 'beyond 2^53' });
    expect(readIdr(-1)).toMatchObject({ kind: 'unreadable', why: 'negative' });
    for (const v of [true, {}, [], '15,000', '1e5', 'Rp 15000', ''])
      expect(readIdr(v), JSON.stringify(v)).toMatchObject({ kind: 'unreadable' });
    expect(readIdr(undefined)).toEqual({ kind: 'absent' });
    expect(readIdr(null)).toEqual({ kind: 'absent' });
  });

  it('says what it did in one line', () => {
    expect(noteText({ field: 'selling_total', value: 15000.5, idr: 15001 })).toBe(
      'Mitra sent selling_total 15000.5: rounded half up to 15001 IDR (amounts are whole IDR)',
    );
    expect(noteText({ field: 'grand_total', value: '1e5', idr: null, why: 'not an amount (string)' })).toBe(
      'Mitra sent grand_total "1e5": not an amount (string), so taken as absent',
    );
  });
});

describe('the Mitra reply schemas read amounts as whole IDR, never refusing the reply for one', () => {
  const reply = (data: unknown) => ({
    status: 200,
    body: JSON.stringify({ code: 200, status: 'SUCCESS', rc_code: '00', message: 'ok', data }),
    retryAfter: null,
  });
  const order = (body: { status: number; body: string; retryAfter: null }) =>
    collectAmountNotes(() => classifyReply(body, createOrderDataSchema, true, 0));

  it('a create-order reply: selling_total rounded, or absent when unreadable; the order is still taken', () => {
    const half = order(reply({ trx_code: 'VCG-1', selling_total: 15000.5 }));
    expect(half.value).toEqual({
      kind: 'accepted',
      httpStatus: 200,
      data: { trx_code: 'VCG-1', selling_total: 15001 },
    });
    expect(half.notes).toEqual([{ field: 'selling_total', value: 15000.5, idr: 15001 }]);
    // 1e400 is Infinity once parsed: the reply was unreadable (ambiguous: the order left unknown).
    const infinite = order({
      status: 200,
      body: '{"rc_code":"00","data":{"trx_code":"VCG-2","selling_total":1e400}}',
      retryAfter: null,
    });
    expect(infinite.value).toMatchObject({
      kind: 'accepted',
      data: { trx_code: 'VCG-2', selling_total: null },
    });
    expect(infinite.notes).toEqual([
      { field: 'selling_total', value: Number.POSITIVE_INFINITY, idr: null, why: 'not a finite number' },
    ]);
    const beyond = order(reply({ trx_code: 'VCG-3', selling_total: BEYOND }));
    expect(beyond.value).toMatchObject({ kind: 'accepted', data: { selling_total: null } });
    expect(beyond.notes).toHaveLength(1);
    const silent = order(reply({ trx_code: 'VCG-4' }));
    expect(silent).toEqual({
      value: { kind: 'accepted', httpStatus: 200, data: { trx_code: 'VCG-4' } },
      notes: [],
    });
    // Outside a collection, notes go nowhere; a parse is the same.
    expect(createOrderDataSchema.parse({ trx_code: 'VCG-5', selling_total: 0.5 }).selling_total).toBe(1);
  });

  it('an order status: grand_total by the same rule', () => {
    const { notes } = collectAmountNotes(() => {
      const total = (grand_total?: unknown) =>
        orderStatusDataSchema.parse({ code: 'VCG-1', status: 2, grand_total }).grand_total;
      expect(total(15000.5)).toBe(15001);
      expect(total('15000')).toBe(15000);
      expect(total(false)).toBeNull();
      expect(total()).toBeUndefined();
    });
    expect(notes.map((n) => n.field)).toEqual(['grand_total', 'grand_total']);
  });

  it('a variation list: a price rounded up (it is offered back); one that cannot be read left out, never the list', () => {
    const v = (key: string, price: unknown) => ({ key, variation_name: key, price, is_active: true });
    const { value: list, notes } = collectAmountNotes(() =>
      variationsSchema.parse([v('A', 15000), v('B', 15000.5), v('B4', 15000.4), v('C', -5), v('D', BEYOND)]),
    );
    expect(list.map((x) => [x.key, x.price])).toEqual([
      ['A', 15000],
      ['B', 15001],
      ['B4', 15001],
    ]);
    expect(notes.map((n) => [n.field, n.idr])).toEqual([
      ['price of variation B', 15001],
      ['price of variation B4', 15001],
      ['price of variation C', null],
      ['price of variation D', null],
    ]);
    expect(noteText(notes[1] as AmountNote)).toBe(
      'Mitra sent price of variation B4 15000.4: rounded up to 15001 IDR (amounts are whole IDR; a price offered below it would be refused)',
    );
    // A charge is rounded half up: 15000.4 charged is 15000.
    expect(readIdr(15000.4)).toEqual({ kind: 'rounded', idr: 15000 });
    expect(readIdr(15000.4, { round: 'up' })).toEqual({ kind: 'rounded', idr: 15001 });
  });

  it('the balance: rounded (below zero too); one that cannot be read makes no reading', () => {
    expect(classifyReply(reply({ balance: 1_500_000.75 }), balanceDataSchema, false, 0)).toMatchObject({
      kind: 'accepted',
      data: { balance: 1_500_001 },
    });
    expect(balanceDataSchema.parse({ balance: -10.5 }).balance).toBe(-10);
    expect(classifyReply(reply({ balance: BEYOND }), balanceDataSchema, false, 0)).toMatchObject({
      kind: 'ambiguous',
      reason: 'unreadable data in a success reply: balance: no amount in whole IDR',
    });
  });

  it('collections nest and end, even when the parse throws', () => {
    const outer = collectAmountNotes(() => {
      createOrderDataSchema.parse({ trx_code: 'A', selling_total: 1.5 });
      const inner = collectAmountNotes(() =>
        createOrderDataSchema.parse({ trx_code: 'B', selling_total: 2.5 }),
      );
      expect(inner.notes.map((n) => n.idr)).toEqual([3]);
      expect(() => collectAmountNotes(() => createOrderDataSchema.parse({ selling_total: 3.5 }))).toThrow();
      createOrderDataSchema.parse({ trx_code: 'C', selling_total: 4.5 });
    });
    expect(outer.notes.map((n) => n.idr)).toEqual([2, 5]);
  });
});

describe(`a delivery charged a fractional amount (${TEST_DIALECT})`, () => {
  let e: E2E | undefined;
  afterEach(async () => {
    await e?.close();
    e = undefined;
  });

  const today = () => new Date().toISOString().slice(0, 10);

  async function start(options: Parameters<typeof startE2E>[0] = {}) {
    const lines: Record<string, unknown>[] = [];
    e = await startE2E({
      logger: createLogger('info', { write: (line: string) => void lines.push(JSON.parse(line)) }),
      ...options,
    });
    return { e, lines };
  }

  /** The report of today for DIAMOND50 and the transactions CSV's rows, read back. */
  async function reported(gw: E2E) {
    const q = { from: today(), to: today(), utcOffsetMinutes: 0 };
    const report = await salesReport(gw.gw.store, { ...q, by: 'sku' });
    let csv = '';
    for await (const line of transactionCsvLines(gw.gw.store, q)) csv += line;
    const [header, ...rows] = parseCsv(csv);
    const cost = header?.indexOf('cost_idr') ?? -1;
    return { report, costs: rows.map((r) => r[cost]) };
  }

  it('is recorded at whole IDR (rounded half up), said in the log, and reported', async () => {
    const { e, lines } = await start();
    e.sim.nextFault('order', { kind: 'charge', total: 15000.5 });
    await e.purchase('FRAC-1');
    expect((await e.settle('FRAC-1')).status).toBe(200);
    const row = await e.gw.store.getTransaction('FRAC-1');
    expect(row).toMatchObject({ state: 'SUCCESS', pricePaid: 15001, priceOffered: 15000 });
    expect(e.sim.ordersFor('RG-FRAC-1')).toHaveLength(1);

    const { report, costs } = await reported(e);
    // 1.05 USD at 16250.5 = 17063 (the example mapping), less 15001.
    expect(report.total).toMatchObject({ delivered: 1, costIdr: 15001, revenueIdr: 17063, profitIdr: 2062 });
    expect(costs).toEqual(['15001']);

    const told = lines.filter((l) => l.field === 'selling_total' || l.field === 'grand_total');
    expect(told.length).toBeGreaterThanOrEqual(2);
    expect(told[0]).toMatchObject({
      level: 40,
      operation: 'order',
      transactionNumber: 'FRAC-1',
      field: 'selling_total',
      value: 15000.5,
      readAsIdr: 15001,
      msg: 'Mitra sent selling_total 15000.5: rounded half up to 15001 IDR (amounts are whole IDR)',
    });
    expect(told.some((l) => l.field === 'grand_total' && l.transactionNumber === 'FRAC-1')).toBe(true);
  });

  it('is taken as absent beyond 2^53: delivered, the cost the order’s price', async () => {
    const { e } = await start();
    e.sim.nextFault('order', { kind: 'charge', total: BEYOND });
    await e.purchase('FRAC-BIG');
    expect((await e.settle('FRAC-BIG')).status).toBe(200);
    expect(await e.gw.store.getTransaction('FRAC-BIG')).toMatchObject({ state: 'SUCCESS', pricePaid: 15000 });
    const { report, costs } = await reported(e);
    expect(report.total).toMatchObject({ delivered: 1, costIdr: 15000 });
    expect(costs).toEqual(['15000']);
  });

  it('a fractional catalogue price (below .5 too) is offered at its whole IDR ceiling, and delivered', async () => {
    // Offered 15,000 for a price of 15,000.4, Mitra would refuse it (rc 24) and every paid sale fail.
    const catalogue = defaultCatalogue().map((b) =>
      b.key !== 'MLBB'
        ? b
        : { ...b, variations: b.variations.map((v) => (v.key === 'MLBB112' ? { ...v, price: 15000.4 } : v)) },
    );
    const { e } = await start({ sim: { catalogue } });
    expect(await e.gw.store.getVariation('MLBB', 'MLBB112')).toMatchObject({ price: 15001 });
    await e.purchase('FRAC-CAT');
    expect((await e.settle('FRAC-CAT')).status).toBe(200);
    // Offered 15,001 (the price rounded up), charged 15,000.4: recorded 15,000 (half up).
    expect(await e.gw.store.getTransaction('FRAC-CAT')).toMatchObject({
      state: 'SUCCESS',
      priceOffered: 15001,
      pricePaid: 15000,
    });
    expect((await reported(e)).report.total).toMatchObject({ delivered: 1, costIdr: 15000 });
  });
});
