import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../src/config/env.js';
import { MOVE_APPLICATION } from '../src/db/move/target.js';
import { openStore } from '../src/db/open.js';
import { UnfinishedMoveError } from '../src/db/unfinished-move.js';
import { type RunningGateway, startGateway } from '../src/gateway.js';
import type { MitraSimulator } from '../src/sim/mitra-sim.js';
import { type ChildGateway, spawnGateway } from './helpers/child-gateway.js';
import { type E2E, e2eEnv, startE2E, testLogger } from './helpers/e2e.js';
import { REQUIRED_ENV } from './helpers/env.js';
import { exampleMapping } from './helpers/mapping.js';
import { admin, createDatabase, type TestDatabase } from './helpers/postgres.js';
import { initBody, send } from './helpers/razer.js';
import { type TempDir, tempDir } from './helpers/storage.js';
import { waitFor } from './helpers/wait.js';

// gateway move-store, for real: a SQLite database filled by a gateway with purchases in several
// states, moved by the built CLI into PostgreSQL, then served by two gateways on it.

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function moveStore(args: string[], env: Record<string, string> = {}) {
  return gateway(['move-store', ...args], env);
}

function gateway(args: string[], env: Record<string, string> = {}) {
  const run = spawnSync(process.execPath, [`${ROOT}/dist/cli/main.js`, ...args], {
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
      ...e2eEnv(sim.url),
      DATABASE_PATH: source,
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
  // And in a JSON column, key and value: PostgreSQL refuses JSON's \u0000 escape, so marked too.
  raw
    .prepare(
      `update transactions set custom_param = '{"k\\u0000ey":"v\\u0000al"}' where transaction_number = 'MV-FAILED'`,
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

/** A copy of the source with some rows changed by hand, as no gateway would. */
function oddCopy(name: string, statements: string[]): string {
  const file = dir.file(name);
  const copy = new Database(source, { readonly: true });
  copy.exec(`vacuum into '${file}'`);
  copy.close();
  const raw = new Database(file);
  for (const statement of statements) raw.prepare(statement).run();
  raw.close();
  return file;
}

async function tablesIn(url: string): Promise<number> {
  const r = await admin(url, (c) =>
    c.query("select count(*)::int as n from information_schema.tables where table_schema = 'public'"),
  );
  return (r.rows[0] as { n: number }).n;
}

async function target(): Promise<TestDatabase> {
  const t = await createDatabase(inject('postgresUrl'));
  targets.push(t);
  return t;
}

async function gatewayOn(url: string, instance: string): Promise<RunningGateway> {
  const parsed = loadConfig({ ...e2eEnv(sim.url), DATABASE_URL: url, INSTANCE_ID: instance });
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
    const json = await admin(t.url, (c) =>
      c.query("select custom_param::text as p from transactions where transaction_number = 'MV-FAILED'"),
    );
    expect(json.rows[0]).toEqual({ p: '{"k\ufffdey":"v\ufffdal"}' });
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
    expect(await tablesIn(t.url)).toBe(0);
    expect(moveStore(['--to', t.url, '--from', source]).status).toBe(0);
  });

  it('refuses a source holding values PostgreSQL would not receive as they are, naming each column', async () => {
    const odd = oddCopy('odd-values.db', [
      "update transactions set price_paid = 'a lot' where transaction_number = 'MV-DELIVERED'",
      "update transactions set attention = 2 where transaction_number = 'MV-VOUCHER'",
      "update transactions set revenue_rate_e6 = 9007199254740993 where transaction_number = 'MV-FAILED'",
      "update razer_exchanges set response_headers = '{not json' where id = (select min(id) from razer_exchanges)",
    ]);
    const t = await target();
    const refused = moveStore(['--to', t.url, '--from', odd]);
    expect(refused.status).toBe(2);
    expect(refused.err).toContain(
      'transactions.price_paid: 1 row with a value that is not a whole number within ±2^53',
    );
    expect(refused.err).toContain(
      'transactions.revenue_rate_e6: 1 row with a value that is not a whole number',
    );
    expect(refused.err).toContain('transactions.attention: 1 row with a value other than 0 or 1');
    expect(refused.err).toContain(
      'razer_exchanges.response_headers: 1 row with a value that is not valid JSON text',
    );
    expect(await tablesIn(t.url)).toBe(0);
  });

  it('a row PostgreSQL refuses stops the copy: exit 2 naming the table, briefly; the target marked unfinished', async () => {
    // Within SQLite's integers, beyond PostgreSQL's 4-byte integer column.
    const odd = oddCopy('odd-int4.db', [
      'update supplier_calls set http_status = 3000000000 where id = (select min(id) from supplier_calls)',
    ]);
    const t = await target();
    const stopped = moveStore(['--to', t.url, '--from', odd]);
    expect(stopped.status).toBe(2);
    expect(stopped.err).toMatch(
      /^gateway move-store: copying supplier_calls: value "3000000000" is out of range for type integer\n$/,
    );
    await expect(gatewayOn(t.url, 'move-odd')).rejects.toThrow(/unfinished move from .*odd-int4\.db/);
    const rows = await admin(t.url, (c) => c.query('select count(*)::int as n from transactions'));
    expect(rows.rows[0]).toEqual({ n: 0 });
  });

  it('refuses while a gateway runs on the target, or another move into it is under way', async () => {
    const t = await target();
    const running = await gatewayOn(t.url, 'move-early');
    const refused = moveStore(['--to', t.url, '--from', source]);
    expect(refused.status).toBe(2);
    expect(refused.err).toMatch(
      /other sessions? (is|are) .*connected to the target database \(a gateway running on it\?\)/,
    );
    await running.close();
    gateways.splice(gateways.indexOf(running), 1);

    const empty = await target();
    const other = new pg.Client({ connectionString: empty.url, application_name: MOVE_APPLICATION });
    await other.connect();
    try {
      await other.query('select pg_advisory_lock(7215530118027002)'); // what a move holds
      const second = moveStore(['--to', empty.url, '--from', source]);
      expect(second.status).toBe(2);
      expect(second.err).toMatch(/refused: another gateway move-store into this database is under way/);
    } finally {
      await other.end();
    }
    expect(await tablesIn(empty.url)).toBe(0);
  });

  it('continues ids past the highest SQLite ever gave, not past the highest left', async () => {
    const odd = oddCopy('odd-ids.db', [
      'delete from webhook_inbox where id = (select max(id) from webhook_inbox)',
    ]);
    const seq = new Database(odd, { readonly: true });
    const given = seq.prepare("select seq from sqlite_sequence where name = 'webhook_inbox'").get() as {
      seq: number;
    };
    seq.close();
    const t = await target();
    expect(moveStore(['--to', t.url, '--from', odd]).status).toBe(0);
    const next = await admin(t.url, (c) =>
      c.query("select nextval(pg_get_serial_sequence('webhook_inbox', 'id'))::int as id"),
    );
    expect(next.rows[0]).toEqual({ id: given.seq + 1 });
  });

  it('takes DATABASE_URL when --to is not given (the password stays out of the command line)', async () => {
    const t = await target();
    // A URL naming its own application_name (which wins over the move's) is still the move's own.
    const moved = moveStore(['--from', source], { DATABASE_URL: `${t.url}?application_name=custom` });
    expect(moved.status, moved.err).toBe(0);
    expect(moveStore(['--from', source]).err).toMatch(/is DATABASE_URL \(or --to postgres:/);
  });

  it('refuses a target that holds data, and changes nothing of it', async () => {
    const t = await target();
    expect(moveStore(['--to', t.url, '--from', source]).status).toBe(0);
    const again = moveStore(['--to', t.url, '--from', source]);
    expect(again.status).toBe(2);
    expect(again.err).toMatch(
      /refused: the target database holds data \(in transactions, transaction_events, /,
    );
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
    const settings = { databasePath: ':unused:', databaseUrl: t.url, databasePoolSize: 1, instanceId: 'x' };
    await expect(openStore(settings)).rejects.toBeInstanceOf(UnfinishedMoveError);
    await expect(gatewayOn(t.url, 'move-refused')).rejects.toThrow(/unfinished move from .*source\.db/);
    // Nor does any command read it: a delivered purchase is not "unknown" there, it is not moved yet.
    for (const args of [['story', 'MV-DELIVERED'], ['tx', 'list'], ['prune', '--days', '1'], ['migrate']]) {
      const refused = gateway(args, { DATABASE_URL: t.url });
      expect(refused.status, args.join(' ')).not.toBe(0);
      expect(refused.err, args.join(' ')).toMatch(/unfinished move from .*source\.db/);
    }
    const second = moveStore(['--to', t.url, '--from', source]);
    expect(second.status, second.err).toBe(0);
    expect(second.out).toMatch(/unfinished move: emptied, to copy afresh/);
    const gw = await gatewayOn(t.url, 'move-after');
    expect((await send(gw, 'GET', '/transaction/MV-DELIVERED')).text).toBe(answers.get('MV-DELIVERED')?.text);
  });
});
