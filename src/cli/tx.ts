import { parseArgs } from 'node:util';
import { encodeCursor, firstIssue, storeQuery, transactionListQuery } from '../admin/schemas.js';
import { readStory, transactionView } from '../admin/story.js';
import { storageEnvSchema } from '../config/env.js';
import { actorSchema } from '../fulfilment/operator.js';
import { adminClient } from './admin-client.js';
import type { CliIo } from './run.js';
import { storeSettings, withStore } from './storage.js';
import { formatStory } from './story.js';
import { formatTable } from './table.js';

export const TX_USAGE = `usage:
  gateway tx list [--state S[,S]] [--attention] [--sku SKU] [--since T] [--until T] [--q REF]
                  [--limit N] [--cursor C] [--json] [--database PATH]
  gateway tx show <transactionNumber> [--json] [--database PATH]
  gateway tx recheck <transactionNumber> [--operator NAME] [--json]
  gateway tx resolve <transactionNumber> --outcome delivered|failed --reason TEXT
                  [--voucher-code CODE] [--trx-code CODE] [--operator NAME] [--json]
  gateway tx acknowledge <transactionNumber> --reason TEXT [--operator NAME] [--json]`;

const time = (ms: number) =>
  new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');

/** Minutes, hours or days: how long an open transaction has waited. */
export function age(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return `${minutes}m`;
  if (minutes < 48 * 60) return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
  return `${Math.floor(minutes / 1440)}d`;
}

const FINAL = new Set(['SUCCESS', 'FAILED', 'CANCELLED', 'EXPIRED']);

async function list(args: string[], io: CliIo, now: number): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      state: { type: 'string' },
      attention: { type: 'boolean' },
      sku: { type: 'string' },
      since: { type: 'string' },
      until: { type: 'string' },
      q: { type: 'string' },
      limit: { type: 'string' },
      cursor: { type: 'string' },
      json: { type: 'boolean' },
      database: { type: 'string' },
    },
    strict: true,
  });
  const { json, database, attention, ...rest } = values;
  const parsed = transactionListQuery.safeParse({ ...rest, ...(attention ? { attention: 'true' } : {}) });
  if (!parsed.success) {
    io.err(`gateway tx list: --${firstIssue(parsed.error)}`);
    return 2;
  }
  const query = parsed.data;
  const found = storeSettings(storageEnvSchema, io, database);
  if (!found) return 1;
  return withStore('tx list', found.settings, io, async (store) => {
    const page = await store.pageTransactions(storeQuery(query));
    const next = page.next && encodeCursor(page.next);
    if (json) {
      io.out(JSON.stringify({ items: page.items.map(transactionView), next }));
      return 0;
    }
    const rows = page.items.map((t) => [
      t.transactionNumber,
      t.state,
      t.attention ? 'FLAGGED' : '',
      t.sku,
      time(t.createdAt),
      FINAL.has(t.state) ? '' : age(now - t.createdAt),
      t.trxCode ?? '',
    ]);
    const table = formatTable(
      [
        { header: 'TRANSACTION' },
        { header: 'STATE' },
        { header: 'FLAG' },
        { header: 'SKU' },
        { header: 'CREATED (UTC)' },
        { header: 'OPEN FOR', align: 'right' },
        { header: 'TRX_CODE' },
      ],
      rows,
    );
    for (const line of table) io.out(line);
    io.out(
      page.items.length === 0
        ? 'no transactions match'
        : next
          ? `more: gateway tx list --cursor ${next} (with the same filters)`
          : `${page.items.length} shown, no more`,
    );
    return 0;
  });
}

