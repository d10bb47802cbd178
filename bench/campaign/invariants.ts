import { refIdFor } from '../../src/fulfilment/purchases.js';
import { canMove, stateSchema } from '../../src/fulfilment/states.js';
import { agrees, describeMeaning, isDefinitive, type Meaning, meaningOf } from './answers.js';
import type { Exchange, History, Kill, Purchase, StoredTransaction, SupplierOrder } from './history.js';

/** One broken invariant (design.md), about one transaction, with what shows it. */
export interface Violation {
  invariant: 1 | 2 | 3 | 4 | 5;
  transactionNumber: string;
  message: string;
  evidence: string[];
}

/** The simulator's order status for a delivered order (its own 3 and 4 are failed and refunded). */
const SUPPLIER_SUCCESS = 2;

/** Final states that say nothing was ever sent to the supplier. */
const NEVER_SENT = new Set(['CANCELLED', 'EXPIRED']);
const NOT_DELIVERED = new Set(['FAILED', 'CANCELLED', 'EXPIRED']);

interface Answered {
  exchange: Exchange;
  meaning: Meaning;
}

interface Subject {
  purchase: Purchase;
  /** Every exchange about the transaction, in sending order. */
  answers: Answered[];
  orders: SupplierOrder[];
  attempts: number;
  stored: StoredTransaction | undefined;
  kills: readonly Kill[];
}

/** Checks invariants 1-5 over a recorded history. Pure: the history in, the violations out. */
export function checkHistory(history: History): Violation[] {
  const exchanges = groupBy(history.exchanges, (e) => e.transactionNumber);
  const orders = groupBy(history.orders, (o) => o.refId);
  const attempts = groupBy(history.attempts, (a) => a.refId);
  const stored = new Map(history.stored.map((s) => [s.transactionNumber, s]));
  const violations: Violation[] = [...strayOrders(history)];
  for (const purchase of history.purchases) {
    const ref = refIdFor(purchase.transactionNumber);
    const subject: Subject = {
      purchase,
      answers: (exchanges.get(purchase.transactionNumber) ?? [])
        .sort((a, b) => a.sentTick - b.sentTick)
        .map((exchange) => ({ exchange, meaning: meaningOf(exchange) })),
      orders: orders.get(ref) ?? [],
      attempts: attempts.get(ref)?.length ?? 0,
      stored: stored.get(purchase.transactionNumber),
      kills: history.kills,
    };
    violations.push(...orderCount(subject), ...agreement(subject), ...truth(subject), ...durability(subject));
  }
  for (const row of history.stored) violations.push(...forwardOnly(row));
  return violations.sort((a, b) => a.invariant - b.invariant);
}

/** Invariant 1: orders the workload never made a transaction for. */
function strayOrders(history: History): Violation[] {
  const known = new Set(history.purchases.map((p) => refIdFor(p.transactionNumber)));
  return history.orders
    .filter((o) => !known.has(o.refId))
    .map((o) => ({
      invariant: 1 as const,
      transactionNumber: o.refId,
      message: 'a supplier order for a ref_id no transaction of the run has',
      evidence: [describeOrder(o)],
    }));
}

/** Invariant 1: at most one order, none unless topped up and sent, one for every 200. */
function orderCount(s: Subject): Violation[] {
  const n = s.purchase.transactionNumber;
  const out: Violation[] = [];
  const fail = (message: string, evidence: string[]) =>
    out.push({ invariant: 1, transactionNumber: n, message, evidence });
  if (s.orders.length > 1)
    fail(`${s.orders.length} supplier orders for one transaction`, s.orders.map(describeOrder));
  const toppedUp = s.answers.some((a) => a.exchange.endpoint === 'topup');
  if ((s.orders.length > 0 || s.attempts > 0) && !toppedUp)
    fail(`create-order sent (${s.attempts} attempts, ${s.orders.length} orders) but never topped up`, [
      ...s.orders.map(describeOrder),
    ]);
  if (s.stored && NEVER_SENT.has(s.stored.state) && (s.orders.length > 0 || s.attempts > 0))
    fail(
      `stored ${s.stored.state}, yet create-order was sent ${s.attempts} times`,
      s.orders.map(describeOrder),
    );
  const delivered = s.answers.find((a) => a.meaning.kind === 'delivered');
  if (delivered && s.orders.length === 0)
    fail('answered 200 but the supplier has no order', [describeExchange(delivered.exchange)]);
  return out;
}

/**
 * Invariants 2 and 5: after a definitive answer every later answer agrees, and definitive
 * answers agree with each other; a contradiction across a kill is invariant 5 (an answer lost
 * by the restart). Init answers: every later one replays the first acknowledgement.
 */
