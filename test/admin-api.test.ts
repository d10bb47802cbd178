import { afterEach, describe, expect, it } from 'vitest';
import { type E2E, startE2E } from './helpers/e2e.js';
import { waitFor } from './helpers/wait.js';

const ADMIN_TOKEN = 'admin-token-for-tests-0123456789';

let e: E2E | undefined;
afterEach(async () => {
  await e?.close();
  e = undefined;
});

const start = (env: Record<string, string> = {}, sim: Parameters<typeof startE2E>[0] = {}) =>
  startE2E({ ...sim, env: { ADMIN_TOKEN, TOPUP_WAIT_MS: '300', ...env } });

interface Answer {
  status: number;
  json: Record<string, unknown> & { items?: Record<string, unknown>[]; next?: string | null };
  headers: Headers;
}

async function admin(
  method: 'GET' | 'POST',
  path: string,
  options: { body?: unknown; raw?: string; token?: string | null; headers?: Record<string, string> } = {},
): Promise<Answer> {
  if (!e) throw new Error('no gateway');
  const headers: Record<string, string> = { ...options.headers };
  const token = options.token === undefined ? ADMIN_TOKEN : options.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  let body: string | undefined = options.raw;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(`${e.url}${path}`, { method, headers, body });
  const text = await res.text();
  let json: Answer['json'] = {};
  try {
    json = JSON.parse(text);
  } catch {
    json = { text };
  }
  return { status: res.status, json, headers: res.headers };
}

/** A purchase whose order the simulator keeps PROCESSING: top-up answers 408. */
async function stuck(n: string, over?: Record<string, unknown>) {
  if (!e) throw new Error('no gateway');
  e.sim.nextEnding({ kind: 'stay' });
  const { topup } = await e.purchase(n, over);
  expect(topup.status).toBe(408);
  await waitFor(async () => (await e?.state(n)) === 'PROCESSING', 5000, `${n} PROCESSING`);
}

describe('admin API: access', () => {
  it('is off (404 like any unknown path) when ADMIN_TOKEN is unset, /metrics too', async () => {
    e = await startE2E();
    expect((await admin('GET', '/admin/transactions')).status).toBe(404);
    expect((await admin('GET', '/metrics')).status).toBe(404);
  });

  it('refuses a missing, wrong or malformed token with 401 and counts it', async () => {
    e = await start();
    for (const token of [
      null,
      'wrong-token-wrong-token-wrong',
      `${ADMIN_TOKEN}x`,
      ADMIN_TOKEN.slice(0, -1),
    ]) {
      const r = await admin('GET', '/admin/transactions', { token });
      expect(r.status).toBe(401);
      expect(r.json.code).toBe('UNAUTHORIZED');
      expect(r.headers.get('www-authenticate')).toMatch(/^Bearer/);
    }
    const basic = await admin('GET', '/admin/transactions', {
      token: null,
      headers: { authorization: `Basic ${ADMIN_TOKEN}` },
    });
    expect(basic.status).toBe(401);
    // Actions are refused too, and change nothing.
    await stuck('AUTH-1');
    const refused = await admin('POST', '/admin/transactions/AUTH-1/resolve', {
      token: 'nope-nope-nope-nope',
      body: { outcome: 'delivered', reason: 'by hand' },
    });
    expect(refused.status).toBe(401);
    expect(await e.state('AUTH-1')).toBe('PROCESSING');
    const metrics = await admin('GET', '/metrics');
    expect(metrics.json.text).toMatch(/^gateway_unauthorized_total 6$/m);
    expect((await admin('GET', '/metrics', { token: 'nope-nope-nope-nope' })).status).toBe(401);
  });

  it('answers an unknown admin path with a JSON 404, behind the token', async () => {
    e = await start();
    expect((await admin('GET', '/admin/nothing', { token: null })).status).toBe(401);
    const r = await admin('GET', '/admin/nothing');
    expect(r.status).toBe(404);
    expect(r.json.code).toBe('NOT_FOUND');
  });
});