async function show(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { json: { type: 'boolean' }, database: { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  const n = positionals[0];
  if (!n) {
    io.err('gateway tx show: name a transaction number');
    return 2;
  }
  const found = storeSettings(storageEnvSchema, io, values.database);
  if (!found) return 1;
  return withStore('tx show', found.settings, io, async (store) => {
    const story = await readStory(store, n);
    if (!story) {
      io.err(`gateway tx show: no transaction ${n}`);
      return 1;
    }
    if (values.json) io.out(JSON.stringify(story));
    else for (const line of formatStory(story)) io.out(line);
    return 0;
  });
}

/** --operator as the admin API will take it; an error line and null otherwise. */
function operatorName(command: string, given: string | undefined, io: CliIo): string | undefined | null {
  if (given === undefined) return undefined;
  const parsed = actorSchema.safeParse(given);
  if (parsed.success) return parsed.data;
  io.err(`gateway ${command}: --operator ${parsed.error.issues[0]?.message ?? 'is not valid'}`);
  return null;
}

interface ActionResult {
  before?: string;
  transaction: {
    transactionNumber: string;
    state: string;
    attention: boolean;
    attentionReason: string | null;
  };
}

async function recheckCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { operator: { type: 'string' }, json: { type: 'boolean' } },
    allowPositionals: true,
    strict: true,
  });
  const n = positionals[0];
  if (!n) {
    io.err('gateway tx recheck: name a transaction number');
    return 2;
  }
  const actor = operatorName('tx recheck', values.operator, io);
  if (actor === null) return 2;
  const call = adminClient('tx recheck', io, actor);
  if (!call) return 1;
  const result = await call('POST', `/admin/transactions/${encodeURIComponent(n)}/recheck`);
  if (!result.ok) return 1;
  if (values.json) {
    io.out(JSON.stringify(result.value));
    return 0;
  }
  const r = result.value as ActionResult;
  const t = r.transaction;
  io.out(
    `recheck ${n}: ${r.before === t.state ? `still ${t.state}` : `${r.before} -> ${t.state}`}${t.attention ? `  [OPERATOR: ${t.attentionReason}]` : ''}`,
  );
  return 0;
}

async function resolveCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      outcome: { type: 'string' },
      reason: { type: 'string' },
      'voucher-code': { type: 'string' },
      'trx-code': { type: 'string' },
      operator: { type: 'string' },
      json: { type: 'boolean' },
    },
    allowPositionals: true,
    strict: true,
  });
  const n = positionals[0];
  if (!n || !values.outcome || !values.reason) {
    io.err('gateway tx resolve: name a transaction number, --outcome delivered|failed and --reason TEXT');
    return 2;
  }
  const actor = operatorName('tx resolve', values.operator, io);
  if (actor === null) return 2;
  const call = adminClient('tx resolve', io, actor);
  if (!call) return 1;
  const result = await call('POST', `/admin/transactions/${encodeURIComponent(n)}/resolve`, {
    outcome: values.outcome,
    reason: values.reason,
    ...(values['voucher-code'] ? { voucherCode: values['voucher-code'] } : {}),
    ...(values['trx-code'] ? { trxCode: values['trx-code'] } : {}),
  });
  if (!result.ok) return 1;
  if (values.json) {
    io.out(JSON.stringify(result.value));
    return 0;
  }
  const t = (result.value as ActionResult).transaction;
  io.out(
    `resolve ${n}: ${t.state} (as ${values.outcome}, by ${actor ?? 'admin'}); Razer's next query answers from it`,
  );
  return 0;
}

async function acknowledgeCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { reason: { type: 'string' }, operator: { type: 'string' }, json: { type: 'boolean' } },
    allowPositionals: true,
    strict: true,
  });
  const n = positionals[0];
  if (!n || !values.reason) {
    io.err('gateway tx acknowledge: name a transaction number and --reason TEXT');
    return 2;
  }
  const actor = operatorName('tx acknowledge', values.operator, io);
  if (actor === null) return 2;
  const call = adminClient('tx acknowledge', io, actor);
  if (!call) return 1;
  const result = await call('POST', `/admin/transactions/${encodeURIComponent(n)}/acknowledge`, {
    reason: values.reason,
  });
  if (!result.ok) return 1;
  if (values.json) io.out(JSON.stringify(result.value));
  else
    io.out(
      `acknowledge ${n}: flag cleared, state ${(result.value as ActionResult).transaction.state} unchanged`,
    );
  return 0;
}

/** `gateway tx <list|show|recheck|resolve|acknowledge> ...` */
export function runTx(args: string[], io: CliIo, now: number = Date.now()): Promise<number> | number {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'list':
      return list(rest, io, now);
    case 'show':
      return show(rest, io);
    case 'recheck':
      return recheckCommand(rest, io);
    case 'resolve':
      return resolveCommand(rest, io);
    case 'acknowledge':
      return acknowledgeCommand(rest, io);
    default:
      io.err(sub ? `gateway tx: unknown subcommand '${sub}'` : 'gateway tx: name a subcommand');
      io.err(TX_USAGE);
      return 2;
  }
}
