import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../src/log.js';
import { defaultCatalogue } from '../src/sim/catalogue.js';
import type { UnclearStatus } from '../src/sim/mitra-sim.js';
import { type E2E, startE2E } from './helpers/e2e.js';
import { waitFor } from './helpers/wait.js';

let e: E2E;
afterEach(async () => {
  await e?.close();
});

const VOUCHER = { sku: 'STEAMV50', accountId: 'player-1' };
const statusCalls = async (n: string) =>
  (await e.calls(n)).filter((c) => c.operation === 'order-status').length;

/** Defects 1 and 6 of the hardening issue: supplier replies that look final but are not. */
describe('misleading supplier replies', () => {
  it('defect 1: a voucher whose code is only in sn (voucher_code "") is delivered with that code', async () => {
    e = await startE2E();
    e.sim.nextEnding({ kind: 'success', code: 'snOnly' });
    const { topup } = await e.purchase('T-SN', VOUCHER);
    const order = e.sim.order('RG-T-SN');
    expect(order?.voucherCode).toBe('');
    expect(topup.status).toBe(200);
    expect(topup.json.voucher).toEqual({ code: order?.sn });
    expect(String(order?.sn)).toMatch(/^STEAM-/);
  });

  it.each(['empty', 'none'] as const)(
    'defect 1: a voucher success with %s code is never a 200: 408, checked again, delivered when the code comes',
    async (placement) => {
      e = await startE2E();
      e.sim.nextEnding({ kind: 'success', code: placement });
      const { topup } = await e.purchase('T-NOCODE', VOUCHER);
      expect(topup.status).toBe(408);
      // Re-checked on the schedule, and still not answered 200 meanwhile.
      await waitFor(async () => (await statusCalls('T-NOCODE')) >= 3, 5000, 'three status checks');
      expect(await e.state('T-NOCODE')).toBe('PROCESSING');
      expect((await e.query('T-NOCODE')).status).toBe(408);

      const trx = e.sim.order('RG-T-NOCODE')?.trxCode ?? '';
      e.sim.deliverCode(trx, 'STEAM-LATE-CODE');
      const answer = await e.settle('T-NOCODE');
      expect(answer.status).toBe(200);
      expect(answer.json.voucher).toEqual({ code: 'STEAM-LATE-CODE' });
      expect(e.sim.ordersFor('RG-T-NOCODE')).toHaveLength(1);
    },
  );

  it('defect 1: where the catalogue is silent, the mapping says voucher; where both are silent, nothing is sold', async () => {
    const catalogue = defaultCatalogue().map((b) => ({ ...b, isVoucher: null }));
    e = await startE2E({ sim: { catalogue } });
    // STEAMV50 is declared `voucher: true` in the mapping: without a code it stays open.
    e.sim.nextEnding({ kind: 'success', code: 'none' });
    const { topup } = await e.purchase('T-SILENT', VOUCHER);
    expect(topup.status).toBe(408);
    expect((await e.gw.store.getTransaction('T-SILENT'))?.isVoucher).toBe(true);
    // DIAMOND50 declares nothing, and neither does the catalogue: refused before any money moves.
    const init = await e.init('T-UNDECLARED');
    expect(init.status).toBe(400);
    expect(init.json.code).toBe('OOS');
    expect(String(init.json.message)).toContain('voucher: true or false');
    expect(e.sim.ordersFor('RG-T-UNDECLARED')).toHaveLength(0);
  });

  it.each<[string, UnclearStatus]>([
    ['null', null],
    ['an empty string', ''],
    ['false', false],
    ['an empty list', []],
  ])(
    'defect 6: an order status whose status is %s is not a failure: checked again, then delivered',
    async (_n, value) => {
      e = await startE2E();
      e.sim.nextFault('order-status', { kind: 'unclearStatus', value });
      const { topup } = await e.purchase('T-NULL');
      const answer = topup.status === 200 ? topup : await e.settle('T-NULL');
      expect(answer.status).toBe(200);
      expect(await e.events('T-NULL')).not.toContain('PROCESSING>FAILED');
      expect(await statusCalls('T-NULL')).toBeGreaterThanOrEqual(2);
    },
  );

  it.each([0, 4, 7])(
    'an order status number the readings do not know (%s) is never a failure: open, alerted once, then delivered',
    async (n) => {
      const alerts: string[] = [];
      const logger = createLogger('warn', {
        write: (line: string) => {
          const l = JSON.parse(line) as { alert?: string; msg?: string };
          if (l.alert === 'unknown-status') alerts.push(String(l.msg));
        },
      });
      e = await startE2E({ logger });
      const env = e;
      // Two purchases meet the number: one alert, naming it and the first of them.
      env.sim.nextFault('order-status', { kind: 'unclearStatus', value: n });
      env.sim.nextFault('order-status', { kind: 'unclearStatus', value: n });
      const first = await env.purchase('T-UNK-1');
      const second = await env.purchase('T-UNK-2');
      for (const [name, { topup }] of [
        ['T-UNK-1', first],
        ['T-UNK-2', second],
      ] as const) {
        expect(topup.status, name).not.toBe(400);
        const answer = topup.status === 200 ? topup : await env.settle(name);
        expect(answer.status, name).toBe(200);
        expect(await env.events(name)).not.toContain('PROCESSING>FAILED');
      }
      await waitFor(() => alerts.length > 0, 5000, 'an unknown-status alert');
      expect(alerts).toHaveLength(1);
      expect(alerts[0]).toContain(`order status ${n}`);
      expect(alerts[0]).toMatch(/T-UNK-[12]/);
      const { body } = await env.gw.metrics.render();
      expect(body).toContain('gateway_alerts_total{kind="unknown-status"} 1');
    },
  );

  it('defect 6: rc 26 ("already paid") on create-order is not a definitive refusal: the order is looked for', async () => {
    e = await startE2E();
    e.sim.nextFault('order', { kind: 'refuse', rc: '26', status: 'CLIENT_ERROR', http: 400 });
    const { topup } = await e.purchase('T-26');
    const answer = topup.status === 200 ? topup : await e.settle('T-26');
    expect(answer.status).toBe(200);
    expect(await e.events('T-26')).toContain('ORDERING>UNKNOWN');
    expect(e.sim.ordersFor('RG-T-26')).toHaveLength(1);
  });
});
