import { writeFileSync } from 'node:fs';
import SwaggerParser from '@apidevtools/swagger-parser';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/run.js';
import { storyOf } from '../src/cli/story.js';
import { refIdFor } from '../src/fulfilment/purchases.js';
import { defaultCatalogue, type SimBrand } from '../src/sim/catalogue.js';
import { textOf } from './helpers/console-html.js';
import { type E2E, startE2E } from './helpers/e2e.js';
import { REQUIRED_ENV } from './helpers/env.js';
import { type TempDir, tempDir } from './helpers/storage.js';
import { waitFor } from './helpers/wait.js';

// Issue 24 §4 against the simulator: a SKU sells through a backup variation while its main one
// cannot (inactive, above its ceiling, beyond the balance), a purchase keeps the variation chosen
// at its init whatever changes before its top-up, and check --online, the supplier page and the
// metrics show which variation each SKU sells through now.

const ADMIN_TOKEN = 'admin-token-for-tests-0123456789';

/** Another supplier brand selling Mobile Legends diamonds, with the same forms as MLBB. */
const GLOBAL: SimBrand = {
  key: 'MLGLOBAL',
  name: 'Mobile Legends (global)',
  isVoucher: false,
  isActive: true,
  forms: [
    { key: 'user_id', type: 'numeric', alias: 'User ID' },
    { key: 'zone_id', type: 'numeric', alias: 'Zone ID' },
  ],
  variations: [{ key: 'MLG112', name: '112 Diamonds', price: 15_500, isActive: true }],
};

// In the simulator MLBB112 costs 15,000 IDR and MLBB86 20,000.
const ML = [
  "    account: { pattern: '^(?<user_id>\\d{1,20})-(?<zone_id>\\d{1,8})$' }",
  "    form: { user_id: '{user_id}', zone_id: '{zone_id}' }",
].join('\n');
const MAPPING = `rates:
  USD: { idr: 16000, set: 2026-01-01 }
skus:
  # Main MLBB112; its backup is dearer, with its own ceiling and revenue.
  D112:
    brand: MLBB
    variation: MLBB112
    max_price: 16000
${ML}
    revenue: { amount: '1.05', currency: USD }
    backups:
      - variation: MLBB86
        max_price: 21000
        revenue: { amount: '1.40', currency: USD }
  # Main MLBB86; its backup, under another brand, is cheaper.
  D86:
    brand: MLBB
    variation: MLBB86
    max_price: 21000
${ML}
    revenue: { amount: '1.40', currency: USD }
    backups:
      - brand: MLGLOBAL
        variation: MLG112
        max_price: 16000
  # No backups: sold as always.
  DIAMOND50:
    brand: MLBB
    variation: MLBB112
    max_price: 16000
${ML}
`;

let e: E2E | undefined;
let dir: TempDir | undefined;
let mappingFile = '';
afterEach(async () => {
  await e?.close();
  e = undefined;
  dir?.remove();
  dir = undefined;
});

async function start(mapping = MAPPING): Promise<E2E> {
  dir = tempDir();
  mappingFile = dir.file('mapping.yaml');
  writeFileSync(mappingFile, mapping);
  const env = await startE2E({
    env: { MAPPING_FILE: mappingFile, ADMIN_TOKEN },
    sim: { catalogue: [...defaultCatalogue(), GLOBAL] },
  });
  e = env;
  expect(env.gw.mapping.reload()).toMatchObject({ ok: true });
  // The backups' brand is fetched with the brands sold.
  expect(await env.gw.catalogue.refreshAll()).toMatchObject({ brands: 'ok', variations: { MLGLOBAL: 'ok' } });
  return env;
}

/** Changes a variation in the simulator (it sends a Product Status webhook) and waits for the gateway's cache. */
async function change(
  env: E2E,
  brand: string,
  variation: string,
  to: { price?: number; isActive?: boolean },
): Promise<void> {
  env.sim.setVariation(brand, variation, to);
  await waitFor(
    async () => {
      const cached = await env.gw.catalogue.variation(brand, variation);
      return (
        cached !== undefined &&
        (to.price === undefined || cached.price === to.price) &&
        (to.isActive === undefined || cached.isActive === to.isActive)
      );
    },
    5000,
    `${brand}/${variation} changed in the gateway's catalogue`,
  );
}

