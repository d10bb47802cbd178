import { readFile } from 'node:fs/promises';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type E2E, startE2E } from '../helpers/e2e.js';
import { transactionRow } from '../helpers/fixtures.js';
import { initBody, send } from '../helpers/razer.js';
import { SALES_OFFSET, seedSales } from '../helpers/sales.js';
import { waitFor } from '../helpers/wait.js';
import { launchChromium } from './chromium.js';

const ADMIN_TOKEN = 'browser-admin-token-0123456789';

let browser: Browser;
let context: BrowserContext;
let e: E2E | undefined;

beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});
afterEach(async () => {
  await context?.close();
  await e?.close();
  e = undefined;
});

async function start(env: Record<string, string> = {}): Promise<{ e: E2E; page: Page }> {
  // No reconciler step within the test: it would hold a row the operator is resolving (BUSY).
  e = await startE2E({
    env: { ADMIN_TOKEN, TOPUP_WAIT_MS: '300', RECONCILE_SCHEDULE_MS: '60000', ...env },
  });
  context = await browser.newContext();
  const page = await context.newPage();
  // Nothing the console serves may reach beyond the gateway (no CDN, no font, no script).
  const gateway = new URL(e.url).origin;
  await page.route('**/*', (route) =>
    new URL(route.request().url()).origin === gateway ? route.continue() : route.abort(),
  );
  return { e, page };
}

async function signIn(page: Page, url: string, name = 'alice') {
  await page.goto(`${url}/console`);
  await page.fill('input[name=token]', ADMIN_TOKEN);
  await page.fill('input[name=actor]', name);
  await page.click('button[type=submit]');
  await page.waitForURL(`${url}/console`);
}

/** A purchase whose order the simulator keeps PROCESSING, flagged as a day overdue would be. */
async function stuckAndFlagged(env: E2E, n: string) {
  env.sim.nextEnding({ kind: 'stay' });
  const { topup } = await env.purchase(n);
  expect(topup.status).toBe(408);
  await waitFor(async () => (await env.state(n)) === 'PROCESSING', 5000, `${n} PROCESSING`);
  await env.gw.store.flagForOperator(n, 'overdue', Date.now());
}

