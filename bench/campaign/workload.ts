import type { Purchase } from './history.js';
import type { RazerTraffic, Reply } from './razer.js';
import type { Rng } from './rng.js';

/** What a purchase's script does after its init. */
export const PLANS = [
  'buy', // top-up
  'buy-query', // top-up, then query (twice if still pending)
  'buy-twice', // top-up, then the same top-up again (Razer's retry)
  'init-twice', // the same init again (replayed), then top-up
  'cancel-first', // cancel, then top-up (refused)
  'race-cancel', // top-up and cancel at about the same time
  'query-first', // query before any top-up (expires it), then top-up (refused)
  'abandon', // init only: expired by the final query
] as const;
export type Plan = (typeof PLANS)[number];

/** SKUs of the example mapping: a top-up, a voucher, and one with an `option` form field. */
const SKUS = [
  { sku: 'DIAMOND50', voucher: false, weight: 4 },
  { sku: 'STEAMV50', voucher: true, weight: 3 },
  { sku: 'GENSHIN60', voucher: false, weight: 3 },
] as const;
const GENSHIN_SERVERS = ['Asia', 'America', 'Europe', 'TW_HK_MO'] as const;

export interface PlannedPurchase extends Purchase {
  plan: Plan;
  init: Record<string, unknown> & { transactionNumber: string };
  /** When the script starts, after the round's start. */
  startMs: number;
  /** race-cancel: the cancel's delay after the top-up is sent. */
  cancelDelayMs: number;
  /** The instance to send to while it is up (a crash point's target). */
  preferred?: string | undefined;
}

export const transactionNumberOf = (prefix: string, round: number, index: number) =>
  `${prefix}R${round}P${index}`;

/**
 * One round's purchases, from the generator alone. `crashTarget`: the purchase a crash point
 * waits for (the round's first) is a plain top-up sent to that instance.
 */
export function planRound(
  rng: Rng,
  round: number,
  prefix: string,
  account: { next: number },
  crashTarget: string | null,
): PlannedPurchase[] {
  const count = rng.int(3, 6);
  return Array.from({ length: count }, (_, index) => {
    const transactionNumber = transactionNumberOf(prefix, round, index);
    const product = rng.weighted(SKUS);
    const k = ++account.next;
    const target = index === 0 && crashTarget !== null;
    const plan: Plan = target ? 'buy' : rng.pick(PLANS);
    return {
      transactionNumber,
      round,
      sku: product.sku,
      voucher: product.voucher,
      plan,
      init: initBody(transactionNumber, product.sku, k, rng),
      startMs: target ? 0 : rng.int(0, 150),
      cancelDelayMs: rng.int(0, 40),
      preferred: target ? (crashTarget ?? undefined) : undefined,
    };
  });
}

function initBody(transactionNumber: string, sku: string, k: number, rng: Rng) {
  const common = {
    transactionNumber,
    sku,
    razerId: `RZR_campaign_${k}`,
    userIpAddress: '23.199.128.1',
    userCountryCode: 'MY',
  };
  if (sku === 'DIAMOND50') return { ...common, accountId: `${100_000 + k}-${1 + (k % 90)}` };
  if (sku === 'GENSHIN60')
    return {
      ...common,
      accountId: String(800_000_000 + k),
      customParam: { serverId: rng.pick(GENSHIN_SERVERS) },
    };
  return { ...common, accountId: `buyer${k}` };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs one purchase's script. Requests that get no answer are recorded and the script goes on. */
export async function runPurchase(p: PlannedPurchase, razer: RazerTraffic): Promise<void> {
  const { round, transactionNumber: n, preferred } = p;
  if (p.startMs > 0) await pause(p.startMs);
  let init: Reply = { status: null, json: {} };
  // Razer sends an init again when it got no answer: the gateway replays or creates it.
  for (let i = 0; i < 4 && (init.status === null || init.status === 500); i++)
    init = await razer.init(round, p.init, preferred);
  const token = init.json.transactionToken;
  if (init.status !== 200) return;
  switch (p.plan) {
    case 'buy':
      await razer.topup(round, n, token, preferred);
      return;
    case 'buy-query': {
      await razer.topup(round, n, token, preferred);
      const first = await razer.query(round, n, preferred);
      if (first.status === 408) await razer.query(round, n, preferred);
      return;
    }
    case 'buy-twice':
      await razer.topup(round, n, token, preferred);
      await razer.topup(round, n, token, preferred);
      return;
    case 'init-twice':
      await razer.init(round, p.init, preferred);
      await razer.topup(round, n, token, preferred);
      return;
    case 'cancel-first':
      await razer.cancel(round, n, token, preferred);
      await razer.topup(round, n, token, preferred);
      return;
    case 'race-cancel':
      await Promise.all([
        razer.topup(round, n, token, preferred),
        pause(p.cancelDelayMs).then(() => razer.cancel(round, n, token, preferred)),
      ]);
      return;
    case 'query-first':
      await razer.query(round, n, preferred);
      await razer.topup(round, n, token, preferred);
      return;
    case 'abandon':
      return;
  }
}