async function row(env: E2E, n: string) {
  const r = await env.gw.store.getTransaction(n);
  if (!r) throw new Error(`no transaction ${n}`);
  return r;
}

const chosen = async (env: E2E, n: string) => {
  const r = await row(env, n);
  return `${r.brandKey}/${r.variationKey} max ${r.maxPrice}`;
};

const ordered = (env: E2E, n: string) =>
  env.sim.ordersFor(refIdFor(n)).map((o) => `${o.brandKey}/${o.variationKey} at ${o.offeredPrice}`);

/** The init event's detail: which option the purchase sells through, and why. */
const initEvent = async (env: E2E, n: string) =>
  (await env.gw.store.listEvents(n)).filter(
    (ev) => ev.fromState === 'INITIATED' && ev.toState === 'INITIATED',
  );

async function metricLines(env: E2E): Promise<string[]> {
  const { body } = await env.gw.metrics.render();
  return body.split('\n').filter((l) => l.startsWith('gateway_sku_'));
}

async function admin(env: E2E, path: string) {
  const res = await fetch(`${env.url}${path}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function checkOnline(env: E2E) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(['check', '--online', '--mapping', mappingFile], {
    env: { ...REQUIRED_ENV, GATEWAY_URL: env.url, ADMIN_TOKEN },
    cwd: dir?.path ?? '.',
    out: (l) => out.push(l),
    err: (l) => err.push(l),
  });
  return { code, out, err };
}

async function consolePage(env: E2E, path: string): Promise<string> {
  const signIn = await fetch(`${env.url}/console/sign-in`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: ADMIN_TOKEN, actor: 'alice' }).toString(),
    redirect: 'manual',
  });
  expect(signIn.status).toBe(303);
  const cookie = (signIn.headers.getSetCookie()[0] ?? '').split(';')[0] ?? '';
  const res = await fetch(`${env.url}${path}`, { headers: { cookie } });
  expect(res.status).toBe(200);
  return res.text();
}

describe('backup variations', () => {
  it('sells a SKU whose main variation goes inactive through its backup, and records that choice', async () => {
    const env = await start();
    const main = await env.purchase('BK-MAIN', { sku: 'D112' });
    expect(main.init.status).toBe(200);
    expect((await env.settle('BK-MAIN')).json.status).toBe('SUCCESS');
    expect(await chosen(env, 'BK-MAIN')).toBe('MLBB/MLBB112 max 16000');
    expect((await initEvent(env, 'BK-MAIN')).map((ev) => [ev.cause, ev.detail])).toEqual([
      ['razer', 'init: sells through main MLBB/MLBB112 at 15000 IDR (max_price 16000)'],
    ]);

    await change(env, 'MLBB', 'MLBB112', { isActive: false });
    const backup = await env.purchase('BK-BACKUP', { sku: 'D112' });
    expect(backup.init.status).toBe(200);
    expect(backup.init.json).toMatchObject({ status: 'INITIATED', sku: 'D112' });
    expect((await env.settle('BK-BACKUP')).json.status).toBe('SUCCESS');
    // The row records the backup: its variation, its ceiling, its own revenue (1.40 USD at 16,000).
    expect(await row(env, 'BK-BACKUP')).toMatchObject({
      brandKey: 'MLBB',
      variationKey: 'MLBB86',
      maxPrice: 21000,
      isVoucher: false,
      revenueMinor: 140,
      revenueCurrency: 'USD',
      revenueIdr: 22400,
      pricePaid: 20000,
    });
    expect(ordered(env, 'BK-BACKUP')).toEqual(['MLBB/MLBB86 at 20000']);
    const detail =
      'init: sells through backup 1 MLBB/MLBB86 at 20000 IDR (max_price 21000); passed over: main MLBB/MLBB112: inactive at the supplier';
    expect((await initEvent(env, 'BK-BACKUP')).map((ev) => ev.detail)).toEqual([detail]);
    expect((await env.events('BK-BACKUP')).slice(0, 2)).toEqual(['INITIATED>INITIATED', 'INITIATED>QUEUED']);
    const story = (await storyOf(env.gw.store, 'BK-BACKUP')) ?? [];
    expect(story[1]).toBe('  sku D112 -> Mitra MLBB/MLBB86 (max 21000 IDR), account 123456-12');
    expect(story.some((l) => l.endsWith(`state    INITIATED -> INITIATED (razer): ${detail}`))).toBe(true);

    // A SKU without backups on the same variation is refused as it always was, with no init event.
    const plain = await env.init('BK-PLAIN', { sku: 'DIAMOND50' });
    expect([plain.status, plain.json]).toEqual([
      400,
      { code: 'OOS', message: 'DIAMOND50 is not available from the supplier' },
    ]);
    await env.purchase('BK-D86', { sku: 'D86' });
    expect(await initEvent(env, 'BK-D86')).toHaveLength(1);
  });

  it('shows which variation each SKU sells through: metrics, the supplier API and page, check --online', async () => {
    const env = await start();
    expect(await metricLines(env)).toEqual([
      'gateway_sku_selling_variation{sku="D112",brand="MLBB",variation="MLBB112",choice="main"} 1',
      'gateway_sku_selling_variation{sku="D86",brand="MLBB",variation="MLBB86",choice="main"} 1',
      'gateway_sku_selling_variation{sku="DIAMOND50",brand="MLBB",variation="MLBB112",choice="main"} 1',
      'gateway_sku_can_sell{sku="D112"} 1',
      'gateway_sku_can_sell{sku="D86"} 1',
      'gateway_sku_can_sell{sku="DIAMOND50"} 1',
    ]);

    await change(env, 'MLBB', 'MLBB112', { isActive: false });
    expect(await metricLines(env)).toEqual([
      'gateway_sku_selling_variation{sku="D112",brand="MLBB",variation="MLBB86",choice="backup1"} 1',
      'gateway_sku_selling_variation{sku="D86",brand="MLBB",variation="MLBB86",choice="main"} 1',
      'gateway_sku_can_sell{sku="D112"} 1',
      'gateway_sku_can_sell{sku="D86"} 1',
      'gateway_sku_can_sell{sku="DIAMOND50"} 0',
    ]);

    // The admin API, held against the OpenAPI document it serves.
    const report = await admin(env, '/admin/supplier');
    expect(report.status).toBe(200);
    const doc = (await SwaggerParser.dereference(
      (await (await fetch(`${env.url}/openapi.json`)).json()) as never,
    )) as unknown as { paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };
    const ok = doc.paths['/admin/supplier']?.get?.responses['200'] as
      | { content: Record<string, { schema: object }> }
      | undefined;
    const schema = ok?.content['application/json']?.schema;
    const validate = new Ajv2020({ strict: false, allowUnionTypes: true }).compile(schema ?? {});
    expect(validate(report.json), JSON.stringify(validate.errors)).toBe(true);
    const skus = report.json.skus as {
      sku: string;
      sellsThrough: unknown;
      passedOver: string[];
      backups: unknown[];
    }[];
    expect(skus.find((s) => s.sku === 'D112')).toMatchObject({
      variation: 'MLBB112',
      active: false,
      sellsThrough: { choice: 'backup1', brand: 'MLBB', variation: 'MLBB86', price: 20000, maxPrice: 21000 },
      passedOver: ['main MLBB/MLBB112: inactive at the supplier'],
      backups: [
        { choice: 'backup1', variation: 'MLBB86', price: 20000, margin: 1000, active: true, problems: [] },
      ],
    });
    expect(skus.find((s) => s.sku === 'DIAMOND50')).toMatchObject({ sellsThrough: null, backups: [] });
    expect(report.json.warnings).toEqual([
      'SKU D112: main MLBB/MLBB112: variation MLBB112 of brand MLBB is inactive',
    ]);
    expect(report.json.problems).toEqual(['SKU DIAMOND50: variation MLBB112 of brand MLBB is inactive']);

    // The console's supplier page: the SKU's row says where it sells, its backup's row says "now".
    const html = await consolePage(env, '/console/supplier');
    const skuRow = /<tr class="" data-sku="D112">([\s\S]*?)<\/tr>/.exec(html)?.[1] ?? '';
    expect(skuRow).toContain('data-choice="backup1"');
    expect(textOf(skuRow)).toContain(
      'backup 1 (MLBB / MLBB86) passed over: main MLBB/MLBB112: inactive at the supplier',
    );
    const backupRow = /<tr class="backup" data-backup-of="D112" data-choice="backup1">([\s\S]*?)<\/tr>/.exec(
      html,
    )?.[1];
    expect(textOf(backupRow ?? '')).toMatch(
      /↳ backup 1 MLBB \/ MLBB86 IDR 20,000 IDR 21,000 IDR 1,000 \(4\.8%\) now/,
    );
    expect(html).toMatch(/<tr class="bad" data-sku="DIAMOND50">[\s\S]*?data-choice="none"/);
    expect(textOf(html)).toContain('Selling through a backup variation');

    // check --online, against the catalogue the gateway fetches now: DIAMOND50 cannot sell, the
    // others can (D112 through its backup).
    const r = await checkOnline(env);
    expect(r.code).toBe(1);
    expect(r.out[0]).toMatch(/^SKU\s+ON\s+BRAND\/VARIATION\s+PRICE\s+MAX_PRICE\s+MARGIN\s+%\s+ACTIVE\s+NOW$/);
    expect(r.out.slice(1, 6).map((l) => l.replace(/\s+/g, ' ').trim())).toEqual([
      'D112 yes MLBB/MLBB112 15000 16000 1000 6.3 NO',
      'backup 1 MLBB/MLBB86 20000 21000 1000 4.8 yes sells',
      'D86 yes MLBB/MLBB86 20000 21000 1000 4.8 yes sells',
      'backup 1 MLGLOBAL/MLG112 15500 16000 500 3.1 yes',
      'DIAMOND50 yes MLBB/MLBB112 15000 16000 1000 6.3 NO NONE',
    ]);
    expect(r.out).toContain(
      'D112 sells through backup 1 MLBB/MLBB86 at 20000; passed over: main MLBB/MLBB112: inactive at the supplier',
    );
    expect(r.out).toContain('D86 sells through its main MLBB/MLBB86 at 20000');
    expect(r.out).toContain(
      'warning: SKU D112: main MLBB/MLBB112: variation MLBB112 of brand MLBB is inactive',
    );
    expect(r.err).toEqual([
      'SKU DIAMOND50: variation MLBB112 of brand MLBB is inactive',
      'check --online failed: 1 problem',
    ]);
  });

  it('refuses a SKU none of whose variations can sell as its main alone would be refused', async () => {
    const env = await start();
    await change(env, 'MLBB', 'MLBB112', { price: 17_000 });
    await change(env, 'MLBB', 'MLBB86', { isActive: false });
    const refused = await env.init('BK-NONE', { sku: 'D112' });
    expect([refused.status, refused.json]).toEqual([
      400,
      { code: 'OOS', message: 'D112 costs more than its price ceiling' },
    ]);
    expect(await env.state('BK-NONE')).toBeUndefined();
    expect(await metricLines(env)).toContain('gateway_sku_can_sell{sku="D112"} 0');
    expect((await metricLines(env)).some((l) => l.includes('sku="D112",'))).toBe(false);
    const r = await checkOnline(env);
    expect(r.code).toBe(1);
    expect(r.out).toContain(
      'D112 cannot sell through any of its variations; passed over: main MLBB/MLBB112: price 17000 IDR is above its max_price 16000; backup 1 MLBB/MLBB86: inactive at the supplier',
    );
    expect(r.err.slice(0, 2)).toEqual([
      'SKU D112: main MLBB/MLBB112: price 17000 is above max_price 16000 (margin -1000)',
      'SKU D112: backup 1 MLBB/MLBB86: variation MLBB86 of brand MLBB is inactive',
    ]);
  });

  it('sells through its backup while the main variation costs more than its ceiling', async () => {
    const env = await start();
    await change(env, 'MLBB', 'MLBB112', { price: 17_000 });
    await env.purchase('BK-CEIL', { sku: 'D112' });
    expect((await env.settle('BK-CEIL')).json.status).toBe('SUCCESS');
    expect(await chosen(env, 'BK-CEIL')).toBe('MLBB/MLBB86 max 21000');
    expect(ordered(env, 'BK-CEIL')).toEqual(['MLBB/MLBB86 at 20000']);
    expect((await initEvent(env, 'BK-CEIL'))[0]?.detail).toBe(
      'init: sells through backup 1 MLBB/MLBB86 at 20000 IDR (max_price 21000); passed over: main MLBB/MLBB112: price 17000 IDR is above its max_price 16000',
    );
  });

  it("sells through a cheaper backup when the balance guard cannot pay the main's price, and refuses when it can pay none", async () => {
    const env = await start();
    // 18,000 IDR: not the main's 20,000, but the backup's 15,500.
    env.sim.balance = 18_000;
    expect((await env.gw.balance.poll())?.idr).toBe(18_000);
    await env.purchase('BK-LOW', { sku: 'D86' });
    expect((await env.settle('BK-LOW')).json.status).toBe('SUCCESS');
    expect(await chosen(env, 'BK-LOW')).toBe('MLGLOBAL/MLG112 max 16000');
    // No revenue of its own: the SKU's.
    expect(await row(env, 'BK-LOW')).toMatchObject({ revenueCurrency: 'USD', revenueMinor: 140 });
    expect(ordered(env, 'BK-LOW')).toEqual(['MLGLOBAL/MLG112 at 15500']);
    expect((await initEvent(env, 'BK-LOW'))[0]?.detail).toBe(
      'init: sells through backup 1 MLGLOBAL/MLG112 at 15500 IDR (max_price 16000); passed over: main MLBB/MLBB86: the supplier balance left after open purchases (18000 IDR) cannot pay its price (20000 IDR)',
    );

    // Too low for either: refused as the balance guard refuses the main alone.
    env.sim.balance = 15_000;
    await env.gw.balance.poll();
    const refused = await env.init('BK-NONE', { sku: 'D86' });
    expect([refused.status, refused.json]).toEqual([
      400,
      {
        code: 'OOS',
        message:
          'D86 cannot be paid for now: the supplier balance is too low for it (the operator must top it up)',
      },
    ]);
    const { body } = await env.gw.metrics.render();
    expect(body).toContain('gateway_init_refusals_total{code="OOS",reason="balance"} 1');
    expect(await metricLines(env)).toContain('gateway_sku_can_sell{sku="D86"} 0');
  });

  it('orders a purchase with the variation chosen at its init, whatever the catalogue says before its top-up', async () => {
    const env = await start();
    // Initiated on D86's main, MLBB86 at 20,000.
    const early = await env.init('BK-EARLY', { sku: 'D86' });
    expect(early.status).toBe(200);
    expect(await chosen(env, 'BK-EARLY')).toBe('MLBB/MLBB86 max 21000');

    // Then the main's price rises (within its ceiling) and the balance read falls below it: a
    // new init now sells through the backup.
    await change(env, 'MLBB', 'MLBB86', { price: 20_500 });
    env.sim.balance = 18_000;
    await env.gw.balance.poll();
    const late = await env.init('BK-LATE', { sku: 'D86' });
    expect(late.status).toBe(200);
    expect(await chosen(env, 'BK-LATE')).toBe('MLGLOBAL/MLG112 max 16000');

    // The operator tops the supplier account up (the gateway has not read it again). The early
    // purchase is ordered with the main, at its price now; the late one with the backup.
    env.sim.balance = 1_000_000;
    await env.topup('BK-EARLY', early.json.transactionToken);
    await env.topup('BK-LATE', late.json.transactionToken);
    expect((await env.settle('BK-EARLY')).json.status).toBe('SUCCESS');
    expect((await env.settle('BK-LATE')).json.status).toBe('SUCCESS');
    expect(ordered(env, 'BK-EARLY')).toEqual(['MLBB/MLBB86 at 20500']);
    expect(ordered(env, 'BK-LATE')).toEqual(['MLGLOBAL/MLG112 at 15500']);
    expect(await chosen(env, 'BK-EARLY')).toBe('MLBB/MLBB86 max 21000');
  });

  it('never moves a purchase to a backup after init: its main gone inactive, it fails unsent', async () => {
    const env = await start();
    const early = await env.init('BK-KEPT', { sku: 'D112' });
    expect(await chosen(env, 'BK-KEPT')).toBe('MLBB/MLBB112 max 16000');
    await change(env, 'MLBB', 'MLBB112', { isActive: false });
    // A new init goes through the backup...
    await env.init('BK-NEW', { sku: 'D112' });
    expect(await chosen(env, 'BK-NEW')).toBe('MLBB/MLBB86 max 21000');
    // ...the purchase initiated before does not: out of stock, and no order sent for it.
    const topup = await env.topup('BK-KEPT', early.json.transactionToken);
    expect([topup.status, topup.json]).toEqual([
      400,
      { code: 'OOS', message: 'out of stock at the supplier' },
    ]);
    expect(await env.state('BK-KEPT')).toBe('FAILED');
    expect(await row(env, 'BK-KEPT')).toMatchObject({ variationKey: 'MLBB112', failureCode: 'OOS' });
    expect(ordered(env, 'BK-KEPT')).toEqual([]);
    expect((await env.calls('BK-KEPT')).filter((c) => c.operation === 'order')).toEqual([]);
  });

  it('refuses, counted and worded as the balance guard, when the main is inactive and the backup beyond the balance', async () => {
    const env = await start();
    await change(env, 'MLBB', 'MLBB112', { isActive: false });
    // 18,000 IDR: D112's backup costs 20,000; its main, inactive, cannot sell at any balance.
    env.sim.balance = 18_000;
    expect((await env.gw.balance.poll())?.idr).toBe(18_000);
    const refused = await env.init('BK-POOR', { sku: 'D112' });
    expect([refused.status, refused.json]).toEqual([
      400,
      {
        code: 'OOS',
        message:
          'D112 cannot be paid for now: the supplier balance is too low for it (the operator must top it up)',
      },
    ]);
    expect(await env.state('BK-POOR')).toBeUndefined();
    const { body } = await env.gw.metrics.render();
    expect(body).toContain('gateway_init_refusals_total{code="OOS",reason="balance"} 1');
    expect(body).not.toContain('reason="check"');
  });

  it('never sells a backup of another kind: check --online fails on it, and init refuses it even when the main brand is gone', async () => {
    // TOPUP (MLBB, a top-up) lists a voucher backup; TYPO's backup variation is not in the catalogue.
    const env = await start(`${MAPPING}  TOPUP:
    brand: MLBB
    variation: MLBB112
    max_price: 16000
${ML}
    backups:
      - brand: STEAM
        variation: STEAMV50
        max_price: 60000
  TYPO:
    brand: MLBB
    variation: MLBB112
    max_price: 16000
${ML}
    backups:
      - variation: MLBB86X
        max_price: 21000
`);
    const r = await checkOnline(env);
    expect(r.code).toBe(1);
    expect(r.err).toEqual([
      'SKU TOPUP: backup 1 STEAM/STEAMV50: never chosen: a voucher in the catalogue, and the SKU is a top-up, as the catalogue says of brand MLBB',
      'SKU TYPO: backup 1 MLBB/MLBB86X: variation MLBB86X not found in brand MLBB',
      'check --online failed: 2 problems',
    ]);
    expect(r.out).toContain('TOPUP sells through its main MLBB/MLBB112 at 15000');

    // The brand list no longer holds MLBB (delisted, or left out of a reply: replaceBrands drops
    // it); its variations stay cached. TOPUP's kind cannot be decided: no backup is chosen.
    await env.gw.store.replaceBrands(
      [...defaultCatalogue(), GLOBAL]
        .filter((b) => b.key !== 'MLBB')
        .map((b) => ({
          brandKey: b.key,
          name: b.name,
          isVoucher: b.isVoucher,
          isActive: b.isActive,
          forms: b.forms,
        })),
      Date.now(),
    );
    const refused = await env.init('BK-KIND', { sku: 'TOPUP' });
    expect([refused.status, refused.json]).toEqual([
      400,
      { code: 'OOS', message: 'TOPUP has no current supplier price' },
    ]);
    expect(await env.state('BK-KIND')).toBeUndefined();
    expect(ordered(env, 'BK-KIND')).toEqual([]);
    expect(await metricLines(env)).toContain('gateway_sku_can_sell{sku="TOPUP"} 0');
  });
});