describe('console in Chromium', () => {
  it('shows only the sign-in page without a session, and refuses a wrong token', async () => {
    const { e, page } = await start();
    await e.purchase('SECRET-1');
    for (const path of [
      '/console',
      '/console/transactions',
      '/console/transactions/SECRET-1',
      '/console/supplier',
      '/console/go-live',
      '/console/sales',
      '/console/sales/transactions.csv?from=2026-12-01&to=2026-12-03',
    ]) {
      await page.goto(`${e.url}${path}`);
      expect(new URL(page.url()).pathname).toBe('/console/sign-in');
      expect(await page.textContent('body')).not.toContain('SECRET-1');
      expect(await page.locator('input[name=token]').count()).toBe(1);
    }
    await page.fill('input[name=token]', 'not-the-admin-token');
    await page.click('button[type=submit]');
    expect(await page.textContent('[role=alert]')).toContain('not the admin token');
    expect(new URL(page.url()).pathname).toBe('/console/sign-in');

    // The cookie jar holds no session, and a form posted without one changes nothing.
    expect(await context.cookies()).toEqual([]);
    const posted = await page.request.post(`${e.url}/console/transactions/SECRET-1/recheck`, {
      form: { confirm: 'yes' },
      maxRedirects: 0,
    });
    expect(posted.status()).toBe(401);
  });

  it('signs in, filters the list, opens a transaction and sees its timeline', async () => {
    const { e, page } = await start();
    await e.purchase('LIST-OK-1');
    await e.settle('LIST-OK-1');
    await e.init('LIST-INIT-2');
    await stuckAndFlagged(e, 'LIST-FLAG-3');

    await signIn(page, e.url);
    const cookie = (await context.cookies()).find((c) => c.name === 'gateway_console');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/console' });
    // Overview: the counts and the chart of the last 24 hours.
    expect(await page.textContent('#count-flagged b')).toBe('1');
    expect(await page.locator('svg.chart g[data-hour]').count()).toBe(24);
    expect(await page.locator('svg.chart rect').count()).toBeGreaterThan(0);

    await page.click('header a:has-text("Transactions")');
    const numbers = () =>
      page
        .locator('#transactions tbody tr')
        .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-number')));
    const all = await numbers();
    expect(all[0]).toBe('LIST-FLAG-3'); // flagged first
    expect(all).toEqual(expect.arrayContaining(['LIST-OK-1', 'LIST-INIT-2', 'LIST-FLAG-3']));
    expect(await page.getAttribute('tr[data-number=LIST-OK-1] .state', 'class')).toBe('state ok');
    expect(await page.textContent('tr[data-number=LIST-FLAG-3] td:nth-child(3)')).toMatch(/\d+ s|min/);

    await page.selectOption('select[name=state]', 'SUCCESS');
    await page.click('form.filters button[type=submit]');
    expect(await numbers()).toEqual(['LIST-OK-1']);
    expect(new URL(page.url()).searchParams.get('state')).toBe('SUCCESS');

    await page.click('a:has-text("LIST-OK-1")');
    expect(await page.textContent('#state')).toBe('SUCCESS');
    const kinds = await page
      .locator('#timeline li')
      .evaluateAll((items) => items.map((i) => i.getAttribute('data-kind')));
    expect(kinds).toEqual(expect.arrayContaining(['event', 'razer', 'supplier']));
    // The Razer transactionToken never reaches the page.
    const row = await e.gw.store.getTransaction('LIST-OK-1');
    expect(await page.content()).not.toContain(row?.token ?? 'no token');

    // A bad filter is explained, not a crash.
    await page.goto(`${e.url}/console/transactions?since=yesterday`);
    expect(await page.textContent('[role=alert]')).toContain('since');
  });

  it('resolves a flagged transaction after confirming, and Razer’s query changes', async () => {
    const { e, page } = await start();
    await stuckAndFlagged(e, 'FLAG-1');
    expect((await e.query('FLAG-1')).status).toBe(408);

    await signIn(page, e.url, 'bob');
    await page.goto(`${e.url}/console/transactions?attention=true`);
    await page.click('a:has-text("FLAG-1")');
    expect(await page.textContent('.notice.warn')).toContain('overdue');

    await page.selectOption('#resolve select[name=outcome]', 'failed');
    await page.fill('#resolve input[name=reason]', 'VCGamers support says it was refunded');
    await page.click('#resolve button[type=submit]');
    // Asked first; nothing changed yet.
    expect(await page.textContent('h1')).toContain('Resolve FLAG-1 as failed?');
    expect(await e.state('FLAG-1')).toBe('PROCESSING');

    await page.click('#confirm button[type=submit]');
    expect(await page.textContent('#result')).toContain('FLAG-1 is now FAILED');
    expect(await page.textContent('#result')).toContain('answered 400');
    const query = await e.query('FLAG-1');
    expect(query.status).toBe(400);
    expect(await e.gw.store.listEvents('FLAG-1')).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ toState: 'FAILED', cause: 'operator', actor: 'bob' }),
      ]),
    );

    // Back on the page: final, unflagged, and no resolve form any more.
    await page.click('#back');
    expect(await page.textContent('#state')).toBe('FAILED');
    expect(await page.locator('#resolve').count()).toBe(0);
  });

  it('rechecks and shows the supplier page; signing out ends the session', async () => {
    const { e, page } = await start();
    e.sim.webhookUrl = null;
    e.sim.nextEnding({ kind: 'stay' });
    await e.purchase('RE-1');
    await waitFor(async () => (await e?.state('RE-1')) === 'PROCESSING', 5000, 'RE-1 PROCESSING');
    const row = await e.gw.store.getTransaction('RE-1');
    e.sim.finish(row?.trxCode ?? '', { kind: 'success' });

    await signIn(page, e.url);
    await page.goto(`${e.url}/console/transactions/RE-1`);
    await page.click('#recheck button[type=submit]');
    await page.click('#confirm button[type=submit]');
    expect(await page.textContent('#result')).toContain('now: SUCCESS');
    expect((await e.query('RE-1')).status).toBe(200);

    await page.click('header a:has-text("Supplier")');
    const skus = await page.locator('#skus tbody tr').count();
    expect(skus).toBe(e.gw.mapping.current().skus.size);
    expect(await page.textContent('#skus tbody tr:first-child td:nth-child(5)')).toMatch(/IDR/);

    await page.click('header button:has-text("Sign out")');
    expect(new URL(page.url()).pathname).toBe('/console/sign-in');
    await page.goto(`${e.url}/console/supplier`);
    expect(new URL(page.url()).pathname).toBe('/console/sign-in');
  });

  it('shows the Go live page from the navigation: a refused Razer request diagnosed', async () => {
    const { e, page } = await start();
    const refused = await send(e, 'POST', '/transaction/init', initBody('GL-1'), { mode: 'uri' });
    expect(refused.status).toBe(401);
    await signIn(page, e.url);
    await page.click('header a:has-text("Go live")');
    expect(new URL(page.url()).pathname).toBe('/console/go-live');
    expect(await page.getAttribute('header a:has-text("Go live")', 'class')).toBe('here');
    expect(await page.textContent('h2#mitra')).toContain('conformance report');
    expect(await page.locator('#razer-endpoints tbody tr').count()).toBe(6);
    expect(await page.textContent('#razer-failures tbody tr[data-endpoint=init]')).toContain(
      'set razer.signed_content: uri',
    );
  });

  it('shows the Sales page from the navigation: the chart per day, the table per SKU, and the CSV downloads', async () => {
    const { e, page } = await start({ REPORT_UTC_OFFSET: SALES_OFFSET });
    await seedSales(e);
    // Anything the page's policy refuses (an inline style, a script) is reported on the console.
    const refused: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') refused.push(m.text());
    });
    await signIn(page, e.url);
    await page.click('header a:has-text("Sales")');
    expect(new URL(page.url()).pathname).toBe('/console/sales');
    expect(await page.getAttribute('header a:has-text("Sales")', 'class')).toBe('here');

    await page.fill('#range input[name=from]', '2026-12-01');
    await page.fill('#range input[name=to]', '2026-12-03');
    await page.selectOption('#range select[name=by]', 'sku');
    await page.click('#range button[type=submit]');
    expect(Object.fromEntries(new URL(page.url()).searchParams)).toEqual({
      from: '2026-12-01',
      to: '2026-12-03',
      by: 'sku',
    });

    // One group of three bars per day, drawn: the loss of the last day hangs below the others' base.
    expect(await page.locator('#sales-chart g.day').count()).toBe(3);
    const box = async (selector: string) => {
      const b = await page.locator(selector).boundingBox();
      if (!b) throw new Error(`${selector} is not drawn`);
      return b;
    };
    const profit = await box('#sales-chart g[data-day="2026-12-01"] rect.profit');
    const loss = await box('#sales-chart g[data-day="2026-12-03"] rect.loss');
    expect(profit.height).toBeGreaterThan(0);
    expect(loss.height).toBeGreaterThan(0);
    expect(loss.y).toBeCloseTo(profit.y + profit.height, 0);
    expect(await page.locator('#sales-legend g[data-series]').count()).toBe(4);

    // The table per SKU and its total, styled by the page's one stylesheet.
    const skus = await page
      .locator('#report tbody tr')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-key')));
    expect(skus).toEqual(['DIAMOND50', 'GENSHIN60', 'STEAMV50']);
    expect(await page.textContent('#total th:nth-child(9)')).toBe('IDR 3,189');
    const lossColour = await page
      .locator('#report tbody tr[data-key=DIAMOND50] td.negative')
      .evaluate((td) => td.ownerDocument.defaultView?.getComputedStyle(td).color);
    expect(lossColour).toBe('rgb(207, 34, 46)');

    // Both exports download, named after the range.
    const download = async (selector: string) => {
      const [file] = await Promise.all([page.waitForEvent('download'), page.click(selector)]);
      const path = await file.path();
      return { name: file.suggestedFilename(), text: await readFile(path, 'utf8') };
    };
    const report = await download('#export-report');
    expect(report.name).toBe('sales-by-sku-2026-12-01-to-2026-12-03.csv');
    expect(report.text.split('\r\n').at(-2)).toBe('total,8,5,1,1,1,106189,103000,3189,1');
    const transactions = await download('#export-transactions');
    expect(transactions.name).toBe('transactions-2026-12-01-to-2026-12-03.csv');
    expect(transactions.text).toContain('SALE-3C,');
    expect(refused).toEqual([]);

    // Signed out, the same link leads to the sign-in page.
    const href = (await page.getAttribute('#export-transactions', 'href')) ?? '';
    await page.click('header button:has-text("Sign out")');
    await page.goto(`${e.url}${href}`);
    expect(new URL(page.url()).pathname).toBe('/console/sign-in');
  });

  it('acknowledges a flag whose text has a line break (the browser posts it back as CRLF)', async () => {
    const { e, page } = await start();
    const now = Date.now();
    const later = now + 3_600_000;
    const flag = 'the supplier reports order VCG-9 refunded after it was delivered: line one\nline two';
    await e.gw.store.insertTransaction(
      transactionRow('NL-1', 'SUCCESS', {
        createdAt: now,
        updatedAt: now,
        expiresAt: later,
        nextCheckAt: later,
        deadlineAt: later,
        trxCode: 'VCG-9',
        attention: true,
        attentionReason: flag,
      }),
    );
    await signIn(page, e.url);
    await page.goto(`${e.url}/console/transactions/NL-1`);
    await page.fill('#acknowledge input[name=reason]', 'settled with Razer, case 1');
    await page.click('#acknowledge button[type=submit]');
    expect(await page.textContent('h1')).toContain('Acknowledge the flag of NL-1?');
    await page.click('#confirm button[type=submit]');
    expect(await page.textContent('#result')).toContain('its flag is cleared');
    expect((await e.gw.store.getTransaction('NL-1'))?.attention).toBe(false);
  });
});