function agreement(s: Subject): Violation[] {
  const n = s.purchase.transactionNumber;
  const out: Violation[] = [];
  const report = (first: Answered, bad: Answered[], what: string) => {
    const [earliest] = bad;
    if (!earliest) return;
    const kill = killBetween(s.kills, first.exchange.answeredTick, earliest.exchange.sentTick);
    out.push({
      invariant: kill ? 5 : 2,
      transactionNumber: n,
      message: `${kill ? 'answered before a kill, contradicted after the restart' : 'a later answer contradicts a definitive one'}: ${what}`,
      evidence: [
        describeExchange(first.exchange),
        ...(kill ? [describeKill(kill)] : []),
        ...bad.slice(0, 3).map((a) => describeExchange(a.exchange)),
        ...(bad.length > 3 ? [`... ${bad.length - 3} more`] : []),
      ],
    });
  };

  const inits = s.answers.filter((a) => a.exchange.endpoint === 'init' && a.meaning.kind !== 'none');
  const ack = firstAnswered(inits.filter((a) => a.meaning.kind === 'initiated'));
  if (ack) {
    const replayed = inits.filter(
      (a) =>
        a !== ack && a.exchange.sentTick > ack.exchange.answeredTick && a.exchange.body !== ack.exchange.body,
    );
    report(ack, replayed, 'a repeated init is not the first answer byte for byte');
  }

  const outcomes = s.answers.filter((a) => a.exchange.endpoint !== 'init');
  const first = firstAnswered(outcomes.filter((a) => isDefinitive(a.meaning)));
  if (first && isDefinitive(first.meaning)) {
    const definitive = first.meaning;
    const bad = outcomes.filter(
      (a) =>
        a !== first &&
        (a.exchange.sentTick > first.exchange.answeredTick || isDefinitive(a.meaning)) &&
        !agrees(definitive, a.meaning),
    );
    report(
      first,
      bad,
      `${describeMeaning(definitive)}, then ${bad.map((a) => describeMeaning(a.meaning)).join(', ')}`,
    );
  }

  // The order went to the supplier: a later cancel cannot have stopped it.
  const sent = firstAnswered(outcomes.filter((a) => a.meaning.kind === 'sent'));
  if (sent) {
    const undone = outcomes.filter(
      (a) =>
        a.exchange.sentTick > sent.exchange.answeredTick &&
        a.meaning.kind === 'refused' &&
        a.meaning.state !== null &&
        NEVER_SENT.has(a.meaning.state),
    );
    report(sent, undone, 'NOT_ALLOW_CANCEL (sent to the supplier), then cancelled as never sent');
  }
  return out;
}

/** Invariant 3: 200 only when delivered (a voucher with its code), 400 only when not delivered. */
function truth(s: Subject): Violation[] {
  const n = s.purchase.transactionNumber;
  const problems: { message: string; evidence: string[] }[] = [];
  for (const a of s.answers) {
    const m = a.meaning;
    if (m.kind === 'delivered' && s.orders.length > 0) {
      const order = s.orders.find((o) => o.trxCode === m.reference) ?? s.orders[0];
      if (!order) continue;
      const evidence = [describeExchange(a.exchange), describeOrder(order)];
      const code = deliveredCode(order);
      const deliveredAt = successTime(order);
      if (order.status !== SUPPLIER_SUCCESS)
        problems.push({ message: `answered 200 but the order ended with status ${order.status}`, evidence });
      else if (deliveredAt !== null && deliveredAt > a.exchange.answeredAt)
        problems.push({ message: 'answered 200 before the supplier delivered', evidence });
      else if (m.reference !== order.trxCode)
        problems.push({
          message: `answered 200 naming order ${m.reference}, not ${order.trxCode}`,
          evidence,
        });
      else if (s.purchase.voucher && code === null)
        problems.push({ message: 'voucher answered 200 but the supplier has no code for it', evidence });
      else if (s.purchase.voucher && m.code !== code)
        problems.push({
          message: `voucher answered with code ${m.code ?? '(none)'}, the supplier's is ${code}`,
          evidence,
        });
    }
    if (m.kind === 'refused') {
      const delivered = s.orders.find((o) => o.status === SUPPLIER_SUCCESS);
      if (delivered)
        problems.push({
          message: `answered not delivered (${m.code ?? m.state}) but the supplier delivered`,
          evidence: [describeExchange(a.exchange), describeOrder(delivered)],
        });
    }
  }
  const [worst] = problems;
  return worst ? [{ invariant: 3, transactionNumber: n, ...worst }] : [];
}

