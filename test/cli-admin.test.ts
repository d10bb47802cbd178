import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/run.js';
import { type E2E, startE2E } from './helpers/e2e.js';
import { REQUIRED_ENV } from './helpers/env.js';
import { EXAMPLE_MAPPING } from './helpers/mapping.js';
import { type TempDatabase, type TempDir, tempDatabase, tempDir } from './helpers/storage.js';
import { waitFor } from './helpers/wait.js';

const ADMIN_TOKEN = 'admin-token-for-tests-0123456789';

let dir: TempDir;
let e: E2E | undefined;
let database: TempDatabase | undefined;
/** Where the command finds the gateway and its database. */
let target: { args: string[]; env: Record<string, string> };

beforeEach(async () => {
  dir = tempDir();
  database = await tempDatabase();
  const { settings } = database;
  e = await startE2E({ env: { ...database.env, ADMIN_TOKEN, TOPUP_WAIT_MS: '300' } });
  const reach = { GATEWAY_URL: e.url, ADMIN_TOKEN };
  target = settings.databaseUrl
    ? { args: [], env: { ...reach, DATABASE_URL: settings.databaseUrl } }
    : { args: ['--database', settings.databasePath], env: reach };
});
afterEach(async () => {
  await e?.close();
  e = undefined;
  await database?.remove();
  dir.remove();
});

