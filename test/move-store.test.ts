import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../src/config/env.js';
import { openStore } from '../src/db/open.js';
import { UnfinishedMoveError } from '../src/db/unfinished-move.js';
import { type RunningGateway, startGateway } from '../src/gateway.js';
import type { MitraSimulator } from '../src/sim/mitra-sim.js';
import { type ChildGateway, spawnGateway } from './helpers/child-gateway.js';
import { type E2E, startE2E, testLogger } from './helpers/e2e.js';
import { REQUIRED_ENV } from './helpers/env.js';
import { EXAMPLE_MAPPING, exampleMapping } from './helpers/mapping.js';
import { SIM_KEYS } from './helpers/mitra.js';
import { admin, createDatabase, type TestDatabase } from './helpers/postgres.js';
import { initBody, send } from './helpers/razer.js';
import { type TempDir, tempDir } from './helpers/storage.js';
import { waitFor } from './helpers/wait.js';

// gateway move-store, for real: a SQLite database filled by a gateway with purchases in several
// states, moved by the built CLI into PostgreSQL, then served by two gateways on it.

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function moveStore(args: string[], env: Record<string, string> = {}) {
  const run = spawnSync(process.execPath, [`${ROOT}/dist/cli/main.js`, 'move-store', ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
  });
  return { status: run.status, signal: run.signal, out: run.stdout, err: run.stderr };
}

interface Answer {
  status: number;
  text: string;
  signature: string | null;
}

let dir: TempDir;
let source: string;
let e: E2E;
let sim: MitraSimulator;
const answers = new Map<string, Answer>();
const targets: TestDatabase[] = [];
const gateways: RunningGateway[] = [];

const FINAL = ['MV-DELIVERED', 'MV-VOUCHER', 'MV-FAILED', 'MV-RESOLVED'];
const OPEN = ['MV-OPEN', 'MV-UNKNOWN'];
const ADMIN_TOKEN = 'admin-token-for-tests-0123456789';

/** A purchase whose gateway is SIGKILLed after Mitra created its order, before the reply is kept. */
async function orderingAfterAKill(): Promise<void> {
  // The kill comes before the open ones are next due: the child must not settle them (the
  // UNKNOWN one is resolved by sending its order again, which Mitra would now answer). Their
  // schedule is put back after the kill, so the source is as a gateway left it.
  const db = new Database(source);
  const due = db
    .prepare(
      "select transaction_number as n, next_check_at as at from transactions where state in ('PROCESSING', 'UNKNOWN')",
    )
    .all() as { n: string; at: number | null }[];
  const setDue = db.prepare('update transactions set next_check_at = ? where transaction_number = ?');
  for (const { n } of due) setDue.run(Date.now() + 3_600_000, n);
  const child: ChildGateway = await spawnGateway(
    {
      ...REQUIRED_ENV,
      MITRA_API_KEY: SIM_KEYS.apiKey,
      MITRA_SECRET_KEY: SIM_KEYS.secretKey,
      MITRA_BASE_URL: sim.url,
      DATABASE_PATH: source,
      MAPPING_FILE: EXAMPLE_MAPPING,
      PORT: '0',
      HOST: '127.0.0.1',
      MITRA_TIMEOUT_MS: '500',
      RECONCILE_SCHEDULE_MS: '100,200,400',
      GATEWAY_CRASH_AT: 'after-order-reply',
      GATEWAY_CRASH_ON: 'MV-ORDERING',
    },
    dir.path,
  );
  const init = await send(child, 'POST', '/transaction/init', initBody('MV-ORDERING'));
  expect(init.status).toBe(200);
  await send(child, 'POST', '/transaction/topup', {
    transactionNumber: 'MV-ORDERING',
    transactionToken: init.json.transactionToken,
  }).catch(() => null); // the connection dies with the process
  expect((await child.exited).signal).toBe('SIGKILL');
  for (const { n, at } of due) setDue.run(at, n);
  db.close();
}