/**
 * Invariant 5: an acknowledged init is still there (with its token) after every restart, and
 * the stored state is the one every definitive answer was sent from.
 */
function durability(s: Subject): Violation[] {
  const n = s.purchase.transactionNumber;
  const out: Violation[] = [];
  const fail = (message: string, evidence: string[]) =>
    out.push({ invariant: 5, transactionNumber: n, message, evidence });
  const ack = firstAnswered(s.answers.filter((a) => a.meaning.kind === 'initiated'));
  if (ack && ack.meaning.kind === 'initiated') {
    if (!s.stored) fail('an acknowledged init is not stored', [describeExchange(ack.exchange)]);
    else if (ack.meaning.token !== s.stored.token)
      fail('the stored token is not the acknowledged one', [describeExchange(ack.exchange)]);
    const forgotten = s.answers.find(
      (a) => a.meaning.kind === 'unknown-transaction' && a.exchange.sentTick > ack.exchange.answeredTick,
    );
    if (forgotten)
      fail('an acknowledged transaction was later answered ORIGIN_NOT_FOUND', [
        describeExchange(ack.exchange),
        describeExchange(forgotten.exchange),
      ]);
  }
  const first = firstAnswered(
    s.answers.filter((a) => a.exchange.endpoint !== 'init' && isDefinitive(a.meaning)),
  );
  if (first && s.stored) {
    const state = s.stored.state;
    const m = first.meaning;
    if (m.kind === 'delivered' && state !== 'SUCCESS')
      fail(`answered 200 but stored ${state}`, [describeExchange(first.exchange)]);
    if (m.kind === 'refused' && !NOT_DELIVERED.has(state))
      fail(`answered not delivered but stored ${state}`, [describeExchange(first.exchange)]);
  }
  return out;
}

/** Invariant 4: the stored events are one chain of legal moves from INITIATED to the stored state. */
function forwardOnly(row: StoredTransaction): Violation[] {
  const fail = (message: string, evidence: string[] = []): Violation[] => [
    { invariant: 4, transactionNumber: row.transactionNumber, message, evidence },
  ];
  const chain = row.events.map((e) => `${e.from} -> ${e.to} (${e.cause})`);
  let state = 'INITIATED';
  for (const e of row.events) {
    const from = stateSchema.safeParse(e.from);
    const to = stateSchema.safeParse(e.to);
    if (!from.success || !to.success)
      return fail(`an event names an unknown state: ${e.from} -> ${e.to}`, chain);
    if (e.from !== state) return fail(`an event moves from ${e.from} while the state was ${state}`, chain);
    if (!canMove(from.data, to.data))
      return fail(`illegal move ${e.from} -> ${e.to} (backwards, or out of a final state)`, chain);
    state = e.to;
  }
  if (state !== row.state) return fail(`stored ${row.state} but the events end at ${state}`, chain);
  return [];
}

// ------------------------------------------------------------------ helpers

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}

function firstAnswered(list: Answered[]): Answered | undefined {
  return [...list].sort((a, b) => a.exchange.answeredTick - b.exchange.answeredTick)[0];
}

function killBetween(kills: readonly Kill[], after: number, before: number): Kill | undefined {
  return kills.find((k) => k.tick > after && k.tick < before);
}

/** The code a buyer gets: detail.voucher_code, else sn; a blank string is no code (mitra-side §5). */
export function deliveredCode(order: SupplierOrder): string | null {
  const blank = (s: string | null) => (s && s.trim() !== '' ? s.trim() : null);
  return blank(order.voucherCode) ?? blank(order.sn);
}

function successTime(order: SupplierOrder): number | null {
  const entry = order.history.find((h) => h.status_name === 'Success');
  return entry ? Date.parse(entry.timestamp) : null;
}

function describeExchange(e: Exchange): string {
  const answer = e.status === null ? `no answer (${e.error ?? 'connection died'})` : `${e.status} ${e.body}`;
  return `#${e.sentTick} round ${e.round} ${e.instance} ${e.endpoint} at ${e.sentAt}: ${answer.slice(0, 240)}`;
}

function describeOrder(o: SupplierOrder): string {
  const names = o.history.map((h) => h.status_name).join(' > ');
  return `order ${o.trxCode} ref ${o.refId} status ${o.status} code ${o.voucherCode ?? '-'} sn ${o.sn ?? '-'} [${names}]`;
}

function describeKill(k: Kill): string {
  return `kill of ${k.instance} in round ${k.round} (${k.how}${k.point ? ` at ${k.point}` : ''}) at ${k.at}`;
}