describe('admin API: transactions', () => {
  it('lists flagged first, then open oldest first, then final newest first, and pages with a cursor', async () => {
    e = await start();
    await e.purchase('LIST-1');
    await e.settle('LIST-1');
    await stuck('LIST-2');
    await e.purchase('LIST-3');
    await e.settle('LIST-3');
    await stuck('LIST-4');
    await e.gw.store.flagForOperator('LIST-4', 'looks odd', Date.now());
    const all = await admin('GET', '/admin/transactions');
    expect(all.status).toBe(200);
    expect(all.json.items?.map((t) => t.transactionNumber)).toEqual(['LIST-4', 'LIST-2', 'LIST-3', 'LIST-1']);
    expect(all.json.next).toBeNull();
    expect(all.json.items?.[0]).not.toHaveProperty('token');

    const seen: unknown[] = [];
    let cursor: string | null | undefined;
    do {
      const page = await admin('GET', `/admin/transactions?limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      seen.push(...(page.json.items ?? []).map((t) => t.transactionNumber));
      cursor = page.json.next;
    } while (cursor);
    expect(seen).toEqual(['LIST-4', 'LIST-2', 'LIST-3', 'LIST-1']);

    const numbers = async (query: string) =>
      (await admin('GET', `/admin/transactions?${query}`)).json.items?.map((t) => t.transactionNumber);
    expect(await numbers('state=success')).toEqual(['LIST-3', 'LIST-1']);
    expect(await numbers('state=PROCESSING,SUCCESS&attention=false')).toEqual(['LIST-2', 'LIST-3', 'LIST-1']);
    expect(await numbers('attention=true')).toEqual(['LIST-4']);
    expect(await numbers('q=RG-LIST-3')).toEqual(['LIST-3']);
    expect(await numbers('q=LIST-2')).toEqual(['LIST-2']);
    expect(await numbers('sku=STEAMV50')).toEqual([]);
    expect(await numbers(`since=${Date.now() + 60_000}`)).toEqual([]);
    expect(await numbers(`until=${new Date(Date.now() + 60_000).toISOString()}&state=SUCCESS`)).toEqual([
      'LIST-3',
      'LIST-1',
    ]);
  });

  it('refuses bad filters with 400 and a reason', async () => {
    e = await start();
    for (const [query, message] of [
      ['state=DONE', /state/],
      ['attention=yes', /attention must be true or false/],
      ['limit=0', /limit must be a whole number from 1 to 200/],
      ['limit=500', /limit/],
      ['since=yesterday', /since must be an ISO 8601 time/],
      ['cursor=abc', /cursor is not a cursor this API gave/],
      ['colour=red', /unknown parameter colour/],
      ['=PROCESSING', /a parameter has no name/],
    ] as const) {
      const r = await admin('GET', `/admin/transactions?${query}`);
      expect(r.status, query).toBe(400);
      expect(r.json.code).toBe('INVALID');
      expect(String(r.json.message)).toMatch(message);
    }
  });

  it('shows the whole story of one transaction: events, exchanges, supplier calls, webhooks', async () => {
    e = await start();
    await e.purchase('STORY-1');
    await e.settle('STORY-1');
    await waitFor(
      async () =>
        (await e?.gw.store.pageWebhooks({ transactionRef: 'STORY-1', limit: 5 }))?.items.length !== 0,
    );
    await e.gw.audit.flush();
    const r = await admin('GET', '/admin/transactions/STORY-1');
    expect(r.status).toBe(200);
    const story = r.json as unknown as {
      transaction: Record<string, unknown>;
      events: { toState: string; cause: string }[];
      exchanges: { endpoint: string; responseHeaders: Record<string, string> }[];
      supplierCalls: { operation: string }[];
      webhooks: { transactionRef: string }[];
    };
    expect(story.transaction.state).toBe('SUCCESS');
    expect(story.transaction).not.toHaveProperty('token');
    expect(story.events.map((x) => x.toState)).toEqual(['QUEUED', 'ORDERING', 'PROCESSING', 'SUCCESS']);
    expect(story.exchanges.map((x) => x.endpoint)).toEqual(['init', 'topup', 'query']);
    expect(story.exchanges[0]?.responseHeaders['x-razer-signature']).toBe('[signed]');
    expect(story.supplierCalls.map((c) => c.operation)).toContain('order');
    expect(story.webhooks[0]?.transactionRef).toBe('STORY-1');

    expect((await admin('GET', '/admin/transactions/NOPE')).status).toBe(404);
  });
});

describe('admin API: recheck and resolve', () => {
  it('rechecks now: a delivered order moves to SUCCESS; one never sent is refused with 409', async () => {
    e = await start({}, { sim: { webhookUrl: undefined } });
    e.sim.webhookUrl = null;
    await stuck('RE-1');
    const row = await e.gw.store.getTransaction('RE-1');
    e.sim.finish(row?.trxCode ?? '', { kind: 'success' });
    const r = await admin('POST', '/admin/transactions/RE-1/recheck', { headers: { 'x-operator': 'alice' } });
    expect(r.status).toBe(200);
    expect(r.json.before).toBe('PROCESSING');
    expect((r.json.transaction as { state: string }).state).toBe('SUCCESS');
    expect((await e.query('RE-1')).status).toBe(200);

    await e.init('RE-2');
    const never = await admin('POST', '/admin/transactions/RE-2/recheck');
    expect(never.status).toBe(409);
    expect(String(never.json.message)).toMatch(/never went to the supplier/);
    expect((await admin('POST', '/admin/transactions/NOPE/recheck')).status).toBe(404);
  });

  it('resolves an open transaction as delivered, with the actor and reason on the event; Razer then gets 200', async () => {
    e = await start();
    await stuck('RES-1');
    expect((await e.query('RES-1')).status).toBe(408);
    const r = await admin('POST', '/admin/transactions/RES-1/resolve', {
      headers: { 'x-operator': 'alice' },
      body: { outcome: 'delivered', reason: 'Mitra support confirmed delivery' },
    });
    expect(r.status).toBe(200);
    expect((r.json.transaction as { state: string }).state).toBe('SUCCESS');
    const events = await e.gw.store.listEvents('RES-1');
    expect(events.at(-1)).toMatchObject({
      fromState: 'PROCESSING',
      toState: 'SUCCESS',
      cause: 'operator',
      actor: 'alice',
      detail: 'resolved as delivered by alice: Mitra support confirmed delivery',
    });
    const query = await e.query('RES-1');
    expect(query.status).toBe(200);
    expect(query.json.status).toBe('SUCCESS');

    // Terminal now: a second resolution is refused and changes nothing.
    const again = await admin('POST', '/admin/transactions/RES-1/resolve', {
      body: { outcome: 'failed', reason: 'changed my mind' },
    });
    expect(again.status).toBe(409);
    expect(String(again.json.message)).toMatch(/already SUCCESS; a final state never changes/);
    expect(await e.state('RES-1')).toBe('SUCCESS');
    expect((await e.gw.store.listEvents('RES-1')).length).toBe(events.length);
  });

  it('resolves as failed (Razer gets 400) and clears the flag; the actor defaults to admin', async () => {
    e = await start();
    await stuck('RES-2');
    await e.gw.store.flagForOperator('RES-2', 'overdue', Date.now());
    const r = await admin('POST', '/admin/transactions/RES-2/resolve', {
      body: { outcome: 'failed', reason: 'refunded by Mitra support' },
    });
    expect(r.status).toBe(200);
    const row = await e.gw.store.getTransaction('RES-2');
    expect(row).toMatchObject({ state: 'FAILED', attention: false, failureCode: 'FAILED' });
    expect((await e.gw.store.listEvents('RES-2')).at(-1)?.actor).toBe('admin');
    const query = await e.query('RES-2');
    expect(query.status).toBe(400);
  });

  it('a voucher needs its code to be resolved as delivered; with it, Razer gets the code', async () => {
    e = await start();
    await stuck('VOU-1', { sku: 'STEAMV50', accountId: 'buyer@example.com' });
    const without = await admin('POST', '/admin/transactions/VOU-1/resolve', {
      body: { outcome: 'delivered', reason: 'seen in the Mitra dashboard' },
    });
    expect(without.status).toBe(400);
    expect(String(without.json.message)).toMatch(/voucher: resolving it as delivered needs its voucherCode/);
    expect(await e.state('VOU-1')).toBe('PROCESSING');
    const withCode = await admin('POST', '/admin/transactions/VOU-1/resolve', {
      body: { outcome: 'delivered', reason: 'seen in the Mitra dashboard', voucherCode: 'STEAM-CODE-1' },
    });
    expect(withCode.status).toBe(200);
    const query = await e.query('VOU-1');
    expect(query.status).toBe(200);
    expect(query.json.voucher).toEqual({ code: 'STEAM-CODE-1' });
  });

  it('refuses what it must: bad bodies (400/413), a queued or initiated one (409), a held step (409)', async () => {
    e = await start();
    await stuck('BAD-1');
    const resolveWith = (options: Parameters<typeof admin>[2]) =>
      admin('POST', '/admin/transactions/BAD-1/resolve', options);
    for (const [options, status, message] of [
      [{ body: { outcome: 'delivered' } }, 400, /reason is required/],
      [{ body: { outcome: 'maybe', reason: 'hmm hmm' } }, 400, /outcome must be delivered or failed/],
      [{ body: { outcome: 'failed', reason: 'x' } }, 400, /reason must say why/],
      [{ body: { outcome: 'failed', reason: 'fine', extra: 1 } }, 400, /unknown parameter extra/],
      [{ raw: '{not json', headers: { 'content-type': 'application/json' } }, 400, /not valid JSON/],
      [
        { raw: '{}', headers: { 'content-type': 'text/plain' } },
        400,
        /Content-Type must be application\/json/,
      ],
      [
        { body: { outcome: 'failed', reason: 'fine' }, headers: { 'x-operator': 'bob<script>' } },
        400,
        /must be 1-64 ASCII letters/,
      ],
      [{ body: { outcome: 'failed', reason: 'x'.repeat(131_100) } }, 413, /larger than/],
      [
        { body: { outcome: 'delivered', reason: 'fine', trxCode: 'OTHER-CODE' } },
        409,
        /already has trx_code/,
      ],
    ] as const) {
      const r = await resolveWith(options);
      expect(r.status, JSON.stringify(options).slice(0, 80)).toBe(status);
      expect(String(r.json.message)).toMatch(message);
    }
    expect(await e.state('BAD-1')).toBe('PROCESSING');

    // A step holds the row (another instance, say): the resolution waits for no one.
    expect(await e.gw.store.claimStep('BAD-1', 'someone-else', 60_000)).not.toBeNull();
    const busy = await resolveWith({ body: { outcome: 'failed', reason: 'fine' } });
    expect([busy.status, busy.json.code]).toEqual([409, 'BUSY']);
    await e.gw.store.releaseStep('BAD-1', 'someone-else');

    await e.init('BAD-2');
    const initiated = await admin('POST', '/admin/transactions/BAD-2/resolve', {
      body: { outcome: 'failed', reason: 'fine' },
    });
    expect(initiated.status).toBe(409);
    expect(await e.state('BAD-2')).toBe('INITIATED');
    expect(
      (
        await admin('POST', '/admin/transactions/NOPE/resolve', {
          body: { outcome: 'failed', reason: 'fine' },
        })
      ).status,
    ).toBe(404);
  });
});

describe('admin API: webhooks and supplier', () => {
  it('lists webhooks with filters and replays one', async () => {
    e = await start();
    await e.purchase('WH-1');
    await e.settle('WH-1');
    await waitFor(async () => {
      const page = await e?.gw.store.pageWebhooks({ transactionRef: 'WH-1', processed: true, limit: 5 });
      return (page?.items.length ?? 0) > 0;
    });
    const list = await admin('GET', '/admin/webhooks?transaction=WH-1&processed=true');
    expect(list.status).toBe(200);
    const first = list.json.items?.[0] as { id: number; transactionRef: string };
    expect(first.transactionRef).toBe('WH-1');
    expect((await admin('GET', '/admin/webhooks?processed=false')).json.items).toEqual([]);
    expect((await admin('GET', '/admin/webhooks?processed=maybe')).status).toBe(400);

    const replay = await admin('POST', `/admin/webhooks/${first.id}/replay`, {
      headers: { 'x-operator': 'carol' },
    });
    expect(replay.status).toBe(200);
    expect(String(replay.json.result)).toMatch(/^replayed by carol: /);
    expect((await e.gw.store.getWebhook(first.id))?.result).toMatch(/^replayed by carol: /);
    expect(await e.state('WH-1')).toBe('SUCCESS');
    expect((await admin('POST', '/admin/webhooks/999999/replay')).status).toBe(404);
    expect((await admin('POST', '/admin/webhooks/abc/replay')).status).toBe(400);
  });

  it('reports the balance, the catalogue age, the limiter and every SKU margin', async () => {
    e = await start({ SUPPLIER_BALANCE_ALERT_IDR: '1000' });
    await waitFor(() => e?.gw.balance.last() !== null, 5000, 'a balance poll');
    const r = await admin('GET', '/admin/supplier');
    expect(r.status).toBe(200);
    const report = r.json as unknown as {
      balance: { idr: number };
      balanceLow: boolean;
      catalogue: { brandsAgeSeconds: number };
      limiter: { waiting: Record<string, number> };
      skus: { sku: string; price: number; maxPrice: number; margin: number; active: boolean }[];
    };
    expect(report.balance.idr).toBe(e.sim.balance);
    expect(report.balanceLow).toBe(false);
    expect(report.catalogue.brandsAgeSeconds).toBeGreaterThanOrEqual(0);
    expect(report.limiter.waiting).toEqual({ order: 0, query: 0 });
    const diamonds = report.skus.find((s) => s.sku === 'DIAMOND50');
    expect(diamonds).toMatchObject({ maxPrice: 16000, active: true });
    expect(diamonds?.margin).toBe(16000 - (diamonds?.price ?? 0));
  });

  it('fetches the live catalogue for given variations (check --online uses it)', async () => {
    e = await start();
    const before = e.sim.stats.calls.variations;
    const r = await admin('POST', '/admin/supplier/catalogue', {
      body: {
        items: [
          { brand: 'MLBB', variation: 'MLBB112' },
          { brand: 'NOPE', variation: 'X' },
        ],
      },
    });
    expect(r.status).toBe(200);
    expect(e.sim.stats.calls.variations).toBeGreaterThan(before);
    const json = r.json as unknown as {
      refreshed: { brands: string };
      brands: Record<string, unknown>;
      variations: Record<string, Record<string, { price: number }>>;
    };
    expect(json.refreshed.brands).toBe('ok');
    expect(json.brands.MLBB).toBeDefined();
    expect(json.variations.MLBB?.MLBB112?.price).toBeGreaterThan(0);
    expect((await admin('POST', '/admin/supplier/catalogue', { body: { items: 'all' } })).status).toBe(400);
  });
});

describe('admin API: what the review found', () => {
  it('never shows the Razer transactionToken in a story, nor a credential-like webhook header', async () => {
    e = await start();
    const { init } = await e.purchase('TOK-1');
    await e.settle('TOK-1');
    const token = String(init.json.transactionToken);
    await fetch(e.webhookUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-signature': 'sig-value-123',
        'x-forwarded-uri': e.webhookUrl,
      },
      body: JSON.stringify({ ref_id: 'RG-TOK-1', status: 2 }),
    });
    await e.gw.audit.flush();
    const story = await admin('GET', '/admin/transactions/TOK-1');
    const text = JSON.stringify(story.json);
    expect(text).not.toContain(token);
    expect(text).toContain('[token]');
    const hooks = JSON.stringify((await admin('GET', '/admin/webhooks')).json);
    expect(hooks).not.toContain('sig-value-123');
    expect(hooks).not.toContain(e.webhookUrl);
    expect(hooks).toContain('"x-signature":"[redacted]"');
  });

  it('acknowledges a flagged final transaction: the flag clears, the state stays', async () => {
    e = await start();
    await e.purchase('ACK-1');
    await e.settle('ACK-1');
    await e.gw.store.flagForOperator('ACK-1', 'supplier reports a refund after delivery', Date.now());
    expect((await admin('POST', '/admin/transactions/ACK-1/acknowledge', { body: {} })).status).toBe(400);
    const r = await admin('POST', '/admin/transactions/ACK-1/acknowledge', {
      body: { reason: 'settled with Razer by email' },
      headers: { 'x-operator': 'erin' },
    });
    expect(r.status).toBe(200);
    expect(await e.gw.store.getTransaction('ACK-1')).toMatchObject({ state: 'SUCCESS', attention: false });
    expect(
      (await admin('POST', '/admin/transactions/ACK-1/acknowledge', { body: { reason: 'again' } })).status,
    ).toBe(409);
    // An open one is resolved, not acknowledged: it would be flagged again at its next check.
    await stuck('ACK-2');
    await e.gw.store.flagForOperator('ACK-2', 'overdue', Date.now());
    const open = await admin('POST', '/admin/transactions/ACK-2/acknowledge', {
      body: { reason: 'nothing to do' },
    });
    expect([open.status, open.json.message]).toEqual([
      409,
      'ACK-2 is PROCESSING: resolve it (or recheck it) instead',
    ]);
    expect((await e.gw.store.getTransaction('ACK-2'))?.attention).toBe(true);
  });

  it('a webhook read while open, applied after an operator settled it, is checked against the supplier', async () => {
    e = await start();
    await stuck('RACE-1');
    e.sim.webhookUrl = null;
    const trxCode = (await e.gw.store.getTransaction('RACE-1'))?.trxCode ?? '';
    expect(
      (
        await admin('POST', '/admin/transactions/RACE-1/resolve', {
          body: { outcome: 'failed', reason: 'looked lost' },
        })
      ).status,
    ).toBe(200);
    e.sim.finish(trxCode, { kind: 'success' });
    // The webhook's step, decided before the resolution, runs after it.
    await e.gw.engine.advance('RACE-1', 'webhook', { trxCode });
    const row = await e.gw.store.getTransaction('RACE-1');
    expect(row).toMatchObject({ state: 'FAILED', attention: true });
    expect(row?.attentionReason).toMatch(/delivered after it was recorded FAILED/);

    // A final state an operator's recheck reached (the engine's own move, no actor) is not asked again.
    await stuck('RACE-2');
    const code2 = (await e.gw.store.getTransaction('RACE-2'))?.trxCode ?? '';
    e.sim.finish(code2, { kind: 'success' });
    expect((await admin('POST', '/admin/transactions/RACE-2/recheck')).status).toBe(200);
    expect(await e.state('RACE-2')).toBe('SUCCESS');
    const calls = (await e.calls('RACE-2')).length;
    await e.gw.engine.advance('RACE-2', 'webhook', { trxCode: code2 });
    expect((await e.calls('RACE-2')).length).toBe(calls);
  });

  it('a replay whose step another holds is a 409, and keeps what the webhook first did', async () => {
    e = await start();
    await stuck('RB-1');
    e.sim.webhookUrl = null;
    const hook = await e.gw.store.storeWebhook({
      receivedAt: Date.now(),
      sourceIp: '127.0.0.1',
      headers: {},
      body: JSON.stringify({ ref_id: 'RG-RB-1', status: 1 }),
      bodySha256: 'x',
      kind: 'transaction',
      transactionRef: 'RB-1',
      processedAt: Date.now(),
      result: 'status checked',
    });
    expect(await e.gw.store.claimStep('RB-1', 'someone-else', 60_000)).not.toBeNull();
    const busy = await admin('POST', `/admin/webhooks/${hook}/replay`);
    expect([busy.status, busy.json.code]).toEqual([409, 'BUSY']);
    await e.gw.store.releaseStep('RB-1', 'someone-else');
    const done = await admin('POST', `/admin/webhooks/${hook}/replay`);
    expect(done.status).toBe(200);
    expect(String(done.json.result)).toMatch(/^replayed by admin: .* \(was: status checked\)$/);
    const again = await admin('POST', `/admin/webhooks/${hook}/replay`, {
      headers: { 'x-operator': 'fred' },
    });
    expect(String(again.json.result)).toMatch(/^replayed by fred: [^(]* \(was: status checked\)$/);
  });

  it('fetches the catalogue for a mapping, not a crawl: 100 brands at most, one fetch at a time', async () => {
    e = await start();
    const many = Array.from({ length: 101 }, (_, i) => ({ brand: `B${i}`, variation: 'V' }));
    const tooMany = await admin('POST', '/admin/supplier/catalogue', { body: { items: many } });
    expect([tooMany.status, tooMany.json.message]).toEqual([
      400,
      'items may name at most 100 distinct brands',
    ]);
    e.sim.setFaults({ latencyMs: 300 });
    const body = { items: [{ brand: 'MLBB', variation: 'MLBB112' }] };
    const both = await Promise.all([
      admin('POST', '/admin/supplier/catalogue', { body }),
      admin('POST', '/admin/supplier/catalogue', { body }),
    ]);
    expect(both.map((r) => r.status).sort()).toEqual([200, 409]);
  });

  it('counts the catalogue age over the brands sold, not brands cached once and never refreshed', async () => {
    e = await start();
    await e.gw.store.replaceVariations(
      'UNSOLD',
      [{ variationKey: 'X', name: 'x', price: 1, isActive: true }],
      Date.now() - 7_200_000,
    );
    const age = await e.gw.catalogue.age();
    expect(age.oldestVariationsMs).not.toBeNull();
    expect(age.oldestVariationsMs ?? Number.POSITIVE_INFINITY).toBeLessThan(60_000);
  });
});