beforeAll(async () => {
  dir = tempDir('gateway-move-');
  source = dir.file('source.db');
  e = await startE2E({ env: { DATABASE_URL: '', DATABASE_PATH: source, ADMIN_TOKEN } });
  sim = e.sim;
  await e.purchase('MV-DELIVERED');
  await e.settle('MV-DELIVERED');
  await e.purchase('MV-VOUCHER', { sku: 'STEAMV50', accountId: 'steam' });
  await e.settle('MV-VOUCHER');
  sim.nextEnding({ kind: 'fail', sn: 'out of stock' });
  await e.purchase('MV-FAILED');
  await e.settle('MV-FAILED');
  sim.nextEnding({ kind: 'stay' });
  await e.purchase('MV-OPEN');
  expect((await e.init('MV-INITIATED')).status).toBe(200);
  // Resolved by an operator: Mitra never said, support confirmed delivery.
  sim.nextEnding({ kind: 'stay' });
  await e.purchase('MV-RESOLVED');
  const resolved = await fetch(`${e.url}/admin/transactions/MV-RESOLVED/resolve`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${ADMIN_TOKEN}`,
      'content-type': 'application/json',
      'x-operator': 'alice',
    },
    body: JSON.stringify({ outcome: 'delivered', reason: 'Mitra support confirmed delivery' }),
  });
  expect(resolved.status).toBe(200);
  // No clear answer from Mitra to anything (timeouts) from the order on: UNKNOWN, and it stays so
  // until the move (Mitra answers again once the old gateway is stopped).
  sim.setFaults({ hangProbability: 1 });
  await e.purchase('MV-UNKNOWN');
  expect(await e.state('MV-UNKNOWN')).toBe('UNKNOWN');
  await e.gw.store.flagForOperator('MV-DELIVERED', 'looks odd', Date.now());
  for (const n of [...FINAL, ...OPEN, 'MV-INITIATED']) {
    const r = await e.query(n);
    answers.set(n, { status: r.status, text: r.text, signature: r.signature });
  }
  // Stopped before the move, as the procedure says; the simulator stays for the new gateways.
  await e.gw.close();
  sim.setFaults({ hangProbability: 0 });
  await orderingAfterAKill();
  // A supplier reply holding a NUL, which SQLite keeps and PostgreSQL text cannot.
  const raw = new Database(source);
  raw
    .prepare(
      "update supplier_calls set reply_body = reply_body || char(0) || 'tail' where id = (select min(id) from supplier_calls)",
    )
    .run();
  raw.close();
}, 60_000);

afterAll(async () => {
  for (const g of gateways.splice(0)) await g.close();
  await sim?.close();
  for (const t of targets.splice(0)) await t.drop();
  dir?.remove();
});

async function target(): Promise<TestDatabase> {
  const t = await createDatabase(inject('postgresUrl'));
  targets.push(t);
  return t;
}

async function gatewayOn(url: string, instance: string): Promise<RunningGateway> {
  const parsed = loadConfig({
    ...REQUIRED_ENV,
    MITRA_API_KEY: SIM_KEYS.apiKey,
    MITRA_SECRET_KEY: SIM_KEYS.secretKey,
    MITRA_BASE_URL: sim.url,
    DATABASE_URL: url,
    INSTANCE_ID: instance,
    MAPPING_FILE: EXAMPLE_MAPPING,
    PORT: '0',
    HOST: '127.0.0.1',
    MITRA_WEBHOOK_ALLOW_IPS: '127.0.0.1',
    TOPUP_WAIT_MS: '3000',
    MITRA_TIMEOUT_MS: '500',
    RECONCILE_SCHEDULE_MS: '100,200,400',
  });
  if (!parsed.ok) throw new Error(parsed.errors.join('\n'));
  const gw = await startGateway(parsed.value, exampleMapping(), testLogger(), { reconcileTickMs: 25 });
  gateways.push(gw);
  return gw;
}

describe('gateway move-store', () => {
  it('moves every row, verified, and two gateways on PostgreSQL answer as before and finish the open purchase once', async () => {
    // What the killed gateway left: ORDERING, and an order Mitra made that the gateway never heard of.
    const raw = new Database(source, { readonly: true });
    const left = raw
      .prepare("select state, ref_id as refId from transactions where transaction_number = 'MV-ORDERING'")
      .get() as { state: string; refId: string };
    const stillUnknown = raw
      .prepare("select state from transactions where transaction_number = 'MV-UNKNOWN'")
      .get();
    raw.close();
    expect(left.state).toBe('ORDERING');
    expect(stillUnknown).toEqual({ state: 'UNKNOWN' });
    expect(sim.ordersFor(left.refId)).toHaveLength(1);

    const t = await target();
    const moved = moveStore(['--to', t.url, '--from', source]);
    expect(moved.status, moved.err).toBe(0);
    expect(moved.out).toMatch(/move-store: done in [\d.]+ s: 8 transactions verified/);
    expect(moved.out).toMatch(/transactions\s+8 in SQLite\s+8 in PostgreSQL\s+same/);
    // With the webhooks Mitra sent and the exchanges with Razer.
    for (const table of ['webhook_inbox', 'razer_exchanges', 'supplier_calls', 'transaction_events'])
      expect(moved.out).toMatch(new RegExp(`${table}\\s+([1-9]\\d*) in SQLite\\s+\\1 in PostgreSQL\\s+same`));

    const a = await gatewayOn(t.url, 'move-a');
    // Kept marked, as the adapter keeps what it writes: NUL as U+FFFD (and verified so).
    const nul = await admin(t.url, (c) =>
      c.query(
        "select count(*)::int as n from supplier_calls where reply_body like '%' || chr(65533) || 'tail'",
      ),
    );
    expect(nul.rows[0]).toEqual({ n: 1 });
    const b = await gatewayOn(t.url, 'move-b');
    sim.webhookUrl = `${a.url}/mitra/webhook/${REQUIRED_ENV.MITRA_WEBHOOK_TOKEN}`;
    for (const gw of [a, b])
      for (const n of FINAL) {
        const r = await send(gw, 'GET', `/transaction/${n}`);
        expect({ status: r.status, text: r.text, signature: r.signature }, `${n} on ${gw.url}`).toEqual(
          answers.get(n),
        );
      }
    // The open purchase: its order delivered now; one order, ever.
    const open = await a.store.getTransaction('MV-OPEN');
    expect(open?.trxCode).toBeTruthy();
    sim.finish(open?.trxCode ?? '', { kind: 'success' });
    await waitFor(
      async () => (await a.store.getTransaction('MV-OPEN'))?.state === 'SUCCESS',
      15_000,
      'MV-OPEN delivered',
    );
    expect(sim.ordersFor(open?.refId ?? '')).toHaveLength(1);
    expect((await send(b, 'GET', '/transaction/MV-OPEN')).status).toBe(200);
    // The UNKNOWN one: reconciled by the new gateways, one order in all.
    await waitFor(
      async () => (await b.store.getTransaction('MV-UNKNOWN'))?.state === 'SUCCESS',
      15_000,
      'MV-UNKNOWN delivered',
    );
    const unknown = await b.store.getTransaction('MV-UNKNOWN');
    expect(sim.ordersFor(unknown?.refId ?? '')).toHaveLength(1);
    // The one a kill left in ORDERING: its order found, not placed again.
    await waitFor(
      async () => (await a.store.getTransaction('MV-ORDERING'))?.state === 'SUCCESS',
      15_000,
      'MV-ORDERING delivered',
    );
    expect(sim.ordersFor(left.refId)).toHaveLength(1);
    expect((await send(a, 'GET', '/transaction/MV-ORDERING')).status).toBe(200);
    // An operator's resolution moved with who and why.
    expect((await b.store.listEvents('MV-RESOLVED')).at(-1)).toMatchObject({
      toState: 'SUCCESS',
      cause: 'operator',
      actor: 'alice',
    });
    // The flag for an operator moved with its transaction.
    expect((await a.store.getTransaction('MV-DELIVERED'))?.attention).toBe(true);
    // Its story is whole: the moves before the move, and the one after.
    const events = (await a.store.listEvents('MV-OPEN')).map((ev) => `${ev.fromState}>${ev.toState}`);
    expect(events).toContain('INITIATED>QUEUED');
    expect(events).toContain('QUEUED>ORDERING');
    expect(events.at(-1)).toBe('PROCESSING>SUCCESS');
  });

  it('refuses while a gateway still has the SQLite file open, before touching the target', async () => {
    const t = await target();
    // What a running gateway holds, idle or not: a connection that has read.
    const running = new Database(source);
    running.prepare('select count(*) from transactions').get();
    try {
      const refused = moveStore(['--to', t.url, '--from', source]);
      expect(refused.status).toBe(2);
      expect(refused.err).toMatch(
        /refused: the SQLite database is open in another process \(a gateway still running\?\)/,
      );
    } finally {
      running.close();
    }
    const tables = await admin(t.url, (c) =>
      c.query("select count(*)::int as n from information_schema.tables where table_schema = 'public'"),
    );
    expect(tables.rows[0]).toEqual({ n: 0 });
    expect(moveStore(['--to', t.url, '--from', source]).status).toBe(0);
  });

  it('a value PostgreSQL cannot take stops the copy: exit 2 naming the table, briefly, the target marked unfinished', async () => {
    // SQLite keeps text in an integer column; PostgreSQL does not.
    const odd = dir.file('odd.db');
    const copy = new Database(source, { readonly: true });
    copy.exec(`vacuum into '${odd}'`);
    copy.close();
    const raw = new Database(odd);
    raw
      .prepare("update transactions set price_paid = 'a lot' where transaction_number = 'MV-DELIVERED'")
      .run();
    raw.close();
    const t = await target();
    const stopped = moveStore(['--to', t.url, '--from', odd]);
    expect(stopped.status).toBe(2);
    expect(stopped.err).toMatch(
      /^gateway move-store: copying transactions: invalid input syntax for type bigint: "a lot"\n$/,
    );
    await expect(gatewayOn(t.url, 'move-odd')).rejects.toThrow(/unfinished move from .*odd\.db/);
    const rows = await admin(t.url, (c) => c.query('select count(*)::int as n from transactions'));
    expect(rows.rows[0]).toEqual({ n: 0 });
  });

  it('refuses a target that holds data, and changes nothing of it', async () => {
    const t = await target();
    expect(moveStore(['--to', t.url, '--from', source]).status).toBe(0);
    const again = moveStore(['--to', t.url, '--from', source]);
    expect(again.status).toBe(2);
    expect(again.err).toMatch(/refused: the target database holds data \(8 transactions/);
    // Still the first move's, whole and marked done.
    const gw = await gatewayOn(t.url, 'move-kept');
    expect((await send(gw, 'GET', '/transaction/MV-VOUCHER')).text).toBe(answers.get('MV-VOUCHER')?.text);
  });

  it('killed midway leaves a target no gateway starts on; a second move then succeeds', async () => {
    const t = await target();
    const killed = moveStore(['--to', t.url, '--from', source, '--batch', '1'], {
      GATEWAY_MOVE_CRASH_AFTER_ROWS: '3',
    });
    expect(killed.signal).toBe('SIGKILL');
    const store = await openStore({
      databasePath: ':unused:',
      databaseUrl: t.url,
      databasePoolSize: 1,
      instanceId: 'x',
    });
    try {
      await expect(store.migrate()).rejects.toBeInstanceOf(UnfinishedMoveError);
    } finally {
      await store.close();
    }
    await expect(gatewayOn(t.url, 'move-refused')).rejects.toThrow(/unfinished move from .*source\.db/);
    const second = moveStore(['--to', t.url, '--from', source]);
    expect(second.status, second.err).toBe(0);
    expect(second.out).toMatch(/unfinished move: emptied, to copy afresh/);
    const gw = await gatewayOn(t.url, 'move-after');
    expect((await send(gw, 'GET', '/transaction/MV-DELIVERED')).text).toBe(answers.get('MV-DELIVERED')?.text);
  });
});
