import { parseArgs } from 'node:util';
import { adminClient } from './admin-client.js';
import type { CliIo } from './run.js';

const idr = (n: number) => `${n.toLocaleString('en-US')} IDR`;

/** `gateway balance [--json]`: the supplier balance as the running gateway last polled it. */
export async function runBalance(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args, options: { json: { type: 'boolean' } }, strict: true });
  const call = adminClient('balance', io);
  if (!call) return 1;
  const result = await call('GET', '/admin/supplier');
  if (!result.ok) return 1;
  const report = result.value as {
    balance: { idr: number; at: number } | null;
    balanceAlertBelowIdr: number | null;
  };
  if (values.json) {
    io.out(JSON.stringify({ balance: report.balance, alertBelowIdr: report.balanceAlertBelowIdr }));
    return 0;
  }
  if (!report.balance) {
    io.out('supplier balance: not known yet (the gateway has not polled it successfully)');
    return 1;
  }
  const low = report.balanceAlertBelowIdr !== null && report.balance.idr < report.balanceAlertBelowIdr;
  io.out(
    `supplier balance: ${idr(report.balance.idr)} at ${new Date(report.balance.at).toISOString()}${
      report.balanceAlertBelowIdr === null
        ? ''
        : low
          ? `  LOW: below ${idr(report.balanceAlertBelowIdr)}`
          : ` (alert below ${idr(report.balanceAlertBelowIdr)})`
    }`,
  );
  return 0;
}