async function run(argv: string[], env: Record<string, string> = target.env) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { env, cwd: dir.path, out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

async function stuck(n: string) {
  if (!e) throw new Error('no gateway');
  e.sim.nextEnding({ kind: 'stay' });
  await e.purchase(n);
  await waitFor(async () => (await e?.state(n)) === 'PROCESSING', 5000, `${n} PROCESSING`);
}

describe('gateway tx', () => {
  it('lists as a table (flagged first) and as JSON, and refuses a bad filter naming it', async () => {
    if (!e) throw new Error('no gateway');
    await e.purchase('TX-1');
    await e.settle('TX-1');
    await stuck('TX-2');
    await e.gw.store.flagForOperator('TX-2', 'odd', Date.now());
    const table = await run(['tx', 'list', ...target.args]);
    expect(table.err).toEqual([]);
    expect(table.code).toBe(0);
    expect(table.out[0]).toMatch(
      /^TRANSACTION\s+STATE\s+FLAG\s+SKU\s+CREATED \(UTC\)\s+OPEN FOR\s+TRX_CODE$/,
    );
    expect(table.out[1]).toMatch(/^TX-2\s+PROCESSING\s+FLAGGED\s+DIAMOND50\s+\S+ \S+\s+0m\s+\S+$/);
    expect(table.out[2]).toMatch(/^TX-1\s+SUCCESS\s+DIAMOND50/);
    expect(table.out.at(-1)).toBe('2 shown, no more');

    const json = await run(['tx', 'list', '--state', 'SUCCESS', '--json', ...target.args]);
    expect(JSON.parse(json.out[0] ?? '')).toMatchObject({
      items: [{ transactionNumber: 'TX-1' }],
      next: null,
    });

    const paged = await run(['tx', 'list', '--limit', '1', ...target.args]);
    expect(paged.out.at(-1)).toMatch(/^more: gateway tx list --cursor \S+/);

    const bad = await run(['tx', 'list', '--state', 'DONE', ...target.args]);
    expect(bad.code).toBe(2);
    expect(bad.err[0]).toMatch(/^gateway tx list: --state /);
    expect((await run(['tx', 'list', '--limit', 'many', ...target.args])).err[0]).toMatch(
      /--limit must be a whole number/,
    );
    expect((await run(['tx', 'nothing'])).code).toBe(2);
  });

  it('shows a story as text and as JSON; an unknown number exits 1', async () => {
    if (!e) throw new Error('no gateway');
    await e.purchase('TX-3');
    await e.settle('TX-3');
    await e.gw.audit.flush();
    const text = await run(['tx', 'show', 'TX-3', ...target.args]);
    expect(text.out[0]).toBe('transaction TX-3: SUCCESS');
    const json = await run(['tx', 'show', 'TX-3', '--json', ...target.args]);
    const story = JSON.parse(json.out[0] ?? '');
    expect(story.events.map((x: { toState: string }) => x.toState)).toEqual([
      'QUEUED',
      'ORDERING',
      'PROCESSING',
      'SUCCESS',
    ]);
    expect(story.transaction.token).toBeUndefined();
    expect(await run(['tx', 'show', 'NOPE', ...target.args])).toMatchObject({
      code: 1,
      err: ['gateway tx show: no transaction NOPE'],
    });
  });

  it('rechecks and resolves through the running gateway, with the operator named', async () => {
    if (!e) throw new Error('no gateway');
    await stuck('TX-4');
    const recheck = await run(['tx', 'recheck', 'TX-4', '--operator', 'dana']);
    expect(recheck).toMatchObject({ code: 0, out: ['recheck TX-4: still PROCESSING'] });
    const resolved = await run([
      'tx',
      'resolve',
      'TX-4',
      '--outcome',
      'failed',
      '--reason',
      'refunded by Mitra support',
      '--operator',
      'dana',
    ]);
    expect(resolved.err).toEqual([]);
    expect(resolved.out).toEqual([
      "resolve TX-4: FAILED (as failed, by dana); Razer's next query answers from it",
    ]);
    expect((await e.gw.store.listEvents('TX-4')).at(-1)).toMatchObject({ cause: 'operator', actor: 'dana' });
    expect((await e.query('TX-4')).status).toBe(400);

    const again = await run(['tx', 'resolve', 'TX-4', '--outcome', 'delivered', '--reason', 'oops oops']);
    expect(again.code).toBe(1);
    expect(again.err[0]).toMatch(/^gateway tx resolve: 409 TX-4 is already FAILED/);
    expect((await run(['tx', 'resolve', 'TX-4', '--outcome', 'failed'])).code).toBe(2);
    await e.gw.store.flagForOperator('TX-4', 'a refund reported after the failure', Date.now());
    const ack = await run(['tx', 'acknowledge', 'TX-4', '--reason', 'nothing to do', '--operator', 'dana']);
    expect(ack).toMatchObject({ code: 0, out: ['acknowledge TX-4: flag cleared, state FAILED unchanged'] });
    expect((await e.gw.store.getTransaction('TX-4'))?.attention).toBe(false);
    expect((await run(['tx', 'acknowledge', 'TX-4'])).code).toBe(2);
    expect((await run(['tx', 'recheck', 'TX-4', '--operator', 'bad<name>'])).err[0]).toMatch(
      /--operator must be/,
    );
  });

  it('says what is missing: no token, a wrong token, no gateway', async () => {
    const noToken = await run(['tx', 'recheck', 'X'], { GATEWAY_URL: e?.url ?? '' });
    expect(noToken.code).toBe(1);
    expect(noToken.err[0]).toMatch(/^gateway tx recheck: environment: ADMIN_TOKEN is required/);
    const wrong = await run(['tx', 'recheck', 'X'], {
      GATEWAY_URL: e?.url ?? '',
      ADMIN_TOKEN: 'wrong-wrong-wrong-wrong',
    });
    expect(wrong.err[0]).toMatch(/^gateway tx recheck: 401 /);
    await e?.close();
    const url = e?.url ?? '';
    e = undefined;
    const down = await run(['balance'], { GATEWAY_URL: url, ADMIN_TOKEN });
    expect(down.code).toBe(1);
    expect(down.err[0]).toMatch(
      /^gateway balance: cannot reach the gateway at http:\/\/127\.0\.0\.1:\d+ .*is it running\?/,
    );
  });
});

describe('gateway balance and check --online', () => {
  it('prints the polled balance, as text and JSON', async () => {
    await waitFor(() => e?.gw.balance.last() !== null, 5000, 'a balance poll');
    const text = await run(['balance']);
    expect(text.out[0]).toMatch(/^supplier balance: 10,000,000 IDR at \d{4}-/);
    const json = await run(['balance', '--json']);
    expect(JSON.parse(json.out[0] ?? '').balance.idr).toBe(10_000_000);
  });

  it('passes the example mapping against the live catalogue, with the margins in a table', async () => {
    const r = await run(['check', '--online', '--mapping', EXAMPLE_MAPPING], {
      ...REQUIRED_ENV,
      ...target.env,
    });
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.out[0]).toMatch(/^SKU\s+ON\s+BRAND\/VARIATION\s+PRICE\s+MAX_PRICE\s+MARGIN\s+%\s+ACTIVE$/);
    expect(r.out.find((l) => l.startsWith('DIAMOND50'))).toMatch(
      /^DIAMOND50\s+yes\s+MLBB\/MLBB112\s+\d+\s+16000\s+\d+\s+[\d.]+\s+yes$/,
    );
    expect(r.out.at(-3)).toMatch(/^ok: /);
    expect(r.out.at(-2)).toMatch(/^readings: every default/);
    expect(r.out.at(-1)).toMatch(
      /^Mitra https?:\/\/\S+ \((production|development|other host)\), storage .+, instance .+$/,
    );
  });

  it('exits 1 with one line per problem of a mapping the catalogue does not match', async () => {
    const file = join(dir.path, 'mapping.yaml');
    writeFileSync(
      file,
      [
        'skus:',
        '  CHEAP:',
        '    brand: MLBB',
        '    variation: MLBB112',
        '    max_price: 10',
        '    account: { pattern: "^(?<user_id>\\\\d+)-(?<zone_id>\\\\d+)$" }',
        '    form: { user_id: "{user_id}", zone_id: "{zone_id}" }',
        '  GHOST:',
        '    brand: MLBB',
        '    variation: NOPE',
        '    max_price: 100000',
        '    account: { pattern: "^(?<user_id>\\\\d+)-(?<zone_id>\\\\d+)$" }',
        '    form: { user_id: "{user_id}", zone_id: "{zone_id}" }',
        '',
      ].join('\n'),
    );
    const r = await run(['check', '--online', '--mapping', file], { ...REQUIRED_ENV, ...target.env });
    expect(r.code).toBe(1);
    expect(r.err).toEqual([
      expect.stringMatching(/^SKU CHEAP: price \d+ is above max_price 10 \(margin -\d+\)$/),
      'SKU GHOST: variation NOPE not found in brand MLBB',
      'check --online failed: 2 problems',
    ]);
  });
});
