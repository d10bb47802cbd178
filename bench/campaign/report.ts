import { MAX_RESENDS } from '../../src/fulfilment/engine.js';
import type { CampaignResult } from './campaign.js';

function tally<T>(items: readonly T[], key: (item: T) => string): string {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** The lines a run prints: what was done, what was found. */
export function report(r: CampaignResult): string[] {
  const h = r.history;
  const answered = h.exchanges.filter((e) => e.status !== null);
  const acknowledged = new Set(
    h.exchanges.filter((e) => e.endpoint === 'init' && e.status === 200).map((e) => e.transactionNumber),
  );
  const stored = new Map(h.stored.map((s) => [s.transactionNumber, s]));
  const flagged = r.open.filter((n) => stored.get(n)?.attention);
  const kills = [...r.kills.entries()].map(
    ([name, k]) => `${name}: ${k.sigkill} SIGKILL, ${k.crashPoint} at crash points, ${k.exited} died unasked`,
  );
  const crashPoints = h.kills.filter((k) => k.how === 'crash-point');
  const calls = Object.entries(r.sim.calls)
    .filter(([, n]) => n > 0)
    .map(([op, n]) => `${op} ${n}`)
    .join(', ');
  const lines = [
    `${r.adapter} (${r.instances} instance${r.instances > 1 ? 's' : ''}), seed ${r.seed}: ${r.rounds} rounds in ${seconds(r.elapsedMs)} (${Math.round((r.elapsedMs - r.drainMs) / r.rounds)} ms a round; final drain ${seconds(r.drainMs)})`,
    `  transactions    ${h.purchases.length} (${acknowledged.size} acknowledged inits; plans: ${tally(h.purchases, (p) => p.plan)})`,
    `  razer answers   ${answered.length} (${tally(answered, (e) => String(e.status))}), no answer ${h.exchanges.length - answered.length}`,
    `  orders          ${h.orders.length} (create-order requests ${h.attempts.length}; ${tally(h.orders, (o) => `status ${o.status}`)})`,
    `  kills           ${kills.join('; ')}${crashPoints.length > 0 ? ` (crash points: ${tally(crashPoints, (k) => k.point ?? '?')})` : ''}`,
    `  faults (rounds) ${r.faults.size === 0 ? 'none' : [...r.faults.entries()].map(([k, n]) => `${k} ${n}`).join(', ')}`,
    `  supplier        calls: ${calls}; webhooks sent ${r.sim.webhooksSent}, dropped ${r.sim.webhooksDropped}, undeliverable ${r.sim.webhooksFailed}; back office finished ${r.backOffice}`,
    `  final states    ${tally(h.stored, (s) => s.state)}`,
    `  open at the end ${r.open.length} (flagged for an operator ${flagged.length}, still open ${r.open.length - flagged.length})${r.open.length > 0 ? `: ${r.open.slice(0, 10).join(', ')}` : ''}`,
    `  violations      ${r.violations.length}`,
  ];
  for (const v of r.violations.slice(0, 50)) {
    lines.push(`    [invariant ${v.invariant}] ${v.transactionNumber}: ${v.message}`);
    for (const e of v.evidence) lines.push(`        ${e}`);
  }
  if (r.violations.length > 50) lines.push(`    ... ${r.violations.length - 50} more`);
  for (const n of r.open.slice(0, 5)) lines.push(...story(r, n));
  for (const exit of r.unexpectedExits) lines.push(`  an instance died unasked; its last output:\n${exit}`);
  return lines;
}

/** What is known of a transaction left open: its stored story, its orders, its last answers. */
function story(r: CampaignResult, n: string): string[] {
  const h = r.history;
  const row = h.stored.find((s) => s.transactionNumber === n);
  const orders = h.orders.filter((o) => o.refId === row?.refId);
  const attempts = h.attempts.filter((a) => a.refId === row?.refId);
  const answers = h.exchanges.filter((e) => e.transactionNumber === n);
  return [
    `  still open: ${n} ${row ? `stored ${row.state}, ${row.orderAttempts} create-orders (${row.resends} resends${row.resends >= MAX_RESENDS ? ': capped, asked by ref_id only until its deadline' : ''}), flagged ${row.attention}` : 'not stored'}`,
    ...(row?.events ?? []).map(
      (e) => `      ${e.from} -> ${e.to} (${e.cause}, ${new Date(e.at).toISOString()}) ${e.detail ?? ''}`,
    ),
    `      supplier: ${orders.length} orders ${orders.map((o) => `${o.trxCode} status ${o.status}`).join(', ')}; ${attempts.length} create-order requests at ${attempts.map((a) => new Date(a.at).toISOString()).join(', ')}`,
    ...answers
      .slice(-4)
      .map(
        (e) =>
          `      round ${e.round} ${e.instance} ${e.endpoint}: ${e.status ?? `no answer (${e.error ?? ''})`} ${e.body.slice(0, 120)}`,
      ),
  ];
}
