import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/run.js';
import { signatureHeader } from '../src/razer/signature.js';
import { requestSignedContent } from '../src/readings/razer.js';
import { SANDBOX_CREDENTIALS } from '../src/sandbox-credentials.js';
import { RazerClient } from '../src/sim/razer-client.js';
import { type E2E, startE2E } from './helpers/e2e.js';
import { REQUIRED_ENV } from './helpers/env.js';
import { type TempDatabase, type TempDir, tempDatabase, tempDir } from './helpers/storage.js';
import { waitFor } from './helpers/wait.js';

let dir: TempDir;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => dir.remove());

async function run(argv: string[], env: Record<string, string> = {}, stopSignal?: Promise<void>) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, {
    env,
    cwd: dir.path,
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    stopSignal,
  });
  return { code, out, err };
}

describe('gateway story', () => {
  let e: E2E | undefined;
  let database: TempDatabase | undefined;
  /** Where the command finds it: --database for a SQLite file, DATABASE_URL for PostgreSQL. */
  let target: { args: string[]; env: Record<string, string> };
  beforeEach(async () => {
    database = await tempDatabase();
    const { settings } = database;
    target = settings.databaseUrl
      ? { args: [], env: { DATABASE_URL: settings.databaseUrl } }
      : { args: ['--database', settings.databasePath], env: {} };
  });
  afterEach(async () => {
    await e?.close();
    e = undefined;
    await database?.remove();
  });

  it("prints a transaction's requests, moves and supplier calls in order", async () => {
    // The gateway runs on this test's database, which the command then reads.
    e = await startE2E({ env: database?.env });
    await e.purchase('STORY-1');
    await e.gw.audit.flush(); // the story reads the database the running gateway writes in batches
    const r = await run(['story', 'STORY-1', ...target.args], target.env);
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.out[0]).toBe('transaction STORY-1: SUCCESS');
    // What the sale cost, earned (the example's DIAMOND50: 1.05 USD) and made.
    expect(r.out[3]).toBe(
      '  cost IDR 15,000 (charged by the supplier); revenue 1.05 USD at 16250.5 IDR (rate set 2026-12-01) = IDR 17,063; profit IDR 2,063',
    );
    const kinds = r.out.slice(4).map((l) => l.trim().split(/\s+/)[2]);
    // The webhook's place depends on when the simulator sent it; the rest is in order.
    expect(kinds.filter((k) => k !== 'webhook')).toEqual([
      'razer',
      'state',
      'state',
      'mitra',
      'state',
      'mitra',
      'state',
      'razer',
    ]);
    expect(r.out.join('\n')).toMatch(/webhook {2}#\d+ from 127\.0\.0\.1: /);
    expect(r.out.join('\n')).toMatch(
      /state {4}QUEUED -> ORDERING \(razer\): create-order RG-STORY-1 at 15000/,
    );
  });

  it('says so for an unknown transaction, and asks for a number', async () => {
    e = await startE2E({ env: database?.env });
    expect(await run(['story', 'NOPE', ...target.args], target.env)).toMatchObject({
      code: 1,
      err: ['gateway story: no transaction NOPE'],
    });
    expect((await run(['story'])).code).toBe(2);
  });
});

describe('gateway sign', () => {
  it('prints the header Razer Gold would send, with the configured credentials', async () => {
    const body = '{"a":1}';
    const r = await run(['sign', 'POST', '/transaction/init?a=1', body], { ...REQUIRED_ENV });
    expect(r.out).toEqual([
      signatureHeader(
        'publisherA',
        'test-api-key-0001',
        requestSignedContent('body', 'POST', '/transaction/init?a=1', Buffer.from(body)),
      ),
    ]);
    writeFileSync(join(dir.path, 'readings.yaml'), 'razer:\n  signed_content: uri\n');
    const uri = await run(['sign', 'get', '/health'], { ...REQUIRED_ENV, READINGS_FILE: 'readings.yaml' });
    expect(uri.out).toEqual([
      signatureHeader(
        'publisherA',
        'test-api-key-0001',
        requestSignedContent('uri', 'GET', '/health', Buffer.alloc(0)),
      ),
    ]);
    expect((await run(['sign', 'POST'])).code).toBe(2);
    // A readings file that does not parse signs nothing, and says which file and field.
    writeFileSync(join(dir.path, 'readings.yaml'), 'razer:\n  signed_content: headers\n');
    const bad = await run(['sign', 'get', '/health'], { ...REQUIRED_ENV, READINGS_FILE: 'readings.yaml' });
    expect(bad.code).toBe(1);
    expect(bad.err.join('\n')).toMatch(/readings\.yaml:2: razer\.signed_content: must be body or uri/);
  });
});

describe('npm run sandbox and npm run demo', () => {
  it('runs the sandbox until stopped, printing a signed client for every endpoint', async () => {
    let stop = () => {};
    const stopped = new Promise<void>((resolve) => {
      stop = resolve;
    });
    const out: string[] = [];
    const running = runCli(['sandbox'], {
      env: { PORT: '0', LOG_LEVEL: 'silent', SANDBOX_DATABASE_PATH: dir.file('sandbox.db') },
      cwd: process.cwd(),
      out: (l) => out.push(l),
      err: (l) => out.push(l),
      stopSignal: stopped,
    });
    await waitFor(() => out.some((l) => l.includes('-- balance')), 10_000, 'the sandbox to start');
    const text = out.join('\n');
    expect(text).toContain('SANDBOX: public test credentials');
    for (const endpoint of [
      '/health',
      '/account/validate',
      '/transaction/init',
      '/transaction/topup',
      '/transaction/$N',
      '/transaction/cancel',
    ]) {
      expect(text).toContain(
        `razer ${endpoint === '/health' || endpoint === '/transaction/$N' ? 'GET' : 'POST'} ${endpoint}`,
      );
    }
    const url = /gateway {10}(http:\/\/\S+)/.exec(text)?.[1] ?? '';
    const razer = new RazerClient(url, SANDBOX_CREDENTIALS.RAZER_API_ID, SANDBOX_CREDENTIALS.RAZER_API_KEY);
    const init = await razer.init({
      transactionNumber: 'SBX-1',
      sku: 'STEAMV50',
      razerId: 'r',
      accountId: 'a',
      userIpAddress: 'i',
      userCountryCode: 'MY',
    });
    expect(init).toMatchObject({ status: 200, signed: true });
    // The admin API answers the sandbox's printed token.
    const adminLine = out.find((l) => l.includes('/admin/transactions')) ?? '';
    const token = /Bearer ([^']+)'/.exec(adminLine)?.[1];
    expect(token).toBe(SANDBOX_CREDENTIALS.ADMIN_TOKEN);
    const listed = await fetch(`${url}/admin/transactions?q=SBX-1`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(((await listed.json()) as { items: { state: string }[] }).items.map((t) => t.state)).toEqual([
      'INITIATED',
    ]);
    stop();
    expect(await running).toBe(0);
  });

  it('plays the four demo purchases and tells their stories', async () => {
    const r = await run(['demo']);
    expect(r.code).toBe(0);
    const topups = r.out.filter((l) => l.startsWith('topup'));
    expect(topups.map((l) => l.split(' ')[3])).toEqual(['200', '200', '400', '400']);
    expect(topups[1]).toMatch(/"voucher":\{"code":"STEAM-/);
    expect(topups[2]).toMatch(/INAVLID_SKU/);
    expect(topups[3]).toMatch(/"OOS"/);
    expect(r.out.at(-1)?.trim()).toBe('Supplier orders placed: 2; every transaction has at most one.');
  }, 30_000);
});
