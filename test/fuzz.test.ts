import { describe, expect, it } from 'vitest';
import { type FuzzGateway, startFuzzGateway } from '../bench/fuzz/harness.js';
import type { RawRequest } from '../bench/fuzz/http.js';
import { AnswerLedger, changed, missingReason } from '../bench/fuzz/oracles.js';
import { PROPERTIES } from '../bench/fuzz/properties.js';

/**
 * The short form of `npm run fuzz`: every property, a few hundred runs each, on a fixed seed so
 * that the suite gives the same verdict every time (`FUZZ_SEED` picks another; the long,
 * varied runs are `npm run fuzz`, whose seed changes with every run).
 */
const RUNS = 500;
const SEED = Number(process.env.FUZZ_SEED ?? 1);

describe(`fuzz, ${RUNS} runs per property (seed ${SEED})`, () => {
  it.each(Object.keys(PROPERTIES))('%s: no failure', { timeout: 60_000 }, async (name) => {
    const property = PROPERTIES[name];
    if (!property) throw new Error(`no property ${name}`);
    const report = await property({ runs: RUNS, seed: SEED });
    expect(report.failure, `npm run fuzz -- --seed ${SEED} --only ${name}`).toBeNull();
    expect(report.runs).toBe(RUNS);
    // Most runs reach the app: Node's own parser would refuse only a few of the requests made.
    expect(report.skipped).toBeLessThan(RUNS / 10);
  });
});

const initBody = (n: string) =>
  JSON.stringify({
    transactionNumber: n,
    sku: 'STEAMV50',
    razerId: 'RZR_oracle',
    accountId: 'player-1',
    userIpAddress: '203.0.113.7',
    userCountryCode: 'MY',
  });

describe('the oracles can fail', () => {
  const withGateway = async (run: (h: FuzzGateway) => Promise<void>) => {
    const h = await startFuzzGateway('oracle');
    try {
      await run(h);
    } finally {
      await h.close();
    }
  };

  it('the state oracle sees a change made on purpose, through the app or straight in storage', async () => {
    await withGateway(async (h) => {
      const quiet = await h.snapshot();
      expect(changed(quiet, await h.snapshot(), true)).toBeNull();

      const init = await h.razer('POST', '/transaction/init', initBody('ORACLE-1'));
      expect(init.status).toBe(200);
      await h.settle();
      const initiated = await h.snapshot();
      expect(changed(quiet, initiated, false)).toMatch(/^the state changed/);

      const moved = await h.gw.store.moveTransaction({
        transactionNumber: 'ORACLE-1',
        from: 'INITIATED',
        to: 'CANCELLED',
        cause: 'operator',
        at: Date.now(),
        patch: {},
      });
      expect(moved.ok).toBe(true);
      expect(changed(initiated, await h.snapshot(), false)).toMatch(/^the state changed/);
    });
  });

  it('a record of what was asked is not state, but the strict oracle sees it', async () => {
    await withGateway(async (h) => {
      const before = await h.snapshot();
      // A signed query of a number never seen: refused, and its exchange recorded.
      const r = await h.razer('GET', '/transaction/NEVER-SEEN');
      expect(r.status).toBe(400);
      await h.settle();
      const after = await h.snapshot();
      expect(changed(before, after, false)).toBeNull();
      expect(changed(before, after, true)).toMatch(/^a record was stored/);
    });
  });

  it('the answer ledger and the reason check catch what they are for', () => {
    const ledger = new AnswerLedger();
    expect(ledger.observe('T-1', 408, { transactionNumber: 'T-1', status: 'PENDING' })).toBeNull();
    expect(ledger.observe('T-1', 200, { status: 'SUCCESS', referenceId: 'VCG-1' })).toBeNull();
    expect(ledger.observe('T-1', 400, { code: 'INVALID_TRANS_TOKEN', message: 'x' })).toBeNull();
    expect(ledger.observe('T-1', 400, { code: 'FAILED', message: 'x' })).toMatch(/contradiction/);
    expect(ledger.observe('T-1', 408, { status: 'PENDING' })).toMatch(/contradiction/);

    const req: RawRequest = {
      method: 'POST',
      target: '/x',
      headers: [],
      body: null,
      chunked: false,
      remoteAddress: '',
    };
    const res = (status: number, type: string, text: string) => ({
      status,
      headers: new Headers({ 'content-type': type }),
      text,
    });
    expect(missingReason(req, res(400, 'application/json', '{"code":"X","message":"why"}'))).toBeNull();
    expect(missingReason(req, res(400, 'application/json', '{"code":"X"}'))).toMatch(/without/);
    expect(missingReason(req, res(413, 'text/plain', ''))).toMatch(/empty body/);
  });
});
