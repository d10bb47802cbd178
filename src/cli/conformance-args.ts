/**
 * The arguments of `gateway conformance`, checked before anything is asked of Mitra: a wrong
 * one is a usage error (exit 2), never a half-run.
 */
import { parseArgs } from 'node:util';
import { SETTLE_MS } from '../conformance/ending.js';
import { parseFormOverride, parseProductRef } from '../conformance/plan.js';
import type { RunArgs } from '../conformance/run/index.js';

export interface ConformanceArgs extends RunArgs {
  json: boolean;
}

export function parseConformanceArgs(
  args: string[],
): { ok: true; value: ConformanceArgs } | { ok: false; problem: string } {
  let values: ReturnType<typeof parseOptions>['values'];
  try {
    ({ values } = parseOptions(args));
  } catch (err) {
    return { ok: false, problem: (err as Error).message };
  }
  const seconds = (text: string | undefined, name: string, min: number, max: number, dflt: number) => {
    if (text === undefined) return dflt;
    if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max)
      throw new Error(`--${name} must be a whole number of seconds from ${min} to ${max}, got "${text}"`);
    return Number(text);
  };
  try {
    let confirmSpend: number | null = null;
    if (values['confirm-spend'] !== undefined) {
      // Whole rupiah, grouped or not: 150000, 150,000, 150.000 or 150_000.
      const text = values['confirm-spend'].trim();
      if (!/^(\d{1,15}|\d{1,3}([.,_]\d{3}){1,4})$/.test(text))
        throw new Error(`--confirm-spend must be a whole amount in IDR such as 150000, got "${text}"`);
      confirmSpend = Number(text.replace(/[.,_]/g, ''));
    }
    let listen: ConformanceArgs['listen'] = null;
    if (values.listen !== undefined) {
      const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(values.listen.trim());
      const port = Number(m?.[3]);
      if (!m || port > 65535)
        throw new Error(
          `--listen must be HOST:PORT (such as 0.0.0.0:8081 or [::]:8081), got "${values.listen}"`,
        );
      listen = { host: m[1] ?? (m[2] || '0.0.0.0'), port, text: values.listen.trim() };
    }
    const product = (name: 'fail-product' | 'refund-product') => {
      const text = values[name];
      if (text === undefined) return null;
      const ref = parseProductRef(text);
      if (!ref) throw new Error(`--${name} must be BRAND/VARIATION, got "${text}"`);
      return ref;
    };
    const forms: Record<string, string> = {};
    for (const text of values.form ?? []) {
      const f = parseFormOverride(text);
      if (!f) throw new Error(`--form must be KEY=VALUE, got "${text}"`);
      forms[f.key] = f.value;
    }
    return {
      ok: true,
      value: {
        production: values.production ?? false,
        confirmSpend,
        listen,
        timeoutMs: seconds(values.timeout, 'timeout', 1, 3600, 120) * 1000,
        webhookWaitMs: seconds(values['webhook-wait'], 'webhook-wait', 0, 600, 30) * 1000,
        settleMs: settle(values.settle, values.timeout),
        fail: product('fail-product'),
        refund: product('refund-product'),
        forms,
        json: values.json ?? false,
      },
    };
  } catch (err) {
    return { ok: false, problem: (err as Error).message };
  }
}

const parseOptions = (args: string[]) =>
  parseArgs({
    args,
    options: {
      production: { type: 'boolean' },
      'confirm-spend': { type: 'string' },
      listen: { type: 'string' },
      timeout: { type: 'string' },
      'webhook-wait': { type: 'string' },
      settle: { type: 'string' },
      'fail-product': { type: 'string' },
      'refund-product': { type: 'string' },
      form: { type: 'string', multiple: true },
      json: { type: 'boolean' },
    },
    strict: true,
    allowPositionals: false,
  });

/**
 * How long a status number the readings do not know must hold before it is taken as an order's
 * end: shorter than --timeout, or no such number could ever end an order.
 */
function settle(text: string | undefined, timeout: string | undefined): number {
  const timeoutS = timeout === undefined ? 120 : Number(timeout);
  if (text === undefined) return SETTLE_MS;
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 3600)
    throw new Error(`--settle must be a whole number of seconds from 1 to 3600, got "${text}"`);
  if (Number(text) >= timeoutS)
    throw new Error(
      `--settle (${text} s) must be shorter than --timeout (${timeoutS} s): no unknown status could ever settle`,
    );
  return Number(text) * 1000;
}
